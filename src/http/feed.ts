/**
 * Following the queues' event feeds (`backend.readEvents`) by polling: the metrics collector and
 * the SSE hub each own one {@link FeedFollower}. A follower polls only while it follows a queue,
 * never runs two polls at once, and stops cleanly (`stop()` waits for the poll in flight).
 * @module
 */
import type { Backend, QueueEvent } from '../backend.js';

/** Events read per call; the feed keeps at most 10 000 per queue. */
const BATCH = 1000;
/** Batches per queue per poll, so one busy queue cannot hold a poll forever. */
const MAX_BATCHES = 20;

export interface FeedFollowerOptions {
  readonly pollMs: number;
  readonly onEvents: (queue: string, events: readonly QueueEvent[]) => void;
  readonly onError?: (error: unknown) => void;
}

export class FeedFollower {
  readonly #backend: Backend;
  readonly #options: FeedFollowerOptions;
  /** queue → position (the seq of the last event delivered); one object per follow, so a poll can tell a queue followed again. */
  readonly #positions = new Map<string, { seq: string }>();
  /** Tails being found, shared by concurrent `follow` calls. */
  readonly #starting = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #stopped = false;

  constructor(backend: Backend, options: FeedFollowerOptions) {
    this.#backend = backend;
    this.#options = options;
  }

  /** Queues followed now. */
  get queues(): string[] {
    return [...this.#positions.keys()];
  }

  has(queue: string): boolean {
    return this.#positions.has(queue);
  }

  /** The seq of the last event delivered for `queue` (its tail when none was), if followed. */
  position(queue: string): string | undefined {
    return this.#positions.get(queue)?.seq;
  }

  /**
   * Follows `queue` from its current tail (`'tail'`: one `eventTail` read, shared by concurrent
   * calls) or from the oldest event kept (`'start'`).
   */
  follow(queue: string, from: 'tail' | 'start'): Promise<void> {
    if (this.#positions.has(queue) || this.#stopped) return Promise.resolve();
    let starting = this.#starting.get(queue);
    if (!starting) {
      starting = (async () => {
        const seq = from === 'tail' ? await this.#backend.eventTail(queue) : '0';
        if (this.#positions.has(queue) || this.#stopped) return;
        this.#positions.set(queue, { seq });
        this.#schedule();
      })().finally(() => this.#starting.delete(queue));
      this.#starting.set(queue, starting);
    }
    return starting;
  }

  unfollow(queue: string): void {
    this.#positions.delete(queue);
  }

  /** Reads every followed queue up to its tail now (also what each timer tick does). */
  poll(): Promise<void> {
    return (this.#polling ??= this.#pollOnce().finally(() => {
      this.#polling = undefined;
    }));
  }

  async #pollOnce(): Promise<void> {
    for (const [queue, position] of [...this.#positions]) {
      try {
        for (let i = 0; i < MAX_BATCHES && !this.#stopped; i++) {
          const events = await this.#backend.readEvents(queue, position.seq, BATCH);
          const last = events.at(-1);
          if (!last) break;
          // Unfollowed (or followed again from a new tail) meanwhile: drop what was read.
          if (this.#positions.get(queue) !== position) break;
          position.seq = last.seq;
          this.#options.onEvents(queue, events);
          if (events.length < BATCH) break;
        }
      } catch (e) {
        this.#options.onError?.(e);
      }
    }
  }

  #schedule(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#positions.size === 0 || this.#stopped) return;
      void this.poll().finally(() => this.#schedule());
    }, this.#options.pollMs);
    this.#timer.unref();
  }

  /** Stops polling and waits for the poll in flight. Following again is not possible. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#polling;
  }
}
