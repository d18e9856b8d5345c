/**
 * Retention on time. A finish applies the rules of the state it ends in, so without more finishes
 * (a quiet queue) jobs past their age rule would stay for ever. Every live worker (for its queue)
 * and `retraced server` (for every queue) runs a sweeper: every `intervalMs` it asks the backend
 * to sweep. The backend lets one sweep per queue per interval through, whichever process asks
 * (`Backend.sweepRetention`), and one sweep evicts at most {@link SWEEP_MAX_EVICTIONS} jobs, so
 * many workers cost one short script per queue per interval, plus a refused call each.
 * @module
 */
import type { Backend } from './backend.js';

/** Most jobs one sweep of one queue evicts (the next sweep continues). */
export const SWEEP_MAX_EVICTIONS = 1000;

export interface RetentionSweeperOptions {
  /** How often to sweep, and the least time between two sweeps of a queue; 0 = never. */
  readonly intervalMs: number;
  /** The queues to sweep, asked before each round. */
  readonly queues: () => readonly string[] | Promise<readonly string[]>;
  /** A failed round (the next one tries again). */
  readonly onError: (error: unknown) => void;
}

export class RetentionSweeper {
  readonly #backend: Backend;
  readonly #options: RetentionSweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<number> | undefined;

  constructor(backend: Backend, options: RetentionSweeperOptions) {
    this.#backend = backend;
    this.#options = options;
  }

  /** Sweeps every `intervalMs` until `stop()`; the timer does not keep the process alive. */
  start(): void {
    if (this.#timer || this.#options.intervalMs <= 0) return;
    this.#timer = setInterval(() => void this.sweep(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** One round over the queues (or the round in progress); resolves with the jobs evicted. */
  sweep(): Promise<number> {
    return (this.#round ??= this.#sweep().finally(() => {
      this.#round = undefined;
    }));
  }

  async #sweep(): Promise<number> {
    const sweep = { intervalMs: this.#options.intervalMs, max: SWEEP_MAX_EVICTIONS };
    let evicted = 0;
    try {
      for (const queue of await this.#options.queues()) {
        evicted += (await this.#backend.sweepRetention(queue, sweep)).evicted;
      }
    } catch (e) {
      this.#options.onError(e);
    }
    return evicted;
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#round;
  }
}
