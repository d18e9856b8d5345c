/**
 * Reading recorded history for the what-if and the audit: the most recent finished jobs of a queue
 * (completed and dead), through the backend's ordinary listings (`listJobs`, or `searchJobs` when a
 * job name is given), a page at a time, never more than a stated number of jobs.
 * @module
 */
import type { Backend } from './backend.js';
import { ValidationError } from './errors.js';
import type { Job, JobState } from './types.js';
import { assertInt, assertJobName } from './validate.js';

/** Jobs read per backend call. */
export const HISTORY_PAGE = 500;
/** Jobs read by default, and at most (`limit`). */
export const DEFAULT_HISTORY_LIMIT = 10_000;
export const MAX_HISTORY_LIMIT = 100_000;

/** Which recorded jobs: finished in a time window, of one job name, the most recent `limit`. */
export interface HistoryScope {
  /** Finished at or after (ms since epoch). */
  readonly from?: number | undefined;
  /** Finished at or before (ms since epoch). */
  readonly to?: number | undefined;
  /** Only jobs of this name (read through the name index). */
  readonly name?: string | undefined;
  /** Most jobs read. @default 10000 */
  readonly limit?: number | undefined;
}

/** Where the what-if and the audit read recorded jobs: the backend, or the queue's archive. */
export const HistorySources = ['live', 'archive'] as const;
export type HistorySource = (typeof HistorySources)[number];

/** A history source, validated (field `source`). @default 'live' */
export function resolveHistorySource(v: unknown): HistorySource {
  if (v === undefined) return 'live';
  if (typeof v !== 'string' || !(HistorySources as readonly string[]).includes(v)) {
    throw new ValidationError('source', `one of ${HistorySources.join(', ')}`, v);
  }
  return v as HistorySource;
}

export interface ResolvedHistoryScope {
  readonly from: number | undefined;
  readonly to: number | undefined;
  readonly name: string | undefined;
  readonly limit: number;
}

export interface RecordedJobs {
  readonly jobs: Job[];
  /** More finished jobs matched than `limit`: the oldest were not read. */
  readonly truncated: boolean;
  readonly scope: ResolvedHistoryScope;
}

function time(v: unknown, field: string): number | undefined {
  if (v === undefined) return undefined;
  // Dates before 1970 are negative: valid, if unlikely.
  return assertInt(v, field, Number.MIN_SAFE_INTEGER);
}

/** The names errors give each field of a scope. */
export interface ScopeFields {
  readonly from: string;
  readonly to: string;
  readonly name: string;
  readonly limit: string;
}
const DEFAULT_FIELDS: ScopeFields = {
  from: 'window.from',
  to: 'window.to',
  name: 'filter.name',
  limit: 'limit',
};

/** Validates a scope; errors name the field as the caller spells it. */
export function resolveHistoryScope(
  s: HistoryScope | undefined,
  fields: ScopeFields = DEFAULT_FIELDS,
): ResolvedHistoryScope {
  if (s !== undefined && (typeof s !== 'object' || s === null || Array.isArray(s))) {
    throw new ValidationError('scope', 'an object { from?, to?, name?, limit? }', s);
  }
  const from = time(s?.from, fields.from);
  const to = time(s?.to, fields.to);
  // `to` before `from` is an empty window (as in job search), not an error.
  if (s?.name !== undefined) assertJobName(s.name, fields.name);
  const limit =
    s?.limit === undefined ? DEFAULT_HISTORY_LIMIT : assertInt(s.limit, fields.limit, 1, MAX_HISTORY_LIMIT);
  return { from, to, name: s?.name, limit };
}

/** One state's jobs, newest first, a page at a time. */
function stream(
  backend: Backend,
  queue: string,
  state: JobState,
  scope: ResolvedHistoryScope,
): { next(): Promise<Job | undefined> } {
  let buffer: Job[] = [];
  let offset = 0;
  let cursor: string | undefined;
  let done = false;
  const fill = async (): Promise<void> => {
    while (buffer.length === 0 && !done) {
      if (scope.name !== undefined) {
        const q = { state, name: scope.name, from: scope.from, to: scope.to };
        const r = await backend.searchJobs(queue, q, cursor, HISTORY_PAGE);
        buffer = r.jobs;
        cursor = r.next;
        done = r.next === undefined;
      } else {
        const page = await backend.listJobs(queue, state, { offset, limit: HISTORY_PAGE });
        offset += page.length;
        done = page.length < HISTORY_PAGE;
        for (const j of page) {
          const at = j.finishedAt ?? 0;
          if (scope.from !== undefined && at < scope.from) {
            // Finished jobs are listed most recently finished first: nothing older matches.
            done = true;
            break;
          }
          if (scope.to === undefined || at <= scope.to) buffer.push(j);
        }
      }
    }
  };
  return {
    async next() {
      await fill();
      return buffer.shift();
    },
  };
}

/**
 * The most recent finished (completed and dead) jobs in scope, newest first, with their attempts:
 * at most `limit`, read `HISTORY_PAGE` at a time from each state and merged by finish time (by
 * creation time when a name is given: the name index's order). A job seen twice (a listing shifted
 * by jobs finishing while it is read) is kept once.
 */
export async function readRecordedJobs(
  backend: Backend,
  queue: string,
  scope: ResolvedHistoryScope,
): Promise<RecordedJobs> {
  const key = (j: Job): number => (scope.name !== undefined ? j.createdAt : (j.finishedAt ?? 0));
  const streams = [stream(backend, queue, 'completed', scope), stream(backend, queue, 'dead', scope)];
  const heads: (Job | undefined)[] = await Promise.all(streams.map((s) => s.next()));
  const seen = new Set<string>();
  const jobs: Job[] = [];
  for (;;) {
    let best = -1;
    heads.forEach((h, i) => {
      if (h !== undefined && (best < 0 || key(h) > key(heads[best] as Job))) best = i;
    });
    if (best < 0) return { jobs, truncated: false, scope };
    const job = heads[best] as Job;
    if (!seen.has(job.id)) {
      if (jobs.length === scope.limit) return { jobs, truncated: true, scope };
      seen.add(job.id);
      jobs.push(job);
    }
    heads[best] = await (streams[best] as ReturnType<typeof stream>).next();
  }
}
