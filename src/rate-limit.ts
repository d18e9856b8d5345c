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
