import { describe, expect, it } from 'vitest';

import type { Harness } from './context.js';
import { waitForState } from './context.js';

const beat = { host: 'h', pid: 1, queues: ['q'], concurrency: 1, inFlight: 0, version: '0.1.0' };

/** queue.explain and the waiting-ahead transition it reads, the same on every backend. */
export function explainCases(h: Harness): void {
  describe('explain', () => {
    it('counts the jobs a claim takes first: strict priorities and FIFO', async () => {
      const q = h.queue();
      await q.addBulk(
        [3, 0, 3, -1, 7, 0, 3].map((priority, i) => ({ name: `j${i}`, data: null, options: { priority } })),
      );
      const ids = (await q.getJobs('waiting', { limit: 10 })).map((j) => [j.name, j.id] as const);
      const byName = new Map(ids);
      const ahead = async (name: string) => h.backend.waitingAhead(q.name, byName.get(name)!, 10_000);
      expect(await ahead('j4')).toEqual({ priority: 7, same: 0, higher: 0, aged: 0, capped: false });
      expect(await ahead('j6')).toEqual({ priority: 3, same: 2, higher: 1, aged: 0, capped: false });
      expect(await ahead('j5')).toEqual({ priority: 0, same: 1, higher: 4, aged: 0, capped: false });
      expect(await ahead('j3')).toEqual({ priority: -1, same: 0, higher: 6, aged: 0, capped: false });
      expect(await h.backend.waitingAhead(q.name, byName.get('j3')!, 4)).toMatchObject({ capped: true });
      expect(await h.backend.waitingAhead(q.name, 'missing', 10)).toBeNull();
      const e = await q.explain(byName.get('j3')!);
      expect(e.holds.map((x) => x.kind)).toEqual(['priority', 'no-worker']);
      expect(e.holds[0]).toMatchObject({ ahead: 6, higher: 6, same: 0 });
    });

    it('with aging, an older job of lower priority is counted ahead, as the claim order says', async () => {
      const q = h.queue();
      await q.setPriorityAging(100);
      const { id: low } = await q.add('low', null, { priority: 0 });
      await new Promise((r) => setTimeout(r, 450));
      const { id: mid } = await q.add('mid', null, { priority: 2 });
      // low: rank due0; mid: rank due0 + ~450 - 200 > due0: low goes first.
      expect(await h.backend.waitingAhead(q.name, mid, 100)).toEqual({
        priority: 2,
        same: 0,
        higher: 0,
        aged: 1,
        capped: false,
      });
      expect(await h.backend.waitingAhead(q.name, low, 100)).toMatchObject({ aged: 0, higher: 0, same: 0 });
      const { jobs } = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 1000, max: 2 });
      expect(jobs.map((j) => j.id)).toEqual([low, mid]);
    });

    it('a retry due later, a paused queue and the last live worker, from recorded state', async () => {
      const q = h.queue({ retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 60_000 } } });
      const w = h.worker(q, () => {
        throw new Error('down');
      });
      const { id } = await q.add('call', null);
      await waitForState(q, id, 'scheduled');
      await w.close();
      await q.pause();
      const e = await q.explain(id);
      expect(e.state).toBe('scheduled');
      expect(e.holds.map((x) => x.kind)).toEqual(['due', 'paused', 'no-worker']);
      expect(e.holds[0]).toMatchObject({
        cause: 'retry',
        attempt: 2,
        retry: 1,
        strategy: 'fixed',
        source: 'policy',
      });
      expect(e.holds[0]!.text).toMatch(
        /^due in (59(\.\d)? s|1 min) \(.+\): retry 1 \(attempt 2\), fixed: 1 min$/,
      );
      const nw = e.holds[2] as { lastSeenAt: number; forMs: number };
      expect(nw.lastSeenAt).toBeGreaterThan(0);
      expect(nw.forMs).toBeGreaterThanOrEqual(0);
      await h.backend.workerHeartbeat(q.name, { id: 'live', ...beat }, 60_000);
      await q.resume();
      expect((await q.explain(id)).holds.map((x) => x.kind)).toEqual(['due']);
    });
  });
}
