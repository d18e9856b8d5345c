/**
 * The archive port: where finished jobs live once retention has evicted them from the backend.
 * `Queue.getJob` (and so the HTTP API, the CLI and the dashboard) asks it when the backend no
 * longer has a job. The implementation is PostgreSQL (`archive/pg-archive.ts`), filled by the
 * archiver (`archive/archiver.ts`); see ARCHITECTURE.md §9.
 * @module
 */
import type { DeadFilter, DeadGroupStats, DeadSummary } from './backend.js';
import type { JobQuery, SearchKey } from './job-index.js';
import type { ResolvedHistoryScope } from './recorded.js';
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

/** The attempts an analytics report over the archive counts: finished in [from, to). */
export interface ArchiveAnalyticsQuery {
  readonly from: number;
  readonly to: number;
  /** Only the jobs of this name. */
  readonly name?: string | undefined;
}

/** Attempts that share every dimension the rollups count by, and how many they are. */
export interface ArchiveAnalyticsRow {
  readonly name: string;
  /** The attempt number, at most `ROLLUP_MAX_ATTEMPT` (later ones counted under it). */
  readonly n: number;
  readonly outcome: string;
  /** The decision's action (`done`, `retry`, `dead`). */
  readonly action: string;
  /** For `dead`: the dead reason. */
  readonly deadReason?: string | undefined;
  readonly errorClass?: string | undefined;
  readonly rule?: string | undefined;
  readonly fingerprint?: string | undefined;
  /** The bucket of `ROLLUP_TIME_BOUNDS_MS` of startedAt − dueAt. */
  readonly driftBucket: number;
  /** For a success: the bucket of its time to success. */
  readonly timeToSuccessBucket?: number | undefined;
  readonly count: number;
}

/** Jobs that failed with one error class, rule or fingerprint in the window, and their attempts. */
export interface ArchiveKeyJobs {
  readonly by: 'errorClass' | 'rule' | 'fingerprint';
  readonly key: string;
  readonly jobs: number;
  /** Every attempt of those jobs in the window. */
  readonly attempts: number;
}

/**
 * One attempt of a job that retried in the window, in its job's order: the rollups attribute an
 * attempt's outcome to what the job remembers of its failures before it (`rollupJobKeys`), so these
 * are folded job by job from the first attempt.
 */
export interface ArchiveHistoryRow {
  readonly job: string;
  readonly name: string;
  readonly n: number;
  readonly outcome: string;
  readonly action: string;
  readonly deadReason?: string | undefined;
  readonly errorClass?: string | undefined;
  readonly rule?: string | undefined;
  readonly fingerprint?: string | undefined;
  readonly dueAt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  /** Counted by the report (ended in the window); else read only for what the job remembers. */
  readonly counted: boolean;
}

export interface ArchiveAnalyticsCounts {
  /** First attempts (nothing remembered before them), grouped. */
  readonly rows: readonly ArchiveAnalyticsRow[];
  /** Every attempt up to the window's last of the jobs with a later attempt in the window. */
  readonly histories: readonly ArchiveHistoryRow[];
  /** Jobs cancelled in the window, by name and the state they were cancelled in. */
  readonly cancels: readonly { readonly name: string; readonly state: string; readonly count: number }[];
  readonly jobs: readonly ArchiveKeyJobs[];
  /** One recorded error per failure fingerprint (its label is computed from it). */
  readonly errors: readonly { readonly fingerprint: string; readonly error: ErrorInfo }[];
}

/** Where a page of recorded jobs ends: the last job's finish time and id. */
export interface RecordedKey {
  readonly finishedAt: number;
  readonly id: string;
}

/**
 * What an archive answers for the retry intelligence over long windows (the PostgreSQL archive
 * does; an archive without these answers `source: 'archive'` with a clear error).
 */
export interface HistoryArchive {
  /** The counts a rollup bucket would hold for the attempts finished in the window (analytics.ts). */
  analyticsCounts(queue: string, query: ArchiveAnalyticsQuery): Promise<ArchiveAnalyticsCounts>;
  /** Finished jobs in scope, most recently finished first (finish time, then id, descending), after `after`. */
  recordedPage(
    queue: string,
    scope: ResolvedHistoryScope,
    after: RecordedKey | undefined,
    limit: number,
  ): Promise<{ jobs: Job[]; next: RecordedKey | undefined }>;
  /** The drift of every attempt not triggered by hand of the `scope.limit` jobs `recordedPage` would give. */
  recordedDrifts(queue: string, scope: ResolvedHistoryScope): Promise<number[]>;
}

/** Whether an archive answers the retry intelligence (`HistoryArchive`). */
export function isHistoryArchive(a: JobArchive): a is JobArchive & HistoryArchive {
  const h = a as Partial<HistoryArchive>;
  return (
    typeof h.analyticsCounts === 'function' &&
    typeof h.recordedPage === 'function' &&
    typeof h.recordedDrifts === 'function'
  );
}
