/**
 * The one interface every benchmarked system implements, and the shapes the harness passes around.
 * @module
 */

export const SYSTEMS = ['retraced', 'bullmq', 'bee'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export const SYSTEM_LABELS: Record<SystemName, string> = {
  retraced: 'ReTraced',
  bullmq: 'BullMQ',
  bee: 'Bee-Queue',
};

/**
 * What a handler does. `noop`: returns at once. `fail-twice`: throws a temporary error on the
 * first two runs of a job (counted by the harness, the same way for every system), then succeeds.
 * `record-start`: returns at once, after noting when it started (for latency and drift).
 */
export type HandlerKind = 'noop' | 'fail-twice' | 'record-start';

/** The payload of every benchmark job: its index, which the harness uses to check each ran. */
export interface JobData {
  readonly i: number;
}

/** A job due at an absolute time. `dueServerMs` is on the Redis clock, `dueLocalMs` on ours. */
export interface DelayedJob {
  readonly data: JobData;
  readonly dueServerMs: number;
  readonly dueLocalMs: number;
}

/** Job counts normalised across systems. */
export interface Counts {
  readonly waiting: number;
  readonly active: number;
  /** Scheduled for later: delayed jobs, and retries waiting for their delay. */
  readonly delayed: number;
  readonly completed: number;
  /** Failed for good (BullMQ failed, Bee-Queue failed, ReTraced dead or cancelled). */
  readonly failed: number;
}

export interface JobOptionsSpec {
  /** Total attempts, the first run included (retry scenario: 3, no delay between them). */
  readonly attempts: number;
}

/** Receives every handler run; shared by the adapters so that all do exactly the same work. */
export interface RunSink {
  /** Called first thing in the handler. Returns true when the run must fail (fail-twice). */
  onRun(i: number): boolean;
}

export interface StartOptions {
  readonly concurrency: number;
  readonly handler: HandlerKind;
  readonly sink: RunSink;
  /** Called after the system has recorded a job as completed (its own 'completed' event). */
  readonly onCompleted?: () => void;
}

/** A started worker (or set of workers) of one system. */
export interface WorkerHandle {
  /** Begins claiming jobs (workers are created idle so that setup is never timed). */
  go(): Promise<void>;
  /** Graceful stop: lets jobs in flight finish, closes its connections. */
  close(): Promise<void>;
  /** Errors the worker reported ('error' events). */
  readonly errors: string[];
}

export interface Adapter {
  readonly name: SystemName;
  readonly label: string;
  readonly version: string;
  /** The settings used, in words, for the report. */
  readonly settings: string;
  /** Connects a producer to `queue` on `redisUrl` (not timed). */
  setup(redisUrl: string, queue: string, jobOptions: JobOptionsSpec): Promise<void>;
  enqueueOne(data: JobData): Promise<void>;
  /** Adds jobs with the system's bulk API, in the chunks given. */
  enqueueBulk(datas: readonly JobData[]): Promise<void>;
  /** Adds jobs due at absolute times, with the system's bulk API. */
  enqueueDelayed(jobs: readonly DelayedJob[]): Promise<void>;
  /** Creates a worker in this process, idle until `go()`. */
  createWorker(opts: StartOptions): Promise<WorkerHandle>;
  counts(): Promise<Counts>;
  /**
   * Reads back every completed job and checks that the system recorded exactly `attempts` attempts
   * for each (the failed ones first), and that they are `jobs` distinct jobs. Returns the problems.
   */
  verifyHistory(jobs: number, attempts: number): Promise<string[]>;
  /** Keys that belong to one job (for the memory breakdown); shared keys are the others. */
  isJobKey(key: string): boolean;
  close(): Promise<void>;
}

/** The size of one bulk-add call, the same for every system. */
export const BULK_CHUNK = 1000;

export function chunks<T>(items: readonly T[], size = BULK_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The error a fail-twice handler throws (ReTraced's adapter throws its TemporaryError instead). */
export const TEMP_FAILURE_MESSAGE = 'temporary failure (benchmark)';

/** Milliseconds since the epoch with sub-millisecond resolution, on this machine's clock. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
