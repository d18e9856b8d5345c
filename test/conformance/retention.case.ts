import { describe, expect, it } from 'vitest';

import type { FinishRequest } from '../../src/backend.js';
import { finishOnly } from '../helpers/finish.js';
import type { Harness } from './context.js';
import { sleep, waitForState, waitUntil } from './context.js';

const opts = JSON.stringify({ retry: { phases: [], maxAttempts: 1 }, timeoutMs: 0, maxStalls: 3 });

/** Retention on time: age rules applied by a sweep, without another job finishing. */
export function retentionCases(h: Harness): void {
  describe('retention sweep', () => {
    /** Completes `n` jobs of a fresh queue in one finish call (one instant, no eviction among them). */
    async function completed(name: string, n: number): Promise<string[]> {
      const b = h.backend;
      const ids = Array.from({ length: n }, (_, i) => `${name}-${i}`);
      await b.add(
        name,
        ids.map((id) => ({ id, name: 'n', data: 'null', opts, maxStalls: 3, delayMs: 0, runAt: undefined })),
      );
      const { jobs } = await b.claim(name, { workerId: 'w1', leaseMs: 5000, max: n });
      const reqs: FinishRequest[] = jobs.map((j) => ({
        id: j.id,
        attempt: j.attempt,
        workerId: 'w1',
        outcome: 'succeeded',
        result: 'null',
        decision: { action: 'done' },
      }));
      await finishOnly(b, name, reqs);
      return ids;
    }

    it('evicts what the age rule no longer keeps, without another finish, counted and published', async () => {
      const q = h.queue();
      await h.backend.setRetention(q.name, { completed: { ageMs: 1000 } });
      const [id] = await completed(q.name, 1);
      expect(await h.backend.sweepRetention(q.name, { intervalMs: 1, max: 1000 })).toEqual({
        ran: true,
        evicted: 0,
      });
      expect(await q.getJob(id!)).not.toBeNull();
      await sleep(1100);
      expect(await h.backend.sweepRetention(q.name, { intervalMs: 1, max: 1000 })).toEqual({
        ran: true,
        evicted: 1,
      });
      expect(await q.getJob(id!)).toBeNull();
      expect(await q.evictions()).toEqual({ completed: 1, dead: 0, cancelled: 0 });
      const evicted = (await h.backend.readEvents(q.name, '0', 100)).filter((e) => e.type === 'evicted');
      expect(evicted.map((e) => [e.jobId, e.fields.state])).toEqual([[id, 'completed']]);
    });

    it('one sweep per queue per interval, whoever asks; at most max evictions each', async () => {
      const q = h.queue();
      await h.backend.setRetention(q.name, { completed: { ageMs: 200 } });
      await completed(q.name, 3);
      await sleep(250);
      expect(await h.backend.sweepRetention(q.name, { intervalMs: 60_000, max: 2 })).toEqual({
        ran: true,
        evicted: 2,
      });
      expect(await h.backend.sweepRetention(q.name, { intervalMs: 1, max: 2 })).toEqual({
        ran: false,
        evicted: 0,
      });
      expect((await q.counts()).completed).toBe(1);
      expect(await q.evictions()).toEqual({ completed: 2, dead: 0, cancelled: 0 });
    });

    it('does nothing to a queue that does not exist', async () => {
      const name = h.queue().name;
      expect(await h.backend.sweepRetention(name, { intervalMs: 1, max: 10 })).toEqual({
        ran: false,
        evicted: 0,
      });
      expect(await h.backend.listQueues()).not.toContain(name);
    });

    it('a live worker sweeps its quiet queue on time', async () => {
      const q = h.queue({ retention: { completed: { ageMs: 300 }, dead: { ageMs: 300 } } });
      h.worker(
        q,
        async (job) => {
          if (job.name === 'bad') throw new Error('no');
          return 'ok';
        },
        { retentionSweepMs: 50 },
      );
      const { id: good } = await q.add('good', null);
      const { id: bad } = await q.add('bad', null, {
        retry: { attempts: 1, backoff: { type: 'immediate' } },
      });
      await waitForState(q, good, 'completed');
      await waitForState(q, bad, 'dead');
      await waitUntil(
        async () => (await q.getJob(good)) === null && (await q.getJob(bad)) === null,
        'both evicted',
        5000,
      );
      expect(await q.evictions()).toEqual({ completed: 1, dead: 1, cancelled: 0 });
    });
  });
}
