import { describe, expect, it } from 'vitest';

import { InvalidStateError, JobNotFoundError } from '../../src/errors.js';
import { finishOnly } from '../helpers/finish.js';
import type { Harness } from './context.js';
import { sleep, waitForState, waitUntil } from './context.js';

export function lifecycleCases(h: Harness): void {
  describe('lifecycle', () => {
    it('runs a job once and records a succeeded attempt with its result', async () => {
      const q = h.queue<{ n: number }, { doubled: number }>();
      const { id, created, state } = await q.add('double', { n: 21 });
      expect(created).toBe(true);
      expect(state).toBe('waiting');
      const w = h.worker(q, async (job) => ({ doubled: job.data.n * 2 }), { workerId: 'w-success' });
      const job = await waitForState(q, id, 'completed');
      expect(job.result).toEqual({ doubled: 42 });
      expect(job.attempts).toHaveLength(1);
      const a = job.attempts[0]!;
      expect(a).toMatchObject({
        n: 1,
        trigger: 'auto',
        workerId: 'w-success',
        outcome: 'succeeded',
        decision: { action: 'done' },
      });
      expect(a.startedAt).toBeGreaterThanOrEqual(a.dueAt);
      expect(a.driftMs).toBe(a.startedAt - a.dueAt);
      expect(a.finishedAt).toBeGreaterThanOrEqual(a.startedAt);
      expect(a.error).toBeUndefined();
      expect(job.finishedAt).toBe(a.finishedAt);
      expect(await q.counts()).toMatchObject({ completed: 1, waiting: 0, active: 0 });
      expect(w.running).toBe(0);
    });

    it('hands the handler id, name, data, attempt number and its previous attempts', async () => {
      const q = h.queue<string>({ retry: { attempts: 2, backoff: { type: 'immediate' } } });
      const seen: { attempt: number; previous: number; name: string; data: string }[] = [];
      const { id } = await q.add('greet', 'hello');
      h.worker(q, async (job) => {
        seen.push({
          attempt: job.attempt,
          previous: (await job.previousAttempts()).length,
          name: job.name,
          data: job.data,
        });
        if (job.attempt === 1) throw new Error('first try fails');
        return 'ok';
      });
      await waitForState(q, id, 'completed');
      expect(seen).toEqual([
        { attempt: 1, previous: 0, name: 'greet', data: 'hello' },
        { attempt: 2, previous: 1, name: 'greet', data: 'hello' },
      ]);
    });

    it('adding the same id twice returns the existing job and changes nothing', async () => {
      const q = h.queue();
      const first = await q.add('x', { v: 1 }, { id: 'order-42' });
      const second = await q.add('x', { v: 2 }, { id: 'order-42', delay: 60_000 });
      expect(first).toEqual({ id: 'order-42', created: true, state: 'waiting' });
      expect(second).toEqual({ id: 'order-42', created: false, state: 'waiting' });
      expect((await q.getJob('order-42'))?.data).toEqual({ v: 1 });
      expect((await q.counts()).waiting).toBe(1);
    });

    it('adds in bulk in order, with generated ids distinct from caller ids', async () => {
      const q = h.queue();
      const added = await q.addBulk([
        { name: 'a', data: 1 },
        { name: 'b', data: 2, options: { id: 'mine' } },
        { name: 'c', data: 3, options: { delay: 60_000 } },
      ]);
      expect(added.map((a) => a.state)).toEqual(['waiting', 'waiting', 'scheduled']);
      expect(added[1]!.id).toBe('mine');
      expect(new Set(added.map((a) => a.id)).size).toBe(3);
      expect(await q.counts()).toMatchObject({ waiting: 2, scheduled: 1 });
      const waiting = await q.getJobs('waiting');
      expect(waiting.map((j) => j.name)).toEqual(['a', 'b']);
    });

    it('never gives a generated id that a caller took by hand, nor overwrites that job', async () => {
      const q = h.queue();
      const first = await q.add('gen', 0);
      const n = Number(first.id);
      expect(Number.isInteger(n)).toBe(true);
      // Take the next few numbers by hand, then generate again.
      for (let k = 1; k <= 3; k++) await q.add('hand', { k }, { id: String(n + k) });
      const more = await q.addBulk([
        { name: 'gen', data: 1 },
        { name: 'gen', data: 2 },
      ]);
      for (const a of more) {
        expect(a.created).toBe(true);
        expect(Number(a.id)).toBeGreaterThan(n + 3);
      }
      for (let k = 1; k <= 3; k++) expect((await q.getJob(String(n + k)))?.data).toEqual({ k });
      // Generated ids stay distinct and consecutive when nothing is in the way.
      const bulk = await q.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: 'gen', data: i })));
      expect(new Set(bulk.map((a) => a.id)).size).toBe(5);
      expect(bulk.every((a) => a.created && a.state === 'waiting')).toBe(true);
    });

    it('lists jobs by state with pagination', async () => {
      const q = h.queue();
      for (let i = 0; i < 5; i++) await q.add('p', i);
      const page1 = await q.getJobs('waiting', { offset: 0, limit: 2 });
      const page2 = await q.getJobs('waiting', { offset: 2, limit: 2 });
      const page3 = await q.getJobs('waiting', { offset: 4, limit: 2 });
      expect([...page1, ...page2, ...page3].map((j) => j.data)).toEqual([0, 1, 2, 3, 4]);
    });

    it('a delayed job waits for its due time, then starts without waiting for an idle check', async () => {
      const q = h.queue();
      h.worker(q, async () => 'late enough', { idleCheckMs: 10_000 });
      await sleep(30); // the worker is idle and blocked
      const { id, state } = await q.add('later', null, { delay: 150 });
      expect(state).toBe('scheduled');
      expect((await q.getJob(id))?.state).toBe('scheduled');
      const job = await waitForState(q, id, 'completed', 3000);
      const a = job.attempts[0]!;
      expect(a.startedAt).toBeGreaterThanOrEqual(a.dueAt);
      expect(a.dueAt).toBe(job.createdAt + 150);
    });

    it('runAt schedules at an absolute time', async () => {
      const q = h.queue();
      const now = await h.backend.now();
      const { id } = await q.add('at', null, { runAt: now + 100 });
      const job = await q.getJob(id);
      expect(job?.state).toBe('scheduled');
      expect(job?.dueAt).toBe(now + 100);
    });

    it('pause stops claims without losing jobs; resume restarts them', async () => {
      const q = h.queue();
      await q.pause();
      expect(await q.isPaused()).toBe(true);
      h.worker(q, async () => 'ran', { idleCheckMs: 50 });
      const { id } = await q.add('held', null);
      await sleep(150);
      expect((await q.getJob(id))?.state).toBe('waiting');
      await q.resume();
      expect(await q.isPaused()).toBe(false);
      await waitForState(q, id, 'completed', 3000);
    });

    it('cancels a waiting job with who and why; a finished job cannot be cancelled', async () => {
      const q = h.queue();
      const { id } = await q.add('c', null, { delay: 60_000 });
      await q.cancel(id, { by: 'alice', reason: 'customer left' });
      const job = await q.getJob(id);
      expect(job?.state).toBe('cancelled');
      expect(job?.cancelled).toMatchObject({ by: 'alice', reason: 'customer left' });
      expect(await q.counts()).toMatchObject({ scheduled: 0, cancelled: 1 });
      await expect(q.cancel(id, { by: 'alice' })).rejects.toBeInstanceOf(InvalidStateError);
      await expect(q.cancel('nope', { by: 'alice' })).rejects.toBeInstanceOf(JobNotFoundError);
    });

    it('cancelling an active job records a cancelled attempt, aborts the handler and refuses its result', async () => {
      const q = h.queue();
      let aborted: unknown;
      const w = h.worker(
        q,
        (job) =>
          new Promise((resolve) => {
            job.signal.addEventListener('abort', () => {
              aborted = job.signal.reason;
              resolve('finished anyway');
            });
          }),
        { leaseMs: 150 },
      );
      const refused = new Promise((r) => w.once('refused', r));
      const { id } = await q.add('long', null);
      await waitForState(q, id, 'active');
      await q.cancel(id, { by: 'ops', reason: 'stuck' });
      await refused;
      const job = await q.getJob(id);
      expect(job?.state).toBe('cancelled');
      expect(job?.attempts).toHaveLength(1);
      expect(job?.attempts[0]).toMatchObject({
        outcome: 'cancelled',
        decision: { action: 'cancelled', explanation: 'cancelled by ops: stuck' },
      });
      expect(aborted).toBeInstanceOf(Error);
      expect(job?.refusals).toHaveLength(1);
      expect(job?.refusals[0]).toMatchObject({ attempt: 1, outcome: 'succeeded' });
    });

    it('retention keeps the newest completed jobs and counts every eviction', async () => {
      const q = h.queue({ retention: { completed: { count: 2 } } });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await q.add('r', i)).id);
      h.worker(q, async () => 'done');
      await waitUntil(async () => (await q.evictions()).completed === 3, '3 evictions');
      expect((await q.counts()).completed).toBe(2);
      const kept = await q.getJobs('completed');
      expect(kept).toHaveLength(2);
      expect(await q.getJob(ids[0]!)).toBeNull();
      expect(await q.getRetention()).toEqual({ completed: { count: 2 } });
    });

    it('retention by age evicts old finished jobs, counted', async () => {
      const q = h.queue();
      await q.setRetention({ completed: { ageMs: 100 } });
      h.worker(q, async () => 'done');
      const { id } = await q.add('old', 1);
      await waitForState(q, id, 'completed');
      await sleep(150);
      const { id: id2 } = await q.add('new', 2);
      await waitForState(q, id2, 'completed');
      expect(await q.getJob(id)).toBeNull();
      expect(await q.evictions()).toEqual({ completed: 1, dead: 0, cancelled: 0 });
    });

    it('publishes every transition on the queue event feed, readable from a cursor', async () => {
      const q = h.queue({ retry: { attempts: 2, backoff: { type: 'immediate' } } });
      const { id } = await q.add('feed', null);
      h.worker(q, async (job) => {
        if (job.attempt === 1) throw new Error('once');
        return 'ok';
      });
      await waitForState(q, id, 'completed');
      const events = (await h.backend.readEvents(q.name, '0', 100)).filter((e) => e.jobId === id);
      expect(events.map((e) => e.type)).toEqual(['added', 'active', 'retrying', 'active', 'completed']);
      expect(events.every((e, i) => i === 0 || e.at >= events[i - 1]!.at)).toBe(true);
      expect(events[2]!.fields).toMatchObject({
        attempt: '1',
        outcome: 'failed',
        class: 'temporary',
        delay: '0',
      });
      expect(events[4]!.fields).toMatchObject({ attempt: '2', outcome: 'succeeded', class: '' });
      expect(Number(events[4]!.fields.dur)).toBeGreaterThanOrEqual(0);
      const rest = await h.backend.readEvents(q.name, events[0]!.seq, 100);
      expect(rest.map((e) => e.type)).toEqual(['active', 'retrying', 'active', 'completed']);
    });

    it('finishes thousands of attempts in one backend call without losing any (regression: Lua unpack limit)', async () => {
      const q = h.queue();
      const n = 4500;
      await q.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'bulk', data: i })));
      const claimed = [];
      while (claimed.length < n) {
        const r = await h.backend.claim(q.name, { workerId: 'w-bulk', leaseMs: 60_000, max: 1000 });
        claimed.push(...r.jobs);
      }
      const results = await finishOnly(
        h.backend,
        q.name,
        claimed.map((c) => ({
          id: c.id,
          attempt: c.attempt,
          workerId: 'w-bulk',
          outcome: 'succeeded' as const,
          result: '1',
          decision: { action: 'done' as const },
        })),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      expect(await q.counts()).toMatchObject({ active: 0, completed: n, waiting: 0 });
    });

    it('retryNow runs a scheduled job at once, shows the pending manual trigger, then records it', async () => {
      const q = h.queue();
      const { id } = await q.add('later', null, { delay: 60_000 });
      const pending = await q.retryNow(id, { by: 'bob', note: 'customer waiting' });
      expect(pending.state).toBe('waiting');
      expect(pending.pendingManual).toMatchObject({ by: 'bob', note: 'customer waiting' });
      h.worker(q, async () => 'ran');
      const job = await waitForState(q, id, 'completed');
      expect(job.attempts[0]).toMatchObject({
        trigger: 'manual',
        manual: { by: 'bob', note: 'customer waiting' },
      });
      expect(job.pendingManual).toBeUndefined();
      await expect(q.retryNow(id, { by: 'bob' })).rejects.toBeInstanceOf(InvalidStateError);
    });

    it('reading an unknown queue creates nothing', async () => {
      const name = `ghost${Date.now()}`;
      const { Queue } = await import('../../src/queue.js');
      const ghost = new Queue(name, { backend: h.backend });
      expect(await ghost.counts()).toMatchObject({ waiting: 0, completed: 0 });
      expect(await ghost.getJob('x')).toBeNull();
      expect(await h.backend.listQueues()).not.toContain(name);
    });

    it('the feed gives one event per job when transitions happen in one batch', async () => {
      const q = h.queue();
      const added = await q.addBulk([
        { name: 'a', data: 1 },
        { name: 'b', data: 2, options: { delay: 60_000 } },
        { name: 'c', data: 3 },
      ]);
      await h.backend.claim(q.name, { workerId: 'w-batch', leaseMs: 60_000, max: 10 });
      const events = await h.backend.readEvents(q.name, '0', 100);
      const addedEvents = events.filter((e) => e.type === 'added');
      expect(addedEvents.map((e) => e.jobId)).toEqual(added.map((a) => a.id));
      expect(addedEvents.map((e) => e.fields.state)).toEqual(['waiting', 'scheduled', 'waiting']);
      const active = events.filter((e) => e.type === 'active');
      expect(active.map((e) => e.jobId).sort()).toEqual([added[0]!.id, added[2]!.id].sort());
      expect(active.every((e) => e.fields.worker === 'w-batch' && e.fields.attempt === '1')).toBe(true);
      // Resuming from the middle of a batch skips exactly what was read.
      const rest = await h.backend.readEvents(q.name, addedEvents[0]!.seq, 100);
      expect(rest[0]?.jobId).toBe(added[1]!.id);
    });

    it('eventTail names the newest event, inside a batch too, and reading after it gives only what follows', async () => {
      const q = h.queue();
      expect(await h.backend.eventTail(q.name)).toBe('0');
      await q.addBulk([
        { name: 'a', data: 1 },
        { name: 'b', data: 2 },
      ]);
      const all = await h.backend.readEvents(q.name, '0', 100);
      const tail = await h.backend.eventTail(q.name);
      expect(tail).toBe(all.at(-1)!.seq);
      expect(await h.backend.readEvents(q.name, tail, 100)).toEqual([]);
      const { id } = await q.add('c', 3);
      const next = await h.backend.readEvents(q.name, tail, 100);
      expect(next.map((e) => [e.type, e.jobId])).toEqual([['added', id]]);
      expect(await h.backend.eventTail(q.name)).toBe(next[0]!.seq);
    });

    it('stores a result over the size limit as a marker, not the result', async () => {
      const q = h.queue({ maxResultBytes: 100 });
      h.worker(q, async () => 'x'.repeat(500));
      const { id } = await q.add('big', null);
      const job = await waitForState(q, id, 'completed');
      expect(job.result).toEqual({ $truncated: true, bytes: 502, limit: 100 });
    });
  });
}
