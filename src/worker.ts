/**
 * The consumer: claims jobs with a lease, runs the handler, renews the lease while it runs, and
 * reports how each attempt ended together with the decision taken (done, retry after a delay with
 * its explanation, or dead-letter with the reason).
 * @module
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

import type { Backend, ClaimedJob, ClaimResult, FinishRequest, FinishResult } from './backend.js';
import { classifyError, isRateLimitError, serializeError, type ResolvedClassifyOptions } from './classify.js';
import {
  decideAfterFailure,
  decideAfterRateLimit,
  INTERRUPTED_CLASSIFICATION,
  interruptedDecision,
  jobClassifier,
  jobResultLimit,
} from './decide.js';
import { errorFingerprint, fingerprintLabel } from './fingerprint.js';
import { formatDuration } from './duration.js';
import {
  BackendClosedError,
  LeaseLostError,
  TimeoutError,
  ValidationError,
  WorkerClosingError,
} from './errors.js';
import { ServerClock, type ClaimTrip } from './server-clock.js';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './options.js';
import type { CustomStrategy } from './backoff.js';
import type { Queue } from './queue.js';
import { RetentionSweeper } from './retention-sweeper.js';
import { AttemptSpan, attemptSpanNeeded } from './tracing.js';
import { TrailSender } from './trail-sender.js';
import { hostName, packageVersion, workerTtlMs } from './workers.js';
import { responseRecord } from './response-record.js';
import type {
  Attempt,
  AttemptResponse,
  AttemptTrigger,
  ErrorClass,
  ErrorInfo,
  JobOptionsStored,
  ManualTrigger,
} from './types.js';

/** What a handler receives. */
export interface ActiveJob<Data = unknown> {
  readonly id: string;
  readonly queue: string;
  readonly name: string;
  readonly data: Data;
  /** This attempt's number (1 for the first run). */
  readonly attempt: number;
  readonly trigger: AttemptTrigger;
  readonly dueAt: number;
  /** When this handler was called, on the backend's clock (the attempt record holds the same). */
  readonly startedAt: number;
  /** Present when a person replayed the job. */
  readonly manual: ManualTrigger | undefined;
  /** Fires on timeout, lease loss or worker shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** The records of the attempts before this one. */
  previousAttempts(): Promise<Attempt[]>;
  /**
   * Reports this attempt's progress (any JSON value up to MAX_PROGRESS_BYTES; a ValidationError
   * otherwise): stored with the attempt (the latest value), published as a `progress` event. Returns
   * at once; written in order, batched (src/trail-sender.ts), and only while this worker holds the lease.
   */
  progress(value: unknown): void;
  /**
   * Logs a line (any value, as text, cut at MAX_LOG_LINE_CHARS) with this attempt; bounded per
   * attempt (MAX_LOG_LINES, MAX_LOG_BYTES: later lines are dropped and counted). Returns at once.
   */
  log(line: unknown): void;
  /**
   * Records what an HTTP call of this attempt answered on its record (`Attempt.response`: status,
   * time, headers, body excerpt); the latest call's, when it makes several. Cut to fit
   * MAX_RESPONSE_BYTES (src/response-record.ts), never refused for its size: a ValidationError only
   * when `response` is not one. Returns the response as recorded.
   */
  recordResponse(response: AttemptResponse): AttemptResponse;
}

/**
 * A job's handler. `signal` (also `job.signal`) fires on timeout, lease loss or shutdown. A handler
 * declared with exactly one parameter is called without the second argument: read `job.signal`.
 */
export type Handler<Data = unknown, Result = unknown> = (
  job: ActiveJob<Data>,
  signal: AbortSignal,
) => Promise<Result> | Result;

export interface JobEventBase {
  /** The job's queue (a worker may consume several). */
  readonly queue: string;
  readonly id: string;
  readonly name: string;
  readonly attempt: number;
}

/** Every event a Worker emits, with its payload. */
export interface WorkerEventMap {
  active: [JobEventBase & { trigger: AttemptTrigger; driftMs: number }];
  completed: [JobEventBase & { result: unknown; durationMs: number }];
  /** An attempt failed (any failure, whatever was decided after it). */
  failed: [JobEventBase & { error: ErrorInfo; errorClass: ErrorClass; rule: string; outcome: string }];
  retrying: [JobEventBase & { delayMs: number; nextDueAt: number; explanation: string }];
  dead: [JobEventBase & { reason: string; explanation: string }];
  /** This worker's late result was refused: its lease had been lost. */
  refused: [JobEventBase];
  /** This worker's lease on a running job was lost; the handler's signal was aborted. */
  'lease-lost': [JobEventBase];
  /** This worker recovered jobs whose lease had expired. */
  stalled: [{ queue: string; recovered: number }];
  /** No job in flight and none to claim. */
  drained: [];
  error: [Error];
  closed: [];
}

// Typed events over EventEmitter, by declaration merging (the interface adds no members the class
// lacks, only narrower signatures for the EventEmitter methods).
/* eslint-disable @typescript-eslint/no-unused-vars */
export interface Worker<Data, Result> {
  on<K extends keyof WorkerEventMap>(event: K, listener: (...args: WorkerEventMap[K]) => void): this;
  once<K extends keyof WorkerEventMap>(event: K, listener: (...args: WorkerEventMap[K]) => void): this;
  off<K extends keyof WorkerEventMap>(event: K, listener: (...args: WorkerEventMap[K]) => void): this;
  emit<K extends keyof WorkerEventMap>(event: K, ...args: WorkerEventMap[K]): boolean;
}
/* eslint-enable @typescript-eslint/no-unused-vars */

/** The automatic prefetch holds what the worker will start within this window… */
const PREFETCH_WINDOW_MS = 2;
/** …and at most max(50, 2 × concurrency): enough for two more claims in flight at batch 50. */
const MIN_AUTO_PREFETCH_CAP = 50;

/** A job's stored options, parsed once per distinct text, with what the worker derives from them. */
interface JobSettings {
  readonly stored: JobOptionsStored;
  readonly classify: ResolvedClassifyOptions;
  /** Whose classification applies: the job's own, or this worker's (a job that carries none). */
  readonly classifiedBy: 'job' | 'worker';
  readonly maxResultBytes: number;
}

/** One queue of a worker that consumes several, with its share of the worker's slots. */
export interface WeightedQueue<Data = unknown, Result = unknown> {
  readonly queue: Queue<Data, Result>;
  /**
   * When every queue of the worker has work, each is served in proportion to its weight (jobs
   * started); a queue with nothing to do leaves its share to the others. A whole number, 1-1000.
   * @default 1
   */
  readonly weight?: number;
}

/** What a Worker consumes: one queue, or several (all on one backend), each with a weight. */
export type WorkerQueues<Data = unknown, Result = unknown> =
  Queue<Data, Result> | readonly (Queue<Data, Result> | WeightedQueue<Data, Result>)[];

/**
 * One queue in the worker. Weighted fairness is stride scheduling: a queue's `pass` grows by
 * 1 / weight for each job claimed from it, and the queue with the smallest pass is served next, so
 * with every queue busy the jobs started follow the weights. A queue found empty is left alone
 * (`idleUntil`) until a wake arrives for it or its next due job or lease expiry; when it comes
 * back, its pass is raised to the least pass of the busy queues: credit is not saved while idle,
 * so a queue that was empty does not then monopolise the worker.
 */
interface Lane<Data, Result> {
  readonly queue: Queue<Data, Result>;
  readonly name: string;
  readonly weight: number;
  /** The queue's strategies, then the worker's. */
  readonly strategies: Readonly<Record<string, CustomStrategy>>;
  /** Parsed job options by their JSON text: most jobs of a queue share one. */
  readonly optsCache: Map<string, JobSettings>;
  pass: number;
  /** Slots reserved by claims from this queue in flight (counted in the shares). */
  claiming: number;
  /** performance.now() until which the queue is known to have nothing to claim (0: it may have). */
  idleUntil: number;
}

/** A claimed job in this worker; as a ClaimTrip, the round trip of the claim that brought it. */
interface InFlight extends ClaimTrip {
  readonly claimed: ClaimedJob;
  readonly lane: Lane<unknown, unknown>;
  /** Made on first use (most handlers never look at their signal): see signalOf / abortEntry. */
  ac: AbortController | undefined;
  /** Set when the attempt was aborted before anyone asked for its signal. */
  abortReason: unknown;
  /** performance.now() when the handler started (0 while held in the prefetch buffer). */
  startedLocal: number;
  /** Fixed when the handler starts: see #heldMs. */
  heldMs: number;
  leaseLost: boolean;
  /** Set when the attempt's outcome has been handed to the finisher. */
  settled: boolean;
  done: Promise<void>;
  /** The attempt's `process <queue>` span, from its handler's start until its finish is answered. */
  span: AttemptSpan | undefined;
  /** Made on the handler's first progress or log. */
  trail: TrailSender | undefined;
  /** What the attempt's HTTP call answered (`job.recordResponse`), bounded. */
  response?: AttemptResponse;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Worker<Data = unknown, Result = unknown> extends EventEmitter {
  /** The queue this worker consumes (the first, when it consumes several). */
  readonly queue: Queue<Data, Result>;
  /** Every queue this worker consumes, with its weight. */
  readonly queues: readonly { readonly queue: Queue<Data, Result>; readonly weight: number }[];
  readonly #lanes: Lane<unknown, unknown>[];
  readonly #laneByName: Map<string, Lane<unknown, unknown>>;
  readonly options: ResolvedWorkerOptions;
  readonly id: string;
  readonly #backend: Backend;
  readonly #handler: Handler<Data, Result>;
  readonly #inflight = new Map<string, InFlight>();
  readonly #closeAc = new AbortController();
  #loop: Promise<void> | undefined;
  #slotWaiter: (() => void) | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #beatTimer: NodeJS.Timeout | undefined;
  /** The last heartbeat in flight (close waits for it before leaving the registry). */
  #beating: Promise<void> | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  /** Applies the queue's retention rules on time (age rules of a quiet queue). */
  readonly #sweeper: RetentionSweeper;
  #pendingFinish: {
    lane: Lane<unknown, unknown>;
    req: FinishRequest;
    resolve: (r: FinishResult) => void;
    reject: (e: unknown) => void;
  }[] = [];
  /** Slots reserved by claims in flight (the main loop's, or one riding on a finish). */
  #claiming = 0;
  #flushScheduled = false;
  #closing: Promise<void> | undefined;
  #drainedEmitted = false;
  /** Handlers running now (≤ concurrency). */
  #running = 0;
  /** Claimed jobs waiting here for a free slot (the prefetch buffer), oldest first. */
  #buffer: InFlight[] = [];
  /** Moving average of handler run times (ms), for the automatic prefetch; undefined until measured. */
  #avgRunMs: number | undefined;
  /** The backend's clock from this worker's claims: when handlers start, in backend time. */
  readonly #clock = new ServerClock();

  /**
   * `queues`: one Queue, or several (`[{ queue: a, weight: 3 }, { queue: b }]`, all on the same
   * backend): the worker's slots are shared by them, by weight when all have work (see Lane).
   */
  constructor(queues: WorkerQueues<Data, Result>, handler: Handler<Data, Result>, options?: WorkerOptions) {
    super();
    if (typeof handler !== 'function') {
      throw new ValidationError('handler', 'a function (job, signal) => result', handler);
    }
    const list = resolveQueues(queues);
    const queue = (list[0] as { queue: Queue<Data, Result> }).queue;
    this.queue = queue;
    this.queues = list;
    const defaultId = (): string => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.options = resolveWorkerOptions(options, defaultId, queue.options.strategies);
    const own = options?.strategies
      ? resolveWorkerOptions({ strategies: options.strategies }, defaultId).strategies
      : {};
    this.#lanes = list.map(({ queue: q, weight }) => {
      const strategies =
        q === queue ? this.options.strategies : Object.freeze({ ...q.options.strategies, ...own });
      // So that queue.preview() shows what this worker's strategies would do.
      q.registerStrategies(strategies);
      return {
        queue: q as Queue<unknown, unknown>,
        name: q.name,
        weight,
        strategies,
        optsCache: new Map(),
        pass: 0,
        claiming: 0,
        idleUntil: 0,
      };
    });
    this.#laneByName = new Map(this.#lanes.map((l) => [l.name, l]));
    const names = list.map((l) => l.queue.name);
    this.#sweeper = new RetentionSweeper(queue.backend, {
      intervalMs: this.options.retentionSweepMs,
      queues: () => names,
      onError: (e) => {
        if (!this.#closeAc.signal.aborted) this.#error(e);
      },
    });
    this.id = this.options.workerId;
    this.#backend = queue.backend;
    this.#handler = handler;
    if (this.options.autostart) this.start();
  }

  /** Starts claiming (done by the constructor unless `autostart: false`). */
  start(): void {
    if (this.#loop || this.#closing) return;
    const leaseMs = this.options.leaseMs;
    this.#renewTimer = setInterval(() => void this.#renew(), Math.max(20, Math.floor(leaseMs / 3)));
    this.#stallTimer = setInterval(() => void this.#recover(), Math.max(25, Math.floor(leaseMs / 2)));
    this.#sweeper.start();
    if (this.options.heartbeatMs > 0) {
      void this.#beat();
      this.#beatTimer = setInterval(() => void this.#beat(), this.options.heartbeatMs);
      this.#beatTimer.unref();
    }
    this.#loop = this.#run().catch((e: unknown) => this.#error(e));
  }

  /** Registers or refreshes this worker in the registry of each of its queues (see workers.ts). */
  #beat(): Promise<void> {
    if (this.#beating) return this.#beating;
    const { heartbeatMs, concurrency, registryQueues } = this.options;
    const names = this.queues.map((q) => q.queue.name);
    this.#beating = (async () => {
      try {
        const beat = {
          id: this.id,
          host: hostName(),
          pid: process.pid,
          queues: registryQueues ?? names,
          concurrency,
          inFlight: this.#inflight.size,
          version: await packageVersion(),
        };
        await Promise.all(
          names.map((name) => this.#backend.workerHeartbeat(name, beat, workerTtlMs(heartbeatMs))),
        );
      } catch (e) {
        if (!this.#closeAc.signal.aborted) this.#error(e);
      } finally {
        this.#beating = undefined;
      }
    })();
    return this.#beating;
  }

  /** Handlers running now. */
  get running(): number {
    return this.#running;
  }

  /**
   * How many claimed jobs this worker may hold beyond its running ones. 'auto' holds what it will
   * start within PREFETCH_WINDOW_MS at the handlers' recent pace: up to max(50, 2 × concurrency)
   * for jobs that take microseconds, none for jobs that take longer than the window.
   */
  #allowance(): number {
    const p = this.options.prefetch;
    if (p !== 'auto') return p;
    const avg = this.#avgRunMs;
    if (avg === undefined) return 0;
    const cap = Math.max(MIN_AUTO_PREFETCH_CAP, 2 * this.options.concurrency);
    return Math.min(cap, Math.floor((PREFETCH_WINDOW_MS * this.options.concurrency) / Math.max(avg, 0.001)));
  }

  /** Slots a claim may fill now: free handler slots plus the prefetch allowance. */
  #wanted(): number {
    return (
      this.options.concurrency +
      this.#allowance() -
      this.#running -
      this.#buffer.length -
      this.#claiming -
      this.#pendingFinish.length
    );
  }

  #error(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  async #run(): Promise<void> {
    const { batchSize, leaseMs, workerId, idleCheckMs } = this.options;
    const single = this.#lanes.length === 1;
    let failures = 0;
    await Promise.all(this.#lanes.map((l) => l.queue.ready())).catch((e: unknown) => this.#error(e));
    // Several queues: idle ones are watched by one blocking wait of their own (see #watch).
    if (!single) this.#watching = this.#watch().catch((e: unknown) => this.#error(e));
    while (!this.#closeAc.signal.aborted) {
      // A free handler slot is filled at once; the prefetch buffer is refilled in batches, when
      // half of it has been used, so that a busy worker does not claim one job per round trip.
      // Finishes not yet sent keep their slot: the finish's own claim will fill it.
      const wanted = this.#exclusive > 0 ? 0 : this.#wanted();
      const slotFree =
        this.options.concurrency -
          this.#running -
          this.#buffer.length -
          this.#claiming -
          this.#pendingFinish.length >
        0;
      if (wanted <= 0 || (!slotFree && wanted < Math.ceil(this.#allowance() / 2))) {
        await new Promise<void>((resolve) => (this.#slotWaiter = resolve));
        continue;
      }
      const lane = single ? (this.#lanes[0] as Lane<unknown, unknown>) : this.#pick();
      if (!lane) {
        // Every queue is known to be empty: the watcher wakes this loop when one may not be.
        this.#idleNow();
        await new Promise<void>((resolve) => (this.#slotWaiter = resolve));
        continue;
      }
      if (single && lane.idleUntil > performance.now()) {
        // A claim that rode on a finish found nothing more to take now (a rate limit's next token,
        // the next due job): wait for that or a wake token, as after an empty claim of our own,
        // without asking again first.
        const wait = Math.ceil(lane.idleUntil - performance.now());
        lane.idleUntil = 0;
        this.#idleNow();
        try {
          await this.#backend.waitForWork(lane.name, wait, this.#closeAc.signal);
        } catch (e) {
          if (this.#closeAc.signal.aborted) break;
          this.#error(e);
          await sleep(100, this.#closeAc.signal);
        }
        continue;
      }
      const max = single
        ? Math.min(batchSize, wanted)
        : Math.max(1, this.#shares(Math.min(batchSize, wanted)).get(lane) ?? 0);
      const exclusiveOk = this.#inflight.size === 0 && this.#claiming === 0;
      let res;
      this.#claiming += max;
      lane.claiming += max;
      const sent = performance.now();
      try {
        res = await this.#backend.claim(lane.name, { workerId, leaseMs, max, exclusiveOk });
        failures = 0;
      } catch (e) {
        if (this.#closeAc.signal.aborted || e instanceof BackendClosedError) break;
        this.#error(e);
        // Back off while the backend is unreachable; the client reconnects underneath.
        await sleep(Math.min(2000, 50 * 2 ** failures++), this.#closeAc.signal);
        continue;
      } finally {
        this.#claiming -= max;
        lane.claiming -= max;
      }
      if (res.recovered > 0) this.emit('stalled', { queue: lane.name, recovered: res.recovered });
      if (res.jobs.length > 0) {
        this.#drainedEmitted = false;
        this.#take(lane, res.jobs, sent);
        // Fewer than asked, stopped by a rate limit: nothing more until its next token.
        if (res.jobs.length < max) this.#holdUntilNext(lane, res);
        continue;
      }
      const wait =
        res.paused || res.nextWakeInMs === undefined ? idleCheckMs : Math.min(idleCheckMs, res.nextWakeInMs);
      if (!single) {
        if (wait > 0) this.#setIdle(lane, wait);
        continue;
      }
      this.#idleNow();
      if (wait <= 0) continue;
      try {
        await this.#backend.waitForWork(lane.name, wait, this.#closeAc.signal);
      } catch (e) {
        if (this.#closeAc.signal.aborted) break;
        this.#error(e);
        await sleep(100, this.#closeAc.signal);
      }
    }
  }

  /** Emits `drained` once when nothing is in flight and nothing was found to claim. */
  #idleNow(): void {
    if (this.#inflight.size === 0 && !this.#drainedEmitted) {
      this.#drainedEmitted = true;
      this.emit('drained');
    }
  }

  /** The loop watching idle queues (several queues only), while it runs. */
  #watching: Promise<void> | undefined;
  /** Wakes the watcher when it has no idle queue to watch and one becomes idle. */
  #watchWake: (() => void) | undefined;
  /** The watcher's current wait: the queues it covers, and how to end it early. */
  #watch_: { lanes: Set<Lane<unknown, unknown>>; interrupt: AbortController } | undefined;

  /**
   * Several queues: blocks on the wake lists of the queues found empty (one wait for all of them,
   * `Backend.waitForAnyWork`) and marks those woken as worth claiming from, so that a queue that
   * was empty is served within a round trip of its next job even while the others keep the worker
   * busy: no polling. When another queue is found empty, the wait is ended (gently) and started
   * again with it included.
   */
  async #watch(): Promise<void> {
    const signal = this.#closeAc.signal;
    const { idleCheckMs } = this.options;
    while (!signal.aborted) {
      const now = performance.now();
      const idle = this.#lanes.filter((l) => l.idleUntil > now);
      if (idle.length === 0) {
        await new Promise<void>((resolve) => (this.#watchWake = resolve));
        continue;
      }
      const until = Math.min(...idle.map((l) => l.idleUntil));
      const timeout = Math.max(1, Math.min(idleCheckMs, Math.ceil(until - now)));
      const interrupt = new AbortController();
      this.#watch_ = { lanes: new Set(idle), interrupt };
      let woke: string[];
      try {
        woke = await this.#backend.waitForAnyWork(
          idle.map((l) => l.name),
          timeout,
          signal,
          interrupt.signal,
        );
      } catch (e) {
        if (signal.aborted || e instanceof BackendClosedError) break;
        this.#error(e);
        await sleep(100, signal);
        continue;
      } finally {
        this.#watch_ = undefined;
      }
      for (const name of woke) {
        const l = this.#laneByName.get(name);
        if (l) this.#activate(l);
      }
      this.#wakeLoop();
    }
  }

  /**
   * A claim (of the main loop, or riding on a finish) took fewer jobs than asked and answered when
   * the queue may have more (`nextWakeInMs`: a rate limit's next token, the next due job or lease
   * expiry): until then the queue is idle, so no claim is sent only to be told the same again. A
   * wake token (a job added, a retry) ends the wait early, as after an empty claim.
   */
  #holdUntilNext(lane: Lane<unknown, unknown>, res: ClaimResult): void {
    if (res.paused || res.nextWakeInMs === undefined || res.nextWakeInMs <= 0) return;
    // At most idleCheckMs, as after an empty claim of the main loop.
    const ms = Math.min(this.options.idleCheckMs, res.nextWakeInMs);
    if (this.#lanes.length === 1) lane.idleUntil = performance.now() + ms;
    else this.#setIdle(lane, ms);
  }

  /** A queue was found empty: leave it to the watcher for up to `ms`. */
  #setIdle(lane: Lane<unknown, unknown>, ms: number): void {
    lane.idleUntil = performance.now() + ms;
    const watched = this.#watch_;
    if (watched && !watched.lanes.has(lane)) watched.interrupt.abort();
    const w = this.#watchWake;
    this.#watchWake = undefined;
    w?.();
  }

  /** A queue may have work again; its pass is raised to the busy queues' least (no saved credit). */
  #activate(lane: Lane<unknown, unknown>): void {
    if (lane.idleUntil === 0) return;
    lane.idleUntil = 0;
    let least = Infinity;
    for (const l of this.#lanes) if (l !== lane && l.idleUntil === 0) least = Math.min(least, l.pass);
    if (least !== Infinity && lane.pass < least) lane.pass = least;
  }

  /** Queues that may have work: those whose idle time ran out are active again. */
  #active(): Lane<unknown, unknown>[] {
    const now = performance.now();
    const out: Lane<unknown, unknown>[] = [];
    for (const l of this.#lanes) {
      if (l.idleUntil !== 0 && l.idleUntil <= now) this.#activate(l);
      if (l.idleUntil === 0) out.push(l);
    }
    return out;
  }

  /** The queue to claim from next: the least pass among those that may have work. */
  #pick(): Lane<unknown, unknown> | undefined {
    let best: Lane<unknown, unknown> | undefined;
    for (const l of this.#active()) if (!best || l.pass < best.pass) best = l;
    return best;
  }

  /**
   * How `n` slots would be shared now between the queues that may have work: one at a time to the
   * least pass (counting claims in flight), each adding 1 / weight to it.
   */
  #shares(n: number): Map<Lane<unknown, unknown>, number> {
    const active = this.#active();
    const out = new Map<Lane<unknown, unknown>, number>();
    if (active.length === 1) {
      out.set(active[0] as Lane<unknown, unknown>, n);
      return out;
    }
    const pass = active.map((l) => l.pass + l.claiming / l.weight);
    for (let i = 0; i < n && active.length > 0; i++) {
      let b = 0;
      for (let j = 1; j < pass.length; j++) if ((pass[j] as number) < (pass[b] as number)) b = j;
      const l = active[b] as Lane<unknown, unknown>;
      pass[b] = (pass[b] as number) + 1 / l.weight;
      out.set(l, (out.get(l) ?? 0) + 1);
    }
    return out;
  }

  #wakeLoop(): void {
    const w = this.#slotWaiter;
    this.#slotWaiter = undefined;
    w?.();
  }

  /**
   * Takes claimed jobs: starts what free slots allow, holds the rest in the prefetch buffer.
   * `sentLocal`: performance.now() just before the claim request was sent.
   */
  #take(lane: Lane<unknown, unknown>, jobs: readonly ClaimedJob[], sentLocal: number): void {
    lane.pass += jobs.length / lane.weight;
    const recvLocal = performance.now();
    this.#clock.sample({ serverMs: (jobs[0] as ClaimedJob).startedAt, sentLocal, recvLocal });
    for (const c of jobs) {
      const entry: InFlight = {
        claimed: c,
        lane,
        serverMs: c.startedAt,
        sentLocal,
        recvLocal,
        ac: undefined,
        abortReason: undefined,
        startedLocal: 0,
        heldMs: 0,
        leaseLost: false,
        settled: false,
        done: Promise.resolve(),
        span: undefined,
        trail: undefined,
      };
      this.#inflight.set(c.id, entry);
      if (c.exclusive) this.#exclusive++;
      if (this.#running < this.options.concurrency && this.#buffer.length === 0) this.#start(entry);
      else this.#buffer.push(entry);
    }
  }

  /** Starts held jobs while slots are free; drops those whose lease was lost meanwhile. */
  #startBuffered(): void {
    while (
      this.#buffer.length > 0 &&
      this.#running < this.options.concurrency &&
      !this.#closeAc.signal.aborted
    ) {
      const entry = this.#buffer.shift() as InFlight;
      if (entry.leaseLost) {
        this.#forget(entry);
        continue;
      }
      this.#start(entry);
    }
  }

  #forget(entry: InFlight): void {
    // By identity: the same job may already be held again here (an immediate retry claimed by
    // this worker's own finish), and that new entry must stay.
    if (this.#inflight.get(entry.claimed.id) === entry) this.#inflight.delete(entry.claimed.id);
    if (entry.claimed.exclusive) this.#exclusive--;
    this.#wakeLoop();
  }

  #start(entry: InFlight): void {
    entry.startedLocal = performance.now();
    this.#running++;
    entry.done = this.#execute(entry)
      .catch((e: unknown) => this.#error(e))
      .finally(() => this.#forget(entry));
  }

  /** A handler returned or threw: its slot goes to the next held job at once. */
  #ran(entry: InFlight): void {
    this.#running--;
    const ms = performance.now() - entry.startedLocal;
    this.#avgRunMs = this.#avgRunMs === undefined ? ms : this.#avgRunMs + (ms - this.#avgRunMs) * 0.2;
    this.#startBuffered();
    this.#wakeLoop();
  }

  /** Suspects in flight (see #start): while one runs, nothing else is claimed. */
  #exclusive = 0;

  #opts(lane: Lane<unknown, unknown>, text: string): JobSettings {
    const cache = lane.optsCache;
    let o = cache.get(text);
    if (!o) {
      const stored = JSON.parse(text) as JobOptionsStored;
      const own = lane.queue.options;
      const classifier = jobClassifier(stored, own.classify);
      o = {
        stored,
        classify: classifier.options,
        classifiedBy: classifier.source,
        maxResultBytes: jobResultLimit(stored, own.maxResultBytes),
      };
      if (cache.size >= 64) cache.clear();
      cache.set(text, o);
    }
    return o;
  }

  /**
   * How long after its claim time the job's handler started (for a job given back unstarted, until
   * now), in whole ms of backend time: the record's startedAt is the claim time plus this. The
   * start is measured on this worker's monotonic clock when the handler is called, and converted
   * with the backend clock estimate (ServerClock): never earlier than the real start.
   */
  #heldMs(entry: InFlight, local: number): number {
    return Math.max(0, Math.round(this.#clock.at(local, entry) - entry.serverMs));
  }

  /** What the handler receives; its startedAt is the claim time plus #heldMs (see there). */
  #activeJob(entry: InFlight): ActiveJob<Data> {
    const c = entry.claimed;
    const backend = this.#backend;
    const queueName = entry.lane.name;
    return {
      id: c.id,
      queue: queueName,
      name: c.name,
      data: JSON.parse(c.data) as Data,
      attempt: c.attempt,
      trigger: c.trigger,
      dueAt: c.dueAt,
      startedAt: c.startedAt + entry.heldMs,
      manual: c.manual,
      get signal() {
        return signalOf(entry);
      },
      previousAttempts: async () => (await backend.getAttempts(queueName, c.id)) ?? [],
      progress: (value) => this.#trail(entry).progress(value),
      log: (line) => this.#trail(entry).log(line),
      recordResponse: (response) => (entry.response = responseRecord(response)),
    };
  }

  #trail(entry: InFlight): TrailSender {
    const c = entry.claimed;
    return (entry.trail ??= new TrailSender(
      // Written out, not `{ ...w, id, … }` (a slow literal in V8: see #report).
      (w) =>
        this.#backend.writeTrail(entry.lane.name, {
          progress: w.progress,
          lines: w.lines,
          dropped: w.dropped,
          id: c.id,
          attempt: c.attempt,
          workerId: this.id,
        }),
      (e) => this.#error(e),
    ));
  }

  async #execute(entry: InFlight): Promise<void> {
    const c = entry.claimed;
    const opts = this.#opts(entry.lane, c.opts).stored;
    // Called at the very moment the handler begins (a microtask after #start: the handlers of jobs
    // started before it in the same turn may have run first), so that startedAt is the real start.
    const begin = (): Promise<Result> | Result => {
      entry.startedLocal = performance.now();
      entry.heldMs = this.#heldMs(entry, entry.startedLocal);
      const job = this.#activeJob(entry);
      if (this.listenerCount('active') > 0) {
        try {
          this.emit('active', {
            queue: entry.lane.name,
            id: c.id,
            name: c.name,
            attempt: c.attempt,
            trigger: c.trigger,
            driftMs: job.startedAt - c.dueAt,
          });
        } catch (e) {
          this.#error(e); // a listener's bug is not the job's failure
        }
      }
      // A handler that declares exactly one parameter (job) gets a signal only if it reads
      // job.signal: most never do, and an AbortController per job is a measurable share of a
      // short job's cost.
      const handler = this.#handler;
      const call = (): Promise<Result> | Result =>
        handler.length === 1
          ? handler(job, undefined as unknown as AbortSignal)
          : handler(job, signalOf(entry));
      const tracing = this.options.tracing;
      if (!tracing.enabled || !attemptSpanNeeded(c.trace, tracing.parent)) return call();
      entry.span = new AttemptSpan(
        {
          queue: entry.lane.name,
          jobId: c.id,
          name: c.name,
          attempt: c.attempt,
          trigger: c.trigger,
          manual: c.manual,
          carrier: c.trace,
          workerId: this.id,
          driftMs: job.startedAt - c.dueAt,
        },
        tracing.parent,
      );
      return entry.span.run(call);
    };

    let timer: NodeJS.Timeout | undefined;
    let outcome: FinishRequest['outcome'];
    let result: unknown;
    let thrown: unknown;
    try {
      const run = Promise.resolve().then(begin);
      if (opts.timeoutMs > 0) {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const err = new TimeoutError(`attempt exceeded its timeout of ${formatDuration(opts.timeoutMs)}`);
            abortEntry(entry, err);
            reject(err);
          }, opts.timeoutMs);
        });
        run.catch(() => undefined); // a handler that rejects after the timeout must not be unhandled
        result = await Promise.race([run, timeout]);
      } else {
        result = await run;
      }
      outcome = 'succeeded';
    } catch (e) {
      thrown = e;
      outcome =
        e instanceof TimeoutError
          ? 'timed_out'
          : e instanceof WorkerClosingError && this.#closeAc.signal.aborted
            ? 'interrupted'
            : isRateLimitError(e)
              ? 'rate_limited'
              : 'failed';
    } finally {
      clearTimeout(timer);
      this.#ran(entry);
    }
    if (entry.settled) return; // released by close() after its deadline
    entry.settled = true;
    // The attempt's progress and lines are written before its record, while the lease is held.
    if (entry.trail) await entry.trail.issued();
    await this.#report(entry, outcome, result, thrown);
  }

  async #report(
    entry: InFlight,
    outcome: FinishRequest['outcome'],
    result: unknown,
    thrown: unknown,
  ): Promise<void> {
    const c = entry.claimed;
    const queue = entry.lane.name;
    // A job given back unstarted was held until now.
    const heldMs = entry.startedLocal > 0 ? entry.heldMs : this.#heldMs(entry, performance.now());
    // Requests and event payloads are written out in full, never as `{ ...common, more }`: V8
    // builds a spread of a fresh object into a larger literal slowly (several µs each), and this runs
    // once or twice per attempt. Every finish says which attempt, by whom, held how long, and
    // what its HTTP call answered (`response`, undefined for most).
    let req: FinishRequest;
    if (outcome === 'succeeded') {
      const limit = this.#opts(entry.lane, c.opts).maxResultBytes;
      req = {
        id: c.id,
        attempt: c.attempt,
        workerId: this.id,
        heldMs,
        response: entry.response,
        outcome,
        result: resultJson(result, limit),
        decision: { action: 'done' },
      };
    } else if (outcome === 'interrupted') {
      // Given back on shutdown: not the job's fault, so no classification and no budget spent.
      const error = serializeError(thrown);
      const { errorClass, rule } = INTERRUPTED_CLASSIFICATION;
      req = {
        id: c.id,
        attempt: c.attempt,
        workerId: this.id,
        heldMs,
        response: entry.response,
        outcome,
        error,
        errorClass,
        rule,
        decision: interruptedDecision(),
      };
      this.emit('failed', {
        queue,
        id: c.id,
        name: c.name,
        attempt: c.attempt,
        error,
        errorClass,
        rule,
        outcome,
      });
    } else if (outcome === 'rate_limited') {
      // An upstream limit: the group or queue pauses, the job waits again, no budget spent.
      const error = serializeError(thrown);
      const e = thrown as { retryAfterMs?: unknown; scope?: unknown };
      const rl = decideAfterRateLimit({ retryAfterMs: e.retryAfterMs, scope: e.scope, group: c.group });
      const { errorClass, rule } = rl.classification;
      req = {
        id: c.id,
        attempt: c.attempt,
        workerId: this.id,
        heldMs,
        response: entry.response,
        outcome,
        error,
        errorClass,
        rule,
        pause: rl.pause,
        decision: rl.decision,
      };
      if (this.listenerCount('failed') > 0) {
        this.emit('failed', {
          queue,
          id: c.id,
          name: c.name,
          attempt: c.attempt,
          error,
          errorClass,
          rule,
          outcome,
        });
      }
    } else {
      const error = serializeError(thrown);
      const settings = this.#opts(entry.lane, c.opts);
      const cls = classifyError(thrown, settings.classify, { timedOut: outcome === 'timed_out' });
      const decision = decideAfterFailure({
        classification: cls,
        policy: settings.stored.retry,
        failuresBefore: c.failures,
        prevDelayMs: c.prevDelayMs,
        random: this.options.random,
        error,
        strategies: entry.lane.strategies,
      });
      // The fingerprint groups the dead-letter queue and indexes the job for search (every
      // failure); only a dead-letter needs the label.
      const fingerprint = errorFingerprint(error);
      const byWorker = settings.classifiedBy === 'worker';
      const dead = decision.action === 'dead';
      req =
        byWorker || dead
          ? {
              id: c.id,
              attempt: c.attempt,
              workerId: this.id,
              heldMs,
              response: entry.response,
              outcome,
              error,
              errorClass: cls.errorClass,
              rule: cls.rule,
              ...(byWorker ? { classifiedBy: 'worker' as const } : {}),
              fingerprint,
              ...(dead ? { fingerprintLabel: fingerprintLabel(error) } : {}),
              decision,
            }
          : {
              id: c.id,
              attempt: c.attempt,
              workerId: this.id,
              heldMs,
              response: entry.response,
              outcome,
              error,
              errorClass: cls.errorClass,
              rule: cls.rule,
              fingerprint,
              decision,
            };
      if (this.listenerCount('failed') > 0) {
        this.emit('failed', {
          queue,
          id: c.id,
          name: c.name,
          attempt: c.attempt,
          error,
          errorClass: cls.errorClass,
          rule: cls.rule,
          outcome,
        });
      }
    }
    const span = entry.span;
    entry.span = undefined;
    const failure =
      span && (outcome === 'failed' || outcome === 'timed_out')
        ? { error: thrown, errorClass: req.errorClass, rule: req.rule }
        : undefined;
    let res: FinishResult;
    try {
      res = await this.#finishResending(entry.lane, req);
    } catch (e) {
      // The backend stayed unreachable while the lease could hold: the job is recovered as stalled
      // (or, if the finish did apply, stays finished: a later resend is answered as applied).
      span?.end({ outcome, failure, refused: 'backend unreachable: the lease will expire' });
      this.#error(e);
      return;
    }
    if (!res.ok) {
      span?.end({
        outcome,
        failure,
        refused:
          res.reason === 'stale'
            ? 'the attempt no longer holds the job (lease lost or cancelled)'
            : 'job not found',
      });
      if (res.reason === 'stale') this.emit('refused', { queue, id: c.id, name: c.name, attempt: c.attempt });
      return;
    }
    span?.end({ outcome, failure, decision: req.decision, nextDueAt: res.nextDueAt });
    const d = req.decision;
    if (d.action === 'done') {
      if (this.listenerCount('completed') > 0) {
        this.emit('completed', {
          queue,
          id: c.id,
          name: c.name,
          attempt: c.attempt,
          result,
          durationMs: performance.now() - entry.startedLocal,
        });
      }
    } else if (d.action === 'retry') {
      if (this.listenerCount('retrying') > 0) {
        this.emit('retrying', {
          queue,
          id: c.id,
          name: c.name,
          attempt: c.attempt,
          delayMs: d.delayMs,
          nextDueAt: res.nextDueAt ?? 0,
          explanation: d.explanation,
        });
      }
    } else {
      this.emit('dead', {
        queue,
        id: c.id,
        name: c.name,
        attempt: c.attempt,
        reason: d.reason,
        explanation: d.explanation,
      });
    }
  }

  /**
   * Sends an attempt's finish, and sends it again when the call fails without an answer (a
   * connection lost mid-call, a cluster failover, a replica that did not confirm in time) while the
   * lease may still hold: the finish transition recognises this very finish when it applied already
   * and answers it as before, so a lost reply costs neither a rerun of the job nor a missing
   * `completed`. A finish that never applied is applied by the resend, or, once the lease has
   * expired and the job been recovered, refused as stale (so resending past the lease is safe
   * too: a failover that takes longer than the lease still gets its answer). Waits 50 ms, doubling
   * to 1 s, between sends; gives up (throws the last error) after the longer of `leaseMs` and 10 s,
   * or once the worker has closed.
   */
  async #finishResending(lane: Lane<unknown, unknown>, req: FinishRequest): Promise<FinishResult> {
    const until = performance.now() + Math.max(this.options.leaseMs, 10_000);
    let wait = 50;
    for (;;) {
      try {
        return await this.#finish(lane, req);
      } catch (e) {
        if (this.#closed || performance.now() + wait >= until) throw e;
        await delay(wait);
        wait = Math.min(wait * 2, 1000);
      }
    }
  }

  /** Set when close() has run to its end. */
  #closed = false;

  /** Batches the finishes of one tick into one backend call. */
  #finish(lane: Lane<unknown, unknown>, req: FinishRequest): Promise<FinishResult> {
    return new Promise((resolve, reject) => {
      this.#pendingFinish.push({ lane, req, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  /**
   * Sends the finishes gathered this tick in one call, which also claims jobs for the slots they
   * free: a busy worker moves from one job to the next in one round trip.
   */
  /** Flushes in flight: close() waits for them, so that jobs their claims bring are not left behind. */
  readonly #flushes = new Set<Promise<void>>();

  #flush(): Promise<void> {
    const p = this.#flushNow().finally(() => this.#flushes.delete(p));
    this.#flushes.add(p);
    return p;
  }

  async #flushNow(): Promise<void> {
    this.#flushScheduled = false;
    // At most 500 finishes per call keep each script short; the rest go in the next flush.
    const batch = this.#pendingFinish.splice(0, 500);
    if (this.#pendingFinish.length > 0) {
      this.#flushScheduled = true;
      setImmediate(() => void this.#flush());
    }
    if (batch.length === 0) return;
    const { batchSize, workerId, leaseMs } = this.options;
    const closing = this.#closeAc.signal.aborted;
    // The finishing jobs are still counted in #inflight (their slots are free already).
    const finishingExclusive = batch.filter((b) => this.#inflight.get(b.req.id)?.claimed.exclusive).length;
    const othersExclusive = this.#exclusive > finishingExclusive;
    const want = closing || othersExclusive ? 0 : Math.max(0, Math.min(batchSize, this.#wanted()));
    // One call per queue (each is its own hash tag: no script spans two), each claiming that
    // queue's share of the freed slots; the other queues' shares are left to the main loop.
    const groups = new Map<Lane<unknown, unknown>, typeof batch>();
    for (const b of batch) {
      const g = groups.get(b.lane);
      if (g) g.push(b);
      else groups.set(b.lane, [b]);
    }
    const shares = want > 0 ? this.#shares(want) : undefined;
    // A suspect may only be taken alone: by one claim, with nothing else in flight.
    const exclusiveOk = groups.size === 1 && this.#inflight.size - batch.length === 0 && this.#claiming === 0;
    await Promise.all(
      [...groups].map(async ([lane, items]) => {
        const max = shares?.get(lane) ?? 0;
        this.#claiming += max;
        lane.claiming += max;
        let results: FinishResult[];
        let claimed: ClaimResult | undefined;
        const sent = performance.now();
        try {
          [results, claimed] = await this.#backend.finishAndClaim(
            lane.name,
            items.map((b) => b.req),
            { workerId, leaseMs, max, exclusiveOk },
          );
        } catch (e) {
          for (const b of items) b.reject(e);
          return;
        } finally {
          this.#claiming -= max;
          lane.claiming -= max;
        }
        if (claimed.jobs.length > 0) {
          this.#drainedEmitted = false;
          this.#take(lane, claimed.jobs, sent);
        }
        // The claim half took fewer than asked and says when there may be more (a rate limit's
        // next token, the next due job): the main loop waits for that instead of asking again.
        if (max > 0 && claimed.jobs.length < max) this.#holdUntilNext(lane, claimed);
        items.forEach((b, i) => b.resolve(results[i] as FinishResult));
        // Slots this claim could not fill are the main loop's again.
        this.#wakeLoop();
      }),
    );
  }

  async #renew(): Promise<void> {
    const all = [...this.#inflight.values()].filter((e) => !e.leaseLost && !e.settled);
    if (all.length === 0) return;
    const byLane = new Map<Lane<unknown, unknown>, InFlight[]>();
    for (const e of all) {
      const g = byLane.get(e.lane);
      if (g) g.push(e);
      else byLane.set(e.lane, [e]);
    }
    await Promise.all([...byLane].map(([lane, entries]) => this.#renewLane(lane, entries)));
  }

  async #renewLane(lane: Lane<unknown, unknown>, entries: InFlight[]): Promise<void> {
    let held: boolean[];
    try {
      held = await this.#backend.renew(
        lane.name,
        entries.map((e) => ({ id: e.claimed.id, attempt: e.claimed.attempt })),
        this.options.leaseMs,
      );
    } catch (e) {
      this.#error(e);
      return;
    }
    entries.forEach((e, i) => {
      if (held[i] || e.settled) return;
      e.leaseLost = true;
      abortEntry(
        e,
        new LeaseLostError(`lease on job ${e.claimed.id} lost (expired and recovered, or cancelled)`),
      );
      this.emit('lease-lost', {
        queue: lane.name,
        id: e.claimed.id,
        name: e.claimed.name,
        attempt: e.claimed.attempt,
      });
    });
  }

  async #recover(): Promise<void> {
    await Promise.all(
      this.#lanes.map(async (lane) => {
        try {
          const n = await this.#backend.recoverStalled(lane.name);
          if (n > 0) this.emit('stalled', { queue: lane.name, recovered: n });
        } catch (e) {
          if (!this.#closeAc.signal.aborted) this.#error(e);
        }
      }),
    );
  }

  /**
   * Stops claiming and lets jobs in flight finish within `timeoutMs`. Past the deadline their
   * signals abort (reason: WorkerClosingError); a job whose handler then rejects with that error, or
   * has not returned a second later, is given back: an `interrupted` attempt, retried at once and
   * not counted against its retry budget. Nothing is left active.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    return (this.#closing ??= this.#close(options.timeoutMs ?? 30_000));
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closeAc.abort();
    const w = this.#slotWaiter;
    this.#slotWaiter = undefined;
    w?.();
    const ww = this.#watchWake;
    this.#watchWake = undefined;
    ww?.();
    await this.#loop;
    await this.#watching;
    // A finish in flight may bring claimed jobs: take them in before giving held ones back. (Only
    // those sent before now: a finish sent while closing claims nothing.)
    await Promise.allSettled([...this.#flushes]);
    // Held jobs that never started go back at once, for other workers to run.
    for (const e of this.#buffer.splice(0)) {
      e.settled = true;
      e.done = (
        e.leaseLost
          ? Promise.resolve()
          : this.#report(
              e,
              'interrupted',
              undefined,
              new WorkerClosingError('worker closed before the job started'),
            )
      )
        .catch((err: unknown) => this.#error(err))
        .finally(() => this.#forget(e));
    }
    const all = (): Promise<unknown> => Promise.allSettled([...this.#inflight.values()].map((e) => e.done));
    if (this.#inflight.size > 0) {
      const finished = await Promise.race([all().then(() => true), delay(timeoutMs).then(() => false)]);
      if (!finished) {
        for (const e of this.#inflight.values()) {
          abortEntry(e, new WorkerClosingError('worker closing: deadline reached'));
        }
        const settled = await Promise.race([
          all().then(() => true),
          delay(Math.min(1000, timeoutMs)).then(() => false),
        ]);
        if (!settled) {
          await Promise.allSettled(
            [...this.#inflight.values()]
              .filter((e) => !e.settled)
              .map((e) => {
                e.settled = true;
                return this.#report(
                  e,
                  'interrupted',
                  undefined,
                  new WorkerClosingError('worker closed before the attempt finished'),
                );
              }),
          );
        }
      }
    }
    clearInterval(this.#renewTimer);
    clearInterval(this.#stallTimer);
    if (this.#beatTimer) {
      clearInterval(this.#beatTimer);
      this.#beatTimer = undefined;
      await this.#beating;
      await Promise.all(
        this.queues.map((q) => this.#backend.workerLeave(q.queue.name, this.id).catch(() => undefined)),
      );
    }
    await this.#sweeper.stop();
    while (this.#pendingFinish.length > 0) await this.#flush();
    this.#closed = true;
    this.emit('closed');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A result as stored: JSON, or a marker when it cannot be serialised or exceeds `limit` bytes. */
function resultJson(result: unknown, limit: number): string {
  let text: string;
  try {
    text = JSON.stringify(result === undefined ? null : result) ?? 'null';
  } catch (e) {
    return JSON.stringify({ $unserialisable: e instanceof Error ? e.message : String(e) });
  }
  const bytes = Buffer.byteLength(text);
  return bytes > limit ? JSON.stringify({ $truncated: true, bytes, limit }) : text;
}

function signalOf(entry: InFlight): AbortSignal {
  if (!entry.ac) {
    entry.ac = new AbortController();
    if (entry.abortReason !== undefined) entry.ac.abort(entry.abortReason);
  }
  return entry.ac.signal;
}

function abortEntry(entry: InFlight, reason: unknown): void {
  if (entry.ac) entry.ac.abort(reason);
  else if (entry.abortReason === undefined) entry.abortReason = reason;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/** The queues a Worker was given, checked: at least one, distinct names, one backend, weights 1-1000. */
function resolveQueues<Data, Result>(
  queues: WorkerQueues<Data, Result>,
): { readonly queue: Queue<Data, Result>; readonly weight: number }[] {
  if (!Array.isArray(queues)) {
    if (!isQueue(queues)) {
      throw new ValidationError('queue', 'a Queue, or an array of { queue, weight }', queues);
    }
    return [{ queue: queues as Queue<Data, Result>, weight: 1 }];
  }
  const list = queues as readonly unknown[];
  if (list.length === 0) throw new ValidationError('queues', 'at least one queue');
  const out = list.map((item, i) => {
    if (isQueue(item)) return { queue: item as Queue<Data, Result>, weight: 1 };
    if (typeof item !== 'object' || item === null || !isQueue((item as { queue?: unknown }).queue)) {
      throw new ValidationError(`queues[${i}]`, 'a Queue or { queue: Queue, weight?: number }', item);
    }
    const { queue, weight } = item as { queue: Queue<Data, Result>; weight?: unknown };
    for (const key of Object.keys(item)) {
      if (key !== 'queue' && key !== 'weight') {
        throw new ValidationError(`queues[${i}].${key}`, 'not a known option (known: queue, weight)');
      }
    }
    if (
      weight !== undefined &&
      (!Number.isInteger(weight) || (weight as number) < 1 || (weight as number) > 1000)
    ) {
      throw new ValidationError(`queues[${i}].weight`, 'a whole number between 1 and 1000', weight);
    }
    return { queue, weight: (weight as number | undefined) ?? 1 };
  });
  const first = out[0] as { queue: Queue<Data, Result> };
  const seen = new Set<string>();
  out.forEach(({ queue }, i) => {
    if (seen.has(queue.name)) {
      throw new ValidationError(`queues[${i}]`, `a queue not already listed (${queue.name} is twice)`);
    }
    seen.add(queue.name);
    if (queue.backend !== first.queue.backend) {
      throw new ValidationError(`queues[${i}]`, 'a queue on the same backend as queues[0]');
    }
  });
  return out;
}

function isQueue(v: unknown): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { name?: unknown }).name === 'string' &&
    typeof (v as { backend?: unknown }).backend === 'object' &&
    typeof (v as { registerStrategies?: unknown }).registerStrategies === 'function'
  );
}
