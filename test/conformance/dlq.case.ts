import { describe, expect, it } from 'vitest';

import { InvalidStateError, JobNotFoundError, PermanentError } from '../../src/errors.js';
import type { Queue } from '../../src/queue.js';
import type { Job } from '../../src/types.js';
import { finishOnly } from '../helpers/finish.js';
import type { Harness } from './context.js';
import { sleep, waitForState, waitUntil } from './context.js';

/** What the DLQ handler does with a job: fail permanently with this message and code, or succeed. */
interface Spec {
  readonly msg?: string;
  readonly code?: string;
  readonly [k: string]: unknown;
}

export function dlqCases(h: Harness): void {
  /** A handler that throws a PermanentError from the job's data until `healthy()` says otherwise. */
  function failing(healthy: () => boolean = () => false) {
    return (job: { data: Spec }) => {
      if (healthy()) return 'ok';
      throw new PermanentError(
        job.data.msg ?? 'broken',
        job.data.code !== undefined ? { code: job.data.code } : {},
      );
    };
  }

  /** Adds jobs one at a time and waits for each to be dead, with a worker that is then closed. */
  async function killAll(
    q: Queue<Spec>,
    jobs: readonly { name: string; data: Spec }[],
  ): Promise<Job<Spec>[]> {
    const w = h.worker(q, failing());
    const out: Job<Spec>[] = [];
    for (const [i, j] of jobs.entries()) {
      if (i > 0) await sleep(3); // distinct death times, so "most recent first" has one answer
      const { id } = await q.add(j.name, j.data);
      out.push(await waitForState(q, id, 'dead'));
    }
    await w.close();
    return out;
  }

  describe('dead-letter queue', () => {
    it('a dead job keeps its data and its whole history', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 3, backoff: { type: 'immediate' } } });
      const { id } = await q.add('sync', { msg: 'upstream down', extra: [1, 2] });
      h.worker(q, () => {
        throw Object.assign(new Error('upstream down'), { code: 'ECONNREFUSED' });
      });
      await waitForState(q, id, 'dead');
      const job = await q.dlq.get(id);
      expect(job.data).toEqual({ msg: 'upstream down', extra: [1, 2] });
      expect(job.attempts.map((a) => [a.n, a.outcome])).toEqual([
        [1, 'failed'],
        [2, 'failed'],
        [3, 'failed'],
      ]);
      expect(job.dead).toMatchObject({
        reason: 'exhausted',
        error: { message: 'upstream down', code: 'ECONNREFUSED' },
      });
      expect(job.dead?.fingerprint).toMatch(/\S/);
      expect(job.dead?.at).toBe(job.attempts[2]?.finishedAt);
    });

    it('dlq.get refuses a job that is not dead and an unknown id', async () => {
      const q = h.queue();
      const { id } = await q.add('alive', null);
      await expect(q.dlq.get(id)).rejects.toBeInstanceOf(InvalidStateError);
      await expect(q.dlq.get('no-such-job')).rejects.toBeInstanceOf(JobNotFoundError);
    });

    it('lists dead jobs filtered by reason, error code and name, most recent first', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 1 } });
      const [a, b] = await killAll(q, [
        { name: 'charge', data: { msg: 'user 1 not found', code: 'NOT_FOUND' } },
        { name: 'email', data: { msg: 'token expired', code: 'AUTH' } },
      ]);
      // An exhausted one: a temporary error with no retries left.
      await sleep(3);
      h.worker(q, () => {
        throw new Error('flaky');
      });
      const { id: c } = await q.add('charge', {});
      await waitForState(q, c, 'dead');
      const ids = (xs: { id: string }[]) => xs.map((x) => x.id);
      expect(ids(await q.dlq.list())).toEqual([c, b?.id, a?.id]);
      expect(ids(await q.dlq.list({ reason: 'permanent' }))).toEqual([b?.id, a?.id]);
      expect(ids(await q.dlq.list({ reason: 'exhausted' }))).toEqual([c]);
      expect(ids(await q.dlq.list({ errorCode: 'AUTH' }))).toEqual([b?.id]);
      expect(ids(await q.dlq.list({ name: 'charge' }))).toEqual([c, a?.id]);
      expect(ids(await q.dlq.list({ name: 'charge', reason: 'permanent' }))).toEqual([a?.id]);
      expect(ids(await q.dlq.list({ errorCode: 'NOPE' }))).toEqual([]);
      const summary = (await q.dlq.list({ errorCode: 'NOT_FOUND' }))[0];
      expect(summary).toMatchObject({
        id: a?.id,
        name: 'charge',
        reason: 'permanent',
        errorCode: 'NOT_FOUND',
        at: a?.dead?.at,
      });
    });

    it('lists dead jobs between two times, both ends inclusive', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 1 } });
      const [first] = await killAll(q, [{ name: 'early', data: {} }]);
      await sleep(30);
      const [second] = await killAll(q, [{ name: 'late', data: {} }]);
      const t1 = first?.dead?.at ?? NaN;
      const t2 = second?.dead?.at ?? NaN;
      expect(t2).toBeGreaterThan(t1);
      const ids = async (f: { from?: number | Date; to?: number | Date }) =>
        (await q.dlq.list(f)).map((s) => s.id);
      expect(await ids({ from: t2 })).toEqual([second?.id]);
      expect(await ids({ to: t1 })).toEqual([first?.id]);
      expect(await ids({ from: t1, to: t2 })).toEqual([second?.id, first?.id]);
      expect(await ids({ from: t1 + 1, to: t2 - 1 })).toEqual([]);
      expect(await ids({ from: new Date(t2) })).toEqual([second?.id]);
    });

    it('groups dead jobs by error fingerprint: messages differing only in numbers share a group', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 1 } });
      const [u17, u4242, tok] = await killAll(q, [
        { name: 'lookup', data: { msg: 'user 17 not found', code: 'NOT_FOUND' } },
        { name: 'lookup', data: { msg: 'user 4242 not found', code: 'NOT_FOUND' } },
        { name: 'login', data: { msg: 'token expired', code: 'AUTH' } },
      ]);
      const groups = await q.dlq.groups();
      expect(groups).toHaveLength(2);
      const [big, small] = groups;
      expect(big?.count).toBe(2);
      expect(big?.fingerprint).toBe(u17?.dead?.fingerprint);
      expect(u4242?.dead?.fingerprint).toBe(u17?.dead?.fingerprint);
      expect(big?.label).toContain('NOT_FOUND');
      expect(big?.firstSeen).toBe(u17?.dead?.at);
      expect(big?.lastSeen).toBe(u4242?.dead?.at);
      expect(big?.firstSeen).toBeLessThanOrEqual(big?.lastSeen ?? -Infinity);
      expect(small).toMatchObject({ count: 1, fingerprint: tok?.dead?.fingerprint });
      expect(small?.label).toContain('AUTH');
      expect(small?.fingerprint).not.toBe(big?.fingerprint);
    });

    it('replay sends a dead job back to waiting with its data patched', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 1 } });
      const [dead] = await killAll(q, [{ name: 'signup', data: { email: 'old@x.io', old: true, keep: 1 } }]);
      const id = dead?.id ?? '';
      const replayed = await q.dlq.replay(id, {
        by: 'alice',
        note: 'fixed upstream',
        patch: { email: 'new@x.io', old: null },
      });
      expect(replayed.state).toBe('waiting');
      expect(replayed.data).toEqual({ email: 'new@x.io', keep: 1 });
      expect(replayed.dead).toBeUndefined();
      expect(await q.counts()).toMatchObject({ dead: 0, waiting: 1 });
      expect(await q.dlq.list()).toEqual([]);
    });

    it('the replayed run is a manual attempt with who, the note and the patch as a diff; history before it is unchanged', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 2, backoff: { type: 'immediate' } } });
      const [dead] = await killAll(q, [{ name: 'signup', data: { email: 'old@x.io', old: true, keep: 1 } }]);
      const id = dead?.id ?? '';
      expect(dead?.attempts).toHaveLength(1);
      await q.dlq.replay(id, {
        by: 'alice',
        note: 'fixed upstream',
        patch: { email: 'new@x.io', old: null },
      });
      const seen: { trigger: string; by: string | undefined; email: unknown }[] = [];
      h.worker(q, (job) => {
        seen.push({ trigger: job.trigger, by: job.manual?.by, email: job.data.email });
        return 'ok';
      });
      const job = await waitForState(q, id, 'completed');
      expect(seen).toEqual([{ trigger: 'manual', by: 'alice', email: 'new@x.io' }]);
      expect(job.attempts).toHaveLength(2);
      expect(job.attempts[0]).toEqual(dead?.attempts[0]);
      const a = job.attempts[1];
      expect(a).toMatchObject({
        n: 2,
        trigger: 'manual',
        outcome: 'succeeded',
        manual: { by: 'alice', note: 'fixed upstream' },
      });
      expect(a?.manual?.at).toBeGreaterThanOrEqual(dead?.dead?.at ?? Infinity);
      expect(a?.manual?.patch).toHaveLength(2);
      expect(a?.manual?.patch).toEqual(
        expect.arrayContaining([
          { path: 'data.email', op: 'replace', before: 'old@x.io', after: 'new@x.io' },
          expect.objectContaining({ path: 'data.old', op: 'remove', before: true }),
        ]),
      );
    });

    it('a replayed job gets a fresh retry budget', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 2, backoff: { type: 'immediate' } } });
      const { id } = await q.add('doomed', {});
      const w = h.worker(q, () => {
        throw new Error('still broken');
      });
      const dead = await waitForState(q, id, 'dead');
      expect(dead.failures).toBe(2);
      await w.close();
      const replayed = await q.dlq.replay(id, { by: 'bob' });
      expect(replayed.failures).toBe(0);
      h.worker(q, () => {
        throw new Error('still broken');
      });
      await waitUntil(async () => (await q.getJob(id))?.attempts.length === 4, 'two more attempts');
      const job = await waitForState(q, id, 'dead');
      expect(job.attempts.map((a) => [a.n, a.trigger])).toEqual([
        [1, 'auto'],
        [2, 'auto'],
        [3, 'manual'],
        [4, 'auto'],
      ]);
      expect(job.attempts[2]?.decision.action).toBe('retry');
      expect(job.attempts[3]?.decision).toMatchObject({ action: 'dead', reason: 'exhausted' });
      expect(job.attempts[3]?.manual).toBeUndefined();
      expect(job.failures).toBe(2);
    });

    it('replayMany by filter replays only the matching jobs, each with its own manual attempt', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 1 } });
      const [a1, a2, b] = await killAll(q, [
        { name: 'a', data: {} },
        { name: 'a', data: {} },
        { name: 'b', data: {} },
      ]);
      const res = await q.dlq.replayMany({ name: 'a' }, { by: 'bob', note: 'batch' });
      expect(res.failed).toEqual([]);
      expect([...res.replayed].sort()).toEqual([a1?.id, a2?.id].sort());
      h.worker(q, () => 'ok');
      for (const id of [a1?.id ?? '', a2?.id ?? '']) {
        const job = await waitForState(q, id, 'completed');
        expect(job.attempts).toHaveLength(2);
        expect(job.attempts[1]).toMatchObject({
          n: 2,
          trigger: 'manual',
          manual: { by: 'bob', note: 'batch' },
        });
      }
      const untouched = await q.getJob(b?.id ?? '');
      expect(untouched?.state).toBe('dead');
      expect(untouched?.attempts).toHaveLength(1);
    });

    it('replayMany by fingerprint replays one group', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 1 } });
      const [u1, u2, tok] = await killAll(q, [
        { name: 'lookup', data: { msg: 'user 17 not found', code: 'NOT_FOUND' } },
        { name: 'lookup', data: { msg: 'user 4242 not found', code: 'NOT_FOUND' } },
        { name: 'login', data: { msg: 'token expired', code: 'AUTH' } },
      ]);
      const group = (await q.dlq.groups()).find((g) => g.count === 2);
      expect(group?.fingerprint).toBe(u1?.dead?.fingerprint);
      const res = await q.dlq.replayMany({ fingerprint: group?.fingerprint ?? '' }, { by: 'carol' });
      expect([...res.replayed].sort()).toEqual([u1?.id, u2?.id].sort());
      for (const id of [u1?.id ?? '', u2?.id ?? '']) {
        const job = await q.getJob(id);
        expect(job?.state).toBe('waiting');
      }
      h.worker(q, () => 'ok');
      for (const id of [u1?.id ?? '', u2?.id ?? '']) {
        const job = await waitForState(q, id, 'completed');
        expect(job.attempts[1]).toMatchObject({ trigger: 'manual', manual: { by: 'carol' } });
      }
      expect((await q.getJob(tok?.id ?? ''))?.state).toBe('dead');
      expect(await q.dlq.groups()).toEqual([
        expect.objectContaining({ fingerprint: tok?.dead?.fingerprint, count: 1 }),
      ]);
    });

    it('purge by ids deletes those dead jobs and counts only the dead ones', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 1 } });
      const [a, b, c] = await killAll(q, [
        { name: 'x', data: {} },
        { name: 'x', data: {} },
        { name: 'x', data: {} },
      ]);
      const { id: alive } = await q.add('alive', {}, { delay: 60_000 });
      const n = await q.dlq.purge({ ids: [a?.id ?? '', b?.id ?? '', alive, 'no-such-job'] });
      expect(n).toBe(2);
      expect(await q.getJob(a?.id ?? '')).toBeNull();
      expect(await q.getJob(b?.id ?? '')).toBeNull();
      expect((await q.getJob(c?.id ?? ''))?.state).toBe('dead');
      expect((await q.getJob(alive))?.state).toBe('scheduled');
      expect(await q.counts()).toMatchObject({ dead: 1, scheduled: 1 });
    });

    it('purge by filter deletes the matching dead jobs and returns how many', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 1 } });
      const [a, b, c] = await killAll(q, [
        { name: 'x', data: { code: 'AUTH' } },
        { name: 'y', data: { code: 'NOT_FOUND' } },
        { name: 'z', data: { code: 'AUTH' } },
      ]);
      expect(await q.dlq.purge({ errorCode: 'AUTH' })).toBe(2);
      expect(await q.getJob(a?.id ?? '')).toBeNull();
      expect(await q.getJob(c?.id ?? '')).toBeNull();
      expect((await q.dlq.list()).map((s) => s.id)).toEqual([b?.id]);
      expect((await q.dlq.groups()).map((g) => g.count)).toEqual([1]);
    });

    it('replaying a job that is not dead throws InvalidStateError and changes nothing', async () => {
      const q = h.queue();
      const { id } = await q.add('alive', { v: 1 }, { delay: 60_000 });
      const before = await q.getJob(id);
      await expect(q.dlq.replay(id, { by: 'alice' })).rejects.toBeInstanceOf(InvalidStateError);
      expect(await q.getJob(id)).toEqual(before);
    });

    it('listDead answers reason, code, name, fingerprint and time itself, paged over matches (2,500 dead)', async () => {
      const q = h.queue({ retry: { attempts: 1 } });
      const b = q.backend;
      const n = 2500;
      await q.addBulk(
        Array.from({ length: n }, (_, i) => ({ name: i % 3 === 0 ? 'charge' : 'email', data: { i } })),
      );
      const claimed = (await b.claim(q.name, { workerId: 'w', leaseMs: 60_000, max: n })).jobs;
      expect(claimed).toHaveLength(n);
      const codeOf = (id: string) => (Number(id) % 5 === 0 ? 'AUTH' : 'NOT_FOUND');
      const res = await finishOnly(
        b,
        q.name,
        claimed.map((j) => ({
          id: j.id,
          attempt: j.attempt,
          workerId: 'w',
          outcome: 'failed' as const,
          error: { name: 'Error', message: `no ${codeOf(j.id)}`, code: codeOf(j.id) },
          errorClass: 'permanent' as const,
          rule: 'test',
          fingerprint: codeOf(j.id) === 'AUTH' ? 'fp-auth' : 'fp-missing',
          fingerprintLabel: `Error|${codeOf(j.id)}|no`,
          decision: {
            action: 'dead' as const,
            reason: Number(j.id) % 2 === 0 ? ('permanent' as const) : ('exhausted' as const),
            explanation: 'test',
          },
        })),
      );
      expect(res.every((r) => r.ok)).toBe(true);
      const byId = new Map(claimed.map((j) => [j.id, j]));
      const expected = (keep: (id: string, name: string) => boolean) =>
        claimed
          .filter((j) => keep(j.id, j.name))
          .map((j) => j.id)
          .sort();
      const all = { offset: 0, limit: n };
      const ids = async (f: Parameters<typeof b.listDead>[1]) =>
        (await b.listDead(q.name, f, all)).map((s) => s.id);
      const cases: [Parameters<typeof b.listDead>[1], (id: string, name: string) => boolean][] = [
        [{}, () => true],
        [{ name: 'charge' }, (_id, name) => name === 'charge'],
        [{ errorCode: 'AUTH' }, (id) => codeOf(id) === 'AUTH'],
        [{ reason: ['permanent'] }, (id) => Number(id) % 2 === 0],
        [
          { reason: ['permanent', 'exhausted'], name: 'email', errorCode: 'AUTH' },
          (id, name) => name === 'email' && codeOf(id) === 'AUTH',
        ],
        [
          { fingerprint: 'fp-auth', name: 'charge' },
          (id, name) => name === 'charge' && codeOf(id) === 'AUTH',
        ],
        [{ reason: ['poison'] }, () => false],
      ];
      for (const [f, keep] of cases) {
        expect([...(await ids(f))].sort(), JSON.stringify(f)).toEqual(expected(keep));
      }
      // Pages over the matches of a sparse filter, crossing any per-call bound, add up to the whole list.
      const f = { name: 'charge', errorCode: 'NOT_FOUND' };
      const whole = await ids(f);
      const pages: string[] = [];
      for (let offset = 0; offset < whole.length + 70; offset += 70) {
        pages.push(...(await b.listDead(q.name, f, { offset, limit: 70 })).map((s) => s.id));
      }
      expect(pages).toEqual(whole);
      const s = (await b.listDead(q.name, { errorCode: 'AUTH' }, { offset: 0, limit: 1 }))[0];
      const j = byId.get(s?.id ?? '');
      expect(s).toEqual({
        id: j?.id,
        name: j?.name,
        reason: Number(j?.id) % 2 === 0 ? 'permanent' : 'exhausted',
        at: expect.any(Number),
        fingerprint: 'fp-auth',
        errorCode: 'AUTH',
      });
      const everything = await b.listDead(q.name, {}, all);
      const mid = everything[Math.floor(n / 2)]?.at ?? NaN;
      expect(await ids({ from: mid })).toEqual(everything.filter((x) => x.at >= mid).map((x) => x.id));
      expect(await ids({ to: mid, name: 'charge' })).toEqual(
        everything.filter((x) => x.at <= mid && x.name === 'charge').map((x) => x.id),
      );
      expect(await ids({ from: (everything[0]?.at ?? 0) + 1 })).toEqual([]);
    }, 30_000);

    it('peekDead gives, per id, nothing for an unknown one, the state of a live one, the summary of a dead one', async () => {
      const q = h.queue<Spec>({ retry: { attempts: 1 } });
      const [dead] = await killAll(q, [{ name: 'x', data: { code: 'AUTH' } }]);
      const { id: waiting } = await q.add('w', {});
      const peeks = await q.backend.peekDead(q.name, ['ghost', waiting, dead?.id ?? '']);
      expect(peeks).toEqual([
        null,
        { state: 'waiting', dead: undefined },
        {
          state: 'dead',
          dead: {
            id: dead?.id,
            name: 'x',
            reason: 'permanent',
            at: dead?.dead?.at,
            fingerprint: dead?.dead?.fingerprint,
            errorCode: 'AUTH',
          },
        },
      ]);
      expect(await q.backend.peekDead(q.name, [])).toEqual([]);
    });

    it('replaying an unknown id throws JobNotFoundError', async () => {
      const q = h.queue();
      await expect(q.dlq.replay('no-such-job', { by: 'alice' })).rejects.toBeInstanceOf(JobNotFoundError);
    });
  });
}
