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
import type { Attempt, ErrorInfo, Job } from '../types.js';

/**
 * Outcomes of attempts the finish transition ends, hence counted by the rollups (a stall or a
 * cancel ends an attempt in another transition, which writes no rollup).
 */
export const ROLLUP_COUNTED_OUTCOMES = ['succeeded', 'failed', 'timed_out', 'interrupted', 'rate_limited'];

/**
 * The analytics counts of `queue` over attempts finished in [from, to): one row per distinct
 * (job name, attempt number, outcome, decision, dead reason, class, rule, fingerprint, drift
 * bucket, time-to-success bucket) with its count; a sample error per failure fingerprint (for its
 * label); and per error class, rule and fingerprint the jobs that failed with it, their attempts in
 * the window and how many of them succeeded or were dead-lettered.
 *
 * One statement. The attempts come from `attempts_queue_finished` (queue, finished_at); the job
 * name from the jobs' primary key; the time to success from the first attempt's due time (the
 * attempts' primary key); the decision is read from the record only for attempts that did not
 * succeed (a success is always `done`).
 */
export async function archiveAnalyticsCounts(
  pool: pg.Pool,
  s: string,
  queue: string,
  q: ArchiveAnalyticsQuery,
): Promise<ArchiveAnalyticsCounts> {
  const params: unknown[] = [queue, q.from, q.to, [...ROLLUP_TIME_BOUNDS_MS], ROLLUP_COUNTED_OUTCOMES];
  const p = (v: unknown): string => `$${params.push(v)}`;
  const nameCond = q.name === undefined ? '' : `AND j.name = ${p(q.name)}`;
  const max = p(ROLLUP_MAX_ATTEMPT);
  const sql = `WITH w AS MATERIALIZED (
  SELECT job_id, name, n, outcome, error_class, rule, fingerprint, finished_at, due_at, drift,
    CASE WHEN outcome = 'succeeded' THEN 'done' ELSE d ->> 'action' END AS action,
    d ->> 'reason' AS reason
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
    -- Time to success from the due time of the job's first attempt: this one's at attempt 1.
    CASE WHEN action = 'done' AND outcome = 'succeeded' THEN width_bucket(finished_at - CASE WHEN n = 1 THEN due_at ELSE (
      SELECT f.due_at FROM ${s}.attempts f WHERE f.queue = $1 AND f.job_id = w.job_id ORDER BY f.n LIMIT 1
    ) END, $4::bigint[]) END AS tz,
    count(*) AS c
  FROM w GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
), js AS (
  SELECT job_id, count(*) AS attempts, bool_or(action = 'done' AND outcome = 'succeeded') AS ok,
    bool_or(action = 'dead') AS dead
  FROM w GROUP BY job_id
), k AS (
  SELECT 'errorClass' AS d, job_id, error_class AS k FROM w
    WHERE outcome IN ('failed', 'timed_out') AND error_class IS NOT NULL
  UNION
  SELECT 'rule', job_id, rule FROM w WHERE outcome IN ('failed', 'timed_out') AND rule IS NOT NULL
  UNION
  SELECT 'fingerprint', job_id, fingerprint FROM w WHERE outcome IN ('failed', 'timed_out') AND fingerprint IS NOT NULL
), jobs AS (
  SELECT k.d, k.k, count(*) AS jobs, sum(js.attempts) AS attempts, count(*) FILTER (WHERE js.ok) AS ok,
    count(*) FILTER (WHERE js.dead) AS dead
  FROM k JOIN js USING (job_id) GROUP BY k.d, k.k
), fp AS (
  SELECT fingerprint, min(job_id) AS job FROM w
  WHERE fingerprint IS NOT NULL AND (outcome IN ('failed', 'timed_out') OR action = 'dead') GROUP BY fingerprint
)
SELECT
  (SELECT coalesce(json_agg(json_build_array(name, n, outcome, action, reason, error_class, rule, fingerprint, dz, tz, c)), '[]') FROM counts) AS counts,
  (SELECT coalesce(json_agg(json_build_array(d, k, jobs, attempts, ok, dead)), '[]') FROM jobs) AS jobs,
  (SELECT coalesce(json_agg(json_build_array(fp.fingerprint, (
     SELECT a.rec -> 'error' FROM ${s}.attempts a
     WHERE a.queue = $1 AND a.job_id = fp.job AND a.fingerprint = fp.fingerprint AND a.rec -> 'error' IS NOT NULL LIMIT 1
   ))), '[]') FROM fp) AS labels`;
  type Row = {
    counts: [
      string,
      number,
      string,
      string | null,
      string | null,
      string | null,
      string | null,
      string | null,
      number,
      number | null,
      number,
    ][];
    jobs: [string, string, number, number, number, number][];
    labels: [string, ErrorInfo | null][];
  };
  const r = await pool.query<Row>(sql, params);
  const row = r.rows[0]!;
  return {
    rows: row.counts.map(([name, n, outcome, action, reason, errorClass, rule, fingerprint, dz, tz, c]) => ({
      name,
      n,
      outcome,
      action: action ?? '',
      deadReason: reason ?? undefined,
      errorClass: errorClass ?? undefined,
      rule: rule ?? undefined,
      fingerprint: fingerprint ?? undefined,
      driftBucket: dz,
      timeToSuccessBucket: tz ?? undefined,
      count: Number(c),
    })),
    jobs: row.jobs.map(([by, key, jobs, attempts, succeeded, dead]) => ({
      by: by as 'errorClass' | 'rule' | 'fingerprint',
      key,
      jobs: Number(jobs),
      attempts: Number(attempts),
      succeeded: Number(succeeded),
      dead: Number(dead),
    })),
    errors: row.labels.flatMap(([fingerprint, error]) => (error ? [{ fingerprint, error }] : [])),
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
