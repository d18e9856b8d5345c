import { describe, expect, it } from 'vitest';

import { SchedulerNotFoundError, ValidationError } from '../../src/errors.js';
import type { Queue } from '../../src/queue.js';
import { specText, type SchedulerUpsert } from '../../src/schedule.js';
import { SchedulerLoop } from '../../src/scheduler-loop.js';
import { finishOnly } from '../helpers/finish.js';
import type { Harness } from './context.js';
import { sleep, waitForState, waitUntil } from './context.js';

const opts = JSON.stringify({ retry: { phases: [], maxAttempts: 1 }, timeoutMs: 0, maxStalls: 3 });

/** Schedulers: upsert, ticks through the shared job creation, the ledger, missed and overlap policies. */
export function schedulerCases(h: Harness): void {
  describe('schedulers', () => {
    /** A scheduler stored through the port, with its anchor and first run chosen by the test. */
    async function stored(
      q: Queue,
      id: string,
      over: Partial<SchedulerUpsert> & { every: number },
    ): Promise<void> {
      const { every, ...rest } = over;
      const now = await h.backend.now();
      await h.backend.upsertScheduler(q.name, {
        id,
        spec: specText({ every }),
        anchor: now,
        nextRunAt: now + every,
        name: 'tick',
        data: '{"n":1}',
        opts,
        maxStalls: 3,
        missed: 'skip',
        overlap: 'allow',
        ...rest,
      });
    }

    const loop = (q: Queue): SchedulerLoop =>
      new SchedulerLoop({ backend: h.backend, queues: [q.name], rescanMs: 120_000 });

    it('upserts by id: the same spec again keeps the next run; data and policies are replaced', async () => {
      const q = h.queue();
      const a = await q.schedule('s1', { every: 60_000 }, { name: 'report', data: { v: 1 } });
      expect(a).toMatchObject({ id: 's1', created: true, specChanged: true, spec: { every: 60_000 } });
      expect(a.nextRunAt).toBe(a.anchor + 60_000);
      const b = await q.schedule('s1', { every: 60_000 }, { name: 'report', data: { v: 2 }, missed: 'once' });
      expect(b).toMatchObject({ created: false, specChanged: false, nextRunAt: a.nextRunAt, data: { v: 2 } });
      expect(b.missed).toBe('once');
      const c = await q.schedule(
        's1',
        { cron: '0 3 * * *', tz: 'Europe/Paris' },
        { name: 'report', data: {} },
      );
      expect(c).toMatchObject({
        created: false,
        specChanged: true,
        spec: { cron: '0 3 * * *', tz: 'Europe/Paris' },
      });
      expect((await q.schedulers()).map((s) => s.id)).toEqual(['s1']);
    });

    it('many concurrent upserts of one id give one scheduler, created once', async () => {
      const q = h.queue();
      const results = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          q.schedule('same', { every: 30_000 }, { name: 'job', data: { from: i } }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.nextRunAt)).size).toBe(1);
      const list = await q.schedulers();
      expect(list).toHaveLength(1);
      expect(list[0]?.id).toBe('same');
    });

    it('refuses bad input naming the field, and stores nothing', async () => {
      const q = h.queue();
      const bad: [() => Promise<unknown>, string][] = [
        [() => q.schedule('x', { cron: '99 * * * *' }, { name: 'n', data: 1 }), 'spec.cron'],
        [() => q.schedule('x', { cron: '* * * * *', tz: 'Nowhere/City' }, { name: 'n', data: 1 }), 'spec.tz'],
        [() => q.schedule('bad id!', { every: 1000 }, { name: 'n', data: 1 }), 'id'],
        // A URL path resolves '.' and '..' away: such a scheduler could not be reached over HTTP.
        [() => q.schedule('.', { every: 1000 }, { name: 'n', data: 1 }), 'id'],
        [() => q.schedule('..', { every: 1000 }, { name: 'n', data: 1 }), 'id'],
        [
          () => q.schedule('x', { every: 1000 }, { name: 'n', data: 1, missed: 'all' as never }),
          'template.missed',
        ],
        [
          () => q.schedule('x', { every: 1000 }, { name: 'n', data: 1, options: { delay: 5 } as never }),
          'template.options.delay',
        ],
      ];
      for (const [call, field] of bad) {
        const e = await call().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as ValidationError).field).toBe(field);
      }
      expect(await q.schedulers()).toEqual([]);
      await expect(q.getScheduler('x')).rejects.toBeInstanceOf(SchedulerNotFoundError);
    });

    it('a due tick creates its job like add does: trigger schedule, due at the planned time, ledger entry', async () => {
      const q = h.queue();
      const now = await h.backend.now();
      const planned = now - 20;
      await stored(q, 'due', { every: 60_000, anchor: planned - 60_000, nextRunAt: planned });
      expect(await loop(q).tickQueue(q.name)).toBeGreaterThan(50_000);
      const jobId = `sch:due:${planned}`;
      const job = await q.getJob(jobId);
      expect(job).toMatchObject({
        state: 'waiting',
        name: 'tick',
        data: { n: 1 },
        dueAt: planned,
        scheduler: { id: 'due', plannedAt: planned },
      });
      const s = await q.getScheduler('due');
      expect(s.nextRunAt).toBe(planned + 60_000);
      expect(s.lastJobId).toBe(jobId);
      const [entry, ...rest] = await q.schedulerTicks('due');
      expect(rest).toEqual([]);
      expect(entry).toMatchObject({ plannedAt: planned, outcome: 'created', jobId });
      expect(entry!.at).toBeGreaterThanOrEqual(planned);
      const added = (await h.backend.readEvents(q.name, '0', 100)).filter((e) => e.type === 'added');
      expect(added.map((e) => [e.jobId, e.fields.scheduler])).toEqual([[jobId, 'due']]);
      // The attempt in progress says which tick created it already.
      const claimed = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 1 });
      const tick = {
        scheduler: 'due',
        missed: 'skip',
        plannedAt: planned,
        createdAt: entry!.at,
        lateMs: entry!.at - planned,
        skipped: 0,
        explanation: `created ${entry!.at - planned} ms after its planned time`,
      };
      expect((await q.getJob(jobId))?.current?.schedule).toEqual(tick);
      await finishOnly(h.backend, q.name, [
        {
          id: jobId,
          attempt: claimed.jobs[0]!.attempt,
          workerId: 'w',
          outcome: 'failed',
          error: { name: 'Error', message: 'x' },
          errorClass: 'temporary',
          decision: {
            action: 'retry',
            delayMs: 0,
            source: 'policy',
            explanation: 'again',
            detail: { strategy: 'immediate' },
          },
        },
      ]);
      h.worker(q, async () => 'ok');
      const done = await waitForState(q, jobId, 'completed');
      expect(done.attempts[0]).toMatchObject({ trigger: 'schedule', dueAt: planned, schedule: tick });
      // Only the first attempt is the tick's.
      expect(done.attempts[1]).toMatchObject({ trigger: 'auto' });
      expect(done.attempts[1]?.schedule).toBeUndefined();
    });

    it("a scheduler's job waits at its priority, as add puts it (both backends, low and high)", async () => {
      const q = h.queue();
      await q.add('plain', null);
      await q.add('p3', null, { priority: 3 });
      const now = await h.backend.now();
      const planned = now - 20;
      for (const [id, priority] of [
        ['hi', 7],
        ['lo', -2],
      ] as const) {
        await stored(q, id, { every: 60_000, anchor: planned - 60_000, nextRunAt: planned, priority });
      }
      await loop(q).tickQueue(q.name);
      expect((await q.getJob(`sch:hi:${planned}`))?.priority).toBe(7);
      expect((await q.getJob(`sch:lo:${planned}`))?.priority).toBe(-2);
      expect((await q.getScheduler('hi')).priority).toBe(7);
      expect((await q.getJobs('waiting')).map((j) => j.id)).toEqual([
        `sch:hi:${planned}`,
        expect.any(String),
        expect.any(String),
        `sch:lo:${planned}`,
      ]);
      const res = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 10 });
      expect(res.jobs.map((j) => j.name)).toEqual(['tick', 'p3', 'plain', 'tick']);
      expect(res.jobs.map((j) => j.id)[0]).toBe(`sch:hi:${planned}`);
    });

    it('Queue.schedule stores the priority of template.options (default: the queue default)', async () => {
      const q = h.queue({ defaultPriority: 4 });
      expect((await q.schedule('a', { every: 60_000 }, { name: 'n', data: null })).priority).toBe(4);
      const b = await q.schedule(
        'b',
        { every: 60_000 },
        { name: 'n', data: null, options: { priority: -9 } },
      );
      expect(b.priority).toBe(-9);
      expect((await q.getScheduler('b')).priority).toBe(-9);
    });

    it("a scheduler's jobs take their group's turns and limit (template.options.group), as add puts them", async () => {
      const q = h.queue();
      const s = await q.schedule(
        'tenant',
        { every: 60_000 },
        { name: 'n', data: null, options: { group: 'tenant-7', priority: 2 } },
      );
      expect(s.group).toBe('tenant-7');
      expect((await q.getScheduler('tenant')).group).toBe('tenant-7');
      expect((await q.schedule('plain', { every: 60_000 }, { name: 'n', data: null })).group).toBeUndefined();
      const bad = await q
        .schedule('bad', { every: 60_000 }, { name: 'n', data: null, options: { group: 'no spaces' } })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(bad).toBeInstanceOf(ValidationError);
      expect((bad as ValidationError).field).toBe('template.options.group');
      // A tick's job waits in its group: with the group's limit at 1/min and one job of the group
      // already taking the token, the scheduler's job is held; an ungrouped job is not.
      await q.setRateLimits({ groups: { 'tenant-7': { rate: 1, per: 60_000 } } });
      await q.add('first', null, { group: 'tenant-7' });
      const now = await h.backend.now();
      const planned = now - 20;
      await stored(q, 'g', {
        every: 60_000,
        anchor: planned - 60_000,
        nextRunAt: planned,
        group: 'tenant-7',
      });
      await loop(q).tickQueue(q.name);
      const jobId = `sch:g:${planned}`;
      expect(await q.getJob(jobId)).toMatchObject({ state: 'waiting', group: 'tenant-7' });
      await q.add('free', null);
      const res = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 10 });
      expect(res.jobs.map((j) => j.name).sort()).toEqual(['first', 'free']);
      expect((await q.getJob(jobId))?.state).toBe('waiting');
    });

    it('two loops ticking at once create each job once', async () => {
      const q = h.queue();
      const now = await h.backend.now();
      await stored(q, 'race', { every: 60_000, anchor: now - 60_010, nextRunAt: now - 10 });
      const statuses: string[] = [];
      const mk = (): SchedulerLoop =>
        new SchedulerLoop({
          backend: h.backend,
          queues: [q.name],
          onTick: (_q, r) => statuses.push(r.status),
        });
      await Promise.all([mk().tickQueue(q.name), mk().tickQueue(q.name), mk().tickQueue(q.name)]);
      expect(statuses.filter((s) => s === 'ticked')).toHaveLength(1);
      expect((await q.counts()).waiting).toBe(1);
      expect(await q.schedulerTicks('race')).toHaveLength(1);
    });

    describe('missed ticks after downtime', () => {
      /** A 1 s scheduler whose first run was ~10.5 s ago: 10 or 11 occurrences are due. */
      async function downtime(q: Queue, missed: string): Promise<number> {
        const now = await h.backend.now();
        const anchor = now - 11_500;
        await stored(q, 'm', { every: 1000, anchor, nextRunAt: anchor + 1000, missed });
        return anchor;
      }
      const dueCount = (anchor: number, next: number): number => (next - anchor) / 1000 - 1;

      it('skip: runs the latest occurrence only, the rest recorded as missed', async () => {
        const q = h.queue();
        const anchor = await downtime(q, 'skip');
        await loop(q).tickQueue(q.name);
        const s = await q.getScheduler('m');
        const due = dueCount(anchor, s.nextRunAt);
        const ledger = await q.schedulerTicks('m');
        expect(ledger).toHaveLength(2);
        expect(ledger[0]).toMatchObject({ outcome: 'created', plannedAt: s.nextRunAt - 1000 });
        expect(ledger[1]).toMatchObject({
          outcome: 'skipped',
          reason: 'missed',
          plannedAt: anchor + 1000,
          lastPlannedAt: s.nextRunAt - 2000,
          count: due - 1,
        });
        expect((await q.counts()).waiting).toBe(1);
      });

      it('once: one job for all of them', async () => {
        const q = h.queue();
        const anchor = await downtime(q, 'once');
        await loop(q).tickQueue(q.name);
        const s = await q.getScheduler('m');
        const ledger = await q.schedulerTicks('m');
        expect(ledger.map((e) => e.outcome)).toEqual(['created', 'skipped']);
        expect(ledger[1]!.count).toBe(dueCount(anchor, s.nextRunAt) - 1);
        expect((await q.counts()).waiting).toBe(1);
        // Its job's first attempt says how late it was made and what the policy left out.
        const n = ledger[1]!.count!;
        const res = await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 1 });
        const current = (await q.getJob(res.jobs[0]!.id))?.current;
        expect(current?.schedule).toMatchObject({
          scheduler: 'm',
          missed: 'once',
          plannedAt: ledger[0]!.plannedAt,
          createdAt: ledger[0]!.at,
          skipped: n,
        });
        expect(current?.schedule?.explanation).toBe(
          `created ${ledger[0]!.at - ledger[0]!.plannedAt} ms after its planned time; ${n} earlier occurrence${n === 1 ? '' : 's'} missed`,
        );
      });

      it('each: one job per missed occurrence, up to the bound', async () => {
        const q = h.queue();
        const anchor = await downtime(q, 'each:3');
        await loop(q).tickQueue(q.name);
        const s = await q.getScheduler('m');
        const ledger = await q.schedulerTicks('m');
        expect(ledger.map((e) => e.outcome)).toEqual(['created', 'created', 'created', 'skipped']);
        expect(ledger.slice(0, 3).map((e) => e.plannedAt)).toEqual([
          s.nextRunAt - 1000,
          s.nextRunAt - 2000,
          s.nextRunAt - 3000,
        ]);
        expect(ledger[3]!.count).toBe(dueCount(anchor, s.nextRunAt) - 3);
        expect((await q.counts()).waiting).toBe(3);
      });
    });

    it('overlap skip: a tick while the previous job is unfinished is skipped and recorded', async () => {
      const q = h.queue();
      const now = await h.backend.now();
      await stored(q, 'o', { every: 60_000, anchor: now - 60_010, nextRunAt: now - 10, overlap: 'skip' });
      await loop(q).tickQueue(q.name);
      // Make the next run due again, through a second scheduler state read: move it by an upsert
      // with a changed spec and a first run in the past.
      const t = await h.backend.now();
      await stored(q, 'o', { every: 50_000, anchor: t - 50_010, nextRunAt: t - 10, overlap: 'skip' });
      await loop(q).tickQueue(q.name);
      const ledger = await q.schedulerTicks('o');
      expect(ledger.map((e) => [e.outcome, e.reason])).toEqual([
        ['skipped', 'overlap'],
        ['created', undefined],
      ]);
      expect((await q.counts()).waiting).toBe(1);
    });

    it('pause stops ticking; resume records what the pause skipped and plans from now', async () => {
      const q = h.queue();
      const now = await h.backend.now();
      await stored(q, 'p', { every: 100, anchor: now, nextRunAt: now + 100 });
      const paused = await q.pauseScheduler('p');
      expect(paused.paused).toBe(true);
      expect((await h.backend.dueSchedulers(q.name, 10)).due).toEqual([]);
      await sleep(350);
      expect((await h.backend.dueSchedulers(q.name, 10)).due).toEqual([]);
      const before = await h.backend.now();
      const resumed = await q.resumeScheduler('p');
      const t = await h.backend.now();
      expect(resumed.paused).toBe(false);
      // The next run counts from the resume (not from the ticks planned while paused).
      expect(resumed.nextRunAt).toBeGreaterThan(before);
      expect(resumed.nextRunAt).toBeLessThanOrEqual(t + 100);
      const [entry] = await q.schedulerTicks('p');
      expect(entry).toMatchObject({ outcome: 'skipped', reason: 'paused', plannedAt: now + 100 });
      expect(entry!.count).toBeGreaterThanOrEqual(3);
      expect((await q.counts()).waiting).toBe(0);
      const events = (await h.backend.readEvents(q.name, '0', 1000)).filter(
        (e) => e.type === 'tick-skipped' || (e.type === 'scheduler' && e.fields.action !== 'created'),
      );
      expect(events.map((e) => e.fields)).toEqual([
        { scheduler: 'p', action: 'paused', next: String(now + 100) },
        { scheduler: 'p', reason: 'paused', plannedAt: String(now + 100), count: String(entry!.count) },
        { scheduler: 'p', action: 'resumed', next: String(resumed.nextRunAt) },
      ]);
    });

    it('publishes skipped ticks and scheduler changes on the event feed, as the ledger has them', async () => {
      const q = h.queue();
      const now = await h.backend.now();
      // Created, then ticked late: 5 occurrences missed while no loop ran (policy skip, > grace).
      await stored(q, 'e', {
        every: 60_000,
        anchor: now - 6 * 60_000 - 61_000,
        nextRunAt: now - 5 * 60_000 - 61_000,
      });
      await loop(q).tickQueue(q.name);
      const [missed] = (await q.schedulerTicks('e')).filter((t) => t.outcome === 'skipped');
      expect(missed).toMatchObject({ outcome: 'skipped', reason: 'missed' });
      expect(missed!.count).toBeGreaterThanOrEqual(5);
      await q.pauseScheduler('e');
      await q.removeScheduler('e');
      const events = (await h.backend.readEvents(q.name, '0', 1000))
        .filter((e) => e.type === 'scheduler' || e.type === 'tick-skipped')
        .map((e) => ({ type: e.type, jobId: e.jobId, ...e.fields }));
      expect(events).toEqual([
        {
          type: 'scheduler',
          jobId: undefined,
          scheduler: 'e',
          action: 'created',
          next: String(now - 5 * 60_000 - 61_000),
        },
        {
          type: 'tick-skipped',
          jobId: undefined,
          scheduler: 'e',
          reason: 'missed',
          plannedAt: String(missed!.plannedAt),
          count: String(missed!.count),
        },
        {
          type: 'scheduler',
          jobId: undefined,
          scheduler: 'e',
          action: 'paused',
          next: expect.any(String) as string,
        },
        { type: 'scheduler', jobId: undefined, scheduler: 'e', action: 'removed', next: '' },
      ]);
    });

    it('remove deletes the scheduler and its ledger, and keeps its jobs', async () => {
      const q = h.queue();
      const now = await h.backend.now();
      await stored(q, 'r', { every: 60_000, anchor: now - 60_010, nextRunAt: now - 10 });
      await loop(q).tickQueue(q.name);
      await q.removeScheduler('r');
      await expect(q.getScheduler('r')).rejects.toBeInstanceOf(SchedulerNotFoundError);
      expect(await h.backend.schedulerTicks(q.name, 'r', 10)).toEqual([]);
      expect(await q.schedulers()).toEqual([]);
      expect((await q.counts()).waiting).toBe(1);
      await expect(q.removeScheduler('r')).rejects.toBeInstanceOf(SchedulerNotFoundError);
    });

    it('a running loop fires an every schedule on time, next runs computed from the plan', async () => {
      const q = h.queue();
      const l = new SchedulerLoop({ backend: h.backend, queues: [q.name] }).start();
      try {
        const s = await q.schedule('fast', { every: 100 }, { name: 'n', data: null });
        await waitUntil(async () => (await q.counts()).waiting >= 3, 'three ticks');
        const ledger = await q.schedulerTicks('fast');
        const created = ledger.filter((e) => e.outcome === 'created').reverse();
        expect(created.slice(0, 3).map((e) => e.plannedAt)).toEqual([
          s.anchor + 100,
          s.anchor + 200,
          s.anchor + 300,
        ]);
      } finally {
        await l.close();
      }
    });
  });
}
