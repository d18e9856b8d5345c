import { describe, expect, it } from 'vitest';

import { eventually, expectProblem, setup } from './helpers.js';

describe('/queues/:queue/retry-budget', () => {
  it("sets, reads and removes the queue's budget and a job name's own", async () => {
    const t = await setup();
    expect((await t.request('GET', '/queues/mail/retry-budget')).json()).toEqual({ budgets: [] });
    const put = await t.request('PUT', '/queues/mail/retry-budget', { ratio: 0.2 });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({
      budgets: [
        { name: null, ratio: 0.2, windowMs: 10_000, minPerSecond: 10, onExhausted: 'defer', bookedUntil: 0 },
      ],
    });
    await t.request('PUT', '/queues/mail/retry-budget', {
      name: 'digest',
      ratio: 0,
      windowSeconds: 60,
      minPerSecond: 1,
      onExhausted: 'dead',
    });
    const both = (await t.request('GET', '/queues/mail/retry-budget')).json<{
      budgets: { name: string | null }[];
    }>();
    expect(both.budgets.map((b) => b.name)).toEqual([null, 'digest']);
    expect(await t.queue('mail').getRetryBudgets()).toHaveLength(2);
    expect((await t.request('DELETE', '/queues/mail/retry-budget', {})).statusCode).toBe(200);
    await t.request('DELETE', '/queues/mail/retry-budget?name=digest', {});
    expect((await t.request('GET', '/queues/mail/retry-budget')).json()).toEqual({ budgets: [] });
  });

  it('/metrics shows how far ahead a budget books retries and counts the retries over it', async () => {
    const t = await setup();
    const q = t.queue('storm');
    await q.setRetryBudget({ ratio: 0, windowMs: 10_000, minPerSecond: 1 });
    for (let i = 0; i < 4; i++) {
      await q.add('n', i, { retry: { attempts: 2, backoff: { type: 'immediate' } } });
    }
    t.worker('storm', () => {
      throw new Error('down');
    });
    await eventually(async () => (await q.counts()).scheduled + (await q.counts()).dead >= 2);
    const text = (await t.request('GET', '/metrics')).body;
    expect(text).toMatch(
      /^retraced_retry_budget_over_total\{queue="storm",scope="\(queue\)",action="deferred"\} [1-9]/m,
    );
    const ahead =
      /^retraced_retry_budget_booked_ahead_seconds\{queue="storm",scope="\(queue\)"\} ([0-9.]+)$/m.exec(text);
    expect(Number(ahead?.[1])).toBeGreaterThan(0);
  });

  it('refuses a bad budget with a problem naming the field', async () => {
    const t = await setup();
    const bad = expectProblem(
      await t.request('PUT', '/queues/mail/retry-budget', { ratio: 0.2, windowSeconds: 3601 }),
      400,
      'RETRACED_ERR_VALIDATION',
    );
    expect(bad.field).toBe('body.windowSeconds');
    expect(
      expectProblem(
        await t.request('PUT', '/queues/mail/retry-budget', { ratio: 11 }),
        400,
        'RETRACED_ERR_VALIDATION',
      ).field,
    ).toBe('body.ratio');
  });
});
