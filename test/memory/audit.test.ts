/**
 * The self-audit catches the original article's bug: a strategy meant to double from 5 s
 * (5 s → 10 s → 20 s → 40 s) whose real delays plateau near 6 s. The records are written by the
 * real transitions (claim, finish) of the memory backend on a manual clock, with the buggy delays
 * a broken strategy chose; the job stores the policy that was meant.
 */
import { describe, expect, it } from 'vitest';

import type { FinishDecision } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { ManualClock } from '../../src/clock.js';
import { Queue } from '../../src/queue.js';
import { finishOnly } from '../helpers/finish.js';

const ERROR = { name: 'Error', message: 'socket hang up', code: 'ECONNRESET' };
const MEANT = { attempts: 5, backoff: { type: 'exponential', delayMs: 5000 } } as const;

/** Runs the queue's next job by hand: claimed after `drift` ms, runs 100 ms, finishes with `decision`. */
async function runOnce(
  backend: MemoryBackend,
  clock: ManualClock,
  queue: string,
  decision: FinishDecision,
): Promise<void> {
  const { jobs } = await backend.claim(queue, { workerId: 'w', leaseMs: 60_000, max: 1 });
  const job = jobs[0];
  if (!job) throw new Error('nothing to claim');
  clock.advance(100);
  const failed = decision.action !== 'done';
  await finishOnly(backend, queue, [
    {
      id: job.id,
      attempt: job.attempt,
      workerId: 'w',
      outcome: failed ? 'failed' : 'succeeded',
      ...(failed ? { error: ERROR, errorClass: 'temporary', rule: 'code:ECONNRESET' } : { result: 'null' }),
      decision,
    },
  ]);
}

const retry = (delayMs: number): FinishDecision => ({
  action: 'retry',
  delayMs,
  source: 'policy',
  explanation: `exponential (as the broken strategy computed it): ${delayMs} ms`,
  detail: { strategy: 'exponential' },
});

describe('queue.audit', () => {
  it('flags every attempt of the plateau bug with the expected and the actual delay', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const backend = new MemoryBackend({ clock });
    const queue = new Queue('audit-plateau', { backend });
    const { id: buggy } = await queue.add('charge', {}, { retry: MEANT });
    // Meant: 5 s, 10 s, 20 s, 40 s. Really: 5 s, then about 6 s every time.
    const delays = [5000, 6000, 6100, 5900];
    for (const d of delays) {
      await runOnce(backend, clock, 'audit-plateau', retry(d));
      clock.advance(d + 3); // started 3 ms late: normal drift
    }
    await runOnce(backend, clock, 'audit-plateau', { action: 'dead', reason: 'exhausted', explanation: '' });

    // A healthy job beside it: the same policy, the delays it should have.
    const { id: healthy } = await queue.add('charge', {}, { retry: MEANT });
    for (const d of [5000, 10_000, 20_000]) {
      await runOnce(backend, clock, 'audit-plateau', retry(d));
      clock.advance(d + 3);
    }
    await runOnce(backend, clock, 'audit-plateau', { action: 'done' });

    const report = await queue.audit();
    expect(report.checked).toEqual({ jobs: 2, retries: 7, verified: 7, noDraw: 0, unknownStrategy: 0 });
    expect(report.counts).toEqual({
      delay: 3,
      decision: 0,
      due: 0,
      early: 0,
      'retry-after': 0,
      drift: 0,
      attempts: 0,
    });
    expect(report.findings).toEqual([
      {
        kind: 'delay',
        jobId: buggy,
        name: 'charge',
        attempt: 2,
        expectedDelayMs: 10_000,
        recordedDelayMs: 6000,
        actualDelayMs: 6003,
        message: 'after attempt 2: expected 10 s (exponential: 5 s × 2^1 = 10 s), recorded 6 s',
      },
      {
        kind: 'delay',
        jobId: buggy,
        name: 'charge',
        attempt: 3,
        expectedDelayMs: 20_000,
        recordedDelayMs: 6100,
        actualDelayMs: 6103,
        message: 'after attempt 3: expected 20 s (exponential: 5 s × 2^2 = 20 s), recorded 6.1 s',
      },
      {
        kind: 'delay',
        jobId: buggy,
        name: 'charge',
        attempt: 4,
        expectedDelayMs: 40_000,
        recordedDelayMs: 5900,
        actualDelayMs: 5903,
        message: 'after attempt 4: expected 40 s (exponential: 5 s × 2^3 = 40 s), recorded 5.9 s',
      },
    ]);
    expect(report.findings.every((f) => f.jobId !== healthy)).toBe(true);
    expect(report.summary).toEqual([
      '2 jobs, 7 retries checked (7 recomputed, 0 without a recorded draw, 0 with an unknown custom strategy)',
      '3 findings: 3 delay',
    ]);
  });
});
