import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeBackoff, DEFAULT_RETRY_POLICY, MAX_DELAY_MS, planRetry } from '../../src/backoff.js';
import {
  previewPolicy,
  resolveRetryPolicy,
  type CustomStrategy,
  type DelayContext,
} from '../../src/backoff.js';
import { ValidationError } from '../../src/errors.js';
import type { Backoff, RetryPolicy } from '../../src/types.js';

const fixedDraw = (u: number) => () => u;
const noDraw = () => {
  throw new Error('random() must not be called');
};
/** computeBackoff for the k-th retry, with no random unless given. */
const calc = (
  b: Backoff,
  retry: number,
  ctx: Partial<DelayContext> = {},
  s?: Record<string, CustomStrategy>,
) => computeBackoff(b, { retry, random: noDraw, ...ctx }, s);
/** A random that records how often it was called. */
function counting(u: number) {
  const r = Object.assign(() => (r.calls++, u), { calls: 0 });
  return r;
}
function thrown(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('expected a ValidationError');
}

const exp5s = { type: 'exponential', delayMs: 5000 } as const;
const exp5sCap = { ...exp5s, maxDelayMs: 300_000 } as const;
const IMMEDIATE = { type: 'immediate' } as const;
const DECOR = 'exponential, decorrelated jitter: between';

describe('computeBackoff: deterministic strategies', () => {
  it('immediate and fixed', () => {
    const detail = { strategy: 'immediate', retry: 4 };
    expect(calc(IMMEDIATE, 4)).toEqual({ delayMs: 0, explanation: 'immediate: retry at once', detail });
    expect(calc({ type: 'fixed', delayMs: 5000 }, 3)).toEqual({
      delayMs: 5000,
      explanation: 'fixed: 5 s',
      detail: { strategy: 'fixed', retry: 3, baseMs: 5000 },
    });
  });

  it('linear: step defaults to the base; cap noted when set, applied when hit', () => {
    expect(calc({ type: 'linear', delayMs: 5000 }, 3).delayMs).toBe(15_000);
    expect(calc({ type: 'linear', delayMs: 5000 }, 3).explanation).toBe('linear: 5 s + 2 × 5 s = 15 s');
    expect(calc({ type: 'linear', delayMs: 5000, stepMs: 2000 }, 4).delayMs).toBe(11_000);
    const capped = { type: 'linear', delayMs: 5000, maxDelayMs: 60_000 } as const;
    expect(calc(capped, 3).explanation).toBe('linear: 5 s + 2 × 5 s = 15 s (cap 1 min)');
    const detail = { strategy: 'linear', retry: 20, baseMs: 5000, stepMs: 5000, rawMs: 100_000 };
    expect(calc(capped, 20)).toEqual({
      delayMs: 60_000,
      explanation: 'linear: 5 s + 19 × 5 s = 1 min 40 s, capped at 1 min',
      detail: { ...detail, capMs: 60_000, capped: true },
    });
  });

  it('exponential: 5 s base, factor 2 → 5, 10, 20, 40 s', () => {
    expect([1, 2, 3, 4].map((k) => calc(exp5s, k).delayMs)).toEqual([5000, 10_000, 20_000, 40_000]);
  });

  it('exponential never plateaus without a cap (below the 1-year limit)', () => {
    const delays = Array.from({ length: 20 }, (_, i) => calc(exp5s, i + 1).delayMs);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBe(2 * delays[i - 1]!);
  });

  it('exponential explanations: no cap, cap not hit, cap hit', () => {
    expect(calc(exp5s, 3).explanation).toBe('exponential: 5 s × 2^2 = 20 s');
    expect(calc(exp5sCap, 3).explanation).toBe('exponential: 5 s × 2^2 = 20 s (cap 5 min)');
    const hit = calc(exp5sCap, 8);
    expect(hit.explanation).toBe('exponential: 5 s × 2^7 = 10 min 40 s, capped at 5 min');
    expect(hit.delayMs).toBe(300_000);
    const detail = { strategy: 'exponential', retry: 8, baseMs: 5000, factor: 2, rawMs: 640_000 };
    expect(hit.detail).toEqual({ ...detail, capMs: 300_000, capped: true, jitter: 'none' });
  });

  it('exponential with a fractional factor rounds to whole ms', () => {
    const r = calc({ type: 'exponential', delayMs: 1000, factor: 1.1 }, 3);
    expect(r.delayMs).toBe(1210);
    expect(r.explanation).toBe('exponential: 1 s × 1.1^2 = 1.2 s');
  });

  it('an uncapped delay stops at the 1-year limit', () => {
    const r = calc({ type: 'exponential', delayMs: 1000 }, 60);
    expect(r.delayMs).toBe(MAX_DELAY_MS);
    expect(r.detail.capped).toBe(true);
    expect(r.explanation).toMatch(/, capped at 365 d \(the limit\)$/);
  });

  it('rejects a retry index below 1', () => {
    expect(thrown(() => calc(exp5s, 0)).field).toBe('retry');
  });
});

describe('computeBackoff: jitter', () => {
  it('full: floor(capped × u), explained and recorded', () => {
    const r = calc({ ...exp5sCap, jitter: 'full' }, 3, { random: fixedDraw(0.66) });
    expect(r.delayMs).toBe(13_200);
    expect(r.explanation).toBe('exponential: 5 s × 2^2 = 20 s (cap 5 min), full jitter → 13.2 s');
    expect(r.detail).toMatchObject({ jitter: 'full', draw: 0.66, rawMs: 20_000, capped: false });
  });

  it('equal: floor(capped/2 + u × capped/2)', () => {
    const r = calc({ ...exp5sCap, jitter: 'equal' }, 3, { random: fixedDraw(0.25) });
    expect(r.delayMs).toBe(12_500);
    expect(r.explanation).toBe('exponential: 5 s × 2^2 = 20 s (cap 5 min), equal jitter → 12.5 s');
  });

  it('jitter applies after the cap', () => {
    const r = calc({ ...exp5sCap, jitter: 'full' }, 8, { random: fixedDraw(0.5) });
    expect(r.delayMs).toBe(150_000);
    expect(r.explanation).toBe(
      'exponential: 5 s × 2^7 = 10 min 40 s, capped at 5 min, full jitter → 2 min 30 s',
    );
  });

  it('decorrelated: between base and 3 × prev', () => {
    const r = calc({ ...exp5sCap, jitter: 'decorrelated' }, 3, {
      prevDelayMs: 12_000,
      random: fixedDraw(0.53),
    });
    expect(r.delayMs).toBe(21_430);
    expect(r.explanation).toBe(`${DECOR} 5 s and 3 × 12 s = 36 s → 21.4 s`);
    const detail = { strategy: 'exponential', retry: 3, baseMs: 5000, rawMs: 21_430, capMs: 300_000 };
    expect(r.detail).toEqual({ ...detail, capped: false, jitter: 'decorrelated', draw: 0.53 });
  });

  it('decorrelated: capped, and without a previous delay starts from the base', () => {
    const b = { ...exp5sCap, jitter: 'decorrelated' } as const;
    const capped = calc(b, 9, { prevDelayMs: 200_000, random: fixedDraw(0.5) });
    expect(capped.delayMs).toBe(300_000);
    expect(capped.explanation).toBe(`${DECOR} 5 s and 3 × 3 min 20 s = 10 min → 5 min 3 s, capped at 5 min`);
    const first = calc(b, 1, { random: fixedDraw(0.5) });
    expect(first.delayMs).toBe(10_000);
    expect(first.explanation).toBe(`${DECOR} 5 s and 3 × 5 s = 15 s → 10 s`);
  });

  it('decorrelated: a previous delay below base/3 gives the base', () => {
    const r = calc({ ...exp5s, jitter: 'decorrelated' }, 2, { prevDelayMs: 1000, random: fixedDraw(0.9) });
    expect(r.delayMs).toBe(5000);
    expect(r.explanation).toBe(`${DECOR} 5 s and 5 s (3 × 1 s = 3 s is below the base) → 5 s`);
  });

  it('draws exactly once with jitter and never without', () => {
    for (const jitter of ['full', 'equal', 'decorrelated'] as const) {
      const r = counting(0.3);
      calc({ ...exp5s, jitter }, 2, { prevDelayMs: 5000, random: r });
      expect(r.calls, jitter).toBe(1);
    }
    const r = counting(0.3);
    expect(calc({ ...exp5s, jitter: 'none' }, 2, { random: r }).detail.draw).toBeUndefined();
    expect(r.calls).toBe(0);
  });

  it('rejects a random outside [0, 1)', () => {
    for (const u of [1, -0.1, NaN]) {
      expect(thrown(() => calc({ ...exp5s, jitter: 'full' }, 1, { random: fixedDraw(u) })).field).toBe(
        'random',
      );
    }
  });

  const draws = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
  const retries = fc.integer({ min: 1, max: 40 });
  const bases = fc.integer({ min: 0, max: 60_000 });
  const extras = fc.integer({ min: 0, max: 3_600_000 });

  it('property: full ∈ [0, capped], equal ∈ [capped/2, capped]', () => {
    fc.assert(
      fc.property(draws, retries, bases, extras, (u, k, base, extra) => {
        const cap = base + extra;
        const capped = Math.min(cap, base * 2 ** (k - 1));
        const b = { type: 'exponential', delayMs: base, maxDelayMs: cap } as const;
        const full = calc({ ...b, jitter: 'full' }, k, { random: () => u }).delayMs;
        const equal = calc({ ...b, jitter: 'equal' }, k, { random: () => u }).delayMs;
        expect(Number.isInteger(full) && full >= 0 && full <= capped).toBe(true);
        expect(Number.isInteger(equal) && equal >= Math.floor(capped / 2) && equal <= capped).toBe(true);
      }),
    );
  });

  it('property: decorrelated ∈ [base, min(cap, max(base, 3 × prev))]', () => {
    const prevs = fc.integer({ min: 0, max: 600_000 });
    fc.assert(
      fc.property(draws, bases, prevs, extras, (u, base, prev, extra) => {
        const cap = base + extra;
        const b = { type: 'exponential', delayMs: base, maxDelayMs: cap, jitter: 'decorrelated' } as const;
        const d = calc(b, 2, { prevDelayMs: prev, random: () => u }).delayMs;
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(base);
        expect(d).toBeLessThanOrEqual(Math.min(cap, Math.max(base, 3 * prev)));
      }),
    );
  });

  it('property: the same draw reproduces the same delay and explanation', () => {
    const jitters = fc.constantFrom('full', 'equal', 'decorrelated' as const);
    fc.assert(
      fc.property(draws, retries, jitters, (u, k, jitter) => {
        const b = { ...exp5sCap, jitter } as const;
        const a = calc(b, k, { prevDelayMs: 7000, random: () => u });
        expect(calc(b, k, { prevDelayMs: 7000, random: () => a.detail.draw! })).toEqual(a);
      }),
    );
  });
});

describe('computeBackoff: custom strategies', () => {
  const strategies: Record<string, CustomStrategy> = {
    tenth: ({ retry }) => retry * 100.4,
    told: ({ attempt }) => ({ delayMs: attempt * 1000, explanation: `told ${attempt}` }),
    bad: () => -1,
  };
  const custom = (name: string) => ({ type: 'custom', name }) as const;

  it('uses the returned number (rounded) with a default explanation', () => {
    const detail = { strategy: 'custom', retry: 5 };
    expect(calc(custom('tenth'), 5, {}, strategies)).toEqual({
      delayMs: 502,
      explanation: 'custom "tenth": 502 ms',
      detail,
    });
  });

  it('uses a returned explanation and receives the context', () => {
    const r = computeBackoff(custom('told'), { retry: 2, attempt: 4, random: noDraw }, strategies);
    expect(r).toMatchObject({ delayMs: 4000, explanation: 'told 4' });
    const seen: unknown[] = [];
    const spy: CustomStrategy = (ctx) => (seen.push(ctx), { delayMs: 7 });
    const error = { name: 'Error', message: 'x' };
    computeBackoff(custom('spy'), { retry: 2, attempt: 4, prevDelayMs: 9, error, random: noDraw }, { spy });
    expect(seen).toEqual([{ retry: 2, attempt: 4, prevDelayMs: 9, error, random: noDraw }]);
  });

  it('rejects an unknown name, listing the known ones', () => {
    const e = thrown(() => calc(custom('nope'), 1, {}, strategies));
    expect(e.field).toBe('retry.backoff.name');
    expect(e.message).toBe(
      'retry.backoff.name must be the name of a custom strategy passed as strategies to the Worker, the Queue or preview (known: tenth, told, bad), received "nope"',
    );
    expect(thrown(() => calc(custom('x'), 1)).rule).toBe(
      'the name of a custom strategy passed as strategies to the Worker, the Queue or preview (known: none)',
    );
    expect(() => calc(custom('toString'), 1, {}, strategies)).toThrow(ValidationError);
  });

  it.each([[-1], [NaN], [Infinity], ['5'], [{ delayMs: null }], [MAX_DELAY_MS + 1]])('rejects %s', (v) => {
    const e = thrown(() => calc(custom('f'), 1, {}, { f: () => v as number }));
    expect(e.field).toBe('strategies.f');
  });
});

describe('resolveRetryPolicy', () => {
  it('undefined gives the default policy', () => {
    const p = resolveRetryPolicy(undefined);
    const backoff = { type: 'exponential', delayMs: 1000, factor: 2, maxDelayMs: 300_000, jitter: 'none' };
    expect(p).toEqual({ maxAttempts: 3, phases: [{ retries: 2, backoff }] });
    expect(resolveRetryPolicy(DEFAULT_RETRY_POLICY)).toEqual(p);
  });

  it('normalises { attempts, backoff } into one frozen phase with defaults filled', () => {
    const p = resolveRetryPolicy({ attempts: 5, backoff: exp5s });
    const backoff = { ...exp5s, factor: 2, jitter: 'none' };
    expect(p).toEqual({ maxAttempts: 5, phases: [{ retries: 4, backoff }] });
    expect([p, p.phases, p.phases[0], p.phases[0]!.backoff].every((o) => Object.isFrozen(o))).toBe(true);
    expect(resolveRetryPolicy({ attempts: 2 }).phases[0]!.backoff).toEqual(IMMEDIATE);
    const linear = resolveRetryPolicy({ attempts: 2, backoff: { type: 'linear', delayMs: 300 } });
    expect(linear.phases[0]!.backoff).toEqual({ type: 'linear', delayMs: 300, stepMs: 300 });
  });

  it('counts phases: maxAttempts = 1 + Σ retries, and accepts its own output', () => {
    const fixed = (delayMs: number) => ({ type: 'fixed', delayMs }) as const;
    const phases = [
      { retries: 2, backoff: IMMEDIATE },
      { retries: 0, backoff: fixed(1) },
      { retries: 5, backoff: fixed(1000) },
    ];
    const p = resolveRetryPolicy({ phases });
    expect(p.maxAttempts).toBe(8);
    expect(resolveRetryPolicy(p)).toEqual(p);
    expect(resolveRetryPolicy({ phases: [] }).maxAttempts).toBe(1);
  });

  const bo = (backoff: object) => ({ attempts: 2, backoff });
  const ph = (...retries: number[]) => ({ phases: retries.map((r) => ({ retries: r, backoff: IMMEDIATE })) });
  const MS = 'an integer >= 0 (milliseconds)';
  const YEAR = 365 * 24 * 3600 * 1000;
  const SHAPE = 'an object with attempts (and backoff) or phases';
  const unknown = (of: string) => `absent (not a known option of ${of})`;
  const cases: [unknown, string, string][] = [
    [{ attempts: 0 }, 'retry.attempts', 'an integer >= 1'],
    [{ attempts: 1.5 }, 'retry.attempts', 'an integer >= 1'],
    [{ attempts: 1001 }, 'retry.attempts', 'at most 1000'],
    [bo({ type: 'random' }), 'retry.backoff.type', 'one of immediate, fixed, linear, exponential, custom'],
    [bo({ type: 'fixed', delayMs: -1 }), 'retry.backoff.delayMs', MS],
    [bo({ type: 'fixed', delayMs: 1.5 }), 'retry.backoff.delayMs', MS],
    [bo({ type: 'exponential' }), 'retry.backoff.delayMs', MS],
    [
      bo({ type: 'fixed', delayMs: MAX_DELAY_MS + 1 }),
      'retry.backoff.delayMs',
      `at most 1 year (${YEAR} ms)`,
    ],
    [bo({ ...exp5s, factor: 0.5 }), 'retry.backoff.factor', 'a finite number >= 1'],
    [bo({ ...exp5s, jitter: 'some' }), 'retry.backoff.jitter', 'one of none, full, equal, decorrelated'],
    [bo({ ...exp5s, maxDelayMs: 100 }), 'retry.backoff.maxDelayMs', 'an integer >= delayMs (5000)'],
    [bo({ type: 'fixed', delayMs: 1, foo: 1 }), 'retry.backoff.foo', unknown('a fixed backoff')],
    [bo({ type: 'linear', delayMs: 1, jitter: 'full' }), 'retry.backoff.jitter', unknown('a linear backoff')],
    [{ attempts: 2, tries: 3 }, 'retry.tries', unknown('a retry policy')],
    [
      bo({ type: 'custom', name: '' }),
      'retry.backoff.name',
      '1-100 characters of valid Unicode (no lone surrogates)',
    ],
    [ph(1, -1), 'retry.phases[1].retries', 'an integer >= 0'],
    [{ phases: [{ retries: 1 }] }, 'retry.phases[0].backoff', 'an object with a type'],
    [ph(600, 400), 'retry.phases', 'at most 999 retries in total'],
    [{ attempts: 2, phases: [] }, 'retry', 'either { attempts, backoff } or { phases }, not both'],
    [{}, 'retry', SHAPE],
    [5, 'retry', SHAPE],
    [{ ...ph(2), maxAttempts: 5 }, 'retry.maxAttempts', "1 + the sum of the phases' retries (3)"],
  ];
  it.each(cases)('rejects %j at %s', (policy, field, rule) => {
    const e = thrown(() => resolveRetryPolicy(policy as RetryPolicy));
    expect([e.field, e.rule]).toEqual([field, rule]);
    expect(e.message.startsWith(`${field} must be ${rule}`)).toBe(true);
  });

  it('names fields under the given prefix', () => {
    const e = thrown(() => resolveRetryPolicy({ attempts: 0 }, 'options.retry'));
    expect(e.field).toBe('options.retry.attempts');
  });
});

describe('planRetry', () => {
  const exp1s = { type: 'exponential', delayMs: 1000 } as const;
  const multi = resolveRetryPolicy({
    phases: [
      { retries: 2, backoff: IMMEDIATE },
      { retries: 5, backoff: exp1s },
    ],
  });

  it('walks 2 immediate, then 5 exponential, then dead', () => {
    const plans = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => planRetry(multi, n, { random: noDraw }));
    expect(plans.map((p) => (p.action === 'retry' ? [p.phase, p.retry, p.delayMs] : p.action))).toEqual([
      [0, 1, 0],
      [0, 2, 0],
      [1, 1, 1000],
      [1, 2, 2000],
      [1, 3, 4000],
      [1, 4, 8000],
      [1, 5, 16_000],
      'dead',
    ]);
    expect(plans.map((p) => p.explanation)).toEqual([
      'phase 1 of 2: immediate: retry at once',
      'phase 1 of 2: immediate: retry at once',
      'phase 2 of 2: exponential: 1 s × 2^0 = 1 s',
      'phase 2 of 2: exponential: 1 s × 2^1 = 2 s',
      'phase 2 of 2: exponential: 1 s × 2^2 = 4 s',
      'phase 2 of 2: exponential: 1 s × 2^3 = 8 s',
      'phase 2 of 2: exponential: 1 s × 2^4 = 16 s',
      'attempts exhausted: 8 of 8 used',
    ]);
    expect(plans[3]).toMatchObject({ detail: { phase: 1, retry: 2, strategy: 'exponential' } });
    expect(plans[7]).toEqual({
      action: 'dead',
      reason: 'exhausted',
      explanation: 'attempts exhausted: 8 of 8 used',
    });
  });

  it('has no phase prefix for a single phase and skips empty phases', () => {
    const one = resolveRetryPolicy({ attempts: 5, backoff: { type: 'fixed', delayMs: 5000 } });
    expect(planRetry(one, 1, { random: noDraw })).toMatchObject({
      explanation: 'fixed: 5 s',
      phase: 0,
      retry: 1,
    });
    expect(planRetry(one, 5, { random: noDraw }).explanation).toBe('attempts exhausted: 5 of 5 used');
    const gap = resolveRetryPolicy({
      phases: [
        { retries: 0, backoff: { type: 'fixed', delayMs: 1 } },
        { retries: 1, backoff: { type: 'fixed', delayMs: 2 } },
      ],
    });
    expect(planRetry(gap, 1, { random: noDraw })).toMatchObject({ phase: 1, retry: 1, delayMs: 2 });
  });

  it('uses prevDelayMs only within a phase', () => {
    const p = resolveRetryPolicy({
      phases: [
        { retries: 1, backoff: { type: 'fixed', delayMs: 60_000 } },
        { retries: 3, backoff: { ...exp1s, jitter: 'decorrelated' } },
      ],
    });
    const second = planRetry(p, 2, { prevDelayMs: 60_000, random: fixedDraw(0.5) });
    expect(second.explanation).toBe(`phase 2 of 2: ${DECOR} 1 s and 3 × 1 s = 3 s → 2 s`);
    expect(planRetry(p, 3, { prevDelayMs: 2000, random: fixedDraw(0.5) })).toMatchObject({ delayMs: 3500 });
  });

  it('rejects attemptsMade below 1', () => {
    expect(thrown(() => planRetry(multi, 0, { random: noDraw })).field).toBe('attemptsMade');
  });
});

describe('previewPolicy', () => {
  it('summarises a deterministic policy with cumulative offsets', () => {
    const p = previewPolicy({ attempts: 5, backoff: exp5s });
    expect(p.summary).toBe('will retry at +5 s, +15 s, +35 s, +1 min 15 s, then dead-letter');
    expect([p.maxAttempts, p.then]).toEqual([5, 'dead-letter']);
    expect(p.steps.map((s) => [s.attempt, s.delayMs, s.minDelayMs, s.maxDelayMs, s.atMs])).toEqual([
      [2, 5000, 5000, 5000, 5000],
      [3, 10_000, 10_000, 10_000, 15_000],
      [4, 20_000, 20_000, 20_000, 35_000],
      [5, 40_000, 40_000, 40_000, 75_000],
    ]);
    expect(p.steps[3]!.explanation).toBe('exponential: 5 s × 2^3 = 40 s');
  });

  it('summarises jittered policies with per-retry ranges', () => {
    const full = previewPolicy({ attempts: 4, backoff: { ...exp5s, jitter: 'full' } });
    expect(full.summary).toBe('will retry after 0–5 s, then 0–10 s, then 0–20 s, then dead-letter');
    expect(full.steps.map((s) => s.delayMs)).toEqual([2500, 5000, 10_000]);
    const equal = previewPolicy({ attempts: 3, backoff: { ...exp5s, jitter: 'equal' } }, { random: () => 0 });
    expect(equal.summary).toBe('will retry after 2.5–5 s, then 5–10 s, then dead-letter');
    expect(equal.steps.map((s) => s.delayMs)).toEqual([2500, 5000]);
  });

  it('decorrelated bounds follow the previous step', () => {
    const p = previewPolicy({
      attempts: 4,
      backoff: { ...exp5s, maxDelayMs: 20_000, jitter: 'decorrelated' },
    });
    expect(p.steps.map((s) => [s.minDelayMs, s.delayMs, s.maxDelayMs])).toEqual([
      [5000, 10_000, 15_000],
      [5000, 17_500, 20_000],
      [5000, 20_000, 20_000],
    ]);
    expect(p.summary).toBe('will retry after 5–15 s, then 5–20 s, then 5–20 s, then dead-letter');
  });

  it('mixes phases and shortens long lists', () => {
    const p = previewPolicy({
      phases: [
        { retries: 2, backoff: IMMEDIATE },
        { retries: 10, backoff: { type: 'exponential', delayMs: 1000 } },
      ],
    });
    expect(p.steps).toHaveLength(12);
    expect(p.steps[2]!.explanation).toBe('phase 2 of 2: exponential: 1 s × 2^0 = 1 s');
    const list = '+0 ms, +0 ms, +1 s, +3 s, +7 s, +15 s, …, +17 min 3 s';
    expect(p.summary).toBe(`will retry 12 times at ${list}, then dead-letter`);
  });

  it('says when there are no retries, and uses custom strategies', () => {
    expect(previewPolicy({ attempts: 1, backoff: exp5s })).toEqual({
      maxAttempts: 1,
      steps: [],
      then: 'dead-letter',
      summary: 'no retries: the first failure dead-letters',
    });
    const strategies = { sq: ({ retry }: { retry: number }) => retry * retry * 1000 };
    const p = previewPolicy({ attempts: 3, backoff: { type: 'custom', name: 'sq' } }, { strategies });
    expect(p.summary).toBe('will retry at +1 s, +5 s, then dead-letter');
  });
});
