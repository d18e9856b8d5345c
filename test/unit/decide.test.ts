import { describe, expect, it } from 'vitest';

import { MAX_DELAY_MS, resolveRetryPolicy, type CustomStrategyContext } from '../../src/backoff.js';
import { DEFAULT_CODE_TABLE, resolveClassifyOptions, storedClassifyOptions } from '../../src/classify.js';
import {
  decideAfterFailure,
  decideAfterRateLimit,
  INTERRUPTED_CLASSIFICATION,
  interruptedDecision,
  jobClassifier,
  jobResultLimit,
  type FailureInput,
} from '../../src/decide.js';
import { ValidationError } from '../../src/errors.js';
import type { RetryPolicy } from '../../src/types.js';

const noDraw = (): number => {
  throw new Error('random() must not be called');
};
const temporary = { errorClass: 'temporary', rule: 'code:ECONNRESET' } as const;
const error = { name: 'Error', message: 'socket hang up', code: 'ECONNRESET' };

/** A failure input: the given policy, nothing drawn unless `random` is given. */
function input(policy: RetryPolicy, over: Partial<FailureInput> = {}): FailureInput {
  return {
    classification: temporary,
    policy: resolveRetryPolicy(policy),
    failuresBefore: 0,
    random: noDraw,
    ...over,
  };
}

describe('decideAfterFailure', () => {
  it('dead-letters a permanent failure without consulting the policy', () => {
    const policy = { attempts: 5, backoff: { type: 'custom', name: 'unregistered' } } as const;
    const cls = { errorClass: 'permanent', rule: 'code:NOT_FOUND', retryAfterMs: 10 } as const;
    expect(decideAfterFailure(input(policy, { classification: cls }))).toEqual({
      action: 'dead',
      reason: 'permanent',
      explanation: 'permanent error (code:NOT_FOUND): not retried',
    });
  });

  it("retries after the policy's delay, with its explanation and detail", () => {
    const policy = {
      attempts: 5,
      backoff: { type: 'exponential', delayMs: 5000, maxDelayMs: 300_000, jitter: 'full' },
    } as const;
    // Two failures before this one: the third failure plans retry 3 of the phase, 5 s × 2² = 20 s, drawn at 0.25.
    expect(decideAfterFailure(input(policy, { failuresBefore: 2, random: () => 0.25 }))).toEqual({
      action: 'retry',
      delayMs: 5000,
      source: 'policy',
      explanation: 'exponential: 5 s × 2^2 = 20 s (cap 5 min), full jitter → 5 s',
      detail: {
        strategy: 'exponential',
        retry: 3,
        phase: 0,
        baseMs: 5000,
        factor: 2,
        rawMs: 20_000,
        capMs: 300_000,
        capped: false,
        jitter: 'full',
        draw: 0.25,
      },
    });
  });

  it('names the phase of a multi-phase policy', () => {
    const policy = {
      phases: [
        { retries: 1, backoff: { type: 'immediate' } },
        { retries: 2, backoff: { type: 'fixed', delayMs: 2000 } },
      ],
    } as const;
    expect(decideAfterFailure(input(policy, { failuresBefore: 1 }))).toEqual({
      action: 'retry',
      delayMs: 2000,
      source: 'policy',
      explanation: 'phase 2 of 2: fixed: 2 s',
      detail: { strategy: 'fixed', retry: 1, phase: 1, baseMs: 2000 },
    });
  });

  it('passes the previous delay to decorrelated jitter', () => {
    const policy = {
      attempts: 4,
      backoff: { type: 'exponential', delayMs: 1000, jitter: 'decorrelated' },
    } as const;
    const d = decideAfterFailure(input(policy, { failuresBefore: 1, prevDelayMs: 4000, random: () => 0.5 }));
    // Between 1 s and 3 × 4 s: 1000 + 0.5 × 11000 = 6500.
    expect(d).toEqual({
      action: 'retry',
      delayMs: 6500,
      source: 'policy',
      explanation: 'exponential, decorrelated jitter: between 1 s and 3 × 4 s = 12 s → 6.5 s',
      detail: {
        strategy: 'exponential',
        retry: 2,
        phase: 0,
        baseMs: 1000,
        rawMs: 6500,
        capped: false,
        jitter: 'decorrelated',
        draw: 0.5,
      },
    });
  });

  it('dead-letters when the attempts are exhausted, even if the handler asked for a delay', () => {
    const policy = { attempts: 3, backoff: { type: 'fixed', delayMs: 1000 } } as const;
    const cls = { errorClass: 'temporary', rule: 'thrown:TemporaryError', retryAfterMs: 500 } as const;
    const expected = { action: 'dead', reason: 'exhausted', explanation: 'attempts exhausted: 3 of 3 used' };
    expect(decideAfterFailure(input(policy, { failuresBefore: 2 }))).toEqual(expected);
    expect(decideAfterFailure(input(policy, { failuresBefore: 2, classification: cls }))).toEqual(expected);
  });

  it("honours the handler's delay (rounded) over the policy's, and says what the policy would have done", () => {
    const policy = { attempts: 3, backoff: { type: 'fixed', delayMs: 10_000 } } as const;
    const cls = { errorClass: 'temporary', rule: 'thrown:TemporaryError', retryAfterMs: 1500.4 } as const;
    expect(decideAfterFailure(input(policy, { classification: cls }))).toEqual({
      action: 'retry',
      delayMs: 1500,
      source: 'handler',
      explanation:
        'handler asked to retry after 1.5 s (thrown:TemporaryError); the policy would have waited 10 s',
      detail: { strategy: 'handler', phase: 0, retry: 1 },
    });
  });

  it("caps the handler's delay at a year, like any policy delay", () => {
    const policy = { attempts: 2, backoff: { type: 'immediate' } } as const;
    const cls = { errorClass: 'temporary', rule: 'http:429', retryAfterMs: MAX_DELAY_MS * 2 } as const;
    expect(decideAfterFailure(input(policy, { classification: cls }))).toEqual({
      action: 'retry',
      delayMs: MAX_DELAY_MS,
      source: 'handler',
      explanation: 'handler asked to retry after 365 d (http:429); the policy would have waited 0 ms',
      detail: { strategy: 'handler', phase: 0, retry: 1 },
    });
  });

  it('gives a custom strategy the retry, the attempt, the previous delay, the error and the random source', () => {
    const seen: CustomStrategyContext[] = [];
    const random = (): number => 0.5;
    const strategies = {
      slow: (ctx: CustomStrategyContext) => (
        seen.push(ctx),
        { delayMs: 750, explanation: 'from the strategy' }
      ),
    };
    const policy = { attempts: 5, backoff: { type: 'custom', name: 'slow' } } as const;
    const d = decideAfterFailure(
      input(policy, { failuresBefore: 2, prevDelayMs: 300, random, error, strategies }),
    );
    expect(d).toEqual({
      action: 'retry',
      delayMs: 750,
      source: 'policy',
      explanation: 'from the strategy',
      detail: { strategy: 'custom', retry: 3, phase: 0 },
    });
    expect(seen).toEqual([{ retry: 3, attempt: 3, prevDelayMs: 300, error, random }]);
  });

  it('dead-letters as permanent, saying why, when the policy cannot choose a delay', () => {
    const custom = { attempts: 5, backoff: { type: 'custom', name: 'flaky' } } as const;
    const cases: [Partial<FailureInput>, string][] = [
      [
        {},
        'retry.backoff.name must be the name of a custom strategy passed as strategies to the Worker, the Queue or preview (known: none), received "flaky"',
      ],
      [
        {
          strategies: {
            flaky: () => {
              throw new Error('db down');
            },
          },
        },
        'db down',
      ],
      [
        {
          strategies: {
            flaky: () => {
              throw 'not an Error';
            },
          },
        },
        'not an Error',
      ],
      [
        { strategies: { flaky: () => -1 } },
        'strategies.flaky must be a function returning ms between 0 and 1 year (or { delayMs }), received -1',
      ],
    ];
    for (const [over, why] of cases) {
      expect(decideAfterFailure(input(custom, over))).toEqual({
        action: 'dead',
        reason: 'permanent',
        explanation: `the retry policy could not choose a delay: ${why}`,
      });
    }
    const jittered = {
      attempts: 3,
      backoff: { type: 'exponential', delayMs: 1000, jitter: 'full' },
    } as const;
    expect(decideAfterFailure(input(jittered, { random: () => 1 }))).toEqual({
      action: 'dead',
      reason: 'permanent',
      explanation:
        'the retry policy could not choose a delay: random must be a function returning a number in [0, 1), received 1',
    });
    expect(decideAfterFailure(input(jittered, { failuresBefore: -1 }))).toEqual({
      action: 'dead',
      reason: 'permanent',
      explanation:
        'the retry policy could not choose a delay: attemptsMade must be an integer >= 1, received 0',
    });
  });
});

describe('interruptedDecision', () => {
  it('gives the job back at once, as a policy retry that spends no budget, the same for every job', () => {
    expect(interruptedDecision()).toEqual({
      action: 'retry',
      delayMs: 0,
      source: 'policy',
      explanation:
        'worker closed before the attempt finished: given back at once, not counted against the retry budget',
      detail: { strategy: 'immediate' },
    });
    expect(interruptedDecision()).toBe(interruptedDecision());
    expect(Object.isFrozen(interruptedDecision())).toBe(true);
    expect(INTERRUPTED_CLASSIFICATION).toEqual({ errorClass: 'temporary', rule: 'shutdown' });
  });
});

describe('where the classification comes from', () => {
  const workers = resolveClassifyOptions({ codes: { E_QUOTA: 'permanent' }, default: 'permanent' });

  it("uses the table stored with the job, over the library's defaults", () => {
    const c = jobClassifier({ classify: { codes: { E_QUOTA: 'temporary' }, default: 'temporary' } }, workers);
    expect(c.source).toBe('job');
    expect(c.options).toEqual({
      codes: { ...DEFAULT_CODE_TABLE, E_QUOTA: 'temporary' },
      default: 'temporary',
    });
  });

  it("falls back to the worker's own for a job that carries none or an unreadable one", () => {
    expect(jobClassifier({}, workers)).toEqual({ options: workers, source: 'worker' });
    const bad = { codes: {}, default: 'sometimes' } as never;
    expect(jobClassifier({ classify: bad }, workers)).toEqual({ options: workers, source: 'worker' });
  });

  it("takes the job's result limit, else the worker's", () => {
    expect(jobResultLimit({ maxResultBytes: 100 }, 65_536)).toBe(100);
    expect(jobResultLimit({}, 65_536)).toBe(65_536);
    expect(jobResultLimit({ maxResultBytes: 1 }, 65_536)).toBe(65_536);
    expect(jobResultLimit({ maxResultBytes: '100' as never }, 65_536)).toBe(65_536);
  });

  it('stores the configured codes (sorted, without the default table) and the default class', () => {
    expect(storedClassifyOptions({ codes: { Z_LAST: 'temporary', A_FIRST: 'permanent' } })).toEqual({
      codes: { A_FIRST: 'permanent', Z_LAST: 'temporary' },
      default: 'temporary',
    });
    expect(Object.keys(storedClassifyOptions({ codes: { Z: 'temporary', A: 'permanent' } }).codes)).toEqual([
      'A',
      'Z',
    ]);
    expect(storedClassifyOptions(undefined)).toEqual({ codes: {}, default: 'temporary' });
    expect(storedClassifyOptions({ default: 'permanent' })).toEqual({ codes: {}, default: 'permanent' });
    expect(() => storedClassifyOptions({ codes: { X: 'maybe' } }, 'options.classify')).toThrow(
      ValidationError,
    );
    expect(() => storedClassifyOptions({ codes: { X: 'maybe' } }, 'options.classify')).toThrow(
      /options\.classify\.codes\.X/,
    );
  });
});

describe('decideAfterRateLimit', () => {
  it("pauses the job's group for the time asked, and retries at once without spending the budget", () => {
    expect(decideAfterRateLimit({ retryAfterMs: 5000, scope: 'group', group: 'tenant-42' })).toEqual({
      classification: { errorClass: 'temporary', rule: 'rate-limit' },
      decision: {
        action: 'retry',
        delayMs: 0,
        source: 'handler',
        explanation:
          'the handler hit a rate limit: group tenant-42 paused for 5 s; the job waits again, not counted against the retry budget',
        detail: { strategy: 'rate-limit' },
      },
      pause: { scope: 'group', group: 'tenant-42', ms: 5000 },
    });
  });

  it('pauses the queue for scope queue, or for a job without a group', () => {
    const q = decideAfterRateLimit({ retryAfterMs: 250.4, scope: 'queue', group: 'tenant-42' });
    expect(q.pause).toEqual({ scope: 'queue', ms: 250 });
    expect(q.decision).toMatchObject({
      explanation:
        'the handler hit a rate limit: the queue paused for 250 ms; the job waits again, not counted against the retry budget',
    });
    const none = decideAfterRateLimit({ retryAfterMs: 1000, scope: undefined, group: undefined });
    expect(none.pause).toEqual({ scope: 'queue', ms: 1000 });
    expect(none.decision).toMatchObject({
      explanation:
        'the handler hit a rate limit: the queue (the job has no group) paused for 1 s; the job waits again, not counted against the retry budget',
    });
  });

  it('caps a pause at a day and gives a pause without a usable delay 1 s, saying so', () => {
    const long = decideAfterRateLimit({ retryAfterMs: 3 * 86_400_000, scope: 'group', group: 'g' });
    expect(long.pause.ms).toBe(86_400_000);
    expect(long.decision).toMatchObject({
      explanation:
        'the handler hit a rate limit: group g paused for 1 d (asked 3 d, capped at 1 d); the job waits again, not counted against the retry budget',
    });
    for (const bad of [undefined, -1, Number.NaN, '5000']) {
      const d = decideAfterRateLimit({ retryAfterMs: bad, scope: 'group', group: 'g' });
      expect(d.pause.ms).toBe(1000);
      expect(d.decision).toMatchObject({
        explanation:
          'the handler hit a rate limit: group g paused for 1 s (no usable retryAfterMs: 1 s); the job waits again, not counted against the retry budget',
      });
    }
  });
});
