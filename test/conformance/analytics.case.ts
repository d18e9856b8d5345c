import { describe, expect, it } from 'vitest';

import type { FinishRequest } from '../../src/backend.js';
import { PermanentError } from '../../src/errors.js';
import type { Queue } from '../../src/queue.js';
import { ROLLUP_MAX_KEYS, ROLLUP_OTHER } from '../../src/rollup.js';
import { POISON_FINGERPRINT, POISON_LABEL } from '../../src/transitions.js';
import { finishOnly } from '../helpers/finish.js';
import type { Harness } from './context.js';
import { sleep, waitUntil } from './context.js';

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
interface Failure {
  readonly errorClass: string;
  readonly rule: string;
  readonly fingerprint: string;
  readonly label: string;
}
/** One attempt through the port: succeed, fail and retry at once, fail and die, or stall. */
type Step = 'ok' | 'stall' | { readonly fail: Failure; readonly dead?: 'exhausted' | 'permanent' };

const W = 'analytics-worker';

export function analyticsCases(h: Harness): void {
  /** Adds one job and runs it through its steps alone (claim, then finish or let the lease expire). */
  async function runJob(
    q: Queue,
    name: string,
    steps: readonly Step[],
    maxStalls = 5,
    /** A job already waiting (replayed) instead of a new one. */
    existing?: string,
  ): Promise<string> {
    const id = existing ?? (await q.add(name, null, { maxStalls })).id;
    for (const s of steps) {
      const leaseMs = s === 'stall' ? 40 : 5000;
      const { jobs } = await h.backend.claim(q.name, { workerId: W, leaseMs, max: 1, exclusiveOk: true });
      expect(jobs.map((j) => j.id)).toEqual([id]);
      const attempt = jobs[0]!.attempt;
      if (s === 'stall') {
        await sleep(70);
        expect(await h.backend.recoverStalled(q.name)).toBe(1);
        continue;
      }
      const base = { id, attempt, workerId: W };
      const req: FinishRequest =
        s === 'ok'
          ? { ...base, outcome: 'succeeded', result: 'null', decision: { action: 'done' } }
          : {
              ...base,
              outcome: 'failed',
              error: { name: 'Error', message: 'boom' },
              errorClass: s.fail.errorClass as 'temporary',
              rule: s.fail.rule,
              fingerprint: s.fail.fingerprint,
              fingerprintLabel: s.fail.label,
              decision: s.dead
                ? { action: 'dead', reason: s.dead, explanation: 'dead' }
                : {
                    action: 'retry',
                    delayMs: 0,
                    source: 'policy',
                    explanation: 'at once',
                    detail: { strategy: 'immediate' },
                  },
            };
      const [r] = await finishOnly(h.backend, q.name, [req]);
      expect(r?.ok).toBe(true);
    }
    return id;
  }

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
        stalled: 0,
        succeeded: 8,
        dead: 2,
        cancelled: 0,
        retries: 4,
        wastedAttempts: 2,
        deadLetterRate: 0.2,
      });
      expect(r.attempts).toEqual([
        { n: 1, attempts: 10, failed: 4, stalled: 0, succeeded: 6, dead: 1, successRate: 0.6 },
        { n: 2, attempts: 3, failed: 1, stalled: 0, succeeded: 2, dead: 0, successRate: 2 / 3 },
        { n: 3, attempts: 1, failed: 1, stalled: 0, succeeded: 0, dead: 1, successRate: 0 },
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
      const temp = {
        failed: 5,
        dead: 1,
        next: 4,
        nextSucceeded: 2,
        nextSuccessRate: 0.5,
        recovered: 2,
        lost: 1,
        jobs: null,
        jobAttempts: null,
      };
      const perm = {
        failed: 1,
        dead: 1,
        next: 0,
        nextSucceeded: 0,
        nextSuccessRate: null,
        recovered: 0,
        lost: 1,
        jobs: null,
        jobAttempts: null,
      };
      expect(r.byErrorClass).toEqual([
        { key: 'temporary', label: null, ...temp },
        { key: 'permanent', label: null, ...perm },
      ]);
      expect(r.byRule).toEqual([
        { key: 'code:ECONNRESET', label: null, ...temp },
        { key: 'thrown:PermanentError', label: null, ...perm },
      ]);
      expect(r.byFingerprint.map(({ key: _k, label: _l, ...rest }) => rest)).toEqual([temp, perm]);
      expect(r.cancels).toEqual([]);
      expect(r.byFingerprint[0]?.label).toMatch(/connection reset/);
      expect(r.byFingerprint[1]?.label).toMatch(/bad address/);
      expect(r.suggestion).toEqual({
        attempts: 2,
        reason:
          '100% of the jobs that ever succeed do so by attempt 2; attempt 3 succeeded 0% of the time (0 jobs) and cost 1 attempt',
      });
      const byName = await q.analytics({ window: '10m', by: 'name' });
      const none = { next: null, nextSucceeded: null, nextSuccessRate: null, recovered: null, lost: null };
      expect(byName.groups).toEqual([
        { key: 'email', label: null, attempts: 13, failed: 5, succeeded: 8, dead: 1, cancelled: 0, ...none },
        { key: 'sms', label: null, attempts: 1, failed: 1, succeeded: 0, dead: 1, cancelled: 0, ...none },
      ]);
      expect((await q.analytics({ window: '10m', name: 'sms' })).totals.attempts).toBe(1);
      // The hour bucket holds the same (a 3 h window reads hour buckets).
      const hours = await q.analytics({ window: '3h' });
      expect(hours.window.resolution).toBe('hour');
      expect(hours.attempts).toEqual(r.attempts);
      expect(hours.byFingerprint).toEqual(r.byFingerprint);
    });

    it('writes no rollup while they are off', async () => {
      const q = h.queue();
      await q.setRollups(false);
      await q.add('a', null);
      h.worker(q, () => null);
      await waitUntil(async () => (await q.counts()).completed === 1, 'done');
      expect((await q.analytics()).totals.attempts).toBe(0);
    });

    it('counts stall deaths as dead letters, stalls apart, and cancels apart', async () => {
      const q = h.queue();
      const reset: Failure = {
        errorClass: 'temporary',
        rule: 'code:ECONNRESET',
        fingerprint: 'f1',
        label: 'L1',
      };
      // A: fails, stalls, stalls again: poison. B: stalls, then succeeds. C cancelled waiting, D active.
      await runJob(q, 'email', [{ fail: reset }, 'stall', 'stall'], 2);
      await runJob(q, 'email', ['stall', 'ok'], 2);
      const c = await q.add('sms', null);
      expect((await h.backend.cancel(q.name, c.id, 'test', undefined)).ok).toBe(true);
      const d = await q.add('sms', null);
      await h.backend.claim(q.name, { workerId: W, leaseMs: 5000, max: 1, exclusiveOk: true });
      expect((await h.backend.cancel(q.name, d.id, 'test', 'changed my mind')).ok).toBe(true);

      const r = await q.analytics({ window: '10m' });
      expect(r.totals).toEqual({
        attempts: 5,
        failed: 1,
        stalled: 3,
        succeeded: 1,
        dead: 1,
        cancelled: 2,
        retries: 3,
        wastedAttempts: 2,
        deadLetterRate: 0.5,
      });
      expect(r.attempts).toEqual([
        { n: 1, attempts: 2, failed: 1, stalled: 1, succeeded: 0, dead: 0, successRate: 0 },
        { n: 2, attempts: 2, failed: 0, stalled: 1, succeeded: 1, dead: 0, successRate: 0.5 },
        { n: 3, attempts: 1, failed: 0, stalled: 1, succeeded: 0, dead: 1, successRate: 0 },
      ]);
      expect(r.deadReasons).toEqual([{ reason: 'poison', count: 1 }]);
      expect(r.cancels).toEqual([
        { state: 'active', count: 1 },
        { state: 'waiting', count: 1 },
      ]);
      const row = (
        key: string,
        label: string | null,
        [failed, dead, next, nextSucceeded, recovered, lost]: number[],
      ): object => ({
        key,
        label,
        failed,
        dead,
        next,
        nextSucceeded,
        nextSuccessRate: next! > 0 ? nextSucceeded! / next! : null,
        recovered,
        lost,
        jobs: null,
        jobAttempts: null,
      });
      expect(r.byErrorClass).toEqual([
        row('temporary', null, [3, 0, 3, 1, 1, 1]),
        row('poison', null, [1, 1, 0, 0, 0, 1]),
      ]);
      expect(r.byRule).toEqual([
        row('stall', null, [3, 1, 2, 1, 1, 1]),
        row('code:ECONNRESET', null, [1, 0, 1, 0, 0, 1]),
      ]);
      expect(r.byFingerprint).toEqual([
        row(POISON_FINGERPRINT, POISON_LABEL, [1, 1, 0, 0, 0, 1]),
        row('f1', 'L1', [1, 0, 1, 0, 0, 1]),
      ]);
      const byName = await q.analytics({ window: '10m', by: 'name' });
      expect(byName.groups?.map((g) => [g.key, g.dead, g.cancelled])).toEqual([
        ['email', 1, 0],
        ['sms', 0, 2],
      ]);
    });

    it('gives the chance that the next attempt succeeds after each error, and jobs recovered or lost', async () => {
      const q = h.queue();
      const reset: Failure = {
        errorClass: 'temporary',
        rule: 'code:ECONNRESET',
        fingerprint: 'fe',
        label: 'Le',
      };
      const invalid: Failure = {
        errorClass: 'temporary',
        rule: 'code:VALIDATION',
        fingerprint: 'fv',
        label: 'Lv',
      };
      for (let i = 0; i < 3; i++) await runJob(q, 'call', [{ fail: reset }, 'ok']);
      await runJob(q, 'call', [{ fail: reset }, { fail: reset }, 'ok']);
      for (let i = 0; i < 2; i++) {
        await runJob(q, 'call', [{ fail: invalid }, { fail: invalid, dead: 'exhausted' }]);
      }
      const r = await q.analytics({ window: '10m', by: 'rule' });
      expect(r.byRule).toEqual([
        {
          key: 'code:ECONNRESET',
          label: null,
          failed: 5,
          dead: 0,
          next: 5,
          nextSucceeded: 4,
          nextSuccessRate: 0.8,
          recovered: 4,
          lost: 0,
          jobs: null,
          jobAttempts: null,
        },
        {
          key: 'code:VALIDATION',
          label: null,
          failed: 4,
          dead: 2,
          next: 2,
          nextSucceeded: 0,
          nextSuccessRate: 0,
          recovered: 0,
          lost: 2,
          jobs: null,
          jobAttempts: null,
        },
      ]);
      expect(r.groups?.map((g) => [g.key, g.nextSuccessRate, g.attempts])).toEqual([
        ['code:ECONNRESET', 0.8, null],
        ['code:VALIDATION', 0, null],
      ]);
      expect(r.byErrorClass).toEqual([
        {
          key: 'temporary',
          label: null,
          failed: 9,
          dead: 2,
          next: 7,
          nextSucceeded: 4,
          nextSuccessRate: 4 / 7,
          recovered: 4,
          lost: 2,
          jobs: null,
          jobAttempts: null,
        },
      ]);
      expect(r.byFingerprint.map((f) => [f.key, f.label, f.nextSuccessRate])).toEqual([
        ['fe', 'Le', 0.8],
        ['fv', 'Lv', 0],
      ]);
    });

    it('follows a dead job through its replay: the attempt after it and its time to success', async () => {
      const q = h.queue();
      const reset: Failure = {
        errorClass: 'temporary',
        rule: 'code:ECONNRESET',
        fingerprint: 'fr',
        label: 'Lr',
      };
      const id = await runJob(q, 'call', [{ fail: reset }, { fail: reset, dead: 'exhausted' }]);
      await sleep(30);
      await q.dlq.replay(id, { by: 'ops' });
      await runJob(q, 'call', ['ok'], 5, id);
      const r = await q.analytics({ window: '10m', by: 'rule' });
      expect(r.totals).toMatchObject({ attempts: 3, failed: 2, succeeded: 1, dead: 1 });
      // Lost when it died, recovered by the replay; the replayed attempt is the one after its last
      // failure, the one the rollups kept on the dead job.
      expect(r.byRule).toEqual([
        {
          key: 'code:ECONNRESET',
          label: null,
          failed: 2,
          dead: 1,
          next: 2,
          nextSucceeded: 1,
          nextSuccessRate: 0.5,
          recovered: 1,
          lost: 1,
          jobs: null,
          jobAttempts: null,
        },
      ]);
      // Time to success from the first attempt's due time, across the replay.
      expect(r.timeToSuccess.count).toBe(1);
      const slow = r.timeToSuccess.buckets.filter((b) => b.fromMs >= 20).reduce((t, b) => t + b.count, 0);
      expect(slow).toBe(1);
    });

    it(`keeps at most ${ROLLUP_MAX_KEYS} keys of a kind per bucket, the rest under ${ROLLUP_OTHER}`, async () => {
      // All in one minute bucket: not in the last seconds of a minute.
      const left = 60_000 - (Date.now() % 60_000);
      if (left < 10_000) await sleep(left + 200);
      const q = h.queue();
      const n = ROLLUP_MAX_KEYS + 6;
      for (let i = 0; i < n; i++) {
        const fail: Failure = {
          errorClass: 'permanent',
          rule: 'thrown:X',
          fingerprint: `fp${i}`,
          label: `L${i}`,
        };
        await runJob(q, 'bad', [{ fail, dead: 'permanent' }]);
      }
      const r = await q.analytics({ window: '10m' });
      expect(r.byErrorClass.map((b) => [b.key, b.failed, b.dead, b.lost])).toEqual([['permanent', n, n, n]]);
      expect(r.byFingerprint).toHaveLength(ROLLUP_MAX_KEYS + 1);
      expect(r.byFingerprint[0]).toEqual({
        key: ROLLUP_OTHER,
        label: null,
        failed: 6,
        dead: 6,
        next: 0,
        nextSucceeded: 0,
        nextSuccessRate: null,
        recovered: 0,
        lost: 6,
        jobs: null,
        jobAttempts: null,
      });
      expect(
        r.byFingerprint
          .slice(1)
          .every((b) => b.failed === 1 && b.dead === 1 && b.label === `L${b.key.slice(2)}`),
      ).toBe(true);
      expect(r.totals.dead).toBe(n);
    });
  });
}
