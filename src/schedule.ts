/**
 * Schedulers, the pure half: what a schedule spec means, when it runs next, and what a tick does
 * with the occurrences that came due (fire, or skip as missed), decided from the planned time and
 * the backend's clock only. No backend, no timer: the SchedulerLoop reads due schedulers, plans
 * each tick with {@link planTick} and hands the plan to the backend's `tick` transition, which
 * re-checks it atomically (the plan was made for the scheduler as it was read).
 *
 * Cron expressions are parsed by `cron-parser` (5 or 6 fields, optional seconds first; names and
 * `@daily`-style macros), in an IANA time zone (default UTC). Across daylight-saving changes a
 * wall-clock time that does not exist (02:30 on a spring-forward night) runs one hour later, at
 * 03:30, and one that happens twice (01:30 on a fall-back night in New York) runs once, at the first;
 * hourly and finer schedules keep running every real hour.
 *
 * `every` schedules are anchored at the time the scheduler was created (or its spec last changed):
 * they run at `anchor + k × every`, whatever time the jobs they create take to run. The next run is
 * always computed when a tick fires, from the planned time, never from a job's start.
 * @module
 */
import { CronExpressionParser } from 'cron-parser';

import { ValidationError } from './errors.js';
import type { JobOptionsStored, ScheduledTick } from './types.js';
import { assertDuration, assertInt, checkText, type TextRule } from './validate.js';

/** A cron expression in a time zone, or a fixed interval in ms. */
export type ScheduleSpec = { readonly cron: string; readonly tz?: string } | { readonly every: number };

/** The one stored shape of a spec: `tz` always set for cron. */
export type ResolvedScheduleSpec =
  { readonly cron: string; readonly tz: string } | { readonly every: number };

/**
 * What a tick does with occurrences that came due while no scheduler loop ran (downtime):
 * - `skip`: run none of them; only the latest, and only if it is at most {@link MISSED_GRACE_MS} late;
 * - `once`: run one job for all of them (planned at the latest);
 * - `{ each: N }`: run one job per missed occurrence, the latest N at most (1..1000).
 * The ones not run are recorded in the tick ledger as skipped, reason `missed`.
 */
export type MissedPolicy = 'skip' | 'once' | { readonly each: number };

/**
 * What a tick does while the job this scheduler created last is not finished yet (scheduled,
 * waiting or active): `allow` creates the next one anyway, `skip` records the tick as skipped,
 * reason `overlap`.
 */
export type OverlapPolicy = 'allow' | 'skip';

/** Why a tick created no job, as recorded in the ledger. */
export type TickSkipReason = 'paused' | 'overlap' | 'missed';

/** How late the latest due occurrence may be and still run under `missed: 'skip'`. */
export const MISSED_GRACE_MS = 60_000;

/** Most occurrences a tick enumerates to count missed ones (beyond: counted from the next run on). */
export const MAX_ENUMERATED = 10_000;

/** Largest `missed: { each }` bound. */
export const MAX_MISSED_EACH = 1000;

/** Shortest `every` interval (ms). */
export const MIN_EVERY_MS = 100;

/**
 * Scheduler ids: as job ids, shorter, so that the ids of the jobs they create (`sch:<id>:<ms>`) fit.
 * Not '.' or '..': a URL path resolves those away (`/schedulers/.` is `/schedulers/`), so such a
 * scheduler could be made by the library but never reached over HTTP (found by the HTTP fuzzer).
 */
export const SCHEDULER_ID_RULE: TextRule = Object.freeze({
  minLength: 1,
  maxLength: 100,
  pattern: '^(?!\\.{1,2}$)[A-Za-z0-9_.:-]{1,100}$',
  rule: "1-100 characters of letters, digits, '_', '.', ':' or '-', other than '.' and '..' (a URL path cannot carry those)",
});

export function assertSchedulerId(id: unknown, field = 'id'): asserts id is string {
  checkText(id, field, SCHEDULER_ID_RULE);
}

/** The id of the job a scheduler creates for the occurrence planned at `plannedAt`. */
export function scheduledJobId(schedulerId: string, plannedAt: number): string {
  return `${SCHEDULED_JOB_PREFIX}${schedulerId}:${plannedAt}`;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Validates a spec as users write it; throws a ValidationError naming the field and the rule. */
export function resolveScheduleSpec(spec: unknown, field = 'spec'): ResolvedScheduleSpec {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new ValidationError(field, 'an object { cron, tz? } or { every }', spec);
  }
  const s = spec as Record<string, unknown>;
  const keys = Object.keys(s);
  if ('every' in s) {
    if (keys.length !== 1) throw new ValidationError(field, '{ every } alone (no cron or tz with it)', keys);
    return { every: assertDuration(s.every, `${field}.every`, MIN_EVERY_MS) };
  }
  if (!('cron' in s)) throw new ValidationError(field, 'an object { cron, tz? } or { every }', keys);
  const unknown = keys.filter((k) => k !== 'cron' && k !== 'tz');
  if (unknown.length > 0) throw new ValidationError(`${field}.${unknown[0]}`, 'not set (known: cron, tz)');
  const tz = s.tz === undefined ? 'UTC' : s.tz;
  if (typeof tz !== 'string' || tz.length > 64 || !isTimeZone(tz)) {
    throw new ValidationError(`${field}.tz`, 'an IANA time zone such as Europe/Paris', s.tz);
  }
  if (typeof s.cron !== 'string' || s.cron.trim() === '' || s.cron.length > 200) {
    throw new ValidationError(`${field}.cron`, 'a cron expression of at most 200 characters', s.cron);
  }
  const cron = s.cron.trim().replace(/\s+/g, ' ');
  try {
    CronExpressionParser.parse(cron, { tz, strict: false }).next();
  } catch (e) {
    throw new ValidationError(`${field}.cron`, `a valid cron expression (${(e as Error).message})`, s.cron);
  }
  return { cron, tz };
}

/** The canonical text of a resolved spec: what is stored, and compared to tell a changed spec. */
export function specText(spec: ResolvedScheduleSpec): string {
  return 'every' in spec
    ? JSON.stringify({ every: spec.every })
    : JSON.stringify({ cron: spec.cron, tz: spec.tz });
}

export function parseSpecText(text: string): ResolvedScheduleSpec {
  return JSON.parse(text) as ResolvedScheduleSpec;
}

/** The missed-tick policy as stored (`skip`, `once`, `each:N`). */
export function resolveMissedPolicy(p: unknown, field = 'missed'): MissedPolicy {
  if (p === undefined || p === 'skip') return 'skip';
  if (p === 'once') return 'once';
  if (typeof p === 'object' && p !== null && !Array.isArray(p) && Object.keys(p).join() === 'each') {
    return { each: assertInt((p as { each: unknown }).each, `${field}.each`, 1, MAX_MISSED_EACH) };
  }
  throw new ValidationError(field, `'skip', 'once' or { each: N } (N from 1 to ${MAX_MISSED_EACH})`, p);
}

export function missedText(p: MissedPolicy): string {
  return typeof p === 'string' ? p : `each:${p.each}`;
}

export function parseMissedText(text: string): MissedPolicy {
  if (text.startsWith('each:')) return { each: Number(text.slice(5)) };
  return text === 'once' ? 'once' : 'skip';
}

export function resolveOverlapPolicy(p: unknown, field = 'overlap'): OverlapPolicy {
  if (p === undefined || p === 'allow') return 'allow';
  if (p === 'skip') return 'skip';
  throw new ValidationError(field, "'allow' or 'skip'", p);
}

/**
 * The first run strictly after `afterMs`. `anchorMs` is where an `every` schedule counts from
 * (its runs are `anchor + k × every`, k ≥ 1).
 */
export function nextRunAfter(spec: ResolvedScheduleSpec, afterMs: number, anchorMs: number): number {
  if ('every' in spec) {
    if (afterMs < anchorMs) return anchorMs + spec.every;
    return anchorMs + (Math.floor((afterMs - anchorMs) / spec.every) + 1) * spec.every;
  }
  const it = CronExpressionParser.parse(spec.cron, { currentDate: new Date(afterMs), tz: spec.tz });
  return it.next().getTime();
}

/** The next `n` runs after `afterMs` (for previews: `schedulers show`, the dashboard). */
export function nextRuns(spec: ResolvedScheduleSpec, afterMs: number, anchorMs: number, n: number): number[] {
  const out: number[] = [];
  let t = afterMs;
  for (let i = 0; i < n; i++) {
    t = nextRunAfter(spec, t, anchorMs);
    out.push(t);
  }
  return out;
}

/** A run of consecutive occurrences skipped together, as one ledger entry. */
export interface SkippedRun {
  readonly first: number;
  readonly last: number;
  /** How many (a lower bound when `more`). */
  readonly count: number;
  /** More than {@link MAX_ENUMERATED} occurrences were due: only the first ones were counted. */
  readonly more?: true;
}

/** What one tick of one scheduler does, decided before the backend applies it. */
export interface TickPlan {
  /** Planned times to create a job for, oldest first. */
  readonly fire: readonly number[];
  /** Due occurrences not run (missed while no loop ran), if any. */
  readonly missed: SkippedRun | undefined;
  /** The first occurrence after `now`: the scheduler's next run. */
  readonly next: number;
}

/**
 * Plans the tick of a scheduler whose next run `plannedAt` is due (`plannedAt ≤ now`): every
 * occurrence from `plannedAt` up to `now` is due, and the missed-tick policy chooses which run.
 * The latest due occurrence is the current tick; the earlier ones were missed (no loop ran then).
 */
export function planTick(
  spec: ResolvedScheduleSpec,
  anchorMs: number,
  plannedAt: number,
  now: number,
  missed: MissedPolicy,
): TickPlan {
  if (plannedAt > now) return { fire: [], missed: undefined, next: plannedAt };
  const keep = typeof missed === 'object' ? missed.each : 1;
  // The last keep + 1 due occurrences, oldest first: enough to fire the kept ones and name the
  // last skipped one.
  let window: number[];
  let count: number;
  let next = plannedAt;
  let more = false;
  if ('every' in spec) {
    count = Math.floor((now - plannedAt) / spec.every) + 1;
    const latest = plannedAt + (count - 1) * spec.every;
    next = latest + spec.every;
    const w = Math.min(keep + 1, count);
    window = Array.from({ length: w }, (_, i) => latest - (w - 1 - i) * spec.every);
  } else {
    window = [plannedAt];
    count = 1;
    let t = plannedAt;
    const it = CronExpressionParser.parse(spec.cron, { currentDate: new Date(plannedAt), tz: spec.tz });
    for (;;) {
      const n = it.next().getTime();
      if (n > now) {
        next = n;
        break;
      }
      if (count >= MAX_ENUMERATED) {
        // Too many to walk: jump to the latest due one, count it, and say there were more.
        next = nextRunAfter(spec, now, anchorMs);
        const back = CronExpressionParser.parse(spec.cron, { currentDate: new Date(next), tz: spec.tz });
        t = Math.max(n, back.prev().getTime());
        more = true;
      } else {
        t = n;
      }
      count++;
      window.push(t);
      if (window.length > keep + 1) window.shift();
      if (more) break;
    }
  }
  const latest = window[window.length - 1] as number;
  let fire: number[];
  if (missed === 'skip') fire = now - latest <= MISSED_GRACE_MS ? [latest] : [];
  else if (missed === 'once') fire = [latest];
  else fire = window.slice(-Math.min(keep, count));
  const skipped = count - fire.length;
  return {
    fire,
    missed:
      skipped > 0
        ? {
            first: plannedAt,
            last: window[window.length - 1 - fire.length] as number,
            count: skipped,
            ...(more ? { more: true as const } : {}),
          }
        : undefined,
    next,
  };
}

/** A sentence for a plan, as the ledger and the CLI word it. */
export function describeSpec(spec: ResolvedScheduleSpec): string {
  if ('every' in spec) return `every ${spec.every} ms`;
  return `cron "${spec.cron}" (${spec.tz})`;
}

/** @lua The job ids a scheduler creates start with this, then `<scheduler id>:<planned ms>`. */
export const SCHEDULED_JOB_PREFIX = 'sch:';

/** @lua Most entries a scheduler's tick ledger keeps (newest first; older ones are dropped). */
export const TICK_LEDGER_LENGTH = 200;

/**
 * @lua `created 340 ms after its planned time; 5 earlier occurrences missed`: the sentence of a
 * {@link ScheduledTick} (the missed part only when the tick did not run some due occurrences).
 */
export function scheduledTickExplanation(lateMs: number, skipped: number): string {
  return `created ${lateMs} ms after its planned time${skipped > 0 ? `; ${skipped} earlier ${skipped === 1 ? 'occurrence' : 'occurrences'} missed` : ''}`;
}

/**
 * @lua The numbers of a {@link ScheduledTick}, as JSON in Lua (the scheduler id and its policy,
 * texts, are joined to it by the caller: `scheduledTick`).
 */
export function scheduledTickTimes(
  plannedAt: number,
  createdAt: number,
  skipped: number,
): ScheduledTickTimes {
  return {
    plannedAt,
    createdAt,
    lateMs: createdAt - plannedAt,
    skipped,
    explanation: scheduledTickExplanation(createdAt - plannedAt, skipped),
  };
}

/**
 * What the first attempt of a job a scheduler's tick created records (`schedule`): the scheduler,
 * the occurrence it was planned for, when the tick created it and how late, its missed-tick policy
 * ({@link missedText}) and how many due occurrences that tick did not run (`skipped`, the ledger's
 * `missed` entry). tick-10.lua writes the same JSON (`scheduledTickTimes` joined to the texts).
 */
export function scheduledTick(
  scheduler: string,
  missed: string,
  plannedAt: number,
  createdAt: number,
  skipped: number,
): ScheduledTick {
  return { scheduler, missed, ...scheduledTickTimes(plannedAt, createdAt, skipped) };
}

type ScheduledTickTimes = Omit<ScheduledTick, 'scheduler' | 'missed'>;

/** One tick of a scheduler, as its ledger records it (newest first). */
export interface TickRecord {
  /** The occurrence (the first one, for a run of skipped ones). */
  readonly plannedAt: number;
  /** When the tick ran (backend clock): `at − plannedAt` is how late the tick was. */
  readonly at: number;
  readonly outcome: 'created' | 'skipped';
  /** The job created (`outcome: created`). */
  readonly jobId?: string;
  /** Why nothing was created (`outcome: skipped`). */
  readonly reason?: TickSkipReason;
  /** A run of skipped occurrences: how many, and the last one. */
  readonly count?: number;
  readonly lastPlannedAt?: number;
  /** More occurrences than counted were skipped (a very long outage of a fine schedule). */
  readonly more?: true;
}

/** A scheduler as the backends store it (texts as stored: the port's shape). */
export interface SchedulerRecord {
  readonly id: string;
  /** {@link specText} of the resolved spec. */
  readonly spec: string;
  /** Where an `every` schedule counts from: when the scheduler was created or its spec changed. */
  readonly anchor: number;
  /** The next planned run (kept while paused: the run that was next when it was paused). */
  readonly nextRunAt: number;
  readonly name: string;
  /** JSON text of the data each job gets. */
  readonly data: string;
  /** JSON text of the `JobOptionsStored` each job gets. */
  readonly opts: string;
  readonly maxStalls: number;
  /** The priority each job gets (0 = the default level). */
  readonly priority: number;
  /** The rate-limit group each job gets (`JobOptions.group`); absent = none. */
  readonly group?: string;
  /** {@link missedText} of the policy. */
  readonly missed: string;
  readonly overlap: OverlapPolicy;
  readonly paused: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The job the last tick created ('' none yet). */
  readonly lastJobId: string;
  /** When it last ticked (0 never). */
  readonly lastTickAt: number;
}

/** What `upsertScheduler` stores. `anchor` and `nextRunAt` apply only to a new or changed spec. */
export interface SchedulerUpsert {
  readonly id: string;
  readonly spec: string;
  readonly anchor: number;
  readonly nextRunAt: number;
  readonly name: string;
  readonly data: string;
  readonly opts: string;
  readonly maxStalls: number;
  /** The priority each job gets; undefined = 0. Validated by the caller. */
  readonly priority?: number | undefined;
  /** The rate-limit group each job gets; undefined = none. Validated by the caller. */
  readonly group?: string | undefined;
  readonly missed: string;
  readonly overlap: OverlapPolicy;
}

export interface SchedulerUpsertResult {
  /** No scheduler had this id. */
  readonly created: boolean;
  /** Its spec is new or changed: its next run (and `every` anchor) were reset. */
  readonly specChanged: boolean;
  readonly nextRunAt: number;
}

/** What the scheduler loop found due. */
export interface DueSchedulers {
  /** The backend's clock when it looked. */
  readonly now: number;
  /** Unpaused schedulers whose next run is ≤ now, earliest first, at most `max`. */
  readonly due: readonly SchedulerRecord[];
  /** The earliest next run of the others (undefined: none). */
  readonly nextRunAt: number | undefined;
}

/** One scheduler's tick, planned by {@link planTick} for the scheduler as it was read. */
export interface TickRequest {
  readonly id: string;
  /** Applied only if the scheduler's next run and spec are still these (else `stale`). */
  readonly expectNextRunAt: number;
  readonly spec: string;
  readonly plan: TickPlan;
}

export interface TickResult {
  readonly id: string;
  /** `stale`: it changed since it was read (ticked by another process, upserted, paused, removed). */
  readonly status: 'ticked' | 'stale' | 'early';
  /** The ids of the jobs this tick created. */
  readonly created: readonly string[];
}

/** How a resume ends a pause: the next run, and the occurrences the pause skipped. */
export interface SchedulerResume {
  readonly expectNextRunAt: number;
  readonly nextRunAt: number;
  readonly skipped: SkippedRun | undefined;
}

/** A scheduler as the library shows it. */
export interface Scheduler {
  readonly id: string;
  readonly queue: string;
  readonly spec: ResolvedScheduleSpec;
  readonly nextRunAt: number;
  readonly anchor: number;
  readonly name: string;
  readonly data: unknown;
  readonly options: JobOptionsStored;
  /** The priority of the jobs it creates (higher runs first). */
  readonly priority: number;
  /** The rate-limit group of the jobs it creates (they take turns with other groups, §7). */
  readonly group?: string;
  readonly missed: MissedPolicy;
  readonly overlap: OverlapPolicy;
  readonly paused: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastJobId?: string;
  readonly lastTickAt?: number;
}

export function toScheduler(queue: string, r: SchedulerRecord): Scheduler {
  return {
    id: r.id,
    queue,
    spec: parseSpecText(r.spec),
    nextRunAt: r.nextRunAt,
    anchor: r.anchor,
    name: r.name,
    data: JSON.parse(r.data) as unknown,
    options: JSON.parse(r.opts) as JobOptionsStored,
    priority: r.priority,
    ...(r.group ? { group: r.group } : {}),
    missed: parseMissedText(r.missed),
    overlap: r.overlap,
    paused: r.paused,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    ...(r.lastJobId ? { lastJobId: r.lastJobId } : {}),
    ...(r.lastTickAt ? { lastTickAt: r.lastTickAt } : {}),
  };
}

/**
 * The ledger entries of one applied tick, oldest first (the backends push them in this order, so
 * the ledger reads newest first). `overlapping(jobId)` says whether a job is still unfinished.
 * Memory applies these rules directly; tick-10.lua writes the same entries.
 */
export function tickEntries(
  at: number,
  plan: TickPlan,
  create: (plannedAt: number) => { created: string } | { skipped: TickSkipReason },
): TickRecord[] {
  const out: TickRecord[] = [];
  if (plan.missed) {
    out.push({
      plannedAt: plan.missed.first,
      at,
      outcome: 'skipped',
      reason: 'missed',
      count: plan.missed.count,
      lastPlannedAt: plan.missed.last,
      ...(plan.missed.more ? { more: true as const } : {}),
    });
  }
  for (const p of plan.fire) {
    const r = create(p);
    out.push(
      'created' in r
        ? { plannedAt: p, at, outcome: 'created', jobId: r.created }
        : { plannedAt: p, at, outcome: 'skipped', reason: r.skipped },
    );
  }
  return out;
}

/** The ledger entry of a pause, written when it ends: the occurrences it skipped. */
export function pausedEntry(at: number, skipped: SkippedRun): TickRecord {
  return {
    plannedAt: skipped.first,
    at,
    outcome: 'skipped',
    reason: 'paused',
    count: skipped.count,
    lastPlannedAt: skipped.last,
    ...(skipped.more ? { more: true as const } : {}),
  };
}

/**
 * What resuming a paused scheduler does: the occurrences due during the pause are skipped (one
 * ledger entry, reason `paused`), and its next run is the first one after `now`.
 */
export function planResume(
  spec: ResolvedScheduleSpec,
  anchorMs: number,
  pausedNextRunAt: number,
  now: number,
): { nextRunAt: number; skipped: SkippedRun | undefined } {
  const p = planTick(spec, anchorMs, pausedNextRunAt, now, 'skip');
  if (pausedNextRunAt > now) return { nextRunAt: pausedNextRunAt, skipped: undefined };
  const fired = p.fire[0];
  const count = (p.missed?.count ?? 0) + p.fire.length;
  const last = fired ?? p.missed?.last ?? pausedNextRunAt;
  return {
    nextRunAt: p.next,
    skipped: {
      first: pausedNextRunAt,
      last,
      count,
      ...(p.missed?.more ? { more: true as const } : {}),
    },
  };
}

/** A scheduler with its tick ledger and next runs, as `GET …/schedulers/:id` and `schedulers show` give it. */
export interface SchedulerDetail extends Scheduler {
  /** The tick ledger, newest first. */
  readonly ticks: readonly TickRecord[];
  /** The next runs, from its next one (none while paused). */
  readonly upcoming: readonly number[];
}

/** The next `n` runs of a scheduler, from its next one; none while it is paused. */
export function upcomingRuns(s: Scheduler, n: number): number[] {
  if (s.paused || n <= 0) return [];
  return [s.nextRunAt, ...nextRuns(s.spec, s.nextRunAt, s.anchor, n - 1)];
}
