/**
 * The scheduler loop: fires due schedulers. It reads the schedulers due by the backend's clock,
 * plans each tick (`planTick`: cron and the missed-tick policy are TypeScript), and applies the
 * plans in one `tickSchedulers` transition per queue, which re-checks each scheduler atomically, so
 * any number of loops (every `retraced worker` and `server` runs one) may run against one backend:
 * each tick creates its jobs once.
 *
 * It sleeps until the earliest next run (by the backend's clock, not polling), at most
 * `rescanMs`: a scheduler upserted in this process wakes it at once, one upserted by another process
 * is seen at the next rescan at the latest.
 * @module
 */
import type { Backend } from './backend.js';
import { parseMissedText, parseSpecText, planTick, type TickRequest, type TickResult } from './schedule.js';

/** Most schedulers of one queue ticked per transition; more due ones are taken at once after. */
export const TICK_BATCH = 100;

const listeners = new WeakMap<Backend, Set<(queue: string) => void>>();

/** Tells the loops of this process on `backend` that a scheduler of `queue` changed. @internal */
export function notifySchedulerChange(backend: Backend, queue: string): void {
  for (const l of listeners.get(backend) ?? []) l(queue);
}

export interface SchedulerLoopOptions {
  readonly backend: Backend;
  /** The queues to tick, or a function listing them (called at every rescan). */
  readonly queues: readonly string[] | (() => Promise<readonly string[]>);
  /**
   * Longest sleep (ms) before looking again, so a scheduler upserted by another process is seen.
   * @default 5000
   */
  readonly rescanMs?: number;
  /** Called with each tick applied (for logs and tests). */
  readonly onTick?: (queue: string, result: TickResult) => void;
  /** Where a failed pass is reported (the loop keeps going). @default console.warn */
  readonly onError?: (error: unknown) => void;
}

export class SchedulerLoop {
  readonly #backend: Backend;
  readonly #queues: SchedulerLoopOptions['queues'];
  readonly #rescanMs: number;
  readonly #onTick: SchedulerLoopOptions['onTick'];
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;
  readonly #listener = (): void => this.#wake();

  constructor(options: SchedulerLoopOptions) {
    this.#backend = options.backend;
    this.#queues = options.queues;
    this.#rescanMs = options.rescanMs ?? 5000;
    this.#onTick = options.onTick;
    this.#onError = options.onError ?? ((e) => console.warn(`[retraced] scheduler loop: ${String(e)}`));
  }

  /** Starts ticking (idempotent). */
  start(): this {
    if (this.#closed) return this;
    let set = listeners.get(this.#backend);
    if (!set) listeners.set(this.#backend, (set = new Set()));
    set.add(this.#listener);
    this.#wake();
    return this;
  }

  #wake(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#pass()
      .then(
        (waitMs) => waitMs,
        (e: unknown) => {
          this.#onError(e);
          return Math.min(1000, this.#rescanMs);
        },
      )
      .then((waitMs) => {
        this.#running = undefined;
        if (this.#closed) return;
        if (this.#again) {
          this.#again = false;
          waitMs = 0;
        }
        this.#timer = setTimeout(() => this.#wake(), waitMs);
        this.#timer.unref?.();
      });
  }

  /**
   * One pass over every queue; returns how long to sleep. Each queue's wait counts from when its
   * due schedulers were read, so the time the pass spent since (the tick, the other queues) is
   * taken off: the loop wakes at the next run, not that much after it.
   */
  async #pass(): Promise<number> {
    const queues = typeof this.#queues === 'function' ? await this.#queues() : this.#queues;
    let wakeAt = performance.now() + this.#rescanMs;
    for (const q of queues) {
      if (this.#closed) break;
      const readAt = performance.now();
      wakeAt = Math.min(wakeAt, readAt + (await this.tickQueue(q)));
    }
    return Math.max(0, wakeAt - performance.now());
  }

  /**
   * Ticks the due schedulers of one queue once; returns ms until its next due run (0: more are due
   * now), or `rescanMs` when none is planned.
   */
  async tickQueue(queue: string): Promise<number> {
    const due = await this.#backend.dueSchedulers(queue, TICK_BATCH);
    if (due.due.length > 0) {
      const reqs: TickRequest[] = due.due.map((r) => ({
        id: r.id,
        expectNextRunAt: r.nextRunAt,
        spec: r.spec,
        plan: planTick(parseSpecText(r.spec), r.anchor, r.nextRunAt, due.now, parseMissedText(r.missed)),
      }));
      const results = await this.#backend.tickSchedulers(queue, reqs);
      for (const res of results) this.#onTick?.(queue, res);
      if (due.due.length >= TICK_BATCH) return 0;
      // Only if the clock stepped back between the read and the tick: look again shortly.
      if (results.some((r) => r.status === 'early')) return 10;
      // The ticked ones' next runs may come before the others'.
      const next = Math.min(...reqs.map((r) => r.plan.next), due.nextRunAt ?? Infinity);
      return Math.min(this.#rescanMs, next - due.now);
    }
    return due.nextRunAt === undefined ? this.#rescanMs : Math.min(this.#rescanMs, due.nextRunAt - due.now);
  }

  /** Stops the loop and waits for a pass in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    listeners.get(this.#backend)?.delete(this.#listener);
    await this.#running;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
