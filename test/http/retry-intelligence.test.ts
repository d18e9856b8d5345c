import { describe, expect, it } from 'vitest';

import { setup } from './helpers.js';

async function settle(t: Awaited<ReturnType<typeof setup>>, queue: string, n: number): Promise<void> {
  const q = t.queue(queue);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = await q.counts();
    if (c.completed + c.dead === n) return;
    if (Date.now() > deadline) throw new Error(JSON.stringify(c));
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('retry intelligence over HTTP', () => {
  it('POST /queues/:queue/whatif replays recorded jobs, changes nothing, and is served read-only too', async () => {
    const t = await setup();
    const q = t.queue('wi');
    const retry = { attempts: 3, backoff: { type: 'fixed', delayMs: 5 } } as const;
    await q.addBulk([0, 1, 2, 5].map((fails) => ({ name: 'charge', data: { fails }, options: { retry } })));
    t.worker('wi', (job) => {
      if (job.attempt <= (job.data as { fails: number }).fails) {
        throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      }
      return 'ok';
    });
    await settle(t, 'wi', 4);
    const before = await q.counts();

    const res = await t.request('POST', '/queues/wi/whatif', {
      retry: { attempts: 1 },
      classify: { codes: { ECONNRESET: 'permanent' } },
      seed: 5,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.seed).toBe(5);
    expect(body.scope).toMatchObject({ read: 4, replayed: 4, truncated: false, limit: 10_000 });
    expect(body.comparison.recorded).toMatchObject({ jobs: 4, succeeded: 3, dead: 1, attempts: 9 });
    expect(body.comparison.alternative).toMatchObject({ known: 4, unknown: 0 });
    expect(body.comparison.alternative.optimistic).toMatchObject({ succeeded: 1, dead: 3, attempts: 4 });
    expect(body.classification).toMatchObject({ permanent: 6, jobsWithPermanent: 3, laterSucceeded: 2 });
    expect(await q.counts()).toEqual(before);

    const empty = await t.request('POST', '/queues/wi/whatif', { window: { from: '2000', to: '1000' } });
    expect(empty.json().scope).toMatchObject({ from: 2000, to: 1000, read: 0 });
    const bad = await t.request('POST', '/queues/wi/whatif', { window: { from: 'yesterday' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('body.window.from');
    const custom = await t.request('POST', '/queues/wi/whatif', {
      retry: { attempts: 2, backoff: { type: 'custom', name: 'x' } },
    });
    expect(custom.statusCode).toBe(400);

    const ro = await setup({ readOnly: true });
    expect((await ro.request('POST', '/queues/wi/whatif', {})).statusCode).toBe(200);
  });

  it('GET /queues/:queue/audit and /radar', async () => {
    const t = await setup();
    const q = t.queue('au');
    await q.add('x', {}, { retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 60_000 } } });
    t.worker('au', () => {
      throw new Error('down');
    });
    const deadline = Date.now() + 5000;
    while ((await q.counts()).scheduled === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }

    const audit = await t.request('GET', '/queues/au/audit?toleranceMs=10');
    expect(audit.statusCode).toBe(200);
    expect(audit.json()).toMatchObject({ queue: 'au', toleranceMs: 10, checked: { jobs: 0 }, findings: [] });
    expect((await t.request('GET', '/queues/au/audit?from=soon')).json().field).toBe('querystring.from');

    const radar = await t.request('GET', '/queues/au/radar?horizonMs=120000');
    expect(radar.statusCode).toBe(200);
    const r = radar.json();
    expect(r).toMatchObject({ retries: 1, firstRuns: 0, withoutJitter: ['x'] });
    expect(r.perSecond).toHaveLength(120);
    expect(r.perSecond[59] + r.perSecond[60]).toBe(1);
    expect((await t.request('GET', '/queues/au/radar?horizonMs=10')).statusCode).toBe(400);
  });
});
