/**
 * Schedulers on Redis (not part of `npm run bench`): how late ticks fire (the ledger's
 * `at − plannedAt`, on the Redis clock) and what many schedulers cost.
 *
 *   npx tsx bench/schedulers.ts                       # 1 and 1,000 schedulers, every 1 s, 20 s each
 *   npx tsx bench/schedulers.ts --counts 1,100,1000 --seconds 30
 *
 * Per count N: a fresh queue on its own redis-server (no persistence); N schedulers `{ every: 1000 }`
 * upserted through `Queue.schedule` (timed), then one `SchedulerLoop` (as `retraced worker` runs)
 * for `--seconds`; the created jobs stay waiting (nothing claims them, so the tick path alone is
 * measured). Reported: upsert time per scheduler, ticks created vs expected, lateness p50/p99/max
 * over every created tick beside two baselines of the same run (this process's event-loop delay,
 * and a Redis PING round trip every 20 ms: what the machine adds), Redis CPU (INFO used_cpu_user+sys) and this process's CPU per tick, and
 * Redis memory per scheduler (hash + zset entry, before any tick) and per ledger entry.
 * @module
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { Redis } from 'ioredis';

import { RedisBackend } from '../src/backends/redis/index.js';
import { Queue } from '../src/queue.js';
import { SchedulerLoop } from '../src/scheduler-loop.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { percentile } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    counts: { type: 'string', default: '1,1000' },
    seconds: { type: 'string', default: '20' },
  },
});
const COUNTS = (values.counts ?? '1,1000').split(',').map(Number);
const SECONDS = Number(values.seconds);
const LAG_RESOLUTION_MS = 10;

async function redisCpuMs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
  return (user + sys) * 1000;
}

async function usedMemory(admin: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
}

interface Row {
  n: number;
  upsertMsPer: number;
  expected: number;
  created: number;
  skipped: number;
  p50: number;
  p99: number;
  max: number;
  redisCpuPerTick: number;
  nodeCpuPerTick: number;
  bytesPerScheduler: number;
  bytesPerTick: number;
  /** Event-loop delay of this process during the run (ms): the machine's share of the lateness. */
  lagP50: number;
  lagP99: number;
  /** Redis PING round trip during the run (ms). */
  rttP50: number;
  rttP99: number;
  /** 1-minute load average (mean of start and end). */
  load: number;
}

async function run(n: number): Promise<Row> {
  const server = await startRedisServer();
  const admin = new Redis(server.url);
  const backend = new RedisBackend({ connection: server.url, prefix: 'bsch', onWarning: () => {} });
  try {
    const queue = new Queue('sch', { backend });
    await queue.ready();
    const mem0 = await usedMemory(admin);
    const t0 = performance.now();
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, j) =>
          queue.schedule(`s${i + j}`, { every: 1000 }, { name: 'tick', data: { i: i + j } }),
        ),
      );
    }
    const upsertMs = performance.now() - t0;
    const mem1 = await usedMemory(admin);
    const cpuRedis0 = await redisCpuMs(admin);
    const cpuNode0 = process.cpuUsage();
    // The baseline of the same run: how late this process's own timers are (the event loop's delay
    // on this machine now), beside how late the ticks are.
    const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    lag.enable();
    // And how long a Redis round trip takes now (PING every 20 ms on its own connection).
    const rtts: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const t = performance.now();
        await admin.ping();
        rtts.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const load0 = loadavg()[0] ?? 0;
    const loop = new SchedulerLoop({ backend, queues: ['sch'] }).start();
    const startedAt = await backend.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    await loop.close();
    lag.disable();
    sampling = false;
    await sampler;
    const endedAt = await backend.now();
    const du = process.cpuUsage(cpuNode0);
    const cpuNodeUs = du.user + du.system;
    const cpuRedis = (await redisCpuMs(admin)) - cpuRedis0;
    const mem2 = await usedMemory(admin);
    const late: number[] = [];
    let skipped = 0;
    let expected = 0;
    for (const s of await queue.schedulers()) {
      // Occurrences planned after the loop started and due before it stopped.
      const first = s.anchor + Math.ceil((startedAt - s.anchor) / 1000) * 1000;
      expected += Math.max(0, Math.floor((endedAt - first) / 1000) + 1);
      for (const t of await queue.schedulerTicks(s.id, 200)) {
        if (t.plannedAt < startedAt) continue;
        if (t.outcome === 'created') late.push(t.at - t.plannedAt);
        else skipped += t.count ?? 1;
      }
    }
    const ticks = Math.max(1, late.length + skipped);
    return {
      n,
      upsertMsPer: upsertMs / n,
      expected,
      created: late.length,
      skipped,
      p50: percentile(late, 50),
      p99: percentile(late, 99),
      max: Math.max(...late),
      redisCpuPerTick: (cpuRedis * 1000) / ticks,
      nodeCpuPerTick: cpuNodeUs / ticks,
      bytesPerScheduler: (mem1 - mem0) / n,
      // Each tick adds a ledger entry and a waiting job: the growth per created tick.
      bytesPerTick: (mem2 - mem1) / ticks,
      lagP50: lag.percentile(50) / 1e6 - LAG_RESOLUTION_MS,
      lagP99: lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS,
      rttP50: percentile(rtts, 50),
      rttP99: percentile(rtts, 99),
      load: (load0 + (loadavg()[0] ?? 0)) / 2,
    };
  } finally {
    await backend.close();
    admin.disconnect();
    await server.stop();
  }
}

async function main(): Promise<void> {
  console.log(`schedulers bench: every 1 s, ${SECONDS} s per count, Node ${process.version}`);
  const rows: Row[] = [];
  for (const n of COUNTS) {
    const r = await run(n);
    rows.push(r);
    console.log(JSON.stringify(r));
  }
  const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '—');
  console.log('');
  console.log(
    '| schedulers | upsert ms each | ticks created / expected | skipped | late p50 ms | late p99 ms | late max ms | event-loop delay p50 / p99 ms | Redis PING p50 / p99 ms | load avg | Redis CPU µs / tick | Node CPU µs / tick | bytes / scheduler | bytes / tick (ledger + job) |',
  );
  console.log(
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of rows) {
    console.log(
      `| ${r.n} | ${f(r.upsertMsPer, 2)} | ${r.created} / ${r.expected} | ${r.skipped} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} | ${f(r.lagP50)} / ${f(r.lagP99)} | ${f(r.rttP50, 2)} / ${f(r.rttP99, 2)} | ${f(r.load)} | ${f(r.redisCpuPerTick, 0)} | ${f(r.nodeCpuPerTick, 0)} | ${f(r.bytesPerScheduler, 0)} | ${f(r.bytesPerTick, 0)} |`,
    );
  }
}

await main();
