import { describe, expect, it } from 'vitest';

import { auditJob, auditReport, driftFence, resolveAuditOptions } from '../../src/audit.js';
import { resolveRetryPolicy } from '../../src/backoff.js';
import type { Attempt, Decision, Job, RetryPolicy } from '../../src/types.js';

const T0 = 2_000_000;
const ERR = { name: 'Error', message: 'boom', code: 'ECONNRESET' };

function att(
  n: number,
  due: number,
  drift: number,
  outcome: Attempt['outcome'],
  decision: Decision,
): Attempt {
  return {
    n,
    trigger: 'auto',
    dueAt: due,
    startedAt: due + drift,
    finishedAt: due + drift + 100,
    driftMs: drift,
    workerId: 'w',
    outcome,
    ...(outcome === 'failed'
      ? { error: ERR, errorClass: 'temporary' as const, rule: 'code:ECONNRESET' }
      : {}),
    decision,
  };
}
const retry = (
  delayMs: number,
  nextDueAt: number,
  more: Partial<Extract<Decision, { action: 'retry' }>> = {},
) =>
  ({
    action: 'retry',
    delayMs,
    nextDueAt,
    source: 'policy',
    explanation: '',
    detail: { strategy: 'fixed' },
    ...more,
  }) as Decision;
const done: Decision = { action: 'done' };

function job(attempts: Attempt[], policy: RetryPolicy): Job {
  return {
    id: 'j',
    queue: 'q',
    name: 'n',
    data: {},
    state: 'completed',
    createdAt: T0,
    dueAt: T0,
    priority: 0,
    options: { retry: resolveRetryPolicy(policy), timeoutMs: 0, maxStalls: 3 },
    attempts,
    stalls: 0,
    failures: 0,
    refusals: [],
  };
}

const FIXED = { attempts: 3, backoff: { type: 'fixed', delayMs: 1000 } } as const;
const o = { toleranceMs: 50, driftOutlierMs: 1000 };
const kinds = (j: Job) => auditJob(j, o).findings.map((f) => [f.kind, f.attempt]);

describe('auditJob', () => {
  it('finds nothing in a history that follows its policy', () => {
    const j = job(
      [att(1, T0, 0, 'failed', retry(1000, T0 + 1100)), att(2, T0 + 1100, 2, 'succeeded', done)],
      FIXED,
    );
    expect(auditJob(j, o)).toEqual({ findings: [], retries: 1, verified: 1, noDraw: 0, unknownStrategy: 0 });
  });

  it('an early start, a due time that does not add up, a late outlier', () => {
    const j = job(
      [
        att(1, T0, 0, 'failed', retry(1000, T0 + 1100)),
        att(2, T0 + 600, 0, 'failed', retry(1000, T0 + 2500)), // started 500 ms early; due 1.8 s after its end
        att(3, T0 + 2500, 5000, 'succeeded', done), // 5 s late
      ],
      FIXED,
    );
    expect(kinds(j)).toEqual([
      ['early', 2],
      ['due', 2],
      ['drift', 3],
    ]);
  });

  it('a retry that ignored the Retry-After its handler asked for', () => {
    const j = job(
      [
        att(1, T0, 0, 'failed', retry(3000, T0 + 3100, { source: 'handler' })),
        att(2, T0 + 1100, 0, 'succeeded', done),
      ],
      FIXED,
    );
    const f = auditJob(j, o).findings;
    expect(f).toEqual([
      {
        kind: 'retry-after',
        jobId: 'j',
        name: 'n',
        attempt: 2,
        recordedDelayMs: 3000,
        actualDelayMs: 1000,
        message: 'attempt 2 started 1 s after attempt 1, before the 3 s its handler asked for (Retry-After)',
      },
    ]);
  });

  it('more attempts than the policy allows, and a retry where the policy dead-letters', () => {
    const j = job(
      [
        att(1, T0, 0, 'failed', retry(1000, T0 + 1100)),
        att(2, T0 + 1100, 0, 'failed', retry(1000, T0 + 2200)),
        att(3, T0 + 2200, 0, 'failed', retry(1000, T0 + 3300)),
        att(4, T0 + 3300, 0, 'succeeded', done),
      ],
      FIXED,
    );
    expect(kinds(j)).toEqual([
      ['decision', 3],
      ['attempts', 4],
    ]);
  });

  it('jitter without a recorded draw is unverifiable, with one it is recomputed', () => {
    const full = { attempts: 3, backoff: { type: 'exponential', delayMs: 1000, jitter: 'full' } } as const;
    const noDraw = job(
      [att(1, T0, 0, 'failed', retry(400, T0 + 500)), att(2, T0 + 500, 0, 'succeeded', done)],
      full,
    );
    expect(auditJob(noDraw, o)).toMatchObject({ findings: [], noDraw: 1, verified: 0 });
    const drawn = retry(400, T0 + 500, { detail: { strategy: 'exponential', draw: 0.9 } });
    const withDraw = job([att(1, T0, 0, 'failed', drawn), att(2, T0 + 500, 0, 'succeeded', done)], full);
    expect(auditJob(withDraw, o).findings).toMatchObject([
      { kind: 'delay', expectedDelayMs: 900, recordedDelayMs: 400 },
    ]);
  });
});

describe('auditReport', () => {
  it('the drift fence: Q3 + 3 × IQR, at least driftMs', () => {
    expect(driftFence([1, 2, 3, 4, 5, 6, 7, 8])).toBe(6 + 3 * 4);
    expect(driftFence([1, 2, 3])).toBeUndefined();
    const j = job([att(1, T0, 900, 'succeeded', done)], FIXED);
    const r = auditReport('q', { jobs: [j], truncated: false }, resolveAuditOptions({ driftMs: 500 }));
    expect(r.driftOutlierMs).toBe(500);
    expect(r.counts.drift).toBe(1);
  });

  it('validates its options', () => {
    expect(() => resolveAuditOptions({ toleranceMs: -1 })).toThrow(/toleranceMs/);
    expect(() => resolveAuditOptions({ window: { to: 1.5 } })).toThrow(/window\.to/);
    expect(() => resolveAuditOptions({ what: 1 } as never)).toThrow(/what/);
  });
});
