/**
 * The PostgreSQL archive: finished jobs and every attempt, kept for months (see schema.ts).
 * Driver: `pg` (node-postgres): pooled, pure JavaScript, the most used PostgreSQL client of Node.
 *
 * Writes are idempotent, so that an archiver killed mid-batch and restarted leaves every job once:
 * a job row is keyed by (queue, id) and upserted (a later finish of the same job, after a replay,
 * replaces it; an older read never replaces a newer one), an attempt by (queue, job id, n) and
 * inserted only if absent (attempts are never rewritten, so a replay appends). One batch is one
 * statement (data-modifying CTEs over `json_to_recordset` of the batch sent as two JSON arrays):
 * atomic, one round trip, one JSON.stringify per array (no per-element array-literal escaping).
 * @module
 */
import pg from 'pg';

import type {
  ArchiveAnalyticsCounts,
  ArchiveAnalyticsQuery,
  ArchivedDeadGroup,
  DeadKey,
  HistoryArchive,
  JobArchive,
  RecordedKey,
} from '../archive.js';
import type { DeadFilter, DeadSummary } from '../backend.js';
import { ValidationError } from '../errors.js';
import { errorFingerprint, fingerprintLabel } from '../fingerprint.js';
import { FINISHED_STATES, type JobQuery, type SearchKey } from '../job-index.js';
import type { ResolvedHistoryScope } from '../recorded.js';
import { countsAsFailure } from '../transitions.js';
import type { Attempt, DeadReason, ErrorInfo, Job } from '../types.js';
import { archiveAnalyticsCounts, archiveRecordedDrifts, archiveRecordedPage } from './pg-history.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export interface PgArchiveOptions {
  /** A connection URL (`postgres://…`) or a pool the caller owns. */
  readonly connection: string | pg.Pool;
  /** The PostgreSQL schema that holds the tables. @default 'retraced' */
  readonly schema?: string;
  /** Connections of the pool opened from a URL. @default 4 */
  readonly poolSize?: number;
}

export interface ArchiveStats {
  readonly jobs: number;
  readonly attempts: number;
  /** Bytes of both tables with their indexes and TOAST (`pg_total_relation_size`). */
  readonly bytes: number;
  /** Jobs deleted by the archive's own retention (`prune`), ever. */
  readonly pruned: number;
  readonly schemaVersion: number;
}

/** Attempt record fields with a column of their own, or known to be part of the record. */
const KNOWN_ATTEMPT_FIELDS = new Set([
  'n',
  'trigger',
  'dueAt',
  'startedAt',
  'finishedAt',
  'driftMs',
  'workerId',
  'outcome',
  'error',
  'errorClass',
  'rule',
  'classifiedBy',
  'decision',
  'manual',
]);

/** jsonb refuses an unpaired surrogate escape. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Text for a column: PostgreSQL text refuses NUL, and `->>` an unpaired surrogate. (The whole
 * record keeps both, in json.)
 */
function col(s: string | undefined): string | null {
  if (s === undefined) return null;
  const t = s.includes('\0') ? s.replaceAll('\0', '') : s;
  return t.replace(LONE_SURROGATE, '\ufffd');
}

/** The fields of an attempt beyond the known ones, as jsonb text (no NUL, well-formed), or null. */
export function attemptFacts(a: Attempt): string | null {
  let facts: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(a)) {
    if (KNOWN_ATTEMPT_FIELDS.has(k)) continue;
    (facts ??= {})[col(k) as string] = v;
  }
  if (!facts) return null;
  return JSON.stringify(facts, (_k, v: unknown) =>
    typeof v === 'string' ? (col(v) as string).replace(LONE_SURROGATE, '\ufffd') : v,
  );
}

export class PgArchive implements JobArchive, HistoryArchive {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly #ownsPool: boolean;
  readonly #s: string;

  constructor(options: PgArchiveOptions) {
    const schema = options.schema ?? 'retraced';
    if (!SCHEMA_RE.test(schema)) {
      throw new ValidationError('schema', 'a lower-case identifier: [a-z_][a-z0-9_]{0,62}', schema);
    }
    this.schema = schema;
    this.#s = `"${schema}"`;
    if (typeof options.connection === 'string') {
      this.pool = new pg.Pool({ connectionString: options.connection, max: options.poolSize ?? 4 });
      this.#ownsPool = true;
    } else {
      this.pool = options.connection;
      this.#ownsPool = false;
    }
    // An idle client's error (the server restarted) is reported by the next query instead.
    this.pool.on('error', () => undefined);
  }

  /** Applies the migrations not applied yet; returns the schema version. */
  async migrate(): Promise<number> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      // One migrator at a time per schema (the lock is released with the transaction).
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`retraced-archive:${this.schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.#s}`);
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${this.#s}.schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const r = await c.query<{ v: number | null }>(
        `SELECT max(version) AS v FROM ${this.#s}.schema_version`,
      );
      const current = r.rows[0]?.v ?? 0;
      if (current > SCHEMA_VERSION) {
        throw new Error(
          `the archive schema "${this.schema}" is at version ${current}, newer than this ReTraced knows (${SCHEMA_VERSION}): upgrade ReTraced`,
        );
      }
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        await c.query(m.sql.replaceAll('{s}', this.#s));
        await c.query(`INSERT INTO ${this.#s}.schema_version (version, description) VALUES ($1, $2)`, [
          m.version,
          m.description,
        ]);
      }
      await c.query('COMMIT');
      return SCHEMA_VERSION;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  /**
   * Archives finished jobs of one queue with all their attempts, in one statement. Returns how many
   * job rows were written and how many attempts were new.
   */
  async write(queue: string, jobs: readonly Job[]): Promise<{ jobs: number; attempts: number }> {
    if (jobs.length === 0) return { jobs: 0, attempts: 0 };
    // Sorted, so that two writers of overlapping batches lock rows in one order (no deadlock).
    const sorted = [...jobs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // The batch as two JSON arrays (one JSON.stringify each, parsed once by PostgreSQL): no
    // per-element escaping into array literals. `doc` and `rec` travel as JSON text inside them
    // (a string: PostgreSQL refuses to read any field of an element holding a \u0000 escape, and
    // a string of JSON text holds none), cast back to json: their exact text.
    const J: unknown[] = [];
    const A: unknown[] = [];
    for (const job of sorted) {
      const { attempts, ...rest } = job;
      const last = attempts[attempts.length - 1];
      J.push({
        id: col(job.id),
        name: col(job.name),
        state: job.state,
        c: job.createdAt,
        f: job.finishedAt ?? last?.finishedAt ?? job.createdAt,
        n: attempts.length,
        r: job.dead?.reason ?? null,
        fp: col(job.dead?.fingerprint),
        code: col(job.dead?.error?.code ?? last?.error?.code),
        doc: JSON.stringify(rest),
      });
      for (const a of attempts) {
        A.push({
          job: col(job.id),
          n: a.n,
          t: a.trigger,
          o: a.outcome,
          cls: a.errorClass ?? null,
          rule: col(a.rule),
          code: col(a.error?.code),
          due: a.dueAt,
          s: a.startedAt,
          f: a.finishedAt,
          w: col(a.workerId),
          facts: attemptFacts(a),
          rec: JSON.stringify(a),
          // The fingerprint the worker indexed the failure under (the search's `f:` facet).
          // Every failure (failed or timed out), as the worker sends it to the finish transition.
          fp: countsAsFailure(a.outcome) && a.error ? errorFingerprint(a.error) : null,
        });
      }
    }
    const r = await this.pool.query<{ jobs: string; attempts: string }>(writeSql(this.#s), [
      queue,
      JSON.stringify(J),
      JSON.stringify(A),
    ]);
    const row = r.rows[0];
    return { jobs: Number(row?.jobs ?? 0), attempts: Number(row?.attempts ?? 0) };
  }

  async getJob(queue: string, id: string): Promise<Job | null> {
    const s = this.#s;
    const r = await this.pool.query<{ doc: Omit<Job, 'attempts'>; attempts: Attempt[] }>(
      `SELECT j.doc, coalesce((SELECT json_agg(a.rec ORDER BY a.n) FROM ${s}.attempts a
         WHERE a.queue = j.queue AND a.job_id = j.id), '[]'::json) AS attempts
       FROM ${s}.jobs j WHERE j.queue = $1 AND j.id = $2`,
      [queue, id],
    );
    const row = r.rows[0];
    if (!row) return null;
    return { ...row.doc, attempts: row.attempts, archived: true };
  }

  /**
   * Archived jobs of `queue` matching `query`, newest created first (created_at, then id in byte
   * order, both descending: the order of the backends' search), after `after`. Every filter of
   * `JobQuery` is a condition here: the error filters (class, rule, code, fingerprint) and the
   * trigger match any attempt of the job, as on the backends; the fingerprint also matches the
   * dead-letter fingerprint (poison). Reads at most `limit` jobs; `next` when more may follow.
   */
  async searchJobs(
    queue: string,
    query: JobQuery,
    after: SearchKey | undefined,
    limit: number,
  ): Promise<{ jobs: Job[]; next: SearchKey | undefined }> {
    if (!FINISHED_STATES.includes(query.state)) return { jobs: [], next: undefined };
    const s = this.#s;
    const params: unknown[] = [queue, query.state];
    const p = (v: unknown): string => `$${params.push(v)}`;
    const where = ['j.queue = $1', 'j.state = $2'];
    const anyAttempt = (cond: string): void => {
      where.push(
        `EXISTS (SELECT 1 FROM ${s}.attempts a WHERE a.queue = j.queue AND a.job_id = j.id AND ${cond})`,
      );
    };
    if (query.name !== undefined) where.push(`j.name = ${p(col(query.name))}`);
    if (query.errorClass !== undefined) anyAttempt(`a.error_class = ${p(query.errorClass)}`);
    if (query.rule !== undefined) anyAttempt(`a.rule = ${p(col(query.rule))}`);
    if (query.errorCode !== undefined) anyAttempt(`a.error_code = ${p(col(query.errorCode))}`);
    if (query.fingerprint !== undefined) {
      const f = p(col(query.fingerprint));
      where.push(
        `(j.fingerprint = ${f} OR EXISTS (SELECT 1 FROM ${s}.attempts a WHERE a.queue = j.queue AND a.job_id = j.id AND a.fingerprint = ${f}))`,
      );
    }
    if (query.trigger !== undefined) anyAttempt(`a.trigger = ${p(query.trigger)}`);
    if (query.minAttempts !== undefined) where.push(`j.attempt_count >= ${p(query.minAttempts)}`);
    if (query.maxAttempts !== undefined) where.push(`j.attempt_count <= ${p(query.maxAttempts)}`);
    if (query.from !== undefined) where.push(`j.finished_at >= ${p(query.from)}`);
    if (query.to !== undefined) where.push(`j.finished_at <= ${p(query.to)}`);
    // The data as its JSON text (json keeps the text it was given: JSON.stringify's).
    if (query.text !== undefined) where.push(`strpos((j.doc -> 'data')::text, ${p(query.text)}) > 0`);
    if (after !== undefined) {
      where.push(`(j.created_at, j.id COLLATE "C") < (${p(after.createdAt)}, ${p(after.id)} COLLATE "C")`);
    }
    const r = await this.pool.query<{ doc: Omit<Job, 'attempts'>; attempts: Attempt[] }>(
      `SELECT j.doc, coalesce((SELECT json_agg(a.rec ORDER BY a.n) FROM ${s}.attempts a
         WHERE a.queue = j.queue AND a.job_id = j.id), '[]'::json) AS attempts
       FROM ${s}.jobs j WHERE ${where.join(' AND ')}
       ORDER BY j.created_at DESC, j.id COLLATE "C" DESC LIMIT ${p(limit + 1)}`,
      params,
    );
    const rows = r.rows.slice(0, limit);
    const jobs = rows.map((row) => ({ ...row.doc, attempts: row.attempts, archived: true }) as Job);
    const last = jobs[jobs.length - 1];
    return {
      jobs,
      next: r.rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : undefined,
    };
  }

  /** The analytics counts over the archive (see `archiveAnalyticsCounts` in pg-history.ts). */
  analyticsCounts(queue: string, query: ArchiveAnalyticsQuery): Promise<ArchiveAnalyticsCounts> {
    return archiveAnalyticsCounts(this.pool, this.#s, queue, query);
  }

  /** Finished jobs for the what-if and the audit, in keyset pages (see pg-history.ts). */
  recordedPage(
    queue: string,
    scope: ResolvedHistoryScope,
    after: RecordedKey | undefined,
    limit: number,
  ): Promise<{ jobs: Job[]; next: RecordedKey | undefined }> {
    return archiveRecordedPage(this.pool, this.#s, queue, scope, after, limit);
  }

  /** The drifts the audit's fence is computed from (see pg-history.ts). */
  recordedDrifts(queue: string, scope: ResolvedHistoryScope): Promise<number[]> {
    return archiveRecordedDrifts(this.pool, this.#s, queue, scope);
  }

  /**
   * Archived dead jobs of `queue` matching `filter`, most recently dead first (finished_at, which
   * is the dead-letter time, then id in byte order: the dead set's order on the backends), after
   * `after`. The error code is the job's deciding error's (`jobs.error_code`), as the backends'.
   */
  async listDead(
    queue: string,
    filter: DeadFilter,
    after: DeadKey | undefined,
    limit: number,
  ): Promise<DeadSummary[]> {
    const { where, params, p } = deadWhere(queue, filter);
    if (after !== undefined) {
      where.push(`(j.finished_at, j.id COLLATE "C") < (${p(after.at)}, ${p(after.id)} COLLATE "C")`);
    }
    const r = await this.pool.query<DeadRow>(
      `SELECT j.id, j.name, j.dead_reason, j.finished_at, j.fingerprint, j.error_code FROM ${this.#s}.jobs j
       WHERE ${where.join(' AND ')} ORDER BY j.finished_at DESC, j.id COLLATE "C" DESC LIMIT ${p(limit)}`,
      params,
    );
    return r.rows.map(deadSummaryOf);
  }

  /**
   * Archived dead jobs of `queue` matching `filter`, grouped by fingerprint (one statement: counts
   * and first/last dead per group, then each group's most recent job through the fingerprint
   * index), without the ids of `exclude`; busiest first, then most recently seen.
   */
  async deadGroups(
    queue: string,
    filter: DeadFilter,
    exclude: readonly string[],
  ): Promise<ArchivedDeadGroup[]> {
    const { where, params, p } = deadWhere(queue, filter);
    if (exclude.length > 0) where.push(`NOT (j.id = ANY(${p(exclude.map((id) => col(id)))}::text[]))`);
    const cond = where.join(' AND ');
    const s = this.#s;
    const r = await this.pool.query<{
      fp: string;
      n: string;
      first: string;
      last: string;
      id: string;
      err: ErrorInfo | null;
    }>(
      `WITH g AS (
  SELECT coalesce(j.fingerprint, '') AS fp, count(*) AS n, min(j.finished_at) AS first, max(j.finished_at) AS last
  FROM ${s}.jobs j WHERE ${cond} GROUP BY 1
)
SELECT g.fp, g.n, g.first, g.last, x.id, x.err FROM g CROSS JOIN LATERAL (
  SELECT j.id, j.doc -> 'dead' -> 'error' AS err FROM ${s}.jobs j
  WHERE ${cond} AND coalesce(j.fingerprint, '') = g.fp
  ORDER BY j.finished_at DESC, j.id COLLATE "C" DESC LIMIT 1
) x`,
      params,
    );
    return r.rows
      .map((row) => ({
        fingerprint: row.fp,
        label: row.err ? fingerprintLabel(row.err) : '',
        count: Number(row.n),
        firstSeen: Number(row.first),
        lastSeen: Number(row.last),
        sample: { id: row.id, ...(row.err ? { error: row.err } : {}) },
      }))
      .sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
  }

  /**
   * The archive's own retention: deletes the jobs of `queue` finished before `before` (ms since
   * epoch) with their attempts, at most `batch` per statement, until none is left; counted
   * (`stats().pruned`). Returns how many jobs were deleted.
   */
  async prune(queue: string, before: number, batch = 5000): Promise<number> {
    const s = this.#s;
    let total = 0;
    for (;;) {
      const r = await this.pool.query<{ n: string }>(
        `WITH d AS (
  DELETE FROM ${s}.jobs WHERE (queue, id) IN (
    SELECT queue, id FROM ${s}.jobs WHERE queue = $1 AND finished_at < $2 LIMIT $3)
  RETURNING queue, id
), a AS (
  DELETE FROM ${s}.attempts t USING d WHERE t.queue = d.queue AND t.job_id = d.id
), c AS (
  INSERT INTO ${s}.counters (name, value) SELECT 'pruned', count(*) FROM d
  ON CONFLICT (name) DO UPDATE SET value = ${s}.counters.value + excluded.value
)
SELECT count(*) AS n FROM d`,
        [queue, before, batch],
      );
      const n = Number(r.rows[0]?.n ?? 0);
      total += n;
      if (n < batch) return total;
    }
  }

  /** Queues that have archived jobs. */
  async queues(): Promise<string[]> {
    const r = await this.pool.query<{ queue: string }>(
      `WITH RECURSIVE q AS (
  (SELECT queue FROM ${this.#s}.jobs ORDER BY queue LIMIT 1)
  UNION ALL
  SELECT (SELECT queue FROM ${this.#s}.jobs WHERE queue > q.queue ORDER BY queue LIMIT 1) FROM q WHERE q.queue IS NOT NULL
)
SELECT queue FROM q WHERE queue IS NOT NULL`,
    );
    return r.rows.map((x) => x.queue);
  }

  async stats(): Promise<ArchiveStats> {
    const s = this.#s;
    const r = await this.pool.query<{
      jobs: string;
      attempts: string;
      bytes: string;
      pruned: string | null;
      v: number | null;
    }>(
      `SELECT (SELECT count(*) FROM ${s}.jobs) AS jobs, (SELECT count(*) FROM ${s}.attempts) AS attempts,
        pg_total_relation_size('${s}.jobs') + pg_total_relation_size('${s}.attempts') AS bytes,
        (SELECT value FROM ${s}.counters WHERE name = 'pruned') AS pruned,
        (SELECT max(version) FROM ${s}.schema_version) AS v`,
    );
    const row = r.rows[0]!;
    return {
      jobs: Number(row.jobs),
      attempts: Number(row.attempts),
      bytes: Number(row.bytes),
      pruned: Number(row.pruned ?? 0),
      schemaVersion: row.v ?? 0,
    };
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.pool.end();
  }
}

interface DeadRow {
  id: string;
  name: string;
  dead_reason: string | null;
  finished_at: string;
  fingerprint: string | null;
  error_code: string | null;
}

function deadSummaryOf(r: DeadRow): DeadSummary {
  return {
    id: r.id,
    name: r.name,
    reason: (r.dead_reason ?? 'exhausted') as DeadReason,
    at: Number(r.finished_at),
    fingerprint: r.fingerprint ?? '',
    errorCode: r.error_code === null || r.error_code === '' ? undefined : r.error_code,
  };
}

/** The conditions of a dead filter on `jobs j`, with their parameters ($1 = the queue). */
function deadWhere(
  queue: string,
  f: DeadFilter,
): { where: string[]; params: unknown[]; p: (v: unknown) => string } {
  const params: unknown[] = [queue];
  const p = (v: unknown): string => `$${params.push(v)}`;
  const where = ['j.queue = $1', `j.state = 'dead'`];
  if (f.reason !== undefined) where.push(`j.dead_reason = ANY(${p(f.reason)}::text[])`);
  if (f.errorCode !== undefined) where.push(`j.error_code = ${p(col(f.errorCode))}`);
  if (f.name !== undefined) where.push(`j.name = ${p(col(f.name))}`);
  if (f.fingerprint !== undefined) where.push(`j.fingerprint = ${p(col(f.fingerprint))}`);
  if (f.from !== undefined) where.push(`j.finished_at >= ${p(f.from)}`);
  if (f.to !== undefined) where.push(`j.finished_at <= ${p(f.to)}`);
  return { where, params, p };
}

/**
 * The write of one batch (see `write`): $1 queue, $2 the jobs (a JSON array), $3 the attempts.
 * `json_to_recordset` parses each element once into a typed row (`e->>'x'` on a json element would
 * parse the element again for every field: 24 parses per job, more than half of PostgreSQL's time
 * on a write). The archive time is the statement's (one per batch).
 */
function writeSql(s: string): string {
  return `WITH j AS (
  INSERT INTO ${s}.jobs AS t (queue, id, name, state, created_at, finished_at, attempt_count, dead_reason,
    fingerprint, error_code, doc, archived_at)
  SELECT $1, e.id, e.name, e.state, e.c, e.f, e.n, e.r, e.fp, e.code, e.doc::json,
    (extract(epoch FROM statement_timestamp()) * 1000)::bigint
  FROM json_to_recordset($2::json) AS e(id text, name text, state text, c bigint, f bigint, n integer,
    r text, fp text, code text, doc text)
  ON CONFLICT (queue, id) DO UPDATE SET name = excluded.name, state = excluded.state,
    created_at = excluded.created_at, finished_at = excluded.finished_at,
    attempt_count = excluded.attempt_count, dead_reason = excluded.dead_reason,
    fingerprint = excluded.fingerprint, error_code = excluded.error_code, doc = excluded.doc,
    archived_at = excluded.archived_at
  WHERE t.finished_at <= excluded.finished_at
  RETURNING 1
), a AS (
  INSERT INTO ${s}.attempts (queue, job_id, n, trigger, outcome, error_class, rule, error_code, due_at,
    started_at, finished_at, worker_id, facts, rec, fingerprint)
  SELECT $1, e.job, e.n, e.t, e.o, e.cls, e.rule, e.code, e.due, e.s, e.f, e.w, e.facts::jsonb, e.rec::json, e.fp
  FROM json_to_recordset($3::json) AS e(job text, n integer, t text, o text, cls text, rule text, code text,
    due bigint, s bigint, f bigint, w text, facts text, rec text, fp text)
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM j) AS jobs, (SELECT count(*) FROM a) AS attempts`;
}
