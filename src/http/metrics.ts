/**
 * Prometheus metrics for `/metrics`. Gauges (jobs by state, queue depth, paused) are read from
 * `counts()` at scrape time. Counters and histograms (attempts by outcome and class, retries,
 * dead-letters, events, drift and duration) come from the queues' event feeds, followed in the
 * background from the moment the server started; each scrape first catches up with the feeds, so
 * it never lags behind what the API itself shows.
 * @module
 */
import type { Backend, QueueEvent } from '../backend.js';
import { JobStates } from '../types.js';
import { FeedFollower } from './feed.js';
import { Histogram, Series } from './prometheus.js';

/** Bucket upper bounds in ms: from a millisecond to an hour (drift grows while workers are down). */
export const BUCKETS_MS = [
  1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000,
];

/** Events that end an attempt; they carry outcome, class, drift and dur fields. */
const ATTEMPT_ENDS = new Set(['completed', 'retrying', 'dead', 'stalled']);

export interface MetricsOptions {
  /** How often the feeds are polled. @default 250 */
  readonly pollMs?: number;
  /** How often new queues are looked for between scrapes. @default 5000 */
  readonly discoverMs?: number;
  readonly onError?: (error: unknown) => void;
}

export class MetricsCollector {
  readonly #backend: Backend;
  readonly #follower: FeedFollower;
  readonly #onError: (error: unknown) => void;
  readonly #discoverMs: number;
  #discoverTimer: NodeJS.Timeout | undefined;
  /** Until the first successful listing, found queues are followed from their tail. */
  #listed = false;

  readonly #events = new Series(
    'retraced_events_total',
    'Events on the queue feeds since the server started, by type.',
    'counter',
  );
  readonly #attempts = new Series(
    'retraced_attempts_total',
    'Attempts ended, by outcome and error class.',
    'counter',
  );
  readonly #retries = new Series(
    'retraced_retries_total',
    'Jobs sent back for another attempt, by cause (failure or stall).',
    'counter',
  );
  readonly #dead = new Series('retraced_dead_letters_total', 'Jobs dead-lettered, by reason.', 'counter');
  readonly #feedErrors = new Series(
    'retraced_feed_read_errors_total',
    'Failed reads of the event feeds.',
    'counter',
  );
  readonly #drift = new Histogram(
    'retraced_attempt_drift_ms',
    'How late attempts started (startedAt - dueAt), in ms.',
    BUCKETS_MS,
  );
  readonly #duration = new Histogram(
    'retraced_attempt_duration_ms',
    'How long attempts ran, in ms.',
    BUCKETS_MS,
  );

  constructor(backend: Backend, options: MetricsOptions = {}) {
    this.#backend = backend;
    this.#onError = options.onError ?? (() => {});
    this.#discoverMs = options.discoverMs ?? 5000;
    this.#follower = new FeedFollower(backend, {
      pollMs: options.pollMs ?? 250,
      onEvents: (queue, events) => this.#record(queue, events),
      onError: (e) => {
        this.#feedErrors.inc({});
        this.#onError(e);
      },
    });
  }

  /** Follows every queue from its current tail and starts looking for new queues. */
  async start(): Promise<void> {
    await this.#discover();
    this.#discoverTimer = setInterval(() => void this.#discover(), this.#discoverMs);
    this.#discoverTimer.unref();
  }

  async #discover(): Promise<string[]> {
    try {
      const names = await this.#backend.listQueues();
      const from = this.#listed ? 'start' : 'tail';
      this.#listed = true;
      await Promise.all(
        names.filter((q) => !this.#follower.has(q)).map((q) => this.#follower.follow(q, from)),
      );
      return names;
    } catch (e) {
      this.#onError(e);
      return this.#follower.queues;
    }
  }

  #record(queue: string, events: readonly QueueEvent[]): void {
    for (const e of events) {
      this.#events.inc({ queue, type: e.type });
      if (e.type === 'retrying') this.#retries.inc({ queue, cause: 'failure' });
      if (e.type === 'stalled') this.#retries.inc({ queue, cause: 'stall' });
      if (e.type === 'dead') this.#dead.inc({ queue, reason: e.fields.reason || 'unknown' });
      if (!ATTEMPT_ENDS.has(e.type)) continue;
      this.#attempts.inc({ queue, outcome: e.fields.outcome || 'unknown', class: e.fields.class || 'none' });
      if (e.fields.drift) this.#drift.observe({ queue }, Number(e.fields.drift));
      if (e.fields.dur) this.#duration.observe({ queue }, Number(e.fields.dur));
    }
  }

  /** The whole exposition: gauges read now, counters caught up with the feeds. */
  async render(): Promise<string> {
    const queues = await this.#discover();
    await this.#follower.poll();
    const jobs = new Series('retraced_jobs', 'Jobs by state, now.', 'gauge');
    const depth = new Series('retraced_queue_depth', 'Jobs waiting or scheduled, now.', 'gauge');
    const paused = new Series('retraced_queue_paused', '1 when the queue is paused.', 'gauge');
    for (const queue of queues) {
      const [counts, isPaused] = await Promise.all([
        this.#backend.counts(queue),
        this.#backend.isPaused(queue),
      ]);
      for (const state of JobStates) jobs.set({ queue, state }, counts[state]);
      depth.set({ queue }, counts.waiting + counts.scheduled);
      paused.set({ queue }, isPaused ? 1 : 0);
    }
    return [
      jobs,
      depth,
      paused,
      this.#attempts,
      this.#retries,
      this.#dead,
      this.#events,
      this.#drift,
      this.#duration,
      this.#feedErrors,
    ]
      .map((m) => m.render())
      .join('');
  }

  async stop(): Promise<void> {
    clearInterval(this.#discoverTimer);
    await this.#follower.stop();
  }
}
