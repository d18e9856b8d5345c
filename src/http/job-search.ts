/**
 * The jobs view's search. A query that names an indexed filter (see `queryFacets` in job-index.ts)
 * is served by the backend's search indexes, newest created first (`Queue.searchJobs`). Any other
 * (a state alone, with a time range, text in the data or attempts made) pages through the state's
 * own list (`queue.getJobs`, in the state's order) checking each job: each request scans at most
 * {@link MAX_SCANNED} jobs. Either way a page may hold fewer than `limit` jobs while more follow.
 * Positions shift when jobs change state between pages, as with any pagination over live data.
 * `source` `archive` searches the archive (any filters, newest created first), `all` the backend and
 * the archive merged (an indexed filter needed): see `Queue.searchJobs`.
 * @module
 */
import { matchesCandidate, queryFacets, type JobQuery } from '../job-index.js';
import type { Queue, SearchSource } from '../queue.js';
import { summariseJob, type JobSummary } from '../summary.js';
import { ValidationError } from '../errors.js';

const SCAN_PAGE = 500;
export const MAX_SCANNED = 5000;
const FINISHED = ['completed', 'dead', 'cancelled'];

/**
 * Where the next page starts: a position in the state's list, after a search key, or (`source=all`
 * without an indexed filter, once the state's list is done) after a key of the archive ('' = its
 * first page).
 */
type Cursor = { offset: number } | { after: string } | { archive: string };

export function encodeSearchCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeSearchCursor(text: string | undefined, indexed: boolean, field: string): Cursor | undefined {
  if (text === undefined) return undefined;
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    c = undefined;
  }
  const o = (c ?? {}) as { offset?: unknown; after?: unknown; archive?: unknown };
  const after = typeof o.after === 'string' && o.after.length <= 300 ? o.after : undefined;
  const archive = typeof o.archive === 'string' && o.archive.length <= 300 ? o.archive : undefined;
  const offset =
    typeof o.offset === 'number' && Number.isSafeInteger(o.offset) && o.offset >= 0 ? o.offset : undefined;
  // A cursor of the other kind of listing (issued for other filters) starts from the first page.
  if (indexed && after !== undefined) return { after };
  if (!indexed && offset !== undefined) return { offset };
  if (!indexed && archive !== undefined) return { archive };
  if (after !== undefined || offset !== undefined || archive !== undefined) return undefined;
  throw new ValidationError(field, 'a nextCursor returned by a previous page', text);
}

export async function searchJobs(
  queue: Queue,
  query: JobQuery,
  cursor: string | undefined,
  limit: number,
  cursorField = 'querystring.cursor',
  source: SearchSource = 'live',
): Promise<{ jobs: JobSummary[]; nextCursor: string | null }> {
  if (queryFacets(query).length > 0 || source === 'archive') {
    const c = decodeSearchCursor(cursor, true, cursorField) as { after: string } | undefined;
    const r = await queue.searchJobs(query, { cursor: c?.after, limit, source });
    return {
      jobs: r.jobs.map((j) => summariseJob(j)),
      nextCursor: r.next === undefined ? null : encodeSearchCursor({ after: r.next }),
    };
  }
  const c = decodeSearchCursor(cursor, false, cursorField) as
    { offset: number } | { archive: string } | undefined;
  const finished = FINISHED.includes(query.state);
  // source=all without an indexed filter: the state's own list, then the archived jobs the backend
  // no longer holds, newest created first.
  const thenArchive = source === 'all' && finished && queue.archive !== undefined;
  /** Up to `n` archived jobs after `after` ('' = the first) that the backend no longer holds. */
  const archived = async (after: string, n: number) => {
    const r = await queue.searchJobs(query, { cursor: after || undefined, limit: n, source: 'archive' });
    const held = await Promise.all(r.jobs.map((j) => queue.backend.getJob(queue.name, j.id)));
    return {
      jobs: r.jobs.filter((_, i) => !held[i]).map((j) => summariseJob(j)),
      nextCursor: r.next === undefined ? null : encodeSearchCursor({ archive: r.next }),
    };
  };
  if (c && 'archive' in c) return thenArchive ? archived(c.archive, limit) : { jobs: [], nextCursor: null };
  const offset = c?.offset ?? 0;
  const jobs: JobSummary[] = [];
  let position = offset;
  const done = async (next: number | undefined) => {
    if (next !== undefined) return { jobs, nextCursor: encodeSearchCursor({ offset: next }) };
    if (!thenArchive) return { jobs, nextCursor: null };
    // The state's list is done: the rest of the page from the archive.
    if (jobs.length >= limit) return { jobs, nextCursor: encodeSearchCursor({ archive: '' }) };
    const more = await archived('', limit - jobs.length);
    return { jobs: [...jobs, ...more.jobs], nextCursor: more.nextCursor };
  };
  // Nothing to check on each job: read just the page.
  const plain =
    query.from === undefined &&
    query.to === undefined &&
    query.text === undefined &&
    query.minAttempts === undefined &&
    query.maxAttempts === undefined;
  // With checks, read what a page needs first and twice as much each time it was not enough (up to
  // SCAN_PAGE): a filter most jobs pass reads one page's worth, a sparse one soon reads 500 at once.
  let scanPage = limit + 1;
  while (position - offset < MAX_SCANNED) {
    if (!plain && position > offset) scanPage = Math.min(SCAN_PAGE, scanPage * 2);
    const page = await queue.getJobs(query.state, { offset: position, limit: scanPage });
    for (const job of page) {
      position++;
      // Finished lists are most recent first: past `from`, nothing later in the list can match.
      if (finished && query.from !== undefined && (job.finishedAt ?? job.createdAt) < query.from) {
        return done(undefined);
      }
      const match = matchesCandidate(query, {
        state: job.state,
        attempts: job.attempts.length,
        createdAt: job.createdAt,
        finishedAt: job.finishedAt,
        data: JSON.stringify(job.data),
      });
      if (!match) continue;
      jobs.push(summariseJob(job));
      if (jobs.length >= limit) return done(plain && page.length <= limit ? undefined : position);
    }
    if (page.length < scanPage) return done(undefined);
  }
  return done(position);
}
