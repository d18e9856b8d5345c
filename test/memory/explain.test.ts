/**
 * queue.explain on the memory backend with a manual clock: exact holds and sentences for a job
 * waiting for its retry, a paused queue, jobs ahead by priority and by aging, no live worker, a
 * scheduler's job not created yet, and finished jobs. Records are written by the real transitions.
 */
import { describe, expect, it } from 'vitest';

import type { FinishDecision } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { planRetry, resolveRetryPolicy } from '../../src/backoff.js';
import { ManualClock } from '../../src/clock.js';
import { JobNotFoundError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import { specText } from '../../src/schedule.js';
import { finishOnly } from '../helpers/finish.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const ERROR = { name: 'Error', message: 'socket hang up', code: 'ECONNRESET' };
const POLICY = { attempts: 4, backoff: { type: 'exponential', delayMs: 1000 } } as const;

function setup(): { clock: ManualClock; backend: MemoryBackend; queue: Queue } {
  const clock = new ManualClock(T0);
  const backend = new MemoryBackend({ clock });
  return { clock, backend, queue: new Queue('q', { backend }) };
}

/** Claims the next job as worker w and fails it with the policy's real decision for that failure. */
async function fail(backend: MemoryBackend, clock: ManualClock, failuresBefore: number): Promise<void> {
  const { jobs } = await backend.claim('q', { workerId: 'w', leaseMs: 60_000, max: 1 });
  const job = jobs[0]!;
  clock.advance(50);
  const plan = planRetry(resolveRetryPolicy(POLICY), failuresBefore + 1, { random: () => 0.5 });
  if (plan.action !== 'retry') throw new Error('expected a retry');
  const decision: FinishDecision = {
    action: 'retry',
    delayMs: plan.delayMs,
    source: 'policy',
    explanation: plan.explanation,
    detail: plan.detail,
  };
  await finishOnly(backend, 'q', [
    {
      id: job.id,
      attempt: job.attempt,
      workerId: 'w',
      outcome: 'failed',
      error: ERROR,
      errorClass: 'temporary',
      rule: 'code:ECONNRESET',
      decision,
    },
  ]);
}

const beat = { host: 'h', pid: 1, queues: ['q'], concurrency: 1, inFlight: 0, version: '0.1.0' };

describe('queue.explain (memory, manual clock)', () => {
  it('a job waiting for its retry: due in, which retry, the strategy and the decision explanation', async () => {
    const { clock, backend, queue } = setup();
    const { id } = await queue.add('call', {}, { retry: POLICY });
    await fail(backend, clock, 0);
    clock.advance(1000);
    await fail(backend, clock, 1); // second failure at T0 + 1100: retry 2 in 2 s
    clock.advance(1000);
    const e = await queue.explain(id);
    expect(e.state).toBe('scheduled');
    expect(e.now).toBe(T0 + 2100);
    expect(e.holds).toEqual([
      {
        kind: 'due',
        dueAt: T0 + 3100,
        inMs: 1000,
        cause: 'retry',
        attempt: 3,
        retry: 2,
        strategy: 'exponential',
        source: 'policy',
        explanation: 'exponential: 1 s × 2^1 = 2 s',
        text: 'due in 1 s (2026-01-01T12:00:03.100Z): retry 2 (attempt 3), exponential: 1 s × 2^1 = 2 s',
      },
      {
        kind: 'no-worker',
        lastSeenAt: undefined,
        forMs: undefined,
        text: 'no worker has ever registered on queue q',
      },
    ]);
    expect(e.summary).toBe(e.holds[0]!.text);
  });

  it('a paused queue, jobs of higher priority ahead, and no live worker for 2 minutes', async () => {
    const { clock, backend, queue } = setup();
    await backend.workerHeartbeat('q', { id: 'w1', ...beat }, 15_000);
    await backend.workerLeave('q', 'w1');
    await queue.addBulk([
      { name: 'a', data: null, options: { priority: 5 } },
      { name: 'b', data: null, options: { priority: 5 } },
      { name: 'c', data: null, options: { priority: 1 } },
    ]);
    const { id } = await queue.add('d', null, { priority: 1 });
    await queue.add('later', null, { priority: 9, delay: 60_000 });
    await queue.pause();
    clock.advance(120_000);
    const e = await queue.explain(id);
    expect(e.holds).toEqual([
      { kind: 'paused', text: 'queue q is paused: nothing is claimed until it is resumed' },
      {
        kind: 'priority',
        ahead: 3,
        atLeast: false,
        higher: 2,
        same: 1,
        aged: 0,
        priority: 1,
        agingMs: 0,
        text: 'behind 3 jobs a claim takes first: 2 of higher priority, 1 of its priority (1) that became due before it',
      },
      {
        kind: 'no-worker',
        lastSeenAt: T0,
        forMs: 120_000,
        text: 'no live worker on queue q for 2 min (last seen 2026-01-01T12:00:00.000Z)',
      },
    ]);
  });

  it('with aging, lower priorities that waited longer are ahead, and the effective priority is given', async () => {
    const { clock, backend, queue } = setup();
    await queue.setPriorityAging(1000);
    await queue.add('old-low', null, { priority: 0 }); // due T0: rank T0
    clock.advance(3000);
    await queue.add('high', null, { priority: 4 }); // due T0+3000: rank T0-1000
    const { id } = await queue.add('mid', null, { priority: 2 }); // due T0+3000: rank T0+1000
    await backend.workerHeartbeat('q', { id: 'w1', ...beat }, 60_000);
    clock.advance(500);
    const e = await queue.explain(id);
    expect(e.holds).toEqual([
      {
        kind: 'priority',
        ahead: 2,
        atLeast: false,
        higher: 1,
        same: 0,
        aged: 1,
        priority: 2,
        effectivePriority: 2,
        agingMs: 1000,
        text: 'behind 2 jobs a claim takes first: 1 of higher priority, 1 of lower priority that waited longer (aging); aging +1 level per 1 s waited: its effective priority is 2 now',
      },
    ]);
    // The claim order agrees.
    const { jobs } = await backend.claim('q', { workerId: 'w1', leaseMs: 1000, max: 3 });
    expect(jobs.map((j) => j.name)).toEqual(['high', 'old-low', 'mid']);
  });

  it('next in line, running, and finished jobs say so', async () => {
    const { clock, backend, queue } = setup();
    await backend.workerHeartbeat('q', { id: 'w', ...beat }, 60_000);
    const { id } = await queue.add('one', null);
    expect(await queue.explain(id)).toMatchObject({
      state: 'waiting',
      holds: [],
      summary: 'next in line: the next claim on queue q takes it',
    });
    const { jobs } = await backend.claim('q', { workerId: 'w', leaseMs: 30_000, max: 1 });
    clock.advance(2000);
    expect((await queue.explain(id)).summary).toBe(
      'running: attempt 1 on worker w since 2026-01-01T12:00:00.000Z (2 s), lease until 2026-01-01T12:00:30.000Z',
    );
    await finishOnly(backend, 'q', [
      {
        id,
        attempt: jobs[0]!.attempt,
        workerId: 'w',
        outcome: 'succeeded',
        result: 'null',
        decision: { action: 'done' },
      },
    ]);
    const done = await queue.explain(id);
    expect(done.finished).toEqual({
      state: 'completed',
      at: T0 + 2000,
      text: 'completed at 2026-01-01T12:00:02.000Z: attempt 1 succeeded on worker w',
    });
    const { id: c } = await queue.add('two', null);
    await queue.cancel(c, { by: 'ada', reason: 'not needed' });
    expect((await queue.explain(c)).summary).toBe('cancelled at 2026-01-01T12:00:02.000Z by ada: not needed');
  });

  it("a scheduler's job not created yet: when its scheduler creates it, or that it is paused", async () => {
    const { backend, queue } = setup();
    await backend.upsertScheduler('q', {
      id: 'nightly',
      spec: specText({ every: 60_000 }),
      anchor: T0,
      nextRunAt: T0 + 60_000,
      name: 'n',
      data: 'null',
      opts: '{}',
      maxStalls: 3,
      missed: 'skip',
      overlap: 'allow',
    });
    const e = await queue.explain(`sch:nightly:${T0 + 60_000}`);
    expect(e).toMatchObject({
      state: 'not-created',
      holds: [{ kind: 'scheduler', schedulerId: 'nightly', paused: false }],
    });
    expect(e.summary).toBe(
      'not created yet: scheduler nightly creates it at 2026-01-01T12:01:00.000Z (its next run, in 1 min)',
    );
    await queue.pauseScheduler('nightly');
    expect((await queue.explain(`sch:nightly:${T0 + 60_000}`)).summary).toBe(
      'not created yet: scheduler nightly is paused (its occurrence at 2026-01-01T12:01:00.000Z is skipped while it is)',
    );
    await expect(queue.explain('sch:other:1')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(queue.explain('nope')).rejects.toBeInstanceOf(JobNotFoundError);
  });
});
