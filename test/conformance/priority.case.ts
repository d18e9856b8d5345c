import { describe, expect, it } from 'vitest';

import { ValidationError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import type { Job } from '../../src/types.js';
import { finishOnly } from '../helpers/finish.js';
import type { Harness } from './context.js';
import { sleep } from './context.js';

export function priorityCases(h: Harness): void {
  /** Claims up to `max` jobs as one worker and returns their names, in claim order. */
  async function claimNames(q: Queue, max: number): Promise<string[]> {
    const res = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max });
    return res.jobs.map((j) => j.name);
  }

  describe('priorities', () => {
    it('claims higher priorities first and keeps FIFO within one priority', async () => {
      const q = h.queue();
      for (const [name, priority] of [
        ['a0', 0],
        ['a5', 5],
        ['a-3', -3],
        ['b5', 5],
        ['b0', 0],
        ['a10', 10],
      ] as const) {
        await q.add(name, null, { priority });
      }
      expect(await claimNames(q, 3)).toEqual(['a10', 'a5', 'b5']);
      expect(await claimNames(q, 10)).toEqual(['a0', 'b0', 'a-3']);
    });

    it('gives the same order one job at a time as in one batch', async () => {
      const q = h.queue();
      await q.addBulk(
        [3, 0, 3, -1, 7, 0, -1].map((priority, i) => ({ name: `j${i}`, data: null, options: { priority } })),
      );
      const order: string[] = [];
      for (let i = 0; i < 8; i++) order.push(...(await claimNames(q, 1)));
      expect(order).toEqual(['j4', 'j0', 'j2', 'j1', 'j5', 'j3', 'j6']);
    });

    it("gives a job without a priority the queue's default, not a place ahead of prioritised jobs", async () => {
      const q = h.queue({ defaultPriority: 2 });
      const low = await q.add('explicit-0', null, { priority: 0 });
      const dflt = await q.add('default', null);
      await q.add('explicit-5', null, { priority: 5 });
      expect((await q.getJob(dflt.id))?.priority).toBe(2);
      expect((await q.getJob(low.id))?.priority).toBe(0);
      expect(await claimNames(q, 3)).toEqual(['explicit-5', 'default', 'explicit-0']);
    });

    it('stores the default with the queue: producers without the option, bulk adds and schedulers get it', async () => {
      const q = h.queue({ defaultPriority: 4 });
      expect(await q.getDefaultPriority()).toBe(0); // written when the queue is first used
      await q.add('from-option', null);
      expect(await q.getDefaultPriority()).toBe(4);
      // Another producer on the same queue, without the option (as the HTTP API and the CLI are).
      const other = new Queue(q.name, { backend: h.backend });
      const plain = await other.add('plain', null);
      const zero = await other.add('zero', null, { priority: 0 });
      const bulk = await other.addBulk([
        { name: 'bulk-default', data: null },
        { name: 'bulk-1', data: null, options: { priority: 1 } },
        { name: 'bulk-delayed', data: null, options: { delay: 60_000 } },
      ]);
      const pr = async (id: string): Promise<number | undefined> => (await q.getJob(id))?.priority;
      expect([await pr(plain.id), await pr(zero.id)]).toEqual([4, 0]);
      expect(await Promise.all(bulk.map((b) => pr(b.id)))).toEqual([4, 1, 4]);
      // A scheduler without a priority takes the default as it is when created.
      const s = await other.schedule('s', { every: 60_000 }, { name: 'tick', data: null });
      expect(s.priority).toBe(4);
      // Changing it applies to later adds only.
      await other.setDefaultPriority(-2);
      const later = await other.add('later', null);
      expect([await pr(later.id), await pr(plain.id)]).toEqual([-2, 4]);
      expect(await claimNames(q, 10)).toEqual([
        'from-option',
        'plain',
        'bulk-default',
        'bulk-1',
        'zero',
        'later',
      ]);
      await other.setDefaultPriority(0);
      expect(await pr((await other.add('none', null)).id)).toBe(0);
      await expect(other.setDefaultPriority(1.5)).rejects.toMatchObject({ field: 'priority' });
      await expect(other.setDefaultPriority(2_000_000)).rejects.toBeInstanceOf(ValidationError);
      expect(await other.getDefaultPriority()).toBe(0);
    });

    it('counts and lists waiting jobs of every priority, highest first', async () => {
      const q = h.queue();
      await q.add('p0', null);
      await q.add('p-2', null, { priority: -2 });
      await q.add('p4', null, { priority: 4 });
      await q.add('p0b', null);
      expect((await q.counts()).waiting).toBe(4);
      expect((await q.getJobs('waiting')).map((j) => j.name)).toEqual(['p4', 'p0', 'p0b', 'p-2']);
      expect((await q.getJobs('waiting', { offset: 1, limit: 2 })).map((j) => j.name)).toEqual(['p0', 'p0b']);
    });

    it('cancelling a waiting prioritised job takes it out of its priority', async () => {
      const q = h.queue();
      const a = await q.add('a', null, { priority: 9 });
      await q.add('b', null, { priority: 9 });
      await q.add('c', null);
      await q.cancel(a.id, { by: 'test' });
      expect((await q.counts()).waiting).toBe(2);
      expect(await claimNames(q, 5)).toEqual(['b', 'c']);
    });

    it('a retry at once and a promoted delayed job wait at their own priority', async () => {
      const q = h.queue();
      const hi = await q.add('hi', null, { priority: 5 });
      const [claimed] = (await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 1 })).jobs;
      expect(claimed?.id).toBe(hi.id);
      await q.add('plain', null);
      await q.add('later', null, { priority: 3, delay: 30 });
      await finishOnly(h.backend, q.name, [
        {
          id: hi.id,
          attempt: claimed?.attempt ?? 0,
          workerId: 'w',
          outcome: 'failed',
          error: { name: 'Error', message: 'boom' },
          errorClass: 'temporary',
          rule: 'default',
          decision: {
            action: 'retry',
            delayMs: 0,
            source: 'policy',
            explanation: 'at once',
            detail: { strategy: 'immediate' },
          },
        },
      ]);
      await sleep(60);
      expect(await claimNames(q, 5)).toEqual(['hi', 'later', 'plain']);
    });

    it('with aging, a job that waited long enough overtakes higher priorities', async () => {
      const q = h.queue({ priorityAgingMs: 1000 });
      const now = await h.backend.now();
      // Due 5 s ago: it has gained 5 levels.
      await q.add('old-0', null, { runAt: now - 5000 });
      await q.add('fresh-3', null, { priority: 3 });
      await q.add('fresh-10', null, { priority: 10 });
      expect(await q.getPriorityAging()).toBe(1000);
      expect(await claimNames(q, 5)).toEqual(['fresh-10', 'old-0', 'fresh-3']);
    });

    it('turning aging off restores strict order for jobs already waiting', async () => {
      const q = h.queue({ priorityAgingMs: 1000 });
      const now = await h.backend.now();
      await q.add('old-0', null, { runAt: now - 5000 });
      await q.add('old-1', null, { priority: 1, runAt: now - 9000 });
      await q.add('fresh-3', null, { priority: 3 });
      await q.setPriorityAging(0);
      expect(await claimNames(q, 5)).toEqual(['fresh-3', 'old-1', 'old-0']);
    });

    it('names the job waiting longest across priorities, and null when nothing waits', async () => {
      const q = h.queue();
      expect(await q.oldestWaiting()).toBeNull();
      const now = await h.backend.now();
      await q.add('recent-0', null, { runAt: now - 1000 });
      const old = await q.add('old-5', null, { priority: 5, runAt: now - 7000 });
      await q.add('older-but-behind', null, { priority: 5, runAt: now - 9000 });
      await q.add('mid--2', null, { priority: -2, runAt: now - 4000 });
      // The head of each priority (its next to run), not a scan: 'older-but-behind' queues after 'old-5'.
      expect(await q.oldestWaiting()).toEqual({ id: old.id, since: now - 7000, priority: 5 });
      expect(await claimNames(q, 2)).toEqual(['old-5', 'older-but-behind']);
      const mid = (await q.getJobs('waiting')).find((j) => j.name === 'mid--2');
      expect(await q.oldestWaiting()).toEqual({ id: mid?.id, since: now - 4000, priority: -2 });
      expect(await claimNames(q, 5)).toEqual(['recent-0', 'mid--2']);
      expect(await q.oldestWaiting()).toBeNull();
    });

    /** Claims up to `max` jobs, finishes them done, and returns their jobs (with attempts) by name. */
    async function runAll(q: Queue, max: number): Promise<Map<string, Job>> {
      const res = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max });
      await finishOnly(
        h.backend,
        q.name,
        res.jobs.map((j) => ({
          id: j.id,
          attempt: j.attempt,
          workerId: 'w',
          outcome: 'succeeded',
          decision: { action: 'done' },
        })),
      );
      const out = new Map<string, Job>();
      for (const j of res.jobs) out.set(j.name, (await q.getJob(j.id)) as Job);
      return out;
    }

    it('records on the attempt how many jobs of a higher priority ran while it waited, and how long it waited', async () => {
      const q = h.queue();
      await q.add('a', null);
      await q.add('b', null);
      await q.add('hi1', null, { priority: 5 });
      await q.add('hi2', null, { priority: 5 });
      await q.add('mid', null, { priority: 2 });
      // The attempt in progress says it already.
      const first = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 4 });
      expect(first.jobs.map((j) => j.name)).toEqual(['hi1', 'hi2', 'mid', 'a']);
      const a = first.jobs[3] as (typeof first.jobs)[number];
      const current = (await q.getJob(a.id))?.current;
      expect(current?.priority).toEqual({
        priority: 0,
        effective: 0,
        waitedMs: a.startedAt - a.dueAt,
        ahead: 3,
        explanation: `priority 0: waited ${a.startedAt - a.dueAt} ms while 3 jobs of higher priority ran`,
      });
      await finishOnly(
        h.backend,
        q.name,
        first.jobs.map((j) => ({
          id: j.id,
          attempt: j.attempt,
          workerId: 'w',
          outcome: 'succeeded',
          decision: { action: 'done' },
        })),
      );
      const jobs = new Map<string, Job>();
      for (const j of first.jobs) jobs.set(j.name, (await q.getJob(j.id)) as Job);
      jobs.set('b', (await runAll(q, 5)).get('b') as Job);
      // Nothing of a higher priority ran ahead of these: no record.
      expect(jobs.get('hi1')?.attempts[0]?.priority).toBeUndefined();
      expect(jobs.get('hi2')?.attempts[0]?.priority).toBeUndefined();
      // mid waited behind the two of priority 5 (not behind jobs of its own level).
      const mid = jobs.get('mid')?.attempts[0];
      expect(mid?.priority).toMatchObject({ priority: 2, effective: 2, ahead: 2 });
      expect(mid?.priority?.waitedMs).toBe((mid?.startedAt ?? 0) - (mid?.dueAt ?? 0));
      const ra = jobs.get('a')?.attempts[0];
      expect(ra?.priority).toEqual({
        ...current?.priority,
        waitedMs: (ra?.startedAt ?? 0) - (ra?.dueAt ?? 0),
      });
      // b ran after a, of its own level: still only the 3 of higher priority.
      expect(jobs.get('b')?.attempts[0]?.priority).toMatchObject({ priority: 0, ahead: 3 });
    });

    it('counts only what ran after the job became ready, and nothing on a queue of one priority', async () => {
      const plain = h.queue();
      await plain.add('p1', null);
      await plain.add('p2', null);
      for (const j of (await runAll(plain, 5)).values()) expect(j.attempts[0]?.priority).toBeUndefined();

      const q = h.queue();
      await q.add('early-hi', null, { priority: 9 });
      await runAll(q, 1);
      await q.add('low', null, { priority: -1 });
      await q.add('late-hi', null, { priority: 9 });
      await q.add('zero', null);
      const jobs = await runAll(q, 5);
      expect([...jobs.keys()]).toEqual(['late-hi', 'zero', 'low']);
      expect(jobs.get('late-hi')?.attempts[0]?.priority).toBeUndefined();
      expect(jobs.get('zero')?.attempts[0]?.priority?.ahead).toBe(1);
      expect(jobs.get('low')?.attempts[0]?.priority?.ahead).toBe(2);
      // The highest priority has nothing ahead of it: no record.
      await q.add('hi-again', null, { priority: 9 });
      const again = await runAll(q, 5);
      expect(again.get('hi-again')?.attempts[0]?.priority).toBeUndefined();
    });

    it('with aging, records the effective priority of a job, and counts the aged jobs that ran ahead', async () => {
      const q = h.queue({ priorityAgingMs: 1000 });
      const now = await h.backend.now();
      await q.add('old-0', null, { runAt: now - 5000 });
      await q.add('fresh-3', null, { priority: 3 });
      await q.add('fresh-10', null, { priority: 10 });
      const jobs = await runAll(q, 5);
      expect([...jobs.keys()]).toEqual(['fresh-10', 'old-0', 'fresh-3']);
      const old = jobs.get('old-0')?.attempts[0];
      const waited = (old?.startedAt ?? 0) - (old?.dueAt ?? 0);
      const aged = Math.floor(waited / 1000);
      expect(aged).toBeGreaterThanOrEqual(5);
      expect(old?.priority).toEqual({
        priority: 0,
        effective: aged,
        waitedMs: waited,
        ahead: 1,
        explanation: `priority 0 (aged to ${aged}): waited ${waited} ms while 1 job of higher priority ran`,
      });
      // fresh-3 waited behind fresh-10 and the aged old-0.
      expect(jobs.get('fresh-3')?.attempts[0]?.priority).toMatchObject({ priority: 3, ahead: 2 });
    });

    it('refuses a priority that is not a whole number in range, naming the field', async () => {
      const q = h.queue();
      await expect(q.add('x', null, { priority: 1.5 })).rejects.toThrow(ValidationError);
      await expect(q.add('x', null, { priority: 2_000_000 })).rejects.toThrow(/options\.priority/);
      await expect(q.setPriorityAging(-1)).rejects.toThrow(/agingMs/);
      expect((await q.counts()).waiting).toBe(0);
    });
  });
}
