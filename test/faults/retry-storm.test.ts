/**
 * Scenario 6, retry storm: N jobs fail at once against a dependency that is down for a while, with
 * an exponential policy without jitter and with full jitter. Reported: the peak retry rate (retries
 * due, and retries started, per 100 ms bucket: decision.nextDueAt / attempt startedAt), the load on
 * the dependency while it is down, and the time to drain once it is back. With jitter the retries
 * must be spread: a markedly lower peak of retries due. (Retries started can still burst: a due
 * retry is promoted behind the first attempts still waiting, FIFO, so early retries queue up and
 * start together once that backlog is gone.)
 *
 * 6c, the same storm (no jitter) under a retry budget (src/retry-budget.ts): retries over budget
 * are deferred, not dropped, so the retries due per 100 ms stay under the budget's bound
 * (`(100 + window / 10) / interval + 1`, interval = window / allowed, allowed = ratio × jobs +
 * minPerSecond × window) and every job still completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { Queue } from '../../src/queue.js';
import type { RetryBudget } from '../../src/retry-budget.js';
import type { Jitter } from '../../src/types.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniquePrefix } from '../helpers/redis.js';
import type { FaultJobData } from './shared.js';
import {
  Fleet,
  histogram,
  loadJobs,
  prepareWorkerProcess,
  SCALE,
  sized,
  stats,
  waitFor,
  writeReport,
} from './harness.js';

const JOBS = sized(1_000, 5_000);
const DOWN_MS = sized(3_000, 8_000);
/** Above the time it takes to fail every job once, so that jitter has room to spread the retries. */
const BASE_DELAY_MS = sized(2_000, 5_000);
const MAX_DELAY_MS = sized(8_000, 16_000);
const WORKERS = 2;
const CONCURRENCY = 50;
/** The budget of run 6c: 10 % of first attempts over 10 s, plus a floor per second. */
const BUDGET = { ratio: 0.1, windowMs: 10_000, minPerSecond: sized(20, 50) } as const satisfies RetryBudget;
/** The most retries the budget lets fall due in one 100 ms bucket. */
const BUDGET_BOUND = (() => {
  const allowed = Math.floor(BUDGET.ratio * JOBS + (BUDGET.minPerSecond * BUDGET.windowMs) / 1000);
  const intervalMs = BUDGET.windowMs / allowed;
  return Math.floor((100 + BUDGET.windowMs / 10) / intervalMs) + 1;
})();

interface StormResult {
  readonly jitter: Jitter;
  readonly budget: boolean;
  readonly deferred: number;
  readonly peakDue: number;
  readonly peakStarted: number;
  /** p5–p95 of the first retries' due times: how the first wave is spread. */
  readonly firstWaveSpreadMs: number;
  readonly completed: number;
  readonly lost: number;
  readonly stuck: number;
}

describe.skipIf(!hasRedisServer())(
  'fault: retry storm (all jobs failing at once), without and with jitter',
  () => {
    let server: RedisServer;
    const cleanup: (() => Promise<void>)[] = [];
    const results = new Map<Jitter, StormResult>();
    beforeAll(async () => {
      await prepareWorkerProcess();
      server = await startRedisServer();
    });
    afterAll(async () => {
      for (const c of cleanup) await c();
      await server?.stop();
    });

    async function storm(jitter: Jitter, budget = false): Promise<StormResult> {
      const prefix = uniquePrefix();
      const backend = new RedisBackend({ connection: server.url, prefix, onWarning: () => undefined });
      const name = `storm-${jitter}${budget ? '-budget' : ''}`;
      const queue = new Queue<FaultJobData>(name, {
        backend,
        retry: {
          attempts: 10,
          backoff: {
            type: 'exponential',
            delayMs: BASE_DELAY_MS,
            factor: 2,
            maxDelayMs: MAX_DELAY_MS,
            jitter,
          },
        },
      });
      if (budget) await queue.setRetryBudget(BUDGET);
      const fleet = new Fleet(
        { url: server.url, prefix, queue: name, handler: 'flaky', concurrency: CONCURRENCY, leaseMs: 5000 },
        WORKERS,
        name,
      );
      cleanup.push(async () => {
        await fleet.stopAll();
        await backend.close();
      });
      await fleet.start();

      const started = Date.now();
      const upAt = started + DOWN_MS;
      const ids: string[] = [];
      for (let i = 0; i < JOBS; i += 1000) {
        const n = Math.min(1000, JOBS - i);
        ids.push(
          ...(
            await queue.addBulk(
              Array.from({ length: n }, (_, k) => ({ name: 'call', data: { i: i + k, downUntil: upAt } })),
            )
          ).map((a) => a.id),
        );
      }
      const done = await waitFor(
        async () => {
          const c = await queue.counts();
          return c.completed + c.dead >= JOBS;
        },
        sized(60_000, 180_000),
        200,
      );
      const durationMs = Date.now() - started;
      await fleet.stopAll();

      const jobs = await loadJobs(backend, name, ids);
      let lost = 0;
      let completed = 0;
      let dead = 0;
      let stuck = 0;
      let duplicated = 0;
      const due: number[] = [];
      const firstWave: number[] = [];
      const retryStarts: number[] = [];
      const firstFailures: number[] = [];
      let callsWhileDown = 0;
      let lastFinish = 0;
      let deferred = 0;
      let maxDeferMs = 0;
      for (const id of ids) {
        const j = jobs.get(id);
        if (!j) {
          lost++;
          continue;
        }
        if (j.state === 'completed') completed++;
        else if (j.state === 'dead') dead++;
        else stuck++;
        if (j.attempts.some((a) => a.outcome === 'stalled')) duplicated++;
        for (const a of j.attempts) {
          if (a.decision.action === 'retry') due.push(a.decision.nextDueAt);
          if (a.decision.action === 'retry' && a.decision.budget) {
            deferred++;
            maxDeferMs = Math.max(maxDeferMs, a.decision.budget.deferredMs);
          }
          if (a.decision.action === 'retry' && a.n === 1) firstWave.push(a.decision.nextDueAt);
          if (a.n >= 2) retryStarts.push(a.startedAt);
          if (a.n === 1 && a.outcome === 'failed') firstFailures.push(a.finishedAt);
          if (a.startedAt < upAt) callsWhileDown++;
          lastFinish = Math.max(lastFinish, a.finishedAt);
        }
      }
      const hDue = histogram(due);
      const hStarted = histogram(retryStarts);
      const spread = (xs: number[]): number => {
        const s = [...xs].sort((a, b) => a - b);
        const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
        return q(0.95) - q(0.05);
      };
      const firstWaveSpreadMs = spread(firstWave);
      const firstFailSpread = firstFailures.length
        ? Math.max(...firstFailures) - Math.min(...firstFailures)
        : 0;
      writeReport({
        scenario: budget
          ? 'retry-storm-budget'
          : jitter === 'none'
            ? 'retry-storm-no-jitter'
            : `retry-storm-${jitter}-jitter`,
        title: budget
          ? '6c. retry storm, no jitter, retry budget'
          : jitter === 'none'
            ? '6. retry storm, no jitter'
            : `6b. retry storm, ${jitter} jitter`,
        scale: SCALE,
        accepted: ids.length,
        completed,
        dead,
        lost,
        duplicated,
        stuck,
        recoveryMs: null,
        durationMs,
        notes:
          `${firstFailures.length} jobs failed within ${firstFailSpread} ms; peak retries due ${hDue.peak} / 100 ms, started ${hStarted.peak} / 100 ms; ` +
          (budget
            ? `budget ${BUDGET.ratio * 100} % of first attempts over ${BUDGET.windowMs / 1000} s + ${BUDGET.minPerSecond}/s (bound ${BUDGET_BOUND} / 100 ms): ${deferred} of ${due.length} retries deferred, up to ${maxDeferMs} ms; `
            : '') +
          `first retries due over ${firstWaveSpreadMs} ms (p5–p95); ${callsWhileDown} calls while the dependency was down (${DOWN_MS} ms); drained ${Math.max(0, lastFinish - upAt)} ms after it came back`,
        details: {
          jitter,
          ...(budget ? { budget: BUDGET, boundPer100ms: BUDGET_BOUND, deferred, maxDeferMs } : {}),
          policy: {
            attempts: 10,
            backoff: {
              type: 'exponential',
              delayMs: BASE_DELAY_MS,
              factor: 2,
              maxDelayMs: MAX_DELAY_MS,
              jitter,
            },
          },
          downMs: DOWN_MS,
          workers: WORKERS,
          concurrency: CONCURRENCY,
          retries: due.length,
          peakRetriesDuePer100ms: hDue.peak,
          peakRetriesStartedPer100ms: hStarted.peak,
          firstRetriesDueSpreadP5toP95Ms: firstWaveSpreadMs,
          firstFailureSpreadMs: firstFailSpread,
          callsWhileDependencyDown: callsWhileDown,
          drainedAfterRecoveryMs: Math.max(0, lastFinish - upAt),
          attemptsPerJob: stats([...jobs.values()].map((j) => j?.attempts.length ?? 0)),
          retriesDueHistogram: hDue.buckets,
          retriesStartedHistogram: hStarted.buckets,
          finishedInTime: done,
        },
      });
      return {
        jitter,
        budget,
        deferred,
        peakDue: hDue.peak,
        peakStarted: hStarted.peak,
        firstWaveSpreadMs,
        completed,
        lost,
        stuck,
      };
    }

    it.each(['none', 'full'] as const)(
      `${JOBS} jobs failing at once, jitter %s: every job completes once the dependency is back`,
      async (jitter) => {
        const r = await storm(jitter);
        results.set(jitter, r);
        expect(r.lost).toBe(0);
        expect(r.stuck).toBe(0);
        expect(r.completed).toBe(JOBS);
      },
    );

    it(`${JOBS} jobs failing at once under a retry budget: retries due per 100 ms within the budget's bound, none lost`, async () => {
      const r = await storm('none', true);
      expect(r.lost).toBe(0);
      expect(r.stuck).toBe(0);
      expect(r.completed).toBe(JOBS);
      expect(r.deferred).toBeGreaterThan(0);
      expect(r.peakDue).toBeLessThanOrEqual(BUDGET_BOUND);
    });

    it('with jitter the retries are spread: a markedly lower peak retry rate', () => {
      const none = results.get('none');
      const full = results.get('full');
      expect(none && full).toBeTruthy();
      if (!none || !full) return;
      // The rate the policy asks of the dependency (retries due per 100 ms).
      expect(full.peakDue).toBeLessThanOrEqual(0.6 * none.peakDue);
      expect(full.firstWaveSpreadMs).toBeGreaterThan(2 * none.firstWaveSpreadMs);
    });
  },
);
