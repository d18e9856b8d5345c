/**
 * The client over a running `retraced server`: `fetch` against the HTTP API's routes, with the
 * bearer token, turning `application/problem+json` answers back into errors with their stable
 * `code` (so the exit code is the same as against Redis directly).
 * @module
 */
import type {
  BulkReplayResult,
  DeadListed,
  DlqGroup,
  DlqPurgeRequest,
  DlqReplayRequest,
  PurgeReport,
  ReplayOptions,
} from '../dlq.js';
import { resolveDlqFilter, type DlqFilter } from '../dlq-filter.js';
import { ValidationError } from '../errors.js';
import type { JobOptions } from '../options.js';
import type { AddedJob, BulkJob, RetryBudgetStatus, ScheduledResult, ScheduleTemplate } from '../queue.js';
import {
  resolveRateLimitSettings,
  resolveRateLimitStateQuery,
  type RateLimitSettings,
  type RateLimitState,
  type RateLimitStateQuery,
  type RateLimitsView,
} from '../rate-limit.js';
import { resolveRetryBudget, type RetryBudget } from '../retry-budget.js';
import type { ScheduleSpec, Scheduler, SchedulerDetail } from '../schedule.js';
import type { AuditOptions, AuditReport } from '../audit.js';
import type { RadarOptions, RadarReport } from '../radar.js';
import type { WhatIfOptions, WhatIfReport } from '../whatif.js';
import type { ErrorSummary, JobSummary } from '../summary.js';
import type { Job, JobState } from '../types.js';
import type { AnalyticsReport } from '../analytics.js';
import type { WorkerRegistry } from '../workers.js';
import type { Explanation } from '../explain.js';
import type { SearchSource } from '../job-index.js';
import type {
  AnalyticsQueryData,
  Client,
  DlqFilterData,
  DlqPageRequest,
  JobQuery,
  Page,
  QueueInfo,
} from './client.js';
import { LIST_ORDER } from './client.js';
import { CliError, RemoteError } from './exit-codes.js';
import { redactUrl } from './redact.js';

const TIMEOUT_MS = 60_000;

type Query = Record<string, string | number | undefined>;

export class HttpClient implements Client {
  readonly target: string;
  readonly #base: URL;
  readonly #token: string | undefined;

  constructor(url: string, token: string | undefined) {
    let base: URL | undefined;
    try {
      base = new URL(url);
    } catch {
      base = undefined;
    }
    if (!base || (base.protocol !== 'http:' && base.protocol !== 'https:')) {
      throw new ValidationError(
        '--url',
        'an http:// or https:// URL such as http://127.0.0.1:7411',
        redactUrl(url),
      );
    }
    // fetch refuses such a URL with a message that quotes it whole, password included.
    if (base.username !== '' || base.password !== '') {
      throw new ValidationError(
        '--url',
        'a URL without credentials (the API takes a bearer token: --token or RETRACED_TOKEN)',
        redactUrl(url),
      );
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.#base = base;
    this.#token = token;
    this.target = base.origin + base.pathname.replace(/\/$/, '');
  }

  async #call<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    options: { body?: unknown; query?: Query } = {},
  ): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.#base);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    // The server refuses a change without this type (what keeps web pages from making one), so
    // a POST with nothing to say sends {}.
    const sent = method === 'GET' ? options.body : (options.body ?? {});
    if (sent !== undefined) headers['content-type'] = 'application/json';
    // Before the request: a failure here is not the server's being unreachable.
    const payload = sent === undefined ? undefined : JSON.stringify(sent);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
      throw new CliError('RETRACED_CLI_UNREACHABLE', `cannot reach the server at ${this.target}: ${why}`, {
        cause: e,
      });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      body = undefined;
    }
    if (res.ok) return body as T;
    throw this.#problem(res.status, body, text);
  }

  #problem(status: number, body: unknown, text: string): RemoteError {
    const p = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const str = (k: string): string | undefined => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
    const code = str('code') ?? `HTTP_${status}`;
    let message = str('detail') ?? str('message') ?? str('title') ?? (text.slice(0, 200) || `HTTP ${status}`);
    if (status === 401) {
      message += this.#token ? ' (the server refused this token)' : ' (pass --token or set RETRACED_TOKEN)';
    }
    return new RemoteError(status, code, message, str('field'));
  }

  async now(): Promise<number> {
    const r = await this.#call<{ now?: number }>('GET', '/readyz');
    if (typeof r?.now !== 'number') {
      throw new CliError(
        'RETRACED_CLI_UNREACHABLE',
        `the server at ${this.target} did not give its clock (/readyz)`,
      );
    }
    return r.now;
  }

  async queues(): Promise<QueueInfo[]> {
    return (await this.#call<{ queues: QueueInfo[] }>('GET', '/queues')).queues;
  }

  setPaused(queue: string, paused: boolean): Promise<{ name: string; paused: boolean }> {
    return this.#call('POST', `/queues/${enc(queue, 'QUEUE')}/${paused ? 'pause' : 'resume'}`);
  }

  async priorityAging(queue: string): Promise<number> {
    return (await this.#call<{ agingMs: number }>('GET', `/queues/${enc(queue, 'QUEUE')}/priority-aging`))
      .agingMs;
  }

  async setPriorityAging(queue: string, agingMs: number): Promise<number> {
    const path = `/queues/${enc(queue, 'QUEUE')}/priority-aging`;
    return (await this.#call<{ agingMs: number }>('PUT', path, { body: { agingMs } })).agingMs;
  }

  async defaultPriority(queue: string): Promise<number> {
    const path = `/queues/${enc(queue, 'QUEUE')}/default-priority`;
    return (await this.#call<{ priority: number }>('GET', path)).priority;
  }

  async setDefaultPriority(queue: string, priority: number): Promise<number> {
    const path = `/queues/${enc(queue, 'QUEUE')}/default-priority`;
    return (await this.#call<{ priority: number }>('PUT', path, { body: { priority } })).priority;
  }

  rateLimits(queue: string): Promise<RateLimitsView> {
    return this.#call('GET', `/queues/${enc(queue, 'QUEUE')}/rate-limits`);
  }

  rateLimitState(queue: string, q: RateLimitStateQuery): Promise<RateLimitState> {
    // Checked here as the library would (the same words), then sent as the query string.
    resolveRateLimitStateQuery(q, 'query');
    const query: Query = { filter: q.filter, limit: q.limit, cursor: q.cursor, group: q.group };
    return this.#call('GET', `/queues/${enc(queue, 'QUEUE')}/rate-limits/state`, { query });
  }

  setRateLimits(queue: string, settings: RateLimitSettings): Promise<RateLimitsView> {
    // Checked here as the library would (the same words), then sent in the API's shape.
    resolveRateLimitSettings(settings, 'settings');
    const remove: string[] = [];
    if (settings.queue === null) remove.push('queueLimit');
    if (settings.group === null) remove.push('groupLimit');
    const entries = Object.entries(settings.groups ?? {});
    const body = {
      ...(settings.queue ? { queueLimit: settings.queue } : {}),
      ...(settings.group ? { groupLimit: settings.group } : {}),
      groups: entries.flatMap(([group, l]) => (l ? [{ group, ...l }] : [])),
      removeGroups: entries.flatMap(([group, l]) => (l ? [] : [group])),
      remove,
    };
    return this.#call('PUT', `/queues/${enc(queue, 'QUEUE')}/rate-limits`, { body });
  }

  async retryBudgets(queue: string): Promise<RetryBudgetStatus[]> {
    return (
      await this.#call<{ budgets: RetryBudgetStatus[] }>('GET', `/queues/${enc(queue, 'QUEUE')}/retry-budget`)
    ).budgets;
  }

  async setRetryBudget(
    queue: string,
    name: string | undefined,
    budget: RetryBudget | null,
  ): Promise<RetryBudgetStatus[]> {
    const path = `/queues/${enc(queue, 'QUEUE')}/retry-budget`;
    if (budget === null) {
      return (await this.#call<{ budgets: RetryBudgetStatus[] }>('DELETE', path, { query: { name } }))
        .budgets;
    }
    // The API takes the window in seconds (every value it allows is valid); checked here first.
    const b = resolveRetryBudget(budget, 'budget');
    const body = {
      ...(name === undefined ? {} : { name }),
      ratio: b.permille / 1000,
      windowSeconds: b.windowMs / 1000,
      minPerSecond: b.minPerSecond,
      onExhausted: b.onExhausted,
    };
    return (await this.#call<{ budgets: RetryBudgetStatus[] }>('PUT', path, { body })).budgets;
  }

  analytics(queue: string, query: AnalyticsQueryData): Promise<AnalyticsReport> {
    return this.#call('GET', `/queues/${enc(queue, 'QUEUE')}/analytics`, {
      query: { window: query.window, name: query.name, by: query.by, source: query.source },
    });
  }

  addOne(queue: string, job: BulkJob<unknown>): Promise<AddedJob> {
    return this.#call('POST', `/queues/${enc(queue, 'QUEUE')}/jobs`, { body: wireJob(job) });
  }

  async add(queue: string, jobs: readonly BulkJob<unknown>[]): Promise<AddedJob[]> {
    return (
      await this.#call<{ jobs: AddedJob[] }>('POST', `/queues/${enc(queue, 'QUEUE')}/jobs/bulk`, {
        body: { jobs: jobs.map(wireJob) },
      })
    ).jobs;
  }

  /**
   * One state: the server's page as is. All states (no `state`): the server's pages state after
   * state, the cursor carrying the state's index and the server's cursor within it.
   */
  async listJobs(queue: string, q: JobQuery): Promise<Page<JobSummary>> {
    const states = q.state ? [q.state] : LIST_ORDER;
    let { s, inner } = decodeCursor(q.cursor, states.length, q.state !== undefined);
    const items: JobSummary[] = [];
    while (s < states.length && items.length < q.limit) {
      const query = {
        state: states[s],
        name: q.name,
        limit: q.limit - items.length,
        cursor: inner,
        source: q.state !== undefined ? q.source : undefined,
      };
      const res = await this.#call<{ jobs: unknown[]; nextCursor: string | null }>(
        'GET',
        `/queues/${enc(queue, 'QUEUE')}/jobs`,
        { query },
      );
      items.push(...res.jobs.map(toSummary));
      inner = res.nextCursor ?? undefined;
      if (inner === undefined) s++;
    }
    if (s >= states.length) return { items, nextCursor: null };
    return { items, nextCursor: q.state ? (inner ?? null) : `${s}~${inner ?? ''}` };
  }

  getJob(queue: string, id: string): Promise<Job> {
    return this.#call('GET', `/queues/${enc(queue, 'QUEUE')}/jobs/${enc(id, 'ID')}`);
  }

  cancel(queue: string, id: string, by: string, reason?: string): Promise<Job> {
    return this.#call('POST', `/queues/${enc(queue, 'QUEUE')}/jobs/${enc(id, 'ID')}/cancel`, {
      body: { by, reason },
    });
  }

  retry(queue: string, id: string, options: ReplayOptions): Promise<Job> {
    return this.#call('POST', `/queues/${enc(queue, 'QUEUE')}/jobs/${enc(id, 'ID')}/retry`, {
      body: options,
    });
  }

  async dlqList(queue: string, f: DlqFilterData, page: DlqPageRequest): Promise<Page<DeadListed>> {
    const query: Query = { ...filterQuery(f), limit: page.limit, cursor: page.cursor, source: page.source };
    const res = await this.#call<{ jobs: DeadListed[]; nextCursor: string | null }>(
      'GET',
      `/queues/${enc(queue, 'QUEUE')}/dlq`,
      { query },
    );
    return { items: res.jobs, nextCursor: res.nextCursor ?? null };
  }

  async dlqGroups(queue: string, f: DlqFilterData, source?: SearchSource): Promise<DlqGroup[]> {
    const query: Query = { ...filterQuery(f), source };
    return (
      await this.#call<{ groups: DlqGroup[] }>('GET', `/queues/${enc(queue, 'QUEUE')}/dlq/groups`, { query })
    ).groups;
  }

  async dlqReplay(queue: string, r: DlqReplayRequest): Promise<BulkReplayResult> {
    const body = withoutUndefined({ ...r, filter: r.filter && filterBody(r.filter) });
    const res = await this.#call<BulkReplayResult>('POST', `/queues/${enc(queue, 'QUEUE')}/dlq/replay`, {
      body,
    });
    return {
      dryRun: res.dryRun,
      matched: res.matched,
      replayed: res.replayed ?? [],
      failed: res.failed ?? [],
    };
  }

  dlqPurge(queue: string, r: DlqPurgeRequest): Promise<PurgeReport> {
    const body = withoutUndefined({ ...r, filter: r.filter && filterBody(r.filter) });
    return this.#call('POST', `/queues/${enc(queue, 'QUEUE')}/dlq/purge`, { body });
  }

  explain(queue: string, id: string): Promise<Explanation> {
    return this.#call('GET', `/queues/${enc(queue, 'QUEUE')}/jobs/${enc(id, 'ID')}/why`);
  }

  workers(queue: string): Promise<WorkerRegistry> {
    return this.#call('GET', `/queues/${enc(queue, 'QUEUE')}/workers`);
  }

  async schedulers(queue: string): Promise<Scheduler[]> {
    const path = `/queues/${enc(queue, 'QUEUE')}/schedulers`;
    return (await this.#call<{ schedulers: Scheduler[] }>('GET', path)).schedulers;
  }

  getScheduler(queue: string, id: string, ticks: number): Promise<SchedulerDetail> {
    return this.#call('GET', `/queues/${enc(queue, 'QUEUE')}/schedulers/${enc(id, 'ID')}`, {
      query: { ticks },
    });
  }

  upsertScheduler(
    queue: string,
    id: string,
    spec: ScheduleSpec,
    template: ScheduleTemplate<unknown>,
  ): Promise<ScheduledResult> {
    return this.#call('PUT', `/queues/${enc(queue, 'QUEUE')}/schedulers/${enc(id, 'ID')}`, {
      body: { spec, ...template },
    });
  }

  setSchedulerPaused(queue: string, id: string, paused: boolean): Promise<Scheduler> {
    const action = paused ? 'pause' : 'resume';
    return this.#call('POST', `/queues/${enc(queue, 'QUEUE')}/schedulers/${enc(id, 'ID')}/${action}`);
  }

  async removeScheduler(queue: string, id: string): Promise<void> {
    await this.#call('DELETE', `/queues/${enc(queue, 'QUEUE')}/schedulers/${enc(id, 'ID')}`);
  }

  whatIf(queue: string, o: WhatIfOptions): Promise<WhatIfReport> {
    const w = o.window;
    const window =
      w === undefined ? undefined : withoutUndefined({ from: timeText(w.from), to: timeText(w.to) });
    const body = withoutUndefined({ ...o, window });
    return this.#call('POST', `/queues/${enc(queue, 'QUEUE')}/whatif`, { body });
  }

  audit(queue: string, o: AuditOptions): Promise<AuditReport> {
    const query: Query = {
      from: o.window?.from,
      to: o.window?.to,
      name: o.filter?.name,
      limit: o.limit,
      toleranceMs: o.toleranceMs,
      driftMs: o.driftMs,
      maxFindings: o.maxFindings,
      source: o.source,
    };
    return this.#call('GET', `/queues/${enc(queue, 'QUEUE')}/audit`, { query });
  }

  radar(queue: string, o: RadarOptions): Promise<RadarReport> {
    const query: Query = {
      horizonMs: o.horizonMs,
      max: o.max,
      burstMin: o.burstMin,
      burstFactor: o.burstFactor,
    };
    return this.#call('GET', `/queues/${enc(queue, 'QUEUE')}/radar`, { query });
  }

  async close(): Promise<void> {}
}

/** A job as the API takes it: `runAt` as a string (ms since epoch or ISO 8601). */
function wireJob(j: BulkJob<unknown>): BulkJob<unknown> {
  const runAt = j.options?.runAt;
  if (runAt === undefined) return j;
  return {
    ...j,
    options: {
      ...j.options,
      runAt: String(runAt instanceof Date ? runAt.getTime() : runAt),
    } as unknown as JobOptions,
  };
}

/**
 * A path segment. Lone surrogates (which encodeURIComponent refuses) become U+FFFD: the server
 * refuses the name. `.` and `..` cannot be sent at all: URLs resolve them (`/queues/./jobs` is
 * `/queues/jobs`), so the request would reach another route.
 */
function enc(s: string, what: 'QUEUE' | 'ID'): string {
  if (s === '.' || s === '..') {
    throw new ValidationError(
      what,
      'not "." or "..", which a URL cannot carry (use --redis for such an id)',
      s,
    );
  }
  return encodeURIComponent(s.replace(/\p{Cs}/gu, '\uFFFD'));
}

/** A time for the API (ms since epoch as text), or undefined. */
function timeText(t: number | undefined): string | undefined {
  return t === undefined ? undefined : String(t);
}

function withoutUndefined<T extends object>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

/** The filter as the API's body takes it: reasons as a list, times as strings. */
function filterBody(filter: DlqFilter): Record<string, unknown> {
  const f = resolveDlqFilter(filter);
  return {
    ...f,
    from: f.from === undefined ? undefined : String(f.from),
    to: f.to === undefined ? undefined : String(f.to),
  };
}

function decodeCursor(
  cursor: string | undefined,
  states: number,
  single: boolean,
): { s: number; inner: string | undefined } {
  if (cursor === undefined) return { s: 0, inner: undefined };
  if (single) return { s: 0, inner: cursor };
  const m = /^(\d{1,2})~(.*)$/s.exec(cursor);
  if (!m || Number(m[1]) >= states) {
    throw new ValidationError('--cursor', 'a cursor printed by a previous page of the same listing', cursor);
  }
  return { s: Number(m[1]), inner: m[2] === '' ? undefined : m[2] };
}

function filterQuery(f: DlqFilterData): Query {
  return {
    reason: f.reason?.join(','),
    errorCode: f.errorCode,
    name: f.name,
    fingerprint: f.fingerprint,
    from: f.from,
    to: f.to,
  };
}

/** A job summary from the server (the library's JobSummary); full jobs are accepted too. */
function toSummary(raw: unknown): JobSummary {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const num = (k: string): number | undefined => (typeof r[k] === 'number' ? (r[k] as number) : undefined);
  const attempts = Array.isArray(r.attempts) ? r.attempts.length : (num('attempts') ?? 0);
  const e = r.lastError as Partial<ErrorSummary> | undefined;
  const lastError: ErrorSummary | undefined =
    e && typeof e === 'object'
      ? {
          name: typeof e.name === 'string' ? e.name : 'Error',
          message: typeof e.message === 'string' ? e.message : '',
          ...(typeof e.code === 'string' ? { code: e.code } : {}),
        }
      : undefined;
  const finishedAt = num('finishedAt');
  return {
    id: String(r.id),
    name: String(r.name),
    state: String(r.state) as JobState,
    attempts,
    createdAt: num('createdAt') ?? 0,
    dueAt: num('dueAt') ?? 0,
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    ...(lastError !== undefined ? { lastError } : {}),
    ...(r.archived === true ? { archived: true as const } : {}),
  };
}
