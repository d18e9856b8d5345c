/**
 * Reading recorded history back out of the PostgreSQL archive for the retry intelligence: the
 * analytics counts (the rollups' dimensions, grouped by SQL over `attempts`), and the finished
 * jobs in keyset pages for the what-if and the audit. `PgArchive` exposes these as the optional
 * `JobArchive` methods; the pure code that turns them into reports is the very same as for the
 * rollups and the live backend (src/analytics.ts, src/whatif.ts, src/audit.ts).
 * @module
 */
import type pg from 'pg';

import type { ArchiveAnalyticsCounts, ArchiveAnalyticsQuery, RecordedKey } from '../archive.js';
import type { ResolvedHistoryScope } from '../recorded.js';
import { ROLLUP_MAX_ATTEMPT, ROLLUP_TIME_BOUNDS_MS } from '../rollup.js';
import { POISON_FINGERPRINT } from '../transitions.js';
import type { Attempt, ErrorInfo, Job } from '../types.js';

/** The error whose label is the poison fingerprint's (`POISON_LABEL`). */
const POISON_ERROR: ErrorInfo = {
  name: 'LeaseExpired',
  code: 'LEASE_EXPIRED',
  message: 'lease expired too many times: poison',
};

/**
 * Outcomes of the attempts the rollups count: those the finish transition ends, and stalls (the
 * recovery of an expired lease). A cancelled attempt counts as a cancel of its job, not an attempt.
 */
export const ROLLUP_COUNTED_OUTCOMES = [
  'succeeded',
  'failed',
  'timed_out',
  'interrupted',
  'rate_limited',
  'stalled',
];

/**
 * The analytics counts of `queue` over attempts finished in [from, to), in one statement:
 *
 * - `counts`: first attempts (nothing remembered before them) grouped by every dimension the
 *   rollups count by (job name, attempt number, outcome, decision, dead reason, class, rule,
 *   fingerprint, drift bucket, time-to-success bucket), with their count;
 * - `hist`: for the jobs with a later attempt in the window, each of their attempts up to the last
 *   in the window, in order (what the job remembers of its failures decides what the rollups
 *   attribute each outcome to: folded in TypeScript by the rollups' own `rollupJobKeys`);
 * - `cancels`: jobs cancelled in the window by name and the state they were cancelled in (active
 *   when their last attempt was cancelled, else scheduled when not due yet, else waiting);
 * - `jobs`: per error class, rule and fingerprint the jobs that failed with it, and their attempts;
 * - `labels`: a recorded error per failure fingerprint (its label is computed from it).
 *
 * The attempts come from `attempts_queue_finished` (queue, finished_at), the job name from the jobs'
 * primary key, the decision from the record, parsed once and only for attempts that did not succeed
 * (a success is always `done`). A poison death (a stall that dead-letters) has the poison fingerprint,
 * as the rollups count it.
 */
export async function archiveAnalyticsCounts(
  pool: pg.Pool,
  s: string,
  queue: string,
  q: ArchiveAnalyticsQuery,
): Promise<ArchiveAnalyticsCounts> {
  const params: unknown[] = [
    queue,
    q.from,
    q.to,
    [...ROLLUP_TIME_BOUNDS_MS],
    ROLLUP_COUNTED_OUTCOMES,
    POISON_FINGERPRINT,
  ];
  const p = (v: unknown): string => `$${params.push(v)}`;
  const nameCond = q.name === undefined ? '' : `AND j.name = ${p(q.name)}`;
  const max = p(ROLLUP_MAX_ATTEMPT);
  const decided = (a: string): string =>
    `CASE WHEN ${a}.outcome = 'succeeded' THEN 'done' ELSE d ->> 'action' END`;
  const fp = (a: string): string =>
    `CASE WHEN ${a}.outcome = 'stalled' AND d ->> 'action' = 'dead' THEN $6 ELSE ${a}.fingerprint END`;
  const sql = `WITH w AS MATERIALIZED (
  SELECT job_id, name, n, outcome, error_class, rule, ${fp('x')} AS fingerprint, finished_at, due_at, drift,
    ${decided('x')} AS action, d ->> 'reason' AS reason
  FROM (
    -- The record is parsed once, and only for an attempt that did not succeed (its decision).
    SELECT a.job_id, j.name, a.n, a.outcome, a.error_class, a.rule, a.fingerprint, a.finished_at, a.due_at,
      a.started_at - a.due_at AS drift, CASE WHEN a.outcome <> 'succeeded' THEN a.rec -> 'decision' END AS d
    FROM ${s}.attempts a JOIN ${s}.jobs j ON j.queue = a.queue AND j.id = a.job_id
    WHERE a.queue = $1 AND a.finished_at >= $2 AND a.finished_at < $3 AND a.outcome = ANY ($5::text[]) ${nameCond}
    OFFSET 0 -- not pulled up: \`d\` stays one expression, evaluated once
  ) x
), counts AS (
  SELECT name, least(n, ${max}) AS n, outcome, action, CASE WHEN action = 'dead' THEN coalesce(reason, '') END AS reason,
    error_class, rule, fingerprint, width_bucket(drift, $4::bigint[]) AS dz,
    -- Time to success: from the due time of the job's first attempt, this one.
    CASE WHEN action = 'done' AND outcome = 'succeeded' THEN width_bucket(finished_at - due_at, $4::bigint[]) END AS tz,
    count(*) AS c
  FROM w WHERE n = 1 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
), later AS (
  SELECT job_id, min(n) AS lo FROM w GROUP BY job_id HAVING max(n) > 1
), hist AS (
  -- The window's attempts of those jobs (parsed already), and their attempts before the window.
  SELECT w.job_id, w.name, w.n, w.outcome, w.error_class, w.rule, w.fingerprint, w.action, w.reason,
    w.due_at, w.due_at + w.drift AS started_at, w.finished_at, w.n > 1 AS counted
  FROM w JOIN later USING (job_id)
  UNION ALL
  SELECT h.job_id, j.name, h.n, h.outcome, h.error_class, h.rule, ${fp('h')}, ${decided('h')}, d ->> 'reason',
    h.due_at, h.started_at, h.finished_at, false
  FROM (
    SELECT a.*, CASE WHEN a.outcome <> 'succeeded' THEN a.rec -> 'decision' END AS d
    FROM later l JOIN ${s}.attempts a ON a.queue = $1 AND a.job_id = l.job_id AND a.n < l.lo
    WHERE a.outcome = ANY ($5::text[])
    OFFSET 0
  ) h JOIN ${s}.jobs j ON j.queue = $1 AND j.id = h.job_id
), cancels AS (
  SELECT j.name, CASE
      WHEN (SELECT a.outcome FROM ${s}.attempts a WHERE a.queue = $1 AND a.job_id = j.id ORDER BY a.n DESC LIMIT 1) = 'cancelled' THEN 'active'
      WHEN (j.doc ->> 'dueAt')::bigint > j.finished_at THEN 'scheduled'
      ELSE 'waiting' END AS state, count(*) AS c
  FROM ${s}.jobs j
  WHERE j.queue = $1 AND j.state = 'cancelled' AND j.finished_at >= $2 AND j.finished_at < $3 ${nameCond}
  GROUP BY 1, 2
), js AS (
  SELECT job_id, count(*) AS attempts FROM w GROUP BY job_id
), k AS (
  SELECT 'errorClass' AS d, job_id, error_class AS k FROM w
    WHERE outcome IN ('failed', 'timed_out', 'stalled') AND error_class IS NOT NULL
  UNION
  SELECT 'rule', job_id, rule FROM w WHERE outcome IN ('failed', 'timed_out', 'stalled') AND rule IS NOT NULL
  UNION
  SELECT 'fingerprint', job_id, fingerprint FROM w
    WHERE (outcome IN ('failed', 'timed_out', 'stalled') OR action = 'dead') AND fingerprint IS NOT NULL
), jobs AS (
  SELECT k.d, k.k, count(*) AS jobs, sum(js.attempts) AS attempts FROM k JOIN js USING (job_id) GROUP BY k.d, k.k
), fp AS (
  SELECT fingerprint, min(job_id) AS job FROM w
  WHERE fingerprint IS NOT NULL AND fingerprint <> $6 AND (outcome IN ('failed', 'timed_out') OR action = 'dead')
  GROUP BY fingerprint
)
SELECT
  (SELECT coalesce(json_agg(json_build_array(name, n, outcome, action, reason, error_class, rule, fingerprint, dz, tz, c)), '[]') FROM counts) AS counts,
  (SELECT coalesce(json_agg(json_build_array(job_id, name, n, outcome, action, reason, error_class, rule, fingerprint,
     due_at, started_at, finished_at, counted)), '[]') FROM hist) AS hist,
  (SELECT coalesce(json_agg(json_build_array(name, state, c)), '[]') FROM cancels) AS cancels,
  (SELECT coalesce(json_agg(json_build_array(d, k, jobs, attempts)), '[]') FROM jobs) AS jobs,
  (SELECT coalesce(json_agg(json_build_array(fp.fingerprint, (
     SELECT a.rec -> 'error' FROM ${s}.attempts a
     WHERE a.queue = $1 AND a.job_id = fp.job AND a.fingerprint = fp.fingerprint AND a.rec -> 'error' IS NOT NULL LIMIT 1
   ))), '[]') FROM fp) AS labels`;
  type Text = string | null;
  type Row = {
    counts: [string, number, string, Text, Text, Text, Text, Text, number, number | null, number][];
    hist: [string, string, number, string, Text, Text, Text, Text, Text, number, number, number, boolean][];
    cancels: [string, string, number][];
    jobs: [string, string, number, number][];
    labels: [string, ErrorInfo | null][];
  };
  const r = await pool.query<Row>(sql, params);
  const row = r.rows[0]!;
  const opt = (v: Text): string | undefined => v ?? undefined;
  const errors = row.labels.flatMap(([fingerprint, error]) => (error ? [{ fingerprint, error }] : []));
  if (
    row.counts.some((c) => c[7] === POISON_FINGERPRINT) ||
    row.hist.some((h) => h[8] === POISON_FINGERPRINT)
  ) {
    errors.push({ fingerprint: POISON_FINGERPRINT, error: POISON_ERROR });
  }
  return {
    rows: row.counts.map(([name, n, outcome, action, reason, errorClass, rule, fingerprint, dz, tz, c]) => ({
      name,
      n,
      outcome,
      action: action ?? '',
      deadReason: opt(reason),
      errorClass: opt(errorClass),
      rule: opt(rule),
      fingerprint: opt(fingerprint),
      driftBucket: dz,
      timeToSuccessBucket: tz ?? undefined,
      count: Number(c),
    })),
    // In job order, from each job's first attempt (sorted here: cheaper than in the statement).
    histories: row.hist
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[2] - b[2]))
      .map(
        ([
          job,
          name,
          n,
          outcome,
          action,
          reason,
          errorClass,
          rule,
          fingerprint,
          dueAt,
          startedAt,
          finishedAt,
          counted,
        ]) => ({
          job,
          name,
          n,
          outcome,
          action: action ?? '',
          deadReason: action === 'dead' ? (reason ?? '') : undefined,
          errorClass: opt(errorClass),
          rule: opt(rule),
          fingerprint: opt(fingerprint),
          dueAt: Number(dueAt),
          startedAt: Number(startedAt),
          finishedAt: Number(finishedAt),
          counted,
        }),
      ),
    cancels: row.cancels.map(([name, state, count]) => ({ name, state, count: Number(count) })),
    jobs: row.jobs.map(([by, key, jobs, attempts]) => ({
      by: by as 'errorClass' | 'rule' | 'fingerprint',
      key,
      jobs: Number(jobs),
      attempts: Number(attempts),
    })),
    errors,
  };
}

/** The conditions of finished jobs in a what-if or audit scope (jobs table `j`). */
function scopeWhere(scope: ResolvedHistoryScope, p: (v: unknown) => string): string[] {
  const where = [`j.queue = $1`, `j.state IN ('completed', 'dead')`];
  if (scope.name !== undefined) where.push(`j.name = ${p(scope.name)}`);
  if (scope.from !== undefined) where.push(`j.finished_at >= ${p(scope.from)}`);
  if (scope.to !== undefined) where.push(`j.finished_at <= ${p(scope.to)}`);
  return where;
}

/**
 * Finished (completed and dead) jobs of `queue` in `scope`, most recently finished first (finish
 * time, then id in byte order, both descending), after `after`: at most `limit`, with their
 * attempts. Keyset pages over `jobs_queue_finished_id` (or `jobs_queue_name_finished_id` with a
 * name): a page costs the same at any depth.
 */
export async function archiveRecordedPage(
  pool: pg.Pool,
  s: string,
  queue: string,
  scope: ResolvedHistoryScope,
  after: RecordedKey | undefined,
  limit: number,
): Promise<{ jobs: Job[]; next: RecordedKey | undefined }> {
  const params: unknown[] = [queue];
  const p = (v: unknown): string => `$${params.push(v)}`;
  const where = scopeWhere(scope, p);
  if (after !== undefined) {
    where.push(`(j.finished_at, j.id COLLATE "C") < (${p(after.finishedAt)}, ${p(after.id)} COLLATE "C")`);
  }
  const r = await pool.query<{ doc: Omit<Job, 'attempts'>; attempts: Attempt[]; f: string; id: string }>(
    `SELECT j.doc, j.finished_at AS f, j.id, coalesce((SELECT json_agg(a.rec ORDER BY a.n) FROM ${s}.attempts a
       WHERE a.queue = j.queue AND a.job_id = j.id), '[]'::json) AS attempts
     FROM ${s}.jobs j WHERE ${where.join(' AND ')}
     ORDER BY j.finished_at DESC, j.id COLLATE "C" DESC LIMIT ${p(limit + 1)}`,
    params,
  );
  const rows = r.rows.slice(0, limit);
  const jobs = rows.map((row) => ({ ...row.doc, attempts: row.attempts, archived: true }) as Job);
  const last = rows[rows.length - 1];
  return {
    jobs,
    next: r.rows.length > limit && last ? { finishedAt: Number(last.f), id: last.id } : undefined,
  };
}

/**
 * The drift (startedAt − dueAt) of every attempt not triggered by hand of the `limit` most
 * recently finished jobs in `scope`: what the audit's drift fence is computed from, before the
 * jobs themselves are streamed.
 */
export async function archiveRecordedDrifts(
  pool: pg.Pool,
  s: string,
  queue: string,
  scope: ResolvedHistoryScope,
): Promise<number[]> {
  const params: unknown[] = [queue];
  const p = (v: unknown): string => `$${params.push(v)}`;
  const where = scopeWhere(scope, p);
  const r = await pool.query<{ d: string }>(
    `SELECT a.started_at - a.due_at AS d
     FROM (SELECT j.id FROM ${s}.jobs j WHERE ${where.join(' AND ')}
           ORDER BY j.finished_at DESC, j.id COLLATE "C" DESC LIMIT ${p(scope.limit)}) j
     JOIN ${s}.attempts a ON a.queue = $1 AND a.job_id = j.id
     WHERE a.trigger <> 'manual'`,
    params,
  );
  return r.rows.map((x) => Number(x.d));
}
