/**
 * Scenario 8, soak: a steady load for a while — most jobs succeed, some fail temporarily then
 * succeed, some fail for good (dead-lettered at once, or after the retry budget) — with retention
 * on completed (count) and dead (age) jobs, through 3 worker processes.
 *
 * Sampled every few seconds: Redis `used_memory`, the key count, the job counts and evictions, and
 * every worker's memory (process.memoryUsage() after a full GC: the workers run with --expose-gc).
 * The suite's own bookkeeping (the run counter hash, one field per job) lives on a second
 * redis-server, so the queue's Redis holds only the queue. The event stream (capped at ~10,000
 * entries by the scripts) is reported and checked apart, since a short run ends before it fills.
 *
 * Asserted: after the warm-up (retention reached), Redis memory and the key count stay flat (last
 * third vs middle third), finished jobs kept never exceed the retention rules, the event stream
 * stays at its cap, worker heaps do not grow; lost 0, stuck 0 and no duplicate after draining; every
 * job ran exactly as often as its kind says and ended in the state its kind says.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { queueKeys } from '../../src/backends/redis/keys.js';
import { Queue } from '../../src/queue.js';
import type { RetentionSettings, RetryPolicy } from '../../src/types.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniquePrefix } from '../helpers/redis.js';
import { type FaultJobData } from './shared.js';
import {
  loadJobs,
  loadRuns,
  prepareWorkerProcess,
  SCALE,
  sized,
  sleep,
  waitFor,
  WorkerProc,
  writeReport,
} from './harness.js';

const RATE = sized(100, 150);
const DURATION_MS = sized(40_000, 300_000);
const SAMPLE_MS = sized(2_000, 5_000);
const WORKERS = 3;
const CONCURRENCY = 8;
const LEASE_MS = 2000;
const ATTEMPTS = 4;
const RETRY: RetryPolicy = {
  attempts: ATTEMPTS,
  backoff: { type: 'exponential', delayMs: 200, factor: 2, jitter: 'equal' },
};
const RETENTION = {
  completed: { count: sized(1000, 5000) },
  dead: { count: sized(500, 2000), ageMs: sized(10_000, 60_000) },
} as const satisfies RetentionSettings;
/** The first part of the run, while retention fills up, is not judged. */
const WARMUP_FRACTION = 1 / 3;

type Kind = 'ok' | 'flaky' | 'permanent' | 'exhausted';

/** Job i's kind, by i % 100: 5 % permanent, 3 % exhausted, 12 % fail once or twice, 80 % ok. */
function jobFor(i: number): { kind: Kind; data: FaultJobData; runs: number } {
  const r = i % 100;
  const ms = 2 + (i % 9);
  if (r < 5) return { kind: 'permanent', data: { i, ms, permanent: true }, runs: 1 };
  if (r < 8) return { kind: 'exhausted', data: { i, ms, failAttempts: 99 }, runs: ATTEMPTS };
  if (r < 20) {
    const k = 1 + (r % 2);
    return { kind: 'flaky', data: { i, ms, failAttempts: k }, runs: k + 1 };
  }
  return { kind: 'ok', data: { i, ms }, runs: 1 };
}

interface Sample {
  readonly t: number;
  readonly usedMemory: number;
  readonly eventsBytes: number;
  /** used_memory without the event stream. */
  readonly net: number;
  readonly keys: number;
  /** MEMORY STATS: what the data takes, and the overhead (clients' buffers, dictionaries, scripts). */
  readonly dataset: number;
  readonly overhead: number;
  readonly clients: number;
  readonly xlen: number;
  readonly completedKept: number;
  readonly deadKept: number;
  readonly inFlight: number;
  readonly evicted: number;
}

interface Mem {
  readonly t: number;
  readonly rss: number;
  readonly heapUsed: number;
}

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const MiB = (b: number): string => (b / 1048576).toFixed(2);

/** Least-squares slope of y over t, per minute. */
function slopePerMin(pts: readonly { t: number; y: number }[]): number {
  if (pts.length < 2) return 0;
  const mt = mean(pts.map((p) => p.t));
  const my = mean(pts.map((p) => p.y));
  let num = 0;
  let den = 0;
  for (const p of pts) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60_000;
}

/** The judged part of a series (after warm-up), split into its middle and last third of the run. */
function thirds<T extends { t: number }>(xs: readonly T[], t0: number, t1: number): { mid: T[]; last: T[] } {
  const span = t1 - t0;
  const a = t0 + span * WARMUP_FRACTION;
  const b = t0 + (span * 2) / 3;
  return { mid: xs.filter((x) => x.t >= a && x.t < b), last: xs.filter((x) => x.t >= b && x.t <= t1) };
}

describe.skipIf(!hasRedisServer())(
  'fault: soak (steady load with retries and dead-letters, retention on)',
  () => {
    let server: RedisServer;
    /** The suite's bookkeeping (run counter), kept off the measured server. */
    let statsServer: RedisServer;
    const cleanup: (() => Promise<void>)[] = [];
    beforeAll(async () => {
      await prepareWorkerProcess();
      server = await startRedisServer();
      statsServer = await startRedisServer();
    });
    afterAll(async () => {
      for (const c of cleanup) await c();
      await server?.stop();
      await statsServer?.stop();
    });

    it(`${RATE} jobs/s for ${DURATION_MS / 1000} s: memory flat, nothing lost, stuck or duplicated`, async () => {
      const prefix = uniquePrefix();
      const name = 'soak';
      const backend = new RedisBackend({ connection: server.url, prefix, onWarning: () => undefined });
      const queue = new Queue<FaultJobData>(name, { backend, retry: RETRY, retention: RETENTION });
      await queue.ready();
      const k = queueKeys(prefix, name);
      const procs = Array.from(
        { length: WORKERS },
        (_, n) =>
          new WorkerProc(
            {
              url: server.url,
              prefix,
              queue: name,
              workerId: `soak-${n + 1}`,
              handler: 'noop',
              concurrency: CONCURRENCY,
              leaseMs: LEASE_MS,
              memoryEveryMs: SAMPLE_MS,
              statsUrl: statsServer.url,
            },
            { execArgv: ['--expose-gc'] },
          ),
      );
      const stats = new Redis(statsServer.url);
      cleanup.push(async () => {
        await Promise.all(procs.map((p) => p.stop()));
        await backend.close();
        stats.disconnect();
      });
      await Promise.all(procs.map((p) => p.ready));

      const redis = backend.client;
      const samples: Sample[] = [];
      const sample = async (): Promise<Sample> => {
        const [info, memStats, eventsBytes, keys, xlen, counts, ev] = await Promise.all([
          redis.info('memory'),
          redis.call('MEMORY', 'STATS') as Promise<unknown[]>,
          redis.call('MEMORY', 'USAGE', k.events, 'SAMPLES', '0') as Promise<number | null>,
          redis.dbsize(),
          redis.xlen(k.events),
          queue.counts(),
          queue.evictions(),
        ]);
        const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
        const stat = (field: string): number => {
          const i = memStats.indexOf(field);
          return i >= 0 ? Number(memStats[i + 1]) : NaN;
        };
        const s: Sample = {
          t: Date.now(),
          usedMemory: used,
          eventsBytes: eventsBytes ?? 0,
          net: used - (eventsBytes ?? 0),
          keys,
          dataset: stat('dataset.bytes'),
          overhead: stat('overhead.total'),
          clients: stat('clients.normal'),
          xlen,
          completedKept: counts.completed,
          deadKept: counts.dead,
          inFlight: counts.waiting + counts.active + counts.scheduled,
          evicted: ev.completed + ev.dead,
        };
        samples.push(s);
        return s;
      };

      const t0 = Date.now();
      const ids: string[] = [];
      const expected = new Map<string, { kind: Kind; runs: number }>();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          await sample();
          await sleep(SAMPLE_MS);
        }
      })();
      // The producer: RATE/10 jobs every 100 ms, on schedule (no drift).
      const perTick = RATE / 10;
      const ticks = DURATION_MS / 100;
      let i = 0;
      for (let tick = 0; tick < ticks; tick++) {
        const wait = t0 + tick * 100 - Date.now();
        if (wait > 0) await sleep(wait);
        const batch = Array.from({ length: perTick }, () => jobFor(i++));
        const added = await queue.addBulk(batch.map((b) => ({ name: b.kind, data: b.data })));
        added.forEach((a, n) => {
          ids.push(a.id);
          const b = batch[n] as (typeof batch)[number];
          expected.set(a.id, { kind: b.kind, runs: b.runs });
        });
      }
      const t1 = Date.now();
      sampling = false;
      await sampler;
      const drained = await waitFor(
        async () => {
          const c = await queue.counts();
          return c.waiting + c.active + c.scheduled === 0;
        },
        60_000,
        200,
      );
      const drainMs = Date.now() - t1;
      const after = await sample();
      await Promise.all(procs.map((p) => p.stop()));

      // Every job: ran as often as its kind says; present (kept) or evicted after finishing.
      const runs = await loadRuns(stats, prefix);
      const jobs = await loadJobs(backend, name, ids);
      let lost = 0;
      let stuck = 0;
      let duplicated = 0;
      let wrongState = 0;
      let underRun = 0;
      let retries = 0;
      const want = { completed: 0, dead: 0 };
      for (const id of ids) {
        const e = expected.get(id) as { kind: Kind; runs: number };
        const n = runs.get(id) ?? 0;
        retries += Math.max(0, n - 1);
        if (e.kind === 'ok' || e.kind === 'flaky') want.completed++;
        else want.dead++;
        if (n > e.runs) duplicated++;
        else if (n < e.runs) underRun++;
        const j = jobs.get(id);
        if (!j) {
          if (n < e.runs) lost++; // never finished, yet gone
          continue;
        }
        if (j.state !== 'completed' && j.state !== 'dead') stuck++;
        else if ((j.state === 'completed') !== (e.kind === 'ok' || e.kind === 'flaky')) wrongState++;
        if (j.attempts.some((a) => a.outcome === 'stalled')) duplicated++;
      }
      const counts = await queue.counts();
      const ev = await queue.evictions();
      const completedTotal = counts.completed + ev.completed;
      const deadTotal = counts.dead + ev.dead;
      // By id (gone before it finished) or by count (finished + evicted + unfinished short of accepted).
      lost = Math.max(lost, ids.length - completedTotal - deadTotal - stuck);

      // Memory: judged on the load phase after warm-up.
      const r = thirds(samples, t0, t1);
      const midNet = mean(r.mid.map((s) => s.net));
      const lastNet = mean(r.last.map((s) => s.net));
      const midKeys = mean(r.mid.map((s) => s.keys));
      const lastKeys = mean(r.last.map((s) => s.keys));
      const maxCompletedKept = Math.max(...samples.map((s) => s.completedKept));
      const maxDeadKept = Math.max(...samples.map((s) => s.deadKept));
      const maxXlen = Math.max(...samples.map((s) => s.xlen));
      const workers = procs.map((p) => {
        const mem: Mem[] = p.messages
          .filter((m) => m.ev === 'mem')
          .map((m) => ({ t: m.at ?? 0, rss: m.rss ?? 0, heapUsed: m.heapUsed ?? 0 }));
        const w = thirds(mem, t0, t1);
        const judged = [...w.mid, ...w.last];
        return {
          heapSlopeKiBPerMin: Math.round(slopePerMin(judged.map((m) => ({ t: m.t, y: m.heapUsed }))) / 1024),
          workerId: p.workerId,
          samples: mem.length,
          heapMidMiB: Number(MiB(mean(w.mid.map((m) => m.heapUsed)))),
          heapLastMiB: Number(MiB(mean(w.last.map((m) => m.heapUsed)))),
          heapMaxMiB: Number(MiB(Math.max(...mem.map((m) => m.heapUsed)))),
          rssMidMiB: Number(MiB(mean(w.mid.map((m) => m.rss)))),
          rssLastMiB: Number(MiB(mean(w.last.map((m) => m.rss)))),
          rssMaxMiB: Number(MiB(Math.max(...mem.map((m) => m.rss)))),
          stalls: p.messages.filter((m) => m.ev === 'stalled' || m.ev === 'lease-lost').length,
          mem,
        };
      });
      const throughput = (completedTotal + deadTotal) / ((t1 - t0 + drainMs) / 1000);
      const netSlope = slopePerMin([...r.mid, ...r.last].map((x) => ({ t: x.t, y: x.net })));
      const heapGrowth = Math.max(...workers.map((w) => w.heapLastMiB - w.heapMidMiB));
      writeReport({
        scenario: 'soak',
        title: '8. soak: steady load, retries, dead-letters, retention',
        scale: SCALE,
        accepted: ids.length,
        completed: completedTotal,
        dead: deadTotal,
        lost,
        duplicated,
        stuck,
        recoveryMs: null,
        durationMs: Date.now() - t0,
        notes:
          `${RATE} jobs/s for ${DURATION_MS / 1000} s, ${WORKERS} workers × ${CONCURRENCY}; ${retries} retries, ${deadTotal} dead; ` +
          `retention completed ≤ ${RETENTION.completed.count}, dead ≤ ${RETENTION.dead.count} / ${RETENTION.dead.ageMs / 1000} s: kept at most ${maxCompletedKept} / ${maxDeadKept}, ${ev.completed + ev.dead} evicted; ` +
          `Redis used_memory without the event stream ${MiB(midNet)} → ${MiB(lastNet)} MiB (middle → last third; slope ${Math.round(netSlope / 1024)} KiB/min), keys ${Math.round(midKeys)} → ${Math.round(lastKeys)}, ` +
          `event stream ≤ ${maxXlen} entries; worker heap after GC ${workers.map((w) => `${w.heapMidMiB} → ${w.heapLastMiB}`).join(', ')} MiB (slope ${workers.map((w) => w.heapSlopeKiBPerMin).join(', ')} KiB/min), RSS ${workers.map((w) => `${w.rssMidMiB} → ${w.rssLastMiB}`).join(', ')} MiB; ` +
          `${throughput.toFixed(0)} jobs/s finished; drained ${drainMs} ms after the producer stopped`,
        details: {
          ratePerSec: RATE,
          loadMs: t1 - t0,
          sampleMs: SAMPLE_MS,
          workers: WORKERS,
          concurrency: CONCURRENCY,
          leaseMs: LEASE_MS,
          retry: RETRY,
          retention: RETENTION,
          expected: want,
          retries,
          underRun,
          wrongState,
          drained,
          drainMs,
          throughputPerSec: Number(throughput.toFixed(1)),
          redis: {
            netMidMiB: Number(MiB(midNet)),
            netLastMiB: Number(MiB(lastNet)),
            netSlopeKiBPerMin: Math.round(netSlope / 1024),
            keysMid: Math.round(midKeys),
            keysLast: Math.round(lastKeys),
            maxCompletedKept,
            maxDeadKept,
            maxEventStreamEntries: maxXlen,
            afterDrain: after,
            samples: samples.map((s) => ({ ...s, t: s.t - t0 })),
          },
          workerMemory: workers.map((w) => ({ ...w, mem: w.mem.map((m) => ({ ...m, t: m.t - t0 })) })),
          maxHeapGrowthMiB: Number(heapGrowth.toFixed(2)),
        },
      });

      expect(drained).toBe(true);
      expect(lost).toBe(0);
      expect(stuck).toBe(0);
      expect(duplicated).toBe(0);
      expect(underRun).toBe(0);
      expect(wrongState).toBe(0);
      expect(completedTotal).toBe(want.completed);
      expect(deadTotal).toBe(want.dead);
      for (const w of workers) expect(w.stalls).toBe(0);
      // Retention holds at every sample (it runs inside every transition).
      expect(maxCompletedKept).toBeLessThanOrEqual(RETENTION.completed.count);
      expect(maxDeadKept).toBeLessThanOrEqual(RETENTION.dead.count);
      expect(ev.completed + ev.dead).toBeGreaterThan(0);
      // The event stream stays at its cap (MAXLEN ~ 10000: trimmed by whole nodes of ≤ 100 entries).
      expect(maxXlen).toBeLessThanOrEqual(10_100);
      // Flat Redis: the last third of the load holds no more than the middle third, within 10 %
      // (+ 256 KiB for allocator steps); the key count likewise.
      expect(r.mid.length).toBeGreaterThan(2);
      expect(r.last.length).toBeGreaterThan(2);
      expect(lastNet).toBeLessThanOrEqual(midNet * 1.1 + 256 * 1024);
      expect(lastKeys).toBeLessThanOrEqual(midKeys * 1.1 + 50);
      // Flat workers: heap after GC grows by less than 10 % + 1 MiB between the two thirds.
      for (const w of workers) {
        expect(w.samples).toBeGreaterThan(4);
        expect(w.heapLastMiB).toBeLessThanOrEqual(w.heapMidMiB * 1.1 + 1);
      }
    });
  },
);
