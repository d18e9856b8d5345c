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
}

export interface FaultJobData {
  readonly i?: number;
  readonly ms?: number;
  readonly crash?: 'exit' | 'kill';
  readonly hang?: boolean;
  readonly downUntil?: number;
}

/** Hash of job id → how many times a handler started on it. */
export function runsKey(prefix: string): string {
  return `${prefix}:faults:runs`;
}
