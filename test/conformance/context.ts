import { randomUUID } from 'node:crypto';

import { afterEach, expect } from 'vitest';

import type { Backend } from '../../src/backend.js';
import type { QueueOptions, WorkerOptions } from '../../src/options.js';
import { Queue } from '../../src/queue.js';
import type { Job, JobState } from '../../src/types.js';
import { Worker, type Handler, type WorkerQueues } from '../../src/worker.js';

/** What a backend's test file hands to the shared suite. */
export interface ConformanceTarget {
  readonly name: string;
  /** The backend all cases of a file share; queues get unique names. */
  readonly backend: () => Backend;
}

/** Tracks the workers a test starts and closes them after it, failing the test if one hangs. */
export class Harness {
  readonly #workers = new Set<Worker<never, never>>();
  readonly target: ConformanceTarget;

  constructor(target: ConformanceTarget) {
    this.target = target;
    afterEach(async () => {
      const workers = [...this.#workers];
      this.#workers.clear();
      await Promise.all(workers.map((w) => w.close({ timeoutMs: 2000 })));
    });
  }

  get backend(): Backend {
    return this.target.backend();
  }

  queue<D = unknown, R = unknown>(options: Omit<QueueOptions, 'backend'> = {}): Queue<D, R> {
    return new Queue<D, R>(`q${randomUUID().slice(0, 8)}`, { ...options, backend: this.backend });
  }

  worker<D, R>(
    queues: WorkerQueues<D, R>,
    handler: Handler<D, R>,
    options: WorkerOptions = {},
  ): Worker<D, R> {
    const w = new Worker(queues, handler, { leaseMs: 5000, ...options });
    w.on('error', () => undefined);
    this.#workers.add(w as unknown as Worker<never, never>);
    return w;
  }
}

/** Polls until the job reaches one of the states; returns it. */
export async function waitForState<D, R>(
  queue: Queue<D, R>,
  id: string,
  states: JobState | JobState[],
  timeoutMs = 5000,
): Promise<Job<D, R>> {
  const wanted = Array.isArray(states) ? states : [states];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await queue.getJob(id);
    if (job && wanted.includes(job.state)) return job;
    if (Date.now() > deadline) {
      expect.fail(
        `job ${id} did not reach ${wanted.join('|')} within ${timeoutMs} ms (now ${job?.state ?? 'missing'})`,
      );
    }
    await sleep(5);
  }
}

/** Polls until `fn` returns a truthy value. */
export async function waitUntil<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) expect.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export { randomUUID };
