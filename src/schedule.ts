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

/** Most entries a scheduler's tick ledger keeps (newest first; older ones are dropped). */
export const TICK_LEDGER_LENGTH = 200;

/** How late the latest due occurrence may be and still run under `missed: 'skip'`. */
export const MISSED_GRACE_MS = 60_000;

/** Most occurrences a tick enumerates to count missed ones (beyond: counted from the next run on). */
export const MAX_ENUMERATED = 10_000;

/** Largest `missed: { each }` bound. */
export const MAX_MISSED_EACH = 1000;

/** Shortest `every` interval (ms). */
export const MIN_EVERY_MS = 100;

/** Scheduler ids: as job ids, shorter, so that the ids of the jobs they create (`sch:<id>:<ms>`) fit. */
export const SCHEDULER_ID_RULE: TextRule = Object.freeze({
  minLength: 1,
  maxLength: 100,
  pattern: '^[A-Za-z0-9_.:-]{1,100}$',
  rule: "1-100 characters of letters, digits, '_', '.', ':' or '-'",
});

export function assertSchedulerId(id: unknown, field = 'id'): asserts id is string {
  checkText(id, field, SCHEDULER_ID_RULE);
}

/** The id of the job a scheduler creates for the occurrence planned at `plannedAt`. */
export function scheduledJobId(schedulerId: string, plannedAt: number): string {
  return `sch:${schedulerId}:${plannedAt}`;
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
