/**
 * Scenario 4, network faults: a TCP proxy (./proxy.ts) between every client and redis-server, and
 * faults on it while a producer adds jobs and 3 worker processes run them. The producer and the
 * workers connect through the proxy (so adds meet the faults too); the test reads and checks on a
 * direct connection of its own.
 *
 *   cuts       every connection reset (RST to both sides) several times during the run
 *   blackhole  nothing forwarded for a few seconds longer than the lease, on the workers' command
 *              and blocking connections and the producer's alike; the connections caught in it
 *              stay silent for good (as when a NAT or firewall entry is gone): only a client-side
 *              timeout gets a client out. A 4th worker, connected directly, is outside the hole
 *              (a partition that isolates some workers): it recovers the jobs whose leases ran out
 *              in the hole, and the isolated workers' late finishes are refused
 *   latency    every chunk delayed by N ms in each direction for a while
 *
 * Nobody is told: the ioredis clients (default RedisBackend options) must notice and reconnect by
 * themselves. Checks: lost 0, stuck 0, every extra handler run recorded as a stalled attempt, and
 * no worker wedged: each one completes jobs again within a bound after each fault ends. Time to
 * resume = fault end → every worker completing jobs again (from the attempt records).
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { Queue } from '../../src/queue.js';
import { hasRedisServer, startRedisServer } from '../helpers/redis-server.js';
import { uniquePrefix } from '../helpers/redis.js';
import {
  Fleet,
  loadJobs,
  scanJobIds,
  tallyAcked,
  prepareWorkerProcess,
  SCALE,
  sized,
  sleep,
  stats,
  waitFor,
  writeReport,
} from './harness.js';
import { startProxy, type FaultProxy } from './proxy.js';

const WORKERS = 3;
const CONCURRENCY = 5;
const LEASE_MS = 1000;
const JOB_MS = 5;
const RATE = sized(300, 400);
const QUEUE = 'network';
/**
 * RedisBackend's default ioredis `socketTimeout` (src/backends/redis/redis-backend.ts): a connection
 * with a command pending and nothing received for this long is taken for dead and reconnected. It
 * is what gets a client out of a black hole, so it bounds the time to resume after one.
 */
const SOCKET_TIMEOUT_MS = 5000;
/** Every worker completes jobs again within this after a fault ends. */
const RESUME_BOUND_MS: Record<Kind, number> = {
  cuts: 3 * LEASE_MS,
  latency: 3 * LEASE_MS,
  blackhole: SOCKET_TIMEOUT_MS + 3 * LEASE_MS,
};

const CUTS = sized(5, 12);
const CUT_EVERY_MS = sized(1500, 2000);
/** Black holes: the first a few seconds longer than the lease, the next longer than the socket timeout. */
const HOLES_MS = sized([3000, 7000], [3000, 7000, 3000, 12_000]);
/** Latency phases: [ms added each way, how long]. */
const LATENCIES: [number, number][] = sized(
  [[50, 4000]],
  [
    [50, 10_000],
    [250, 10_000],
  ],
);

type Kind = 'cuts' | 'blackhole' | 'latency';

interface Fault {
  readonly what: string;
  readonly startAt: number;
  endAt: number;
  /** Connections reset (cuts) or put in the hole. */
  connections?: number;
}

interface Acked {
  readonly i: number;
  readonly id: string;
  readonly at: number;
}

async function run(kind: Kind): Promise<void> {
  const server = await startRedisServer();
  const proxy: FaultProxy = await startProxy({ port: server.port });
  const prefix = uniquePrefix();
  // The test's own view, directly on Redis.
  const direct = new RedisBackend({ connection: server.url, prefix, onWarning: () => undefined });
  const view = new Queue(QUEUE, { backend: direct, maxStalls: 50, retry: { attempts: 1 } });
  // The producer, through the proxy.
  const producerBackend = new RedisBackend({ connection: proxy.url, prefix, onWarning: () => undefined });
  const queue = new Queue<{ i: number; ms: number }>(QUEUE, {
    backend: producerBackend,
    maxStalls: 50,
    retry: { attempts: 1 },
  });
  const fleet = new Fleet(
    {
      url: proxy.url,
      prefix,
      queue: QUEUE,
      handler: 'noop',
      concurrency: CONCURRENCY,
      leaseMs: LEASE_MS,
      announceRuns: true,
    },
    WORKERS,
    `net-${kind}`,
  );
  // Black hole: one more worker, connected directly, outside the partition.
  const bystander =
    kind === 'blackhole' ? new Fleet({ ...fleet.base, url: server.url }, 1, 'net-direct') : undefined;
  const fleets = bystander ? [fleet, bystander] : [fleet];
  try {
    await Promise.all(fleets.map((f) => f.start()));
    const workerIds = fleet.all.map((w) => w.workerId);
    const started = Date.now();

    // The producer, open loop: RATE adds per second whatever the replies take (latency does not
    // slow it down; in a black hole its adds wait in the client until it reconnects).
    const acked: Acked[] = [];
    const addErrors: { i: number; at: number; message: string }[] = [];
    const inFlight = new Set<Promise<void>>();
    let next = 0;
    let producing = true;
    const addOne = (i: number): void => {
      const p: Promise<void> = queue
        .add('work', { i, ms: JOB_MS })
        .then(
          ({ id }) => void acked.push({ i, id, at: Date.now() }),
          (e: unknown) =>
            void addErrors.push({ i, at: Date.now(), message: e instanceof Error ? e.message : String(e) }),
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    const producer = (async (): Promise<void> => {
      const t0 = Date.now();
      while (producing) {
        const due = Math.floor(((Date.now() - t0) * RATE) / 1000);
        while (next < due) addOne(next++);
        await sleep(10);
      }
    })();

    // Live progress, to pace the faults: the last time each worker started a job.
    const lastRun = new Map<string, number>();
    for (const w of fleet.all) w.onMessage((m) => m.ev === 'run' && lastRun.set(w.workerId, Date.now()));
    /** Waits until every worker has started a job after `t` (or the bound passes). */
    const everyoneRunsAfter = (t: number, bound: number): Promise<boolean> =>
      waitFor(() => workerIds.every((id) => (lastRun.get(id) ?? 0) > t), bound, 20);
    const ackedAfter = (t: number, bound: number): Promise<boolean> =>
      waitFor(() => (acked.at(-1)?.at ?? 0) > t, bound, 20);

    await sleep(1000);
    const faults: Fault[] = [];
    if (kind === 'cuts') {
      for (let k = 0; k < CUTS; k++) {
        const at = Date.now();
        faults.push({ what: 'cut', startAt: at, endAt: at, connections: proxy.cut() });
        await sleep(CUT_EVERY_MS * (0.8 + Math.random() * 0.4));
      }
    } else if (kind === 'blackhole') {
      for (const ms of HOLES_MS) {
        const f: Fault = { what: `black hole ${ms} ms`, startAt: Date.now(), endAt: 0 };
        proxy.blackhole();
        f.connections = proxy.stats().open;
        await sleep(ms);
        proxy.restore();
        f.endAt = Date.now();
        faults.push(f);
        // Back to normal before the next one (bounded: a wedged worker fails the checks below).
        await everyoneRunsAfter(f.endAt, RESUME_BOUND_MS.blackhole + 2000);
        await ackedAfter(f.endAt, RESUME_BOUND_MS.blackhole + 2000);
        await sleep(1000);
      }
    } else {
      for (const [ms, forMs] of LATENCIES) {
        const f: Fault = {
          what: `latency +${ms} ms each way for ${forMs} ms`,
          startAt: Date.now(),
          endAt: 0,
        };
        proxy.setLatency(ms);
        await sleep(forMs);
        proxy.setLatency(0);
        f.endAt = Date.now();
        faults.push(f);
        await sleep(1500);
      }
    }
    const lastEnd = Math.max(...faults.map((f) => f.endAt));
    // Keep producing until every worker has run jobs after the last fault (bounded), then a bit.
    await everyoneRunsAfter(lastEnd, RESUME_BOUND_MS[kind] + 2000);
    await sleep(1500);
    const steadyFrom = Date.now() - 1500;
    const steadyTo = Date.now();
    producing = false;
    await producer;
    const producerStopped = await Promise.race([
      Promise.all(inFlight).then(() => true),
      sleep(SOCKET_TIMEOUT_MS + 5000).then(() => false),
    ]);

    // Drain: until nothing is waiting, scheduled or active for 2 leases.
    let quietSince = 0;
    const drained = await waitFor(
      async () => {
        const c = await view.counts();
        if (c.waiting + c.scheduled + c.active > 0) {
          quietSince = 0;
          return false;
        }
        quietSince ||= Date.now();
        return Date.now() - quietSince >= 2 * LEASE_MS;
      },
      sized(30_000, 60_000),
      100,
    );
    const durationMs = Date.now() - started;
    const workersAlive = fleets.flatMap((f) => f.all).filter((w) => w.alive).length;
    const workerProcesses = fleets.flatMap((f) => f.all).length;
    await Promise.all(fleets.map((f) => f.stopAll()));

    // Every job in Redis (the acknowledged ones, and adds whose reply a fault ate).
    const allIds = await scanJobIds(direct.client, prefix, QUEUE);
    const everything = await loadJobs(direct, QUEUE, allIds);
    const runs = new Map<string, number[]>();
    for (const m of fleets.flatMap((f) => f.messages('run'))) {
      if (m.id === undefined || m.attempt === undefined) continue;
      runs.set(m.id, [...(runs.get(m.id) ?? []), m.attempt]);
    }

    const { lost, completed, dead, stuck, duplicated, lostIds, stuckJobs } = tallyAcked(
      acked,
      everything,
      (id) => runs.get(id)?.length ?? 0,
    );
    const ackedIds = new Set(acked.map((a) => a.id));
    // Every job in Redis: each handler run beyond the last must be a stalled attempt in the history.
    let unacknowledged = 0;
    let notFinished = 0;
    let ranTwice = 0;
    let unrecorded = 0;
    let runsOfUnknownAttempts = 0;
    let badHistory = 0;
    let stalledAttempts = 0;
    let ghostStalls = 0;
    let refusals = 0;
    let resentFinishes = 0;
    const unrecordedSample: { id: string; runs: number[]; outcomes: string[] }[] = [];
    const refusedSample: { id: string; attempts: string[]; refusals: string[] }[] = [];
    for (const [id, j] of everything) {
      if (!j) continue;
      if (!ackedIds.has(id)) unacknowledged++;
      if (j.state !== 'completed' && j.state !== 'dead') notFinished++;
      const r = runs.get(id) ?? [];
      if (r.length > 1) ranTwice++;
      const stalls = j.attempts.filter((a) => a.outcome === 'stalled');
      stalledAttempts += stalls.length;
      refusals += j.refusals.length;
      // A refusal of the attempt that succeeded: its finish ran twice (ioredis resent it after the
      // fault ate the reply), not a late result.
      resentFinishes += j.refusals.filter((x) =>
        j.attempts.some((a) => a.n === x.attempt && a.outcome === 'succeeded'),
      ).length;
      if (j.refusals.length > 0 && refusedSample.length < 10) {
        refusedSample.push({
          id,
          attempts: j.attempts.map((a) => `${a.n}:${a.outcome}:${a.workerId}`),
          refusals: j.refusals.map((x) => `${x.attempt}:${x.outcome}:${x.workerId}`),
        });
      }
      // A stalled attempt no handler ran: a claim whose reply a fault ate (and ioredis resent).
      ghostStalls += stalls.filter((a) => !r.includes(a.n)).length;
      const known = new Set(j.attempts.map((a) => a.n));
      const unknown = r.filter((n) => !known.has(n)).length;
      runsOfUnknownAttempts += unknown;
      if (r.length > 1 + stalls.length || unknown > 0) {
        unrecorded++;
        if (unrecordedSample.length < 10) {
          unrecordedSample.push({ id, runs: r, outcomes: j.attempts.map((a) => a.outcome) });
        }
      }
      const ok = j.attempts.every((a, k) =>
        k < j.attempts.length - 1 ? a.outcome === 'stalled' : a.outcome === 'succeeded',
      );
      if (j.state === 'completed' && !ok) badHistory++;
    }

    // Time to resume: per fault, each worker's first completed attempt after the fault ended
    // (finishedAt: Redis clock, same host).
    const firstDone = (workerId: string, after: number): number | undefined => {
      let best: number | undefined;
      for (const j of everything.values()) {
        for (const a of j?.attempts ?? []) {
          if (a.workerId !== workerId || a.outcome !== 'succeeded' || a.finishedAt <= after) continue;
          if (best === undefined || a.finishedAt < best) best = a.finishedAt;
        }
      }
      return best;
    };
    const per = faults.map((f) => {
      const byWorker = Object.fromEntries(
        workerIds.map((id) => {
          const t = firstDone(id, f.endAt);
          return [id, t === undefined ? null : t - f.endAt];
        }),
      );
      const times = Object.values(byWorker);
      const all = times.every((t) => t !== null) ? Math.max(...(times as number[])) : null;
      const first = times.some((t) => t !== null)
        ? Math.min(...times.filter((t): t is number => t !== null))
        : null;
      return {
        what: f.what,
        atMs: f.startAt - started,
        durationMs: f.endAt - f.startAt,
        connections: f.connections,
        firstWorkerMs: first,
        everyWorkerMs: all,
        byWorkerMs: byWorker,
      };
    });
    const resume = stats(per.map((p) => p.everyWorkerMs).filter((x): x is number => x !== null));
    const wedged = per.filter((p) => p.everyWorkerMs === null || p.everyWorkerMs > RESUME_BOUND_MS[kind]);

    // Throughput (completions per second, Redis clock) before, during and after the faults.
    const doneAt: number[] = [];
    for (const j of everything.values()) {
      for (const a of j?.attempts ?? []) if (a.outcome === 'succeeded') doneAt.push(a.finishedAt);
    }
    const rate = (from: number, to: number): number =>
      to > from ? Math.round((1000 * doneAt.filter((t) => t > from && t <= to).length) / (to - from)) : 0;
    const firstStart = Math.min(...faults.map((f) => f.startAt));
    const throughput = {
      beforePerS: rate(started, firstStart),
      during: faults.map((f) => ({ what: f.what, perS: rate(f.startAt, f.endAt) })),
      afterPerS: rate(steadyFrom, steadyTo),
    };
    const addResume = stats(
      faults
        .map((f) => acked.find((a) => a.at > f.endAt)?.at)
        .map((t, k) => (t === undefined ? null : t - (faults[k] as Fault).endAt))
        .filter((x): x is number => x !== null),
    );
    const workerErrors = fleets.flatMap((f) => f.messages('error'));
    const p = proxy.stats();
    const titles: Record<Kind, string> = {
      cuts: '4a. network: connection cuts',
      blackhole: '4b. network: black hole',
      latency: '4c. network: added latency',
    };
    const what: Record<Kind, string> = {
      cuts: `${faults.length} cuts of every connection (${p.cut} connections reset)`,
      blackhole: `black holes of ${HOLES_MS.join(', ')} ms (lease ${LEASE_MS} ms; ${p.blackholed} connections caught, ${p.droppedBytes} bytes dropped)`,
      latency: LATENCIES.map(([ms, d]) => `+${ms} ms each way for ${d / 1000} s`).join(', '),
    };
    const report = {
      scenario: `network-${kind}`,
      title: titles[kind],
      scale: SCALE,
      accepted: acked.length,
      completed,
      dead,
      lost,
      duplicated,
      stuck,
      recoveryMs: resume,
      durationMs,
      notes:
        `${what[kind]}; ${WORKERS} workers (c=${CONCURRENCY}, lease ${LEASE_MS} ms) and the producer (~${RATE} adds/s) through the proxy` +
        (bystander ? ', 1 worker outside the hole; ' : '; ') +
        `recovery = fault end → every worker completing jobs again (first worker p50 ${stats(per.map((x) => x.firstWorkerMs).filter((x): x is number => x !== null))?.p50 ?? '—'} ms); ` +
        `first add acknowledged after the fault end p50 ${addResume?.p50 ?? '—'} / max ${addResume?.max ?? '—'} ms; ` +
        (kind === 'cuts'
          ? ''
          : `jobs completed ${throughput.beforePerS}/s before, ${throughput.during.map((d) => d.perS).join(', ')}/s during, ${throughput.afterPerS}/s after; `) +
        `${stalledAttempts} stalled attempts (${ghostStalls} never run), ${ranTwice} jobs ran twice, ${unrecorded} unrecorded duplicates, ` +
        `${refusals} refusals, ${addErrors.length} adds rejected, ${unacknowledged} unacknowledged jobs in Redis`,
      details: {
        faults: per,
        resumeBoundMs: RESUME_BOUND_MS[kind],
        wedged,
        throughput,
        addResumeMs: addResume,
        addsAttempted: next,
        addsRejected: addErrors.length,
        addErrorsSample: addErrors.slice(0, 10),
        producerStopped,
        jobsInRedis: allIds.length,
        unacknowledgedJobsInRedis: unacknowledged,
        notFinishedInRedis: notFinished,
        stalledAttempts,
        stallsNeverRun: ghostStalls,
        handlerRanMoreThanOnce: ranTwice,
        duplicatesWithoutStallRecord: unrecorded,
        runsOfUnrecordedAttempts: runsOfUnknownAttempts,
        unrecordedSample,
        historiesNotStalledThenSucceeded: badHistory,
        refusals,
        refusedSample,
        refusalsOfTheSucceededAttempt: resentFinishes,
        lostIdsSample: lostIds,
        stuckSample: stuckJobs,
        workerProcesses,
        workersAliveAtEnd: workersAlive,
        workerErrorEvents: workerErrors.length,
        workerErrorSample: [...new Set(workerErrors.map((m) => m.message))].slice(0, 10),
        proxy: p,
        drainedInTime: drained,
        leaseMs: LEASE_MS,
      },
    };
    writeReport(report);

    expect(producerStopped).toBe(true);
    expect(drained).toBe(true);
    expect(lost).toBe(0);
    expect(stuck).toBe(0);
    expect(notFinished).toBe(0);
    expect(completed).toBe(acked.length);
    expect(unrecorded).toBe(0);
    expect(badHistory).toBe(0);
    // No worker wedged: the same processes, each completing jobs again within the bound.
    expect(workerProcesses).toBe(WORKERS + (bystander ? 1 : 0));
    expect(workersAlive).toBe(workerProcesses);
    expect(wedged).toEqual([]);
    if (kind === 'latency') expect(stalledAttempts).toBe(0);
  } finally {
    await Promise.all(fleets.map((f) => f.stopAll()));
    // A client still stuck in a black hole would wait for ever on its QUIT.
    await Promise.race([producerBackend.close(), sleep(2000)]);
    producerBackend.client.disconnect();
    await direct.close();
    await proxy.close();
    await server.stop();
  }
}

describe.skipIf(!hasRedisServer())('fault: network faults (TCP proxy between the clients and Redis)', () => {
  beforeAll(async () => {
    await prepareWorkerProcess();
  });

  it(`${CUTS} cuts of every connection: lost 0, stuck 0, every worker back within ${RESUME_BOUND_MS.cuts} ms`, async () => {
    await run('cuts');
  });

  it(`black holes of ${HOLES_MS.join(', ')} ms (lease ${LEASE_MS} ms), blocking connections included: no worker wedged`, async () => {
    await run('blackhole');
  });

  it(`added latency (${LATENCIES.map(([ms]) => `${ms} ms`).join(', ')}): no stall, lost 0, stuck 0`, async () => {
    await run('latency');
  });
});
