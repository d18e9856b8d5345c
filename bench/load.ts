/**
 * `npm run bench:load`: load that looks like production, ReTraced beside BullMQ in the same run, on
 * one redis-server started here (flushed between parts).
 *
 * 1. Capacity: a backlog of jobs whose handler waits 1-5 ms (I/O), 1 KB payloads, drained by the
 *    worker processes: jobs/s.
 * 2. Sustained load at 50 % and 90 % of each system's capacity, and at 50 % of the lower of the two
 *    (`same50`: the same offered rate for both), for `--seconds` each (default 60): a producer
 *    adds jobs at a constant rate (addBulk every 20 ms), the worker processes run them. Measured:
 *    add→start latency of every job (p50, p99, max; producer and workers on one machine, one
 *    clock), the backlog (waiting jobs, sampled every second: its slope says whether it stays
 *    flat), CPU of the producer, the workers and Redis (what bounds it).
 * 3. The retry path under sustained load: 50 % of the lower capacity, a third of the jobs fail once and are
 *    retried at once.
 * 4. Retained finished jobs: `--retained` (default 100,000; `--retained 1000000` for the 1M run) jobs
 *    run and kept (both systems keep every finished job here): Redis bytes per job, and the claim
 *    rate of a fresh backlog of no-op jobs with them retained vs on an empty Redis.
 *
 *   npm run bench:load                                  # everything, 60 s per level
 *   npm run bench:load -- --seconds 20 --retained 20000 # quicker
 *   npm run bench:load -- --only retained --retained 1000000
 *   npm run bench:load -- --systems retraced --only load
 *
 * Writes bench/results/load-<date>.md (and prints it).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Queue as BullQueue } from 'bullmq';
import { Redis } from 'ioredis';

import { RedisBackend } from '../src/backends/redis/index.js';
import { Queue } from '../src/index.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { Fleet, LOAD_WORKER, loadAverage, redisCpuMs } from './lib/fleet.js';
import type { LoadWorkerSpec } from './load-worker.js';

const { values } = parseArgs({
  options: {
    systems: { type: 'string', default: 'retraced,bullmq' },
    seconds: { type: 'string', default: '60' },
    levels: { type: 'string', default: '50,90,same50' },
    procs: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '50' },
    payload: { type: 'string', default: '1024' },
    'capacity-jobs': { type: 'string', default: '20000' },
    retained: { type: 'string', default: '100000' },
    'claim-jobs': { type: 'string', default: '20000' },
    only: { type: 'string', default: 'load,retry,retained' },
    out: { type: 'string' },
  },
});
type System = 'retraced' | 'bullmq';
const SYSTEMS = (values.systems as string).split(',') as System[];
const SECONDS = Number(values.seconds);
const LEVELS = (values.levels as string).split(',');
const PROCS = Number(values.procs);
const CONCURRENCY = Number(values.concurrency);
const PAYLOAD = Number(values.payload);
const CAPACITY_JOBS = Number(values['capacity-jobs']);
const RETAINED = Number(values.retained);
const CLAIM_JOBS = Number(values['claim-jobs']);
const ONLY = new Set((values.only as string).split(','));
const QUEUE = 'load';
const PAD = 'x'.repeat(Math.max(0, PAYLOAD - 30));
const LABEL: Record<System, string> = { retraced: 'ReTraced', bullmq: 'BullMQ' };

interface Producer {
  add(datas: readonly object[]): Promise<void>;
  /** Jobs waiting to start (not counting scheduled/delayed). */
  waiting(): Promise<number>;
  close(): Promise<void>;
}

function producer(system: System, url: string, retry: boolean): Producer {
  if (system === 'retraced') {
    const backend = new RedisBackend({ connection: url });
    const q = new Queue(QUEUE, {
      backend,
      retry: retry ? { attempts: 2, backoff: { type: 'immediate' } } : { attempts: 1 },
    });
    return {
      add: async (datas) => {
        await q.addBulk(datas.map((data) => ({ name: 'job', data })));
      },
      waiting: async () => (await q.counts()).waiting,
      close: () => backend.close(),
    };
  }
  const u = new URL(url);
  const q = new BullQueue(QUEUE, {
    connection: { host: u.hostname, port: Number(u.port) },
    defaultJobOptions: {
      removeOnComplete: false,
      removeOnFail: false,
      attempts: retry ? 2 : 1,
      backoff: 0,
    },
  });
  return {
    add: async (datas) => {
      await q.addBulk(datas.map((data) => ({ name: 'job', data })));
    },
    waiting: async () => {
      const c = await q.getJobCounts('waiting', 'prioritized');
      return (c.waiting ?? 0) + (c.prioritized ?? 0);
    },
    close: () => q.close(),
  };
}

/** Adds `n` jobs in bulk (1,000 per call, 4 calls in flight). */
async function fill(p: Producer, n: number, pad: string): Promise<void> {
  const chunks: number[] = [];
  for (let i = 0; i < n; i += 1000) chunks.push(i);
  const next = async (): Promise<void> => {
    for (let c = chunks.shift(); c !== undefined; c = chunks.shift()) {
      const t = Date.now();
      await p.add(Array.from({ length: Math.min(1000, n - c) }, (_, k) => ({ i: c + k, t, pad })));
    }
  };
  await Promise.all([next(), next(), next(), next()]);
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

interface Cpu {
  producer: number;
  workers: number;
  redis: number;
}

class CpuMeter {
  #p0 = 0;
  #w0 = 0;
  #r0 = 0;
  #t0 = 0;
  constructor(
    readonly fleet: Fleet,
    readonly redis: Redis,
  ) {}
  async start(): Promise<void> {
    const u = process.cpuUsage();
    this.#p0 = (u.user + u.system) / 1000;
    this.#w0 = this.fleet.cpuMs();
    this.#r0 = await redisCpuMs(this.redis);
    this.#t0 = performance.now();
  }
  /** Cores used by each since start. */
  async stop(): Promise<Cpu & { ms: number }> {
    const ms = performance.now() - this.#t0;
    const u = process.cpuUsage();
    return {
      producer: ((u.user + u.system) / 1000 - this.#p0) / ms,
      workers: (this.fleet.cpuMs() - this.#w0) / ms,
      redis: ((await redisCpuMs(this.redis)) - this.#r0) / ms,
      ms,
    };
  }
}

const fmt = (n: number, d = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
    : '–';

function cpuText(c: Cpu): string {
  return `producer ${fmt(c.producer, 2)} · workers ${fmt(c.workers, 2)} · Redis ${fmt(c.redis, 2)} (Σ ${fmt(c.producer + c.workers + c.redis, 2)})`;
}

async function spawn(system: System, url: string, handler: LoadWorkerSpec['handler']): Promise<Fleet> {
  const spec: LoadWorkerSpec = { system, url, queue: QUEUE, concurrency: CONCURRENCY, handler };
  return Fleet.spawn(spec, PROCS, LOAD_WORKER);
}

/** Drains a backlog of `n` jobs already added; jobs/s and CPU. */
async function drain(
  system: System,
  url: string,
  redis: Redis,
  n: number,
  handler: LoadWorkerSpec['handler'],
): Promise<{ rate: number; cpu: Cpu & { ms: number } }> {
  const fleet = await spawn(system, url, handler);
  try {
    const meter = new CpuMeter(fleet, redis);
    await meter.start();
    const t0 = performance.now();
    fleet.go();
    await fleet.waitTotal(n, 900_000);
    const ms = performance.now() - t0;
    const cpu = await meter.stop();
    await fleet.stop();
    return { rate: n / (ms / 1000), cpu };
  } catch (e) {
    fleet.kill();
    throw e;
  }
}

interface Sustained {
  offered: number;
  added: number;
  p50: number;
  p99: number;
  max: number;
  backlogP50: number;
  backlogMax: number;
  backlogEnd: number;
  /** Backlog growth, jobs per second (least squares over the samples). */
  growth: number;
  drainMs: number;
  cpu: Cpu & { ms: number };
  load: string;
}

async function sustained(
  system: System,
  url: string,
  redis: Redis,
  rate: number,
  retry: boolean,
): Promise<Sustained> {
  const p = producer(system, url, retry);
  const fleet = await spawn(system, url, retry ? 'io-fail-once' : 'io');
  try {
    const meter = new CpuMeter(fleet, redis);
    fleet.go();
    // The workers start, find nothing and block: the load begins on warm, idle workers.
    await new Promise((r) => setTimeout(r, 1000));
    await meter.start();
    const t0 = performance.now();
    let added = 0;
    const samples: { s: number; n: number }[] = [];
    let nextSample = 1000;
    const inflight = new Set<Promise<void>>();
    for (;;) {
      const el = performance.now() - t0;
      if (el >= SECONDS * 1000) break;
      const due = Math.floor((rate * el) / 1000) - added;
      if (due > 0) {
        const t = Date.now();
        const start = added;
        added += due;
        const pr = p.add(Array.from({ length: due }, (_, k) => ({ i: start + k, t, pad: PAD })));
        inflight.add(pr);
        void pr.finally(() => inflight.delete(pr));
      }
      if (el >= nextSample) {
        nextSample += 1000;
        samples.push({ s: el / 1000, n: await p.waiting() });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(inflight);
    const cpu = await meter.stop();
    const load = loadAverage();
    const end = performance.now();
    // Every job completes once (a retried one on its second attempt).
    await fleet.waitTotal(added, 300_000);
    const drainMs = performance.now() - end;
    const { latencies } = await fleet.stop();
    // The slowest Redis commands of the run (over 10 ms), to stderr: what stalls, if anything.
    const slow = (await redis.call('SLOWLOG', 'GET', '5')) as [number, number, number, string[]][];
    for (const [, , us, cmd] of slow) {
      console.error(
        `  slowlog ${system}: ${fmt(us / 1000, 1)} ms ${cmd.slice(0, 4).join(' ').slice(0, 120)}`,
      );
    }
    await redis.call('SLOWLOG', 'RESET');
    const sorted = latencies.sort((a, b) => a - b);
    const ns = samples.map((x) => x.n).sort((a, b) => a - b);
    return {
      offered: rate,
      added,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      max: sorted.at(-1) ?? NaN,
      backlogP50: quantile(ns, 0.5),
      backlogMax: ns.at(-1) ?? NaN,
      backlogEnd: samples.at(-1)?.n ?? NaN,
      growth: slope(
        samples.map((x) => x.s),
        samples.map((x) => x.n),
      ),
      drainMs,
      cpu,
      load,
    };
  } finally {
    fleet.kill();
    await p.close();
  }
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

async function main(): Promise<void> {
  const date = new Date().toISOString().slice(0, 10);
  const out: string[] = [];
  const say = (s = ''): void => {
    out.push(s);
    console.log(s);
  };
  const server = await startRedisServer();
  const redis = new Redis(server.port, '127.0.0.1');
  await redis.config('SET', 'slowlog-log-slower-than', '10000');
  const url = server.url;
  const redisVersion =
    /v=([\d.]+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  say(`# Production-like load: ReTraced beside BullMQ (${date})`);
  say();
  say(
    `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? '?'}), Node ${process.version}, redis-server ${redisVersion} (one, started by the bench, flushed between parts). ` +
      `Load average at start: ${loadAverage()}.`,
  );
  say(
    `Workers: ${PROCS} processes × concurrency ${CONCURRENCY} per system; handlers wait 1-5 ms (a timer: I/O), payloads ${fmt(PAYLOAD)} bytes of JSON; ` +
      `both systems keep every finished job. The producer (this process) adds jobs with addBulk every 20 ms. ` +
      `CPU is in cores (CPU time / wall time) over the measured period: producer, worker processes, redis-server.`,
  );
  say();
  const capacity = new Map<System, number>();
  const rows: string[] = [];
  const retryRows: string[] = [];
  const retainedRows: string[] = [];
  try {
    // Capacities first (both systems), then each part with the systems taking turns, so that the
    // machine's slow spells fall on both.
    if (ONLY.has('load') || ONLY.has('retry') || ONLY.has('capacity')) {
      for (const system of SYSTEMS) {
        await redis.flushall();
        const p = producer(system, url, false);
        await fill(p, CAPACITY_JOBS, PAD);
        await p.close();
        const cap = await drain(system, url, redis, CAPACITY_JOBS, 'io');
        capacity.set(system, cap.rate);
        console.error(`${system} capacity ${fmt(cap.rate)} jobs/s (${cpuText(cap.cpu)})`);
        rows.push(
          `| ${LABEL[system]} | capacity (backlog of ${fmt(CAPACITY_JOBS)} drained) | ${fmt(cap.rate)} | – | – | – | – | – | ${cpuText(cap.cpu)} | |`,
        );
      }
    }
    const lowest = Math.min(...SYSTEMS.map((s) => capacity.get(s) ?? Infinity));
    if (ONLY.has('load')) {
      for (const level of LEVELS) {
        for (const system of SYSTEMS) {
          await redis.flushall();
          // `same50`: 50 % of the lowest capacity, the same offered rate for every system.
          const same = level.startsWith('same');
          const pct = Number(same ? level.slice(4) : level);
          const rate = ((same ? lowest : (capacity.get(system) ?? 0)) * pct) / 100;
          const r = await sustained(system, url, redis, rate, false);
          console.error(
            `${system} ${level}%: p50 ${r.p50} p99 ${r.p99} max ${r.max}, growth ${fmt(r.growth, 1)}/s`,
          );
          const what = same ? `${pct} % of the lower capacity` : `${pct} %`;
          rows.push(
            `| ${LABEL[system]} | ${what} (${fmt(rate)} jobs/s offered, ${fmt(r.added)} added in ${SECONDS} s) | ${fmt(r.added / SECONDS)} | ${fmt(r.p50)} / ${fmt(r.p99)} / ${fmt(r.max)} | ${fmt(r.backlogP50)} / ${fmt(r.backlogMax)} / ${fmt(r.backlogEnd)} | ${fmt(r.growth, 1)} | ${r.growth * SECONDS < Math.max(200, 0.01 * r.added) ? 'flat' : 'grows'} | ${fmt(r.drainMs)} | ${cpuText(r.cpu)} | ${r.load} |`,
          );
        }
      }
    }
    for (const system of SYSTEMS) {
      if (ONLY.has('retry')) {
        await redis.flushall();
        // The same offered rate for both: half the lower capacity.
        const rate = (lowest * 50) / 100;
        const r = await sustained(system, url, redis, rate, true);
        console.error(
          `${system} retry 50%: p50 ${r.p50} p99 ${r.p99} max ${r.max}, growth ${fmt(r.growth, 1)}/s`,
        );
        retryRows.push(
          `| ${LABEL[system]} | 50 % of the lower capacity (${fmt(rate)} jobs/s offered, ${fmt(r.added)} added, ${fmt(Math.ceil(r.added / 3))} fail once) | ${fmt(r.p50)} / ${fmt(r.p99)} / ${fmt(r.max)} | ${fmt(r.backlogP50)} / ${fmt(r.backlogMax)} / ${fmt(r.backlogEnd)} | ${fmt(r.growth, 1)} | ${r.growth * SECONDS < Math.max(200, 0.01 * r.added) ? 'flat' : 'grows'} | ${fmt(r.drainMs)} | ${cpuText(r.cpu)} | ${r.load} |`,
        );
      }
      if (ONLY.has('retained')) {
        // Claim rate on an empty Redis: a backlog of no-op jobs drained.
        await redis.flushall();
        let p = producer(system, url, false);
        await fill(p, CLAIM_JOBS, PAD);
        await p.close();
        const empty = await drain(system, url, redis, CLAIM_JOBS, 'noop');
        // RETAINED jobs run and kept.
        await redis.flushall();
        const m0 = await usedMemory(redis);
        p = producer(system, url, false);
        const tf = performance.now();
        await fill(p, RETAINED, PAD);
        const fillMs = performance.now() - tf;
        await p.close();
        const ran = await drain(system, url, redis, RETAINED, 'noop');
        const m1 = await usedMemory(redis);
        // The same fresh backlog again, with them retained.
        p = producer(system, url, false);
        await fill(p, CLAIM_JOBS, PAD);
        await p.close();
        const full = await drain(system, url, redis, CLAIM_JOBS, 'noop');
        const m2 = await usedMemory(redis);
        console.error(
          `${system} retained ${RETAINED}: ${fmt((m1 - m0) / RETAINED)} B/job; claim ${fmt(empty.rate)} → ${fmt(full.rate)} jobs/s`,
        );
        retainedRows.push(
          `| ${LABEL[system]} | ${fmt(RETAINED)} | ${fmt((m1 - m0) / RETAINED)} | ${fmt(m2 / 1024 / 1024)} MiB | ${fmt(RETAINED / (fillMs / 1000))} / ${fmt(ran.rate)} | ${fmt(empty.rate)} (${cpuText(empty.cpu)}) | ${fmt(full.rate)} (${cpuText(full.cpu)}) | ${fmt(full.rate / empty.rate, 2)} |`,
        );
        await redis.flushall();
      }
    }
  } finally {
    redis.disconnect();
    await server.stop();
  }
  if (rows.length > 0) {
    say(`## Sustained load (${SECONDS} s per level)`);
    say();
    say(
      '| system | level | jobs/s | add→start ms p50 / p99 / max | backlog (waiting) p50 / max / at end | backlog growth (jobs/s) | backlog | drain after (ms) | CPU (cores) | load avg after |',
    );
    say('| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- | --- |');
    for (const r of rows) say(r);
    say();
  }
  if (retryRows.length > 0) {
    say(
      `## The retry path under sustained load (${SECONDS} s, a third of the jobs fail once, retried at once)`,
    );
    say();
    say(
      '| system | level | add→start ms (first attempts) p50 / p99 / max | backlog p50 / max / at end | growth (jobs/s) | backlog | drain after (ms) | CPU (cores) | load avg after |',
    );
    say('| --- | --- | ---: | ---: | ---: | --- | ---: | --- | --- |');
    for (const r of retryRows) say(r);
    say();
  }
  if (retainedRows.length > 0) {
    say(`## Retained finished jobs: memory and claim speed`);
    say();
    say(
      `${fmt(RETAINED)} jobs (payload ${fmt(PAYLOAD)} B) added, run by no-op handlers and kept; then a fresh backlog of ${fmt(CLAIM_JOBS)} no-op jobs drained, beside the same backlog on an empty Redis.`,
    );
    say();
    say(
      '| system | retained jobs | Redis bytes per retained job (used_memory Δ / N) | used_memory after | add / run jobs/s | claim rate, empty Redis (jobs/s, CPU cores) | claim rate, with them retained | ratio |',
    );
    say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of retainedRows) say(r);
    say();
  }
  say(`Load average at end: ${loadAverage()}.`);
  const file = values.out ?? `bench/results/load-${date}.md`;
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(file, `${out.join('\n')}\n`);
  console.error(`written to ${file}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
