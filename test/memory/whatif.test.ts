/**
 * What-if on a real recorded history (memory backend, a real Worker): replaying every job under
 * its own policy reproduces what was recorded exactly, for every strategy and jitter (the recorded
 * draws), Retry-After, timeouts and permanent failures.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { PermanentError, TemporaryError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import type { RetryPolicy } from '../../src/types.js';
import { replayJob } from '../../src/whatif.js';
import { Worker } from '../../src/worker.js';

const backend = new MemoryBackend();
afterAll(() => backend.close());

const POLICIES: Record<string, RetryPolicy> = {
  immediate: { attempts: 4 },
  fixed: { attempts: 4, backoff: { type: 'fixed', delayMs: 7 } },
  linear: { attempts: 4, backoff: { type: 'linear', delayMs: 3, stepMs: 4, maxDelayMs: 9 } },
  exponential: { attempts: 4, backoff: { type: 'exponential', delayMs: 2, factor: 3 } },
  full: { attempts: 4, backoff: { type: 'exponential', delayMs: 8, jitter: 'full' } },
  equal: { attempts: 4, backoff: { type: 'exponential', delayMs: 8, jitter: 'equal' } },
  decorrelated: {
    attempts: 5,
    backoff: { type: 'exponential', delayMs: 4, maxDelayMs: 40, jitter: 'decorrelated' },
  },
  phases: {
    phases: [
      { retries: 1, backoff: { type: 'immediate' } },
      { retries: 2, backoff: { type: 'exponential', delayMs: 5, jitter: 'full' } },
    ],
  },
};

type Data = { fails: number; kind: 'plain' | 'after' | 'permanent' | 'timeout' };

describe('whatIf on a recorded history', () => {
  it('replaying every job under its own policy reproduces the recorded outcome exactly', async () => {
    const queue = new Queue<Data>('whatif-self', { backend });
    const jobs = [];
    for (const [name, retry] of Object.entries(POLICIES)) {
      for (let fails = 0; fails <= 5; fails++) {
        jobs.push({ name, data: { fails, kind: 'plain' as const }, options: { retry } });
      }
      jobs.push({ name, data: { fails: 1, kind: 'after' as const }, options: { retry } });
      jobs.push({ name, data: { fails: 1, kind: 'permanent' as const }, options: { retry } });
      jobs.push({ name, data: { fails: 1, kind: 'timeout' as const }, options: { retry, timeout: 20 } });
    }
    await queue.addBulk(jobs);
    const worker = new Worker<Data>(
      queue,
      async (job) => {
        if (job.attempt > job.data.fails) return 'ok';
        if (job.data.kind === 'after') throw new TemporaryError('slow down', { retryAfterMs: 6 });
        if (job.data.kind === 'permanent') throw new PermanentError('bad data', { code: 'INVALID_DATA' });
        if (job.data.kind === 'timeout') await new Promise((r) => setTimeout(r, 200));
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      },
      { concurrency: 20 },
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      const c = await queue.counts();
      if (c.completed + c.dead === jobs.length) break;
      if (Date.now() > deadline) throw new Error(`not finished: ${JSON.stringify(c)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await worker.close();

    const report = await queue.whatIf({ seed: 1 });
    expect(report.scope).toMatchObject({ read: jobs.length, replayed: jobs.length, truncated: false });
    const { recorded, alternative } = report.comparison;
    expect(alternative.unknown).toBe(0);
    expect(alternative.optimistic).toEqual(recorded);
    expect(alternative.pessimistic).toEqual(recorded);
    // Job by job, to the millisecond: outcome, attempts, end, time to success, every retry's due time.
    for (const state of ['completed', 'dead'] as const) {
      for (const job of await queue.getJobs(state, { limit: 1000 })) {
        const r = replayJob(job, { seed: 1, draws: 'recorded' });
        expect({ id: job.id, known: r.known, run: r.optimistic }).toEqual({
          id: job.id,
          known: true,
          run: r.recorded,
        });
      }
    }
    // Something really happened: successes, each kind of death, retries with jitter.
    expect(recorded.succeeded).toBeGreaterThan(0);
    expect(recorded.deadByReason.exhausted).toBeGreaterThan(0);
    expect(recorded.deadByReason.permanent).toBe(Object.keys(POLICIES).length);

    // Another policy, same seed: the same answer twice; a different seed may differ only in jitter.
    const alt = {
      retry: { attempts: 6, backoff: { type: 'exponential', delayMs: 5, jitter: 'full' } },
    } as const;
    const a = await queue.whatIf({ ...alt, seed: 42 });
    expect(await queue.whatIf({ ...alt, seed: 42 })).toEqual(a);
    expect(a.seed).toBe(42);
    expect(a.comparison.alternative.unknown).toBeGreaterThan(0);
    expect(a.comparison.alternative.optimistic.succeeded).toBeGreaterThanOrEqual(
      a.comparison.alternative.pessimistic.succeeded,
    );

    // The name filter reads through the name index.
    const only = await queue.whatIf({ filter: { name: 'full' }, seed: 1 });
    expect(only.scope.read).toBe(9);
    // The bound: the most recent `limit` jobs, said to be truncated.
    const few = await queue.whatIf({ limit: 5, seed: 1 });
    expect(few.scope).toMatchObject({ read: 5, truncated: true });
  }, 30_000);
});

describe('whatIf and audit with a retry budget', () => {
  it('keep the budget as recorded: the own-policy replay is exact, and a deferral is not a finding', async () => {
    for (const onExhausted of ['defer', 'dead'] as const) {
      const queue = new Queue<{ fails: number }>(`whatif-budget-${onExhausted}`, { backend });
      await queue.setRetryBudget({ ratio: 0.1, windowMs: 1000, minPerSecond: 2, onExhausted });
      const retry = { attempts: 3, backoff: { type: 'fixed', delayMs: 5 } } as const;
      await queue.addBulk(
        Array.from({ length: 20 }, () => ({ name: 'n', data: { fails: 1 }, options: { retry } })),
      );
      const worker = new Worker<{ fails: number }>(
        queue,
        (job) => {
          if (job.attempt <= job.data.fails) throw new Error('down');
          return 'ok';
        },
        { concurrency: 20 },
      );
      const deadline = Date.now() + 20_000;
      for (;;) {
        const c = await queue.counts();
        if (c.completed + c.dead === 20) break;
        if (Date.now() > deadline) throw new Error(`not finished: ${JSON.stringify(c)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await worker.close();
      const jobs = [
        ...(await queue.getJobs('completed', { limit: 100 })),
        ...(await queue.getJobs('dead', { limit: 100 })),
      ];
      const budgeted = jobs.filter((j) =>
        j.attempts.some(
          (a) =>
            (a.decision.action === 'retry' && a.decision.budget !== undefined) ||
            (a.decision.action === 'dead' && a.decision.reason === 'budget'),
        ),
      );
      expect(budgeted.length, onExhausted).toBeGreaterThan(0);
      for (const job of jobs) {
        const r = replayJob(job, { seed: 1, draws: 'recorded' });
        expect(r.optimistic, `${onExhausted} ${job.id}`).toEqual(r.recorded);
      }
      const audit = await queue.audit();
      expect(audit.counts.delay + audit.counts.decision, onExhausted).toBe(0);
      if (onExhausted === 'dead') {
        const w = await queue.whatIf({ seed: 1 });
        expect(w.comparison.recorded.deadByReason.budget).toBeGreaterThan(0);
      }
    }
  }, 60_000);
});
