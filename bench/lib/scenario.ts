/**
 * What a scenario is, and what it gets to run once for one system.
 * @module
 */
import type { Control } from './control.js';
import type { Adapter, SystemName } from './types.js';

export type Unit = 'jobs/s' | 'ms' | 'B/job' | 'keys/job';

/** CPU time (Node side + Redis) per 1,000 jobs over the timed work: unaffected by a busy machine's wall clock. */
export const CPU_METRIC: MetricDef = {
  key: 'cpuPer1k',
  label: 'CPU ms / 1k jobs',
  unit: 'ms',
  better: 'lower',
  summary: true,
};
/** The same split: the Node side (harness and worker processes) and redis-server. */
export const CPU_METRICS: readonly MetricDef[] = [
  CPU_METRIC,
  { key: 'cpuNodePer1k', label: 'Node CPU ms / 1k jobs', unit: 'ms', better: 'lower' },
  { key: 'cpuRedisPer1k', label: 'Redis CPU ms / 1k jobs', unit: 'ms', better: 'lower' },
];

export interface MetricDef {
  readonly key: string;
  readonly label: string;
  readonly unit: Unit;
  readonly better: 'higher' | 'lower';
  /** Shown in the throughput-ratio chart. */
  readonly chart?: boolean;
  /** Shown in the summary table (others only in the per-run table and JSON). */
  readonly summary?: boolean;
}

export interface Sizes {
  /** The "10,000 jobs" of most scenarios. */
  readonly jobs: number;
  readonly delayedJobs: number;
  readonly delayedSpreadMs: number;
  readonly delayedLeadMs: number;
  readonly idleSamples: number;
}

export interface ScenarioContext {
  readonly system: SystemName;
  /** A fresh adapter, not set up yet. */
  readonly adapter: Adapter;
  readonly redisUrl: string;
  readonly control: Control;
  /** A queue name unique to this run. */
  readonly queue: string;
  readonly sizes: Sizes;
  /** Repetition number (1-based), also the seed of anything random. */
  readonly rep: number;
  /** Registers a cleanup, run after the scenario (even when it failed or timed out), last first. */
  defer(fn: () => Promise<void>): void;
  /** A progress line on stderr (for long waits). */
  progress(message: string): void;
  /**
   * Marks the start and the end of the timed work, for CPU accounting: the CPU time the Node side
   * (harness and worker processes) and redis-server used in between, per 1,000 of `jobs`.
   */
  timing(phase: 'start' | 'end', jobs?: number): void;
}

export interface RunOutcome {
  readonly metrics: Record<string, number>;
  /** Correctness problems: any makes the run INVALID. */
  readonly problems: string[];
  /** Facts worth reporting that do not invalidate the run. */
  readonly notes: string[];
  readonly details?: Record<string, unknown>;
}

export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** What it measures and how, for the README and the report. */
  readonly method: string;
  readonly metrics: readonly MetricDef[];
  /** Longest a run may take before it is abandoned as INVALID. */
  timeoutMs(sizes: Sizes): number;
  run(ctx: ScenarioContext): Promise<RunOutcome>;
}
