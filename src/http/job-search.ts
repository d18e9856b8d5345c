/**
 * Listing jobs of one state with filters the backend cannot index (name, the last attempt's error
 * code, a time range), by paging through `queue.getJobs`. The cursor is the position in the
 * state's list where the next page resumes, so a page may hold fewer than `limit` jobs while more
 * follow: each request scans at most {@link MAX_SCANNED} jobs. Positions shift when jobs change
 * state between pages, as with any offset pagination over live data.
 * @module
 */
import type { Queue } from '../queue.js';
import type { ErrorInfo, Job, JobState } from '../types.js';

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

export interface JobSummary {
  readonly id: string;
  readonly name: string;
  readonly state: JobState;
  readonly createdAt: number;
  readonly dueAt: number;
  readonly attempts: number;
  readonly lastError?: { name: string; code?: string; message: string };
  readonly finishedAt?: number;
}

function lastError(job: Job): ErrorInfo | undefined {
  return job.attempts.at(-1)?.error;
}

export function summarise(job: Job): JobSummary {
  const error = lastError(job);
  return {
    id: job.id,
    name: job.name,
    state: job.state,
    createdAt: job.createdAt,
    dueAt: job.dueAt,
    attempts: job.attempts.length,
    ...(error
      ? {
          lastError: {
            name: error.name,
            message: error.message,
            ...(error.code ? { code: error.code } : {}),
          },
        }
      : {}),
    ...(job.finishedAt !== undefined ? { finishedAt: job.finishedAt } : {}),
  };
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
        (filter.errorCode === undefined || lastError(job)?.code === filter.errorCode) &&
        (filter.from === undefined || t >= filter.from) &&
        (filter.to === undefined || t <= filter.to);
      if (!match) continue;
      jobs.push(summarise(job));
      if (jobs.length >= limit) return { jobs, nextOffset: position };
    }
    if (page.length < SCAN_PAGE) return { jobs, nextOffset: undefined };
  }
  return { jobs, nextOffset: position };
}
