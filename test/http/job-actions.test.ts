/**
 * Bulk cancel and bulk retry-now by ids (the dashboard's bulk actions): a dry run reports what
 * would happen and changes nothing; the real run acts on each job it can and reports the others
 * with the message a single action would give.
 */
import { describe, expect, it } from 'vitest';

import { expectProblem, makeDead, setup } from './helpers.js';

describe('POST /queues/:queue/jobs/cancel', () => {
  it('dry run: lists what would be cancelled and why the others would not, changing nothing', async () => {
    const t = await setup();
    const q = t.queue('mail');
    const [dead] = await makeDead(t, 'mail', 1);
    const a = await q.add('one', {}, { delay: 60_000 });
    const b = await q.add('two', {});
    const res = await t.request('POST', '/queues/mail/jobs/cancel', {
      ids: [a.id, b.id, dead, 'missing', a.id],
      by: 'ops',
      dryRun: true,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      dryRun: true,
      matched: 4,
      done: [a.id, b.id],
      failed: [
        { id: dead, error: `job "${dead}" is dead; this needs a job that is scheduled, waiting or active` },
        { id: 'missing', error: 'job "missing" does not exist in queue "mail"' },
      ],
    });
    expect((await q.getJob(a.id))?.state).toBe('scheduled');
    expect((await q.getJob(b.id))?.state).toBe('waiting');
  });

  it('cancels each job it can, with who and why, and reports the rest', async () => {
    const t = await setup();
    const q = t.queue('mail');
    const a = await q.add('one', {}, { delay: 60_000 });
    const res = await t.request('POST', '/queues/mail/jobs/cancel', {
      ids: [a.id, 'missing'],
      by: 'ops',
      note: 'campaign stopped',
    });
    expect(res.json()).toEqual({
      dryRun: false,
      matched: 2,
      done: [a.id],
      failed: [{ id: 'missing', error: 'job "missing" does not exist in queue "mail"' }],
    });
    expect((await q.getJob(a.id))?.cancelled).toMatchObject({ by: 'ops', reason: 'campaign stopped' });
  });

  it('refuses a request without ids or who, or with too many ids', async () => {
    const t = await setup();
    expectProblem(
      await t.request('POST', '/queues/mail/jobs/cancel', { by: 'ops' }),
      400,
      'RETRACED_ERR_VALIDATION',
    );
    expectProblem(
      await t.request('POST', '/queues/mail/jobs/cancel', { ids: ['1'] }),
      400,
      'RETRACED_ERR_VALIDATION',
    );
    const ids = Array.from({ length: 1001 }, (_, i) => String(i));
    expectProblem(
      await t.request('POST', '/queues/mail/jobs/cancel', { ids, by: 'ops' }),
      400,
      'RETRACED_ERR_VALIDATION',
    );
  });
});

describe('POST /queues/:queue/jobs/retry', () => {
  it('dry run then real run: dead jobs run again as manual attempts with who and note', async () => {
    const t = await setup();
    const q = t.queue('mail');
    const ids = await makeDead(t, 'mail', 2);
    const waiting = await q.add('fresh', {});
    const dry = await t.request('POST', '/queues/mail/jobs/retry', {
      ids: [...ids, waiting.id],
      by: 'ops',
      dryRun: true,
    });
    expect(dry.json()).toEqual({
      dryRun: true,
      matched: 3,
      done: ids,
      failed: [
        {
          id: waiting.id,
          error: `job "${waiting.id}" is waiting; this needs a job that is dead or scheduled`,
        },
      ],
    });
    expect((await q.getJob(ids[0]!))?.state).toBe('dead');

    const real = await t.request('POST', '/queues/mail/jobs/retry', { ids, by: 'ops', note: 'fixed' });
    expect(real.json()).toEqual({ dryRun: false, matched: 2, done: ids, failed: [] });
    const job = await q.getJob(ids[0]!);
    expect(job?.state).toBe('waiting');
    expect(job?.pendingManual).toMatchObject({ by: 'ops', note: 'fixed' });
  });
});
