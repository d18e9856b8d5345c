/**
 * Listing jobs of one state with filters the backend cannot index (name, the last error's code
 * (`lastErrorOf`), a time range), by paging through `queue.getJobs`. The cursor is the position in the
 * state's list where the next page resumes, so a page may hold fewer than `limit` jobs while more
 * follow: each request scans at most {@link MAX_SCANNED} jobs. Positions shift when jobs change
 * state between pages, as with any offset pagination over live data.
 * @module
 */
import type { Queue } from '../queue.js';
import { lastErrorOf, summariseJob, type JobSummary } from '../summary.js';
import type { Job, JobState } from '../types.js';

const SCAN_PAGE = 500;
export const MAX_SCANNED = 5000;
const FINISHED: readonly JobState[] = ['completed', 'dead', 'cancelled'];

export interface JobFilter {
  readonly state: JobState;
  readonly name?: string | undefined;
  readonly errorCode?: string | undefined;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

/** The time a range filter looks at: finishedAt for finished states, createdAt otherwise. */
function filterTime(job: Job, finished: boolean): number {
  return finished ? (job.finishedAt ?? job.createdAt) : job.createdAt;
}

export async function searchJobs(
  queue: Queue,
  filter: JobFilter,
  offset: number,
  limit: number,
): Promise<{ jobs: JobSummary[]; nextOffset: number | undefined }> {
  const finished = FINISHED.includes(filter.state);
  const jobs: JobSummary[] = [];
  let position = offset;
  while (position - offset < MAX_SCANNED) {
    const page = await queue.getJobs(filter.state, { offset: position, limit: SCAN_PAGE });
    for (const job of page) {
      position++;
      const t = filterTime(job, finished);
      // Finished lists are most recent first: past `from`, nothing later in the list can match.
      if (finished && filter.from !== undefined && t < filter.from) return { jobs, nextOffset: undefined };
      const match =
        (filter.name === undefined || job.name === filter.name) &&
        (filter.errorCode === undefined || lastErrorOf(job)?.code === filter.errorCode) &&
        (filter.from === undefined || t >= filter.from) &&
        (filter.to === undefined || t <= filter.to);
      if (!match) continue;
      jobs.push(summariseJob(job));
      if (jobs.length >= limit) return { jobs, nextOffset: position };
    }
    if (page.length < SCAN_PAGE) return { jobs, nextOffset: undefined };
  }
  return { jobs, nextOffset: position };
}
