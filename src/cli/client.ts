/**
 * What the client commands need from the scheduler, behind one interface with two
 * implementations: {@link DirectClient} calls the library on a Redis backend (`--redis`), and
 * {@link HttpClient} calls a running `retraced server` (`--url`, `--token`). Commands never know
 * which one they hold, so every command works both ways.
 * @module
 */
import type { DeadGroupStats, DeadSummary } from '../backend.js';
import type { ReplayOptions } from '../dlq.js';
import type { AddedJob, BulkJob } from '../queue.js';
import type { DeadReason, Job, JobState, StateCounts } from '../types.js';
import type { CONNECTION_OPTIONS, Values } from './args.js';
import { openRedis, type RedisTarget } from './backend.js';
import { DirectClient } from './client-direct.js';
import { HttpClient } from './client-http.js';
import { UsageError } from './exit-codes.js';

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

export type ConnectionValues = Values<typeof CONNECTION_OPTIONS>;

export type Connection =
  | { readonly kind: 'redis'; readonly redis: RedisTarget }
  | { readonly kind: 'http'; readonly url: string; readonly token: string | undefined };

const NEITHER = `no scheduler to talk to: pass --redis URL (Redis directly) or --url URL (a running \`retraced server\`),
or set RETRACED_REDIS_URL or RETRACED_URL. To try ReTraced locally, run \`retraced dev\` and use the --url it prints.`;

/** Flags first, then the environment; exactly one of Redis and a server. */
export function resolveConnection(
  values: ConnectionValues,
  env: NodeJS.ProcessEnv = process.env,
): Connection {
  if (values.redis !== undefined && values.url !== undefined) {
    throw new UsageError('pass either --redis or --url, not both');
  }
  const prefix = values.prefix ?? (env.RETRACED_PREFIX || undefined);
  const token = values.token ?? (env.RETRACED_TOKEN || undefined);
  if (values.redis !== undefined) {
    return { kind: 'redis', redis: { url: values.redis, prefix, source: '--redis' } };
  }
  if (values.url !== undefined) return { kind: 'http', url: values.url, token };
  const envRedis = env.RETRACED_REDIS_URL || undefined;
  const envUrl = env.RETRACED_URL || undefined;
  if (envRedis !== undefined && envUrl !== undefined) {
    throw new UsageError('both RETRACED_REDIS_URL and RETRACED_URL are set: pass --redis or --url to choose');
  }
  if (envRedis !== undefined) {
    return { kind: 'redis', redis: { url: envRedis, prefix, source: 'RETRACED_REDIS_URL' } };
  }
  if (envUrl !== undefined) return { kind: 'http', url: envUrl, token };
  throw new UsageError(NEITHER);
}

export async function connect(
  values: ConnectionValues,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Client> {
  const c = resolveConnection(values, env);
  if (c.kind === 'http') return new HttpClient(c.url, c.token);
  const opened = await openRedis(c.redis, { longLived: false });
  return new DirectClient(opened.backend, opened.description, () => opened.close());
}
