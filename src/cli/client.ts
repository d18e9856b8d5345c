/**
 * What the client commands need from the scheduler, behind one interface with two
 * implementations: {@link DirectClient} calls the library on a Redis backend (`--redis`), and
 * {@link HttpClient} calls a running `retraced server` (`--url`, `--token`). Commands never know
 * which one they hold, so every command works both ways. Choosing and opening one is in
 * `connect.ts`, so that neither implementation imports the module that imports it.
 * @module
 */
import type { ArchiveStatus, DeadFilter } from '../backend.js';
import type {
  BulkReplayResult,
  DeadListed,
  DlqGroup,
  DlqPurgeRequest,
  DlqReplayRequest,
  PurgeReport,
  ReplayOptions,
} from '../dlq.js';
import type { AnalyticsGroupBy, AnalyticsReport, AnalyticsSource } from '../analytics.js';
import type { AddedJob, BulkJob, RetryBudgetStatus, ScheduledResult, ScheduleTemplate } from '../queue.js';
import type {
  RateLimitSettings,
  RateLimitState,
  RateLimitStateQuery,
  RateLimitsView,
} from '../rate-limit.js';
import type { RetryBudget } from '../retry-budget.js';
import type { ScheduleSpec, Scheduler, SchedulerDetail } from '../schedule.js';
import type { AuditOptions, AuditReport } from '../audit.js';
import type { RadarOptions, RadarReport } from '../radar.js';
import type { WhatIfOptions, WhatIfReport } from '../whatif.js';
import type { SearchSource } from '../job-index.js';
import type { JobSummary } from '../summary.js';
import type { EvictionCounts, Job, JobState, StateCounts } from '../types.js';
import type { WorkerRegistry } from '../workers.js';
import type { Explanation } from '../explain.js';

/** Listing every state: the order a person reads them in. */
export const LIST_ORDER: readonly JobState[] = [
  'active',
  'waiting',
  'scheduled',
  'dead',
  'completed',
  'cancelled',
];

export type { JobSummary } from '../summary.js';
export type { BulkReplayResult, DlqPurgeRequest, DlqReplayRequest, PurgeReport } from '../dlq.js';

export interface QueueInfo {
  readonly name: string;
  readonly paused: boolean;
  readonly counts: StateCounts;
  /** Finished jobs evicted by retention so far, per state (absent from a server older than this CLI). */
  readonly evictions?: EvictionCounts;
  /** The queue's archive: on or off, its backlog, what retention holds for it. */
  readonly archive?: ArchiveStatus;
}

export interface Page<T> {
  readonly items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface JobQuery {
  readonly state?: JobState;
  readonly name?: string;
  readonly limit: number;
  readonly cursor?: string;
  /** Redis (`live`, the default), the archive, or both merged (with a finished `state`). */
  readonly source?: SearchSource;
}

export interface AnalyticsQueryData {
  readonly window?: string;
  readonly name?: string;
  readonly by?: AnalyticsGroupBy;
  readonly source?: AnalyticsSource;
}

/** Which page of dead jobs, and where from. */
export interface DlqPageRequest {
  readonly limit: number;
  readonly cursor?: string | undefined;
  readonly source?: SearchSource | undefined;
}

/** A DLQ filter as it travels: checked, times in ms since epoch (see dlq-filter.ts). */
export type DlqFilterData = DeadFilter;

export interface Client {
  /** Where the client talks to, safe to print. */
  readonly target: string;
  queues(): Promise<QueueInfo[]>;
  setPaused(queue: string, paused: boolean): Promise<{ name: string; paused: boolean }>;
  /** One job; validation errors name `options.…` as the library does. */
  addOne(queue: string, job: BulkJob<unknown>): Promise<AddedJob>;
  /** Many jobs in one call: all or none (errors name `jobs[i].…`). */
  add(queue: string, jobs: readonly BulkJob<unknown>[]): Promise<AddedJob[]>;
  listJobs(queue: string, query: JobQuery): Promise<Page<JobSummary>>;
  /** Throws JobNotFoundError (exit 3) for an unknown id. */
  getJob(queue: string, id: string): Promise<Job>;
  cancel(queue: string, id: string, by: string, reason?: string): Promise<Job>;
  retry(queue: string, id: string, options: ReplayOptions): Promise<Job>;
  /** A page of `dlq.page`: from Redis, the archive or both (`source`), one cursor. */
  dlqList(queue: string, filter: DlqFilterData, page: DlqPageRequest): Promise<Page<DeadListed>>;
  dlqGroups(queue: string, filter: DlqFilterData, source?: SearchSource): Promise<DlqGroup[]>;
  /** The library's `dlq.replayRequest`, here or on the server: the same checks, bounds and dry run. */
  dlqReplay(queue: string, request: DlqReplayRequest): Promise<BulkReplayResult>;
  /** The library's `dlq.purgeRequest`, here or on the server. */
  dlqPurge(queue: string, request: DlqPurgeRequest): Promise<PurgeReport>;
  /** The queue's priority aging, ms waited per level gained (0 = strict order). */
  priorityAging(queue: string): Promise<number>;
  /** Sets it (`queue.setPriorityAging`) and answers it. */
  setPriorityAging(queue: string, agingMs: number): Promise<number>;
  /** The priority of jobs added without one, stored with the queue (0 = none set). */
  defaultPriority(queue: string): Promise<number>;
  /** Sets it (`queue.setDefaultPriority`) and answers it. */
  setDefaultPriority(queue: string, priority: number): Promise<number>;
  /** The queue's rate limits (`queue.getRateLimits`). */
  rateLimits(queue: string): Promise<RateLimitsView>;
  /** Changes them (`queue.setRateLimits`) and answers them. */
  setRateLimits(queue: string, settings: RateLimitSettings): Promise<RateLimitsView>;
  /** The rate-limit view: the queue's bucket and one page of groups (`queue.rateLimitState`). */
  rateLimitState(queue: string, query: RateLimitStateQuery): Promise<RateLimitState>;
  /** The queue's retry budgets (`queue.getRetryBudgets`). */
  retryBudgets(queue: string): Promise<RetryBudgetStatus[]>;
  /** Sets (or with null removes) the queue's retry budget, or a job name's own; answers the budgets. */
  setRetryBudget(
    queue: string,
    name: string | undefined,
    budget: RetryBudget | null,
  ): Promise<RetryBudgetStatus[]>;
  /** The library's `queue.analytics`, here or on the server (window as text: 30s, 15m, 2h, 7d). */
  analytics(queue: string, query: AnalyticsQueryData): Promise<AnalyticsReport>;
  workers(queue: string): Promise<WorkerRegistry>;
  /** Why a job is not running (queue.explain); JobNotFoundError (exit 3) for an unknown id. */
  explain(queue: string, id: string): Promise<Explanation>;
  schedulers(queue: string): Promise<Scheduler[]>;
  /** Throws SchedulerNotFoundError (exit 3) for an unknown id. */
  getScheduler(queue: string, id: string, ticks: number): Promise<SchedulerDetail>;
  upsertScheduler(
    queue: string,
    id: string,
    spec: ScheduleSpec,
    template: ScheduleTemplate<unknown>,
  ): Promise<ScheduledResult>;
  setSchedulerPaused(queue: string, id: string, paused: boolean): Promise<Scheduler>;
  removeScheduler(queue: string, id: string): Promise<void>;
  /** `queue.whatIf`, here or on the server (which cannot run custom strategies). */
  whatIf(queue: string, options: WhatIfOptions): Promise<WhatIfReport>;
  /** `queue.audit`, here or on the server. */
  audit(queue: string, options: AuditOptions): Promise<AuditReport>;
  /** `queue.radar`, here or on the server. */
  radar(queue: string, options: RadarOptions): Promise<RadarReport>;
  /** The scheduler's clock (Redis TIME; through a server, its /readyz): times such as 30m ago are on it. */
  now(): Promise<number>;
  close(): Promise<void>;
}
