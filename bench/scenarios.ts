/**
 * The scenarios. Each runs once for one system on a freshly flushed Redis, times only the work it
 * names, and checks its own correctness afterwards: every job ran (the expected number of times),
 * the system's own counts agree, nothing is left waiting or active. Any problem makes the run INVALID.
 * @module
 */
import {
  CPU_METRICS,
  type MetricDef,
  type RunOutcome,
  type Scenario,
  type ScenarioContext,
  type Sizes,
} from './lib/scenario.js';
import { percentile, seededRandom, sleep, withTimeout } from './lib/stats.js';
import { WorkerProcesses } from './lib/procs.js';
import { checkCounts, RunCounter } from './lib/verify.js';
import {
  nowMs,
  type Adapter,
  type Counts,
  type DelayedJob,
  type HandlerKind,
  type JobData,
  type WorkerHandle,
} from './lib/types.js';

const THROUGHPUT: MetricDef = {
  key: 'throughput',
  label: 'jobs/s',
  unit: 'jobs/s',
  better: 'higher',
  chart: true,
  summary: true,
};

function datas(n: number, from = 0): JobData[] {
  return Array.from({ length: n }, (_, k) => ({ i: from + k }));
}

/** Counts completions reported by an in-process worker; resolves when a target is reached. */
class Completions {
  count = 0;
  /** nowMs() at the moment the target was reached. */
  reachedAt = Number.NaN;
  #target = Number.POSITIVE_INFINITY;
  #resolve: (() => void) | undefined;

  readonly onCompleted = (): void => {
    this.count++;
    if (this.count >= this.#target && this.#resolve) {
      this.reachedAt = nowMs();
      const r = this.#resolve;
      this.#resolve = undefined;
      r();
    }
  };

  /** Waits until `target` completions; heartbeat on stderr every 5 s; rejects after `timeoutMs`. */
  wait(target: number, timeoutMs: number, ctx: ScenarioContext): Promise<void> {
    this.#target = target;
    if (this.count >= target) {
      this.reachedAt = nowMs();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const beat = setInterval(
        () =>
          ctx.progress(`${this.count.toLocaleString('en-US')}/${target.toLocaleString('en-US')} completed`),
        5_000,
      );
      const timer = setTimeout(() => {
        clearInterval(beat);
        this.#resolve = undefined;
        reject(new Error(`only ${this.count} of ${target} completions after ${Date.now() - started} ms`));
      }, timeoutMs);
      this.#resolve = () => {
        clearInterval(beat);
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Polls the system's own completed count (from Redis) every 5 ms until it reaches `target`. */
async function pollCompleted(
  adapter: Adapter,
  target: number,
  timeoutMs: number,
  ctx: ScenarioContext,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lastBeat = Date.now();
  for (;;) {
    const c = await adapter.counts();
    if (c.completed >= target) return nowMs();
    if (Date.now() > deadline) {
      throw new Error(`only ${c.completed} of ${target} jobs completed in Redis after ${timeoutMs} ms`);
    }
    if (Date.now() - lastBeat > 5_000) {
      lastBeat = Date.now();
      ctx.progress(`${c.completed.toLocaleString('en-US')}/${target.toLocaleString('en-US')} completed`);
    }
    await sleep(5);
  }
}

interface Sink {
  readonly counter: RunCounter;
  /** First handler start per job (nowMs), for record-start. */
  readonly starts: Float64Array;
  onRun(i: number): boolean;
}

function makeSink(kind: HandlerKind, jobs: number, onStart?: (i: number, at: number) => void): Sink {
  const counter = new RunCounter(jobs);
  const starts = new Float64Array(kind === 'record-start' ? jobs : 0).fill(Number.NaN);
  return {
    counter,
    starts,
    onRun(i: number): boolean {
      const at = kind === 'record-start' ? nowMs() : 0;
      const n = counter.add(i);
      if (kind === 'record-start' && n === 1 && i >= 0 && i < jobs) {
        starts[i] = at;
        onStart?.(i, at);
      }
      return kind === 'fail-twice' && n <= 2;
    },
  };
}

async function startWorker(
  ctx: ScenarioContext,
  concurrency: number,
  handler: HandlerKind,
  sink: Sink,
  completions: Completions,
): Promise<WorkerHandle> {
  const w = await ctx.adapter.createWorker({
    concurrency,
    handler,
    sink,
    onCompleted: completions.onCompleted,
  });
  let closed = false;
  ctx.defer(async () => {
    if (!closed) await w.close();
  });
  return {
    errors: w.errors,
    go: () => w.go(),
    close: async () => {
      closed = true;
      await w.close();
    },
  };
}

async function spawnWorkers(
  ctx: ScenarioContext,
  count: number,
  concurrency: number,
  attempts = 1,
): Promise<WorkerProcesses> {
  const procs = await WorkerProcesses.spawn(
    {
      system: ctx.system,
      redisUrl: ctx.redisUrl,
      queue: ctx.queue,
      concurrency,
      handler: attempts > 1 ? 'fail-twice' : 'noop',
      attempts,
    },
    count,
  );
  ctx.defer(() => procs.kill());
  return procs;
}

function countsProblems(c: Counts, expected: Partial<Counts>): string[] {
  return checkCounts(c, expected).map((p) => `Redis counts: ${p}`);
}

function workerErrors(errors: readonly string[]): string[] {
  if (errors.length === 0) return [];
  return [`${errors.length} worker errors, e.g. ${errors[0]}`];
}

// ---------------------------------------------------------------------------------------------

function enqueueScenario(name: 'enqueue-single' | 'enqueue-bulk'): Scenario {
  const bulk = name === 'enqueue-bulk';
  return {
    name,
    title: bulk ? 'Enqueue in bulk' : 'Enqueue one at a time',
    method: bulk
      ? "Adds N jobs with the system's bulk API (ReTraced `addBulk`, BullMQ `addBulk`, Bee-Queue `saveAll`) in calls of 1,000 jobs, one call after the other. Timed from the first call to the last reply. Checks: N jobs waiting, nothing else."
      : 'Adds N jobs one at a time, each `add` awaited before the next (ReTraced `add`, BullMQ `add`, Bee-Queue `createJob().save()`). Checks: N jobs waiting, nothing else.',
    metrics: [THROUGHPUT, ...CPU_METRICS],
    timeoutMs: (s) => 60_000 + s.jobs * 10,
    async run(ctx): Promise<RunOutcome> {
      const n = ctx.sizes.jobs;
      await ctx.adapter.setup(ctx.redisUrl, ctx.queue, { attempts: 1 });
      const all = datas(n);
      ctx.timing('start');
      const t0 = nowMs();
      if (bulk) {
        await ctx.adapter.enqueueBulk(all);
      } else {
        for (const d of all) await ctx.adapter.enqueueOne(d);
      }
      const t1 = nowMs();
      ctx.timing('end', n);
      const problems = countsProblems(await ctx.adapter.counts(), { waiting: n });
      return {
        metrics: { throughput: (n / (t1 - t0)) * 1000 },
        problems,
        notes: [],
        details: { ms: t1 - t0 },
      };
    },
  };
}

function processScenario(name: string, concurrency: number): Scenario {
  return {
    name,
    title: `Process queued no-op jobs, one worker, concurrency ${concurrency}`,
    method: `N no-op jobs are added in bulk first (not timed); then one worker in the harness process, concurrency ${concurrency}, is started. Timed from the start to the system's N-th 'completed' event (after its acknowledgement reached Redis). Checks: every job's handler ran exactly once; Redis counts N completed, nothing waiting, active, delayed or failed.`,
    metrics: [THROUGHPUT, ...CPU_METRICS],
    timeoutMs: (s) => 60_000 + s.jobs * 20,
    async run(ctx): Promise<RunOutcome> {
      const n = ctx.sizes.jobs;
      await ctx.adapter.setup(ctx.redisUrl, ctx.queue, { attempts: 1 });
      await ctx.adapter.enqueueBulk(datas(n));
      const sink = makeSink('noop', n);
      const done = new Completions();
      const worker = await startWorker(ctx, concurrency, 'noop', sink, done);
      ctx.timing('start');
      const t0 = nowMs();
      await worker.go();
      await done.wait(n, this.timeoutMs(ctx.sizes) - 10_000, ctx);
      const t1 = done.reachedAt;
      ctx.timing('end', n);
      await worker.close();
      const problems = [
        ...sink.counter.check(1),
        ...countsProblems(await ctx.adapter.counts(), { completed: n }),
        ...workerErrors(worker.errors),
      ];
      return {
        metrics: { throughput: (n / (t1 - t0)) * 1000 },
        problems,
        notes: [],
        details: { ms: t1 - t0 },
      };
    },
  };
}

const processMulti: Scenario = {
  name: 'process-5x20',
  title: 'Process queued no-op jobs, five worker processes at concurrency 20',
  method:
    "N no-op jobs are added in bulk first; five worker processes (`node --import tsx bench/worker-process.ts`) connect and create their workers, idle, and signal ready over IPC (not timed). Timed from the 'go' message to all of them until the system's completed count in Redis reaches N (polled every 5 ms). Checks: the children's handler runs, merged, are each job exactly once; Redis counts N completed, nothing else.",
  metrics: [THROUGHPUT, ...CPU_METRICS],
  timeoutMs: (s) => 90_000 + s.jobs * 20,
  async run(ctx): Promise<RunOutcome> {
    const n = ctx.sizes.jobs;
    await ctx.adapter.setup(ctx.redisUrl, ctx.queue, { attempts: 1 });
    await ctx.adapter.enqueueBulk(datas(n));
    const procs = await spawnWorkers(ctx, 5, 20);
    ctx.timing('start');
    const t0 = nowMs();
    await procs.go();
    const t1 = await pollCompleted(ctx.adapter, n, this.timeoutMs(ctx.sizes) - 30_000, ctx);
    ctx.timing('end', n);
    const { runs, errors } = await procs.stop();
    const counter = new RunCounter(n);
    for (const i of runs) counter.add(i);
    const problems = [
      ...counter.check(1),
      ...countsProblems(await ctx.adapter.counts(), { completed: n }),
      ...workerErrors(errors),
    ];
    return { metrics: { throughput: (n / (t1 - t0)) * 1000 }, problems, notes: [], details: { ms: t1 - t0 } };
  },
};

const retryPath: Scenario = {
  name: 'retry-path',
  title: 'Retry path: every job fails twice (temporary, no delay), then succeeds',
  method:
    "N jobs with 3 attempts and no delay between them (ReTraced `{ attempts: 3, backoff: { type: 'immediate' } }` and a `TemporaryError`; BullMQ `attempts: 3, backoff: 0`; Bee-Queue `retries(2)`, immediate backoff) are added in bulk; one in-process worker at concurrency 100 runs a handler that throws on a job's first two runs (counted by the harness by job index, the same way for all) and returns on the third. Timed from the worker's start to the N-th 'completed' event; throughput counts jobs, not attempts. Checks: every handler ran exactly 3 times per job; Redis counts N completed; every completed job read back from Redis has 3 attempts recorded (ReTraced: 3 attempt records failed, failed, succeeded, class temporary; BullMQ: `attemptsMade` 3 and 2 stack traces; Bee-Queue: 2 stack traces and 0 retries left).",
  metrics: [THROUGHPUT, ...CPU_METRICS],
  timeoutMs: (s) => 90_000 + s.jobs * 60,
  async run(ctx): Promise<RunOutcome> {
    const n = ctx.sizes.jobs;
    await ctx.adapter.setup(ctx.redisUrl, ctx.queue, { attempts: 3 });
    await ctx.adapter.enqueueBulk(datas(n));
    const sink = makeSink('fail-twice', n);
    const done = new Completions();
    const worker = await startWorker(ctx, 100, 'fail-twice', sink, done);
    ctx.timing('start');
    const t0 = nowMs();
    await worker.go();
    await done.wait(n, this.timeoutMs(ctx.sizes) - 20_000, ctx);
    const t1 = done.reachedAt;
    ctx.timing('end', n);
    await worker.close();
    const problems = [
      ...sink.counter.check(3),
      ...countsProblems(await ctx.adapter.counts(), { completed: n }),
      ...(await ctx.adapter.verifyHistory(n, 3)).map((p) => `history: ${p}`),
      ...workerErrors(worker.errors),
    ];
    return { metrics: { throughput: (n / (t1 - t0)) * 1000 }, problems, notes: [], details: { ms: t1 - t0 } };
  },
};

const delayedDrift: Scenario = {
  name: 'delayed-drift',
  title: 'Delayed start accuracy',
  method:
    "One in-process worker (concurrency 100) is started and left idle. The harness reads the Redis clock once (`TIME`, the sample with the shortest round trip of 7) to get its offset to this machine's clock, then adds M jobs in bulk, each due at T0 + u × spread, T0 = now + lead, u from a PRNG seeded by the repetition (the same due times for every system). ReTraced gets the due time on the Redis clock (`runAt`); BullMQ (`timestamp` + `delay`) and Bee-Queue (`delayUntil`) on the client clock, as they schedule on it. Drift = handler start (this machine's clock + offset) − due time. Checks: every job ran exactly once, none started more than 5 ms early, the adds finished before the first job fell due, Redis counts M completed.",
  metrics: [
    { key: 'p50', label: 'drift p50', unit: 'ms', better: 'lower', summary: true },
    { key: 'p99', label: 'drift p99', unit: 'ms', better: 'lower', summary: true },
    { key: 'max', label: 'drift max', unit: 'ms', better: 'lower', summary: true },
    { key: 'min', label: 'drift min', unit: 'ms', better: 'higher' },
  ],
  timeoutMs: (s) => 60_000 + s.delayedLeadMs + s.delayedSpreadMs + s.delayedJobs * 20,
  async run(ctx): Promise<RunOutcome> {
    const m = ctx.sizes.delayedJobs;
    const { delayedSpreadMs: spread, delayedLeadMs: lead } = ctx.sizes;
    await ctx.adapter.setup(ctx.redisUrl, ctx.queue, { attempts: 1 });
    const sink = makeSink('record-start', m);
    const done = new Completions();
    const worker = await startWorker(ctx, 100, 'record-start', sink, done);
    await worker.go();
    await sleep(200); // idle, blocked on Redis
    const { offsetMs, rttMs } = await ctx.control.clockOffset();
    const t0Server = nowMs() + offsetMs + lead;
    const rnd = seededRandom(ctx.rep);
    const jobs: DelayedJob[] = datas(m).map((data) => {
      const dueServerMs = t0Server + rnd() * spread;
      return { data, dueServerMs, dueLocalMs: dueServerMs - offsetMs };
    });
    const firstDueLocal = Math.min(...jobs.map((j) => j.dueLocalMs));
    const e0 = nowMs();
    await ctx.adapter.enqueueDelayed(jobs);
    const e1 = nowMs();
    await done.wait(m, this.timeoutMs(ctx.sizes) - 20_000, ctx);
    await worker.close();
    const drifts = jobs
      .map((j) => sink.starts[j.data.i]! + offsetMs - j.dueServerMs)
      .filter((d) => Number.isFinite(d));
    const problems = [
      ...sink.counter.check(1),
      ...countsProblems(await ctx.adapter.counts(), { completed: m }),
      ...workerErrors(worker.errors),
    ];
    const min = Math.min(...drifts);
    if (min < -5) problems.push(`a job started ${(-min).toFixed(1)} ms before it was due`);
    if (e1 > firstDueLocal) {
      problems.push(
        `adding the jobs took ${(e1 - e0).toFixed(0)} ms, past the first due time (lead ${lead} ms): increase the lead`,
      );
    }
    const notes = min < 0 ? [`earliest start ${(-min).toFixed(2)} ms before due (clock resolution)`] : [];
    return {
      metrics: { p50: percentile(drifts, 50), p99: percentile(drifts, 99), max: Math.max(...drifts), min },
      problems,
      notes,
      details: { clockOffsetMs: offsetMs, clockRttMs: rttMs, enqueueMs: e1 - e0 },
    };
  },
};

const IDLE_WARMUP = 5;

const idleLatency: Scenario = {
  name: 'idle-latency',
  title: 'Idle latency: one job at a time into an idle queue',
  method: `One in-process worker (concurrency 1) waits on an empty queue. S times: note the time, add one job (awaited), wait for its handler to start, wait for the system's 'completed' event, pause 10 ms so the worker is idle and blocked again. Latency = handler start − the time noted before the add (so it includes the add's round trip). The first ${IDLE_WARMUP} samples are warm-up and dropped. Checks: every job ran exactly once; Redis counts all completed.`,
  metrics: [
    { key: 'p50', label: 'latency p50', unit: 'ms', better: 'lower', summary: true },
    { key: 'p99', label: 'latency p99', unit: 'ms', better: 'lower', summary: true },
  ],
  timeoutMs: (s) => 60_000 + s.idleSamples * 200,
  async run(ctx): Promise<RunOutcome> {
    const s = ctx.sizes.idleSamples + IDLE_WARMUP;
    await ctx.adapter.setup(ctx.redisUrl, ctx.queue, { attempts: 1 });
    let waiting: { i: number; resolve: (at: number) => void } | undefined;
    const sink = makeSink('record-start', s, (i, at) => {
      if (waiting?.i === i) waiting.resolve(at);
    });
    const done = new Completions();
    const worker = await startWorker(ctx, 1, 'record-start', sink, done);
    await worker.go();
    await sleep(200);
    const latencies: number[] = [];
    for (let i = 0; i < s; i++) {
      const started = new Promise<number>((resolve) => (waiting = { i, resolve }));
      const t = nowMs();
      await ctx.adapter.enqueueOne({ i });
      const at = await withTimeout(started, 10_000, `job ${i} did not start within 10 s`);
      await done.wait(i + 1, 10_000, ctx);
      if (i >= IDLE_WARMUP) latencies.push(at - t);
      await sleep(10);
    }
    await worker.close();
    const problems = [
      ...sink.counter.check(1),
      ...countsProblems(await ctx.adapter.counts(), { completed: s }),
      ...workerErrors(worker.errors),
    ];
    return {
      metrics: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      problems,
      notes: [],
    };
  },
};

const memory: Scenario = {
  name: 'memory',
  title: 'Redis memory per retained completed job with three attempts recorded',
  method:
    "After FLUSHALL and SCRIPT FLUSH, with no client but the harness's connected, `INFO memory` used_memory is read. N jobs that fail twice (temporary, no delay) and then succeed are added in bulk and processed by one worker at concurrency 100 (as in retry-path, and checked the same way, history included). Then every connection of the system is closed, the script cache is flushed again, and used_memory is read again: bytes per job = delta / N (everything the system keeps: job data, attempt records, indexes, its event stream). A second figure sums `MEMORY USAGE <key> SAMPLES 0` over all keys, / N, split into per-job keys and shared keys (indexes, streams, the Bee-Queue job hash).",
  metrics: [
    { key: 'bytesPerJob', label: 'used_memory Δ / job', unit: 'B/job', better: 'lower', summary: true },
    { key: 'keyBytesPerJob', label: 'Σ MEMORY USAGE / job', unit: 'B/job', better: 'lower', summary: true },
    { key: 'keysPerJob', label: 'keys / job', unit: 'keys/job', better: 'lower' },
  ],
  timeoutMs: (s) => 90_000 + s.jobs * 60,
  async run(ctx): Promise<RunOutcome> {
    const n = ctx.sizes.jobs;
    await ctx.control.scriptFlush();
    await sleep(100);
    const before = await ctx.control.usedMemory();
    await ctx.adapter.setup(ctx.redisUrl, ctx.queue, { attempts: 3 });
    await ctx.adapter.enqueueBulk(datas(n));
    const sink = makeSink('fail-twice', n);
    const done = new Completions();
    const worker = await startWorker(ctx, 100, 'fail-twice', sink, done);
    await worker.go();
    await done.wait(n, this.timeoutMs(ctx.sizes) - 20_000, ctx);
    await worker.close();
    const problems = [
      ...sink.counter.check(3),
      ...countsProblems(await ctx.adapter.counts(), { completed: n }),
      ...(await ctx.adapter.verifyHistory(n, 3)).map((p) => `history: ${p}`),
      ...workerErrors(worker.errors),
    ];
    await ctx.adapter.close();
    const deadline = Date.now() + 5_000;
    while ((await ctx.control.otherClients()) > 0 && Date.now() < deadline) await sleep(50);
    const others = await ctx.control.otherClients();
    const notes =
      others > 0 ? [`${others} client connections of the system still open when memory was measured`] : [];
    await ctx.control.scriptFlush();
    await sleep(100);
    const after = await ctx.control.usedMemory();
    const keys = await ctx.control.keysMemory();
    let jobBytes = 0;
    let jobKeys = 0;
    let sharedBytes = 0;
    const shared: { key: string; bytes: number }[] = [];
    for (const k of keys) {
      if (ctx.adapter.isJobKey(k.key)) {
        jobBytes += k.bytes;
        jobKeys++;
      } else {
        sharedBytes += k.bytes;
        shared.push(k);
      }
    }
    shared.sort((a, b) => b.bytes - a.bytes);
    return {
      metrics: {
        bytesPerJob: (after - before) / n,
        keyBytesPerJob: (jobBytes + sharedBytes) / n,
        keysPerJob: keys.length / n,
      },
      problems,
      notes,
      details: {
        usedMemoryBefore: before,
        usedMemoryAfter: after,
        keys: keys.length,
        perJobKeys: jobKeys,
        perJobKeyBytesPerJob: jobBytes / n,
        sharedKeyBytesPerJob: sharedBytes / n,
        largestSharedKeys: shared.slice(0, 6),
      },
    };
  },
};

function e2eScenario(name: 'e2e-1' | 'e2e-5', processes: number): Scenario {
  const concurrency = processes === 1 ? 100 : 20;
  return {
    name,
    title: `End to end: N jobs added in bulk and processed by ${processes === 1 ? 'one worker process' : 'five worker processes'} (concurrency ${concurrency}${processes === 1 ? '' : ' each'})`,
    method: `${processes} worker process${processes === 1 ? '' : 'es'} (concurrency ${concurrency}) start${processes === 1 ? 's' : ''} and wait${processes === 1 ? 's' : ''} on the empty queue (not timed). Then the harness process adds N no-op jobs in bulk (calls of 1,000) while the worker${processes === 1 ? '' : 's'} already process${processes === 1 ? 'es' : ''} them. Timed from the first add to the moment the system's completed count in Redis (polled every 5 ms) reaches N. Checks: the handler runs reported by the children are each job exactly once; Redis counts N completed, nothing else.`,
    metrics: [
      THROUGHPUT,
      { key: 'ms', label: 'wall time', unit: 'ms', better: 'lower', summary: true },
      ...CPU_METRICS,
    ],
    timeoutMs: (s) => 90_000 + s.jobs * 20,
    async run(ctx): Promise<RunOutcome> {
      const n = ctx.sizes.jobs;
      await ctx.adapter.setup(ctx.redisUrl, ctx.queue, { attempts: 1 });
      const procs = await spawnWorkers(ctx, processes, concurrency);
      await procs.go();
      await sleep(200); // idle, blocked on Redis
      const all = datas(n);
      ctx.timing('start');
      const t0 = nowMs();
      const polling = pollCompleted(ctx.adapter, n, this.timeoutMs(ctx.sizes) - 30_000, ctx);
      await ctx.adapter.enqueueBulk(all);
      const enqueued = nowMs();
      const t1 = await polling;
      ctx.timing('end', n);
      const { runs, errors } = await procs.stop();
      const counter = new RunCounter(n);
      for (const i of runs) counter.add(i);
      const problems = [
        ...counter.check(1),
        ...countsProblems(await ctx.adapter.counts(), { completed: n }),
        ...workerErrors(errors),
      ];
      return {
        metrics: { throughput: (n / (t1 - t0)) * 1000, ms: t1 - t0 },
        problems,
        notes: [],
        details: { enqueueMs: enqueued - t0 },
      };
    },
  };
}

export const SCENARIOS: readonly Scenario[] = [
  enqueueScenario('enqueue-single'),
  enqueueScenario('enqueue-bulk'),
  processScenario('process-c1', 1),
  processScenario('process-c10', 10),
  processScenario('process-c100', 100),
  processMulti,
  retryPath,
  delayedDrift,
  idleLatency,
  memory,
  e2eScenario('e2e-1', 1),
  e2eScenario('e2e-5', 5),
];

export function sizesFor(jobs: number, smoke: boolean): Sizes {
  return {
    jobs,
    delayedJobs: Math.max(10, Math.round(jobs / 5)),
    delayedSpreadMs: smoke ? 1_000 : 3_000,
    delayedLeadMs: 1_500,
    idleSamples: Math.min(300, Math.max(10, Math.round(jobs / 10))),
  };
}
