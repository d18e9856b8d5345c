/**
 * Scenario 1, worker crashes: N jobs, 3 worker processes, one SIGKILLed every few hundred ms and
 * replaced. At-least-once: nothing lost or stuck, every extra run of a job visible in its history as
 * a stalled attempt, recovery within about one lease period.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { Queue } from '../../src/queue.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniquePrefix } from '../helpers/redis.js';
import {
  Fleet,
  loadJobs,
  prepareWorkerProcess,
  loadRuns,
  sized,
  SCALE,
  sleep,
  stats,
  waitFor,
  writeReport,
} from './harness.js';

const JOBS = sized(2_000, 20_000);
const KILLS = sized(12, 60);
const WORKERS = 3;
const LEASE_MS = 1000;
const JOB_MS = 20;
const CONCURRENCY = 5;

describe.skipIf(!hasRedisServer())('fault: worker crashes (SIGKILL every few hundred ms)', () => {
  let server: RedisServer;
  let backend: RedisBackend;
  let fleet: Fleet | undefined;
  beforeAll(async () => {
    await prepareWorkerProcess();
    server = await startRedisServer();
  });
  afterAll(async () => {
    await fleet?.stopAll();
    await backend?.close();
    await server?.stop();
  });

  it(`${JOBS} jobs, ${WORKERS} workers, ≥ ${KILLS} kills: lost 0, stuck 0, duplicates all recorded as stalls`, async () => {
    const prefix = uniquePrefix();
    backend = new RedisBackend({ connection: server.url, prefix, onWarning: () => undefined });
    // maxStalls above any kill count a job can meet: this scenario is about recovery, not poison.
    const queue = new Queue<{ i: number; ms: number }>('crash', {
      backend,
      maxStalls: 50,
      retry: { attempts: 1 },
    });
    const started = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i += 1000) {
      const added = await queue.addBulk(
        Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({
          name: 'work',
          data: { i: i + k, ms: JOB_MS },
        })),
      );
      ids.push(...added.map((a) => a.id));
    }

    fleet = new Fleet(
      {
        url: server.url,
        prefix,
        queue: 'crash',
        handler: 'noop',
        concurrency: CONCURRENCY,
        leaseMs: LEASE_MS,
      },
      WORKERS,
      'crash',
      2,
    );
    await fleet.start();
    // Kill a random ready worker every 200–400 ms until KILLS, then let the run finish.
    const interval = sized(250, 350);
    while (fleet.kills.length < KILLS) {
      await sleep(interval * (0.8 + Math.random() * 0.4));
      const c = await queue.counts();
      if (c.completed + c.dead >= JOBS) break;
      fleet.killOne();
    }
    const finished = await waitFor(
      async () => {
        const c = await queue.counts();
        return c.completed + c.dead >= JOBS;
      },
      sized(60_000, 300_000),
      200,
    );
    const durationMs = Date.now() - started;
    await fleet.stopAll();

    const jobs = await loadJobs(backend, 'crash', ids);
    const runs = await loadRuns(backend.client, prefix);
    const killAt = new Map(fleet.kills.map((k) => [k.workerId, k.at]));
    let lost = 0;
    let completed = 0;
    let dead = 0;
    let stuck = 0;
    let duplicated = 0;
    let ranTwice = 0;
    let unrecorded = 0;
    let badHistory = 0;
    let unexpectedStalls = 0;
    let stalledAttempts = 0;
    const recovery: number[] = [];
    const restart: number[] = [];
    for (const id of ids) {
      const j = jobs.get(id);
      if (!j) {
        lost++;
        continue;
      }
      if (j.state === 'completed') completed++;
      else if (j.state === 'dead') dead++;
      else stuck++;
      const r = runs.get(id) ?? 0;
      if (r > 1 || j.attempts.length > 1) duplicated++;
      if (r > 1) ranTwice++;
      const stalls = j.attempts.filter((a) => a.outcome === 'stalled');
      stalledAttempts += stalls.length;
      // Every run beyond the first must be explained by a stalled attempt in the history.
      if (r > 1 + stalls.length) unrecorded++;
      // The history: stalled attempts, then the one that succeeded.
      const ok = j.attempts.every((a, k) =>
        k < j.attempts.length - 1 ? a.outcome === 'stalled' : a.outcome === 'succeeded',
      );
      if (j.state === 'completed' && !ok) badHistory++;
      j.attempts.forEach((a, k) => {
        if (a.outcome !== 'stalled') return;
        const killed = killAt.get(a.workerId);
        if (killed === undefined) {
          unexpectedStalls++;
          return;
        }
        recovery.push(a.finishedAt - killed);
        const next = j.attempts[k + 1];
        if (next) restart.push(next.startedAt - killed);
      });
    }
    const rec = stats(recovery);
    const report = {
      scenario: 'worker-crashes',
      title: '1. worker crashes (SIGKILL)',
      scale: SCALE,
      accepted: ids.length,
      completed,
      dead,
      lost,
      duplicated,
      stuck,
      recoveryMs: rec,
      durationMs,
      notes: `${fleet.kills.length} kills of ${WORKERS} workers (c=${CONCURRENCY}, lease ${LEASE_MS} ms); ${stalledAttempts} stalled attempts, ${unrecorded} unrecorded duplicates; rerun started p95 ${stats(restart)?.p95 ?? '—'} ms after the kill`,
      details: {
        kills: fleet.kills.length,
        workerProcesses: fleet.all.length,
        leaseMs: LEASE_MS,
        concurrency: CONCURRENCY,
        stalledAttempts,
        handlerRanMoreThanOnce: ranTwice,
        duplicatesWithoutStallRecord: unrecorded,
        historiesNotStalledThenSucceeded: badHistory,
        stallsWithoutKill: unexpectedStalls,
        rerunStartedAfterKillMs: stats(restart),
        maxRunsOfOneJob: Math.max(0, ...runs.values()),
        finishedInTime: finished,
      },
    };
    writeReport(report);

    expect(fleet.kills.length).toBeGreaterThanOrEqual(KILLS);
    expect(lost).toBe(0);
    expect(stuck).toBe(0);
    expect(completed).toBe(JOBS);
    expect(unrecorded).toBe(0);
    expect(badHistory).toBe(0);
    expect(unexpectedStalls).toBe(0);
    expect(duplicated).toBeGreaterThan(0);
    // About one lease period: the lease runs out ≤ leaseMs after the kill, the next claim or stall
    // check (every leaseMs / 2) recovers it.
    expect(rec?.p95 ?? 0).toBeLessThanOrEqual(1.5 * LEASE_MS + 250);
    expect(rec?.max ?? 0).toBeLessThanOrEqual(2.5 * LEASE_MS);
  });
});
