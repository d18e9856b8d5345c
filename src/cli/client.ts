/**
 * What the client commands need from the scheduler, behind one interface with two
 * implementations: {@link DirectClient} calls the library on a Redis backend (`--redis`), and
 * {@link HttpClient} calls a running `retraced server` (`--url`, `--token`). Commands never know
 * which one they hold, so every command works both ways. Choosing and opening one is in
 * `connect.ts`, so that neither implementation imports the module that imports it.
 * @module
 */
import type { DeadGroupStats, DeadSummary } from '../backend.js';
import type { ReplayOptions } from '../dlq.js';
import type { AddedJob, BulkJob } from '../queue.js';
import type { DeadReason, Job, JobState, StateCounts } from '../types.js';

/** Listing every state: the order a person reads them in. */
export const LIST_ORDER: readonly JobState[] = [
  'active',
  'waiting',
  'scheduled',
  'dead',
  'completed',
  'cancelled',
];

export interface QueueInfo {
  readonly name: string;
  readonly paused: boolean;
  readonly counts: StateCounts;
}

export interface JobSummary {
  readonly id: string;
  readonly name: string;
  readonly state: JobState;
  readonly attempts: number;
  readonly createdAt: number;
  readonly dueAt: number;
  readonly finishedAt?: number;
  /** `Name: message [CODE]` of the last failed attempt. */
  readonly lastError?: string;
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
}

/** A DLQ filter as it travels: plain data, times in ms since epoch. */
export interface DlqFilterData {
  readonly reason?: DeadReason[];
  readonly errorCode?: string;
  readonly name?: string;
  readonly fingerprint?: string;
  readonly from?: number;
  readonly to?: number;
}

export interface DlqReplayRequest {
  readonly ids?: string[];
  readonly filter?: DlqFilterData;
  readonly by: string;
  readonly note?: string;
  readonly patch?: unknown;
  readonly dryRun?: boolean;
  readonly limit?: number;
}

export interface DlqReplayResult {
  readonly dryRun: boolean;
  readonly matched: number;
  /** Replayed ids, or with `dryRun` the ids that would be. */
  readonly replayed: string[];
  readonly failed: { id: string; error: string }[];
}

export interface DlqPurgeRequest {
  readonly ids?: string[];
  readonly filter?: DlqFilterData;
  readonly dryRun?: boolean;
}

export interface DlqPurgeResult {
  readonly dryRun: boolean;
  readonly purged: number;
  readonly ids?: string[];
}

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
  dlqList(
    queue: string,
    filter: DlqFilterData,
    page: { limit: number; cursor?: string },
  ): Promise<Page<DeadSummary>>;
  dlqGroups(queue: string): Promise<DeadGroupStats[]>;
  dlqReplay(queue: string, request: DlqReplayRequest): Promise<DlqReplayResult>;
  dlqPurge(queue: string, request: DlqPurgeRequest): Promise<DlqPurgeResult>;
  /** The scheduler's clock (Redis TIME; through a server, its /readyz): times such as 30m ago are on it. */
  now(): Promise<number>;
  close(): Promise<void>;
}
