import { describe, expect, it } from 'vitest';

import { eventually, expectProblem, setup } from './helpers.js';

describe('queues', () => {
  it('GET /queues lists every queue with its counts and paused flag', async () => {
    const t = await setup();
    const now = await t.backend.now();
    const { id } = await t.queue('mail').add('n', 1, { runAt: now - 60_000, priority: 3 });
    await t.queue('mail').add('n', 1);
    await t.queue('sms').add('n', 1, { delay: 60_000 });
    await t.queue('sms').pause();
    const res = await t.request('GET', '/queues');
    expect(res.statusCode).toBe(200);
    const body = res.json<{ queues: { oldestWaiting: { waitedMs: number } | null }[] }>();
    const waitedMs = body.queues[0]?.oldestWaiting?.waitedMs ?? 0;
    expect(waitedMs).toBeGreaterThanOrEqual(60_000);
    expect(waitedMs).toBeLessThan(70_000);
    expect(body).toEqual({
      queues: [
        {
          name: 'mail',
          paused: false,
          counts: { scheduled: 0, waiting: 2, active: 0, completed: 0, dead: 0, cancelled: 0 },
          oldestWaiting: { id, since: now - 60_000, priority: 3, waitedMs },
          evictions: { completed: 0, dead: 0, cancelled: 0 },
          archive: { enabled: false, pending: 0, held: { completed: 0, dead: 0, cancelled: 0 } },
        },
        {
          name: 'sms',
          paused: true,
          counts: { scheduled: 1, waiting: 0, active: 0, completed: 0, dead: 0, cancelled: 0 },
          oldestWaiting: null,
          evictions: { completed: 0, dead: 0, cancelled: 0 },
          archive: { enabled: false, pending: 0, held: { completed: 0, dead: 0, cancelled: 0 } },
        },
      ],
    });
  });

  it('GET /queues/:queue shows counts, paused, retention and evictions', async () => {
    const t = await setup();
    await t.queue('mail').add('n', 1);
    const res = await t.request('GET', '/queues/mail');
    expect(res.json()).toEqual({
      name: 'mail',
      paused: false,
      counts: { scheduled: 0, waiting: 1, active: 0, completed: 0, dead: 0, cancelled: 0 },
      oldestWaiting: expect.objectContaining({ priority: 0 }),
      retention: {},
      evictions: { completed: 0, dead: 0, cancelled: 0 },
      archive: { enabled: false, pending: 0, held: { completed: 0, dead: 0, cancelled: 0 } },
    });
    expect(
      expectProblem(await t.request('GET', '/queues/bad%20name'), 400, 'RETRACED_ERR_VALIDATION').field,
    ).toBe('params.queue');
  });

  it('shows evictions and the archive backlog in GET /queues, GET /queues/:queue and /metrics', async () => {
    const t = await setup();
    const q = t.queue('kept');
    await q.setRetention({ completed: { count: 1 } });
    for (let i = 0; i < 3; i++) await q.add('n', i);
    t.worker('kept', () => 'ok');
    await eventually(async () => (await q.evictions()).completed === 2);
    const other = t.queue('arch');
    await t.backend.setArchive('arch', true);
    await other.setRetention({ completed: { count: 0 } });
    await other.add('n', 1);
    t.worker('arch', () => 'ok');
    // Archived nowhere yet: retention holds the finished job back instead of evicting it.
    await eventually(async () => (await t.backend.archiveStatus('arch')).held.completed === 1);
    const list = (await t.request('GET', '/queues')).json<{ queues: Record<string, unknown>[] }>();
    expect(list.queues.find((x) => x.name === 'kept')).toMatchObject({
      evictions: { completed: 2, dead: 0, cancelled: 0 },
      archive: { enabled: false },
    });
    expect((await t.request('GET', '/queues/arch')).json()).toMatchObject({
      evictions: { completed: 0, dead: 0, cancelled: 0 },
      archive: { enabled: true, pending: 1, held: { completed: 1, dead: 0, cancelled: 0 } },
    });
    const text = (await t.request('GET', '/metrics')).body;
    for (const line of [
      'retraced_jobs_evicted{queue="kept",state="completed"} 2',
      'retraced_jobs_evicted{queue="arch",state="completed"} 0',
      'retraced_archive_pending_jobs{queue="arch"} 1',
      'retraced_archive_held_jobs{queue="arch",state="completed"} 1',
    ]) {
      expect(text).toContain(`${line}\n`);
    }
    expect(text).not.toContain('retraced_archive_pending_jobs{queue="kept"}');
  });

  it('pauses and resumes a queue', async () => {
    const t = await setup();
    const paused = await t.request('POST', '/queues/mail/pause', {});
    expect(paused.json()).toEqual({ name: 'mail', paused: true });
    expect(await t.queue('mail').isPaused()).toBe(true);
    // A client that sets Content-Type but sends no body is answered like one that sends none.
    const resumed = await t.app.inject({
      method: 'POST',
      url: '/queues/mail/resume',
      headers: { 'content-type': 'application/json' },
    });
    expect(resumed.json()).toEqual({ name: 'mail', paused: false });
    expect(
      expectProblem(await t.request('POST', '/queues/!/pause', {}), 400, 'RETRACED_ERR_VALIDATION').field,
    ).toBe('params.queue');
    expect(
      expectProblem(
        await t.request('POST', `/queues/${'q'.repeat(65)}/resume`, {}),
        400,
        'RETRACED_ERR_VALIDATION',
      ).field,
    ).toBe('params.queue');
  });

  it('PUT /queues/:queue/retention sets and returns retention; bad values are named', async () => {
    const t = await setup();
    const res = await t.request('PUT', '/queues/mail/retention', {
      completed: { count: 100 },
      dead: { ageMs: 86_400_000 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ retention: { completed: { count: 100 }, dead: { ageMs: 86_400_000 } } });
    expect(await t.queue('mail').getRetention()).toEqual({
      completed: { count: 100 },
      dead: { ageMs: 86_400_000 },
    });
    const bad = await t.request('PUT', '/queues/mail/retention', { completed: { count: -1 } });
    expect(expectProblem(bad, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.completed.count');
    const unknown = await t.request('PUT', '/queues/mail/retention', { active: { count: 1 } });
    expect(expectProblem(unknown, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.active');
  });

  it('PUT /queues/:queue/priority-aging sets aging; GET reads it; bad values are named', async () => {
    const t = await setup();
    expect((await t.request('GET', '/queues/mail/priority-aging')).json()).toEqual({ agingMs: 0 });
    const res = await t.request('PUT', '/queues/mail/priority-aging', { agingMs: 5000 });
    expect(res.json()).toEqual({ agingMs: 5000 });
    expect(await t.queue('mail').getPriorityAging()).toBe(5000);
    const bad = await t.request('PUT', '/queues/mail/priority-aging', { agingMs: -1 });
    expect(expectProblem(bad, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.agingMs');
  });

  it('PUT /queues/:queue/default-priority: adds without a priority get it, explicit ones (0 too) keep theirs', async () => {
    const t = await setup();
    expect((await t.request('GET', '/queues/mail/default-priority')).json()).toEqual({ priority: 0 });
    const res = await t.request('PUT', '/queues/mail/default-priority', { priority: 7 });
    expect(res.json()).toEqual({ priority: 7 });
    expect(await t.queue('mail').getDefaultPriority()).toBe(7);
    const add = async (options?: object): Promise<string> =>
      (
        (
          await t.request('POST', '/queues/mail/jobs', {
            name: 'n',
            data: 1,
            ...(options ? { options } : {}),
          })
        ).json() as { id: string }
      ).id;
    const plain = await add();
    const zero = await add({ priority: 0 });
    const nine = await add({ priority: 9 });
    const pr = async (id: string): Promise<unknown> =>
      ((await t.request('GET', `/queues/mail/jobs/${id}`)).json() as { priority: number }).priority;
    expect([await pr(plain), await pr(zero), await pr(nine)]).toEqual([7, 0, 9]);
    // A bad value is named and changes nothing.
    for (const priority of [0.5, 1_000_001, '3']) {
      const bad = await t.request('PUT', '/queues/mail/default-priority', { priority });
      expect(expectProblem(bad, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.priority');
    }
    expect((await t.request('GET', '/queues/mail/default-priority')).json()).toEqual({ priority: 7 });
    await t.request('PUT', '/queues/mail/default-priority', { priority: 0 });
    expect(await pr(await add())).toBe(0);
  });

  it('adds jobs with a priority and shows it on the job; a bad priority is named', async () => {
    const t = await setup();
    const lo = (await t.request('POST', '/queues/mail/jobs', { name: 'lo', data: 1 })).json() as {
      id: string;
    };
    const hi = (
      await t.request('POST', '/queues/mail/jobs', { name: 'hi', data: 1, options: { priority: 9 } })
    ).json() as { id: string };
    expect((await t.request('GET', `/queues/mail/jobs/${hi.id}`)).json()).toMatchObject({ priority: 9 });
    expect((await t.request('GET', `/queues/mail/jobs/${lo.id}`)).json()).toMatchObject({ priority: 0 });
    const bad = await t.request('POST', '/queues/mail/jobs', {
      name: 'x',
      data: 1,
      options: { priority: 0.5 },
    });
    expect(expectProblem(bad, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.options.priority');
  });

  it('PUT /queues/:queue/rate-limits sets, keeps and removes limits; GET reads them; bad values are named', async () => {
    const t = await setup();
    expect((await t.request('GET', '/queues/mail/rate-limits')).json()).toEqual({
      queue: null,
      group: null,
      groups: {},
    });
    const set = await t.request('PUT', '/queues/mail/rate-limits', {
      queueLimit: { rate: 100 },
      groupLimit: { rate: 10, burst: 20 },
      groups: [{ group: 'tenant-42', rate: 2, per: 60_000 }],
    });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({
      queue: { rate: 100, per: 1000, burst: 100, label: '100/s' },
      group: { rate: 10, per: 1000, burst: 20, label: '10/s' },
      groups: { 'tenant-42': { rate: 2, per: 60_000, burst: 2, label: '2/min' } },
    });
    // Only what is named changes.
    const removed = await t.request('PUT', '/queues/mail/rate-limits', {
      remove: ['queueLimit'],
      removeGroups: ['tenant-42'],
    });
    expect(removed.json()).toEqual({
      queue: null,
      group: { rate: 10, per: 1000, burst: 20, label: '10/s' },
      groups: {},
    });
    expect((await t.queue('mail').getRateLimits()).group?.burst).toBe(20);
    const bad = await t.request('PUT', '/queues/mail/rate-limits', { queueLimit: { rate: 0 } });
    expect(expectProblem(bad, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.queueLimit.rate');
    const badGroup = await t.request('PUT', '/queues/mail/rate-limits', {
      groups: [{ group: 'no spaces', rate: 1 }],
    });
    expect(expectProblem(badGroup, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.groups[0].group');
  });

  it('GET /queues/:queue/rate-limits/state pages the groups with their buckets; bad queries are named', async () => {
    const t = await setup();
    const q = t.queue('mail');
    await q.setRateLimits({ queue: { rate: 100 }, group: { rate: 1, per: 60_000 } });
    for (const g of ['g1', 'g2', 'g3']) await q.add('n', null, { group: g });
    const first = await t.request('GET', '/queues/mail/rate-limits/state?limit=2');
    expect(first.statusCode).toBe(200);
    const body = first.json<{
      at: number;
      queue: unknown;
      groups: { group: string; turn: number; tokens: number }[];
      nextCursor: string;
    }>();
    expect(body.queue).toEqual({ limit: { rate: 100, per: 1000, burst: 100, label: '100/s' }, tokens: 100 });
    expect(body.groups.map((g) => [g.group, g.turn, g.tokens])).toEqual([
      ['g1', 0, 1],
      ['g2', 1, 1],
    ]);
    expect(body).toMatchObject({
      counts: { turns: 3, parked: 0, paused: 0 },
      ownLimits: 0,
      nextCursor: 'eyJvZmZzZXQiOjJ9', // {"offset":2}, as the API's other cursors
    });
    const second = await t.request('GET', `/queues/mail/rate-limits/state?limit=2&cursor=${body.nextCursor}`);
    expect(second.json<{ groups: { group: string }[] }>().groups.map((g) => g.group)).toEqual(['g3']);
    expect(second.json()).not.toHaveProperty('nextCursor');
    const one = await t.request('GET', '/queues/mail/rate-limits/state?group=g2');
    expect(one.json<{ groups: { group: string; waiting: number }[] }>().groups).toMatchObject([
      { group: 'g2', waiting: 1, turn: 1 },
    ]);
    // A cursor of another filter's pages (the parked phase of waiting), and one it never issued.
    const parkedPhase = Buffer.from('{"offset":0,"phase":"p"}').toString('base64url');
    const badCursor = await t.request(
      'GET',
      `/queues/mail/rate-limits/state?filter=turns&cursor=${parkedPhase}`,
    );
    expect(expectProblem(badCursor, 400, 'RETRACED_ERR_VALIDATION').field).toBe('querystring.cursor');
    const junk = await t.request('GET', '/queues/mail/rate-limits/state?cursor=t:2');
    expect(expectProblem(junk, 400, 'RETRACED_ERR_VALIDATION').field).toBe('querystring.cursor');
    const badFilter = await t.request('GET', '/queues/mail/rate-limits/state?filter=all');
    expect(expectProblem(badFilter, 400, 'RETRACED_ERR_VALIDATION').field).toBe('querystring.filter');
    const badGroup = await t.request('GET', '/queues/mail/rate-limits/state?group=a%20b');
    expect(expectProblem(badGroup, 400, 'RETRACED_ERR_VALIDATION').field).toBe('querystring.group');
  });

  it('adds a job to a group and shows the group on the job; a bad group is named', async () => {
    const t = await setup();
    const a = (
      await t.request('POST', '/queues/mail/jobs', { name: 'n', data: 1, options: { group: 'tenant-1' } })
    ).json() as { id: string };
    expect((await t.request('GET', `/queues/mail/jobs/${a.id}`)).json()).toMatchObject({ group: 'tenant-1' });
    const bad = await t.request('POST', '/queues/mail/jobs', {
      name: 'n',
      data: 1,
      options: { group: 'a/b' },
    });
    expect(expectProblem(bad, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.options.group');
  });
});
