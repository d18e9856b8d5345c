import { describe, expect, it } from 'vitest';

import { expectProblem, setup } from './helpers.js';

describe('GET /queues/:queue/jobs/:id/why', () => {
  it('answers the holds of a job, in order, with their facts', async () => {
    const t = await setup();
    const q = t.queue('mail');
    await q.add('first', null, { priority: 3 });
    const { id } = await q.add('second', null, { delay: 60_000 });
    await q.pause();
    const res = await t.request('GET', `/queues/mail/jobs/${id}/why`);
    expect(res.statusCode).toBe(200);
    const e = res.json<{
      state: string;
      holds: { kind: string; cause?: string; inMs?: number }[];
      summary: string;
    }>();
    expect(e.state).toBe('scheduled');
    expect(e.holds.map((h) => h.kind)).toEqual(['due', 'paused', 'no-worker']);
    expect(e.holds[0]).toMatchObject({ cause: 'delay', attempt: 1 });
    expect(e.holds[0]!.inMs).toBeGreaterThan(59_000);
    expect(e.summary).toMatch(/^due in (59(\.\d)? s|1 min) \(.+\): added with a delay \(attempt 1\)$/);
    const waiting = (await q.add('third', null)).id;
    const w = (await t.request('GET', `/queues/mail/jobs/${waiting}/why`)).json<{
      holds: { kind: string }[];
    }>();
    expect(w.holds[1]).toMatchObject({
      kind: 'priority',
      ahead: 1,
      higher: 1,
      same: 0,
      aged: 0,
      priority: 0,
    });
    expectProblem(await t.request('GET', '/queues/mail/jobs/nope/why'), 404, 'RETRACED_ERR_JOB_NOT_FOUND');
  });
});
