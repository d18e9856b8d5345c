/**
 * The archive port: where finished jobs live once retention has evicted them from the backend.
 * `Queue.getJob` (and so the HTTP API, the CLI and the dashboard) asks it when the backend no
 * longer has a job. The implementation is PostgreSQL (`archive/pg-archive.ts`), filled by the
 * archiver (`archive/archiver.ts`); see ARCHITECTURE.md §9.
 * @module
 */
import type { JobQuery, SearchKey } from './job-index.js';
import type { Job } from './types.js';

export interface JobArchive {
  /** The archived job with its attempts, marked `archived: true`, or null. */
  getJob(queue: string, id: string): Promise<Job | null>;
  /**
   * Archived jobs matching `query` (every filter of the backends' search, facets or not), newest
   * created first in the order of `compareSearchKeys` (job-index.ts), after `after`; each marked
   * `archived: true`. `next` is the key of the last job when more may follow.
   */
  searchJobs(
    queue: string,
    query: JobQuery,
    after: SearchKey | undefined,
    limit: number,
  ): Promise<{ jobs: Job[]; next: SearchKey | undefined }>;
}
