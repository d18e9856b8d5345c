/**
 * Prometheus metrics for `/metrics`. Gauges (jobs by state, queue depth, paused) are read from
 * `counts()` at scrape time. Counters and histograms (attempts by outcome and class, retries,
 * dead-letters, events, drift and duration) come from the queues' event feeds, followed in the
 * background from the moment the server started; each scrape first catches up with the feeds, so
 * it never lags behind what the API itself shows.
 * @module
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { Backend, QueueEvent } from '../backend.js';
import { JobStates } from '../types.js';
import { FeedFollower } from './feed.js';

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
  /**
   * A prom-client registry to register ReTraced's metrics in, to be served with your own (one
   * `/metrics` for the process). Without one the collector has its own, with prom-client's
   * default process metrics (CPU, memory, event loop lag, GC…) in it.
   */
  readonly registry?: Registry;
}

export class MetricsCollector {
  /** Where the metrics live: serve `registry.metrics()` yourself, or `/metrics` does. */
  readonly registry: Registry;
  readonly #backend: Backend;
  readonly #follower: FeedFollower;
  readonly #onError: (error: unknown) => void;
  readonly #discoverMs: number;
  #discoverTimer: NodeJS.Timeout | undefined;
  /** Until the first successful listing, found queues are followed from their tail. */
  #listed = false;

  readonly #jobs: Gauge<'queue' | 'state'>;
  readonly #depth: Gauge<'queue'>;
  readonly #paused: Gauge<'queue'>;
  readonly #evicted: Gauge<'queue' | 'state'>;
  readonly #archivePending: Gauge<'queue'>;
  readonly #archiveHeld: Gauge<'queue' | 'state'>;
  readonly #events: Counter<'queue' | 'type'>;
  readonly #attempts: Counter<'queue' | 'outcome' | 'class'>;
  readonly #retries: Counter<'queue' | 'cause'>;
  readonly #dead: Counter<'queue' | 'reason'>;
  readonly #feedErrors: Counter;
  readonly #drift: Histogram<'queue'>;
  readonly #budgetAhead: Gauge<'queue' | 'scope'>;
  readonly #budgetHits: Counter<'queue' | 'scope' | 'action'>;
  readonly #ticksSkipped: Counter<'queue' | 'reason'>;
  readonly #duration: Histogram<'queue'>;

  constructor(backend: Backend, options: MetricsOptions = {}) {
    this.#backend = backend;
    this.#onError = options.onError ?? (() => {});
    this.#discoverMs = options.discoverMs ?? 5000;
    const registry = options.registry ?? new Registry();
    if (!options.registry) collectDefaultMetrics({ register: registry });
    this.registry = registry;
    const registers = [registry];
    this.#jobs = new Gauge({
      name: 'retraced_jobs',
      help: 'Jobs by state, now.',
      labelNames: ['queue', 'state'],
      registers,
    });
    this.#depth = new Gauge({
      name: 'retraced_queue_depth',
      help: 'Jobs waiting or scheduled, now.',
      labelNames: ['queue'],
      registers,
    });
    this.#paused = new Gauge({
      name: 'retraced_queue_paused',
      help: '1 when the queue is paused.',
      labelNames: ['queue'],
      registers,
    });
    this.#evicted = new Gauge({
      name: 'retraced_jobs_evicted',
      help: 'Finished jobs evicted by retention since the queue began (a running total kept by the backend), by state.',
      labelNames: ['queue', 'state'],
      registers,
    });
    this.#archivePending = new Gauge({
      name: 'retraced_archive_pending_jobs',
      help: 'Finished jobs not archived in PostgreSQL yet (queues with an archive): a backlog that grows means the archiver is down or behind.',
      labelNames: ['queue'],
      registers,
    });
    this.#archiveHeld = new Gauge({
      name: 'retraced_archive_held_jobs',
      help: 'Jobs retention would evict now but holds in Redis until they are archived (queues with an archive), by state.',
      labelNames: ['queue', 'state'],
      registers,
    });
    this.#attempts = new Counter({
      name: 'retraced_attempts_total',
      help: 'Attempts ended, by outcome and error class.',
      labelNames: ['queue', 'outcome', 'class'],
      registers,
    });
    this.#retries = new Counter({
      name: 'retraced_retries_total',
      help: 'Jobs sent back for another attempt, by cause (failure or stall).',
      labelNames: ['queue', 'cause'],
      registers,
    });
    this.#dead = new Counter({
      name: 'retraced_dead_letters_total',
      help: 'Jobs dead-lettered, by reason.',
      labelNames: ['queue', 'reason'],
      registers,
    });
    this.#events = new Counter({
      name: 'retraced_events_total',
      help: 'Events on the queue feeds since the server started, by type.',
      labelNames: ['queue', 'type'],
      registers,
    });
    this.#drift = new Histogram({
      name: 'retraced_attempt_drift_ms',
      help: 'How late attempts started (startedAt - dueAt), in ms.',
      labelNames: ['queue'],
      buckets: BUCKETS_MS,
      registers,
    });
    this.#duration = new Histogram({
      name: 'retraced_attempt_duration_ms',
      help: 'How long attempts ran, in ms.',
      labelNames: ['queue'],
      buckets: BUCKETS_MS,
      registers,
    });
    this.#budgetAhead = new Gauge({
      name: 'retraced_retry_budget_booked_ahead_seconds',
      help: 'How far ahead a retry budget has placed retries (0: within budget; above 0 it defers them), now.',
      labelNames: ['queue', 'scope'],
      registers,
    });
    this.#budgetHits = new Counter({
      name: 'retraced_retry_budget_over_total',
      help: 'Retries over their retry budget, by what happened to them (deferred or dead).',
      labelNames: ['queue', 'scope', 'action'],
      registers,
    });
    this.#ticksSkipped = new Counter({
      name: 'retraced_scheduler_ticks_skipped_total',
      help: 'Scheduler occurrences that created no job, by why (overlap, missed while no loop ran, paused).',
      labelNames: ['queue', 'reason'],
      registers,
    });
    this.#feedErrors = new Counter({
      name: 'retraced_feed_read_errors_total',
      help: 'Failed reads of the event feeds.',
      registers,
    });
    this.#follower = new FeedFollower(backend, {
      pollMs: options.pollMs ?? 250,
      onEvents: (queue, events) => this.#record(queue, events),
      onError: (e) => {
        this.#feedErrors.inc();
        this.#onError(e);
      },
    });
  }

  /** A gauge read at scrape time (such as the event stream's clients), in the same registry. */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
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
      if (e.type === 'budget') {
        const scope = e.fields.scope ? e.fields.scope.replace(/^n:/, '') : '(queue)';
        this.#budgetHits.inc({ queue, scope, action: e.fields.dead ? 'dead' : 'deferred' });
      }
      if (e.type === 'tick-skipped') {
        this.#ticksSkipped.inc({ queue, reason: e.fields.reason || 'unknown' }, Number(e.fields.count) || 1);
      }
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
    const now = await Promise.all(
      queues.map(async (queue) => {
        const [counts, paused, budgets, clock, evictions, archive] = await Promise.all([
          this.#backend.counts(queue),
          this.#backend.isPaused(queue),
          this.#backend.getRetryBudgets(queue),
          this.#backend.now(),
          this.#backend.evictions(queue),
          this.#backend.archiveStatus(queue),
        ]);
        return { queue, counts, paused, budgets, clock, evictions, archive };
      }),
    );
    // A queue gone since the last scrape leaves no stale series behind.
    this.#jobs.reset();
    this.#depth.reset();
    this.#paused.reset();
    this.#budgetAhead.reset();
    this.#evicted.reset();
    this.#archivePending.reset();
    this.#archiveHeld.reset();
    for (const { queue, counts, paused, budgets, clock, evictions, archive } of now) {
      for (const [state, n] of Object.entries(evictions)) this.#evicted.set({ queue, state }, n);
      if (archive.enabled) {
        this.#archivePending.set({ queue }, archive.pending);
        for (const [state, n] of Object.entries(archive.held)) this.#archiveHeld.set({ queue, state }, n);
      }
      for (const b of budgets) {
        const scope = b.name ?? '(queue)';
        this.#budgetAhead.set({ queue, scope }, Math.max(0, b.bookedUntil - clock) / 1000);
      }
      for (const state of JobStates) this.#jobs.set({ queue, state }, counts[state]);
      this.#depth.set({ queue }, counts.waiting + counts.scheduled);
      this.#paused.set({ queue }, paused ? 1 : 0);
    }
    return this.registry.metrics();
  }

  /** The content type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  async stop(): Promise<void> {
    clearInterval(this.#discoverTimer);
    await this.#follower.stop();
  }
}
