import { describe, expect, it } from 'vitest';

import { RateLimitError, ValidationError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import type { Job } from '../../src/types.js';
import type { Harness } from './context.js';
import { waitForState, waitUntil } from './context.js';

/** Polls until the job has `n` attempt records; returns it. */
async function waitForAttempts(q: Queue, id: string, n: number): Promise<Job> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const job = await q.getJob(id);
    if (job && job.attempts.length >= n) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} has not ${n} attempts: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function rateLimitCases(h: Harness): void {
  /** Claims up to `max` jobs as one worker; returns their names and the claim's wake hint. */
  async function claim(q: Queue, max: number): Promise<{ names: string[]; wake: number | undefined }> {
    const res = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 60_000, max });
    return { names: res.jobs.map((j) => j.name), wake: res.nextWakeInMs };
  }

  describe('rate limits and groups', () => {
    it('gives a queue bucket its burst, then answers when the next token exists instead of a job', async () => {
      const q = h.queue({ rateLimit: { queue: { rate: 1, per: 60_000, burst: 3 } } });
      for (let i = 0; i < 5; i++) await q.add(`j${i}`, null);
      const first = await claim(q, 10);
      expect(first.names).toEqual(['j0', 'j1', 'j2']);
      // Stopped by the bucket before its max: it says when the next token exists already.
      expect(first.wake).toBeGreaterThan(59_000);
      expect(first.wake).toBeLessThanOrEqual(60_000);
      const next = await claim(q, 10);
      expect(next.names).toEqual([]);
      // The 4th token exists one interval (60 s) after the first claim: the idle worker sleeps until then.
      expect(next.wake).toBeGreaterThan(59_000);
      expect(next.wake).toBeLessThanOrEqual(60_000);
      const limits = await q.getRateLimits();
      expect(limits.queue).toEqual({ rate: 1, per: 60_000, burst: 3, intervalMs: 60_000, label: '1/min' });
      expect(limits.queueNextTokenAt).toBeGreaterThan(Date.now() + 59_000 - 5_000);
      expect((await q.counts()).waiting).toBe(2);
    });

    it('answers the next token on the claim half of a throttled finish, and the worker asks no more than that', async () => {
      const q = h.queue({ rateLimit: { queue: { rate: 1, per: 60_000, burst: 1 } } });
      await q.add('a', null);
      await q.add('b', null);
      const got = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 60_000, max: 5 });
      expect(got.jobs.map((j) => j.name)).toEqual(['a']);
      const j = got.jobs[0]!;
      const [, claimed] = await h.backend.finishAndClaim(
        q.name,
        [{ id: j.id, attempt: j.attempt, workerId: 'w', outcome: 'succeeded', decision: { action: 'done' } }],
        { workerId: 'w', leaseMs: 60_000, max: 5 },
      );
      expect(claimed.jobs).toEqual([]);
      expect(claimed.nextWakeInMs).toBeGreaterThan(59_000);
      expect(claimed.nextWakeInMs).toBeLessThanOrEqual(60_000);

      // A worker under a limit: each job costs one claim (when its token exists), not a claim
      // after each throttled finish only to be told the same.
      const r = h.queue({ rateLimit: { queue: { rate: 40, burst: 1 } } });
      await r.addBulk(Array.from({ length: 8 }, (_, i) => ({ name: `r${i}`, data: null })));
      // The wake tokens of the add and of the limit's change (Redis: one per job, 64 for a change;
      // each costs a waiting worker one claim, by design) are taken first.
      const ac = new AbortController();
      // Drained once three waits in a row time out (one slow round trip alone is not the end).
      for (let i = 0, idle = 0; i < 300 && idle < 3; i++) {
        const t = Date.now();
        await h.backend.waitForWork(r.name, 30, ac.signal);
        idle = Date.now() - t >= 25 ? idle + 1 : 0;
      }
      let claims = 0;
      const backend = h.backend;
      const counting = new Proxy(backend, {
        get(target, key) {
          const v = Reflect.get(target, key, target) as unknown;
          if (typeof v !== 'function') return v;
          if (key === 'claim') {
            return (...args: unknown[]) => {
              claims++;
              return (v as (...a: unknown[]) => unknown).apply(target, args);
            };
          }
          return (v as (...a: unknown[]) => unknown).bind(target);
        },
      });
      const counted = new Queue(r.name, { backend: counting });
      const done: string[] = [];
      h.worker(counted, async (job) => {
        done.push(job.name);
      });
      await waitUntil(() => done.length === 8, '8 jobs at 40/s');
      expect(claims).toBeLessThanOrEqual(8 + 2);
    });

    it('serves groups round-robin, one job per turn, with the jobs without a group as one more turn', async () => {
      const q = h.queue();
      for (const name of ['a1', 'a2', 'a3', 'a4']) await q.add(name, null, { group: 'A' });
      for (const name of ['b1', 'b2']) await q.add(name, null, { group: 'B' });
      await q.add('c1', null, { group: 'C' });
      await q.add('u1', null);
      await q.add('u2', null);
      expect((await q.counts()).waiting).toBe(9);
      expect((await q.getJobs('waiting')).map((j) => j.name)).toEqual([
        'u1',
        'u2',
        'a1',
        'a2',
        'a3',
        'a4',
        'b1',
        'b2',
        'c1',
      ]);
      expect((await q.getJob((await q.getJobs('waiting'))[2]!.id))?.group).toBe('A');
      const order: string[] = [];
      for (let i = 0; i < 10; i++) order.push(...(await claim(q, 1)).names);
      expect(order).toEqual(['a1', 'b1', 'c1', 'u1', 'a2', 'b2', 'u2', 'a3', 'a4']);
    });

    it('gives the same round-robin order in one batch, and keeps priority order within a group', async () => {
      const q = h.queue();
      await q.add('a1', null, { group: 'A' });
      await q.add('a2-urgent', null, { group: 'A', priority: 5 });
      await q.add('b1', null, { group: 'B' });
      await q.add('a3', null, { group: 'A' });
      expect((await claim(q, 10)).names).toEqual(['a2-urgent', 'b1', 'a1', 'a3']);
      // The queue is back to the plain path: no group left.
      await q.add('u1', null);
      await q.add('u2', null, { priority: 3 });
      expect((await claim(q, 10)).names).toEqual(['u2', 'u1']);
    });

    it("holds a group at its limit without holding the others, and a group's own limit wins", async () => {
      const q = h.queue({
        rateLimit: {
          group: { rate: 1, per: 60_000, burst: 1 },
          groups: { B: { rate: 1, per: 60_000, burst: 2 } },
        },
      });
      for (const g of ['A', 'B', 'C']) {
        for (let i = 1; i <= 3; i++) await q.add(`${g}${i}`, null, { group: g });
      }
      await q.add('u1', null);
      const first = await claim(q, 20);
      expect(first.names).toEqual(['A1', 'B1', 'C1', 'u1', 'B2']);
      const next = await claim(q, 20);
      expect(next.names).toEqual([]);
      expect(next.wake).toBeGreaterThan(59_000);
      expect((await q.counts()).waiting).toBe(5);
      // Loosening a limit applies at once: parked groups take turns again, and a bucket drained
      // under the old limit has a token now, then one per new interval (1 s: far longer than a
      // round trip, so a slow machine cannot let a second token in between).
      await q.setRateLimits({ groups: { A: { rate: 1, per: 1000, burst: 5 } } });
      const t0 = await h.backend.now();
      const loosened = await claim(q, 20);
      expect(loosened.names).toEqual(['A2']);
      let again: string[] = [];
      while (again.length === 0) {
        await new Promise((r) => setTimeout(r, 50));
        again = (await claim(q, 20)).names;
      }
      const t1 = await h.backend.now();
      expect(again).toEqual(['A3']);
      expect(t1 - t0).toBeGreaterThanOrEqual(999);
      const limits = await q.getRateLimits();
      expect(limits.group?.label).toBe('1/min');
      expect(Object.keys(limits.groups)).toEqual(['A', 'B']);
      expect(limits.groups.A).toEqual({ rate: 1, per: 1000, burst: 5, intervalMs: 1000, label: '1/s' });
      await q.setRateLimits({ group: null, groups: { A: null, B: null } });
      expect(await q.getRateLimits()).toEqual({ queue: null, group: null, groups: {} });
      expect((await claim(q, 20)).names.sort()).toEqual(['B3', 'C2', 'C3']);
    });

    it('records on the attempt how long the rate limit held the job, and publishes it', async () => {
      const q = h.queue({ rateLimit: { group: { rate: 20, burst: 1 } } });
      const added = await q.addBulk(
        ['t1', 't2', 't3'].map((name) => ({ name, data: null, options: { group: 'tenant-42' } })),
      );
      h.worker(q, async () => undefined);
      const jobs = await Promise.all(added.map((a) => waitForState(q, a.id, 'completed')));
      const byName = new Map(jobs.map((j) => [j!.name, j!.attempts[0]!]));
      expect(byName.get('t1')?.rateLimit).toBeUndefined();
      for (const [name, k] of [
        ['t2', 1],
        ['t3', 2],
      ] as const) {
        const rl = byName.get(name)!.rateLimit!;
        expect(rl.scope).toBe('group');
        expect(rl.group).toBe('tenant-42');
        expect(rl.limit).toBe('20/s');
        // Its token came k intervals (50 ms each) after the first claim, which followed the add by
        // at most t1's drift (t1's handler started after that claim); the worker's claim at the
        // token's time is a timer, late by a few ms on a loaded machine (a CI run: 2 ms over). The
        // exact upper bound is the job's own drift, below.
        expect(rl.waitedMs).toBeGreaterThanOrEqual(k * 50 - 20);
        expect(rl.waitedMs).toBeLessThanOrEqual(k * 50 + byName.get('t1')!.driftMs + 40);
        expect(rl.explanation).toBe(`rate limit tenant-42: 20/s, waited ${rl.waitedMs} ms`);
        expect(byName.get(name)!.driftMs).toBeGreaterThanOrEqual(rl.waitedMs);
      }
      const events = await h.backend.readEvents(q.name, '0', 100);
      const throttled = events.filter((e) => e.type === 'throttled');
      expect(throttled.map((e) => e.fields.scope)).toEqual(['group', 'group']);
      expect(throttled.every((e) => e.fields.group === 'tenant-42')).toBe(true);
    });

    it("pauses a job's group on a handler's RateLimitError, not charging the job a failure", async () => {
      const q = h.queue();
      const first = await q.add('hits-429', null, { group: 'g1' });
      let calls = 0;
      h.worker(q, async (job) => {
        if (job.name === 'hits-429' && calls++ === 0) {
          throw new RateLimitError({ retryAfterMs: 60_000, scope: 'group' });
        }
      });
      const back = await waitForAttempts(q, first.id, 1);
      expect(back.state).toBe('waiting');
      const a = back.attempts[0]!;
      expect(a.outcome).toBe('rate_limited');
      expect(a.errorClass).toBe('temporary');
      expect(a.rule).toBe('rate-limit');
      expect(a.error?.name).toBe('RateLimitError');
      expect(a.error?.code).toBe('RATE_LIMITED');
      expect(a.pause).toEqual({ scope: 'group', group: 'g1', ms: 60_000 });
      expect(a.decision).toMatchObject({
        action: 'retry',
        delayMs: 0,
        source: 'handler',
        explanation:
          'the handler hit a rate limit: group g1 paused for 1 min; the job waits again, not counted against the retry budget',
        detail: { strategy: 'rate-limit' },
      });
      expect(back.failures).toBe(0);
      // The group stays paused; another group and the jobs without one run.
      const other = await q.add('other', null, { group: 'g2' });
      const plain = await q.add('plain', null);
      const sibling = await q.add('sibling', null, { group: 'g1' });
      await waitForState(q, other.id, 'completed');
      await waitForState(q, plain.id, 'completed');
      await new Promise((r) => setTimeout(r, 100));
      expect((await q.getJob(sibling.id))?.state).toBe('waiting');
      expect((await q.getJob(first.id))?.state).toBe('waiting');
      const events = await h.backend.readEvents(q.name, '0', 100);
      const paused = events.find((e) => e.type === 'rate-limited');
      expect(paused?.jobId).toBe(first.id);
      expect(paused?.fields).toMatchObject({ scope: 'group', group: 'g1', pause: '60000' });
    });

    it('pauses the whole queue for scope queue (or a job without a group), then resumes on its own', async () => {
      const q = h.queue();
      const first = await q.add('hits-429', null);
      let calls = 0;
      h.worker(q, async () => {
        if (calls++ === 0) throw new RateLimitError({ retryAfterMs: 300, scope: 'group' });
      });
      const back = await waitForAttempts(q, first.id, 1);
      expect(back.attempts[0]!.pause).toEqual({ scope: 'queue', ms: 300 });
      expect(back.attempts[0]!.decision).toMatchObject({
        explanation:
          'the handler hit a rate limit: the queue (the job has no group) paused for 300 ms; the job waits again, not counted against the retry budget',
      });
      const limits = await q.getRateLimits();
      expect(limits.queueNextTokenAt).toBeGreaterThan(Date.now());
      const done = await waitForState(q, first.id, 'completed');
      const second = done.attempts[1]!;
      expect(second.rateLimit?.scope).toBe('queue');
      expect(second.rateLimit?.limit).toBe('paused by a handler');
      expect(second.rateLimit?.waitedMs).toBeGreaterThanOrEqual(250);
      expect(second.startedAt - back.attempts[0]!.finishedAt).toBeGreaterThanOrEqual(290);
    });

    it("explains a waiting job held by its group's or its queue's empty bucket", async () => {
      const q = h.queue({ rateLimit: { group: { rate: 1, per: 60_000, burst: 1 } } });
      await q.add('a1', null, { group: 'A' });
      const a2 = await q.add('a2', null, { group: 'A' });
      expect((await claim(q, 10)).names).toEqual(['a1']);
      const why = await q.explain(a2.id);
      const hold = why.holds.find((x) => x.kind === 'rate-limit');
      expect(hold).toMatchObject({ kind: 'rate-limit', scope: 'group', group: 'A' });
      const until = (hold as { until: number }).until;
      expect(until).toBeGreaterThan(Date.now() + 55_000);
      expect((hold as { text: string }).text).toMatch(
        /^rate limit of group A \(1\/min\): empty until .* \(in (59|1 min|1\.0 min|60)/,
      );
      await q.setRateLimits({ queue: { rate: 1, per: 60_000, burst: 1 }, group: null });
      expect((await claim(q, 10)).names).toEqual(['a2']);
      const a3 = await q.add('a3', null);
      const held = (await q.explain(a3.id)).holds.filter((x) => x.kind === 'rate-limit');
      expect(held.map((x) => (x as { scope: string }).scope)).toEqual(['queue']);
    });

    it('cancels a waiting job of a group, and a group left empty stops taking turns', async () => {
      const q = h.queue();
      const a = await q.add('a1', null, { group: 'A' });
      await q.add('b1', null, { group: 'B' });
      await q.cancel(a.id, { by: 'test' });
      expect((await q.counts()).waiting).toBe(1);
      expect((await claim(q, 10)).names).toEqual(['b1']);
      await q.add('u1', null);
      expect((await claim(q, 10)).names).toEqual(['u1']);
    });

    it('refuses bad limits and group keys, naming the field', async () => {
      const q = h.queue();
      await expect(q.setRateLimits({ queue: { rate: 0 } })).rejects.toThrow(
        new ValidationError('settings.queue.rate', 'a number between 0.001 and 1000000', 0),
      );
      await expect(q.setRateLimits({ group: { rate: 5, burst: 1.5 } })).rejects.toThrow(
        /settings\.group\.burst/,
      );
      await expect(q.setRateLimits({ groups: { 'bad key': { rate: 1 } } })).rejects.toThrow(
        /settings\.groups key must be 1-128 characters/,
      );
      await expect(q.add('x', null, { group: 'a b' })).rejects.toThrow(/^options\.group must be/);
      expect(() => h.queue({ rateLimit: { queue: { rate: 1, per: 0 } } })).toThrow(
        /options\.rateLimit\.queue\.per/,
      );
    });
  });
}
