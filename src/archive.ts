/**
 * The archive port: where finished jobs live once retention has evicted them from the backend.
 * `Queue.getJob` (and so the HTTP API, the CLI and the dashboard) asks it when the backend no
 * longer has a job. The implementation is PostgreSQL (`archive/pg-archive.ts`), filled by the
 * archiver (`archive/archiver.ts`); see ARCHITECTURE.md §9.
 * @module
 */
import type { DeadFilter, DeadGroupStats, DeadSummary } from './backend.js';
import type { JobQuery, SearchKey } from './job-index.js';
import type { ErrorInfo, Job } from './types.js';

/**
 * Where a page of dead jobs ends: dead at, then id (byte order). Dead jobs are listed newest first
 * in this order, on the backends (the dead set by score, then member) and in the archive.
 */
export interface DeadKey {
  readonly at: number;
  readonly id: string;
}

/** A group of archived dead jobs, with its most recent one's id and final error (the sample). */
export interface ArchivedDeadGroup extends DeadGroupStats {
  readonly sample: { readonly id: string; readonly error?: ErrorInfo };
}

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
  /**
   * Archived dead jobs (dead when last archived) matching `filter` (the backends' `listDead`
   * filter), most recently dead first in {@link DeadKey} order, strictly after `after`; at most
   * `limit`.
   */
  listDead(
    queue: string,
    filter: DeadFilter,
    after: DeadKey | undefined,
    limit: number,
  ): Promise<DeadSummary[]>;
  /**
   * Archived dead jobs matching `filter` grouped by fingerprint, leaving out the ids in `exclude`
   * (those the backend holds: counted there); busiest first. The label is the sample error's.
   */
  deadGroups(queue: string, filter: DeadFilter, exclude: readonly string[]): Promise<ArchivedDeadGroup[]>;
}
