import { describe, expect, it } from 'vitest';

import type { Queue } from '../../src/queue.js';
import type { JobEventBase } from '../../src/worker.js';
import { LeaseLostError } from '../../src/errors.js';
import { finishOnly } from '../helpers/finish.js';
import type { Harness } from './context.js';
import { sleep, waitForState, waitUntil } from './context.js';

const CRASHED = 'dead-worker';

export function deliveryCases(h: Harness): void {
  /** Claims the queue's next job as a worker that then crashes: never renews, never finishes. */
  async function crashedClaim(q: Queue, expectedId: string, leaseMs = 100): Promise<number> {
    const res = await h.backend.claim(q.name, { workerId: CRASHED, leaseMs, max: 1, exclusiveOk: true });
    expect(res.jobs.map((j) => j.id)).toEqual([expectedId]);
    return res.jobs[0]?.attempt ?? NaN;
  }

  describe('delivery', () => {
    describe('stalls', () => {
      it("a crashed worker's job is recovered by a live worker and recorded as a stalled attempt", async () => {
        const q = h.queue();
        const { id } = await q.add('fragile', { v: 1 });
        await crashedClaim(q, id);
        h.worker(q, async () => 'recovered', { leaseMs: 200, workerId: 'live-worker' });
        const job = await waitForState(q, id, 'completed', 5000);
        expect(job.attempts).toHaveLength(2);
        const [a1, a2] = job.attempts;
        expect(a1).toMatchObject({
          n: 1,
          workerId: CRASHED,
          outcome: 'stalled',
          errorClass: 'temporary',
          rule: 'stall',
          decision: {
            action: 'retry',
            delayMs: 0,
            explanation: 'lease expired (stall 1 of 3): back to waiting at once',
          },
        });
        // Not recovered before the lease ran out.
        expect((a1?.finishedAt ?? 0) - (a1?.startedAt ?? 0)).toBeGreaterThanOrEqual(100);
        expect(a2).toMatchObject({ n: 2, trigger: 'stall', workerId: 'live-worker', outcome: 'succeeded' });
        expect(job.stalls).toBe(1);
        expect(job.failures).toBe(0);
        expect(job.result).toBe('recovered');
      });

      it('a job whose lease expires maxStalls times is dead-lettered as poison and never runs again', async () => {
        const q = h.queue();
        const { id } = await q.add('poison', null, { maxStalls: 2 });
        for (let i = 1; i <= 2; i++) {
          await crashedClaim(q, id);
          await sleep(150);
          expect(await h.backend.recoverStalled(q.name)).toBe(1);
        }
        const job = await q.getJob(id);
        expect(job?.state).toBe('dead');
        expect(job?.dead?.reason).toBe('poison');
        expect(job?.stalls).toBe(2);
        expect(job?.attempts.map((a) => a.outcome)).toEqual(['stalled', 'stalled']);
        expect(job?.attempts[0]?.errorClass).toBe('temporary');
        expect(job?.attempts[1]).toMatchObject({
          errorClass: 'poison',
          rule: 'stall',
          decision: {
            action: 'dead',
            reason: 'poison',
            explanation: 'lease expired 2 times (maxStalls 2): poison, dead-lettered',
          },
        });
        // It never loops: nothing to claim, and a live worker never sees it.
        expect(
          (await h.backend.claim(q.name, { workerId: CRASHED, leaseMs: 100, max: 1, exclusiveOk: true }))
            .jobs,
        ).toEqual([]);
        let ran = 0;
        h.worker(q, () => void ran++, { leaseMs: 200, idleCheckMs: 20 });
        await sleep(100);
        expect(ran).toBe(0);
        expect(await q.counts()).toMatchObject({ dead: 1, waiting: 0, active: 0, scheduled: 0 });
        expect((await q.getJob(id))?.attempts).toHaveLength(2);
      });

      it('a late finish with a lease lost to recovery is refused and recorded as a refusal', async () => {
        const q = h.queue();
        const { id } = await q.add('late', null);
        const attempt = await crashedClaim(q, id);
        await sleep(150);
        expect(await h.backend.recoverStalled(q.name)).toBe(1);
        const [res] = await finishOnly(h.backend, q.name, [
          {
            id,
            attempt,
            workerId: CRASHED,
            outcome: 'succeeded',
            result: '"too late"',
            decision: { action: 'done' },
          },
        ]);
        expect(res).toEqual({ ok: false, reason: 'stale' });
        const job = await q.getJob(id);
        expect(job?.state).toBe('waiting');
        expect(job?.result).toBeUndefined();
        expect(job?.attempts.map((a) => a.outcome)).toEqual(['stalled']);
        expect(job?.refusals).toHaveLength(1);
        expect(job?.refusals[0]).toMatchObject({ attempt, workerId: CRASHED, outcome: 'succeeded' });
      });

      it('a late finish is refused without disturbing the attempt that replaced it', async () => {
        const q = h.queue();
        const { id } = await q.add('late', null);
        const stale = await crashedClaim(q, id);
        await sleep(150);
        expect(await h.backend.recoverStalled(q.name)).toBe(1);
        const next = await h.backend.claim(q.name, {
          workerId: 'second-worker',
          leaseMs: 5000,
          max: 1,
          exclusiveOk: true,
        });
        expect(next.jobs.map((j) => j.id)).toEqual([id]);
        const fresh = next.jobs[0]?.attempt ?? NaN;
        expect(fresh).not.toBe(stale);
        const [late] = await finishOnly(h.backend, q.name, [
          {
            id,
            attempt: stale,
            workerId: CRASHED,
            outcome: 'succeeded',
            result: '"too late"',
            decision: { action: 'done' },
          },
        ]);
        expect(late).toEqual({ ok: false, reason: 'stale' });
        const during = await q.getJob(id);
        expect(during?.state).toBe('active');
        expect(during?.current).toMatchObject({ n: fresh, workerId: 'second-worker' });
        expect(during?.refusals).toEqual([
          expect.objectContaining({ attempt: stale, workerId: CRASHED, outcome: 'succeeded' }),
        ]);
        const [ok] = await finishOnly(h.backend, q.name, [
          {
            id,
            attempt: fresh,
            workerId: 'second-worker',
            outcome: 'succeeded',
            result: '"on time"',
            decision: { action: 'done' },
          },
        ]);
        expect(ok).toMatchObject({ ok: true, state: 'completed' });
        const job = await q.getJob(id);
        expect(job?.result).toBe('on time');
        expect(job?.attempts.map((a) => [a.n, a.outcome, a.workerId])).toEqual([
          [stale, 'stalled', CRASHED],
          [fresh, 'succeeded', 'second-worker'],
        ]);
      });

      it('renewing a lease lost to recovery returns false', async () => {
        const q = h.queue();
        const { id } = await q.add('late', null);
        const attempt = await crashedClaim(q, id);
        expect(await h.backend.renew(q.name, [{ id, attempt }], 100)).toEqual([true]);
        await sleep(150);
        expect(await h.backend.recoverStalled(q.name)).toBe(1);
        expect(await h.backend.renew(q.name, [{ id, attempt }], 100)).toEqual([false]);
        expect((await q.getJob(id))?.state).toBe('waiting');
      });

      it('a handler running three times longer than its lease keeps it by renewal and is not recovered', async () => {
        const q = h.queue();
        const { id } = await q.add('long', null);
        let recovered = 0;
        // A lease long enough that a loaded machine's event-loop pause (tens of ms) cannot outlast
        // the time left between two renewals (every lease / 3).
        const w = h.worker(q, () => sleep(1300).then(() => 'kept'), { leaseMs: 400 });
        w.on('stalled', ({ recovered: n }) => (recovered += n));
        await waitForState(q, id, 'active');
        await sleep(500);
        // A bystander looking for stalled jobs finds none.
        expect(await h.backend.recoverStalled(q.name)).toBe(0);
        const job = await waitForState(q, id, 'completed');
        expect(job.attempts).toHaveLength(1);
        expect(job.attempts[0]?.outcome).toBe('succeeded');
        expect(job.stalls).toBe(0);
        expect(recovered).toBe(0);
      });

      it("a worker that loses its lease aborts the handler's signal and emits lease-lost", async () => {
        const q = h.queue();
        let reason: unknown;
        const w = h.worker(
          q,
          (_job, signal) =>
            new Promise((resolve) => {
              signal.addEventListener('abort', () => {
                reason = signal.reason;
                resolve('stopped');
              });
            }),
          { leaseMs: 150 },
        );
        const lost = new Promise<JobEventBase>((r) => w.once('lease-lost', r));
        const { id } = await q.add('taken', null);
        await waitForState(q, id, 'active');
        await q.cancel(id, { by: 'ops' });
        const ev = await lost;
        expect(ev).toMatchObject({ id, name: 'taken', attempt: 1 });
        expect(reason).toBeInstanceOf(LeaseLostError);
        await waitUntil(() => w.running === 0, 'the handler to return');
        expect((await q.getJob(id))?.state).toBe('cancelled');
      });
    });

    describe('a finish sent twice', () => {
      it('is applied once: the repeat (a resend after a lost reply) is answered ok and records nothing', async () => {
        const q = h.queue();
        const { id } = await q.add('once', null);
        const res = await h.backend.claim(q.name, {
          workerId: 'w-resend',
          leaseMs: 5000,
          max: 1,
          exclusiveOk: true,
        });
        const attempt = res.jobs[0]!.attempt;
        const req = {
          id,
          attempt,
          workerId: 'w-resend',
          outcome: 'succeeded' as const,
          result: '"r"',
          decision: { action: 'done' as const },
        };
        const [first] = await finishOnly(h.backend, q.name, [req]);
        const [again] = await finishOnly(h.backend, q.name, [req]);
        expect(first).toMatchObject({ ok: true, state: 'completed' });
        expect(again).toMatchObject({ ok: true, state: 'completed' });
        const job = await q.getJob(id);
        expect(job?.attempts).toHaveLength(1);
        expect(job?.refusals).toEqual([]);
        // Another outcome for the same attempt, or another worker, is a late result: refused and recorded.
        const [late] = await finishOnly(h.backend, q.name, [{ ...req, workerId: 'w-other' }]);
        expect(late).toEqual({ ok: false, reason: 'stale' });
        expect((await q.getJob(id))?.refusals).toHaveLength(1);
      });

      it('after its lease was recovered, a late result is still refused', async () => {
        const q = h.queue();
        const { id } = await q.add('late', null);
        const res = await h.backend.claim(q.name, {
          workerId: 'w-slow',
          leaseMs: 50,
          max: 1,
          exclusiveOk: true,
        });
        const attempt = res.jobs[0]!.attempt;
        await sleep(80);
        expect(await h.backend.recoverStalled(q.name)).toBe(1);
        const [late] = await finishOnly(h.backend, q.name, [
          {
            id,
            attempt,
            workerId: 'w-slow',
            outcome: 'succeeded',
            result: 'null',
            decision: { action: 'done' },
          },
        ]);
        expect(late).toEqual({ ok: false, reason: 'stale' });
        const job = await q.getJob(id);
        expect(job?.attempts[0]?.outcome).toBe('stalled');
        expect(job?.refusals).toHaveLength(1);
      });
    });

    describe('prefetch', () => {
      it('holds claimed jobs beyond concurrency, runs them one at a time, and records when each really started', async () => {
        const q = h.queue();
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) ids.push((await q.add('held', i)).id);
        let running = 0;
        let maxRunning = 0;
        const startedSeen = new Map<string, number>();
        h.worker(
          q,
          async (job) => {
            running++;
            maxRunning = Math.max(maxRunning, running);
            startedSeen.set(job.id, job.startedAt);
            await sleep(60);
            running--;
          },
          { concurrency: 1, prefetch: 3, workerId: 'prefetcher' },
        );
        const jobs = [];
        for (const id of ids) jobs.push(await waitForState(q, id, 'completed'));
        expect(maxRunning).toBe(1);
        const attempts = jobs.map((j) => j.attempts[0]!);
        // One claim took all four (one slot + three held): the later ones waited in the buffer,
        // and their startedAt says so: each starts after the one before it finished.
        for (let i = 1; i < attempts.length; i++) {
          expect(attempts[i]!.startedAt).toBeGreaterThanOrEqual(attempts[i - 1]!.startedAt + 50);
          expect(attempts[i]!.startedAt).toBeLessThanOrEqual(attempts[i]!.finishedAt);
        }
        for (const [i, a] of attempts.entries()) {
          expect(a.driftMs).toBe(a.startedAt - a.dueAt);
          // The handler was told the same start time as the record holds.
          expect(Math.abs(startedSeen.get(ids[i]!)! - a.startedAt)).toBeLessThanOrEqual(1);
        }
      });

      it('records the moment each handler really began, even when a busy handler delays the others', async () => {
        // Regression: startedAt was the claim time plus the time held (rounded down), measured when
        // the job was taken from its claim, not when its handler was called: a job started in the
        // same turn as a handler that blocks the event loop was recorded 40 ms early.
        const q = h.queue();
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) ids.push((await q.add(i === 0 ? 'blocker' : 'timed', i)).id);
        // Times on the backend's clock: the memory backend's is Date.now(); Redis runs on this
        // machine, and TIME reads the same clock.
        let blockEnd = Number.POSITIVE_INFINITY;
        const began = new Map<string, { now: number; seen: number }>();
        h.worker(
          q,
          async (job) => {
            began.set(job.id, { now: Date.now(), seen: job.startedAt });
            if (job.name === 'blocker') {
              const until = performance.now() + 40;
              while (performance.now() < until); // blocks the event loop: every other handler waits
              blockEnd = Date.now();
            }
            await sleep(5);
          },
          { concurrency: 2, prefetch: 4, workerId: 'starter' },
        );
        for (const id of ids) {
          const job = await waitForState(q, id, 'completed');
          const a = job.attempts[0]!;
          const b = began.get(id)!;
          expect(Math.abs(a.startedAt - b.seen)).toBeLessThanOrEqual(1);
          // No later than the handler saw the clock (beyond a round trip's worth: the worker's best
          // recent claim trip, tens of ms on a loaded machine)…
          expect(a.startedAt).toBeLessThanOrEqual(b.now + 150);
          // …and not earlier than its real start (1 ms of clock rounding): every job but the
          // blocker began after the blocker's busy loop ended. (A lower bound read before the
          // handler began, so the process being descheduled cannot make the check fail.)
          if (id !== ids[0]) expect(a.startedAt).toBeGreaterThanOrEqual(blockEnd - 1);
        }
      });

      it('close() gives held jobs back unstarted, for another worker to run', async () => {
        const q = h.queue({ retry: { attempts: 1 } });
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) ids.push((await q.add('held', i)).id);
        const ran: string[] = [];
        const w = h.worker(
          q,
          async (job) => {
            ran.push(job.id);
            await sleep(150);
          },
          { concurrency: 1, prefetch: 5, workerId: 'leaving' },
        );
        await waitUntil(() => ran.length === 1, 'the first job to start');
        await w.close({ timeoutMs: 2000 });
        expect(ran).toEqual([ids[0]]);
        const first = await q.getJob(ids[0]!);
        expect(first?.state).toBe('completed');
        for (const id of ids.slice(1)) {
          const job = await q.getJob(id);
          expect(job?.state).toBe('waiting');
          expect(job?.attempts).toHaveLength(1);
          expect(job?.attempts[0]).toMatchObject({
            workerId: 'leaving',
            outcome: 'interrupted',
            rule: 'shutdown',
          });
          // Given back, not failed: the retry budget (1 attempt) is untouched.
          expect(job?.failures).toBe(0);
        }
        h.worker(q, async () => 'ok', { workerId: 'taker' });
        for (const id of ids.slice(1)) {
          const job = await waitForState(q, id, 'completed');
          expect(job.attempts[1]).toMatchObject({ workerId: 'taker', outcome: 'succeeded' });
        }
      });

      it('a held job whose lease is lost (cancelled) is never started', async () => {
        const q = h.queue();
        const first = await q.add('slow', 0);
        const second = await q.add('cancelled-while-held', 1);
        const ran: string[] = [];
        h.worker(
          q,
          async (job) => {
            ran.push(job.id);
            await sleep(job.id === first.id ? 400 : 1);
          },
          { concurrency: 1, prefetch: 1, leaseMs: 150 },
        );
        await waitForState(q, first.id, 'active');
        await waitForState(q, second.id, 'active');
        await q.cancel(second.id, { by: 'ops' });
        await waitForState(q, first.id, 'completed');
        await sleep(50);
        expect(ran).toEqual([first.id]);
        expect((await q.getJob(second.id))?.state).toBe('cancelled');
      });

      it("'auto' holds nothing for jobs slower than its window, so a second worker gets the rest", async () => {
        const q = h.queue();
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) ids.push((await q.add('slow', i)).id);
        const by = new Map<string, string>();
        const handler = async (job: { id: string }): Promise<void> => {
          await sleep(40);
          by.set(job.id, 'x');
        };
        h.worker(q, handler, { concurrency: 1, workerId: 'a' });
        h.worker(q, handler, { concurrency: 1, workerId: 'b' });
        const jobs = [];
        for (const id of ids) jobs.push(await waitForState(q, id, 'completed'));
        const workers = new Set(jobs.map((j) => j.attempts[0]!.workerId));
        expect(workers).toEqual(new Set(['a', 'b']));
      });

      it('rejects a bad prefetch option, naming the field', () => {
        const q = h.queue();
        expect(() => h.worker(q, async () => undefined, { prefetch: -1 })).toThrow(/prefetch/);
        expect(() => h.worker(q, async () => undefined, { prefetch: 'lots' as never })).toThrow(/prefetch/);
      });
    });

    describe('graceful close', () => {
      it('close() lets a job in flight finish, renewing its lease meanwhile', async () => {
        const q = h.queue();
        const { id } = await q.add('finishing', null);
        let abortedEarly = false;
        // Honours its signal: an early abort by close() would fail the attempt.
        const w = h.worker(
          q,
          (_job, signal) =>
            new Promise((resolve, reject) => {
              const t = setTimeout(() => resolve('finished'), 900);
              signal.addEventListener('abort', () => {
                abortedEarly = true;
                clearTimeout(t);
                reject(signal.reason as Error);
              });
            }),
          { leaseMs: 300 },
        );
        await waitForState(q, id, 'active');
        await w.close({ timeoutMs: 3000 });
        expect(abortedEarly).toBe(false);
        const job = await q.getJob(id);
        expect(job?.state).toBe('completed');
        expect(job?.attempts).toHaveLength(1);
        expect(job?.attempts[0]?.outcome).toBe('succeeded');
        expect(job?.stalls).toBe(0);
      });

      it('close() past its deadline gives an unfinished job back as a failed attempt to retry', async () => {
        const q = h.queue({ retry: { attempts: 3, backoff: { type: 'immediate' } } });
        const { id } = await q.add('stubborn', null);
        // Ignores its signal and runs well past the close deadline.
        const w = h.worker(q, () => sleep(600).then(() => 'too late'), { leaseMs: 200 });
        await waitForState(q, id, 'active');
        await w.close({ timeoutMs: 50 });
        const job = await q.getJob(id);
        expect(job?.state).toBe('waiting');
        expect(job?.attempts).toHaveLength(1);
        expect(job?.attempts[0]).toMatchObject({
          outcome: 'interrupted',
          rule: 'shutdown',
          error: { name: 'WorkerClosingError', code: 'WORKER_CLOSED' },
          decision: { action: 'retry' },
        });
        expect((await q.counts()).active).toBe(0);
      });

      it('close() past its deadline records the closing error when the handler honours its signal', async () => {
        const q = h.queue({ retry: { attempts: 3, backoff: { type: 'immediate' } } });
        const { id } = await q.add('polite', null);
        const w = h.worker(
          q,
          (_job, signal) =>
            new Promise((_, reject) =>
              signal.addEventListener('abort', () => reject(signal.reason as Error)),
            ),
          { leaseMs: 200 },
        );
        await waitForState(q, id, 'active');
        await w.close({ timeoutMs: 50 });
        const job = await q.getJob(id);
        expect(job?.state).toBe('waiting');
        expect(job?.attempts[0]).toMatchObject({
          outcome: 'interrupted',
          rule: 'shutdown',
          error: { name: 'WorkerClosingError', code: 'WORKER_CLOSED' },
          decision: { action: 'retry' },
        });
        expect((await q.counts()).active).toBe(0);
      });
    });

    describe('graceful close: giving jobs back', () => {
      /** Starts a job whose handler ignores its signal, closes its worker past a 50 ms deadline, returns the job. */
      async function closedMidway(q: Queue) {
        const { id } = await q.add('stubborn', null);
        const w = h.worker(q, () => sleep(600).then(() => 'too late'), { leaseMs: 200 });
        await waitForState(q, id, 'active');
        await w.close({ timeoutMs: 50 });
        return q.getJob(id);
      }

      it('a job given back by close() is retried at once, whatever the policy delay', async () => {
        const q = h.queue({ retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 5000 } } });
        const job = await closedMidway(q);
        expect(job?.attempts[0]?.error?.name).toBe('WorkerClosingError');
        expect(job?.attempts[0]?.decision).toMatchObject({ action: 'retry', delayMs: 0 });
        expect(job?.state).toBe('waiting');
      });

      it('a job given back by close() on its last attempt is not dead-lettered', async () => {
        const q = h.queue({ retry: { attempts: 1 } });
        const job = await closedMidway(q);
        expect(job?.attempts[0]?.error?.name).toBe('WorkerClosingError');
        expect(job?.attempts[0]?.decision.action).toBe('retry');
        expect(job?.state).toBe('waiting');
      });

      it("a job given back by close() is not dead-lettered by a queue whose default class is 'permanent'", async () => {
        const q = h.queue({ retry: { attempts: 3 }, classify: { default: 'permanent' } });
        const job = await closedMidway(q);
        expect(job?.attempts[0]?.error?.name).toBe('WorkerClosingError');
        expect(job?.attempts[0]?.decision.action).toBe('retry');
        expect(job?.state).toBe('waiting');
      });
    });

    describe('concurrency', () => {
      it('a worker with concurrency 5 runs at most 5 jobs at once and each job exactly once', async () => {
        const q = h.queue();
        const added = await q.addBulk(Array.from({ length: 20 }, (_, i) => ({ name: 'c', data: i })));
        let running = 0;
        let peak = 0;
        const runs = new Map<string, number>();
        h.worker(
          q,
          async (job) => {
            runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
            running++;
            peak = Math.max(peak, running);
            await sleep(30);
            running--;
          },
          { concurrency: 5 },
        );
        await waitUntil(async () => (await q.counts()).completed === 20, '20 completed jobs');
        expect(peak).toBe(5);
        expect(runs.size).toBe(20);
        expect([...runs.values()].every((n) => n === 1)).toBe(true);
        for (const { id } of added) {
          const job = await q.getJob(id);
          expect(job?.attempts).toHaveLength(1);
        }
      });

      it('three workers with concurrency 4 share 60 jobs, each run exactly once', async () => {
        const q = h.queue();
        const added = await q.addBulk(Array.from({ length: 60 }, (_, i) => ({ name: 'm', data: i })));
        const runs = new Map<string, string[]>();
        for (const wid of ['w-a', 'w-b', 'w-c']) {
          h.worker(
            q,
            async (job) => {
              runs.set(job.id, [...(runs.get(job.id) ?? []), wid]);
              await sleep(5);
              return job.data;
            },
            { concurrency: 4, workerId: wid },
          );
        }
        await waitUntil(async () => (await q.counts()).completed === 60, '60 completed jobs', 10_000);
        expect(runs.size).toBe(60);
        for (const { id } of added) {
          const job = await q.getJob(id);
          expect(runs.get(id)).toHaveLength(1);
          expect(job?.attempts).toHaveLength(1);
          expect(job?.attempts[0]).toMatchObject({ outcome: 'succeeded', workerId: runs.get(id)?.[0] });
        }
        expect(await q.counts()).toMatchObject({ waiting: 0, active: 0, completed: 60 });
      });
    });
  });
}
