/**
 * One `Queue` object per queue name, on the server's backend, created on first use. The map is
 * bounded: names come from requests, so an unbounded cache would be a way to exhaust memory.
 * @module
 */
import type { Backend } from '../backend.js';
import type { QueueOptions } from '../options.js';
import { Queue } from '../queue.js';

const MAX_CACHED = 1000;

export class QueueRegistry {
  readonly backend: Backend;
  readonly #options: ((name: string) => QueueOptions) | undefined;
  readonly #queues = new Map<string, Queue>();

  constructor(backend: Backend, options?: (name: string) => QueueOptions) {
    this.backend = backend;
    this.#options = options;
  }

  /** The queue named `name` (validated by the Queue constructor: throws ValidationError). */
  get(name: string): Queue {
    const cached = this.#queues.get(name);
    if (cached) {
      // Refresh its place: the map's insertion order is the eviction order.
      this.#queues.delete(name);
      this.#queues.set(name, cached);
      return cached;
    }
    const queue = new Queue(name, { ...this.#options?.(name), backend: this.backend });
    this.#queues.set(name, queue);
    if (this.#queues.size > MAX_CACHED) {
      const oldest = this.#queues.keys().next().value;
      if (oldest !== undefined) this.#queues.delete(oldest);
    }
    return queue;
  }
}
