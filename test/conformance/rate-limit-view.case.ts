import { describe, expect, it } from 'vitest';

import { RateLimitError, ValidationError } from '../../src/errors.js';
import type { Queue } from '../../src/queue.js';
import type { GroupView } from '../../src/rate-limit.js';
import type { Harness } from './context.js';

/** The fields of a group row a test compares exactly (times are checked apart). */
function brief(g: GroupView): Record<string, unknown> {
  return {
    group: g.group,
    waiting: g.waiting,
    tokens: g.tokens,
    label: g.limit?.label ?? null,
    own: g.ownLimit,
    turn: g.turn ?? null,
    parked: g.parkedUntil !== undefined,
    paused: g.pause !== undefined,
  };
}

export function rateLimitViewCases(h: Harness): void {
  async function claim(q: Queue, max: number): Promise<string[]> {
    const res = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 60_000, max });
    return res.jobs.map((j) => j.name);
  }

  describe('rate-limit view (queue.rateLimitState)', () => {
    it('pages the groups taking turns in turn order, then the parked ones, with tokens by the same rule', async () => {
      const q = h.queue({ rateLimit: { group: { rate: 1, per: 60_000 }, groups: { B: { rate: 5 } } } });
      for (const n of ['a1', 'a2', 'a3']) await q.add(n, null, { group: 'A' });
      for (const n of ['b1', 'b2']) await q.add(n, null, { group: 'B' });
      await q.add('c1', null, { group: 'C' });
      await q.add('u1', null);
      const first = await q.rateLimitState({ limit: 2 });
      expect(first.queue).toEqual({ limit: null, tokens: null });
      expect(first.groupLimit).toEqual({ rate: 1, per: 60_000, burst: 1, label: '1/min' });
      expect(first.ownLimits).toBe(1);
      expect(first.counts).toEqual({ turns: 4, parked: 0, paused: 0 });
      expect(first.groups.map(brief)).toEqual([
        {
          group: 'A',
          waiting: 3,
          tokens: 1,
          label: '1/min',
          own: false,
          turn: 0,
          parked: false,
          paused: false,
        },
        { group: 'B', waiting: 2, tokens: 5, label: '5/s', own: true, turn: 1, parked: false, paused: false },
      ]);
      // Cursors are opaque, shaped as the API's others: base64url JSON.
      expect(first.nextCursor).toBe(Buffer.from('{"offset":2}').toString('base64url'));
      const second = await q.rateLimitState({ limit: 2, cursor: first.nextCursor });
      expect(second.groups.map(brief)).toEqual([
        {
          group: 'C',
          waiting: 1,
          tokens: 1,
          label: '1/min',
          own: false,
          turn: 2,
          parked: false,
          paused: false,
        },
        // The jobs without a group take one turn like a group; no group limit applies to them.
        {
          group: '',
          waiting: 1,
          tokens: null,
          label: null,
          own: false,
          turn: 3,
          parked: false,
          paused: false,
        },
      ]);
      expect(second.nextCursor).toBeUndefined();

      // One turn each, then A's bucket (1/min) is empty: A is parked until its next token; B
      // (5/s) serves its second job.
      expect(await claim(q, 10)).toEqual(['a1', 'b1', 'c1', 'u1', 'b2']);
      const after = await q.rateLimitState();
      expect(after.counts).toEqual({ turns: 0, parked: 1, paused: 0 });
      expect(after.groups.map(brief)).toEqual([
        {
          group: 'A',
          waiting: 2,
          tokens: 0,
          label: '1/min',
          own: false,
          turn: null,
          parked: true,
          paused: false,
        },
      ]);
      const a = after.groups[0]!;
      expect(a.nextTokenAt).toBeGreaterThan(after.at + 59_000);
      expect(a.nextTokenAt).toBeLessThanOrEqual(after.at + 60_000);
      expect(a.parkedUntil).toBe(a.nextTokenAt);
      expect(after.nextCursor).toBeUndefined();
      // Filters: parked only, turns only; one group by key (with no waiting job: its bucket still shows).
      expect((await q.rateLimitState({ filter: 'parked' })).groups.map((g) => g.group)).toEqual(['A']);
      expect((await q.rateLimitState({ filter: 'turns' })).groups).toEqual([]);
      const c = await q.rateLimitState({ group: 'C' });
      expect(c.groups.map(brief)).toEqual([
        {
          group: 'C',
          waiting: 0,
          tokens: 0,
          label: '1/min',
          own: false,
          turn: null,
          parked: false,
          paused: false,
        },
      ]);
      expect(c.nextCursor).toBeUndefined();
    });

    it('fills a page of waiting groups from the parked ones once the ring ends, and continues there', async () => {
      const q = h.queue({ rateLimit: { group: { rate: 1, per: 60_000 } } });
      for (const g of ['P1', 'P2', 'P3']) {
        await q.add(`${g}-1`, null, { group: g });
        await q.add(`${g}-2`, null, { group: g });
      }
      expect(await claim(q, 10)).toEqual(['P1-1', 'P2-1', 'P3-1']);
      await q.add('r1', null, { group: 'R' });
      const one = await q.rateLimitState({ limit: 2 });
      expect(one.counts).toEqual({ turns: 1, parked: 3, paused: 0 });
      expect(one.groups.map((g) => [g.group, g.turn ?? null, g.parkedUntil !== undefined])).toEqual([
        ['R', 0, false],
        ['P1', null, true],
      ]);
      expect(one.nextCursor).toBe(Buffer.from('{"offset":1,"phase":"p"}').toString('base64url'));
      const two = await q.rateLimitState({ limit: 2, cursor: one.nextCursor });
      expect(two.groups.map((g) => g.group)).toEqual(['P2', 'P3']);
      expect(two.nextCursor).toBeUndefined();
    });

    it("shows a handler's pause and why: the job, its attempt, the error's message, until when", async () => {
      const q = h.queue();
      const hit = await q.add('hits-429', null, { group: 'tenant-7' });
      await q.add('plain', null);
      let calls = 0;
      h.worker(q, async (job) => {
        if (job.name === 'hits-429' && calls++ === 0) {
          throw new RateLimitError({
            retryAfterMs: 60_000,
            scope: 'group',
            message: 'upstream said 429 <b>',
          });
        }
        if (job.name === 'plain' && calls < 5) {
          calls = 5;
          throw new RateLimitError({ retryAfterMs: 30_000, scope: 'queue' });
        }
      });
      const deadline = Date.now() + 5000;
      let view = await q.rateLimitState({ filter: 'paused' });
      while ((view.counts.paused < 1 || !view.queue.pause) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        view = await q.rateLimitState({ filter: 'paused' });
      }
      expect(view.counts.paused).toBe(1);
      const g = view.groups[0]!;
      expect(g.group).toBe('tenant-7');
      expect(g.waiting).toBe(1);
      expect(g.tokens).toBe(0);
      expect(g.pause).toMatchObject({ jobId: hit.id, attempt: 1, message: 'upstream said 429 <b>' });
      expect(g.pause!.until - g.pause!.at).toBe(60_000);
      expect(g.nextTokenAt).toBe(g.pause!.until);
      expect(view.queue.pause).toMatchObject({ attempt: 1, message: 'rate limited: retry after 30000 ms' });
      expect(view.queue.pause!.until - view.queue.pause!.at).toBe(30_000);
      expect(view.queue.tokens).toBe(0);
      expect(view.queue.nextTokenAt).toBe(view.queue.pause!.until);
      // A change of limits caps the buckets, which ends the pauses: the view says so.
      await q.setRateLimits({ queue: { rate: 100 }, group: { rate: 100 } });
      const lifted = await q.rateLimitState({ group: 'tenant-7' });
      expect(lifted.queue.pause).toBeUndefined();
      expect(lifted.groups[0]!.pause).toBeUndefined();
    });

    it('refuses a bad query, naming the field and the rule', async () => {
      const q = h.queue();
      await expect(q.rateLimitState({ filter: 'all' as never })).rejects.toThrow(
        new ValidationError('query.filter', 'one of waiting, turns, parked, paused', 'all'),
      );
      await expect(q.rateLimitState({ limit: 501 })).rejects.toThrow(/^query\.limit must be/);
      await expect(q.rateLimitState({ cursor: 'x:1' })).rejects.toThrow(
        /^query\.cursor must be the nextCursor of a previous page of filter waiting/,
      );
      const ringCursor = Buffer.from('{"offset":1,"phase":"t"}').toString('base64url');
      await expect(q.rateLimitState({ filter: 'paused', cursor: ringCursor })).rejects.toThrow(
        /^query\.cursor/,
      );
      await expect(q.rateLimitState({ group: 'a b' })).rejects.toThrow(/^query\.group must be/);
    });
  });
}
