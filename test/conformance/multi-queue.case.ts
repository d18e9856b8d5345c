import { describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { ValidationError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import { Worker, type JobEventBase } from '../../src/worker.js';
import type { Harness } from './context.js';
import { sleep, waitForState, waitUntil } from './context.js';

/** One worker consuming several queues, with weights (`new Worker([{ queue, weight }, …])`). */
export function multiQueueCases(h: Harness): void {
  describe('a worker on several queues', () => {
    it("runs each queue's jobs as that queue's: job.queue, attempts, events", async () => {
      const a = h.queue();
      const b = h.queue();
      const seen: string[] = [];
      const events: JobEventBase[] = [];
      const w = h.worker([a, { queue: b, weight: 2 }], (job) => {
        seen.push(`${job.queue}/${job.name}`);
        return job.queue;
      });
      w.on('completed', (e) => events.push(e));
      expect(w.queues.map((q) => [q.queue.name, q.weight])).toEqual([
        [a.name, 1],
        [b.name, 2],
      ]);
      expect(w.queue).toBe(a);
      const ja = await a.add('on-a', null);
      const jb = await b.add('on-b', null);
      expect((await waitForState(a, ja.id, 'completed')).result).toBe(a.name);
      expect((await waitForState(b, jb.id, 'completed')).result).toBe(b.name);
      expect(seen.sort()).toEqual([`${a.name}/on-a`, `${b.name}/on-b`].sort());
      await waitUntil(() => events.length === 2, 'two completed events');
      expect(events.map((e) => `${e.queue}/${e.id}`).sort()).toEqual(
        [`${a.name}/${ja.id}`, `${b.name}/${jb.id}`].sort(),
      );
    });

    it('with every queue full, the jobs started follow the weights (3:1)', async () => {
      const a = h.queue();
      const b = h.queue();
      const n = 200;
      await a.addBulk(Array.from({ length: n }, () => ({ name: 'a', data: null })));
      await b.addBulk(Array.from({ length: n }, () => ({ name: 'b', data: null })));
      const order: string[] = [];
      h.worker(
        [
          { queue: a, weight: 3 },
          { queue: b, weight: 1 },
        ],
        async (job) => {
          order.push(job.queue);
          await sleep(1);
        },
        { concurrency: 4 },
      );
      await waitUntil(() => order.length >= 2 * n, 'every job started', 20_000);
      // While both queues had work (the first 160 starts: a has 200), a got 3 of every 4.
      const first = order.slice(0, 160);
      const fromA = first.filter((q) => q === a.name).length;
      expect(fromA).toBeGreaterThanOrEqual(114);
      expect(fromA).toBeLessThanOrEqual(126);
      // And b was not held back until a was done: it ran all along (20 of the first 80, give or
      // take the lumps of batched claims).
      expect(order.slice(0, 80).filter((q) => q === b.name).length).toBeGreaterThanOrEqual(10);
    });

    it('an empty queue leaves its share to the others: the worker runs at full concurrency', async () => {
      const a = h.queue();
      const empty = h.queue();
      await a.addBulk(Array.from({ length: 12 }, () => ({ name: 'a', data: null })));
      let running = 0;
      let most = 0;
      let done = 0;
      h.worker(
        [
          { queue: empty, weight: 10 },
          { queue: a, weight: 1 },
        ],
        async () => {
          most = Math.max(most, ++running);
          await sleep(60);
          running--;
          done++;
        },
        { concurrency: 4 },
      );
      await waitUntil(() => done === 12, 'all 12 jobs done', 10_000);
      expect(most).toBe(4);
    });

    it('a queue that was empty is served within moments while another keeps the worker busy', async () => {
      const busy = h.queue();
      const quiet = h.queue();
      await busy.addBulk(Array.from({ length: 300 }, () => ({ name: 'busy', data: null })));
      const started = new Map<string, number>();
      h.worker(
        [busy, quiet],
        async (job) => {
          if (job.queue === quiet.name) started.set(job.id, Date.now());
          else await sleep(10);
        },
        // Without the watch, quiet would wait for this.
        { concurrency: 2, idleCheckMs: 20_000 },
      );
      await sleep(200); // quiet is found empty and left to the watcher
      const t0 = Date.now();
      const { id } = await quiet.add('urgent', null);
      await waitForState(quiet, id, 'completed', 5000);
      // Well under the 20 s idle check it would otherwise wait for (3 s: a loaded machine's slack).
      expect((started.get(id) ?? Infinity) - t0).toBeLessThan(3000);
      expect((await busy.counts()).waiting).toBeGreaterThan(0); // busy still had work throughout
    });

    it('an idle worker wakes for a job added to any of its queues, and for a delayed one when due', async () => {
      const qs = [h.queue(), h.queue(), h.queue()];
      const ran: string[] = [];
      h.worker(qs, (job) => void ran.push(`${job.queue}/${job.id}`), { idleCheckMs: 20_000 });
      await sleep(150); // all three found empty: the worker blocks on all of them
      for (const q of [qs[2], qs[0], qs[1]] as Queue[]) {
        const t0 = Date.now();
        const { id } = await q.add('x', null);
        await waitForState(q, id, 'completed', 5000);
        expect(Date.now() - t0).toBeLessThan(3000); // the idle check is 20 s
      }
      const t0 = Date.now();
      const q1 = qs[1] as Queue;
      const { id } = await q1.add('later', null, { delay: 300 });
      const job = await waitForState(q1, id, 'completed', 5000);
      const start = job.attempts[0]?.startedAt ?? 0;
      expect(start - job.dueAt).toBeLessThan(1500);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      expect(ran).toHaveLength(4);
    });

    it('a paused queue is skipped while the others run; it runs again once resumed', async () => {
      const a = h.queue();
      const b = h.queue();
      await b.pause();
      const ran: string[] = [];
      h.worker([a, b], (job) => void ran.push(job.queue), { idleCheckMs: 20_000 });
      const jb = await b.add('held', null);
      const ja = await a.add('free', null);
      await waitForState(a, ja.id, 'completed');
      await sleep(100);
      expect((await b.getJob(jb.id))?.state).toBe('waiting');
      await b.resume();
      await waitForState(b, jb.id, 'completed', 5000);
      expect(ran).toEqual([a.name, b.name]);
    });

    it('refuses an empty list, a queue twice, a bad weight, queues on different backends', () => {
      const a = h.queue();
      const other = new Queue('elsewhere', { backend: new MemoryBackend() });
      const cases: [unknown, string, RegExp][] = [
        [[], 'queues', /at least one queue/],
        [[a, a], 'queues[1]', /not already listed/],
        [[{ queue: a, weight: 0 }], 'queues[0].weight', /whole number between 1 and 1000/],
        [[{ queue: a, weight: 1.5 }], 'queues[0].weight', /whole number between 1 and 1000/],
        [[{ queue: a, wieght: 2 }], 'queues[0].wieght', /not a known option/],
        [[a, { queue: other }], 'queues[1]', /same backend as queues\[0\]/],
        [['a'], 'queues[0]', /a Queue or \{ queue: Queue, weight\?: number \}/],
      ];
      for (const [queues, field, rule] of cases) {
        let caught: unknown;
        try {
          new Worker(queues as Queue[], () => undefined, { autostart: false });
        } catch (e) {
          caught = e;
        }
        expect(caught, field).toBeInstanceOf(ValidationError);
        expect((caught as ValidationError).field).toBe(field);
        expect((caught as ValidationError).message).toMatch(rule);
      }
    });
  });
}
