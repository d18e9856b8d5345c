import { describe, expect, it } from 'vitest';

import { ValidationError } from '../../src/errors.js';
import { finishOnly } from '../helpers/finish.js';
import type { Harness } from './context.js';
import { sleep, waitForState } from './context.js';

export function dedupCases(h: Harness): void {
  describe('dedup (throttle) and debounce', () => {
    it('folds adds with the same dedup key within the window into the first job, and counts them', async () => {
      const q = h.queue();
      const first = await q.add('sync', { n: 1 }, { dedup: { key: 'user-7', ttlMs: 60_000 } });
      expect(first).toEqual({ id: first.id, created: true, state: 'waiting' });
      const second = await q.add('sync', { n: 2 }, { dedup: { key: 'user-7', ttlMs: 60_000 } });
      const third = await q.add('sync', { n: 3 }, { dedup: { key: 'user-7', ttlMs: 60_000 } });
      expect(second).toEqual({ id: first.id, created: false, state: 'waiting', folded: true });
      expect(third).toEqual({ id: first.id, created: false, state: 'waiting', folded: true });
      const other = await q.add('sync', { n: 4 }, { dedup: { key: 'user-8', ttlMs: 60_000 } });
      expect(other.created).toBe(true);
      expect(other.id).not.toBe(first.id);
      const job = await q.getJob(first.id);
      expect(job?.data).toEqual({ n: 1 }); // a throttle keeps the first add's data
      expect(job?.dedup).toEqual({ mode: 'dedup', key: 'user-7' });
      expect(job?.folded?.count).toBe(2);
      expect(job?.folded?.lastAt).toBeGreaterThanOrEqual(job?.createdAt ?? Infinity);
      expect((await q.getJob(other.id))?.folded).toBeUndefined();
      expect((await q.counts()).waiting).toBe(2);
      const events = (await h.backend.readEvents(q.name, '0', 100)).filter((e) => e.type === 'folded');
      expect(events.map((e) => [e.jobId, e.fields.mode, e.fields.count])).toEqual([
        [first.id, 'dedup', '1'],
        [first.id, 'dedup', '2'],
      ]);
    });

    it('creates a new job once the dedup window is over', async () => {
      const q = h.queue();
      // A window long enough that the add right after one still falls in it on a loaded machine.
      const a = await q.add('t', null, { dedup: { key: 'k', ttlMs: 400 } });
      await sleep(450);
      const b = await q.add('t', null, { dedup: { key: 'k', ttlMs: 400 } });
      expect(b.created).toBe(true);
      expect(b.id).not.toBe(a.id);
      // The new job opened a new window.
      expect(await q.add('t', null, { dedup: { key: 'k', ttlMs: 400 } })).toMatchObject({
        id: b.id,
        folded: true,
      });
    });

    it('a finished job still absorbs adds within its window; a cancelled one does not', async () => {
      const q = h.queue();
      const a = await q.add('t', null, { dedup: { key: 'done', ttlMs: 60_000 } });
      const [c] = (await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 1 })).jobs;
      await finishOnly(h.backend, q.name, [
        {
          id: a.id,
          attempt: c?.attempt ?? 1,
          workerId: 'w',
          outcome: 'succeeded',
          result: 'null',
          decision: { action: 'done' },
        },
      ]);
      expect(await q.add('t', null, { dedup: { key: 'done', ttlMs: 60_000 } })).toEqual({
        id: a.id,
        created: false,
        state: 'completed',
        folded: true,
      });
      const x = await q.add('t', null, { dedup: { key: 'stop', ttlMs: 60_000 } });
      await q.cancel(x.id, { by: 'test' });
      const y = await q.add('t', null, { dedup: { key: 'stop', ttlMs: 60_000 } });
      expect(y.created).toBe(true);
      expect(y.id).not.toBe(x.id);
      expect((await q.getJob(x.id))?.folded).toBeUndefined();
    });

    it('debounce replaces the data of a job not started and pushes its due time', async () => {
      const q = h.queue();
      const a = await q.add('save', { v: 1 }, { debounce: { key: 'doc-1', delayMs: 10_000 } });
      expect(a).toMatchObject({ created: true, state: 'scheduled' });
      const before = await q.getJob(a.id);
      // A timer may fire a millisecond early by the wall clock (a CI run saw +19 ms after sleep(20)).
      await sleep(30);
      const b = await q.add('save', { v: 2 }, { debounce: { key: 'doc-1', delayMs: 10_000 } });
      expect(b).toEqual({ id: a.id, created: false, state: 'scheduled', folded: true });
      const after = await q.getJob(a.id);
      expect(after?.data).toEqual({ v: 2 });
      expect(after?.dueAt).toBeGreaterThanOrEqual((before?.dueAt ?? 0) + 20);
      expect(after?.folded?.count).toBe(1);
      expect(after?.dedup).toEqual({ mode: 'debounce', key: 'doc-1' });
      expect((await q.counts()).scheduled).toBe(1);
      const [ev] = (await h.backend.readEvents(q.name, '0', 100)).filter((e) => e.type === 'folded');
      expect(ev?.fields).toEqual({ mode: 'debounce', count: '1', due: String(after?.dueAt) });
    });

    it('debounce runs the job once, with the last data, after the last add', async () => {
      const q = h.queue<{ v: number }, number>();
      const seen: number[] = [];
      let id = '';
      for (let v = 1; v <= 3; v++) {
        id = (await q.add('save', { v }, { debounce: { key: 'doc', delayMs: 60 } })).id;
        await sleep(15);
      }
      h.worker(q, (job) => {
        seen.push(job.data.v);
        return job.data.v;
      });
      const done = await waitForState(q, id, 'completed');
      expect(done.result).toBe(3);
      expect(seen).toEqual([3]);
      expect(done.folded?.count).toBe(2);
      expect((await q.counts()).completed).toBe(1);
      // Finished: the next add starts a new job.
      const next = await q.add('save', { v: 4 }, { debounce: { key: 'doc', delayMs: 60 } });
      expect(next.created).toBe(true);
    });

    it('debounce moves a waiting job back to scheduled; an active job is not folded into', async () => {
      const q = h.queue();
      const a = await q.add('d', { v: 1 }, { debounce: { key: 'w', delayMs: 10 } });
      await sleep(30);
      // A claim of one job promotes every due job: the debounced job becomes waiting behind `hi`.
      await q.add('hi', null, { priority: 5 });
      const [hi] = (await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 1 })).jobs;
      expect(hi?.name).toBe('hi');
      expect((await q.getJob(a.id))?.state).toBe('waiting');
      const b = await q.add('d', { v: 2 }, { debounce: { key: 'w', delayMs: 10_000 } });
      expect(b).toEqual({ id: a.id, created: false, state: 'scheduled', folded: true });
      expect(await q.counts()).toMatchObject({ waiting: 0, scheduled: 1, active: 1 });
      expect((await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 5 })).jobs).toEqual([]);

      const c = await q.add('d', { v: 1 }, { debounce: { key: 'act', delayMs: 1 } });
      await sleep(10);
      const [claimed] = (await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 1 })).jobs;
      expect(claimed?.id).toBe(c.id);
      const d = await q.add('d', { v: 2 }, { debounce: { key: 'act', delayMs: 1 } });
      expect(d.created).toBe(true);
      expect(d.id).not.toBe(c.id);
      expect((await q.getJob(c.id))?.data).toEqual({ v: 1 });
    });

    it('folds within one bulk add, in order', async () => {
      const q = h.queue();
      const added = await q.addBulk([
        { name: 'a', data: 1, options: { dedup: { key: 'b', ttlMs: 60_000 } } },
        { name: 'b', data: 2 },
        { name: 'a', data: 3, options: { dedup: { key: 'b', ttlMs: 60_000 } } },
        { name: 'c', data: 4, options: { debounce: { key: 'c', delayMs: 5000 } } },
        { name: 'c', data: 5, options: { debounce: { key: 'c', delayMs: 9000 } } },
      ]);
      expect(added.map((a) => [a.created, a.folded ?? false, a.state])).toEqual([
        [true, false, 'waiting'],
        [true, false, 'waiting'],
        [false, true, 'waiting'],
        [true, false, 'scheduled'],
        [false, true, 'scheduled'],
      ]);
      expect(added[2]?.id).toBe(added[0]?.id);
      expect(added[4]?.id).toBe(added[3]?.id);
      const c = await q.getJob(added[3]?.id ?? '');
      expect(c?.data).toBe(5);
      expect((c?.dueAt ?? 0) - (c?.createdAt ?? 0)).toBeGreaterThanOrEqual(9000);
      expect((await q.getJobs('scheduled')).map((j) => j.id)).toEqual([c?.id]);
      expect(await q.counts()).toMatchObject({ waiting: 2, scheduled: 1 });
    });

    it('refuses dedup options that do not make sense, naming the field', async () => {
      const q = h.queue();
      const bad: [unknown, string][] = [
        [{ id: 'x', dedup: { key: 'k', ttlMs: 10 } }, 'options.dedup'],
        [{ dedup: { key: 'k', ttlMs: 10 }, debounce: { key: 'k', delayMs: 10 } }, 'options.debounce'],
        [{ debounce: { key: 'k', delayMs: 10 }, delay: 5 }, 'options.debounce'],
        [{ dedup: { key: '', ttlMs: 10 } }, 'options.dedup.key'],
        [{ dedup: { key: 'a\nb', ttlMs: 10 } }, 'options.dedup.key'],
        [{ dedup: { key: 'k', ttlMs: 0 } }, 'options.dedup.ttlMs'],
        [{ dedup: { key: 'k' } }, 'options.dedup.ttlMs'],
        [{ debounce: { key: 'k', ttlMs: 5 } }, 'options.debounce.ttlMs'],
      ];
      for (const [options, field] of bad) {
        const err = await q.add('x', null, options as never).catch((e: unknown) => e);
        expect(err, JSON.stringify(options)).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field, JSON.stringify(options)).toBe(field);
      }
      expect((await q.counts()).waiting).toBe(0);
    });
  });
}
