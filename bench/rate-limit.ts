/**
 * Priorities, rate limits and groups on Redis (`npm run bench:rate-limit`; not part of `npm run
 * bench`), each beside BullMQ's equivalent where it has one, on one redis-server per run (no
 * persistence), one worker of concurrency 100, no-op handlers:
 *
 * - **priorities**: 10,000 jobs all of priority 0 vs 10,000 with mixed priorities (0..4, a fifth
 *   each): jobs/s from the first start to the last finish (ReTraced and BullMQ, medians of runs).
 * - **rate-limited queue**: a queue limit of `--rate` jobs/s (its default burst, one second's worth; BullMQ's
 *   limiter `{ max: rate, duration: 1000 }`, its fixed window), 5 × rate jobs waiting: achieved jobs/s after the first burst
 *   vs the configured rate.
 * - **groups**: 100 groups with skewed load (group i has ⌈2000 / (i + 1)⌉ jobs: 2000, 1000, 667 …
 *   20), no limit: the order of the first 2,000 starts, served per group among the groups that still
 *   had work (max / min), and the same with a group limit of 10/s (burst 1) over 3 s. BullMQ has
 *   groups only in its paid Pro version: no column.
 *
 *   npx tsx bench/rate-limit.ts [--runs 3] [--rate 500] [--only priorities,rate,groups]
 * @module
 */
import { parseArgs } from 'node:util';

import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';

import { RedisBackend } from '../src/backends/redis/index.js';
import { Queue } from '../src/queue.js';
import { Worker } from '../src/worker.js';
import { startRedisServer, type RedisServer } from '../test/helpers/redis-server.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    rate: { type: 'string', default: '500' },
    only: { type: 'string', default: 'priorities,rate,groups' },
  },
});
const ONLY = new Set(args.only.split(','));
const RUNS = Number(args.runs);
const RATE = Number(args.rate);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function connection(url: string): { host: string; port: number; maxRetriesPerRequest: null } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
}

/** Runs `n` ReTraced jobs to completion; returns start times (ms, in start order) and names. */
async function retracedRun(
  server: RedisServer,
  jobs: { name: string; options?: { priority?: number; group?: string } }[],
  queueOptions: ConstructorParameters<typeof Queue>[1] = {},
  stopAfterMs = Infinity,
): Promise<{ starts: number[]; names: string[]; ms: number }> {
  const backend = new RedisBackend({ connection: server.url, prefix: `b${Date.now()}`, onWarning: () => {} });
  const q = new Queue(`q${Date.now()}`, { ...queueOptions, backend });
  for (let i = 0; i < jobs.length; i += 1000) {
    await q.addBulk(
      jobs
        .slice(i, i + 1000)
        .map((j) => ({ name: j.name, data: null, ...(j.options ? { options: j.options } : {}) })),
    );
  }
  const starts: number[] = [];
  const names: string[] = [];
  let done = 0;
  const t0 = performance.now();
  let resolve!: () => void;
  const finished = new Promise<void>((r) => (resolve = r));
  const w = new Worker(
    q,
    (job) => {
      starts.push(performance.now());
      names.push(job.name);
      return null;
    },
    { concurrency: 100 },
  );
  w.on('completed', () => {
    if (++done === jobs.length) resolve();
  });
  await (Number.isFinite(stopAfterMs)
    ? Promise.race([finished, new Promise((r) => setTimeout(r, stopAfterMs))])
    : finished);
  const ms = performance.now() - t0;
  await w.close();
  await backend.close();
  return { starts, names, ms };
}

async function bullRun(
  server: RedisServer,
  jobs: { name: string; priority?: number }[],
  limiter?: { max: number; duration: number },
): Promise<{ starts: number[]; ms: number }> {
  const name = `bq${Date.now()}`;
  const q = new BullQueue(name, { connection: connection(server.url) });
  for (let i = 0; i < jobs.length; i += 1000) {
    await q.addBulk(
      jobs.slice(i, i + 1000).map((j) => ({
        name: j.name,
        data: null,
        opts: {
          removeOnComplete: false,
          removeOnFail: false,
          ...(j.priority ? { priority: j.priority } : {}),
        },
      })),
    );
  }
  const starts: number[] = [];
  let done = 0;
  let resolve!: () => void;
  const finished = new Promise<void>((r) => (resolve = r));
  const t0 = performance.now();
  const w = new BullWorker(
    name,
    async () => {
      starts.push(performance.now());
      return null;
    },
    { connection: connection(server.url), concurrency: 100, ...(limiter ? { limiter } : {}) },
  );
  w.on('completed', () => {
    if (++done === jobs.length) resolve();
  });
  await finished;
  const ms = performance.now() - t0;
  await w.close();
  await q.close();
  return { starts, ms };
}

async function fresh<T>(fn: (s: RedisServer) => Promise<T>): Promise<T> {
  const server = await startRedisServer();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

async function priorities(): Promise<void> {
  const N = 10_000;
  const plain = Array.from({ length: N }, () => ({ name: 'j' }));
  // BullMQ: 1 is its highest; 0 = no priority. ReTraced: higher first. Five levels, a fifth each.
  const mixed = Array.from({ length: N }, (_, i) => ({ name: 'j', options: { priority: i % 5 } }));
  const bullMixed = Array.from({ length: N }, (_, i) => ({ name: 'j', priority: (i % 5) + 1 }));
  const r: Record<string, number[]> = { rtPlain: [], rtMixed: [], bullPlain: [], bullMixed: [] };
  for (let i = 0; i < RUNS; i++) {
    r.rtPlain!.push(N / ((await fresh((s) => retracedRun(s, plain))).ms / 1000));
    r.rtMixed!.push(N / ((await fresh((s) => retracedRun(s, mixed))).ms / 1000));
    r.bullPlain!.push(N / ((await fresh((s) => bullRun(s, plain))).ms / 1000));
    r.bullMixed!.push(N / ((await fresh((s) => bullRun(s, bullMixed))).ms / 1000));
  }
  const m = (k: string): number => Math.round(median(r[k]!));
  console.log(
    `priorities (c100, 10,000 jobs, medians of ${RUNS}): ReTraced plain ${m('rtPlain')} jobs/s, mixed 5 levels ${m('rtMixed')} jobs/s (${((m('rtMixed') / m('rtPlain') - 1) * 100).toFixed(1)} %); BullMQ plain ${m('bullPlain')}, prioritized ${m('bullMixed')} (${((m('bullMixed') / m('bullPlain') - 1) * 100).toFixed(1)} %)`,
  );
}

/**
 * Achieved rate after the first `burst` starts (a full bucket gives `burst` at once; BullMQ's fixed
 * window gives its `max` at once): (starts − burst) / (last start − first start).
 */
function achieved(starts: number[], burst: number): number {
  return (starts.length - burst) / (((starts[starts.length - 1] as number) - (starts[0] as number)) / 1000);
}

async function rateLimited(): Promise<void> {
  const N = RATE * 5;
  const jobs = Array.from({ length: N }, () => ({ name: 'j' }));
  const rt: number[] = [];
  const bull: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    rt.push(
      achieved(
        (await fresh((s) => retracedRun(s, jobs, { rateLimit: { queue: { rate: RATE } } }))).starts,
        RATE,
      ),
    );
    bull.push(achieved((await fresh((s) => bullRun(s, jobs, { max: RATE, duration: 1000 }))).starts, RATE));
  }
  const a = median(rt);
  const b = median(bull);
  console.log(
    `rate-limited queue (${RATE}/s, burst ${RATE} (the default), ${N} jobs, c100, medians of ${RUNS}): ReTraced ${a.toFixed(1)} jobs/s (${((a / RATE - 1) * 100).toFixed(2)} % from the rate); BullMQ limiter {max ${RATE}, duration 1000 ms} ${b.toFixed(1)} jobs/s (${((b / RATE - 1) * 100).toFixed(2)} %)`,
  );
}

async function groups(): Promise<void> {
  const G = 100;
  const jobs: { name: string; options: { group: string } }[] = [];
  for (let g = 0; g < G; g++) {
    const n = Math.ceil(2000 / (g + 1));
    for (let k = 0; k < n; k++) jobs.push({ name: `g${g}`, options: { group: `g${g}` } });
  }
  const counts = (names: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const n of names) m.set(n, (m.get(n) ?? 0) + 1);
    return m;
  };
  const total = new Map<string, number>();
  for (const j of jobs) total.set(j.name, (total.get(j.name) ?? 0) + 1);
  // Fairness over the first 2,000 starts, among the groups with work left at the end of it.
  const free = await fresh((s) => retracedRun(s, jobs));
  const first = counts(free.names.slice(0, 2000));
  const busy = [...total].filter(([g, n]) => n > (first.get(g) ?? 0)).map(([g]) => first.get(g) ?? 0);
  console.log(
    `groups, no limit (100 groups, ${jobs.length} jobs, 2000 → 20 per group; first 2,000 starts): served per group with work left: max ${Math.max(...busy)}, min ${Math.min(...busy)} (max/min ${(Math.max(...busy) / Math.min(...busy)).toFixed(2)}; ${busy.length} groups); all done in ${(free.ms / 1000).toFixed(2)} s = ${Math.round(jobs.length / (free.ms / 1000))} jobs/s`,
  );
  const limited = await fresh((s) =>
    retracedRun(s, jobs, { rateLimit: { group: { rate: 10, burst: 1 } } }, 3000),
  );
  const served = counts(limited.names);
  // Among the groups that still had work when the run stopped (the others ran out of jobs).
  const per = [...total].filter(([g, n]) => n > (served.get(g) ?? 0)).map(([g]) => served.get(g) ?? 0);
  console.log(
    `groups, each 10/s (burst 1), 3 s: served per group with work left max ${Math.max(...per)}, min ${Math.min(...per)} (max/min ${(Math.max(...per) / Math.min(...per)).toFixed(2)}; ${per.length} groups), total ${limited.names.length} in ${(limited.ms / 1000).toFixed(2)} s`,
  );
}

if (ONLY.has('priorities')) await priorities();
if (ONLY.has('rate')) await rateLimited();
if (ONLY.has('groups')) await groups();
