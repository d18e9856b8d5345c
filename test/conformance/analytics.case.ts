import { describe, expect, it } from 'vitest';

import { PermanentError } from '../../src/errors.js';
import type { Harness } from './context.js';
import { waitUntil } from './context.js';

interface Plan {
  /** Fail (ECONNRESET, temporary) this many times, then succeed; -1: always fail. */
  readonly fails: number;
  readonly permanent?: boolean;
}

class Reset extends Error {
  readonly code = 'ECONNRESET';
}

/**
 * The history of test/memory/analytics.test.ts, run by a worker: the same figures from the rollups
 * the finish transition keeps (Lua on Redis, the TypeScript twin on memory).
 */
export function analyticsCases(h: Harness): void {
  describe('retry analytics', () => {
    it('reports attempts, failures, dead letters and the suggestion from the rollups', async () => {
      const q = h.queue<Plan>({ retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 20 } } });
      const plans: [string, Plan][] = [
        ...Array.from({ length: 6 }, (): [string, Plan] => ['email', { fails: 0 }]),
        ['email', { fails: 1 }],
        ['email', { fails: 1 }],
        ['email', { fails: -1 }],
        ['sms', { fails: -1, permanent: true }],
      ];
      await q.addBulk(plans.map(([name, data]) => ({ name, data })));
      h.worker(
        q,
        (job) => {
          const { fails, permanent } = job.data;
          if (permanent) throw new PermanentError('bad address');
          if (fails < 0 || job.attempt <= fails) throw new Reset('connection reset');
          return null;
        },
        { concurrency: 4 },
      );
      await waitUntil(async () => {
        const c = await q.counts();
        return c.completed + c.dead === plans.length;
      }, 'every job finished');

      const r = await q.analytics({ window: '10m' });
      expect(r.window.resolution).toBe('minute');
      expect(r.totals).toEqual({
        attempts: 14,
        failed: 6,
        succeeded: 8,
        dead: 2,
        retries: 4,
        wastedAttempts: 2,
        deadLetterRate: 0.2,
      });
      expect(r.attempts).toEqual([
        { n: 1, attempts: 10, failed: 4, succeeded: 6, dead: 1, successRate: 0.6 },
        { n: 2, attempts: 3, failed: 1, succeeded: 2, dead: 0, successRate: 2 / 3 },
        { n: 3, attempts: 1, failed: 1, succeeded: 0, dead: 1, successRate: 0 },
      ]);
      expect(r.timeToSuccess.count).toBe(8);
      expect(r.drift.count).toBe(14);
      // The two retried successes waited their 20 ms delay at least.
      const slow = r.timeToSuccess.buckets.filter((b) => b.fromMs >= 20).reduce((t, b) => t + b.count, 0);
      expect(slow).toBeGreaterThanOrEqual(2);
      expect(r.deadReasons).toEqual([
        { reason: 'exhausted', count: 1 },
        { reason: 'permanent', count: 1 },
      ]);
      expect(r.byErrorClass).toEqual([
        { key: 'temporary', label: null, failed: 5, dead: 1, jobs: null, jobAttempts: null, recovered: null },
        { key: 'permanent', label: null, failed: 1, dead: 1, jobs: null, jobAttempts: null, recovered: null },
      ]);
      expect(r.byRule).toEqual([
        {
          key: 'code:ECONNRESET',
          label: null,
          failed: 5,
          dead: 1,
          jobs: null,
          jobAttempts: null,
          recovered: null,
        },
        {
          key: 'thrown:PermanentError',
          label: null,
          failed: 1,
          dead: 1,
          jobs: null,
          jobAttempts: null,
          recovered: null,
        },
      ]);
      expect(r.byFingerprint.map((f) => [f.failed, f.dead])).toEqual([
        [5, 1],
        [1, 1],
      ]);
      expect(r.byFingerprint[0]?.label).toMatch(/connection reset/);
      expect(r.byFingerprint[1]?.label).toMatch(/bad address/);
      expect(r.suggestion).toEqual({
        attempts: 2,
        reason:
          '100% of the jobs that ever succeed do so by attempt 2; attempt 3 succeeded 0% of the time (0 jobs) and cost 1 attempt',
      });
      const byName = await q.analytics({ window: '10m', by: 'name' });
      expect(byName.groups).toEqual([
        { key: 'email', label: null, attempts: 13, failed: 5, succeeded: 8, dead: 1 },
        { key: 'sms', label: null, attempts: 1, failed: 1, succeeded: 0, dead: 1 },
      ]);
      expect((await q.analytics({ window: '10m', name: 'sms' })).totals.attempts).toBe(1);
      // The hour bucket holds the same (a 3 h window reads hour buckets).
      const hours = await q.analytics({ window: '3h' });
      expect(hours.window.resolution).toBe('hour');
      expect(hours.attempts).toEqual(r.attempts);
    });

    it('writes no rollup while they are off', async () => {
      const q = h.queue();
      await q.setRollups(false);
      await q.add('a', null);
      h.worker(q, () => null);
      await waitUntil(async () => (await q.counts()).completed === 1, 'done');
      expect((await q.analytics()).totals.attempts).toBe(0);
    });
  });
}
