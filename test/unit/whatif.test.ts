import { describe, expect, it } from 'vitest';

import { resolveRetryPolicy } from '../../src/backoff.js';
import { resolveClassifyOptions } from '../../src/classify.js';
import { ValidationError } from '../../src/errors.js';
import type { Attempt, Decision, Job, RetryPolicy } from '../../src/types.js';
import {
  classificationDryRun,
  classificationOf,
  exclusionOf,
  peak,
  percentile,
  recordedRun,
  replayJob,
  resolveWhatIfOptions,
  seededRandom,
  whatIfReport,
  type Alternative,
} from '../../src/whatif.js';

const T0 = 1_000_000;
const ECONNRESET = { name: 'Error', message: 'socket hang up', code: 'ECONNRESET' };
const INVALID = { name: 'Error', message: 'bad email', code: 'INVALID_DATA' };

function retry(delayMs: number, nextDueAt: number, source: 'policy' | 'handler' = 'policy'): Decision {
  return { action: 'retry', delayMs, nextDueAt, source, explanation: '', detail: { strategy: 'fixed' } };
}
const dead = (reason: 'exhausted' | 'permanent' | 'poison'): Decision => ({
  action: 'dead',
  reason,
  explanation: '',
});

/** An attempt: due at `due`, started `drift` later, ran `run` ms. */
function att(
  n: number,
  due: number,
  drift: number,
  run: number,
  outcome: Attempt['outcome'],
  decision: Decision,
  more: Partial<Attempt> = {},
): Attempt {
  const failed = outcome === 'failed';
  return {
    n,
    trigger: n === 1 ? 'auto' : 'auto',
    dueAt: due,
    startedAt: due + drift,
    finishedAt: due + drift + run,
    driftMs: drift,
    workerId: 'w',
    outcome,
    ...(failed ? { error: ECONNRESET, errorClass: 'temporary' as const, rule: 'code:ECONNRESET' } : {}),
    decision,
    ...more,
  };
}

function job(id: string, attempts: Attempt[], policy: RetryPolicy, name = 'charge'): Job {
  const last = attempts[attempts.length - 1] as Attempt;
  return {
    id,
    queue: 'q',
    name,
    data: {},
    state: last.outcome === 'succeeded' ? 'completed' : 'dead',
    createdAt: T0,
    dueAt: last.dueAt,
    priority: 0,
    options: { retry: resolveRetryPolicy(policy), timeoutMs: 0, maxStalls: 3 },
    attempts,
    stalls: 0,
    failures: 0,
    refusals: [],
    finishedAt: last.finishedAt,
  };
}

const OWN: RetryPolicy = { attempts: 4, backoff: { type: 'exponential', delayMs: 5000 } };
const fail = (d: Decision) => ['failed', d] as const;

/** Fails 3 times (5 s, 10 s, 20 s), succeeds on attempt 4. */
const X = job(
  'x',
  [
    att(1, T0, 10, 100, ...fail(retry(5000, T0 + 5110))),
    att(2, T0 + 5110, 20, 100, ...fail(retry(10_000, T0 + 15_230))),
    att(3, T0 + 15_230, 10, 100, ...fail(retry(20_000, T0 + 35_340))),
    att(4, T0 + 35_340, 10, 100, 'succeeded', { action: 'done' }),
  ],
  OWN,
);
/** The same, but attempt 4 fails too: dead, exhausted. */
const Y = job(
  'y',
  [...X.attempts.slice(0, 3), att(4, T0 + 35_340, 10, 100, ...fail(dead('exhausted')))],
  OWN,
);
/** A permanent failure at once. */
const Z = job(
  'z',
  [
    att(1, T0, 5, 50, 'failed', dead('permanent'), {
      error: INVALID,
      errorClass: 'permanent',
      rule: 'code:INVALID_DATA',
    }),
  ],
  OWN,
  'import',
);

const alt = (retryPolicy?: RetryPolicy, over: Partial<Alternative> = {}): Alternative => ({
  retry: retryPolicy === undefined ? undefined : resolveRetryPolicy(retryPolicy),
  seed: 7,
  draws: 'recorded',
  ...over,
});

describe('recordedRun', () => {
  it('reads the outcome, attempts, time to success and retries due from the records', () => {
    expect(recordedRun(X)).toEqual({
      outcome: 'succeeded',
      attempts: 4,
      endedAt: T0 + 35_450,
      timeToSuccessMs: 35_450,
      retriesDueAt: [T0 + 5110, T0 + 15_230, T0 + 35_340],
    });
    expect(recordedRun(Y)).toEqual({
      outcome: 'dead',
      deadReason: 'exhausted',
      attempts: 4,
      endedAt: T0 + 35_450,
      retriesDueAt: [T0 + 5110, T0 + 15_230, T0 + 35_340],
    });
  });
});

describe('replayJob', () => {
  it('reproduces the recorded run under the job’s own policy', () => {
    for (const j of [X, Y, Z]) {
      const r = replayJob(j, alt());
      expect(r.known).toBe(true);
      expect(r.optimistic).toEqual(r.recorded);
      expect(r.pessimistic).toEqual(r.recorded);
    }
  });

  it('stops early when the alternative gives up sooner: known, dead', () => {
    const r = replayJob(X, alt({ attempts: 3, backoff: { type: 'fixed', delayMs: 1000 } }));
    expect(r.known).toBe(true);
    expect(r.optimistic).toEqual({
      outcome: 'dead',
      deadReason: 'exhausted',
      attempts: 3,
      endedAt: T0 + 2340,
      retriesDueAt: [T0 + 1110, T0 + 2230],
    });
    expect(r.pessimistic).toEqual(r.optimistic);
  });

  it('keeps recorded drift and run time under shorter delays: success sooner, known', () => {
    const r = replayJob(X, alt({ attempts: 6, backoff: { type: 'fixed', delayMs: 1000 } }));
    expect(r.known).toBe(true);
    expect(r.optimistic).toEqual({
      outcome: 'succeeded',
      attempts: 4,
      endedAt: T0 + 3450,
      timeToSuccessMs: 3450,
      retriesDueAt: [T0 + 1110, T0 + 2230, T0 + 3340],
    });
  });

  it('bounds attempts past the record: optimistic succeeds at once, pessimistic fails until dead', () => {
    const r = replayJob(Y, alt({ attempts: 6, backoff: { type: 'fixed', delayMs: 1000 } }));
    expect(r.known).toBe(false);
    expect(r.recorded.outcome).toBe('dead');
    expect(r.optimistic).toEqual({
      outcome: 'succeeded',
      attempts: 5,
      endedAt: T0 + 4550,
      timeToSuccessMs: 4550,
      retriesDueAt: [T0 + 1110, T0 + 2230, T0 + 3340, T0 + 4450],
    });
    expect(r.pessimistic).toEqual({
      outcome: 'dead',
      deadReason: 'exhausted',
      attempts: 6,
      endedAt: T0 + 5650,
      retriesDueAt: [T0 + 1110, T0 + 2230, T0 + 3340, T0 + 4450, T0 + 5550],
    });
  });

  it('no retries: every failure dead-letters at once', () => {
    const r = replayJob(X, alt({ attempts: 1 }));
    expect(r.optimistic).toEqual({
      outcome: 'dead',
      deadReason: 'exhausted',
      attempts: 1,
      endedAt: T0 + 110,
      retriesDueAt: [],
    });
  });

  it('a code table that makes the error temporary runs a permanent failure past its record', () => {
    const classify = resolveClassifyOptions({ codes: { INVALID_DATA: 'temporary' } });
    const r = replayJob(Z, alt({ attempts: 2, backoff: { type: 'fixed', delayMs: 1000 } }, { classify }));
    expect(r.known).toBe(false);
    expect(r.optimistic).toMatchObject({ outcome: 'succeeded', attempts: 2, endedAt: T0 + 1105 });
    expect(r.pessimistic).toMatchObject({ outcome: 'dead', deadReason: 'exhausted', attempts: 2 });
  });

  it('honours a recorded Retry-After under another policy (the handler’s delay wins)', () => {
    const j = job(
      'h',
      [
        att(1, T0, 0, 100, 'failed', retry(3000, T0 + 3100, 'handler'), {
          error: { name: 'TemporaryError', message: 'rate limited', code: 'RATE_LIMITED' },
          errorClass: 'temporary',
          rule: 'thrown:TemporaryError',
        }),
        att(2, T0 + 3100, 0, 100, 'succeeded', { action: 'done' }),
      ],
      { attempts: 3, backoff: { type: 'fixed', delayMs: 2000 } },
    );
    const r = replayJob(j, alt({ attempts: 3, backoff: { type: 'fixed', delayMs: 500 } }));
    expect(r.optimistic).toMatchObject({
      outcome: 'succeeded',
      endedAt: T0 + 3200,
      retriesDueAt: [T0 + 3100],
    });
  });

  it('replays stalls as recorded: neither a failure nor a policy retry', () => {
    const j = job(
      's',
      [
        att(1, T0, 0, 30_000, 'stalled', retry(0, T0 + 30_000), {
          errorClass: 'temporary',
          rule: 'stall',
        }),
        att(2, T0 + 30_000, 5, 100, 'succeeded', { action: 'done' }),
      ],
      OWN,
    );
    const r = replayJob(j, alt({ attempts: 1 }));
    expect(r.known).toBe(true);
    expect(r.optimistic).toEqual({
      outcome: 'succeeded',
      attempts: 2,
      endedAt: T0 + 30_105,
      timeToSuccessMs: 30_105,
      retriesDueAt: [],
    });
  });

  it('uses a recorded jitter draw, and the seeded source where there is none', () => {
    const full = { attempts: 3, backoff: { type: 'exponential', delayMs: 1000, jitter: 'full' } } as const;
    const drawn: Decision = {
      action: 'retry',
      delayMs: 250,
      nextDueAt: T0 + 350,
      source: 'policy',
      explanation: '',
      detail: { strategy: 'exponential', draw: 0.25 },
    };
    const j = job(
      'j',
      [att(1, T0, 0, 100, 'failed', drawn), att(2, T0 + 350, 0, 100, 'succeeded', { action: 'done' })],
      full,
    );
    expect(replayJob(j, alt()).optimistic.retriesDueAt).toEqual([T0 + 350]);
    const u = seededRandom(0)();
    const seeded = replayJob(j, alt(undefined, { draws: 'seeded', seed: 0 }));
    // The job's generator is seeded from the seed and its id, not from the seed alone.
    expect(seeded.optimistic.retriesDueAt).toHaveLength(1);
    expect(seeded.optimistic.retriesDueAt[0]).not.toBe(T0 + 100 + Math.floor(1000 * u));
    expect(replayJob(j, alt(undefined, { draws: 'seeded', seed: 0 }))).toEqual(seeded);
  });
});

describe('classificationOf', () => {
  const table = resolveClassifyOptions({ codes: { ECONNRESET: 'permanent' } });
  it('applies a table to the recorded code, the rule’s code and HTTP status', () => {
    expect(classificationOf(X.attempts[0] as Attempt, table)).toEqual({
      errorClass: 'permanent',
      rule: 'code:ECONNRESET',
    });
    const http = att(1, T0, 0, 1, 'failed', dead('exhausted'), {
      error: { name: 'Error', message: '503' },
      errorClass: 'temporary',
      rule: 'http:503',
    });
    expect(classificationOf(http, table)).toEqual({ errorClass: 'temporary', rule: 'http:503' });
    const cause = att(1, T0, 0, 1, 'failed', dead('exhausted'), {
      error: { name: 'Error', message: 'x', code: 'WRAPPED' },
      errorClass: 'temporary',
      rule: 'code:ECONNRESET',
    });
    expect(classificationOf(cause, table)).toEqual({ errorClass: 'permanent', rule: 'code:ECONNRESET' });
  });
  it('leaves thrown signals and timeouts to their own rules', () => {
    const timedOut = att(1, T0, 0, 1, 'timed_out', dead('exhausted'), {
      errorClass: 'temporary',
      rule: 'timeout',
    });
    expect(classificationOf(timedOut, resolveClassifyOptions({ default: 'permanent' }))).toEqual({
      errorClass: 'temporary',
      rule: 'timeout',
    });
  });
});

describe('classificationDryRun', () => {
  it('counts the attempts a table makes permanent, and the jobs that succeeded after one', () => {
    const r = classificationDryRun([X, Y, Z], resolveClassifyOptions({ codes: { ECONNRESET: 'permanent' } }));
    expect(r).toEqual({
      failedAttempts: 8,
      permanent: 8,
      newlyPermanent: 7,
      newlyTemporary: 0,
      jobsWithPermanent: 3,
      laterSucceeded: 1,
      permanentByRule: { 'code:ECONNRESET': 7, 'code:INVALID_DATA': 1 },
      summary:
        'with this code table, 8 attempts would have been permanent (7 of them recorded temporary), in 3 jobs; 1 of those jobs later succeeded',
    });
  });
});

describe('statistics', () => {
  it('nearest-rank percentiles and aligned peaks', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([], 50)).toBeUndefined();
    expect(peak([1000, 1999, 2000, 2500, 2999, 5000], 1000)).toEqual({ count: 3, at: 2000 });
    expect(peak([], 1000)).toEqual({ count: 0, at: null });
  });
});

describe('whatIfReport', () => {
  const o = (x: Parameters<typeof resolveWhatIfOptions>[0]) => resolveWhatIfOptions(x, () => 99);

  it('compares recorded and alternative side by side, with bounds and exclusions', () => {
    const manual = job('m', [att(1, T0, 0, 1, 'succeeded', { action: 'done' }, { trigger: 'manual' })], OWN);
    const r = whatIfReport(
      'q',
      { jobs: [X, Y, Z, manual], truncated: false },
      o({ retry: { attempts: 6, backoff: { type: 'fixed', delayMs: 1000 } } }),
    );
    expect(r.seed).toBe(99);
    expect(r.scope).toEqual({
      source: 'live',
      from: null,
      to: null,
      name: null,
      limit: 10_000,
      read: 4,
      truncated: false,
      replayed: 3,
      excluded: { manual: 1, unfinished: 0, 'unknown-strategy': 0 },
    });
    const { recorded, alternative } = r.comparison;
    expect(recorded).toEqual({
      jobs: 3,
      succeeded: 1,
      dead: 2,
      deadByReason: { exhausted: 1, permanent: 1, poison: 0, budget: 0 },
      attempts: 9,
      retries: 6,
      timeToSuccessMs: { p50: 35_450, p95: 35_450 },
      peakRetriesDuePerSecond: { count: 2, at: T0 + 5000 },
      peakDeadLettersPerMinute: { count: 1, at: 960_000 },
    });
    expect(alternative.known).toBe(2);
    expect(alternative.unknown).toBe(1);
    expect(alternative.optimistic).toMatchObject({ succeeded: 2, dead: 1, attempts: 10, retries: 7 });
    expect(alternative.optimistic.timeToSuccessMs).toEqual({ p50: 3450, p95: 4550 });
    expect(alternative.pessimistic).toMatchObject({ succeeded: 1, dead: 2, attempts: 11, retries: 8 });
    expect(r.summary).toEqual([
      'recorded: 1 of 3 jobs succeeded, 2 dead-lettered, 9 attempts',
      'alternative: 1–2 succeeded, 1–2 dead-lettered, 10–11 attempts (1 jobs run past their record: optimistic–pessimistic bounds)',
    ]);
  });

  it('excludes jobs whose custom strategy is unknown here', () => {
    const custom = job('c', X.attempts.slice(), { attempts: 4, backoff: { type: 'custom', name: 'mine' } });
    expect(exclusionOf(custom, {})).toBe('unknown-strategy');
    expect(exclusionOf(custom, { strategies: { mine: () => 1 } })).toBeUndefined();
  });

  it('validates its options, naming the field', () => {
    expect(() => o({ retry: { attempts: 0 } })).toThrow(ValidationError);
    expect(() => o({ retry: { attempts: 0 } })).toThrow(/retry\.attempts/);
    expect(() => o({ window: { from: 10.5 } })).toThrow(/window\.from/);
    expect(() => o({ seed: -1 })).toThrow(/seed/);
    expect(() => o({ draws: 'x' as 'seeded' })).toThrow(/draws/);
    expect(() => o({ limit: 100_001 })).toThrow(/limit/);
    expect(() => o({ nope: 1 } as never)).toThrow(/nope/);
  });
});

describe('withAttempts', () => {
  it('cuts or extends a policy’s phases, keeping its backoffs', async () => {
    const { withAttempts } = await import('../../src/whatif.js');
    const p = resolveRetryPolicy({
      phases: [
        { retries: 2, backoff: { type: 'immediate' } },
        { retries: 2, backoff: { type: 'fixed', delayMs: 500 } },
      ],
    });
    expect(withAttempts(p, 2)).toEqual(
      resolveRetryPolicy({
        phases: [
          { retries: 1, backoff: { type: 'immediate' } },
          { retries: 0, backoff: { type: 'fixed', delayMs: 500 } },
        ],
      }),
    );
    expect(withAttempts(p, 8).phases.map((ph) => ph.retries)).toEqual([2, 5]);
    expect(withAttempts(resolveRetryPolicy({ phases: [] }), 3)).toEqual(resolveRetryPolicy({ attempts: 3 }));
    // Replaying Y with its own backoff and 6 attempts: exponential 5 s, 10 s, 20 s, 40 s, 80 s.
    const r = replayJob(Y, alt(undefined, { attempts: 6 }));
    expect(r.known).toBe(false);
    expect(r.pessimistic).toMatchObject({ outcome: 'dead', attempts: 6 });
    expect(r.pessimistic.retriesDueAt.slice(-2)).toEqual([T0 + 35_450 + 40_000, T0 + 75_550 + 80_000]);
  });
});
