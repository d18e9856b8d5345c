/**
 * Retry analytics, read side: turns the rollup buckets the finish transition keeps (src/rollup.ts)
 * into a report — attempts at completion, the chance of success at attempt n given attempt n−1
 * failed, time to success and drift (percentiles as histogram bucket bounds), wasted attempts,
 * dead letters (stall deaths included), cancels apart, failures by error class, rule and fingerprint
 * with what followed them (the chance the next attempt succeeds, jobs recovered and lost), and a
 * suggested `attempts` value with its reason. Pure: no backend, no clock; `Queue.analytics` reads the buckets and calls
 * {@link analyticsReport}. Never reads a job, so it works after retention evicted them.
 * @module
 */
import type { ArchiveAnalyticsCounts } from './archive.js';
import { formatDuration } from './duration.js';
import { fingerprintLabel } from './fingerprint.js';
import {
  bucketStart,
  parseRollupField,
  ROLLUP_ATTEMPTS,
  ROLLUP_CANCELLED,
  ROLLUP_DEAD,
  ROLLUP_DEAD_CLASS,
  ROLLUP_DEAD_FINGERPRINT,
  ROLLUP_DEAD_REASON,
  ROLLUP_DEAD_RULE,
  ROLLUP_DRIFT,
  ROLLUP_FAILED,
  ROLLUP_FAILED_CLASS,
  ROLLUP_FAILED_FINGERPRINT,
  ROLLUP_FAILED_RULE,
  ROLLUP_HOUR_KEEP_MS,
  ROLLUP_KEY,
  ROLLUP_KEY_COUNT,
  ROLLUP_LOST_CLASS,
  ROLLUP_LOST_FINGERPRINT,
  ROLLUP_LOST_RULE,
  ROLLUP_MAX_ATTEMPT,
  ROLLUP_NEXT_CLASS,
  ROLLUP_NEXT_FINGERPRINT,
  ROLLUP_NEXT_OK_CLASS,
  ROLLUP_NEXT_OK_FINGERPRINT,
  ROLLUP_NEXT_OK_RULE,
  ROLLUP_NEXT_RULE,
  ROLLUP_RECOVERED_CLASS,
  ROLLUP_RECOVERED_FINGERPRINT,
  ROLLUP_RECOVERED_RULE,
  ROLLUP_STALLED,
  ROLLUP_MINUTE_KEEP_MS,
  ROLLUP_RESOLUTIONS,
  ROLLUP_SUCCEEDED,
  ROLLUP_TIME_BOUNDS_MS,
  ROLLUP_TIME_TO_SUCCESS,
  rollupField,
  rollupCancel,
  rollupIncrements,
  rollupJobKeys,
  type RollupBucket,
  type RollupEnd,
  type RollupJobKeys,
  type RollupResolution,
} from './rollup.js';

/** The window of a report when none is given: one hour. */
export const ANALYTICS_DEFAULT_WINDOW_MS = 3_600_000;
/** Windows up to this long are read from minute buckets (at most 121 of them): two hours. */
export const ANALYTICS_MINUTE_WINDOW_MS = 7_200_000;
/** The longest window read from rollups: seven days (hour buckets are kept eight). */
export const ANALYTICS_MAX_WINDOW_MS = 604_800_000;
/** The longest window read from the archive: 400 days. */
export const ANALYTICS_ARCHIVE_MAX_WINDOW_MS = 34_560_000_000;

/**
 * Where a report reads: the rollups the finish transition keeps (`rollups`), the PostgreSQL
 * archive (`archive`: SQL over the archived attempts, the same answer on the same jobs, for windows
 * up to 400 d, finished and archived jobs only), or `auto` (the default): the archive when the
 * queue has one and the window is longer than the rollups keep (7 d), else the rollups.
 */
export const ANALYTICS_SOURCES = ['auto', 'rollups', 'archive'] as const;
export type AnalyticsSource = (typeof ANALYTICS_SOURCES)[number];
/** The share of eventual successes the suggested `attempts` must cover, in percent. */
export const SUGGEST_COVERAGE_PERCENT = 99;

export const ANALYTICS_GROUP_BY = ['name', 'errorClass', 'rule', 'fingerprint'] as const;
export type AnalyticsGroupBy = (typeof ANALYTICS_GROUP_BY)[number];

/** Which buckets a report over `windowMs` up to `now` reads. */
export interface AnalyticsPlan {
  readonly resolution: RollupResolution;
  readonly bucketMs: number;
  /** Start of the first bucket read (at or before `now − windowMs`): what the report covers. */
  readonly from: number;
  readonly to: number;
  readonly starts: readonly number[];
  /** End of the last bucket read (exclusive): the attempts counted finished in [from, end). */
  readonly end: number;
}

/**
 * The buckets a report reads: minute buckets for a window up to 2 h, else hour buckets, from the
 * one holding `now − windowMs` to the one holding `now`. `noStarts`: the list of bucket starts is
 * left empty (a report over the archive reads no bucket, and a 400-day window has 9,600).
 */
export function analyticsPlan(now: number, windowMs: number, noStarts = false): AnalyticsPlan {
  const resolution: RollupResolution = windowMs <= ANALYTICS_MINUTE_WINDOW_MS ? 'minute' : 'hour';
  const { widthMs } = ROLLUP_RESOLUTIONS[resolution];
  const first = bucketStart(now - windowMs, widthMs);
  const starts: number[] = [];
  if (!noStarts) for (let s = first; s <= now; s += widthMs) starts.push(s);
  const end = bucketStart(now, widthMs) + widthMs;
  return { resolution, bucketMs: widthMs, from: first, to: now, starts, end };
}

/** One bucket of a time histogram: values `fromMs <= v < toMs` (`toMs` null: no upper bound). */
export interface HistogramBucket {
  readonly fromMs: number;
  readonly toMs: number | null;
  readonly count: number;
}

/** A percentile, known to within the histogram bucket it falls in. */
export interface PercentileRange {
  readonly fromMs: number;
  readonly toMs: number | null;
}

export interface TimeHistogram {
  /** Every bucket, empty ones included (fixed bounds: `ROLLUP_TIME_BOUNDS_MS`). */
  readonly buckets: readonly HistogramBucket[];
  readonly count: number;
  readonly p50: PercentileRange | null;
  readonly p95: PercentileRange | null;
  readonly p99: PercentileRange | null;
}

/** The attempts numbered `n` that ended in the window. */
export interface AttemptRow {
  /** Attempt number (the last row, `ROLLUP_MAX_ATTEMPT`, also holds every later one). */
  readonly n: number;
  readonly attempts: number;
  readonly failed: number;
  /** Attempts that stalled (lease expired, recovered). */
  readonly stalled: number;
  /** Jobs that succeeded at this attempt (attempts at completion, success). */
  readonly succeeded: number;
  /** Jobs dead-lettered after this attempt (attempts at completion, dead). */
  readonly dead: number;
  /**
   * succeeded / attempts: the chance of success at attempt n given attempt n−1 failed (an attempt
   * n > 1 runs only after one that did not succeed); null without attempts.
   */
  readonly successRate: number | null;
}

export interface AnalyticsTotals {
  readonly attempts: number;
  readonly failed: number;
  readonly stalled: number;
  readonly succeeded: number;
  /** Dead-lettered, by the finish or as poison by stall recovery. */
  readonly dead: number;
  /** Jobs cancelled (not in the dead-letter rate). */
  readonly cancelled: number;
  /** Attempts after the first (n > 1). */
  readonly retries: number;
  /** Retries of jobs that were dead-lettered anyway: Σ (n − 1) × dead at n. */
  readonly wastedAttempts: number;
  /** dead / (succeeded + dead); null when no job finished. */
  readonly deadLetterRate: number | null;
}

/**
 * What one error class, rule or fingerprint cost and what followed it (`(other)` holds the keys a
 * bucket refused once it held ROLLUP_MAX_KEYS of that kind); over the archive also the jobs that
 * failed with it and their attempts (null from rollups, which do not keep jobs).
 */
export interface Breakdown {
  readonly key: string;
  /** For a fingerprint: its label (`name|code|normalised message`). */
  readonly label: string | null;
  /** Attempts that failed (or stalled) with it. */
  readonly failed: number;
  /** Jobs dead-lettered with it on their last attempt. */
  readonly dead: number;
  /** Attempts that came next after a failure with it and ended with a verdict. */
  readonly next: number;
  /** Of those, the ones that succeeded. */
  readonly nextSucceeded: number;
  /** nextSucceeded / next: P(next attempt succeeds | this attempt failed with it); null without one. */
  readonly nextSuccessRate: number | null;
  /** Jobs that succeeded after failing with it at least once. */
  readonly recovered: number;
  /** Jobs dead-lettered after failing with it at least once (their last attempt included). */
  readonly lost: number;
  /** Archive only: jobs with at least one failed attempt with this key in the window. */
  readonly jobs: number | null;
  /** Archive only: every attempt of those jobs in the window. */
  readonly jobAttempts: number | null;
}

/**
 * One group of `by`: per job name every count (the breakdown fields null); per class, rule or
 * fingerprint its {@link Breakdown}, and over the archive also `attempts` and `succeeded`: every
 * attempt of the jobs that failed with the key, and how many of those jobs succeeded (null from
 * rollups, like `cancelled`).
 */
export interface AnalyticsGroup {
  readonly key: string;
  readonly label: string | null;
  readonly attempts: number | null;
  readonly failed: number;
  readonly succeeded: number | null;
  readonly dead: number;
  readonly cancelled: number | null;
  readonly next: number | null;
  readonly nextSucceeded: number | null;
  readonly nextSuccessRate: number | null;
  readonly recovered: number | null;
  readonly lost: number | null;
}

export interface AttemptsSuggestion {
  /** The suggested `attempts` (the first run included); null when the record cannot tell. */
  readonly attempts: number | null;
  readonly reason: string;
}

export interface AnalyticsReport {
  readonly queue: string;
  /** Where the figures were read: `rollups` or `archive` (never `auto`). */
  readonly source: 'rollups' | 'archive';
  readonly window: {
    /** Start of the first bucket read: at or before `to − ms`. */
    readonly from: number;
    readonly to: number;
    /** The window asked for. */
    readonly ms: number;
    readonly resolution: RollupResolution;
    readonly bucketMs: number;
  };
  /** The job name the report is restricted to; null = every name. */
  readonly name: string | null;
  readonly totals: AnalyticsTotals;
  /** By attempt number, 1 to the highest that ended in the window. */
  readonly attempts: readonly AttemptRow[];
  /** From the due time of a job's first attempt to its success. */
  readonly timeToSuccess: TimeHistogram;
  /** startedAt − dueAt of every attempt. */
  readonly drift: TimeHistogram;
  readonly deadReasons: readonly { readonly reason: string; readonly count: number }[];
  /** Jobs cancelled, by the state they were cancelled in (waiting, scheduled, active). */
  readonly cancels: readonly { readonly state: string; readonly count: number }[];
  readonly byErrorClass: readonly Breakdown[];
  readonly byRule: readonly Breakdown[];
  readonly byFingerprint: readonly Breakdown[];
  readonly by: AnalyticsGroupBy | null;
  /** Present with `by`: one row per key, most failed first. */
  readonly groups: readonly AnalyticsGroup[] | null;
  readonly suggestion: AttemptsSuggestion;
}

export interface AnalyticsQuery {
  readonly queue: string;
  /** @default 'rollups' */
  readonly source?: 'rollups' | 'archive' | undefined;
  readonly windowMs: number;
  readonly name?: string | undefined;
  readonly by?: AnalyticsGroupBy | undefined;
}

type Counts = Map<string, number>;

function bump(m: Counts, key: string, by: number): void {
  m.set(key, (m.get(key) ?? 0) + by);
}

/** The report of the buckets read by `plan` (see {@link analyticsPlan}). */
export function analyticsReport(
  query: AnalyticsQuery,
  plan: AnalyticsPlan,
  buckets: readonly RollupBucket[],
): AnalyticsReport {
  // metric → key → count, for the names in scope; and per name for `by: 'name'`.
  const sums = new Map<string, Counts>();
  const perName = new Map<string, Counts>();
  const labels = new Map<string, string>();
  for (const b of buckets) {
    if (b.start < plan.from || b.start > plan.to) continue;
    for (const [field, value] of Object.entries(b.fields)) {
      const p = parseRollupField(field);
      if (!p || p.metric === ROLLUP_KEY_COUNT) continue;
      if (p.metric === ROLLUP_KEY) {
        if (p.name === 'f' && value !== '') labels.set(p.key, value);
        continue;
      }
      if (query.name !== undefined && p.name !== query.name) continue;
      const n = Number(value);
      if (!Number.isFinite(n)) continue;
      let m = sums.get(p.metric);
      if (!m) sums.set(p.metric, (m = new Map()));
      bump(m, p.key, n);
      if (query.by === 'name') {
        let pn = perName.get(p.name);
        if (!pn) perName.set(p.name, (pn = new Map()));
        bump(pn, `${p.metric}\x1f${p.key}`, n);
      }
    }
  }
  const get = (metric: string): Counts => sums.get(metric) ?? new Map();
  const rows = attemptRows(
    get(ROLLUP_ATTEMPTS),
    get(ROLLUP_FAILED),
    get(ROLLUP_STALLED),
    get(ROLLUP_SUCCEEDED),
    get(ROLLUP_DEAD),
  );
  const cancelCounts = get(ROLLUP_CANCELLED);
  const totals = totalsOf(
    rows,
    [...cancelCounts.values()].reduce((t, v) => t + v, 0),
  );
  const breakdown = (metrics: readonly string[], withLabel: boolean): Breakdown[] => {
    const [failed, dead, next, nextOk, recovered, lost] = metrics.map(get) as [
      Counts,
      Counts,
      Counts,
      Counts,
      Counts,
      Counts,
    ];
    const keys = new Set([failed, dead, next, nextOk, recovered, lost].flatMap((m) => [...m.keys()]));
    return [...keys]
      .map((key) => {
        const n = next.get(key) ?? 0;
        const ok = nextOk.get(key) ?? 0;
        return {
          key,
          label: withLabel ? (labels.get(key) ?? null) : null,
          failed: failed.get(key) ?? 0,
          dead: dead.get(key) ?? 0,
          next: n,
          nextSucceeded: ok,
          nextSuccessRate: n > 0 ? ok / n : null,
          recovered: recovered.get(key) ?? 0,
          lost: lost.get(key) ?? 0,
          jobs: null,
          jobAttempts: null,
        };
      })
      .sort((a, b) => b.failed - a.failed || b.dead - a.dead || compare(a.key, b.key));
  };
  const byErrorClass = breakdown(
    [
      ROLLUP_FAILED_CLASS,
      ROLLUP_DEAD_CLASS,
      ROLLUP_NEXT_CLASS,
      ROLLUP_NEXT_OK_CLASS,
      ROLLUP_RECOVERED_CLASS,
      ROLLUP_LOST_CLASS,
    ],
    false,
  );
  const byRule = breakdown(
    [
      ROLLUP_FAILED_RULE,
      ROLLUP_DEAD_RULE,
      ROLLUP_NEXT_RULE,
      ROLLUP_NEXT_OK_RULE,
      ROLLUP_RECOVERED_RULE,
      ROLLUP_LOST_RULE,
    ],
    false,
  );
  const byFingerprint = breakdown(
    [
      ROLLUP_FAILED_FINGERPRINT,
      ROLLUP_DEAD_FINGERPRINT,
      ROLLUP_NEXT_FINGERPRINT,
      ROLLUP_NEXT_OK_FINGERPRINT,
      ROLLUP_RECOVERED_FINGERPRINT,
      ROLLUP_LOST_FINGERPRINT,
    ],
    true,
  );
  let groups: AnalyticsGroup[] | null = null;
  if (query.by === 'name') {
    groups = [...perName]
      .map(([name, m]) => {
        const sum = (metric: string): number => {
          let t = 0;
          for (const [k, v] of m) if (k.startsWith(`${metric}\x1f`)) t += v;
          return t;
        };
        return {
          key: name,
          label: null,
          attempts: sum(ROLLUP_ATTEMPTS),
          failed: sum(ROLLUP_FAILED),
          succeeded: sum(ROLLUP_SUCCEEDED),
          dead: sum(ROLLUP_DEAD),
          cancelled: sum(ROLLUP_CANCELLED),
          next: null,
          nextSucceeded: null,
          nextSuccessRate: null,
          recovered: null,
          lost: null,
        };
      })
      .sort((a, b) => b.failed - a.failed || b.attempts - a.attempts || compare(a.key, b.key));
  } else if (query.by !== undefined) {
    const from = { errorClass: byErrorClass, rule: byRule, fingerprint: byFingerprint }[query.by];
    groups = from.map((b) => ({
      key: b.key,
      label: b.label,
      attempts: b.jobAttempts,
      failed: b.failed,
      succeeded: b.jobs === null ? null : b.recovered,
      dead: b.dead,
      cancelled: null,
      next: b.next,
      nextSucceeded: b.nextSucceeded,
      nextSuccessRate: b.nextSuccessRate,
      recovered: b.recovered,
      lost: b.lost,
    }));
  }
  return {
    queue: query.queue,
    source: query.source ?? 'rollups',
    window: {
      from: plan.from,
      to: plan.to,
      ms: query.windowMs,
      resolution: plan.resolution,
      bucketMs: plan.bucketMs,
    },
    name: query.name ?? null,
    totals,
    attempts: rows,
    timeToSuccess: timeHistogram(get(ROLLUP_TIME_TO_SUCCESS)),
    drift: timeHistogram(get(ROLLUP_DRIFT)),
    deadReasons: [...get(ROLLUP_DEAD_REASON)]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || compare(a.reason, b.reason)),
    cancels: [...cancelCounts]
      .map(([state, count]) => ({ state, count }))
      .sort((a, b) => b.count - a.count || compare(a.state, b.state)),
    byErrorClass,
    byRule,
    byFingerprint,
    by: query.by ?? null,
    groups,
    suggestion: suggestAttempts(rows, get(ROLLUP_DEAD_REASON).get('exhausted') ?? 0),
  };
}

/** A value in bucket `i` of `ROLLUP_TIME_BOUNDS_MS` (its lower bound; 0 for bucket 0). */
function bucketValue(i: number): number {
  return i === 0 ? 0 : ROLLUP_TIME_BOUNDS_MS[i - 1]!;
}

/**
 * The one bucket the archive's counts make, by the rollups' own rules: each group of first attempts
 * goes through {@link rollupIncrements} (times as a value of their bucket), times its count; the
 * attempts of jobs that retried are folded job by job through {@link rollupJobKeys} (what the job
 * remembers of its failures, as the backends keep it between attempts) and counted with it; cancels
 * as {@link rollupCancel}. Labels: every failure fingerprint's, from a recorded error. (Unlike a
 * rollup bucket, no key is folded into `(other)`: the archive keeps every key.)
 */
export function archiveBucket(plan: AnalyticsPlan, counts: ArchiveAnalyticsCounts): RollupBucket {
  const fields: Record<string, string> = {};
  const addAll = (inc: ReadonlyMap<string, number>, times = 1): void => {
    for (const [f, n] of inc) fields[f] = String(Number(fields[f] ?? 0) + n * times);
  };
  let job: string | undefined;
  let keys: RollupJobKeys | undefined;
  let firstDue = 0;
  for (const h of counts.histories) {
    if (h.job !== job) {
      job = h.job;
      keys = undefined;
      firstDue = h.dueAt;
    }
    const end: RollupEnd = {
      name: h.name,
      n: h.n,
      outcome: h.outcome,
      action: h.action as 'done' | 'retry' | 'dead',
      deadReason: h.deadReason,
      errorClass: h.errorClass,
      rule: h.rule,
      fingerprint: h.fingerprint,
      driftMs: h.startedAt - h.dueAt,
      timeToSuccessMs: h.finishedAt - firstDue,
      keys,
    };
    if (h.counted) addAll(rollupIncrements(end).counts);
    keys = rollupJobKeys(end);
  }
  for (const c of counts.cancels) addAll(rollupCancel(c.name, c.state), c.count);
  for (const r of counts.rows) {
    const inc = rollupIncrements({
      name: r.name,
      n: r.n,
      outcome: r.outcome,
      action: r.action as 'done' | 'retry' | 'dead',
      deadReason: r.deadReason,
      errorClass: r.errorClass,
      rule: r.rule,
      fingerprint: r.fingerprint,
      driftMs: bucketValue(r.driftBucket),
      timeToSuccessMs: r.timeToSuccessBucket === undefined ? undefined : bucketValue(r.timeToSuccessBucket),
    });
    addAll(inc.counts, r.count);
  }
  for (const { fingerprint, error } of counts.errors) {
    fields[rollupField(ROLLUP_KEY, 'f', fingerprint)] = fingerprintLabel(error);
  }
  return { start: plan.from, fields };
}

/**
 * The report over the archive: the rollups' report of {@link archiveBucket} (the same figures on the
 * same jobs), with what only the archive knows in the breakdowns by class, rule and fingerprint: the
 * jobs that failed with each key in the window, and all their attempts there.
 */
export function archiveAnalyticsReport(
  query: AnalyticsQuery,
  plan: AnalyticsPlan,
  counts: ArchiveAnalyticsCounts,
): AnalyticsReport {
  const base = analyticsReport({ ...query, source: 'archive' }, plan, [archiveBucket(plan, counts)]);
  const jobs = new Map(counts.jobs.map((j) => [`${j.by}\x1f${j.key}`, j]));
  const full = (by: 'errorClass' | 'rule' | 'fingerprint', list: readonly Breakdown[]): Breakdown[] =>
    list.map((b) => {
      const j = jobs.get(`${by}\x1f${b.key}`);
      return { ...b, jobs: j?.jobs ?? 0, jobAttempts: j?.attempts ?? 0 };
    });
  const byErrorClass = full('errorClass', base.byErrorClass);
  const byRule = full('rule', base.byRule);
  const byFingerprint = full('fingerprint', base.byFingerprint);
  let groups = base.groups;
  if (query.by !== undefined && query.by !== 'name') {
    const from = { errorClass: byErrorClass, rule: byRule, fingerprint: byFingerprint }[query.by];
    groups = from.map((b) => ({
      key: b.key,
      label: b.label,
      attempts: b.jobAttempts,
      failed: b.failed,
      succeeded: b.recovered,
      dead: b.dead,
      cancelled: null,
      next: b.next,
      nextSucceeded: b.nextSucceeded,
      nextSuccessRate: b.nextSuccessRate,
      recovered: b.recovered,
      lost: b.lost,
    }));
  }
  return { ...base, byErrorClass, byRule, byFingerprint, groups };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function attemptRows(a: Counts, f: Counts, y: Counts, s: Counts, d: Counts): AttemptRow[] {
  let max = 0;
  for (const m of [a, f, y, s, d]) {
    for (const k of m.keys()) {
      const n = Number(k);
      if (Number.isInteger(n) && n > max && n <= ROLLUP_MAX_ATTEMPT) max = n;
    }
  }
  const rows: AttemptRow[] = [];
  for (let n = 1; n <= max; n++) {
    const attempts = a.get(String(n)) ?? 0;
    const succeeded = s.get(String(n)) ?? 0;
    rows.push({
      n,
      attempts,
      failed: f.get(String(n)) ?? 0,
      stalled: y.get(String(n)) ?? 0,
      succeeded,
      dead: d.get(String(n)) ?? 0,
      successRate: attempts > 0 ? succeeded / attempts : null,
    });
  }
  return rows;
}

function totalsOf(rows: readonly AttemptRow[], cancelled: number): AnalyticsTotals {
  let attempts = 0;
  let failed = 0;
  let stalled = 0;
  let succeeded = 0;
  let dead = 0;
  let retries = 0;
  let wastedAttempts = 0;
  for (const r of rows) {
    attempts += r.attempts;
    failed += r.failed;
    stalled += r.stalled;
    succeeded += r.succeeded;
    dead += r.dead;
    if (r.n > 1) retries += r.attempts;
    wastedAttempts += (r.n - 1) * r.dead;
  }
  const finished = succeeded + dead;
  return {
    attempts,
    failed,
    stalled,
    succeeded,
    dead,
    cancelled,
    retries,
    wastedAttempts,
    deadLetterRate: finished > 0 ? dead / finished : null,
  };
}

/** The histogram of a time metric's bucket counts, with p50, p95 and p99 as bucket bounds. */
export function timeHistogram(counts: ReadonlyMap<string, number>): TimeHistogram {
  const bounds = ROLLUP_TIME_BOUNDS_MS;
  const buckets: HistogramBucket[] = [];
  let total = 0;
  for (let i = 0; i <= bounds.length; i++) {
    const count = counts.get(String(i)) ?? 0;
    total += count;
    buckets.push({
      fromMs: i === 0 ? 0 : bounds[i - 1]!,
      toMs: i < bounds.length ? bounds[i]! : null,
      count,
    });
  }
  const pct = (p: number): PercentileRange | null => {
    if (total === 0) return null;
    // The rank of the p-th percentile value: ceil(p × total / 100), at least 1.
    const rank = Math.max(1, Math.ceil((p * total) / 100));
    let cum = 0;
    for (const b of buckets) {
      cum += b.count;
      if (cum >= rank) return { fromMs: b.fromMs, toMs: b.toMs };
    }
    return null;
  };
  return { buckets, count: total, p50: pct(50), p95: pct(95), p99: pct(99) };
}

/** `1840` → `1,840`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** A share as a percentage with at most one decimal (`99.4%`, `0.2%`, `100%`); `floor` rounds down. */
export function formatPercent(share: number, floor = false): string {
  const p = share * 100;
  let r = (floor ? Math.floor(p * 10) : Math.round(p * 10)) / 10;
  if (r === 0 && p > 0) return p < 0.01 ? 'under 0.01%' : `${(Math.round(p * 100) / 100).toString()}%`;
  if (r === 100 && p < 100) r = 99.9;
  return `${r.toString()}%`;
}

function attemptSpan(from: number, to: number): string {
  if (from === to) return `attempt ${from}`;
  if (to === from + 1) return `attempts ${from} and ${to}`;
  return `attempts ${from} to ${to}`;
}

/**
 * The smallest `attempts` by which {@link SUGGEST_COVERAGE_PERCENT}% of the jobs that succeeded did
 * so, and what the attempts after it gave and cost:
 * "99% of the jobs that ever succeed do so by attempt 3; attempts 4 and 5 succeeded 0.2% of the time
 * (2 jobs) and cost 1,840 attempts".
 */
export function suggestAttempts(
  rows: readonly AttemptRow[],
  exhausted = rows.reduce((t, r) => t + r.dead, 0),
): AttemptsSuggestion {
  let succeeded = 0;
  let dead = 0;
  for (const r of rows) {
    succeeded += r.succeeded;
    dead += r.dead;
  }
  if (rows.every((r) => r.attempts === 0)) {
    return { attempts: null, reason: 'no attempt ended in the window: nothing to suggest' };
  }
  if (succeeded === 0) {
    return {
      attempts: null,
      reason: `no job succeeded in the window (${formatCount(dead)} dead-lettered): the record cannot tell how many attempts would help`,
    };
  }
  let cum = 0;
  let k = rows.length;
  for (const r of rows) {
    cum += r.succeeded;
    if (cum * 100 >= SUGGEST_COVERAGE_PERCENT * succeeded) {
      k = r.n;
      break;
    }
  }
  const covered = rows.slice(0, k).reduce((t, r) => t + r.succeeded, 0);
  const head = `${formatPercent(covered / succeeded, true)} of the jobs that ever succeed do so by attempt ${k}`;
  const later = rows.filter((r) => r.n > k && r.attempts > 0);
  if (later.length === 0) {
    const last = rows[k - 1]!;
    // Jobs that ran out of attempts after the last one made (not those a permanent error killed).
    const outOfAttempts = Math.min(last.dead, exhausted);
    if (outOfAttempts > 0 && last.succeeded > 0 && k === rows.length) {
      return {
        attempts: k,
        reason: `${head}; attempt ${k}, the last made, still succeeded ${formatPercent(last.successRate ?? 0)} of the time and ${formatCount(outOfAttempts)} ${outOfAttempts === 1 ? 'job' : 'jobs'} ran out of attempts after it: more attempts might save some, which this record cannot tell`,
      };
    }
    return { attempts: k, reason: `${head}; no later attempt was made in the window` };
  }
  const cost = later.reduce((t, r) => t + r.attempts, 0);
  const gained = later.reduce((t, r) => t + r.succeeded, 0);
  const span = attemptSpan(later[0]!.n, later[later.length - 1]!.n);
  const maxN = later[later.length - 1]!.n;
  const more = maxN === ROLLUP_MAX_ATTEMPT ? ' (and later)' : '';
  return {
    attempts: k,
    reason: `${head}; ${span}${more} succeeded ${formatPercent(gained / cost)} of the time (${formatCount(gained)} ${gained === 1 ? 'job' : 'jobs'}) and cost ${formatCount(cost)} ${cost === 1 ? 'attempt' : 'attempts'}`,
  };
}

/** How long rollups are kept, for documentation and error messages. */
export const ROLLUP_KEEP_TEXT = `minute buckets ${formatDuration(ROLLUP_MINUTE_KEEP_MS)}, hour buckets ${formatDuration(ROLLUP_HOUR_KEEP_MS)}`;

const WINDOW_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?$/;
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * A window as given (`90` ms, or a text: `15m`, `2h`, `7d`, `500ms`), in ms; undefined when not a
 * window. Range checks are the caller's ({@link ANALYTICS_MAX_WINDOW_MS}).
 */
export function parseWindow(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const m = WINDOW_RE.exec(value.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
