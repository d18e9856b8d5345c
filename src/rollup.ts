/**
 * The retry analytics rollups, write side: what the finish transition adds to the counters of its
 * queue when an attempt ends, written once. The memory backend calls {@link rollupIncrements}; the
 * Redis finish script does the same in `lua/includes/rollup.lua` with the constants below generated
 * into `lua/generated/rollup.lua` (every export tagged `@lua`), and the conformance suite holds the
 * two to the same answers. The read side (reports) is `src/analytics.ts`.
 *
 * Shape: one hash per queue and time bucket (`rollupKey` in backends/redis/keys.ts), written twice,
 * into a minute bucket and an hour bucket, each kept for a bounded time after it ends (its own TTL,
 * not tied to the jobs: the figures outlive retention). A field is
 * `<metric> \x1f <job name> \x1f <key>` and holds a count (or, for `ROLLUP_LABEL`, a text); a job
 * name has no control characters (validate.ts), so the field splits unambiguously at its first two
 * separators.
 * @module
 */
import { countsAsFailure } from './transitions.js';

/** @lua Width of a fine rollup bucket (ms): one minute. */
export const ROLLUP_MINUTE_MS = 60_000;
/** @lua Width of a coarse rollup bucket (ms): one hour. */
export const ROLLUP_HOUR_MS = 3_600_000;
/** @lua How long a minute bucket is kept after it ends (ms): 3 hours. */
export const ROLLUP_MINUTE_KEEP_MS = 10_800_000;
/** @lua How long an hour bucket is kept after it ends (ms): 8 days. */
export const ROLLUP_HOUR_KEEP_MS = 691_200_000;
/** @lua Attempt numbers above this are counted under it ("this many or more"). */
export const ROLLUP_MAX_ATTEMPT = 50;
/** @lua The separator of a rollup field's parts: metric, job name, key. */
export const ROLLUP_SEP = '\x1f';

/**
 * @lua Upper bounds (exclusive, ms) of the time histograms (time to success, drift): bucket `i`
 * holds the values `v` with `bounds[i-1] <= v < bounds[i]`, bucket 0 those under 1 ms (and negative
 * drifts), the last one those of a day or more. A 1-2-5 series: a percentile read from it is known
 * to within its bucket, and the report states it as those bounds.
 */
export const ROLLUP_TIME_BOUNDS_MS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000,
  1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000, 86_400_000,
]);

/** @lua Metric: attempts that ended, by attempt number (key n). */
export const ROLLUP_ATTEMPTS = 'a';
/** @lua Metric: attempts that failed (failed or timed out), by attempt number. */
export const ROLLUP_FAILED = 'f';
/** @lua Metric: jobs that succeeded, by the attempt number they succeeded at. */
export const ROLLUP_SUCCEEDED = 's';
/** @lua Metric: jobs dead-lettered, by the attempt number of their last attempt. */
export const ROLLUP_DEAD = 'd';
/** @lua Metric: jobs dead-lettered, by dead reason. */
export const ROLLUP_DEAD_REASON = 'dr';
/** @lua Metric: jobs that succeeded, by time to success (key: bucket index of ROLLUP_TIME_BOUNDS_MS). */
export const ROLLUP_TIME_TO_SUCCESS = 't';
/** @lua Metric: attempts, by drift (startedAt − dueAt; key: bucket index). */
export const ROLLUP_DRIFT = 'z';
/** @lua Metric: failed attempts by error class. */
export const ROLLUP_FAILED_CLASS = 'fc';
/** @lua Metric: failed attempts by classifying rule. */
export const ROLLUP_FAILED_RULE = 'fr';
/** @lua Metric: failed attempts by error fingerprint. */
export const ROLLUP_FAILED_FINGERPRINT = 'ff';
/** @lua Metric: dead jobs by the error class of their last attempt. */
export const ROLLUP_DEAD_CLASS = 'dc';
/** @lua Metric: dead jobs by the classifying rule of their last attempt. */
export const ROLLUP_DEAD_RULE = 'dl';
/** @lua Metric: dead jobs by error fingerprint. */
export const ROLLUP_DEAD_FINGERPRINT = 'df';
/** @lua A fingerprint's label (a text, not a count; job name empty): key = fingerprint. */
export const ROLLUP_LABEL = 'L';

/** The bucket of `ROLLUP_TIME_BOUNDS_MS` that `ms` falls in (twin: `rollupTimeBucket` in rollup.lua). */
export function rollupTimeBucket(ms: number): number {
  let i = 0;
  while (i < ROLLUP_TIME_BOUNDS_MS.length && ms >= ROLLUP_TIME_BOUNDS_MS[i]!) i++;
  return i;
}

/** A rollup field's name. */
export function rollupField(metric: string, name: string, key: string | number): string {
  return `${metric}${ROLLUP_SEP}${name}${ROLLUP_SEP}${key}`;
}

/** A field split into its parts; undefined for a text that is not a rollup field. */
export function parseRollupField(field: string): { metric: string; name: string; key: string } | undefined {
  const a = field.indexOf(ROLLUP_SEP);
  const b = a < 0 ? -1 : field.indexOf(ROLLUP_SEP, a + 1);
  if (b < 0) return undefined;
  return { metric: field.slice(0, a), name: field.slice(a + 1, b), key: field.slice(b + 1) };
}

/** How one attempt ended, as the finish transition knows it. */
export interface RollupEnd {
  readonly name: string;
  /** The attempt number. */
  readonly n: number;
  readonly outcome: string;
  readonly action: 'done' | 'retry' | 'dead';
  readonly deadReason?: string | undefined;
  readonly errorClass?: string | undefined;
  readonly rule?: string | undefined;
  readonly fingerprint?: string | undefined;
  readonly label?: string | undefined;
  /** startedAt − dueAt of the attempt. */
  readonly driftMs: number;
  /** For a success: its finish time − the due time of the job's first attempt. */
  readonly timeToSuccessMs?: number | undefined;
}

/**
 * The counts one attempt end adds (field → increment), and the fingerprint labels it sets
 * (field → text). Every attempt: attempts and drift by number; a failure (`failed`, `timed_out`):
 * failed by number, by class, rule and fingerprint; a success: succeeded by number and time to
 * success; a dead job: dead by number, reason, class, rule and fingerprint.
 */
export function rollupIncrements(e: RollupEnd): { counts: Map<string, number>; labels: Map<string, string> } {
  const counts = new Map<string, number>();
  const labels = new Map<string, string>();
  const add = (metric: string, key: string | number): void => {
    const f = rollupField(metric, e.name, key);
    counts.set(f, (counts.get(f) ?? 0) + 1);
  };
  const n = Math.min(e.n, ROLLUP_MAX_ATTEMPT);
  add(ROLLUP_ATTEMPTS, n);
  add(ROLLUP_DRIFT, rollupTimeBucket(e.driftMs));
  const failed = countsAsFailure(e.outcome);
  if (failed) {
    add(ROLLUP_FAILED, n);
    if (e.errorClass) add(ROLLUP_FAILED_CLASS, e.errorClass);
    if (e.rule) add(ROLLUP_FAILED_RULE, e.rule);
    if (e.fingerprint) add(ROLLUP_FAILED_FINGERPRINT, e.fingerprint);
  }
  // Only a text labels (the worker sends one with a dead-letter): an empty one would overwrite it.
  if (e.fingerprint && e.label && (failed || e.action === 'dead')) {
    labels.set(rollupField(ROLLUP_LABEL, '', e.fingerprint), e.label);
  }
  if (e.action === 'done' && e.outcome === 'succeeded') {
    add(ROLLUP_SUCCEEDED, n);
    add(ROLLUP_TIME_TO_SUCCESS, rollupTimeBucket(e.timeToSuccessMs ?? 0));
  } else if (e.action === 'dead') {
    add(ROLLUP_DEAD, n);
    add(ROLLUP_DEAD_REASON, e.deadReason ?? '');
    if (e.errorClass) add(ROLLUP_DEAD_CLASS, e.errorClass);
    if (e.rule) add(ROLLUP_DEAD_RULE, e.rule);
    if (e.fingerprint) add(ROLLUP_DEAD_FINGERPRINT, e.fingerprint);
  }
  return { counts, labels };
}

/** The start of the bucket of width `width` that holds `t`. */
export function bucketStart(t: number, width: number): number {
  return t - (((t % width) + width) % width);
}

/** One bucket as read back: its start and its fields (counts as numbers, labels as text). */
export interface RollupBucket {
  readonly start: number;
  readonly fields: Readonly<Record<string, string>>;
}

export type RollupResolution = 'minute' | 'hour';

/** Bucket width and how long a bucket is kept after it ends, by resolution. */
export const ROLLUP_RESOLUTIONS: Readonly<Record<RollupResolution, { widthMs: number; keepMs: number }>> = {
  minute: { widthMs: ROLLUP_MINUTE_MS, keepMs: ROLLUP_MINUTE_KEEP_MS },
  hour: { widthMs: ROLLUP_HOUR_MS, keepMs: ROLLUP_HOUR_KEEP_MS },
};
