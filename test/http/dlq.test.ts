import { describe, expect, it } from 'vitest';

import type { Job } from '../../src/types.js';
import { eventually, expectProblem, makeDead, setup, type TestApp } from './helpers.js';

interface DeadPage {
  jobs: { id: string; name: string; reason: string; fingerprint: string; errorCode?: string }[];
  nextCursor: string | null;
}

async function deadStory(): Promise<{ t: TestApp; one: string[]; two: string[] }> {
  const t = await setup();
  const one = await makeDead(t, 'q', 3, 'E_ONE', 'alpha');
  const two = await makeDead(t, 'q', 2, 'E_TWO', 'beta');
  return { t, one, two };
}

describe('GET /queues/:queue/dlq', () => {
  it('lists dead jobs, most recent first, filtered and paged', async () => {
    const { t, one, two } = await deadStory();
    const all = (await t.request('GET', '/queues/q/dlq')).json<DeadPage>();
    expect(all.jobs.map((j) => j.id)).toEqual(
      [...two, ...one].reverse().sort((a, b) => Number(b) - Number(a)),
    );
    expect(all.jobs[0]).toMatchObject({
      reason: 'permanent',
      errorCode: 'E_TWO',
      name: 'beta',
      fingerprint: expect.any(String),
    });
    const byCode = (
      await t.request('GET', '/queues/q/dlq?errorCode=E_ONE&reason=permanent,exhausted')
    ).json<DeadPage>();
    expect(byCode.jobs.map((j) => j.id).sort()).toEqual([...one].sort());
    const first = (await t.request('GET', '/queues/q/dlq?limit=2')).json<DeadPage>();
    const next = (
      await t.request('GET', `/queues/q/dlq?limit=2&cursor=${first.nextCursor}`)
    ).json<DeadPage>();
    const last = (await t.request('GET', `/queues/q/dlq?limit=2&cursor=${next.nextCursor}`)).json<DeadPage>();
    expect([...first.jobs, ...next.jobs, ...last.jobs].map((j) => j.id)).toEqual(all.jobs.map((j) => j.id));
    expect(last.nextCursor).toBeNull();
  });

  it('refuses an unknown reason and a fingerprint too long, by field', async () => {
    const t = await setup();
    expect(
      expectProblem(await t.request('GET', '/queues/q/dlq?reason=bored'), 400, 'RETRACED_ERR_VALIDATION')
        .field,
    ).toBe('querystring.reason');
    const long = await t.request('GET', `/queues/q/dlq?fingerprint=${'f'.repeat(65)}`);
    expect(expectProblem(long, 400, 'RETRACED_ERR_VALIDATION').field).toBe('querystring.fingerprint');
  });
});

describe('GET /queues/:queue/dlq/groups', () => {
  it('groups dead jobs by fingerprint with counts and first/last seen, busiest first', async () => {
    const { t } = await deadStory();
    const { groups } = (await t.request('GET', '/queues/q/dlq/groups')).json<{
      groups: { count: number; label: string; firstSeen: number; lastSeen: number }[];
    }>();
    expect(groups.map((g) => g.count)).toEqual([3, 2]);
    expect(groups[0]?.label).toContain('E_ONE');
    expect(groups[0]?.firstSeen).toBeLessThanOrEqual(groups[0]?.lastSeen ?? 0);
    expect(
      expectProblem(await t.request('GET', '/queues/no%2Fslash/dlq/groups'), 400, 'RETRACED_ERR_VALIDATION')
        .field,
    ).toBe('params.queue');
  });
});

describe('POST /queues/:queue/dlq/replay', () => {
  it('on a dry run, reports what would happen and changes nothing', async () => {
    const { t, one } = await deadStory();
    const { id: waiting } = await t.queue('q').add('n', 1);
    const before = await t.queue('q').counts();
    const feedBefore = await t.backend.readEvents('q', '0', 10_000);
    const res = await t.request('POST', '/queues/q/dlq/replay', {
      ids: [...one, waiting, 'ghost'],
      by: 'alice',
      dryRun: true,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      dryRun: true,
      matched: 5,
      replayed: one,
      failed: [
        { id: waiting, error: expect.stringMatching(/is waiting; this needs a job that is dead/) },
        { id: 'ghost', error: expect.stringMatching(/does not exist/) },
      ],
    });
    expect(await t.queue('q').counts()).toEqual(before);
    expect(await t.backend.readEvents('q', '0', 10_000)).toEqual(feedBefore);
  });

  it('on a dry run, reports patched data over the size limit per job, as the real run would', async () => {
    const t = await setup();
    const [id] = await makeDead(t, 'q', 1);
    const body = { ids: [id], by: 'alice', patch: { blob: 'b'.repeat(600_000) } };
    const dry = (await t.request('POST', '/queues/q/dlq/replay', { ...body, dryRun: true })).json<object>();
    expect(dry).toEqual({
      dryRun: true,
      matched: 1,
      replayed: [],
      failed: [
        { id, error: expect.stringMatching(/^patch \(applied to data\) must be at most 524288 bytes/) },
      ],
    });
    const real = (await t.request('POST', '/queues/q/dlq/replay', body)).json<object>();
    expect(real).toEqual({ ...dry, dryRun: false });
    expect((await t.queue('q').counts()).dead).toBe(1);
  });

  it('on a dry run by fingerprint, lists the group that would be replayed', async () => {
    const { t, two } = await deadStory();
    const [group] = (await t.request('GET', '/queues/q/dlq/groups'))
      .json<{ groups: { fingerprint: string; count: number }[] }>()
      .groups.filter((g) => g.count === 2);
    const res = await t.request('POST', '/queues/q/dlq/replay', {
      filter: { fingerprint: group?.fingerprint },
      by: 'alice',
      dryRun: true,
    });
    expect(res.json<{ replayed: string[] }>().replayed.sort()).toEqual([...two].sort());
    expect((await t.queue('q').counts()).dead).toBe(5);
  });

  it('replays by ids as a manual attempt with who, note and the data patch', async () => {
    const { t, one } = await deadStory();
    const id = one[0] as string;
    const res = await t.request('POST', '/queues/q/dlq/replay', {
      ids: [id],
      by: 'alice',
      note: 'fixed the template',
      patch: { i: 42 },
    });
    expect(res.json()).toEqual({ dryRun: false, matched: 1, replayed: [id], failed: [] });
    t.worker('q', () => 'ok');
    await eventually(async () => (await t.queue('q').getJob(id))?.state === 'completed');
    const job = (await t.request('GET', `/queues/q/jobs/${id}`)).json<Job>();
    expect(job.data).toEqual({ i: 42 });
    expect(job.attempts.map((a) => a.trigger)).toEqual(['auto', 'manual']);
    expect(job.attempts[1]?.manual).toMatchObject({
      by: 'alice',
      note: 'fixed the template',
      patch: [{ path: 'data.i', op: 'replace', before: 0, after: 42 }],
    });
  });

  it('replays by filter, at most limit jobs', async () => {
    const { t } = await deadStory();
    const res = await t.request('POST', '/queues/q/dlq/replay', {
      filter: { errorCode: 'E_ONE' },
      by: 'bob',
      limit: 2,
    });
    expect(res.json()).toMatchObject({ dryRun: false, matched: 2, failed: [] });
    expect(await t.queue('q').counts()).toMatchObject({ dead: 3, waiting: 2 });
  });

  it('refuses ids with a filter, neither, a missing by and an unknown reason, by field', async () => {
    const t = await setup();
    const cases: [unknown, string][] = [
      [{ ids: ['1'], filter: {}, by: 'a' }, 'body.filter'],
      [{ by: 'a' }, 'body.ids'],
      [{ ids: ['1'] }, 'body.by'],
      [{ filter: { reason: ['bored'] }, by: 'a' }, 'body.filter.reason[0]'],
      [{ filter: { from: 'last week' }, by: 'a' }, 'body.filter.from'],
      [{ ids: [], by: 'a' }, 'body.ids'],
      [{ ids: ['1'], by: 'a', dryRun: 'yes' }, 'body.dryRun'],
    ];
    for (const [body, field] of cases) {
      const p = expectProblem(
        await t.request('POST', '/queues/q/dlq/replay', body),
        400,
        'RETRACED_ERR_VALIDATION',
      );
      expect(p.field).toBe(field);
    }
  });
});

describe('POST /queues/:queue/dlq/replay: bad input found by a fuzzer (issue 9 §7)', () => {
  it('many ids with a large patch: ids are looked up by summary first, never loaded one by one', async () => {
    const t = await setup();
    const [id] = await makeDead(t, 'q', 1);
    let loads = 0;
    const getJob = t.backend.getJob.bind(t.backend);
    t.backend.getJob = (queue, jobId) => {
      loads++;
      return getJob(queue, jobId);
    };
    const ghosts = Array.from({ length: 150 }, (_, i) => `ghost-${i}`);
    const patch = { blob: 'b'.repeat(100_000) };
    const res = await t.request('POST', '/queues/q/dlq/replay', { ids: [...ghosts, id], by: 'ada', patch });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ replayed: string[]; failed: unknown[] }>()).toMatchObject({ replayed: [id] });
    expect(res.json<{ failed: unknown[] }>().failed).toHaveLength(150);
    // The dead job is read to patch it (and once more after); the 150 unknown ids never are.
    expect(loads).toBeLessThanOrEqual(2);
  });

  it('refuses more ids (or a larger limit) than one request may replay with its patch, naming the field', async () => {
    const t = await setup();
    const patch = { blob: 'b'.repeat(100_000) };
    const ids = Array.from({ length: 200 }, (_, i) => `id-${i}`);
    const tooMany = expectProblem(
      await t.request('POST', '/queues/q/dlq/replay', { ids, by: 'ada', patch }),
      400,
      'RETRACED_ERR_VALIDATION',
    );
    expect(tooMany.field).toBe('body.ids');
    expect(tooMany.detail).toMatch(/at most 167 distinct ids per call with a patch of 100011 bytes/);
    const limit = expectProblem(
      await t.request('POST', '/queues/q/dlq/replay', { filter: {}, by: 'ada', patch, limit: 1000 }),
      400,
      'RETRACED_ERR_VALIDATION',
    );
    expect(limit.field).toBe('body.limit');
  });

  it('a deeply nested patch on a dry run is a 400 naming the patch, not a per-job stack overflow', async () => {
    const t = await setup();
    const ids = await makeDead(t, 'q', 1);
    const depth = 100_000;
    const patch = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const res = await t.app.inject({
      method: 'POST',
      url: '/queues/q/dlq/replay',
      headers: { 'content-type': 'application/json' },
      payload: `{"ids":${JSON.stringify(ids)},"by":"ada","dryRun":true,"patch":${patch}}`,
    });
    const p = expectProblem(res, 400, 'RETRACED_ERR_VALIDATION');
    expect(p.field).toMatch(/^body\.patch(\.|$)/);
    expect(p.detail).toMatch(/nested at most 64 levels deep/);
    expect((await t.queue('q').counts()).dead).toBe(1);
  });
});

describe('POST /queues/:queue/dlq/purge', () => {
  it('on a dry run, lists what would be purged and deletes nothing', async () => {
    const { t, two } = await deadStory();
    const res = await t.request('POST', '/queues/q/dlq/purge', { filter: { name: 'beta' }, dryRun: true });
    expect(res.json<{ dryRun: boolean; purged: number; ids: string[] }>()).toMatchObject({
      dryRun: true,
      purged: 2,
    });
    expect(res.json<{ ids: string[] }>().ids.sort()).toEqual([...two].sort());
    expect((await t.queue('q').counts()).dead).toBe(5);
  });

  it('purges by ids (skipping jobs that are not dead) and by filter', async () => {
    const { t, one } = await deadStory();
    const { id: waiting } = await t.queue('q').add('n', 1);
    const byIds = await t.request('POST', '/queues/q/dlq/purge', { ids: [one[0], waiting] });
    expect(byIds.json()).toEqual({ dryRun: false, purged: 1 });
    const byFilter = await t.request('POST', '/queues/q/dlq/purge', { filter: {} });
    expect(byFilter.json()).toEqual({ dryRun: false, purged: 4 });
    expect(await t.queue('q').counts()).toMatchObject({ dead: 0, waiting: 1 });
  });

  it('refuses an empty body and unknown properties, by field', async () => {
    const t = await setup();
    expect(
      expectProblem(await t.request('POST', '/queues/q/dlq/purge', {}), 400, 'RETRACED_ERR_VALIDATION').field,
    ).toBe('body.ids');
    expect(
      expectProblem(
        await t.request('POST', '/queues/q/dlq/purge', { ids: ['a'], all: true }),
        400,
        'RETRACED_ERR_VALIDATION',
      ).field,
    ).toBe('body.all');
    expect(
      expectProblem(
        await t.request('POST', '/queues/q/dlq/purge', undefined, { 'content-type': 'application/json' }),
        400,
        'RETRACED_ERR_VALIDATION',
      ).field,
    ).toBe('body');
  });
});
