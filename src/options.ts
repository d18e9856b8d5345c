/**
 * Options as users write them (`…Options`) and as the internals use them (`Resolved…`), with the
 * validation that stands between: every check names the field and the rule. Nothing reaches a
 * backend unvalidated.
 * @module
 */
import {
  checkGroup,
  resolveRateLimitSettings,
  type RateLimitSettings,
  type ResolvedRateLimitSettings,
} from './rate-limit.js';
import type { JobArchive } from './archive.js';
import type { Backend } from './backend.js';
import type { DedupRequest } from './dedup.js';
import type { TraceParentMode, TracingOptions } from './tracing.js';
import { DEFAULT_RETRY_POLICY, resolveRetryPolicy, type CustomStrategy } from './backoff.js';
import {
  resolveClassifyOptions,
  storedClassifyOptions,
  type ClassifyOptions,
  type ResolvedClassifyOptions,
} from './classify.js';
import { PayloadTooLargeError, ValidationError } from './errors.js';
import type {
  ClassifyOptionsStored,
  JobOptionsStored,
  ResolvedRetryPolicy,
  RetentionSettings,
  RetryPolicy,
} from './types.js';
import { MAX_PRIORITY, MAX_PRIORITY_AGING_MS, MIN_PRIORITY } from './transitions.js';
import { assertDuration, assertInt, assertJobId, checkText, Rules } from './validate.js';
import { DEFAULT_HEARTBEAT_MS } from './workers.js';

/** How often a worker (and a server) sweeps retention by default. */
export const DEFAULT_RETENTION_SWEEP_MS = 1000;

export interface QueueOptions {
  /** Where jobs live. @default the process-wide in-memory backend (embedded mode) */
  readonly backend?: Backend;
  /**
   * Where finished jobs live once retention evicted them (the PostgreSQL archive, `PgArchive`):
   * `getJob` asks it when the backend no longer has the job. @default none
   */
  readonly archive?: JobArchive;
  /**
   * Only read the archive: never turn the queue's archive notes on (`ready` does otherwise, so
   * that retention holds every finished job until an archiver copied it). For readers with no
   * archiver behind them, such as the CLI's `--postgres`: turned on with no archiver draining the
   * notes, retention would hold every finished job for good. @default false
   */
  readonly readArchiveOnly?: boolean;
  /** Default retry policy for jobs of this queue. @default 3 attempts, exponential from 1 s, cap 5 min */
  readonly retry?: RetryPolicy;
  /** Default per-attempt timeout in ms; 0 = none. @default 0 */
  readonly timeout?: number;
  /** Stalled deliveries (expired leases) after which a job is dead-lettered as poison. @default 3 */
  readonly maxStalls?: number;
  /**
   * Error code → class table and the class of unknown errors, stored with each job this queue adds
   * (so every worker classifies the job the same way); a worker's queue applies its own only to
   * jobs that carry none. @default see DEFAULT_CODE_TABLE; unknown → temporary
   */
  readonly classify?: ClassifyOptions;
  /** Retention of finished jobs, written to the backend when the queue is first used. @default keep everything */
  readonly retention?: RetentionSettings;
  /** Largest job data, as JSON bytes. @default 524288 (512 KiB) */
  readonly maxDataBytes?: number;
  /**
   * Largest stored result, as JSON bytes; larger results are replaced by a marker. Stored with each
   * job this queue adds, like `classify`. @default 65536
   */
  readonly maxResultBytes?: number;
  /**
   * Custom retry strategies, referenced by `{ type: 'custom', name }`: every Worker of this queue
   * uses them (its own win on a clash), and `queue.preview()` can show policies that use them.
   * @default none
   */
  readonly strategies?: Readonly<Record<string, CustomStrategy>>;
  /**
   * OpenTelemetry spans for adds (`send <queue>`), through `@opentelemetry/api`: no-ops unless an
   * SDK is registered. `false` skips even the no-op calls. @default true
   */
  readonly tracing?: boolean | TracingOptions;
  /**
   * The priority of jobs added without one (an integer, −1 000 000 … 1 000 000; higher runs first).
   * Unlike BullMQ, a job without a priority is not ahead of prioritised ones: it has this one.
   * Stored with the queue when the queue is first used, like `priorityAgingMs`, so that adds
   * through the HTTP API, the CLI or a `Queue` without this option get it too. Not set: the
   * backend's stored default stands (0 when none was ever set).
   * @default the stored one (0)
   */
  readonly defaultPriority?: number;
  /**
   * Priority aging: a waiting job gains one priority level per this many ms waited, without a cap,
   * so low priorities cannot starve (a job that waited k × this ranks with fresh jobs of its
   * priority + k). Written to the backend when the queue is first used, like `retention`; 0 =
   * strict order between priorities. Not set: the backend's setting is left as it is.
   * @example 10_000 // +1 level per 10 s waited
   */
  readonly priorityAgingMs?: number;
  /**
   * Rate limits (src/rate-limit.ts): a token bucket for the whole queue (`queue`), the limit of
   * each group (`group`, for jobs added with `group`), and limits of single groups (`groups`).
   * Written to the backend when the queue is first used, like `retention`. Not set: the backend's
   * limits are left as they are.
   * @example { queue: { rate: 100 }, group: { rate: 10, burst: 20 } } // 100/s overall, 10/s per group
   */
  readonly rateLimit?: RateLimitSettings;
}

export interface ResolvedQueueOptions {
  /** `QueueOptions.readArchiveOnly`. */
  readonly readArchiveOnly: boolean;
  readonly retry: ResolvedRetryPolicy;
  readonly timeout: number;
  readonly maxStalls: number;
  /** The default table merged under the configured codes: what classifies jobs that carry no table. */
  readonly classify: ResolvedClassifyOptions;
  /** The configured codes and default class, as each job added by this queue stores them. */
  readonly storedClassify: ClassifyOptionsStored;
  readonly retention: RetentionSettings | undefined;
  readonly maxDataBytes: number;
  readonly maxResultBytes: number;
  readonly strategies: Readonly<Record<string, CustomStrategy>>;
  readonly tracing: ResolvedTracing;
  /** Set: written to the backend at first use, and sent with every add. Not set: the backend's stands. */
  readonly defaultPriority: number | undefined;
  readonly priorityAgingMs: number | undefined;
  readonly rateLimit: ResolvedRateLimitSettings | undefined;
}

/** Per-job options for `Queue.add`. */
export interface JobOptions {
  /** Caller-supplied id: adding the same id twice returns the existing job (idempotent add). */
  readonly id?: string;
  /** Run after this many ms. @default 0 */
  readonly delay?: number;
  /** Run at this time (Date or ms since epoch). Exclusive with `delay`. */
  readonly runAt?: Date | number;
  /** Overrides the queue's retry policy. */
  readonly retry?: RetryPolicy;
  /** Per-attempt timeout in ms; 0 = none. Overrides the queue's. */
  readonly timeout?: number;
  /** Overrides the queue's maxStalls. */
  readonly maxStalls?: number;
  /**
   * Higher runs first; FIFO within one priority. An integer, −1 000 000 … 1 000 000.
   * @default the queue's default priority (`QueueOptions.defaultPriority`, stored with the queue; 0)
   */
  readonly priority?: number;
  /**
   * Throttle: the first add with `key` creates the job and opens a window of `ttlMs`; later adds
   * with the key within it return that job (`folded: true`) and change nothing but its fold count.
   * See src/dedup.ts for a finished or cancelled job. Not with `id` or `debounce`.
   */
  readonly dedup?: { readonly key: string; readonly ttlMs: number };
  /**
   * Debounce: the job is due `delayMs` after the last add with `key`; a later add while it has not
   * started replaces its data and pushes its due time. Not with `id`, `dedup`, `delay` or `runAt`.
   */
  readonly debounce?: { readonly key: string; readonly delayMs: number };
  /**
   * The job's group, such as a tenant: groups take turns at claims (one job each, round-robin), so
   * a busy group cannot starve the others, and each group runs under its rate limit
   * (`QueueOptions.rateLimit`). Within a group, priority order (no aging). 1-128 characters of
   * letters, digits, '_', '.', ':' or '-'. @default none
   */
  readonly group?: string;
}

export interface WorkerOptions {
  /** Jobs run at once by this worker. @default 1 */
  readonly concurrency?: number;
  /** Lease (visibility timeout) in ms, renewed while the handler runs. @default 30000 */
  readonly leaseMs?: number;
  /** Id recorded on every attempt this worker runs. @default `${hostname}:${pid}:${random}` */
  readonly workerId?: string;
  /** Custom retry strategies, referenced by `{ type: 'custom', name }`. */
  readonly strategies?: Readonly<Record<string, CustomStrategy>>;
  /** Most jobs claimed in one round trip. @default 50 */
  readonly batchSize?: number;
  /**
   * Claimed jobs a worker may hold beyond its running ones, so that short jobs do not each wait
   * for a round trip. Held jobs are leased (and renewed) like running ones; an attempt's startedAt
   * is when its handler was called, held or not, so drift stays true. A number holds up to that many;
   * 'auto' holds what the worker will start within 2 ms at its handlers' recent pace (up to
   * max(50, 2 × concurrency) for jobs of microseconds, none for jobs of 2 ms × concurrency or more);
   * 0 never holds any.
   * @default 'auto'
   */
  readonly prefetch?: number | 'auto';
  /** Longest an idle worker blocks before checking again (ms). @default 5000 */
  readonly idleCheckMs?: number;
  /** Random source for jitter, in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Start claiming at construction. @default true */
  readonly autostart?: boolean;
  /**
   * How often this worker applies its queue's retention rules (see `retention-sweeper.ts`), so
   * finished jobs past their age rule go on time even when nothing else finishes; one sweep per
   * queue per interval across all workers and servers. 0 = never (10 ms at least otherwise).
   * @default 1000
   */
  readonly retentionSweepMs?: number;
  /**
   * How often this worker beats in the worker registry of each of its queues (`queue.workers()`, `retraced
   * workers`): id, host, pid, concurrency, jobs in flight, version. Its entry expires after three
   * missed beats, and goes at once when it closes. 0 = do not register (50 ms at least otherwise).
   * @default 5000
   */
  readonly heartbeatMs?: number;
  /**
   * The queues this worker's process serves, as its registry entry lists them.
   * @default the worker's queues
   */
  readonly registryQueues?: readonly string[];
  /**
   * OpenTelemetry spans, one `process <queue>` per attempt (see `tracing.ts`): no-ops unless an SDK
   * is registered; `false` skips even those. `parent: 'child'` makes each attempt's span a child of
   * the span that added the job instead of linking to it. @default true (parent 'link')
   */
  readonly tracing?: boolean | TracingOptions;
}

export interface ResolvedWorkerOptions {
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly workerId: string;
  readonly strategies: Readonly<Record<string, CustomStrategy>>;
  readonly batchSize: number;
  readonly prefetch: number | 'auto';
  readonly idleCheckMs: number;
  readonly random: () => number;
  readonly autostart: boolean;
  readonly retentionSweepMs: number;
  readonly heartbeatMs: number;
  readonly registryQueues: readonly string[] | undefined;
  readonly tracing: ResolvedTracing;
}

function assertKnownKeys(obj: object, known: readonly string[], field: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw new ValidationError(`${field}.${key}`, `not a known option (known: ${known.join(', ')})`);
    }
  }
}

function assertObject(value: unknown, field: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, 'an object', value);
  }
}

/**
 * Serialises `value` as JSON, refusing what JSON would silently change or drop: functions,
 * symbols, undefined in arrays, NaN/Infinity, BigInt, cycles, class instances other than Date.
 */
export function toJson(value: unknown, field: string, maxBytes: number): string {
  assertJsonValue(value === undefined ? null : value, field, new Set(), 0);
  const text = JSON.stringify(value === undefined ? null : value);
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short texts need no count.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) throw new PayloadTooLargeError(field, bytes, maxBytes);
  return text;
}

function assertJsonValue(v: unknown, path: string, seen: Set<object>, depth: number): void {
  if (depth > 64) throw new ValidationError(path, 'nested at most 64 levels deep');
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new ValidationError(path, 'JSON-serialisable (a finite number)', v);
      return;
    case 'object': {
      if (v === null) return;
      if (v instanceof Date) return;
      if (seen.has(v)) throw new ValidationError(path, 'JSON-serialisable (it contains a cycle)');
      const proto = Object.getPrototypeOf(v) as unknown;
      if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) {
        throw new ValidationError(path, 'JSON-serialisable (a plain object, array or primitive)', v);
      }
      seen.add(v);
      if (Array.isArray(v)) {
        v.forEach((item, i) => {
          if (item === undefined) {
            throw new ValidationError(`${path}[${i}]`, 'JSON-serialisable (not undefined)');
          }
          assertJsonValue(item, `${path}[${i}]`, seen, depth + 1);
        });
      } else {
        for (const [k, item] of Object.entries(v)) {
          if (item === undefined) continue; // dropped by JSON, as users expect of optional fields
          assertJsonValue(item, `${path}.${k}`, seen, depth + 1);
        }
      }
      seen.delete(v);
      return;
    }
    default:
      throw new ValidationError(path, `JSON-serialisable (received a ${typeof v})`);
  }
}

export function resolveQueueOptions(o: QueueOptions | undefined): ResolvedQueueOptions {
  const opts = o ?? {};
  assertObject(opts, 'options');
  assertKnownKeys(
    opts,
    [
      'backend',
      'archive',
      'readArchiveOnly',
      'retry',
      'timeout',
      'maxStalls',
      'classify',
      'retention',
      'maxDataBytes',
      'maxResultBytes',
      'strategies',
      'tracing',
      'defaultPriority',
      'priorityAgingMs',
      'rateLimit',
    ],
    'options',
  );
  if (
    opts.archive !== undefined &&
    (typeof opts.archive !== 'object' ||
      opts.archive === null ||
      typeof (opts.archive as { getJob?: unknown }).getJob !== 'function')
  ) {
    throw new ValidationError('options.archive', 'an archive with a getJob method (such as a PgArchive)');
  }
  const storedClassify = storedClassifyOptions(opts.classify, 'options.classify');
  if (opts.readArchiveOnly !== undefined && typeof opts.readArchiveOnly !== 'boolean') {
    throw new ValidationError('options.readArchiveOnly', 'true or false', opts.readArchiveOnly);
  }
  return Object.freeze({
    readArchiveOnly: opts.readArchiveOnly === true,
    retry: resolveRetryPolicy(opts.retry ?? DEFAULT_RETRY_POLICY, 'options.retry'),
    timeout: opts.timeout === undefined ? 0 : assertDuration(opts.timeout, 'options.timeout'),
    maxStalls: opts.maxStalls === undefined ? 3 : assertInt(opts.maxStalls, 'options.maxStalls', 1, 1000),
    classify: resolveClassifyOptions(storedClassify),
    storedClassify,
    retention:
      opts.retention === undefined ? undefined : resolveRetention(opts.retention, 'options.retention'),
    maxDataBytes:
      opts.maxDataBytes === undefined
        ? 512 * 1024
        : assertInt(opts.maxDataBytes, 'options.maxDataBytes', 2, 64 << 20),
    maxResultBytes:
      opts.maxResultBytes === undefined
        ? 64 * 1024
        : assertInt(opts.maxResultBytes, 'options.maxResultBytes', 2, 64 << 20),
    strategies: resolveStrategies(opts.strategies, 'options.strategies'),
    tracing: resolveTracing(opts.tracing, 'options.tracing'),
    defaultPriority:
      opts.defaultPriority === undefined
        ? undefined
        : assertPriority(opts.defaultPriority, 'options.defaultPriority'),
    priorityAgingMs:
      opts.priorityAgingMs === undefined
        ? undefined
        : assertPriorityAging(opts.priorityAgingMs, 'options.priorityAgingMs'),
    rateLimit:
      opts.rateLimit === undefined
        ? undefined
        : resolveRateLimitSettings(opts.rateLimit, 'options.rateLimit'),
  });
}

function assertListFailed(v: unknown): never {
  throw new ValidationError('registryQueues', 'an array of at most 100 queue names', v);
}

/** A job priority: a whole number in MIN_PRIORITY … MAX_PRIORITY. */
export function assertPriority(value: unknown, field: string): number {
  return assertInt(value, field, MIN_PRIORITY, MAX_PRIORITY);
}

/** A priority aging step: whole ms, 0 (none) … MAX_PRIORITY_AGING_MS. */
export function assertPriorityAging(value: unknown, field: string): number {
  return assertInt(value, field, 0, MAX_PRIORITY_AGING_MS);
}

/** Tracing settings, resolved: whether to make spans, and how attempts relate to their producer. */
export interface ResolvedTracing {
  readonly enabled: boolean;
  readonly parent: TraceParentMode;
}

/** `true` / `false` / `{ enabled?, parent? }` → {@link ResolvedTracing}. */
export function resolveTracing(value: unknown, field = 'tracing'): ResolvedTracing {
  if (value === undefined || value === true) return { enabled: true, parent: 'link' };
  if (value === false) return { enabled: false, parent: 'link' };
  assertObject(value, field);
  assertKnownKeys(value, ['enabled', 'parent'], field);
  const { enabled, parent } = value as TracingOptions;
  if (enabled !== undefined && typeof enabled !== 'boolean') {
    throw new ValidationError(`${field}.enabled`, 'true or false', enabled);
  }
  if (parent !== undefined && parent !== 'link' && parent !== 'child') {
    throw new ValidationError(`${field}.parent`, "'link' or 'child'", parent);
  }
  return { enabled: enabled ?? true, parent: parent ?? 'link' };
}

/** A name → function table of custom retry strategies (frozen copy; `{}` when undefined). */
export function resolveStrategies(
  value: unknown,
  field = 'strategies',
): Readonly<Record<string, CustomStrategy>> {
  if (value === undefined) return Object.freeze({});
  assertObject(value, field);
  for (const [k, fn] of Object.entries(value)) {
    if (typeof fn !== 'function') throw new ValidationError(`${field}.${k}`, 'a function', fn);
  }
  return Object.freeze({ ...(value as Record<string, CustomStrategy>) });
}

export function resolveRetention(r: unknown, field = 'retention'): RetentionSettings {
  assertObject(r, field);
  assertKnownKeys(r, ['completed', 'dead', 'cancelled'], field);
  const out: Record<string, { count?: number; ageMs?: number }> = {};
  for (const state of ['completed', 'dead', 'cancelled'] as const) {
    const v = r[state];
    if (v === undefined) continue;
    assertObject(v, `${field}.${state}`);
    assertKnownKeys(v, ['count', 'ageMs'], `${field}.${state}`);
    const rule: { count?: number; ageMs?: number } = {};
    if (v.count !== undefined) rule.count = assertInt(v.count, `${field}.${state}.count`, 0);
    if (v.ageMs !== undefined) rule.ageMs = assertDuration(v.ageMs, `${field}.${state}.ageMs`);
    out[state] = rule;
  }
  return out as RetentionSettings;
}

/** Resolved job options plus the timing, ready for `AddRequest`. */
export interface ResolvedJobOptions {
  readonly id: string | undefined;
  readonly delayMs: number;
  readonly runAt: number | undefined;
  readonly retry: ResolvedRetryPolicy;
  readonly timeout: number;
  readonly maxStalls: number;
  /** undefined: the queue's default, as the backend stores it (the add transition reads it). */
  readonly priority: number | undefined;
  readonly dedup: DedupRequest | undefined;
  readonly group: string | undefined;
}

/** `options.dedup` / `options.debounce` → the backend's {@link DedupRequest} (undefined: neither). */
export function resolveDedup(opts: JobOptions, field: string): DedupRequest | undefined {
  const { dedup, debounce } = opts;
  if (dedup === undefined && debounce === undefined) return undefined;
  if (dedup !== undefined && debounce !== undefined) {
    throw new ValidationError(`${field}.debounce`, 'not set together with dedup');
  }
  const mode = dedup !== undefined ? 'dedup' : 'debounce';
  const f = `${field}.${mode}`;
  if (opts.id !== undefined) {
    throw new ValidationError(f, 'not set together with id (an id is its own dedup key)');
  }
  const v: unknown = dedup ?? debounce;
  assertObject(v, f);
  const msKey = mode === 'dedup' ? 'ttlMs' : 'delayMs';
  assertKnownKeys(v, ['key', msKey], f);
  if (mode === 'debounce' && (opts.delay !== undefined || opts.runAt !== undefined)) {
    throw new ValidationError(f, 'not set together with delay or runAt (its delayMs is the delay)');
  }
  return {
    mode,
    key: checkText(v.key, `${f}.key`, Rules.dedupKey),
    ms: assertDuration(v[msKey], `${f}.${msKey}`, 1),
  };
}

export function resolveJobOptions(
  o: JobOptions | undefined,
  queue: ResolvedQueueOptions,
  field = 'options',
): ResolvedJobOptions {
  const opts = o ?? {};
  assertObject(opts, field);
  assertKnownKeys(
    opts,
    ['id', 'delay', 'runAt', 'retry', 'timeout', 'maxStalls', 'priority', 'dedup', 'debounce', 'group'],
    field,
  );
  if (opts.id !== undefined) assertJobId(opts.id, `${field}.id`);
  if (opts.delay !== undefined && opts.runAt !== undefined) {
    throw new ValidationError(`${field}.runAt`, 'not set together with delay');
  }
  let runAt: number | undefined;
  if (opts.runAt !== undefined) {
    const t = opts.runAt instanceof Date ? opts.runAt.getTime() : opts.runAt;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < -8.64e15 || t > 8.64e15) {
      throw new ValidationError(`${field}.runAt`, 'a valid Date or ms since epoch', opts.runAt);
    }
    // A time before 1970 is in the past like any other: the job is due at once (recorded as due at 0).
    runAt = Math.max(0, Math.round(t));
  }
  const dedup = resolveDedup(opts, field);
  return {
    id: opts.id,
    // A debounced job is due its delay after the add (and after each add folded into it).
    delayMs:
      dedup?.mode === 'debounce'
        ? dedup.ms
        : opts.delay === undefined
          ? 0
          : assertDuration(opts.delay, `${field}.delay`),
    runAt,
    retry: opts.retry === undefined ? queue.retry : resolveRetryPolicy(opts.retry, `${field}.retry`),
    timeout: opts.timeout === undefined ? queue.timeout : assertDuration(opts.timeout, `${field}.timeout`),
    maxStalls:
      opts.maxStalls === undefined
        ? queue.maxStalls
        : assertInt(opts.maxStalls, `${field}.maxStalls`, 1, 1000),
    priority:
      opts.priority === undefined
        ? queue.defaultPriority
        : assertPriority(opts.priority, `${field}.priority`),
    dedup,
    group: opts.group === undefined ? undefined : checkGroup(opts.group, `${field}.group`),
  };
}

/**
 * The JSON text of the options a job stores: its retry policy, timeout and maxStalls, and its
 * queue's classification and result limit (interned per queue by the backends: most jobs share it).
 */
export function jobOptionsText(o: ResolvedJobOptions, queue: ResolvedQueueOptions): string {
  const stored: JobOptionsStored = {
    retry: o.retry,
    timeoutMs: o.timeout,
    maxStalls: o.maxStalls,
    classify: queue.storedClassify,
    maxResultBytes: queue.maxResultBytes,
  };
  return JSON.stringify(stored);
}

/** `queueStrategies`: the queue's own custom strategies, which the worker's extend (and win over). */
export function resolveWorkerOptions(
  o: WorkerOptions | undefined,
  defaultWorkerId: () => string,
  queueStrategies: Readonly<Record<string, CustomStrategy>> = {},
): ResolvedWorkerOptions {
  const opts = o ?? {};
  assertObject(opts, 'worker options');
  assertKnownKeys(
    opts,
    [
      'concurrency',
      'leaseMs',
      'workerId',
      'strategies',
      'batchSize',
      'prefetch',
      'idleCheckMs',
      'random',
      'autostart',
      'retentionSweepMs',
      'heartbeatMs',
      'registryQueues',
      'tracing',
    ],
    'worker options',
  );
  const concurrency =
    opts.concurrency === undefined ? 1 : assertInt(opts.concurrency, 'concurrency', 1, 10_000);
  const workerId = checkText(opts.workerId ?? defaultWorkerId(), 'workerId', Rules.workerId);
  const strategies = resolveStrategies(opts.strategies);
  if (opts.random !== undefined && typeof opts.random !== 'function') {
    throw new ValidationError('random', 'a function returning a number in [0, 1)', opts.random);
  }
  const resolved: ResolvedWorkerOptions = {
    concurrency,
    leaseMs: opts.leaseMs === undefined ? 30_000 : assertDuration(opts.leaseMs, 'leaseMs', 50),
    workerId,
    strategies: Object.freeze({ ...queueStrategies, ...strategies }),
    batchSize: opts.batchSize === undefined ? 50 : assertInt(opts.batchSize, 'batchSize', 1, 1000),
    prefetch:
      opts.prefetch === undefined || opts.prefetch === 'auto'
        ? 'auto'
        : typeof opts.prefetch === 'number'
          ? assertInt(opts.prefetch, 'prefetch', 0, 1000)
          : (() => {
              throw new ValidationError('prefetch', "'auto' or an integer between 0 and 1000", opts.prefetch);
            })(),
    idleCheckMs: opts.idleCheckMs === undefined ? 5000 : assertDuration(opts.idleCheckMs, 'idleCheckMs', 10),
    random: (opts.random ?? Math.random) as () => number,
    autostart: opts.autostart === undefined ? true : opts.autostart === true,
    retentionSweepMs:
      opts.retentionSweepMs === undefined
        ? DEFAULT_RETENTION_SWEEP_MS
        : opts.retentionSweepMs === 0
          ? 0
          : assertDuration(opts.retentionSweepMs, 'retentionSweepMs', 10),
    heartbeatMs:
      opts.heartbeatMs === undefined
        ? DEFAULT_HEARTBEAT_MS
        : opts.heartbeatMs === 0
          ? 0
          : assertInt(opts.heartbeatMs, 'heartbeatMs', 50, 3_600_000),
    registryQueues:
      opts.registryQueues === undefined
        ? undefined
        : Object.freeze(
            (Array.isArray(opts.registryQueues) && opts.registryQueues.length <= 100
              ? opts.registryQueues
              : assertListFailed(opts.registryQueues)
            ).map((q, i) => checkText(q, `registryQueues[${i}]`, Rules.queueName)),
          ),
    tracing: resolveTracing(opts.tracing),
  };
  return Object.freeze(resolved);
}
