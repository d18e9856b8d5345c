/** explainJob, pure: exact holds and sentences from facts (no backend, no clock). */
import { describe, expect, it } from 'vitest';

import { explainJob, type ExplainFacts } from '../../src/explain.js';
import type { Attempt, Job } from '../../src/types.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const OPTS = { retry: { phases: [], maxAttempts: 5 }, timeoutMs: 0, maxStalls: 3 };

function job(over: Partial<Job>): Job {
  return {
    id: 'j1',
    queue: 'q',
    name: 'n',
    data: null,
    state: 'waiting',
    createdAt: T0,
    dueAt: T0,
    priority: 0,
    options: OPTS,
    attempts: [],
    stalls: 0,
    failures: 0,
    refusals: [],
    ...over,
  };
}

function attempt(n: number, decision: Attempt['decision']): Attempt {
  return {
    n,
    trigger: 'auto',
    dueAt: T0,
    startedAt: T0,
    finishedAt: T0 + 100,
    driftMs: 0,
    workerId: 'w',
    outcome: 'failed',
    error: { name: 'Error', message: 'down', code: 'ECONNRESET' },
    errorClass: 'temporary',
    rule: 'code:ECONNRESET',
    decision,
  };
}

const facts = (j: Job | null, over: Partial<ExplainFacts> = {}): ExplainFacts => ({
  queue: 'q',
  id: 'j1',
  now: T0 + 1000,
  job: j,
  paused: false,
  agingMs: 0,
  ahead: null,
  workers: { now: T0 + 1000, workers: [], lastSeenAt: T0 - 119_000 },
  ...over,
});

describe('explainJob', () => {
  it('a retry the retry budget deferred: the due hold, then the deferral with the budget', () => {
    const j = job({
      state: 'scheduled',
      dueAt: T0 + 5100,
      attempts: [
        attempt(1, {
          action: 'retry',
          delayMs: 5000,
          nextDueAt: T0 + 5100,
          source: 'policy',
          explanation: 'fixed: 1 s',
          detail: { strategy: 'fixed' },
          budget: { deferredMs: 4000, firstAttempts: 60, allowed: 12 },
        }),
      ],
    });
    const e = explainJob(facts(j));
    expect(e.holds).toEqual([
      {
        kind: 'due',
        dueAt: T0 + 5100,
        inMs: 4100,
        cause: 'retry',
        attempt: 2,
        retry: 1,
        strategy: 'fixed',
        source: 'policy',
        explanation: 'fixed: 1 s',
        text: 'due in 4.1 s (2026-01-01T12:00:05.100Z): retry 1 (attempt 2), fixed: 1 s',
      },
      {
        kind: 'retry-budget',
        until: T0 + 5100,
        deferredMs: 4000,
        firstAttempts: 60,
        allowed: 12,
        text: "deferred 4 s by the queue's retry budget: 12 retries allowed for 60 first attempts in its window",
      },
      {
        kind: 'no-worker',
        lastSeenAt: T0 - 119_000,
        forMs: 120_000,
        text: 'no live worker on queue q for 2 min (last seen 2026-01-01T11:58:01.000Z)',
      },
    ]);
  });

  it('a handler-given delay says so; extra holds (rate limits) come after the core ones', () => {
    const j = job({
      state: 'scheduled',
      dueAt: T0 + 3000,
      attempts: [
        attempt(1, {
          action: 'retry',
          delayMs: 3000,
          nextDueAt: T0 + 3000,
          source: 'handler',
          explanation: 'Retry-After: 3 s',
          detail: { strategy: 'handler' },
        }),
      ],
    });
    const limit = {
      kind: 'rate-limit' as const,
      scope: 'group' as const,
      group: 't-42',
      until: T0 + 1340,
      text: 'x',
    };
    const e = explainJob(facts(j, { workers: { now: T0, workers: [], lastSeenAt: undefined } }), [limit]);
    expect(e.holds.map((h) => h.kind)).toEqual(['due', 'no-worker', 'rate-limit']);
    expect(e.holds[0]!.text).toBe(
      'due in 2 s (2026-01-01T12:00:03.000Z): retry 1 (attempt 2), the handler asked for this delay: Retry-After: 3 s',
    );
    expect(e.holds[1]!.text).toBe('no worker has ever registered on queue q');
  });

  it('dead jobs say what finished them, budget included', () => {
    const last = attempt(3, {
      action: 'dead',
      reason: 'exhausted',
      explanation: 'attempts exhausted: 3 of 3 used',
    });
    const dead = (reason: 'exhausted' | 'permanent' | 'poison' | 'budget') =>
      explainJob(
        facts(
          job({
            state: 'dead',
            attempts: [last],
            stalls: 3,
            dead: { reason, at: T0 + 100, fingerprint: 'ab', error: { name: 'Error', message: 'down' } },
          }),
        ),
      ).summary;
    expect(dead('exhausted')).toBe(
      'dead-lettered at 2026-01-01T12:00:00.100Z: its retries were used up (1 attempt); last error Error: down',
    );
    expect(dead('permanent')).toBe(
      'dead-lettered at 2026-01-01T12:00:00.100Z: a permanent error (code:ECONNRESET); last error Error: down',
    );
    expect(dead('poison')).toBe(
      'dead-lettered at 2026-01-01T12:00:00.100Z: it stalled its workers 3 times (poison); last error Error: down',
    );
    expect(dead('budget')).toBe(
      "dead-lettered at 2026-01-01T12:00:00.100Z: its retry was over the queue's retry budget, which dead-letters (budget); last error Error: down",
    );
  });

  it('a waiting job with nothing ahead and a live worker is next in line', () => {
    const worker = {
      id: 'w',
      host: 'h',
      pid: 1,
      queues: ['q'],
      concurrency: 1,
      inFlight: 0,
      version: 'v',
      startedAt: T0,
      heartbeatAt: T0,
      expiresAt: T0 + 15_000,
    };
    const e = explainJob(
      facts(job({}), {
        ahead: { priority: 0, same: 0, higher: 0, aged: 0, capped: false },
        workers: { now: T0, workers: [worker], lastSeenAt: T0 },
      }),
    );
    expect([e.holds, e.summary]).toEqual([[], 'next in line: the next claim on queue q takes it']);
  });
});
