/**
 * Bulk cancel, retry-now and replay by ids or by the jobs view's filters (the dashboard's bulk
 * actions): a dry run reports what would happen and changes nothing; the real run acts on each job
 * it can and reports the others with the message a single action would give.
 */
import { describe, expect, it } from 'vitest';

import { expectProblem, makeDead, setup } from './helpers.js';
import { MAX_ACTION_IDS } from '../../src/http/job-actions.js';

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
      more: false,
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
      more: false,
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
      more: false,
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
    expect(real.json()).toEqual({ dryRun: false, matched: 2, more: false, done: ids, failed: [] });
    const job = await q.getJob(ids[0]!);
    expect(job?.state).toBe('waiting');
    expect(job?.pendingManual).toMatchObject({ by: 'ops', note: 'fixed' });
  });
});

describe('bulk actions by filter (everything matching)', () => {
  it('cancels every job matching the filters, after a dry run listing the same jobs', async () => {
    const t = await setup();
    const q = t.queue('mail');
    const welcome = await q.addBulk([1, 2, 3].map((i) => ({ name: 'welcome', data: { i } })));
    const other = await q.add('digest', { i: 9 });
    const filter = { state: 'waiting', name: 'welcome' };
    const dry = await t.request('POST', '/queues/mail/jobs/cancel', { filter, by: 'ops', dryRun: true });
    const ids = welcome.map((a) => a.id).reverse(); // the search's order: newest created first
    expect(dry.json()).toEqual({ dryRun: true, matched: 3, more: false, done: ids, failed: [] });
    expect((await q.counts()).waiting).toBe(4);

    const real = await t.request('POST', '/queues/mail/jobs/cancel', { filter, by: 'ops', note: 'spam' });
    expect(real.json()).toEqual({ dryRun: false, matched: 3, more: false, done: ids, failed: [] });
    expect((await q.getJob(ids[0]!))?.cancelled).toMatchObject({ by: 'ops', reason: 'spam' });
    expect((await q.getJob(other.id))?.state).toBe('waiting');
  });

  it('takes at most `limit` jobs and says that more match', async () => {
    const t = await setup();
    const q = t.queue('mail');
    await q.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: 'n', data: { i } })));
    const res = await t.request('POST', '/queues/mail/jobs/cancel', {
      filter: { state: 'waiting', text: '"i":' },
      limit: 2,
      by: 'ops',
    });
    expect(res.json()).toMatchObject({ dryRun: false, matched: 2, more: true, failed: [] });
    expect((await q.counts()).waiting).toBe(3);
  });

  it('replays every dead job matching the filters through the DLQ replay (manual attempts)', async () => {
    const t = await setup();
    const q = t.queue('mail');
    const boom = await makeDead(t, 'mail', 2, 'E_BOOM');
    const other = await makeDead(t, 'mail', 1, 'E_OTHER');
    const filter = { state: 'dead', errorCode: 'E_BOOM' };
    const dry = await t.request('POST', '/queues/mail/jobs/replay', { filter, by: 'ops', dryRun: true });
    expect(dry.json()).toEqual({
      dryRun: true,
      matched: 2,
      more: false,
      done: [...boom].reverse(),
      failed: [],
    });
    expect((await q.counts()).dead).toBe(3);
    const real = await t.request('POST', '/queues/mail/jobs/replay', { filter, by: 'ops', note: 'fixed' });
    expect(real.json()).toMatchObject({ dryRun: false, matched: 2, more: false, failed: [] });
    const job = await q.getJob(boom[0]!);
    expect(job?.state).not.toBe('dead');
    expect(job?.state).toBe('waiting');
    expect(job?.pendingManual).toMatchObject({ by: 'ops', note: 'fixed' });
    expect((await q.getJob(other[0]!))?.state).toBe('dead');
    // Replay by ids too: a job that is not dead is reported, not replayed.
    const byIds = await t.request('POST', '/queues/mail/jobs/replay', {
      ids: [other[0], boom[1]],
      by: 'ops',
      dryRun: true,
    });
    expect(byIds.json()).toMatchObject({ matched: 2, done: [other[0]], failed: [{ id: boom[1] }] });
  });

  it('refuses ids with a filter, neither, a limit with ids, a bad limit or a bad filter, naming the field', async () => {
    const t = await setup();
    const post = (body: object) => t.request('POST', '/queues/mail/jobs/cancel', { by: 'ops', ...body });
    expect(expectProblem(await post({ ids: ['1'], filter: {} }), 400, 'RETRACED_ERR_VALIDATION').field).toBe(
      'body.filter',
    );
    expect(expectProblem(await post({}), 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.ids');
    expect(expectProblem(await post({ ids: ['1'], limit: 5 }), 400, 'RETRACED_ERR_VALIDATION').field).toBe(
      'body.limit',
    );
    expectProblem(await post({ filter: {}, limit: MAX_ACTION_IDS + 1 }), 400, 'RETRACED_ERR_VALIDATION');
    expectProblem(await post({ filter: { state: 'gone' } }), 400, 'RETRACED_ERR_VALIDATION');
    expect(
      expectProblem(await post({ filter: { from: 'yesterday' } }), 400, 'RETRACED_ERR_VALIDATION').field,
    ).toBe('body.filter.from');
  });

  it('serves dry runs on a read-only server and refuses the real run', async () => {
    const t = await setup({ readOnly: true });
    const q = t.queue('mail');
    const a = await q.add('n', {});
    const dry = await t.request('POST', '/queues/mail/jobs/cancel', {
      filter: { state: 'waiting' },
      by: 'ops',
      dryRun: true,
    });
    expect(dry.json()).toMatchObject({ dryRun: true, matched: 1, done: [a.id] });
    expectProblem(
      await t.request('POST', '/queues/mail/jobs/cancel', { filter: { state: 'waiting' }, by: 'ops' }),
      403,
      'RETRACED_ERR_READ_ONLY',
    );
    expect((await q.getJob(a.id))?.state).toBe('waiting');
  });
});
