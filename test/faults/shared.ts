/** Types and names shared by the fault suite and its worker processes (no side effects). */

export type HandlerName = 'noop' | 'slow' | 'crash-on-job' | 'hang-forever' | 'flaky';

export interface WorkerProcessConfig {
  readonly url: string;
  readonly prefix: string;
  readonly queue: string;
  readonly workerId: string;
  readonly handler: HandlerName;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly sleepMs?: number;
  readonly idleCheckMs?: number;
  /**
   * Connect but do not claim until SIGUSR2 (a warm spare: replacing a killed worker then takes
   * no process start-up time).
   */
  readonly standby?: boolean;
  /**
   * Report each handler start on stdout ({ev:'run', id, attempt}) instead of the HINCRBY on
   * `runsKey`: counted even when Redis is unreachable, and never twice (ioredis resends a command
   * whose reply a cut connection lost).
   */
  readonly announceRuns?: boolean;
  /**
   * Report `process.memoryUsage()` every this many ms ({ev:'mem', rss, heapUsed, …}), after a full
   * GC when the process runs with --expose-gc. Off when omitted.
   */
  readonly memoryEveryMs?: number;
  /**
   * Record each handler start in Redis server time: HSET <prefix>:faults:starts <id>:<attempt>
   * <TIME in ms> (one script, so the time is Redis's, whatever this process's clock says).
   */
  readonly recordStarts?: boolean;
  /**
   * Redis for the suite's bookkeeping (the run counter, the handler starts); default: the queue's.
   * The soak keeps it apart so that the queue's Redis holds only the queue.
   */
  readonly statsUrl?: string;
}

export interface FaultJobData {
  readonly i?: number;
  readonly ms?: number;
  readonly crash?: 'exit' | 'kill';
  readonly hang?: boolean;
  readonly downUntil?: number;
  /** Any handler: the first `failAttempts` attempts throw a TemporaryError (then as usual). */
  readonly failAttempts?: number;
  /** Any handler: every attempt throws a PermanentError (dead-lettered at once). */
  readonly permanent?: boolean;
}

/**
 * A producer process (test/faults/producer-process.ts): adds jobs at a fixed rate for a while, with
 * `delay` or an absolute `runAt` computed from its own clock (which may be skewed), and writes one
 * JSON line per accepted job.
 */
export interface ProducerProcessConfig {
  readonly url: string;
  readonly prefix: string;
  readonly queue: string;
  /** Names the jobs (`<tag>-<i>`) so that producers sharing a queue never collide. */
  readonly tag: string;
  readonly ratePerSec: number;
  readonly durationMs: number;
  /** Job i of every `runAtEvery` is added with runAt = Date.now() + runAtInMs (the local clock). */
  readonly runAtEvery: number;
  readonly runAtInMs: number;
  /** Other jobs get a delay in [minDelayMs, maxDelayMs]. */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Job i of every `longEvery` sleeps `longMs` (longer than the lease: it must be renewed). */
  readonly longEvery: number;
  readonly longMs: number;
  /** Job i of every `timeoutEvery` sleeps `timeoutSleepMs` with a timeout of `timeoutMs`. */
  readonly timeoutEvery: number;
  readonly timeoutMs: number;
  readonly timeoutSleepMs: number;
}

/** One accepted add, as the producer process reports it. */
export interface ProducerAdded {
  readonly ev: 'added';
  readonly id: string;
  readonly kind: 'delayed' | 'runAt' | 'long' | 'timeout';
  /** The producer's clock when it called add. */
  readonly localNow: number;
  readonly delayMs?: number;
  readonly runAt?: number;
}

/** Hash of `<id>:<attempt>` → when the handler started, in Redis server time (ms). */
export function startsKey(prefix: string): string {
  return `${prefix}:faults:starts`;
}

/** Hash of job id → how many times a handler started on it. */
export function runsKey(prefix: string): string {
  return `${prefix}:faults:runs`;
}

/**
 * An archiver process (test/faults/archiver-process.ts): the Archiver of src/archive/ between the
 * queue's Redis and a PostgreSQL, as `retraced archive run` runs it.
 */
export interface ArchiverProcessConfig {
  readonly url: string;
  readonly prefix: string;
  readonly pgUrl: string;
  readonly schema: string;
  readonly queue: string;
  readonly owner: string;
  readonly batchSize: number;
  readonly leaseMs: number;
  readonly idleMs?: number;
  /**
   * Wait this long after each batch's PostgreSQL commit before the archiver goes on to mark it in
   * Redis (a window wide enough for the suite to SIGKILL the process in it).
   */
  readonly holdAfterWriteMs?: number;
}
