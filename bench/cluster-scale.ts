/**
 * `npm run bench:cluster`: what a Redis Cluster brings to many queues. The same fleet of worker
 * processes (each one ReTraced Worker over all the queues, `new Worker([{ queue, weight }, …])`)
 * drains the same backlog of 12 queues on one redis-server, then on a 3-master cluster (started
 * here, as the test helper does: redis-server processes in cluster mode joined by
 * `redis-cli --cluster create`). Reported: aggregate jobs/s, CPU of every Redis node (INFO cpu:
 * used_cpu_sys + used_cpu_user, before and after) and of the worker processes (/proc), so that what
 * bounds the throughput is measured, not guessed. Then weighted fairness: queues weighted 3, 2, 1
 * with a backlog each, the jobs completed in a fixed window per weight.
 *
 *   npm run bench:cluster                              # 12 queues × 5,000 jobs, 4 processes × c50, 2 runs
 *   npm run bench:cluster -- --jobs 2000 --runs 1      # smaller
 *   npm run bench:cluster -- --procs 2 --concurrency 100 --replicas 1
 *
 * Writes bench/results/cluster-scale-<date>.md (and prints it).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

import { RedisBackend } from '../src/backends/redis/index.js';
import { Queue } from '../src/index.js';
import { startRedisCluster } from '../test/helpers/redis-cluster.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { Fleet, loadAverage, redisCpuMs } from './lib/fleet.js';

const { values } = parseArgs({
  options: {
    queues: { type: 'string', default: '12' },
    jobs: { type: 'string', default: '5000' },
    procs: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '50' },
    runs: { type: 'string', default: '2' },
    replicas: { type: 'string', default: '0' },
    'fair-ms': { type: 'string', default: '3000' },
    out: { type: 'string' },
  },
});
const QUEUES = Number(values.queues);
const JOBS = Number(values.jobs);
const PROCS = Number(values.procs);
const CONCURRENCY = Number(values.concurrency);
const RUNS = Number(values.runs);
const REPLICAS = Number(values.replicas);
const FAIR_MS = Number(values['fair-ms']);
const names = Array.from({ length: QUEUES }, (_, i) => `q${String(i).padStart(2, '0')}`);

interface Target {
  readonly label: string;
  readonly url: string;
  /** Plain connections to every master, by address. */
  readonly masters: { addr: string; client: Redis }[];
  /** Which master holds each queue. */
  readonly owner: Map<string, string>;
  stop(): Promise<void>;
}

interface ThroughputRun {
  readonly jobsPerSec: number;
  readonly elapsedMs: number;
  /** CPU ms per Redis master over the run, by address. */
  readonly redisMs: Record<string, number>;
  readonly workersMs: number;
  readonly load: string;
}

async function singleTarget(): Promise<Target> {
  const server = await startRedisServer();
  const client = new Redis(server.port, '127.0.0.1');
  const addr = `127.0.0.1:${server.port}`;
  return {
    label: 'one redis-server',
    url: server.url,
    masters: [{ addr, client }],
    owner: new Map(names.map((n) => [n, addr])),
    stop: async () => {
      client.disconnect();
      await server.stop();
    },
  };
}

async function clusterTarget(prefix: string): Promise<Target> {
  const cluster = await startRedisCluster({ masters: 3, replicas: REPLICAS });
  const masters: { addr: string; client: Redis }[] = [];
  const slots: [number, number, string][] = [];
  const any = new Redis((cluster.nodes[0] as { port: number }).port, '127.0.0.1');
  for (const [from, to, [host, port]] of (await any.call('CLUSTER', 'SLOTS')) as [
    number,
    number,
    [string, number],
  ][]) {
    const addr = `${host}:${port}`;
    slots.push([from, to, addr]);
    if (!masters.some((m) => m.addr === addr)) masters.push({ addr, client: new Redis(port, host) });
  }
  const owner = new Map<string, string>();
  for (const n of names) {
    const slot = Number(await any.call('CLUSTER', 'KEYSLOT', `${prefix}:{${n}}:wake`));
    owner.set(n, slots.find(([a, b]) => slot >= a && slot <= b)?.[2] ?? '?');
  }
  any.disconnect();
  masters.sort((a, b) => a.addr.localeCompare(b.addr));
  return {
    label: `Redis Cluster, 3 masters${REPLICAS > 0 ? ` + ${3 * REPLICAS} replicas` : ''}`,
    url: cluster.url,
    masters,
    owner,
    stop: async () => {
      for (const m of masters) m.client.disconnect();
      await cluster.stop();
    },
  };
}

async function flush(t: Target): Promise<void> {
  await Promise.all(t.masters.map((m) => m.client.flushall()));
}

async function fill(t: Target, prefix: string, perQueue: readonly number[]): Promise<void> {
  const backend = new RedisBackend({ connection: t.url, prefix });
  try {
    await Promise.all(
      names.map(async (n, qi) => {
        const q = new Queue(n, { backend });
        const count = perQueue[qi] ?? 0;
        for (let i = 0; i < count; i += 1000) {
          await q.addBulk(
            Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({ name: 'b', data: { i: i + k } })),
          );
        }
      }),
    );
  } finally {
    await backend.close();
  }
}

async function redisTimes(t: Target): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of t.masters) out[m.addr] = await redisCpuMs(m.client);
  return out;
}

async function throughput(t: Target, prefix: string): Promise<ThroughputRun> {
  await flush(t);
  await fill(
    t,
    prefix,
    names.map(() => JOBS),
  );
  const fleet = await Fleet.spawn(
    {
      url: t.url,
      prefix,
      queues: names.map((name) => ({ name, weight: 1 })),
      concurrency: CONCURRENCY,
      handler: 'noop',
    },
    PROCS,
  );
  try {
    const r0 = await redisTimes(t);
    const w0 = fleet.cpuMs();
    const t0 = performance.now();
    fleet.go();
    await fleet.waitTotal(JOBS * QUEUES, 600_000);
    const elapsedMs = performance.now() - t0;
    const w1 = fleet.cpuMs();
    const r1 = await redisTimes(t);
    const load = loadAverage();
    await fleet.stop();
    return {
      jobsPerSec: (JOBS * QUEUES) / (elapsedMs / 1000),
      elapsedMs,
      redisMs: Object.fromEntries(Object.keys(r0).map((a) => [a, (r1[a] ?? 0) - (r0[a] ?? 0)])),
      workersMs: w1 - w0,
      load,
    };
  } catch (e) {
    fleet.kill();
    throw e;
  }
}

const WEIGHTS = [3, 2, 1];

/** Every queue has a backlog; the jobs each completed within FAIR_MS, by weight. */
async function fairness(t: Target, prefix: string): Promise<{ weight: number; done: number }[]> {
  await flush(t);
  // Enough that no queue empties within the window (a no-op job takes well under 0.1 ms of a worker).
  const backlog = Math.max(JOBS, 20_000);
  await fill(
    t,
    prefix,
    names.map(() => backlog),
  );
  const fleet = await Fleet.spawn(
    {
      url: t.url,
      prefix,
      queues: names.map((name, i) => ({ name, weight: WEIGHTS[i % WEIGHTS.length] as number })),
      concurrency: CONCURRENCY,
      handler: 'noop',
    },
    PROCS,
  );
  fleet.go();
  await new Promise((r) => setTimeout(r, FAIR_MS));
  const done = fleet.done();
  await fleet.stop();
  if (Object.values(done).some((n) => n >= backlog)) throw new Error('a queue emptied during the window');
  return names.map((n, i) => ({ weight: WEIGHTS[i % WEIGHTS.length] as number, done: done[n] ?? 0 }));
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

async function main(): Promise<void> {
  const date = new Date().toISOString().slice(0, 10);
  const lines: string[] = [];
  const say = (s = ''): void => {
    lines.push(s);
    console.log(s);
  };
  const redisVersion = (() => {
    try {
      return /v=([\d.]+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
    } catch {
      return '?';
    }
  })();
  say(`# Scale: ${QUEUES} queues on one Redis vs a 3-master Redis Cluster (${date})`);
  say();
  say(
    `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? '?'}), Node ${process.version}, redis-server ${redisVersion}. ` +
      `Load average at start: ${loadAverage()}.`,
  );
  say(
    `Workload: ${QUEUES} queues × ${fmt(JOBS)} no-op jobs added beforehand (${fmt(QUEUES * JOBS)} in all), drained by ` +
      `${PROCS} worker processes, each one ReTraced \`Worker\` over all ${QUEUES} queues (weight 1), concurrency ${CONCURRENCY}. ` +
      `Median of ${RUNS} run${RUNS === 1 ? '' : 's'}; CPU is per run (the median run's figures).`,
  );
  say();
  const results: { target: Target; runs: ThroughputRun[]; fair: { weight: number; done: number }[] }[] = [];
  for (const make of [singleTarget, () => clusterTarget('bench')]) {
    const t = await make();
    try {
      const runs: ThroughputRun[] = [];
      for (let r = 0; r < RUNS; r++) {
        const run = await throughput(t, 'bench');
        console.error(
          `${t.label} run ${r + 1}: ${fmt(run.jobsPerSec)} jobs/s, redis ${JSON.stringify(run.redisMs)}, workers ${fmt(run.workersMs)} ms`,
        );
        runs.push(run);
      }
      const fair = await fairness(t, 'bench');
      results.push({ target: t, runs, fair });
    } finally {
      await t.stop();
    }
  }

  say('## Throughput and what bounds it');
  say();
  say(
    '| setup | jobs/s (median) | wall s | Redis CPU per node (ms, % of one core over the run) | Redis CPU total | worker processes CPU (ms, cores) | CPU ms / 1k jobs (Redis + workers) | load avg after |',
  );
  say('| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |');
  for (const { target, runs } of results) {
    const med = median(runs.map((r) => r.jobsPerSec));
    const run = runs.reduce((a, b) => (Math.abs(b.jobsPerSec - med) < Math.abs(a.jobsPerSec - med) ? b : a));
    const secs = run.elapsedMs / 1000;
    const nodes = Object.entries(run.redisMs)
      .map(([addr, ms]) => {
        const qs = [...target.owner].filter(([, a]) => a === addr).length;
        return `${addr.split(':')[1]} (${qs} queues): ${fmt(ms)} ms, ${fmt((ms / run.elapsedMs) * 100)} %`;
      })
      .join('<br>');
    const redisTotal = Object.values(run.redisMs).reduce((a, b) => a + b, 0);
    say(
      `| ${target.label} | ${fmt(med)} (runs: ${runs.map((r) => fmt(r.jobsPerSec)).join(', ')}) | ${fmt(secs, 2)} | ${nodes} | ` +
        `${fmt(redisTotal)} ms (${fmt(redisTotal / run.elapsedMs, 2)} cores) | ${fmt(run.workersMs)} ms (${fmt(run.workersMs / run.elapsedMs, 2)} cores) | ` +
        `${fmt(((redisTotal + run.workersMs) / (QUEUES * JOBS)) * 1000, 1)} | ${run.load} |`,
    );
  }
  say();
  say('## Weighted fairness (every queue has a backlog)');
  say();
  say(
    `Queues weighted ${WEIGHTS.join(', ')} in turn (${QUEUES / WEIGHTS.length} queues of each weight), a backlog in each; ` +
      `jobs completed per queue within ${fmt(FAIR_MS)} ms, summed by weight. Expected share = weight / Σ weights.`,
  );
  say();
  say('| setup | weight | jobs done | share | expected share | served ratio vs weight-1 queues |');
  say('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const { target, fair } of results) {
    const total = fair.reduce((a, f) => a + f.done, 0);
    const byWeight = WEIGHTS.map((w) => ({
      w,
      done: fair.filter((f) => f.weight === w).reduce((a, f) => a + f.done, 0),
    }));
    const one = byWeight.find((b) => b.w === 1)?.done ?? 1;
    const wsum = WEIGHTS.reduce((a, b) => a + b, 0);
    for (const b of byWeight) {
      say(
        `| ${target.label} | ${b.w} | ${fmt(b.done)} | ${fmt((b.done / total) * 100, 1)} % | ${fmt((b.w / wsum) * 100, 1)} % | ${fmt(b.done / one, 2)} |`,
      );
    }
  }
  say();
  say(
    `Queues per master (cluster): ${[...new Set(results.at(-1)?.target.owner.values())]
      .map(
        (a) =>
          `${a.split(':')[1]}: ${[...(results.at(-1)?.target.owner ?? [])]
            .filter(([, x]) => x === a)
            .map(([n]) => n)
            .join(' ')}`,
      )
      .join('; ')}.`,
  );
  say(`Load average at end: ${loadAverage()}.`);
  const out = values.out ?? `bench/results/cluster-scale-${date}.md`;
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(out, `${lines.join('\n')}\n`);
  console.error(`written to ${out}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
