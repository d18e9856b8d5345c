import { describe, expect, it } from 'vitest';

import type { FinishDecision } from '../../src/backend.js';
import type { Queue } from '../../src/queue.js';
import { finishOnly } from '../helpers/finish.js';
import { waitUntil, type Harness } from './context.js';

const FIXED = { attempts: 3, backoff: { type: 'fixed', delayMs: 30_000 } } as const;
const JITTER = { attempts: 3, backoff: { type: 'exponential', delayMs: 10_000, jitter: 'full' } } as const;

export function radarCases(h: Harness): void {
  /** Claims every waiting job of the queue and fails each with a retry after the delay `delayOf` gives. */
  async function failAll(q: Queue, delayOf: (name: string, i: number) => number): Promise<void> {
    const { jobs } = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 60_000, max: 100 });
    await finishOnly(
      h.backend,
      q.name,
      jobs.map((j, i) => {
        const delayMs = delayOf(j.name, i);
        const decision: FinishDecision = {
          action: 'retry',
          delayMs,
          source: 'policy',
          explanation: `fixed: ${delayMs} ms`,
          detail: { strategy: 'fixed' },
        };
        return {
          id: j.id,
          attempt: j.attempt,
          workerId: 'w',
          outcome: 'failed' as const,
          error: { name: 'Error', message: 'down', code: 'ECONNRESET' },
          errorClass: 'temporary' as const,
          rule: 'code:ECONNRESET',
          decision,
        };
      }),
    );
  }

  describe('storm radar (scheduledDue)', () => {
    it('reads the scheduled jobs due within the horizon, earliest first, bounded, by the backend clock', async () => {
      const q = h.queue();
      await q.addBulk([
        ...Array.from({ length: 12 }, () => ({ name: 'sync', data: null, options: { retry: FIXED } })),
        ...Array.from({ length: 3 }, () => ({ name: 'charge', data: null, options: { retry: JITTER } })),
      ]);
      await q.add('later', null, { delay: 20_500 }); // a delayed first run, not a retry
      await q.add('far', null, { delay: 600_000 }); // beyond the horizon
      // Twelve synchronised retries 30.5 s out (no jitter), three spread out (with jitter).
      await failAll(q, (name, i) => (name === 'sync' ? 30_500 : 5_500 + i * 1000));

      const w = await h.backend.scheduledDue(q.name, 60_000, 100);
      const now = await h.backend.now();
      expect(w.now).toBeLessThanOrEqual(now);
      expect(w.now).toBeGreaterThan(now - 5000);
      expect(w.more).toBe(false);
      expect(w.entries).toHaveLength(16);
      expect(w.entries.map((e) => e.dueAt)).toEqual([...w.entries.map((e) => e.dueAt)].sort((a, b) => a - b));
      const later = w.entries.find((e) => e.name === 'later');
      expect(later).toMatchObject({ attemptsMade: 0 });
      const sync = w.entries.filter((e) => e.name === 'sync');
      expect(sync).toHaveLength(12);
      expect(sync.every((e) => e.attemptsMade === 1)).toBe(true);
      expect(JSON.parse(sync[0]?.opts ?? '{}')).toMatchObject({
        retry: { maxAttempts: 3, phases: [{ retries: 2, backoff: { type: 'fixed', delayMs: 30_000 } }] },
      });

      const bounded = await h.backend.scheduledDue(q.name, 60_000, 5);
      expect(bounded.entries.map((e) => e.id)).toEqual(w.entries.slice(0, 5).map((e) => e.id));
      expect(bounded.more).toBe(true);

      const r = await q.radar({ horizonMs: 60_000 });
      expect(r).toMatchObject({ read: 16, truncated: false, retries: 15, overdue: 0, firstRuns: 1 });
      expect(r.perSecond).toHaveLength(60);
      expect(r.perSecond[30]).toBe(12);
      expect(r.peak).toEqual({ count: 12, atS: 30 });
      expect(r.burstThreshold).toBe(10);
      expect(r.bursts).toEqual([
        { startS: 30, endS: 31, retries: 12, peakPerSecond: 12, names: [{ name: 'sync', retries: 12 }] },
      ]);
      expect(r.policies.map((p) => [p.name, p.jitter, p.retries])).toEqual([
        ['sync', false, 12],
        ['charge', true, 3],
      ]);
      expect(r.withoutJitter).toEqual(['sync']);
    });
  });
}

export function whatIfCases(h: Harness): void {
  describe('what-if and audit over recorded history', () => {
    it('replays every job under its own policy exactly (jitter by recorded draws), and the audit finds nothing', async () => {
      const q = h.queue<{ fails: number }>();
      const policies = [
        { attempts: 4, backoff: { type: 'exponential', delayMs: 7, jitter: 'full' } },
        { attempts: 4, backoff: { type: 'exponential', delayMs: 7, jitter: 'equal' } },
        { attempts: 5, backoff: { type: 'exponential', delayMs: 3, maxDelayMs: 30, jitter: 'decorrelated' } },
        { attempts: 3, backoff: { type: 'linear', delayMs: 4 } },
      ] as const;
      const jobs = policies.flatMap((retry) =>
        [0, 1, 2, 3, 9].map((fails) => ({ name: 'n', data: { fails }, options: { retry } })),
      );
      await q.addBulk(jobs);
      h.worker(
        q,
        (job) => {
          if (job.attempt <= job.data.fails) throw Object.assign(new Error('down'), { code: 'ECONNRESET' });
          return null;
        },
        { concurrency: 25 },
      );
      await waitUntil(async () => {
        const c = await q.counts();
        return c.completed + c.dead === jobs.length;
      }, 'every job finished');
      const r = await q.whatIf({ seed: 3 });
      expect(r.scope).toMatchObject({ read: jobs.length, replayed: jobs.length });
      expect(r.comparison.alternative.unknown).toBe(0);
      expect(r.comparison.alternative.optimistic).toEqual(r.comparison.recorded);
      expect(r.comparison.recorded.retries).toBeGreaterThan(20);
      const audit = await q.audit({ toleranceMs: 0 });
      expect(audit.checked.verified).toBe(r.comparison.recorded.retries);
      expect(audit.counts).toMatchObject({ delay: 0, decision: 0, due: 0, early: 0, attempts: 0 });
    });
  });
}
