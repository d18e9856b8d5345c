import { describe, expect, it } from 'vitest';

import type { Job } from '../../src/types.js';
import type { Harness } from './context.js';
import { waitUntil } from './context.js';

/** Retry budgets enforced by the finish transition (Lua on Redis, the TypeScript twin on memory). */
export function retryBudgetCases(h: Harness): void {
  describe('retry budgets', () => {
    it("dead-letters the retries over budget with reason budget ('dead'); none is lost", async () => {
      const q = h.queue({ retry: { attempts: 2, backoff: { type: 'immediate' } } });
      // 10 per 10 s, 1 s apart, 1 s of burst: the first two retry at once, the rest is over budget.
      await q.setRetryBudget({ ratio: 0, windowMs: 10_000, minPerSecond: 1, onExhausted: 'dead' });
      await q.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'storm', data: i })));
      h.worker(
        q,
        () => {
          throw new Error('upstream down');
        },
        { concurrency: 30 },
      );
      await waitUntil(async () => (await q.counts()).dead === 30, 'every job dead');
      const dead = await q.dlq.list({}, { limit: 100 });
      const reasons = dead.map((d) => d.reason);
      expect(
        reasons.filter((r) => r === 'budget').length + reasons.filter((r) => r === 'exhausted').length,
      ).toBe(30);
      expect(reasons.filter((r) => r === 'budget').length).toBeGreaterThanOrEqual(25);
      const one = await q.getJob(dead.find((d) => d.reason === 'budget')!.id);
      expect(one?.attempts).toHaveLength(1);
      expect(one?.attempts[0]?.decision).toMatchObject({ action: 'dead', reason: 'budget' });
      expect(one?.attempts[0]?.decision.action === 'dead' && one.attempts[0].decision.explanation).toMatch(
        /^retry budget: 0 % of first attempts over 10 s \+ 1\/s \(allows 10 retries for \d+ first attempts\) used up; dead-lettered \(onExhausted: dead\)$/,
      );
      const a = await q.analytics({ window: '10m' });
      expect(a.deadReasons.find((d) => d.reason === 'budget')?.count).toBe(
        reasons.filter((r) => r === 'budget').length,
      );
    });

    it('defers a retry over budget, recording the deferral in its decision', async () => {
      const q = h.queue({ retry: { attempts: 2, backoff: { type: 'immediate' } } });
      // 20 per 10 s, 500 ms apart, 1 s of burst: the 4th retry at once waits about 500 ms.
      await q.setRetryBudget({ ratio: 0, windowMs: 10_000, minPerSecond: 2 });
      await q.addBulk(Array.from({ length: 4 }, (_, i) => ({ name: 'n', data: i })));
      h.worker(
        q,
        (job) => {
          if (job.attempt === 1) throw new Error('flaky');
          return null;
        },
        { concurrency: 4 },
      );
      await waitUntil(async () => (await q.counts()).completed === 4, 'all succeeded', 8000);
      const jobs = await q.getJobs('completed', { limit: 10 });
      const deferred = jobs
        .map((j) => j.attempts[0]!.decision)
        .filter((d) => d.action === 'retry' && d.budget);
      expect(deferred.length).toBeGreaterThanOrEqual(1);
      const d = deferred[0]!;
      expect(d.action === 'retry' && d.explanation).toMatch(
        /; retry budget: 0 % of first attempts over 10 s \+ 2\/s .* deferred \d+ ms$/,
      );
      expect(d.action === 'retry' && d.budget!.deferredMs).toBeGreaterThan(0);
      expect(d.action === 'retry' && d.delayMs).toBe(d.action === 'retry' ? d.budget!.deferredMs : NaN);
      expect((await q.getRetryBudgets())[0]).toMatchObject({ name: null, ratio: 0, minPerSecond: 2 });
    });

    it('explain says a deferred retry waits for the retry budget, from its recorded decision', async () => {
      const q = h.queue({ retry: { attempts: 2, backoff: { type: 'immediate' } } });
      // 1 retry a second, none earned by first attempts: of 3 immediate retries, the later ones wait.
      await q.setRetryBudget({ ratio: 0, windowMs: 10_000, minPerSecond: 1 });
      const ids = (await q.addBulk(Array.from({ length: 3 }, (_, i) => ({ name: 'n', data: i })))).map(
        (a) => a.id,
      );
      const w = h.worker(
        q,
        (job) => {
          if (job.attempt === 1) throw new Error('flaky');
          return null;
        },
        { concurrency: 3 },
      );
      const deferred = await waitUntil(async (): Promise<Job | undefined> => {
        for (const id of ids) {
          const j = await q.getJob(id);
          const d = j?.attempts[0]?.decision;
          if (j?.state === 'scheduled' && d?.action === 'retry' && d.budget && d.budget.deferredMs > 300) {
            return j;
          }
        }
        return undefined;
      }, 'a retry deferred by the budget');
      if (!deferred) throw new Error('unreachable: waitUntil returns a value');
      const e = await q.explain(deferred.id);
      const hold = e.holds.find((x) => x.kind === 'retry-budget');
      const d = deferred.attempts[0]!.decision;
      expect(hold).toMatchObject({
        kind: 'retry-budget',
        until: deferred.dueAt,
        deferredMs: d.action === 'retry' ? d.budget!.deferredMs : NaN,
      });
      expect(hold!.text).toMatch(
        /^deferred .+ by the queue's retry budget: \d+ retr(y|ies) allowed for \d+ first attempts? in its window$/,
      );
      await w.close();
    });
  });
}
