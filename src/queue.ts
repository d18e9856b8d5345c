/**
 * The producer and operator API of one queue: add jobs, look them up, pause, cancel, retention,
 * and the dead-letter queue (`queue.dlq`).
 * @module
 */
import { randomInt } from 'node:crypto';

import {
  resolveRateLimitSettings,
  resolveRateLimitStateQuery,
  type RateLimits,
  type RateLimitSettings,
  type RateLimitState,
  type RateLimitStateQuery,
} from './rate-limit.js';
import { isHistoryArchive, type HistoryArchive, type JobArchive, type RecordedKey } from './archive.js';
import type { AddRequest, Backend, Page } from './backend.js';
import { MemoryBackend } from './backends/memory/memory-backend.js';
import { previewPolicy, resolveRetryPolicy, type CustomStrategy, type PolicyPreview } from './backoff.js';
import {
  ANALYTICS_ARCHIVE_MAX_WINDOW_MS,
  ANALYTICS_DEFAULT_WINDOW_MS,
  ANALYTICS_GROUP_BY,
  ANALYTICS_MAX_WINDOW_MS,
  ANALYTICS_SOURCES,
  analyticsPlan,
  analyticsReport,
  archiveAnalyticsReport,
  parseWindow,
  type AnalyticsGroupBy,
  type AnalyticsReport,
  type AnalyticsSource,
} from './analytics.js';
import { DeadLetterQueue } from './dlq.js';
import {
  decodeRetryBudget,
  encodeRetryBudget,
  resolveRetryBudget,
  retryBudgetView,
  type RetryBudget,
} from './retry-budget.js';
import {
  ConflictError,
  InvalidStateError,
  JobNotFoundError,
  SchedulerNotFoundError,
  SourceUnavailableError,
  ValidationError,
} from './errors.js';
import {
  compareSearchKeys,
  FINISHED_STATES,
  parseSearchCursor,
  queryFacets,
  searchCursor,
  SearchSources,
  type JobQuery,
  type SearchSource,
  type SearchKey,
} from './job-index.js';
import {
  assertPriority,
  assertPriorityAging,
  jobOptionsText,
  resolveJobOptions,
  resolveQueueOptions,
  resolveRetention,
  resolveStrategies,
  toJson,
  type JobOptions,
  type QueueOptions,
  type ResolvedQueueOptions,
} from './options.js';
import { resolvePage } from './page.js';
import { assertInt, assertJobId, assertJobName, assertQueueName, checkNote, checkWho } from './validate.js';
import { traceSend } from './tracing.js';
import {
  assertSchedulerId,
  missedText,
  nextRunAfter,
  parseSpecText,
  planResume,
  resolveMissedPolicy,
  resolveOverlapPolicy,
  resolveScheduleSpec,
  specText,
  TICK_LEDGER_LENGTH,
  toScheduler,
  type MissedPolicy,
  type OverlapPolicy,
  type ScheduleSpec,
  type Scheduler,
  type TickRecord,
} from './schedule.js';
import { notifySchedulerChange } from './scheduler-loop.js';
import { HISTORY_PAGE, readRecordedJobs, type ResolvedHistoryScope } from './recorded.js';
import { radarReport, resolveRadarOptions, type RadarOptions, type RadarReport } from './radar.js';
import { auditFold, auditReport, resolveAuditOptions, type AuditOptions, type AuditReport } from './audit.js';
import {
  resolveWhatIfOptions,
  whatIfFold,
  whatIfReport,
  type WhatIfOptions,
  type WhatIfReport,
} from './whatif.js';
import type { WorkerRegistry } from './workers.js';
import { explainJob, HOLD_SOURCES, MAX_COUNTED_AHEAD, type Explanation } from './explain.js';
import { manualRetry, resolveReplayOptions, type ReplayOptions } from './replay.js';
import {
  JobStates,
  type Attempt,
  type EvictionCounts,
  type Job,
  type JobState,
  type RetentionSettings,
  type RetryPolicy,
  type OldestWaiting,
  type StateCounts,
} from './types.js';

let defaultBackend: MemoryBackend | undefined;

/** The process-wide in-memory backend used when a Queue is given none (embedded mode). */
export function defaultMemoryBackend(): MemoryBackend {
  return (defaultBackend ??= new MemoryBackend());
}

/**
 * What `add` returns: the job's id, and whether this call created it (false for a repeated id, or
 * an add folded into an existing job by its dedup or debounce key: then `folded` is true).
 */
export interface AddedJob {
  readonly id: string;
  readonly created: boolean;
  readonly state: JobState;
  readonly folded?: true;
}

/** What each job a scheduler creates gets, and how the scheduler behaves (see `Queue.schedule`). */
export interface ScheduleTemplate<Data> {
  readonly name: string;
  readonly data: Data;
  /** As for `add`, without `id`, `delay` or `runAt` (a scheduler's job is due at its planned time). */
  readonly options?: Omit<JobOptions, 'id' | 'delay' | 'runAt'>;
  /** What a tick does with occurrences missed while no scheduler loop ran. @default 'skip' */
  readonly missed?: MissedPolicy;
  /** What a tick does while the previous job is not finished. @default 'allow' */
  readonly overlap?: OverlapPolicy;
}

/** What `schedule` returns: the scheduler, whether this call created it, and whether its spec changed. */
export interface ScheduledResult extends Scheduler {
  readonly created: boolean;
  readonly specChanged: boolean;
}

export interface BulkJob<Data> {
  readonly name: string;
  readonly data: Data;
  readonly options?: JobOptions;
}

export interface RetryBudgetStatus extends Required<RetryBudget> {
  /** null: the queue's budget; else the job name's own. */
  readonly name: string | null;
  /** Retries are placed up to this time (ms): later than now while the budget defers them. */
  readonly bookedUntil: number;
}

export interface AnalyticsOptions {
  /**
   * ms, or a text: `500ms`, `30s`, `15m`, `2h`, `7d`. @default 1 h; at most 7 d from rollups, 400 d
   * from the archive.
   */
  readonly window?: number | string;
  /** Only the jobs of this name. */
  readonly name?: string;
  /** Adds `groups`: one row per job name, error class, rule or fingerprint. */
  readonly by?: AnalyticsGroupBy;
  /**
   * `rollups`, `archive` (the queue's archive: SQL over archived attempts; finished, archived jobs
   * only) or `auto`: the archive for a window longer than 7 d when the queue has one, else rollups.
   * @default 'auto'
   */
  readonly source?: AnalyticsSource;
}

/**
 * The window of an analytics report in ms, validated (field `window`): at most 7 d (the rollups
 * keep hour buckets 8 d), or `max` (400 d over the archive).
 */
export function resolveAnalyticsWindow(
  window: number | string | undefined,
  max: number = ANALYTICS_MAX_WINDOW_MS,
): number {
  if (window === undefined) return ANALYTICS_DEFAULT_WINDOW_MS;
  const rule =
    max === ANALYTICS_MAX_WINDOW_MS
      ? 'a duration from 1 s to 7 d: ms, or a text such as 30s, 15m, 2h, 7d'
      : 'a duration from 1 s to 400 d: ms, or a text such as 30s, 15m, 2h, 7d, 90d';
  const ms = typeof window === 'number' || typeof window === 'string' ? parseWindow(window) : undefined;
  if (ms === undefined || ms < 1000 || ms > max) {
    throw new ValidationError('window', rule, window);
  }
  return ms;
}

export { SearchSources, type SearchSource } from './job-index.js';

export class Queue<Data = unknown, Result = unknown> {
  readonly name: string;
  readonly backend: Backend;
  /** Where `getJob` looks when the backend no longer has a job (`QueueOptions.archive`). */
  readonly archive: JobArchive | undefined;
  readonly options: ResolvedQueueOptions;
  readonly dlq: DeadLetterQueue;
  #init: Promise<void> | undefined;
  /** Custom strategies known here: the queue's own, then those of its workers in this process. */
  #strategies: Record<string, CustomStrategy>;

  constructor(name: string, options?: QueueOptions) {
    assertQueueName(name);
    this.name = name;
    this.options = resolveQueueOptions(options);
    this.backend = options?.backend ?? defaultMemoryBackend();
    this.archive = options?.archive;
    this.dlq = new DeadLetterQueue(this);
    this.#strategies = { ...this.options.strategies };
  }

  /**
   * Makes a worker's custom strategies known to `preview()`. A name already known keeps its
   * function (the queue's own option, or the first worker's).
   * @internal
   */
  registerStrategies(strategies: Readonly<Record<string, CustomStrategy>>): void {
    for (const [name, fn] of Object.entries(strategies)) {
      if (!Object.hasOwn(this.#strategies, name)) this.#strategies[name] = fn;
    }
  }

  /**
   * Turns the queue's archive on when it has one (`QueueOptions.archive`: from then on retention
   * holds every finished job until it is archived), and writes the retention given at construction,
   * once, before the first operation (a Worker calls
   * it too, so a process that only consumes still applies it).
   * @internal
   */
  ready(): Promise<void> {
    const { retention, priorityAgingMs, defaultPriority, rateLimit } = this.options;
    const archive = this.options.readArchiveOnly ? undefined : this.archive;
    if (
      !retention &&
      priorityAgingMs === undefined &&
      defaultPriority === undefined &&
      !archive &&
      !rateLimit
    ) {
      return Promise.resolve();
    }
    return (this.#init ??= (async () => {
      // The archive first: once retention applies, it holds every job not archived yet.
      if (archive) await this.backend.setArchive(this.name, true);
      await Promise.all([
        retention && this.backend.setRetention(this.name, retention),
        priorityAgingMs !== undefined && this.backend.setPriorityAging(this.name, priorityAgingMs),
        defaultPriority !== undefined && this.backend.setDefaultPriority(this.name, defaultPriority),
        rateLimit && this.backend.setRateLimits(this.name, rateLimit),
      ]);
    })());
  }

  /** Adds one job. With `options.id`, adding the same id again returns the existing job unchanged. */
  async add(name: string, data: Data, options?: JobOptions): Promise<AddedJob> {
    const [added] = await this.#addMany([{ name, data, ...(options ? { options } : {}) }], '');
    return added as AddedJob;
  }

  /** Adds many jobs in one round trip. All are validated first: one bad job means none is added. */
  async addBulk(jobs: readonly BulkJob<Data>[]): Promise<AddedJob[]> {
    if (!Array.isArray(jobs)) throw new ValidationError('jobs', 'an array of { name, data, options? }', jobs);
    if (jobs.length > 10_000) {
      throw new ValidationError('jobs', 'at most 10000 jobs per call', `${jobs.length} jobs`);
    }
    return this.#addMany(jobs, 'jobs');
  }

  async #addMany(jobs: readonly BulkJob<Data>[], field: string): Promise<AddedJob[]> {
    const reqs: AddRequest[] = jobs.map((j, i) => {
      // Field paths are built only for an error message.
      const at = (name: string): string => (field ? `${field}[${i}].${name}` : name);
      if (typeof j !== 'object' || j === null) throw new ValidationError(`${field}[${i}]`, 'an object', j);
      assertJobName(j.name, at('name'));
      const data = toJson(j.data, at('data'), this.options.maxDataBytes);
      if (j.options === undefined) {
        // The common case: the queue's defaults, resolved and serialised once.
        const d = (this.#defaults ??= this.#resolveDefaults());
        return {
          id: undefined,
          name: j.name,
          data,
          opts: d.opts,
          maxStalls: d.maxStalls,
          delayMs: 0,
          runAt: undefined,
          priority: d.priority,
        };
      }
      const o = resolveJobOptions(j.options, this.options, at('options'));
      return {
        id: o.id,
        name: j.name,
        data,
        opts: jobOptionsText(o, this.options),
        maxStalls: o.maxStalls,
        delayMs: o.delayMs,
        runAt: o.runAt,
        priority: o.priority,
        ...(o.dedup ? { dedup: o.dedup } : {}),
        ...(o.group !== undefined ? { group: o.group } : {}),
      };
    });
    if (reqs.length === 0) return [];
    await this.ready();
    if (!this.options.tracing.enabled) return this.backend.add(this.name, reqs);
    return traceSend(
      this.name,
      reqs.length,
      (trace) => this.backend.add(this.name, trace === undefined ? reqs : reqs.map((r) => ({ ...r, trace }))),
      (added) => added.map((a) => a.id),
    );
  }

  #defaults: { opts: string; maxStalls: number; priority: number | undefined } | undefined;

  #resolveDefaults(): { opts: string; maxStalls: number; priority: number | undefined } {
    const o = resolveJobOptions(undefined, this.options);
    return { opts: jobOptionsText(o, this.options), maxStalls: o.maxStalls, priority: o.priority };
  }

  /**
   * The job with its full attempt history, or null. A job retention evicted from the backend is
   * read from the archive, when the queue has one (marked `archived: true`).
   */
  async getJob(id: string): Promise<Job<Data, Result> | null> {
    assertJobId(id);
    const job = await this.backend.getJob(this.name, id);
    if (job || !this.archive) return job as Job<Data, Result> | null;
    return (await this.archive.getJob(this.name, id)) as Job<Data, Result> | null;
  }

  /** The job's attempt records, oldest first. Throws JobNotFoundError for an unknown id. */
  async history(id: string): Promise<Attempt[]> {
    const attempts =
      (await this.backend.getAttempts(this.name, id)) ??
      (this.archive ? (await this.archive.getJob(this.name, id))?.attempts.slice() : undefined);
    if (!attempts) throw new JobNotFoundError(this.name, id);
    return attempts;
  }

  /**
   * Jobs matching a query that names at least one indexed filter (name, error class, rule, error
   * code, fingerprint, trigger, or at least 2 attempts made; see `queryFacets` in job-index.ts),
   * newest created first, served by the backend's search indexes. `cursor` is the `next` of the
   * previous page. A page may be short while `next` is set (each call examines a bounded number of
   * candidates on Redis).
   *
   * `source` (a queue with an archive, `QueueOptions.archive`): `archive` searches the archive alone,
   * with any filters (no indexed one needed); `all` merges the backend's matches and the archive's,
   * in the same order, one cursor over both (each job once: as the backend has it while it does).
   * Archived jobs come marked `archived: true`; the archive holds finished jobs only. Without an
   * archive, `archive` finds nothing and `all` is `live`.
   */
  async searchJobs(
    query: JobQuery,
    page: { cursor?: string | undefined; limit?: number; source?: SearchSource | undefined } = {},
  ): Promise<{ jobs: Job<Data, Result>[]; next: string | undefined }> {
    if (!JobStates.includes(query.state)) {
      throw new ValidationError('state', `one of ${JobStates.join(', ')}`, query.state);
    }
    const source = page.source ?? 'live';
    if (!SearchSources.includes(source)) {
      throw new ValidationError('source', `one of ${SearchSources.join(', ')}`, source);
    }
    // Without an archive there is nothing archived: `archive` finds nothing, `all` the live jobs.
    const archive = this.archive;
    if (source === 'archive' && !archive) return { jobs: [], next: undefined };
    if (source === 'archive' && archive) {
      const after = page.cursor === undefined ? undefined : parseSearchCursor(page.cursor);
      if (page.cursor !== undefined && after === undefined) {
        throw new ValidationError('cursor', 'a `next` returned by a previous page', page.cursor);
      }
      const { limit } = resolvePage(page.limit === undefined ? {} : { limit: page.limit });
      const r = await archive.searchJobs(this.name, query, after, limit);
      return {
        jobs: r.jobs as Job<Data, Result>[],
        next: r.next === undefined ? undefined : searchCursor(r.next),
      };
    }
    if (queryFacets(query).length === 0) {
      throw new ValidationError(
        'query',
        'a query with name, errorClass, rule, errorCode, fingerprint, trigger or minAttempts >= 2 (else use getJobs)',
      );
    }
    if (page.cursor !== undefined && parseSearchCursor(page.cursor) === undefined) {
      throw new ValidationError('cursor', 'a `next` returned by a previous page', page.cursor);
    }
    const { limit } = resolvePage(page.limit === undefined ? {} : { limit: page.limit });
    await this.ready();
    const r = await this.backend.searchJobs(this.name, query, page.cursor, limit);
    if (source === 'all' && archive && FINISHED_STATES.includes(query.state)) {
      return (await this.#mergeArchived(archive, query, page.cursor, limit, r)) as {
        jobs: Job<Data, Result>[];
        next: string | undefined;
      };
    }
    return r as { jobs: Job<Data, Result>[]; next: string | undefined };
  }

  /**
   * `source: 'all'`: the backend's page and the archive's, merged in the one search order. Both are
   * read after the same cursor. A backend page cut short by its budget has examined everything up
   * to its `next` only: archived jobs past that point wait for the next page. A job the backend
   * still holds (not evicted yet, or replayed since) is shown as the backend has it, once.
   */
  async #mergeArchived(
    archive: JobArchive,
    query: JobQuery,
    cursor: string | undefined,
    limit: number,
    live: { jobs: Job[]; next: string | undefined },
  ): Promise<{ jobs: Job[]; next: string | undefined }> {
    const after = cursor === undefined ? undefined : parseSearchCursor(cursor);
    const arch = await archive.searchJobs(this.name, query, after, limit);
    const frontier = live.next === undefined ? undefined : parseSearchCursor(live.next);
    const key = (j: Job): SearchKey => ({ createdAt: j.createdAt, id: j.id });
    const liveIds = new Set(live.jobs.map((j) => j.id));
    const fresh = arch.jobs.filter(
      (j) => !liveIds.has(j.id) && (frontier === undefined || compareSearchKeys(key(j), frontier) < 0),
    );
    const held = await Promise.all(fresh.map((j) => this.backend.getJob(this.name, j.id)));
    const merged = [...live.jobs, ...fresh.filter((_, i) => !held[i])].sort((a, b) =>
      compareSearchKeys(key(a), key(b)),
    );
    const jobs = merged.slice(0, limit);
    const more = merged.length > limit || live.next !== undefined || arch.next !== undefined;
    const last = jobs[jobs.length - 1];
    let next: string | undefined;
    if (more) next = last ? searchCursor(key(last)) : (live.next ?? (arch.next && searchCursor(arch.next)));
    return { jobs, next };
  }

  /** Jobs in one state, a page at a time (finished states: most recent first). */
  async getJobs(state: JobState, page: Partial<Page> = {}): Promise<Job<Data, Result>[]> {
    if (!JobStates.includes(state)) {
      throw new ValidationError('state', `one of ${JobStates.join(', ')}`, state);
    }
    const p = resolvePage(page);
    await this.ready();
    return (await this.backend.listJobs(this.name, state, p)) as Job<Data, Result>[];
  }

  async counts(): Promise<StateCounts> {
    return this.backend.counts(this.name);
  }

  /** The job waiting longest, or null when nothing waits (one read per priority, no scan). */
  async oldestWaiting(): Promise<OldestWaiting | null> {
    return this.backend.oldestWaiting(this.name);
  }

  /** Stops workers from claiming; nothing is lost, and jobs in flight finish. */
  async pause(): Promise<void> {
    await this.backend.setPaused(this.name, true);
  }

  async resume(): Promise<void> {
    await this.backend.setPaused(this.name, false);
  }

  async isPaused(): Promise<boolean> {
    return this.backend.isPaused(this.name);
  }

  /**
   * Cancels a scheduled, waiting or active job: a terminal state with who and why. An active job's
   * worker loses its lease (its signal aborts at the next renewal) and its late result is refused.
   */
  async cancel(id: string, by: { by: string; reason?: string }): Promise<void> {
    checkWho(by?.by);
    checkNote(by.reason, 'reason');
    await this.ready();
    const r = await this.backend.cancel(this.name, id, by.by, by.reason);
    if (r.ok) return;
    if (r.reason === 'not_found') throw new JobNotFoundError(this.name, id);
    throw new InvalidStateError(id, r.state ?? 'finished', 'scheduled, waiting or active');
  }

  /**
   * Runs a job now, by hand: a job waiting for its retry (scheduled) or a dead one. The next attempt
   * is recorded with trigger `manual`, who and why (and a data patch as a diff, if given). A
   * scheduled job keeps its retry budget; a dead job's starts afresh, as with `dlq.replay`.
   */
  async retryNow(id: string, options: ReplayOptions): Promise<Job<Data, Result>> {
    return (await manualRetry(this, id, resolveReplayOptions(options), true)) as Job<Data, Result>;
  }

  async setRetention(settings: RetentionSettings): Promise<void> {
    await this.backend.setRetention(this.name, resolveRetention(settings, 'retention'));
  }

  /**
   * Priority aging: a waiting job gains one priority level per `agingMs` waited (0 = strict order
   * between priorities). Applies at once to the jobs already waiting.
   */
  async setPriorityAging(agingMs: number): Promise<void> {
    await this.backend.setPriorityAging(this.name, assertPriorityAging(agingMs, 'agingMs'));
  }

  /**
   * Retry analytics over the last `window` (ms, or a text such as `15m`, `2h`, `7d`; default 1 h,
   * at most 7 d), from the rollups the finish transition keeps (src/analytics.ts): attempts at
   * completion, the chance of success at attempt n, time to success and drift, wasted attempts,
   * dead letters, failures by class, rule and fingerprint, a suggested `attempts`. Optionally for
   * one job `name`, and grouped `by` name, errorClass, rule or fingerprint. Reads no job: the
   * figures outlive retention (minute buckets kept 3 h, hour buckets 8 d).
   */
  async analytics(options: AnalyticsOptions = {}): Promise<AnalyticsReport> {
    const asked = options.source ?? 'auto';
    if (!(ANALYTICS_SOURCES as readonly string[]).includes(asked)) {
      throw new ValidationError('source', `one of ${ANALYTICS_SOURCES.join(', ')}`, asked);
    }
    const history = this.archive && isHistoryArchive(this.archive) ? this.archive : undefined;
    const archive = asked === 'archive' ? this.#historyArchive('source', 'rollups or auto') : undefined;
    const windowMs = resolveAnalyticsWindow(options.window, ANALYTICS_ARCHIVE_MAX_WINDOW_MS);
    if (windowMs > ANALYTICS_MAX_WINDOW_MS && (asked === 'rollups' || !history)) {
      throw new SourceUnavailableError(
        'window',
        asked === 'rollups'
          ? 'at most 7 d with source rollups (hour buckets are kept 8 d): use source archive or auto for longer'
          : 'at most 7 d on a queue without an archive (rollups keep hour buckets 8 d; QueueOptions.archive, --postgres for the server and the CLI)',
        options.window,
      );
    }
    if (options.name !== undefined) assertJobName(options.name, 'name');
    if (options.by !== undefined && !(ANALYTICS_GROUP_BY as readonly string[]).includes(options.by)) {
      throw new ValidationError('by', `one of ${ANALYTICS_GROUP_BY.join(', ')}`, options.by);
    }
    const from = archive ?? (asked === 'auto' && windowMs > ANALYTICS_MAX_WINDOW_MS ? history : undefined);
    const now = await this.backend.now();
    const plan = analyticsPlan(now, windowMs, from !== undefined);
    const query = { queue: this.name, windowMs, name: options.name, by: options.by };
    if (from) {
      // Every attempt that ended in the buckets the rollups would read: [first start, last end).
      const counts = await from.analyticsCounts(this.name, {
        from: plan.from,
        to: plan.end,
        name: options.name,
      });
      return archiveAnalyticsReport(query, plan, counts);
    }
    const buckets = await this.backend.readRollups(this.name, plan.resolution, plan.starts);
    return analyticsReport(query, plan, buckets);
  }

  /** The queue's archive, for a question only the archive answers; else an error naming `field`. */
  #historyArchive(field: string, otherwise: string): HistoryArchive {
    const a = this.archive;
    if (!a) {
      throw new SourceUnavailableError(
        field,
        `${otherwise}: this queue has no archive (QueueOptions.archive; --postgres for the server and the CLI)`,
        'archive',
      );
    }
    if (!isHistoryArchive(a)) {
      throw new SourceUnavailableError(
        field,
        `${otherwise}: this queue's archive cannot answer analytics, what-if or audit (no analyticsCounts, recordedPage, recordedDrifts)`,
        'archive',
      );
    }
    return a;
  }

  /**
   * Streams the finished jobs of `scope` from the archive into `add`, `HISTORY_PAGE` at a time
   * (keyset pages: bounded memory at any depth), at most `scope.limit`; true when more matched.
   */
  async #streamArchived(
    archive: HistoryArchive,
    scope: ResolvedHistoryScope,
    add: (job: Job) => void,
  ): Promise<boolean> {
    let after: RecordedKey | undefined;
    let read = 0;
    for (;;) {
      const want = Math.min(HISTORY_PAGE, scope.limit - read);
      const page = await archive.recordedPage(this.name, scope, after, want);
      for (const job of page.jobs) add(job);
      read += page.jobs.length;
      if (page.next === undefined) return false;
      if (read >= scope.limit) return true;
      after = page.next;
    }
  }

  /**
   * Turns the analytics rollups of this queue on (the default) or off: off, finishing an attempt
   * writes none (the bench compares the two; a queue whose analytics nobody reads saves the writes).
   */
  async setRollups(on: boolean): Promise<void> {
    if (typeof on !== 'boolean') throw new ValidationError('on', 'a boolean', on);
    await this.backend.setRollups(this.name, on);
  }

  /**
   * Sets the queue's retry budget (src/retry-budget.ts), or with `name` that job name's own (it
   * replaces the queue's for those jobs); null removes it. Over budget, a retry is deferred (or
   * dead-lettered with reason `budget` when `onExhausted: 'dead'`), its decision saying so.
   */
  async setRetryBudget(budget: RetryBudget | null, options: { name?: string } = {}): Promise<void> {
    if (options.name !== undefined) assertJobName(options.name, 'name');
    const text = budget === null ? null : encodeRetryBudget(resolveRetryBudget(budget, 'budget'));
    await this.backend.setRetryBudget(this.name, options.name, text);
  }

  /** The queue's retry budget (name null) and the job names' own, with how far each is booked ahead. */
  async getRetryBudgets(): Promise<RetryBudgetStatus[]> {
    const entries = await this.backend.getRetryBudgets(this.name);
    const out: RetryBudgetStatus[] = [];
    for (const e of entries) {
      const b = decodeRetryBudget(e.budget);
      if (b) out.push({ name: e.name ?? null, ...retryBudgetView(b), bookedUntil: e.bookedUntil });
    }
    return out;
  }

  async getPriorityAging(): Promise<number> {
    return this.backend.getPriorityAging(this.name);
  }

  /**
   * The priority of jobs added without one, stored with the queue: every producer applies it (this
   * process's other `Queue` objects, the HTTP API, the CLI), and schedulers created or updated
   * from then on. Jobs already added keep theirs. A `Queue` whose `defaultPriority` option is set
   * sends that one with its adds instead (and stores it when first used).
   */
  async setDefaultPriority(priority: number): Promise<void> {
    await this.backend.setDefaultPriority(this.name, assertPriority(priority, 'priority'));
  }

  async getDefaultPriority(): Promise<number> {
    return this.backend.getDefaultPriority(this.name);
  }

  /**
   * Changes the queue's rate limits: each key given is set, `null` removes it, keys not given are
   * kept (`{ groups: { 'tenant-42': null } }` removes that group's own limit only). Applies from the
   * next claim; groups waiting for a token under the old limits are looked at again at once.
   * @example await queue.setRateLimits({ queue: { rate: 50 }, group: { rate: 5, burst: 10 } })
   */
  async setRateLimits(settings: RateLimitSettings): Promise<void> {
    await this.backend.setRateLimits(this.name, resolveRateLimitSettings(settings, 'settings'));
  }

  /** The queue's rate limits, and when its bucket gives its next token if it is empty now. */
  async getRateLimits(): Promise<RateLimits> {
    return this.backend.getRateLimits(this.name);
  }

  /**
   * The rate-limit view, read by the backend's clock: the queue's bucket (its limit, tokens now, the
   * next token, a handler's pause and why), the default group limit, and one page of groups (their
   * waiting jobs, tokens, next token, pause, turn). `filter`: `waiting` (default: the groups taking
   * turns in turn order, then the parked ones), `turns`, `parked`, `paused`; `limit` 1 … 500
   * (default 50); `cursor`: the previous page's `nextCursor`; `group`: that group's row only.
   * A queue may have 100 000 groups: one call reads at most `limit` of them.
   * @example const page = await queue.rateLimitState({ filter: 'paused' })
   */
  async rateLimitState(query: RateLimitStateQuery = {}): Promise<RateLimitState> {
    return this.backend.rateLimitState(this.name, resolveRateLimitStateQuery(query, 'query'));
  }

  async getRetention(): Promise<RetentionSettings> {
    return this.backend.getRetention(this.name);
  }

  /** How many finished jobs retention has removed, per state. */
  async evictions(): Promise<EvictionCounts> {
    return this.backend.evictions(this.name);
  }

  /**
   * Creates or updates the scheduler `id`: a cron expression in a time zone (`{ cron, tz }`, tz
   * default UTC) or a fixed interval (`{ every: ms }`), and the job each tick creates. Upsert by id,
   * atomic in the backend: any number of processes may call it at once with the same id (at start-up,
   * say) and one scheduler results; calling it again with the same spec keeps its next run. A
   * scheduler loop (`SchedulerLoop`, run by `retraced worker`, `server` and `dev`) fires it.
   * @example queue.schedule('nightly-report', { cron: '0 3 * * *', tz: 'Europe/Paris' }, { name: 'report', data: {} })
   */
  async schedule(id: string, spec: ScheduleSpec, template: ScheduleTemplate<Data>): Promise<ScheduledResult> {
    assertSchedulerId(id);
    const resolved = resolveScheduleSpec(spec);
    if (typeof template !== 'object' || template === null) {
      throw new ValidationError(
        'template',
        'an object { name, data, options?, missed?, overlap? }',
        template,
      );
    }
    const known = ['name', 'data', 'options', 'missed', 'overlap'];
    const extra = Object.keys(template).find((k) => !known.includes(k));
    if (extra !== undefined) {
      throw new ValidationError(`template.${extra}`, `not set (known: ${known.join(', ')})`);
    }
    assertJobName(template.name, 'template.name');
    const data = toJson(template.data, 'template.data', this.options.maxDataBytes);
    const o = template.options as Record<string, unknown> | undefined;
    for (const k of ['id', 'delay', 'runAt']) {
      if (o && typeof o === 'object' && o[k] !== undefined) {
        throw new ValidationError(
          `template.options.${k}`,
          "not set on a scheduler's jobs (they are due at their planned time)",
        );
      }
    }
    for (const k of ['dedup', 'debounce']) {
      if (o && typeof o === 'object' && o[k] !== undefined) {
        throw new ValidationError(
          `template.options.${k}`,
          "not set on a scheduler's jobs (its overlap policy says what a tick does while a job runs)",
        );
      }
    }
    const jo = resolveJobOptions(template.options, this.options, 'template.options');
    const missed = resolveMissedPolicy(template.missed, 'template.missed');
    const overlap = resolveOverlapPolicy(template.overlap, 'template.overlap');
    await this.ready();
    const now = await this.backend.now();
    const r = await this.backend.upsertScheduler(this.name, {
      id,
      spec: specText(resolved),
      anchor: now,
      nextRunAt: nextRunAfter(resolved, now, now),
      name: template.name,
      data,
      opts: jobOptionsText(jo, this.options),
      maxStalls: jo.maxStalls,
      // A scheduler without a priority takes the queue's default as it is now (its record shows it).
      priority: jo.priority ?? (await this.backend.getDefaultPriority(this.name)),
      group: jo.group,
      missed: missedText(missed),
      overlap,
    });
    notifySchedulerChange(this.backend, this.name);
    const s = await this.getScheduler(id);
    return { ...s, created: r.created, specChanged: r.specChanged };
  }

  /** The scheduler `id`; throws SchedulerNotFoundError if there is none. */
  async getScheduler(id: string): Promise<Scheduler> {
    assertSchedulerId(id);
    const r = await this.backend.getScheduler(this.name, id);
    if (!r) throw new SchedulerNotFoundError(this.name, id);
    return toScheduler(this.name, r);
  }

  /** Every scheduler of this queue, by next run (paused ones last). */
  async schedulers(): Promise<Scheduler[]> {
    return (await this.backend.listSchedulers(this.name)).map((r) => toScheduler(this.name, r));
  }

  /**
   * A scheduler's tick ledger, newest first: each tick's planned and actual time and the job it
   * created, or why it was skipped (paused, overlap, missed while no loop ran).
   */
  async schedulerTicks(id: string, limit = 50): Promise<TickRecord[]> {
    assertSchedulerId(id);
    const n = assertInt(limit, 'limit', 1, TICK_LEDGER_LENGTH);
    if (!(await this.backend.getScheduler(this.name, id))) throw new SchedulerNotFoundError(this.name, id);
    return this.backend.schedulerTicks(this.name, id, n);
  }

  /** Stops a scheduler ticking; what it skips while paused is recorded when it resumes. */
  async pauseScheduler(id: string): Promise<Scheduler> {
    assertSchedulerId(id);
    if ((await this.backend.pauseScheduler(this.name, id)) === 'not_found') {
      throw new SchedulerNotFoundError(this.name, id);
    }
    notifySchedulerChange(this.backend, this.name);
    return this.getScheduler(id);
  }

  /**
   * Resumes a paused scheduler: the occurrences due while it was paused are recorded as skipped
   * (one ledger entry, reason `paused`) and it runs next at its first occurrence from now.
   */
  async resumeScheduler(id: string): Promise<Scheduler> {
    assertSchedulerId(id);
    for (let i = 0; i < 5; i++) {
      const r = await this.backend.getScheduler(this.name, id);
      if (!r) throw new SchedulerNotFoundError(this.name, id);
      if (!r.paused) return toScheduler(this.name, r);
      const now = await this.backend.now();
      const plan = planResume(parseSpecText(r.spec), r.anchor, r.nextRunAt, now);
      const res = await this.backend.resumeScheduler(this.name, id, {
        expectNextRunAt: r.nextRunAt,
        nextRunAt: plan.nextRunAt,
        skipped: plan.skipped,
      });
      if (res === 'not_found') throw new SchedulerNotFoundError(this.name, id);
      if (res !== 'changed') {
        notifySchedulerChange(this.backend, this.name);
        return this.getScheduler(id);
      }
    }
    throw new ConflictError(`scheduler ${JSON.stringify(id)} kept changing while it was resumed`);
  }

  /** Removes a scheduler and its ledger (the jobs it created stay); throws if there is none. */
  async removeScheduler(id: string): Promise<void> {
    assertSchedulerId(id);
    if (!(await this.backend.removeScheduler(this.name, id))) throw new SchedulerNotFoundError(this.name, id);
    notifySchedulerChange(this.backend, this.name);
  }

  /**
   * What would have happened under another retry policy and/or error-code table: the most recent
   * finished jobs (completed and dead; at most `limit`, default 10,000, read 500 at a time through
   * the ordinary listings) replayed attempt by attempt through the worker's own decision functions,
   * side by side with what was recorded. Where the alternative runs attempts the record does not
   * have, the report gives optimistic and pessimistic bounds, never a guess. Reads only: changes
   * nothing. Custom strategies are those `preview` knows. See src/whatif.ts for the model.
   */
  async whatIf(options?: WhatIfOptions): Promise<WhatIfReport> {
    const o = resolveWhatIfOptions(options, () => randomInt(0x1_0000_0000));
    if (o.source === 'archive') {
      const archive = this.#historyArchive('source', 'live');
      const fold = whatIfFold(this.name, o, this.#strategies);
      const truncated = await this.#streamArchived(archive, o.scope, (job) => fold.add(job));
      return fold.report(truncated);
    }
    await this.ready();
    const read = await readRecordedJobs(this.backend, this.name, o.scope);
    return whatIfReport(this.name, read, o, this.#strategies);
  }

  /**
   * A self-audit of recorded behaviour: for each recorded retry of the most recent finished jobs
   * (bounded as for `whatIf`), the delay the job's stored policy should have produced (recomputed by
   * the worker's own decision function, with the recorded jitter draw) against the recorded delay and
   * the next attempt's real start. Findings: delays off by more than `toleranceMs` (default 50),
   * wrong decisions, due times that do not add up, early starts, ignored Retry-After, drift outliers,
   * jobs with more attempts than their policy. Reads only. See src/audit.ts.
   */
  async audit(options?: AuditOptions): Promise<AuditReport> {
    const o = resolveAuditOptions(options);
    if (o.source === 'archive') {
      const archive = this.#historyArchive('source', 'live');
      // The drift fence first (a light query: numbers only), then the jobs, streamed.
      const drifts = await archive.recordedDrifts(this.name, o.scope);
      const fold = auditFold(this.name, o, drifts, this.#strategies);
      const truncated = await this.#streamArchived(archive, o.scope, (job) => fold.add(job));
      return fold.report(truncated);
    }
    await this.ready();
    const read = await readRecordedJobs(this.backend, this.name, o.scope);
    return auditReport(this.name, read, o, this.#strategies);
  }

  /**
   * The storm radar: the retries due in each second of the next `horizonMs` (default 5 min) from
   * the scheduled set (at most `max` jobs read, default 10,000, by the backend's clock), bursts
   * flagged by a stated rule, and which policies lack jitter. Reads only. See src/radar.ts.
   */
  async radar(options?: RadarOptions): Promise<RadarReport> {
    const o = resolveRadarOptions(options);
    await this.ready();
    return radarReport(this.name, await this.backend.scheduledDue(this.name, o.horizonMs, o.max), o);
  }

  /**
   * Why a job is not running, from recorded state (see src/explain.ts): typed holds in order (due
   * in 3 s with the retry decision that set it, queue paused, behind N jobs a claim takes first,
   * no live worker for 2 min, and the rate-limit and retry-budget holds of `HOLD_SOURCES`), or
   * what finished it. For an id of a scheduler's job not created yet (`sch:<scheduler>:<ms>`),
   * what its scheduler will do. Throws JobNotFoundError for an unknown id. Reads only.
   */
  async explain(id: string): Promise<Explanation> {
    assertJobId(id);
    const job = (await this.getJob(id)) as Job | null;
    let scheduler: Scheduler | null = null;
    let plannedAt: number | undefined;
    if (!job) {
      const m = /^sch:(.+):(\d{1,16})$/.exec(id);
      const r = m ? await this.backend.getScheduler(this.name, m[1] as string) : null;
      if (!r || !m) throw new JobNotFoundError(this.name, id);
      scheduler = toScheduler(this.name, r);
      plannedAt = Number(m[2]);
    }
    const waiting = job?.state === 'waiting';
    const [now, paused, agingMs, ahead, workers] = await Promise.all([
      this.backend.now(),
      this.backend.isPaused(this.name),
      this.backend.getPriorityAging(this.name),
      waiting ? this.backend.waitingAhead(this.name, id, MAX_COUNTED_AHEAD) : Promise.resolve(null),
      this.backend.listWorkers(this.name),
    ]);
    const ctx = { backend: this.backend, queue: this.name, job, now };
    const extra = (await Promise.all(HOLD_SOURCES.map((source) => source(ctx)))).flat();
    return explainJob(
      {
        queue: this.name,
        id,
        now,
        job,
        paused,
        agingMs,
        ahead,
        workers,
        ...(scheduler ? { scheduler, plannedAt } : {}),
      },
      extra,
    );
  }

  /**
   * The live workers of this queue (each Worker registers with a heartbeat; an entry expires after
   * three missed beats, and goes at once when its worker closes), and when one was last seen.
   */
  async workers(): Promise<WorkerRegistry> {
    return this.backend.listWorkers(this.name);
  }

  /**
   * What a policy (default: this queue's) will do, without running anything. A custom strategy is
   * found in `options.strategies` (given here), then the queue's `strategies` option, then those of
   * the Workers created on this queue object; an unknown one throws a ValidationError naming them.
   */
  preview(
    policy?: RetryPolicy,
    options: { strategies?: Readonly<Record<string, CustomStrategy>> } = {},
  ): PolicyPreview {
    const resolved = policy === undefined ? this.options.retry : resolveRetryPolicy(policy, 'policy');
    const given = resolveStrategies(options?.strategies, 'options.strategies');
    return previewPolicy(resolved, { strategies: { ...this.#strategies, ...given } });
  }
}
