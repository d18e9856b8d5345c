/**
 * Retry budgets on the memory backend under a manual clock: the exact placement (GCRA), the
 * deferral written into the decision, the `budget` event, dead-lettering with reason `budget`, and
 * per-name budgets. The same rule runs in Lua (conformance: retry-budget.case.ts; the fault suite).
 */
import { describe, expect, it } from 'vitest';

import type { FinishRequest } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { ManualClock } from '../../src/clock.js';
import { Queue } from '../../src/queue.js';
import {
  budgetAllowed,
  budgetExplanation,
  budgetPlace,
  resolveRetryBudget,
  type ResolvedRetryBudget,
} from '../../src/retry-budget.js';
import { finishOnly } from '../helpers/finish.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const opts = JSON.stringify({ retry: { phases: [], maxAttempts: 1 }, timeoutMs: 0, maxStalls: 2 });
const B: ResolvedRetryBudget = resolveRetryBudget({ ratio: 0.2, windowMs: 10_000, minPerSecond: 1 });

const fail = (id: string, attempt: number, delayMs = 0): FinishRequest => ({
  id,
  attempt,
  workerId: 'w',
  outcome: 'failed',
  error: { name: 'Error', message: 'down' },
  errorClass: 'temporary',
  rule: 'default',
  fingerprint: 'f',
  fingerprintLabel: 'Error||down',
  decision: {
    action: 'retry',
    delayMs,
    source: 'policy',
    explanation: 'immediate',
    detail: { strategy: 'immediate' },
  },
});

async function storm(b: MemoryBackend, name: string, n: number): Promise<string[]> {
  const added = await b.add(
    'q',
    Array.from({ length: n }, () => ({
      id: undefined,
      name,
      data: 'null',
      opts,
      maxStalls: 2,
      delayMs: 0,
      runAt: undefined,
    })),
  );
  const { jobs } = await b.claim('q', { workerId: 'w', leaseMs: 60_000, max: n });
  expect(jobs).toHaveLength(n);
  await finishOnly(
    b,
    'q',
    jobs.map((j) => fail(j.id, 1)),
  );
  return added.map((a) => a.id);
}

describe('retry budget rule', () => {
  it('allows ratio × first attempts + min × window, at least 1', () => {
    expect(budgetAllowed(B, 0)).toBe(10);
    expect(budgetAllowed(B, 4)).toBe(10);
    expect(budgetAllowed(B, 5)).toBe(11);
    expect(budgetAllowed(B, 230)).toBe(56);
    expect(budgetAllowed(resolveRetryBudget({ ratio: 0, minPerSecond: 0 }), 0)).toBe(1);
  });

  it('places retries at the budget rate past a burst of window / 10', () => {
    const t = T0 * 1000;
    // 10 allowed per 10 s: 1 s apart; tolerance 1 s.
    expect(budgetPlace(B, 1, 0, T0)).toEqual({ deferMs: 0, tatUs: t + 1_000_000 });
    expect(budgetPlace(B, 2, t + 1_000_000, T0)).toEqual({ deferMs: 0, tatUs: t + 2_000_000 });
    expect(budgetPlace(B, 3, t + 2_000_000, T0)).toEqual({ deferMs: 1000, tatUs: t + 3_000_000 });
    // A retry due later than the booking keeps its time.
    expect(budgetPlace(B, 3, t + 2_000_000, T0 + 5000)).toEqual({ deferMs: 0, tatUs: t + 6_000_000 });
    expect(budgetExplanation(B, 3, 1834, false)).toBe(
      'retry budget: 20 % of first attempts over 10 s + 1/s (allows 10 retries for 3 first attempts) used up; deferred 1.8 s',
    );
    expect(budgetExplanation(resolveRetryBudget({ ratio: 0.125 }), 0, 250, true)).toBe(
      'retry budget: 12.5 % of first attempts over 10 s + 10/s (allows 100 retries for 0 first attempts) used up; dead-lettered (onExhausted: dead)',
    );
  });

  it('refuses a bad budget, naming the field', () => {
    expect(() => resolveRetryBudget({ ratio: -1 })).toThrow(/^budget.ratio must be a number from 0 to 10/);
    expect(() => resolveRetryBudget({ ratio: 0.2, windowMs: 1500 })).toThrow(
      /^budget.windowMs must be whole seconds/,
    );
    expect(() => resolveRetryBudget({ ratio: 0.2, minPerSecond: 1.5 })).toThrow(
      /^budget.minPerSecond must be/,
    );
    expect(() => resolveRetryBudget({ ratio: 0.2, onExhausted: 'drop' })).toThrow(
      /^budget.onExhausted must be/,
    );
    expect(() => resolveRetryBudget({ ratio: 0.2, burst: 3 })).toThrow(
      /^budget.burst must be not a budget setting/,
    );
  });
});

describe('retry budget in the finish transition (memory, manual clock)', () => {
  it('defers the retries over budget, recording why, and publishes a budget event', async () => {
    const clock = new ManualClock(T0);
    const b = new MemoryBackend({ clock });
    const queue = new Queue('q', { backend: b });
    await queue.setRetryBudget({ ratio: 0.2, windowMs: 10_000, minPerSecond: 1 });
    const ids = await storm(b, 'n', 4);
    const decisions = await Promise.all(ids.map(async (id) => (await b.getAttempts('q', id))![0]!.decision));
    expect(decisions.map((d) => (d.action === 'retry' ? d.delayMs : -1))).toEqual([0, 0, 1000, 2000]);
    expect(decisions[2]).toEqual({
      action: 'retry',
      delayMs: 1000,
      source: 'policy',
      explanation:
        'immediate; retry budget: 20 % of first attempts over 10 s + 1/s (allows 10 retries for 3 first attempts) used up; deferred 1.0 s',
      detail: { strategy: 'immediate' },
      budget: { deferredMs: 1000, firstAttempts: 3, allowed: 10 },
      nextDueAt: T0 + 1000,
    });
    expect((await b.getJob('q', ids[3]!))?.state).toBe('scheduled');
    const events = (await b.readEvents('q', '0', 100)).filter((e) => e.type === 'budget');
    expect(events.map((e) => [e.jobId, e.fields])).toEqual([
      [ids[2], { scope: '', deferred: '1000', attempt: '1' }],
      [ids[3], { scope: '', deferred: '2000', attempt: '1' }],
    ]);
    expect(await queue.getRetryBudgets()).toEqual([
      {
        name: null,
        ratio: 0.2,
        windowMs: 10_000,
        minPerSecond: 1,
        onExhausted: 'defer',
        bookedUntil: T0 + 4000,
      },
    ]);
  });

  it("dead-letters over budget with reason budget when onExhausted is 'dead'; a name's own budget wins", async () => {
    const clock = new ManualClock(T0);
    const b = new MemoryBackend({ clock });
    const queue = new Queue('q', { backend: b });
    await queue.setRetryBudget({ ratio: 0, windowMs: 10_000, minPerSecond: 1, onExhausted: 'dead' });
    await queue.setRetryBudget({ ratio: 0, windowMs: 10_000, minPerSecond: 100 }, { name: 'vip' });
    const plain = await storm(b, 'n', 3);
    const states = await Promise.all(plain.map(async (id) => (await b.getJob('q', id))?.state));
    expect(states).toEqual(['waiting', 'waiting', 'dead']);
    const dead = (await b.getJob('q', plain[2]!))!;
    expect(dead.attempts[0]?.decision).toEqual({
      action: 'dead',
      reason: 'budget',
      explanation:
        'retry budget: 0 % of first attempts over 10 s + 1/s (allows 10 retries for 3 first attempts) used up; dead-lettered (onExhausted: dead)',
    });
    // 100/s for vip: 1,000 per window, 10 ms apart, 1 s of burst: all 3 retry at once.
    const vip = await storm(b, 'vip', 3);
    expect(await Promise.all(vip.map(async (id) => (await b.getJob('q', id))?.state))).toEqual([
      'waiting',
      'waiting',
      'waiting',
    ]);
    expect((await queue.getRetryBudgets()).map((x) => [x.name, x.minPerSecond, x.onExhausted])).toEqual([
      [null, 1, 'dead'],
      ['vip', 100, 'defer'],
    ]);
    await queue.setRetryBudget(null, { name: 'vip' });
    await queue.setRetryBudget(null);
    expect(await queue.getRetryBudgets()).toEqual([]);
  });
});
