/**
 * Rate limits: a token bucket per queue and per group of jobs (`group: 'tenant-42'` on a job),
 * enforced by the claim transition with the backend's clock, and the pauses a handler asks for
 * (`RateLimitError`). This module holds the rules both backends apply, written once: settings and
 * their validation, and the bucket arithmetic, whose `@lua` exports get Lua twins of the same names
 * (`lua/generated/rate-limit.lua`, built by scripts/build-lua.ts).
 *
 * **The bucket** is the GCRA form of a token bucket (rate r per `per` ms, capacity `burst`): one
 * number per bucket, its theoretical arrival time `tat`, and an emission interval `T = per / r`.
 * A claim at `now` starts from `max(tat, now)`; a token exists when that start minus the tolerance
 * `(burst − 1) × T` is at or before `now` (so a full bucket gives `burst` jobs at once, then one per
 * `T`), and taking it moves `tat` to start + T. When no token exists, the next one exists at
 * `start − tolerance`: the time a claim answers, so idle workers sleep until then instead of
 * polling. One number means no refill arithmetic and no rounding: a long run gives exactly the
 * configured rate.
 *
 * **A pause** (a handler's `RateLimitError`) moves the bucket's next token to `now + pauseMs`: the
 * same state, so a group without a limit keeps a bucket of interval 0 and burst 1 while paused.
 * @module
 */
import { formatDuration } from './duration.js';
import { ValidationError } from './errors.js';
import type { RateLimitWait } from './types.js';
import { assertInt, checkText, type TextRule } from './validate.js';

/** One limit: `rate` jobs per `per` ms, up to `burst` at once after a quiet spell. */
export interface RateLimit {
  /** Jobs per `per` ms: 0.001 … 1 000 000 (fractions allowed: 0.5 per second is one every 2 s). */
  readonly rate: number;
  /** The period `rate` counts over, in ms. @default 1000 */
  readonly per?: number;
  /**
   * Most jobs started at once after a quiet spell (the bucket's capacity), an integer ≥ 1.
   * @default `rate` rounded up (one period's worth), at least 1
   */
  readonly burst?: number;
}

/** A limit resolved: what the backends store and apply. */
export interface ResolvedRateLimit {
  readonly rate: number;
  readonly per: number;
  readonly burst: number;
  /** ms between two tokens: `per / rate` (not rounded). */
  readonly intervalMs: number;
  /** How records and explanations write the limit: `10/s`, `0.5/s`, `100/min`, `3/2 s`. */
  readonly label: string;
}

/**
 * A change of a queue's rate limits: each key given is set (`null` removes it), keys not given are
 * kept. `queue`: every job of the queue. `group`: the limit of each group that has no limit of its
 * own. `groups`: limits of single groups (group key → limit, `null` removes the group's own limit).
 */
export interface RateLimitSettings {
  readonly queue?: RateLimit | null;
  readonly group?: RateLimit | null;
  readonly groups?: Readonly<Record<string, RateLimit | null>>;
}

/** {@link RateLimitSettings} validated. */
export interface ResolvedRateLimitSettings {
  readonly queue?: ResolvedRateLimit | null;
  readonly group?: ResolvedRateLimit | null;
  readonly groups?: Readonly<Record<string, ResolvedRateLimit | null>>;
}

/** A queue's rate limits as stored, and the pauses in force now. */
export interface RateLimits {
  readonly queue: ResolvedRateLimit | null;
  readonly group: ResolvedRateLimit | null;
  /** The groups with a limit of their own, by group key. */
  readonly groups: Readonly<Record<string, ResolvedRateLimit>>;
  /** When the queue's bucket gives its next token, if later than now (limited or paused). */
  readonly queueNextTokenAt?: number;
}

/** A group key: what `JobOptions.group` accepts. */
export const GROUP_RULE: TextRule = Object.freeze({
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_.:-]{1,128}$',
  rule: "1-128 characters of letters, digits, '_', '.', ':' or '-'",
});

/** Lowest `rate` accepted (per `per`): one per thousand periods. */
export const MIN_RATE = 0.001;
/** Highest `rate` accepted (per `per`): a million. */
export const MAX_RATE = 1_000_000;
/** Longest `per`: a day. */
export const MAX_RATE_PERIOD_MS = 86_400_000;
/** Largest `burst`. */
export const MAX_BURST = 1_000_000;
/** Most groups with a limit of their own per queue. */
export const MAX_GROUP_LIMITS = 10_000;

/** Longest pause a handler's `RateLimitError` may ask for: a day (longer is capped). */
export const MAX_RATE_LIMIT_PAUSE_MS = 86_400_000;
/** The pause of a `RateLimitError` that gives no usable `retryAfterMs`. */
export const DEFAULT_RATE_LIMIT_PAUSE_MS = 1000;
/** @lua How a record writes the limit of a bucket that has none, only a handler's pause. */
export const RATE_LIMIT_PAUSE_LABEL = 'paused by a handler';

export function checkGroup(value: unknown, field = 'group'): string {
  return checkText(value, field, GROUP_RULE);
}

/** `10/s`, `0.5/s`, `100/min`, `3/h`, `3/2 s` (a rate shows at most 3 decimals). */
export function rateLimitLabel(rate: number, per: number): string {
  const r = String(Math.round(rate * 1000) / 1000);
  const unit = per === 1000 ? 's' : per === 60_000 ? 'min' : per === 3_600_000 ? 'h' : formatDuration(per);
  return `${r}/${unit}`;
}

/** Validates one limit; `field` names it in errors. */
export function resolveRateLimit(value: unknown, field: string): ResolvedRateLimit {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, 'an object { rate, per?, burst? }', value);
  }
  for (const k of Object.keys(value)) {
    if (k !== 'rate' && k !== 'per' && k !== 'burst') {
      throw new ValidationError(`${field}.${k}`, 'not set (known keys: rate, per, burst)');
    }
  }
  const v = value as RateLimit;
  if (typeof v.rate !== 'number' || !Number.isFinite(v.rate) || v.rate < MIN_RATE || v.rate > MAX_RATE) {
    throw new ValidationError(`${field}.rate`, `a number between ${MIN_RATE} and ${MAX_RATE}`, v.rate);
  }
  const per = v.per === undefined ? 1000 : assertInt(v.per, `${field}.per`, 1, MAX_RATE_PERIOD_MS);
  const burst =
    v.burst === undefined
      ? Math.max(1, Math.ceil(v.rate))
      : assertInt(v.burst, `${field}.burst`, 1, MAX_BURST);
  return { rate: v.rate, per, burst, intervalMs: per / v.rate, label: rateLimitLabel(v.rate, per) };
}

function resolveOptional(value: unknown, field: string): ResolvedRateLimit | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  return resolveRateLimit(value, field);
}

/** Validates a change of rate limits (`Queue.setRateLimits`, the HTTP route, the queue option). */
export function resolveRateLimitSettings(value: unknown, field = 'rateLimit'): ResolvedRateLimitSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, 'an object { queue?, group?, groups? }', value);
  }
  for (const k of Object.keys(value)) {
    if (k !== 'queue' && k !== 'group' && k !== 'groups') {
      throw new ValidationError(`${field}.${k}`, 'not set (known keys: queue, group, groups)');
    }
  }
  const v = value as RateLimitSettings;
  const out: {
    queue?: ResolvedRateLimit | null;
    group?: ResolvedRateLimit | null;
    groups?: Record<string, ResolvedRateLimit | null>;
  } = {};
  const q = resolveOptional(v.queue, `${field}.queue`);
  if (q !== undefined) out.queue = q;
  const g = resolveOptional(v.group, `${field}.group`);
  if (g !== undefined) out.group = g;
  if (v.groups !== undefined) {
    if (typeof v.groups !== 'object' || v.groups === null || Array.isArray(v.groups)) {
      throw new ValidationError(`${field}.groups`, 'an object of group key → limit or null', v.groups);
    }
    const entries = Object.entries(v.groups);
    if (entries.length > MAX_GROUP_LIMITS) {
      throw new ValidationError(`${field}.groups`, `at most ${MAX_GROUP_LIMITS} groups`, `${entries.length}`);
    }
    const groups: Record<string, ResolvedRateLimit | null> = {};
    for (const [key, limit] of entries) {
      checkGroup(key, `${field}.groups key`);
      groups[key] = resolveOptional(limit, `${field}.groups.${key}`) ?? null;
    }
    out.groups = groups;
  }
  return out;
}

/** A limit as the backends store it: `intervalMs,burst,rate,per,label` (no field holds a comma). */
export function encodeRateLimit(l: ResolvedRateLimit): string {
  return `${l.intervalMs},${l.burst},${l.rate},${l.per},${l.label}`;
}

export function decodeRateLimit(text: string): ResolvedRateLimit {
  const [intervalMs, burst, rate, per, ...label] = text.split(',');
  return {
    rate: Number(rate),
    per: Number(per),
    burst: Number(burst),
    intervalMs: Number(intervalMs),
    label: label.join(','),
  };
}

// The bucket (GCRA). `tat` is the bucket's state (0 = never used); times in ms, not rounded.

/** @lua Where a claim at `now` starts from: the bucket's state, or now if that is past. */
export function bucketStart(tat: number, now: number): number {
  return tat > now ? tat : now;
}

/** @lua How far ahead of now the state may run and still give a token: burst − 1 intervals. */
export function bucketTolerance(intervalMs: number, burst: number): number {
  return (burst - 1) * intervalMs;
}

/** @lua When the bucket's next token exists, from a claim's start (at or before now: it has one). */
export function bucketTokenAt(start: number, intervalMs: number, burst: number): number {
  return start - bucketTolerance(intervalMs, burst);
}

/**
 * @lua The state after a pause of `pauseMs` from `now`: the next token exists at `now + pauseMs`
 * (never sooner than the state already said).
 */
export function bucketPaused(
  tat: number,
  now: number,
  pauseMs: number,
  intervalMs: number,
  burst: number,
): number {
  return bucketStart(tat, now + pauseMs + bucketTolerance(intervalMs, burst));
}

/**
 * @lua A bucket's state when its limit changes: at most the new tolerance ahead of `now`, so a
 * bucket drained under a slower limit (or paused) has a token now and then follows the new limit
 * (as if it had just been drained under it). A limit loosened by hand applies at once.
 */
export function bucketCapped(tat: number, now: number, intervalMs: number, burst: number): number {
  return tat < now + bucketTolerance(intervalMs, burst) ? tat : now + bucketTolerance(intervalMs, burst);
}

/**
 * How long a job claimed with a token that existed from `tokenAt` waited for it: the part of its
 * wait after it was due (`dueAt`) during which the bucket had no token for it (its earlier peers
 * took them). 0 when a token was there when it became due: its drift is the workers', not the
 * limit's. The Lua twin is `waitedFor` in includes/rateLimit.lua (test/redis/rate-limit-lua.test.ts).
 */
export function rateLimitWaitedMs(tokenAt: number, dueAt: number): number {
  return tokenAt > dueAt ? Math.round(tokenAt - dueAt) : 0;
}

/** `rate limit tenant-42: 10/s, waited 340 ms` / `queue rate limit: 10/s, waited 340 ms`. */
export function rateLimitWaitExplanation(
  scope: 'queue' | 'group',
  group: string | undefined,
  limit: string,
  waitedMs: number,
): string {
  const who = scope === 'group' ? `rate limit ${group ?? ''}` : 'queue rate limit';
  return `${who}: ${limit}, waited ${waitedMs} ms`;
}

export function rateLimitWait(
  scope: 'queue' | 'group',
  group: string | undefined,
  limit: string,
  waitedMs: number,
): RateLimitWait {
  return {
    scope,
    ...(scope === 'group' ? { group } : {}),
    limit,
    waitedMs,
    explanation: rateLimitWaitExplanation(scope, group, limit, waitedMs),
  };
}

/** A bucket with no limit, only a handler's pause: a token once the pause is over. */
const PAUSE_ONLY = { intervalMs: 0, burst: 1 } as const;

/**
 * When a bucket (its limit, or none, and its state) gives its next token, if later than `now`;
 * undefined when it has one now.
 */
export function nextTokenAt(
  limit: Pick<ResolvedRateLimit, 'intervalMs' | 'burst'> | null | undefined,
  tat: number,
  now: number,
): number | undefined {
  const l = limit ?? PAUSE_ONLY;
  const at = bucketTokenAt(bucketStart(tat, now), l.intervalMs, l.burst);
  return at > now ? Math.ceil(at) : undefined;
}

/**
 * When group g's bucket gives its next token (later than `now`), from its limit (its own or the
 * default, as `encodeRateLimit` text; undefined = none) and its state: undefined when it has a
 * token now, or no bucket at all (no limit and no pause's state).
 */
export function groupNextTokenAt(limit: string | undefined, tat: number, now: number): number | undefined {
  if (!limit && tat <= 0) return undefined;
  return nextTokenAt(limit ? decodeRateLimit(limit) : null, tat, now);
}

/** A queue's rate limits from what a backend stores (limits as `encodeRateLimit` texts). */
export function rateLimitsView(
  queue: string | undefined,
  group: string | undefined,
  groups: Readonly<Record<string, string>>,
  queueTat: number,
  now: number,
): RateLimits {
  const q = queue ? decodeRateLimit(queue) : null;
  const own: Record<string, ResolvedRateLimit> = {};
  for (const g of Object.keys(groups).sort()) own[g] = decodeRateLimit(groups[g] as string);
  const next = nextTokenAt(q, queueTat, now);
  return {
    queue: q,
    group: group ? decodeRateLimit(group) : null,
    groups: own,
    ...(next !== undefined ? { queueNextTokenAt: next } : {}),
  };
}

/** A limit as the API and the CLI show it. */
export interface RateLimitView {
  readonly rate: number;
  readonly per: number;
  readonly burst: number;
  readonly label: string;
}

/** A queue's rate limits as the API and the CLI show them. */
export interface RateLimitsView {
  readonly queue: RateLimitView | null;
  readonly group: RateLimitView | null;
  readonly groups: Readonly<Record<string, RateLimitView>>;
  readonly queueNextTokenAt?: number;
}

export function rateLimitsPublic(r: RateLimits): RateLimitsView {
  const view = (l: ResolvedRateLimit): RateLimitView => ({
    rate: l.rate,
    per: l.per,
    burst: l.burst,
    label: l.label,
  });
  const groups: Record<string, RateLimitView> = {};
  for (const [g, l] of Object.entries(r.groups)) groups[g] = view(l);
  return {
    queue: r.queue ? view(r.queue) : null,
    group: r.group ? view(r.group) : null,
    groups,
    ...(r.queueNextTokenAt !== undefined ? { queueNextTokenAt: r.queueNextTokenAt } : {}),
  };
}

// The rate-limit view (`Queue.rateLimitState`): the queue's bucket and its groups, as of the
// backend's clock. Both backends read raw state (limits as `encodeRateLimit` texts, `tat`s, pause
// records) and derive what the view shows with the functions below, so "tokens now" is computed by
// one rule for both.

/** Why a bucket is paused: the handler's `RateLimitError` that paused it (stored by `finish`). */
export interface RateLimitPauseRecord {
  /** When the pause began (backend clock, ms). */
  readonly at: number;
  /** When it ends. */
  readonly until: number;
  /** The job whose handler threw the error, and its attempt. */
  readonly jobId: string;
  readonly attempt: number;
  /** The error's message (as recorded on the attempt, ≤ 2048 characters). */
  readonly message: string;
}

/** A pause record as the backends store it (JSON; the Lua side writes it with `cjson.encode`). */
export function encodePauseRecord(p: RateLimitPauseRecord): string {
  return JSON.stringify({ at: p.at, until: p.until, jobId: p.jobId, attempt: p.attempt, message: p.message });
}

/** A stored pause record, or undefined when the text is none or not one (never throws). */
export function decodePauseRecord(text: string | null | undefined): RateLimitPauseRecord | undefined {
  if (!text) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.at !== 'number' || typeof o.until !== 'number') return undefined;
  return {
    at: o.at,
    until: o.until,
    jobId: typeof o.jobId === 'string' ? o.jobId : String(o.jobId ?? ''),
    attempt: typeof o.attempt === 'number' ? o.attempt : 0,
    message: typeof o.message === 'string' ? o.message : '',
  };
}

/**
 * How many jobs a bucket lets start at `now` (its limit, or none, and its state): the largest k
 * such that k claims in a row each find a token (start + (k − 1) × T − tolerance ≤ now), at most
 * `burst`; 0 while it is empty. `null` for no bucket at all (no limit and no pause's state: no
 * bound). A pause-only bucket (interval 0) has 1 once the pause is over (it has no bound then).
 * Claims add the interval once per token; this multiplies: with an interval that is not a binary
 * fraction (1000/3) a token exactly on a boundary can show here an ulp (1e-13 ms) before a claim
 * finds it (test/unit/rate-limit-view.test.ts).
 */
export function bucketTokens(
  limit: Pick<ResolvedRateLimit, 'intervalMs' | 'burst'> | null | undefined,
  tat: number,
  now: number,
): number | null {
  if (!limit && tat <= 0) return null;
  const l = limit ?? PAUSE_ONLY;
  const start = bucketStart(tat, now);
  if (bucketTokenAt(start, l.intervalMs, l.burst) > now) return 0;
  if (l.intervalMs <= 0) return l.burst;
  // 1 + whole intervals between start − tolerance and now; the 1e-9 absorbs the rounding of a
  // tolerance that is a whole number of intervals ((burst − 1) × T / T).
  const k = 1 + Math.floor((now - bucketTokenAt(start, l.intervalMs, l.burst)) / l.intervalMs + 1e-9);
  return k < l.burst ? k : l.burst;
}

/**
 * Whether a pause record is in force at `now`: not over, and the bucket still holds it (its next
 * token is not before the pause's end; a change of limits caps the state and so ends a pause:
 * `bucketCapped`).
 */
export function pauseInForce(
  pause: RateLimitPauseRecord | undefined,
  nextToken: number | undefined,
  now: number,
): pause is RateLimitPauseRecord {
  return pause !== undefined && pause.until > now && nextToken !== undefined && nextToken >= pause.until;
}

/** A bucket as the rate-limit view shows it. */
export interface BucketView {
  /** The limit that applies (a group's own or the default; the queue's), or null: none. */
  readonly limit: RateLimitView | null;
  /** Jobs it lets start now (`bucketTokens`); null: no bucket, no bound. */
  readonly tokens: number | null;
  /** When its next token exists, if later than now. */
  readonly nextTokenAt?: number;
  /** The handler's pause in force, and why (`RateLimitError`). */
  readonly pause?: RateLimitPauseRecord;
}

/** A group's raw state, as a backend reads it for the view. */
export interface RawGroupState {
  /** The group key; `''` stands for the jobs without a group taking their turn. */
  readonly group: string;
  /** Its waiting jobs (`ZCARD gw:<group>`; the `''` row: the jobs without a group). */
  readonly waiting: number;
  /** Its own limit (`encodeRateLimit` text), if any. */
  readonly own: string | undefined;
  /** Its bucket's state (`tat`, 0 = none). */
  readonly tat: number;
  /** Its pause record text, if any. */
  readonly pause: string | undefined;
  /** Its place in the ring of groups taking turns (0 = served next), if it is in it. */
  readonly turn: number | undefined;
  /** When it is parked (bucket empty), when its next token exists (the `gp` score). */
  readonly parkedUntil: number | undefined;
}

/** A group as the rate-limit view shows it. */
export interface GroupView extends BucketView {
  /** The group key; `''` is the jobs without a group (one turn in the ring like a group). */
  readonly group: string;
  /** Its waiting jobs. */
  readonly waiting: number;
  /** Whether `limit` is the group's own (else the default group limit, or none). */
  readonly ownLimit: boolean;
  /**
   * Its place in the ring of groups taking turns: 0 = served next. Absent when it is not taking
   * turns (parked, or no waiting job).
   */
  readonly turn?: number;
  /** Parked: it has waiting jobs but its bucket is empty until this time (claims skip it until then). */
  readonly parkedUntil?: number;
}

function limitView(l: ResolvedRateLimit): RateLimitView {
  return { rate: l.rate, per: l.per, burst: l.burst, label: l.label };
}

/** A bucket's view from its limit (or none), state and pause record, at `now`. */
export function bucketView(
  limit: ResolvedRateLimit | null,
  tat: number,
  pauseText: string | undefined,
  now: number,
): BucketView {
  const next = nextTokenAt(limit, tat, now);
  const pause = decodePauseRecord(pauseText);
  return {
    limit: limit ? limitView(limit) : null,
    tokens: bucketTokens(limit, tat, now),
    ...(next !== undefined ? { nextTokenAt: next } : {}),
    ...(pauseInForce(pause, next, now) ? { pause } : {}),
  };
}

/** A group's view from its raw state, the default group limit (text) and `now`. */
export function groupView(raw: RawGroupState, defaultLimit: string | undefined, now: number): GroupView {
  const text = raw.own ?? (raw.group === '' ? undefined : defaultLimit);
  const b = bucketView(text ? decodeRateLimit(text) : null, raw.tat, raw.pause, now);
  return {
    group: raw.group,
    waiting: raw.waiting,
    ownLimit: raw.own !== undefined,
    ...b,
    ...(raw.turn !== undefined ? { turn: raw.turn } : {}),
    ...(raw.parkedUntil !== undefined ? { parkedUntil: Math.ceil(raw.parkedUntil) } : {}),
  };
}

/**
 * Which groups a page of the view lists. `waiting` (default): every group with waiting jobs, those
 * taking turns first in turn order, then the parked ones by next token. `turns`: only those taking
 * turns. `parked`: only the parked ones (waiting jobs, empty bucket), soonest token first.
 * `paused`: the groups a handler's `RateLimitError` paused, soonest end first (with or without
 * waiting jobs).
 */
export type GroupFilter = 'waiting' | 'turns' | 'parked' | 'paused';
export const GROUP_FILTERS: readonly GroupFilter[] = ['waiting', 'turns', 'parked', 'paused'];

/** Most groups one page of the view reads. */
export const MAX_GROUP_PAGE = 500;
/** Groups per page when not given. */
export const DEFAULT_GROUP_PAGE = 50;

/** What `Queue.rateLimitState` reads: which groups, how many, from where. */
export interface RateLimitStateQuery {
  /** Which groups (default `waiting`). */
  readonly filter?: GroupFilter;
  /** Groups per page: 1 … 500 (default 50). */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
  /** One group only, whatever the filter (the job page's link to a job's group). */
  readonly group?: string;
}

/** A cursor's phase (`t` the ring of turns, `p` the parked zset, `z` the paused zset) and position. */
export interface GroupCursor {
  readonly phase: 't' | 'p' | 'z';
  readonly position: number;
}

/** A query validated. */
export interface ResolvedRateLimitStateQuery {
  readonly filter: GroupFilter;
  readonly limit: number;
  readonly cursor: GroupCursor;
  readonly group: string | undefined;
}

/** The phase a filter's pages start in. */
function firstPhase(filter: GroupFilter): GroupCursor['phase'] {
  return filter === 'parked' ? 'p' : filter === 'paused' ? 'z' : 't';
}

/**
 * The cursor a page answers for the next one, opaque to callers and shaped as the API's other
 * cursors (base64url of `{"offset":n}`), with the phase when it is not the filter's first.
 */
export function encodeGroupCursor(filter: GroupFilter, c: GroupCursor): string {
  const body =
    c.phase === firstPhase(filter) ? { offset: c.position } : { offset: c.position, phase: c.phase };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

function decodeGroupCursor(filter: GroupFilter, text: unknown, field: string): GroupCursor {
  let v: unknown;
  try {
    v = typeof text === 'string' ? JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) : undefined;
  } catch {
    v = undefined;
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as { offset?: unknown; phase?: unknown };
  const phase = o.phase ?? firstPhase(filter);
  const allowed = filter === 'waiting' ? ['t', 'p'] : [firstPhase(filter)];
  const known = Object.keys(o).every((k) => k === 'offset' || k === 'phase');
  if (
    !known ||
    typeof o.offset !== 'number' ||
    !Number.isSafeInteger(o.offset) ||
    o.offset < 0 ||
    o.offset > 999_999_999 ||
    typeof phase !== 'string' ||
    !allowed.includes(phase)
  ) {
    throw new ValidationError(field, `the nextCursor of a previous page of filter ${filter}`, text);
  }
  return { phase: phase as GroupCursor['phase'], position: o.offset };
}

/** Validates a rate-limit view query; errors name the field and the rule. */
export function resolveRateLimitStateQuery(value: unknown, field = 'query'): ResolvedRateLimitStateQuery {
  const v = (value ?? {}) as RateLimitStateQuery;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new ValidationError(field, 'an object { filter?, limit?, cursor?, group? }', value);
  }
  for (const k of Object.keys(v)) {
    if (k !== 'filter' && k !== 'limit' && k !== 'cursor' && k !== 'group') {
      throw new ValidationError(`${field}.${k}`, 'not set (known keys: filter, limit, cursor, group)');
    }
  }
  const filter = v.filter ?? 'waiting';
  if (!GROUP_FILTERS.includes(filter)) {
    throw new ValidationError(`${field}.filter`, `one of ${GROUP_FILTERS.join(', ')}`, filter);
  }
  const limit =
    v.limit === undefined ? DEFAULT_GROUP_PAGE : assertInt(v.limit, `${field}.limit`, 1, MAX_GROUP_PAGE);
  const cursor =
    v.cursor === undefined
      ? { phase: firstPhase(filter), position: 0 }
      : decodeGroupCursor(filter, v.cursor, `${field}.cursor`);
  const group = v.group === undefined ? undefined : checkGroup(v.group, `${field}.group`);
  return { filter, limit, cursor, group };
}

/** A queue's rate-limit state: its bucket, the group limit, and one page of its groups. */
export interface RateLimitState {
  /** The backend's clock when it was read. */
  readonly at: number;
  /** The queue's bucket. */
  readonly queue: BucketView;
  /** The limit of each group without its own. */
  readonly groupLimit: RateLimitView | null;
  /** How many groups have a limit of their own (`getRateLimits` lists them). */
  readonly ownLimits: number;
  /** Groups taking turns (the jobs without a group, when they take one, count as one), parked, paused by a handler. */
  readonly counts: { readonly turns: number; readonly parked: number; readonly paused: number };
  /** This page's groups. */
  readonly groups: readonly GroupView[];
  /** Pass to the next call for the next page; absent on the last. */
  readonly nextCursor?: string;
}

/** One read of a page: `count` entries of a phase from `start` (ring index / zset rank). */
export interface GroupPageRead {
  readonly phase: GroupCursor['phase'];
  readonly start: number;
  readonly count: number;
}

/**
 * What a page from `cursor` reads, given the sizes of the ring (`t`), the parked zset (`p`) and the
 * paused zset (`z`) counted in the same read, and where the next page starts (undefined: this is the
 * last). `waiting` reads the ring, then fills the page from the parked groups. The Lua side of the
 * plan is in rate-limit-state-10.lua.
 */
export function groupPagePlan(
  filter: GroupFilter,
  cursor: GroupCursor,
  limit: number,
  sizes: { readonly t: number; readonly p: number; readonly z: number },
): { reads: GroupPageRead[]; next: GroupCursor | undefined } {
  const size = sizes[cursor.phase];
  const count = Math.max(0, Math.min(limit, size - cursor.position));
  const reads: GroupPageRead[] = count > 0 ? [{ phase: cursor.phase, start: cursor.position, count }] : [];
  const end = cursor.position + count;
  if (end < size) return { reads, next: { phase: cursor.phase, position: end } };
  if (filter !== 'waiting' || cursor.phase !== 't') return { reads, next: undefined };
  const more = Math.min(limit - count, sizes.p);
  if (more > 0) reads.push({ phase: 'p', start: 0, count: more });
  return { reads, next: more < sizes.p ? { phase: 'p', position: more } : undefined };
}

/** What a backend reads for one page of the view, in one read (Redis: one script call). */
export interface RawRateLimitState {
  readonly now: number;
  /** Meta `rlq`, `rlg`, `rqt`, `rqp`. */
  readonly queueLimit: string | undefined;
  readonly groupLimit: string | undefined;
  readonly queueTat: number;
  readonly queuePause: string | undefined;
  readonly ownLimits: number;
  /** Sizes of the ring, the parked zset, and the pause records not over at `now`. */
  readonly sizes: { readonly t: number; readonly p: number; readonly z: number };
  /** The page's groups, in order (for `query.group`: that group's row). */
  readonly rows: readonly RawGroupState[];
}

/** The view of one page from what a backend read (both backends: one rule). */
export function rateLimitStateView(
  raw: RawRateLimitState,
  query: ResolvedRateLimitStateQuery,
): RateLimitState {
  const next =
    query.group === undefined
      ? groupPagePlan(query.filter, query.cursor, query.limit, raw.sizes).next
      : undefined;
  return {
    at: raw.now,
    queue: bucketView(
      raw.queueLimit ? decodeRateLimit(raw.queueLimit) : null,
      raw.queueTat,
      raw.queuePause,
      raw.now,
    ),
    groupLimit: raw.groupLimit ? limitView(decodeRateLimit(raw.groupLimit)) : null,
    ownLimits: raw.ownLimits,
    counts: { turns: raw.sizes.t, parked: raw.sizes.p, paused: raw.sizes.z },
    groups: raw.rows.map((r) => groupView(r, raw.groupLimit, raw.now)),
    ...(next ? { nextCursor: encodeGroupCursor(query.filter, next) } : {}),
  };
}
