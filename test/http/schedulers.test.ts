import { describe, expect, it } from 'vitest';

import { specText } from '../../src/schedule.js';
import { SchedulerLoop } from '../../src/scheduler-loop.js';
import { expectProblem, setup } from './helpers.js';

describe('schedulers', () => {
  it('PUT creates (201) then updates (200) by id; the same spec keeps its next run', async () => {
    const t = await setup();
    const body = {
      spec: { every: 60_000 },
      name: 'report',
      data: { v: 1 },
      options: { priority: 3, group: 'acme' },
    };
    const a = await t.request('PUT', '/queues/mail/schedulers/nightly', body);
    expect(a.statusCode).toBe(201);
    const s = a.json<{ nextRunAt: number; anchor: number }>();
    expect(a.json()).toMatchObject({
      id: 'nightly',
      queue: 'mail',
      spec: { every: 60_000 },
      name: 'report',
      data: { v: 1 },
      priority: 3,
      group: 'acme',
      missed: 'skip',
      overlap: 'allow',
      paused: false,
      created: true,
      specChanged: true,
    });
    expect(s.nextRunAt).toBe(s.anchor + 60_000);
    const b = await t.request('PUT', '/queues/mail/schedulers/nightly', {
      ...body,
      data: { v: 2 },
      missed: { each: 3 },
      overlap: 'skip',
    });
    expect(b.statusCode).toBe(200);
    expect(b.json()).toMatchObject({
      created: false,
      specChanged: false,
      nextRunAt: s.nextRunAt,
      data: { v: 2 },
      missed: { each: 3 },
      overlap: 'skip',
    });
    const cron = await t.request('PUT', '/queues/mail/schedulers/nightly', {
      spec: { cron: '0 3 * * *', tz: 'Europe/Paris' },
      name: 'report',
      data: null,
    });
    expect(cron.json()).toMatchObject({ specChanged: true, spec: { cron: '0 3 * * *', tz: 'Europe/Paris' } });
    const list = await t.request('GET', '/queues/mail/schedulers');
    expect(list.json<{ schedulers: { id: string }[] }>().schedulers.map((x) => x.id)).toEqual(['nightly']);
  });

  it('GET one shows its tick ledger and next runs; pause, resume and DELETE', async () => {
    const t = await setup();
    const q = t.queue('mail');
    await t.request('PUT', '/queues/mail/schedulers/fast', { spec: { every: 100 }, name: 'n', data: null });
    const loop = new SchedulerLoop({ backend: t.backend, queues: ['mail'] }).start();
    try {
      for (let i = 0; i < 200 && (await q.counts()).waiting < 2; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await loop.close();
    }
    const one = await t.request('GET', '/queues/mail/schedulers/fast?ticks=1');
    expect(one.statusCode).toBe(200);
    const d = one.json<{
      nextRunAt: number;
      anchor: number;
      ticks: { outcome: string; jobId: string; plannedAt: number }[];
      upcoming: number[];
      lastJobId: string;
    }>();
    expect(d.ticks).toHaveLength(1);
    expect(d.ticks[0]).toMatchObject({ outcome: 'created', jobId: d.lastJobId });
    expect(d.upcoming).toEqual([0, 1, 2, 3, 4].map((k) => d.nextRunAt + k * 100));
    const paused = await t.request('POST', '/queues/mail/schedulers/fast/pause', {});
    expect(paused.json()).toMatchObject({ id: 'fast', paused: true });
    expect((await t.request('GET', '/queues/mail/schedulers/fast')).json()).toMatchObject({ upcoming: [] });
    const resumed = await t.request('POST', '/queues/mail/schedulers/fast/resume', {});
    expect(resumed.json()).toMatchObject({ id: 'fast', paused: false });
    const del = await t.request('DELETE', '/queues/mail/schedulers/fast', {});
    expect(del.json()).toEqual({ id: 'fast', removed: true });
    expectProblem(
      await t.request('GET', '/queues/mail/schedulers/fast'),
      404,
      'RETRACED_ERR_SCHEDULER_NOT_FOUND',
    );
    expectProblem(
      await t.request('DELETE', '/queues/mail/schedulers/fast', {}),
      404,
      'RETRACED_ERR_SCHEDULER_NOT_FOUND',
    );
    expectProblem(
      await t.request('POST', '/queues/mail/schedulers/fast/pause', {}),
      404,
      'RETRACED_ERR_SCHEDULER_NOT_FOUND',
    );
    // The jobs it created stay.
    expect((await q.counts()).waiting).toBeGreaterThanOrEqual(2);
  });

  it('/metrics counts the occurrences a scheduler skipped, by reason', async () => {
    const t = await setup();
    const now = await t.backend.now();
    // Five minutes of a one-minute schedule missed while no loop ran (policy skip: all recorded as missed).
    await t.backend.upsertScheduler('mail', {
      id: 'late',
      spec: specText({ every: 60_000 }),
      anchor: now - 6 * 60_000 - 61_000,
      nextRunAt: now - 5 * 60_000 - 61_000,
      name: 'n',
      data: 'null',
      opts: JSON.stringify({ retry: { phases: [], maxAttempts: 1 }, timeoutMs: 0, maxStalls: 3 }),
      maxStalls: 3,
      missed: 'skip',
      overlap: 'allow',
    });
    await new SchedulerLoop({ backend: t.backend, queues: ['mail'] }).tickQueue('mail');
    const [entry] = (await t.queue('mail').schedulerTicks('late')).filter((e) => e.outcome === 'skipped');
    expect(entry?.reason).toBe('missed');
    const text = (await t.request('GET', '/metrics')).body;
    expect(text).toContain(
      `retraced_scheduler_ticks_skipped_total{queue="mail",reason="missed"} ${entry?.count}\n`,
    );
  });

  it('refuses bad input with a problem naming the field and the rule, and stores nothing', async () => {
    const t = await setup();
    const cases: [string, unknown, string, RegExp][] = [
      ['ok', { spec: { cron: '99 * * * *' }, name: 'n', data: 1 }, 'body.spec.cron', /valid cron/],
      ['ok', { spec: { cron: '* * * * *', tz: 'Nowhere/City' }, name: 'n', data: 1 }, 'body.spec.tz', /IANA/],
      ['ok', { spec: { every: 5 }, name: 'n', data: 1 }, 'body.spec.every', />= 100/],
      [
        'ok',
        { spec: { every: 500, cron: '* * * * *' }, name: 'n', data: 1 },
        'body.spec.cron',
        /not be set together with every/,
      ],
      ['ok', { spec: {}, name: 'n', data: 1 }, 'body.spec.cron', /required, or every instead/],
      ['ok', { spec: { every: 1000 }, name: 'n', data: 1, missed: 'all' }, 'body.missed', /./],
      ['ok', { spec: { every: 1000 }, name: 'n', data: 1, options: { delay: 5 } }, 'body.options.delay', /./],
      ['ok', { spec: { every: 1000 }, data: 1 }, 'body.name', /./],
      ['bad%20id!', { spec: { every: 1000 }, name: 'n', data: 1 }, 'params.id', /letters, digits/],
    ];
    for (const [id, body, field, rule] of cases) {
      const p = expectProblem(
        await t.request('PUT', `/queues/mail/schedulers/${id}`, body),
        400,
        'RETRACED_ERR_VALIDATION',
      );
      expect(p.field, JSON.stringify(body)).toBe(field);
      expect(p.detail).toMatch(rule);
    }
    expect((await t.request('GET', '/queues/mail/schedulers')).json()).toEqual({ schedulers: [] });
  });
});
