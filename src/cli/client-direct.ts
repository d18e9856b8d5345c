/**
 * The client over a Backend held in this process (Redis with `--redis`): every operation goes
 * through the library's Queue and DeadLetterQueue, so it validates and records exactly as the
 * HTTP API does. Cursors are opaque strings over the library's offset paging.
 * @module
 */
import type { AnalyticsReport } from '../analytics.js';
import type { JobArchive } from '../archive.js';
import type { Backend } from '../backend.js';
import type {
  BulkReplayResult,
  DeadListed,
  DlqGroup,
  DlqPurgeRequest,
  DlqReplayRequest,
  PurgeReport,
  ReplayOptions,
} from '../dlq.js';
import type { AuditOptions, AuditReport } from '../audit.js';
import type { SearchSource } from '../job-index.js';
import { JobNotFoundError, ValidationError } from '../errors.js';
import {
  Queue,
  type AddedJob,
  type BulkJob,
  type RetryBudgetStatus,
  type ScheduledResult,
  type ScheduleTemplate,
} from '../queue.js';
import {
  rateLimitsPublic,
  type RateLimitSettings,
  type RateLimitState,
  type RateLimitStateQuery,
  type RateLimitsView,
} from '../rate-limit.js';
import type { RetryBudget } from '../retry-budget.js';
import { upcomingRuns, type ScheduleSpec, type Scheduler, type SchedulerDetail } from '../schedule.js';
import type { RadarOptions, RadarReport } from '../radar.js';
import type { WhatIfOptions, WhatIfReport } from '../whatif.js';
import { searchJobs } from '../http/job-search.js';
import { summariseJob, type JobSummary } from '../summary.js';
import type { Job, JobState } from '../types.js';
import type { WorkerRegistry } from '../workers.js';
import type { Explanation } from '../explain.js';
import {
  LIST_ORDER,
  type AnalyticsQueryData,
  type Client,
  type DlqFilterData,
  type JobQuery,
  type Page,
  type QueueInfo,
  type DlqPageRequest,
} from './client.js';

export class DirectClient implements Client {
  readonly target: string;
  readonly #backend: Backend;
  readonly #close: () => Promise<void>;
  readonly #queues = new Map<string, Queue>();
  readonly #archive: JobArchive | undefined;

  /** With `archive`, the queues read evicted jobs from it (`--postgres` of the commands that read). */
  constructor(backend: Backend, target: string, close: () => Promise<void>, archive?: JobArchive) {
    this.#backend = backend;
    this.target = target;
    this.#close = close;
    this.#archive = archive;
  }

  #queue(name: string): Queue {
    let q = this.#queues.get(name);
    if (!q) {
      // The archive is read (and restored from), never switched on for the queue: no archiver of
      // this process would drain its notes (`readArchiveOnly`).
      q = new Queue(name, {
        backend: this.#backend,
        ...(this.#archive ? { archive: this.#archive, readArchiveOnly: true } : {}),
      });
      this.#queues.set(name, q);
    }
    return q;
  }

  now(): Promise<number> {
    return this.#backend.now();
  }

  whatIf(queue: string, options: WhatIfOptions): Promise<WhatIfReport> {
    return this.#queue(queue).whatIf(options);
  }

  audit(queue: string, options: AuditOptions): Promise<AuditReport> {
    return this.#queue(queue).audit(options);
  }

  radar(queue: string, options: RadarOptions): Promise<RadarReport> {
    return this.#queue(queue).radar(options);
  }

  async queues(): Promise<QueueInfo[]> {
    const names = (await this.#backend.listQueues()).sort();
    return Promise.all(
      names.map(async (name) => {
        const [paused, counts, evictions, archive] = await Promise.all([
          this.#backend.isPaused(name),
          this.#backend.counts(name),
          this.#backend.evictions(name),
          this.#backend.archiveStatus(name),
        ]);
        return { name, paused, counts, evictions, archive };
      }),
    );
  }

  async setPaused(queue: string, paused: boolean): Promise<{ name: string; paused: boolean }> {
    const q = this.#queue(queue);
    await (paused ? q.pause() : q.resume());
    return { name: queue, paused: await q.isPaused() };
  }

  priorityAging(queue: string): Promise<number> {
    return this.#queue(queue).getPriorityAging();
  }

  async setPriorityAging(queue: string, agingMs: number): Promise<number> {
    const q = this.#queue(queue);
    await q.setPriorityAging(agingMs);
    return q.getPriorityAging();
  }

  defaultPriority(queue: string): Promise<number> {
    return this.#queue(queue).getDefaultPriority();
  }

  async setDefaultPriority(queue: string, priority: number): Promise<number> {
    const q = this.#queue(queue);
    await q.setDefaultPriority(priority);
    return q.getDefaultPriority();
  }

  async rateLimits(queue: string): Promise<RateLimitsView> {
    return rateLimitsPublic(await this.#queue(queue).getRateLimits());
  }

  rateLimitState(queue: string, query: RateLimitStateQuery): Promise<RateLimitState> {
    return this.#queue(queue).rateLimitState(query);
  }

  async setRateLimits(queue: string, settings: RateLimitSettings): Promise<RateLimitsView> {
    const q = this.#queue(queue);
    await q.setRateLimits(settings);
    return rateLimitsPublic(await q.getRateLimits());
  }

  retryBudgets(queue: string): Promise<RetryBudgetStatus[]> {
    return this.#queue(queue).getRetryBudgets();
  }

  async setRetryBudget(
    queue: string,
    name: string | undefined,
    budget: RetryBudget | null,
  ): Promise<RetryBudgetStatus[]> {
    const q = this.#queue(queue);
    await q.setRetryBudget(budget, name === undefined ? {} : { name });
    return q.getRetryBudgets();
  }

  analytics(queue: string, query: AnalyticsQueryData): Promise<AnalyticsReport> {
    return this.#queue(queue).analytics(query);
  }

  addOne(queue: string, job: BulkJob<unknown>): Promise<AddedJob> {
    return this.#queue(queue).add(job.name, job.data, job.options);
  }

  add(queue: string, jobs: readonly BulkJob<unknown>[]): Promise<AddedJob[]> {
    return this.#queue(queue).addBulk(jobs);
  }

  async listJobs(queue: string, query: JobQuery): Promise<Page<JobSummary>> {
    const q = this.#queue(queue);
    if (query.source !== undefined && query.source !== 'live' && query.state !== undefined) {
      // The jobs view's search (as the API answers it): Redis and the archive under one cursor.
      const r = await searchJobs(
        q,
        { state: query.state, ...(query.name !== undefined ? { name: query.name } : {}) },
        query.cursor,
        query.limit,
        '--cursor',
        query.source,
      );
      return { items: r.jobs, nextCursor: r.nextCursor };
    }
    const states = query.state ? [query.state] : LIST_ORDER;
    let { s, o } = decodeCursor(query.cursor, states.length);
    const items: JobSummary[] = [];
    const batch = 200;
    // Reads pages state by state until `limit` jobs matched; the cursor remembers state and offset.
    while (s < states.length && items.length < query.limit) {
      const page = await q.getJobs(states[s] as JobState, { offset: o, limit: batch });
      let used = 0;
      for (const job of page) {
        used++;
        if (query.name === undefined || job.name === query.name) items.push(summariseJob(job));
        if (items.length >= query.limit) break;
      }
      o += used;
      if (used === page.length && page.length < batch) {
        s++;
        o = 0;
      }
    }
    const more = s < states.length && (await this.#hasMore(q, states, s, o));
    return { items, nextCursor: more ? encodeCursor(s, o) : null };
  }

  async #hasMore(q: Queue, states: readonly JobState[], s: number, o: number): Promise<boolean> {
    const counts = await q.counts();
    if ((counts[states[s] as JobState] ?? 0) > o) return true;
    return states.slice(s + 1).some((st) => (counts[st] ?? 0) > 0);
  }

  async getJob(queue: string, id: string): Promise<Job> {
    const job = await this.#queue(queue).getJob(id);
    if (!job) throw new JobNotFoundError(queue, id);
    return job;
  }

  async cancel(queue: string, id: string, by: string, reason?: string): Promise<Job> {
    await this.#queue(queue).cancel(id, reason === undefined ? { by } : { by, reason });
    return this.getJob(queue, id);
  }

  retry(queue: string, id: string, options: ReplayOptions): Promise<Job> {
    return this.#queue(queue).retryNow(id, options);
  }

  async dlqList(queue: string, filter: DlqFilterData, page: DlqPageRequest): Promise<Page<DeadListed>> {
    const r = await this.#queue(queue).dlq.page(filter, page);
    return { items: r.jobs, nextCursor: r.next ?? null };
  }

  dlqGroups(queue: string, filter: DlqFilterData, source?: SearchSource): Promise<DlqGroup[]> {
    return this.#queue(queue).dlq.groups(filter, { source });
  }

  dlqReplay(queue: string, r: DlqReplayRequest): Promise<BulkReplayResult> {
    return this.#queue(queue).dlq.replayRequest(r);
  }

  dlqPurge(queue: string, r: DlqPurgeRequest): Promise<PurgeReport> {
    return this.#queue(queue).dlq.purgeRequest(r);
  }

  explain(queue: string, id: string): Promise<Explanation> {
    return this.#queue(queue).explain(id);
  }

  workers(queue: string): Promise<WorkerRegistry> {
    return this.#queue(queue).workers();
  }

  schedulers(queue: string): Promise<Scheduler[]> {
    return this.#queue(queue).schedulers();
  }

  async getScheduler(queue: string, id: string, ticks: number): Promise<SchedulerDetail> {
    const q = this.#queue(queue);
    const s = await q.getScheduler(id);
    return { ...s, ticks: await q.schedulerTicks(id, ticks), upcoming: upcomingRuns(s, 5) };
  }

  upsertScheduler(
    queue: string,
    id: string,
    spec: ScheduleSpec,
    template: ScheduleTemplate<unknown>,
  ): Promise<ScheduledResult> {
    return this.#queue(queue).schedule(id, spec, template);
  }

  setSchedulerPaused(queue: string, id: string, paused: boolean): Promise<Scheduler> {
    const q = this.#queue(queue);
    return paused ? q.pauseScheduler(id) : q.resumeScheduler(id);
  }

  removeScheduler(queue: string, id: string): Promise<void> {
    return this.#queue(queue).removeScheduler(id);
  }

  close(): Promise<void> {
    return this.#close();
  }
}

function encodeCursor(s: number, o: number): string {
  return `${s}.${o}`;
}

function decodeCursor(cursor: string | undefined, states: number): { s: number; o: number } {
  if (cursor === undefined) return { s: 0, o: 0 };
  const m = /^(\d{1,2})\.(\d{1,9})$/.exec(cursor);
  const s = Number(m?.[1]);
  if (!m || s >= states) {
    throw new ValidationError('--cursor', 'a cursor printed by a previous page of the same listing', cursor);
  }
  return { s, o: Number(m[2]) };
}
