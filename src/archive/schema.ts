/**
 * The archive's PostgreSQL schema, versioned: each migration runs once, in order, recorded in
 * `<schema>.schema_version`, under an advisory lock so that several archivers starting together
 * never apply one twice (`retraced archive migrate`; every archiver runs it on start too).
 *
 * Times are ms since epoch on the backend's clock (bigint), as in the job records. The job and each
 * attempt are stored whole, as `json` (exact text: `jsonb` would refuse a `\u0000` in an error
 * message, and one such job would stop the archive); the columns beside them are copies for the
 * indexes that search and analytics use. `attempts.facts` (jsonb) holds whatever an attempt record
 * carries beyond the fields known here (scheduler, rate-limit or budget facts), for querying.
 * @module
 */

export interface Migration {
  readonly version: number;
  readonly description: string;
  /** Statements, with `{s}` standing for the quoted schema name. */
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'jobs and attempts, with their search indexes; counters',
    sql: `
CREATE TABLE {s}.jobs (
  queue text NOT NULL,
  id text NOT NULL,
  name text NOT NULL,
  state text NOT NULL,
  created_at bigint NOT NULL,
  finished_at bigint NOT NULL,
  attempt_count integer NOT NULL,
  dead_reason text,
  fingerprint text,
  error_code text,
  archived_at bigint NOT NULL,
  doc json NOT NULL,
  PRIMARY KEY (queue, id)
);
CREATE INDEX jobs_queue_finished ON {s}.jobs (queue, finished_at);
CREATE INDEX jobs_queue_name ON {s}.jobs (queue, name, finished_at);
CREATE INDEX jobs_queue_state ON {s}.jobs (queue, state, finished_at);
CREATE INDEX jobs_queue_error_code ON {s}.jobs (queue, error_code, finished_at) WHERE error_code IS NOT NULL;
CREATE INDEX jobs_queue_fingerprint ON {s}.jobs (queue, fingerprint, finished_at) WHERE fingerprint IS NOT NULL;
CREATE TABLE {s}.attempts (
  queue text NOT NULL,
  job_id text NOT NULL,
  n integer NOT NULL,
  trigger text NOT NULL,
  outcome text NOT NULL,
  error_class text,
  rule text,
  error_code text,
  due_at bigint NOT NULL,
  started_at bigint NOT NULL,
  finished_at bigint NOT NULL,
  worker_id text NOT NULL,
  facts jsonb,
  rec json NOT NULL,
  PRIMARY KEY (queue, job_id, n)
);
CREATE INDEX attempts_queue_finished ON {s}.attempts (queue, finished_at);
CREATE INDEX attempts_queue_class ON {s}.attempts (queue, error_class, finished_at) WHERE error_class IS NOT NULL;
CREATE INDEX attempts_queue_rule ON {s}.attempts (queue, rule, finished_at) WHERE rule IS NOT NULL;
CREATE INDEX attempts_queue_error_code ON {s}.attempts (queue, error_code, finished_at) WHERE error_code IS NOT NULL;
CREATE INDEX attempts_queue_trigger ON {s}.attempts (queue, trigger, finished_at) WHERE trigger <> 'auto';
CREATE TABLE {s}.counters (
  name text PRIMARY KEY,
  value bigint NOT NULL
);
`,
  },
  {
    version: 2,
    description: 'search over the archive: jobs by state and creation, attempts by error fingerprint',
    sql: `
CREATE INDEX jobs_queue_state_created ON {s}.jobs (queue, state, created_at, (id COLLATE "C"));
ALTER TABLE {s}.attempts ADD COLUMN fingerprint text;
CREATE INDEX attempts_queue_fingerprint ON {s}.attempts (queue, fingerprint, finished_at) WHERE fingerprint IS NOT NULL;
`,
  },
  {
    version: 3,
    description:
      'analytics, what-if and audit over the archive: finished jobs newest first with a keyset (by queue, and by queue and name)',
    sql: `
CREATE INDEX jobs_queue_finished_id ON {s}.jobs (queue, finished_at, (id COLLATE "C"));
CREATE INDEX jobs_queue_name_finished_id ON {s}.jobs (queue, name, finished_at, (id COLLATE "C"));
`,
  },
];

/** The schema version this code expects. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
