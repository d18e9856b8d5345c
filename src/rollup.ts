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
/** @lua Metric: attempts that stalled (lease expired, recovered), by attempt number. */
export const ROLLUP_STALLED = 'y';
/** @lua Metric: jobs cancelled, by the state they were cancelled in (waiting, scheduled, active). */
export const ROLLUP_CANCELLED = 'x';
/**
 * @lua Metric: attempts that came next after an attempt that failed (or stalled) with this error
 * class, and ended with a verdict (succeeded, failed, timed out or stalled).
 */
export const ROLLUP_NEXT_CLASS = 'nc';
/** @lua Metric: the same, by the classifying rule of the failure before. */
export const ROLLUP_NEXT_RULE = 'nr';
/** @lua Metric: the same, by the fingerprint of the failure before. */
export const ROLLUP_NEXT_FINGERPRINT = 'nf';
/** @lua Metric: of those next attempts, the ones that succeeded, by the error class before. */
export const ROLLUP_NEXT_OK_CLASS = 'oc';
/** @lua Metric: the same, by rule. */
export const ROLLUP_NEXT_OK_RULE = 'or';
/** @lua Metric: the same, by fingerprint. */
export const ROLLUP_NEXT_OK_FINGERPRINT = 'of';
/** @lua Metric: jobs that succeeded after failing (or stalling) with this error class at least once. */
export const ROLLUP_RECOVERED_CLASS = 'rc';
/** @lua Metric: the same, by rule. */
export const ROLLUP_RECOVERED_RULE = 'rr';
/** @lua Metric: the same, by fingerprint. */
export const ROLLUP_RECOVERED_FINGERPRINT = 'rf';
/** @lua Metric: jobs dead-lettered after failing (or stalling) with this error class at least once (the last attempt included). */
export const ROLLUP_LOST_CLASS = 'kc';
/** @lua Metric: the same, by rule. */
export const ROLLUP_LOST_RULE = 'kr';
/** @lua Metric: the same, by fingerprint. */
export const ROLLUP_LOST_FINGERPRINT = 'kf';
/**
 * @lua A key admitted into a bucket (a text, not a count): `K \x1f <kind> \x1f <key>` where kind
 * is `c` (error class), `r` (rule) or `f` (fingerprint); for a fingerprint, the value is its label
 * (`name|code|normalised message`), otherwise ''.
 */
export const ROLLUP_KEY = 'K';
/** @lua How many keys of a kind a bucket admitted: `# \x1f <kind> \x1f` (a count). */
export const ROLLUP_KEY_COUNT = '#';
/**
 * @lua Most distinct keys of one kind (error class, rule, fingerprint) a bucket holds; the
 * counts of any further key go to {@link ROLLUP_OTHER}, so a bucket's memory stays bounded however
 * many distinct errors a minute sees.
 */
export const ROLLUP_MAX_KEYS = 64;
/** @lua The key that holds the counts of the keys a full bucket refused. */
export const ROLLUP_OTHER = '(other)';
/** @lua Most distinct keys a job remembers having failed with (further ones are not attributed). */
export const ROLLUP_JOB_KEYS_MAX = 12;
/** @lua The separator of the keys a job remembers (`rks` on the job hash). */
export const ROLLUP_JOB_KEYS_SEP = '\x1e';

/** Does an attempt that ended so fail with a key (error class, rule, fingerprint)? (Twin in rollup.lua.) */
export function keyedFailure(outcome: string): boolean {
  return countsAsFailure(outcome) || outcome === 'stalled';
}

/** Does an attempt that ended so give a verdict on the failure before it? (Twin in rollup.lua.) */
export function rollupVerdict(outcome: string): boolean {
  return outcome === 'succeeded' || keyedFailure(outcome);
}

/**
 * The key kind of each metric counted by key (c: error class, r: rule, f: fingerprint); the others
 * are counted by attempt number, time bucket, dead reason or state.
 */
export const ROLLUP_KEYED: Readonly<Record<string, 'c' | 'r' | 'f'>> = Object.freeze({
  [ROLLUP_FAILED_CLASS]: 'c',
  [ROLLUP_DEAD_CLASS]: 'c',
  [ROLLUP_NEXT_CLASS]: 'c',
  [ROLLUP_NEXT_OK_CLASS]: 'c',
  [ROLLUP_RECOVERED_CLASS]: 'c',
  [ROLLUP_LOST_CLASS]: 'c',
  [ROLLUP_FAILED_RULE]: 'r',
  [ROLLUP_DEAD_RULE]: 'r',
  [ROLLUP_NEXT_RULE]: 'r',
  [ROLLUP_NEXT_OK_RULE]: 'r',
  [ROLLUP_RECOVERED_RULE]: 'r',
  [ROLLUP_LOST_RULE]: 'r',
  [ROLLUP_FAILED_FINGERPRINT]: 'f',
  [ROLLUP_DEAD_FINGERPRINT]: 'f',
  [ROLLUP_NEXT_FINGERPRINT]: 'f',
  [ROLLUP_NEXT_OK_FINGERPRINT]: 'f',
  [ROLLUP_RECOVERED_FINGERPRINT]: 'f',
  [ROLLUP_LOST_FINGERPRINT]: 'f',
});

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

/**
 * What a job remembers for the rollups between its attempts (fields `rk` and `rks` of its Redis
 * hash): the keys of its last failure, `class \x1f rule \x1f fingerprint` ('' = none, so the next
 * attempt's outcome is attributed to them), and every key it failed with so far, as
 * `\x1e c:<class> \x1e r:<rule> \x1e f:<fingerprint> \x1e` (at most ROLLUP_JOB_KEYS_MAX; '' = none).
 */
export interface RollupJobKeys {
  readonly last: string;
  readonly seen: string;
}

/** How one attempt ended, as the finish (or the recovery of a stall) knows it. */
export interface RollupEnd {
  readonly name: string;
  /** The attempt number. */
  readonly n: number;
  /** succeeded, failed, timed_out, stalled, interrupted, rate_limited... */
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
  /** What the job remembered before this attempt; none = nothing. */
  readonly keys?: RollupJobKeys | undefined;
}

/** The keys a job remembers after an attempt with `e`'s keys ended as `e.outcome`. */
export function rollupJobKeys(e: RollupEnd): RollupJobKeys {
  const before = e.keys ?? { last: '', seen: '' };
  if (!keyedFailure(e.outcome)) {
    // A success clears the last failure; an attempt without a verdict (interrupted, rate limited)
    // leaves it for the attempt after it.
    return { last: e.outcome === 'succeeded' ? '' : before.last, seen: before.seen };
  }
  const c = e.errorClass ?? '';
  const r = e.rule ?? '';
  const f = e.fingerprint ?? '';
  let seen = before.seen;
  for (const k of [`c:${c}`, `r:${r}`, `f:${f}`]) {
    if (k.length === 2) continue;
    const sep = ROLLUP_JOB_KEYS_SEP;
    if (seen.includes(`${sep}${k}${sep}`)) continue;
    const count = seen === '' ? 0 : seen.split(sep).length - 2;
    if (count >= ROLLUP_JOB_KEYS_MAX) break;
    seen = seen === '' ? `${sep}${k}${sep}` : `${seen}${k}${sep}`;
  }
  const last = c === '' && r === '' && f === '' ? '' : `${c}${ROLLUP_SEP}${r}${ROLLUP_SEP}${f}`;
  return { last, seen };
}

const KIND_METRICS = {
  next: { c: ROLLUP_NEXT_CLASS, r: ROLLUP_NEXT_RULE, f: ROLLUP_NEXT_FINGERPRINT },
  nextOk: { c: ROLLUP_NEXT_OK_CLASS, r: ROLLUP_NEXT_OK_RULE, f: ROLLUP_NEXT_OK_FINGERPRINT },
  recovered: { c: ROLLUP_RECOVERED_CLASS, r: ROLLUP_RECOVERED_RULE, f: ROLLUP_RECOVERED_FINGERPRINT },
  lost: { c: ROLLUP_LOST_CLASS, r: ROLLUP_LOST_RULE, f: ROLLUP_LOST_FINGERPRINT },
} as const;

/**
 * The counts one attempt end adds (field → increment), and the fingerprint labels it knows
 * (fingerprint → label). Every attempt: attempts and drift by number; a failure (`failed`,
 * `timed_out`): failed by number; a stall: stalled by number; a failure or a stall (a keyed
 * failure): failed by class, rule and fingerprint; a success: succeeded by number and time to
 * success; a dead job: dead by number, reason, class, rule and fingerprint. With what the job
 * remembered (`keys`): an attempt with a verdict after a keyed failure counts as a next attempt of
 * that failure's keys (and as a next success if it succeeded); a success counts the job as recovered,
 * a dead job as lost, under every key the job failed with (the last attempt's included).
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
  const keyed = keyedFailure(e.outcome);
  if (countsAsFailure(e.outcome)) add(ROLLUP_FAILED, n);
  if (e.outcome === 'stalled') add(ROLLUP_STALLED, n);
  if (keyed) {
    if (e.errorClass) add(ROLLUP_FAILED_CLASS, e.errorClass);
    if (e.rule) add(ROLLUP_FAILED_RULE, e.rule);
    if (e.fingerprint) add(ROLLUP_FAILED_FINGERPRINT, e.fingerprint);
  }
  // Only a text labels (the worker sends one with a dead-letter): an empty one would overwrite it.
  if (e.fingerprint && e.label && (keyed || e.action === 'dead')) labels.set(e.fingerprint, e.label);
  const last = e.keys?.last ?? '';
  if (last !== '' && rollupVerdict(e.outcome)) {
    const [c = '', r = '', f = ''] = last.split(ROLLUP_SEP);
    const byKind = { c, r, f };
    for (const kind of ['c', 'r', 'f'] as const) {
      if (byKind[kind] === '') continue;
      add(KIND_METRICS.next[kind], byKind[kind]);
      if (e.outcome === 'succeeded') add(KIND_METRICS.nextOk[kind], byKind[kind]);
    }
  }
  const succeeded = e.action === 'done' && e.outcome === 'succeeded';
  if (succeeded) {
    add(ROLLUP_SUCCEEDED, n);
    add(ROLLUP_TIME_TO_SUCCESS, rollupTimeBucket(e.timeToSuccessMs ?? 0));
  } else if (e.action === 'dead') {
    add(ROLLUP_DEAD, n);
    add(ROLLUP_DEAD_REASON, e.deadReason ?? '');
    if (e.errorClass) add(ROLLUP_DEAD_CLASS, e.errorClass);
    if (e.rule) add(ROLLUP_DEAD_RULE, e.rule);
    if (e.fingerprint) add(ROLLUP_DEAD_FINGERPRINT, e.fingerprint);
  }
  if (succeeded || e.action === 'dead') {
    const seen = e.action === 'dead' ? rollupJobKeys(e).seen : (e.keys?.seen ?? '');
    const metrics = succeeded ? KIND_METRICS.recovered : KIND_METRICS.lost;
    for (const k of seen.split(ROLLUP_JOB_KEYS_SEP)) {
      if (k.length < 2) continue;
      add(metrics[k[0] as 'c' | 'r' | 'f'], k.slice(2));
    }
  }
  return { counts, labels };
}

/** The counts of a cancel: one job of `name` cancelled while `state`. */
export function rollupCancel(name: string, state: string): Map<string, number> {
  return new Map([[rollupField(ROLLUP_CANCELLED, name, state), 1]]);
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

/**
 * Adds one attempt end's counts to a bucket (its fields), as `flushRollups` in lua/includes/rollup.lua
 * does: a field keyed by an error class, rule or fingerprint that is new to the bucket first admits
 * its key ({@link ROLLUP_KEY}, holding a fingerprint's label), while the bucket holds fewer than
 * {@link ROLLUP_MAX_KEYS} keys of that kind; a key refused counts under {@link ROLLUP_OTHER}.
 * (Which keys a bucket admits when it fills within one finish call of many jobs is the order the
 * script meets them in.)
 */
export function rollupWrite(
  fields: Map<string, string>,
  counts: ReadonlyMap<string, number>,
  labels: ReadonlyMap<string, string>,
): void {
  for (const [f, v] of counts) {
    let field = f;
    if (!fields.has(f)) {
      const p = parseRollupField(f)!;
      const kind = ROLLUP_KEYED[p.metric];
      const label = kind === 'f' ? (labels.get(p.key) ?? '') : '';
      if (kind && p.key !== ROLLUP_OTHER && !rollupAdmit(fields, kind, p.key, label)) {
        field = rollupField(p.metric, p.name, ROLLUP_OTHER);
      }
    }
    fields.set(field, String(Number(fields.get(field) ?? 0) + v));
  }
}

/** Admits `key` of `kind` into a bucket (see {@link rollupWrite}); false when the bucket is full. */
function rollupAdmit(fields: Map<string, string>, kind: string, key: string, label: string): boolean {
  const k = rollupField(ROLLUP_KEY, kind, key);
  const known = fields.has(k);
  if (!known) {
    const cf = rollupField(ROLLUP_KEY_COUNT, kind, '');
    const c = Number(fields.get(cf) ?? 0);
    if (c >= ROLLUP_MAX_KEYS) return false;
    fields.set(cf, String(c + 1));
  }
  if (!known || label !== '') fields.set(k, label);
  return true;
}

/**
 * An hour bucket as a report reads it from Redis: its fields plus those of the minute bucket of that
 * hour not folded into it yet (the queue's meta field `rum`, see lua/includes/rollup.lua): counts
 * added, fingerprint labels kept; the key admission counts of the minute left out.
 */
export function withUnfolded(
  hour: Readonly<Record<string, string>>,
  minute: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = { ...hour };
  for (const [f, v] of Object.entries(minute)) {
    const p = parseRollupField(f);
    if (!p || p.metric === ROLLUP_KEY_COUNT) continue;
    if (p.metric === ROLLUP_KEY) {
      if (!out[f]) out[f] = v;
      continue;
    }
    out[f] = String(Number(out[f] ?? 0) + Number(v));
  }
  return out;
}
