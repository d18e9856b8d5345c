import { describe, expect, it } from 'vitest';

import { ValidationError } from '../../src/errors.js';
import {
  bucketCapped,
  bucketPaused,
  bucketStart,
  bucketTokenAt,
  decodeRateLimit,
  encodeRateLimit,
  nextTokenAt,
  rateLimitLabel,
  rateLimitsView,
  rateLimitWait,
  rateLimitWaitedMs,
  resolveRateLimit,
  resolveRateLimitSettings,
} from '../../src/rate-limit.js';

/** Claims as the backends do, one token per job, at `now`: the claims granted, and the state. */
function claimAll(
  tat: number,
  now: number,
  intervalMs: number,
  burst: number,
  want: number,
): [number, number] {
  let got = 0;
  for (; got < want; got++) {
    const start = bucketStart(tat, now);
    if (bucketTokenAt(start, intervalMs, burst) > now) break;
    tat = start + intervalMs;
  }
  return [got, tat];
}

describe('rate limits: settings', () => {
  it('resolves a limit, its interval unrounded and its default burst of one period', () => {
    expect(resolveRateLimit({ rate: 10 }, 'l')).toEqual({
      rate: 10,
      per: 1000,
      burst: 10,
      intervalMs: 100,
      label: '10/s',
    });
    expect(resolveRateLimit({ rate: 3, per: 1000 }, 'l').intervalMs).toBe(1000 / 3);
    expect(resolveRateLimit({ rate: 0.5 }, 'l')).toMatchObject({
      burst: 1,
      intervalMs: 2000,
      label: '0.5/s',
    });
    expect(resolveRateLimit({ rate: 2.5, per: 60_000, burst: 7 }, 'l')).toMatchObject({
      burst: 7,
      label: '2.5/min',
    });
  });

  it('labels a limit by its period', () => {
    expect(rateLimitLabel(100, 3_600_000)).toBe('100/h');
    expect(rateLimitLabel(3, 2000)).toBe('3/2 s');
    expect(rateLimitLabel(1 / 3, 1000)).toBe('0.333/s');
    expect(rateLimitLabel(5, 250)).toBe('5/250 ms');
  });

  it('refuses bad limits with the field and the rule', () => {
    expect(() => resolveRateLimit({ rate: -1 }, 'q')).toThrow(
      new ValidationError('q.rate', 'a number between 0.001 and 1000000', -1),
    );
    expect(() => resolveRateLimit({ rate: Infinity }, 'q')).toThrow(
      /q\.rate must be a number between 0\.001 and 1000000/,
    );
    expect(() => resolveRateLimit({ rate: 1, per: 1.5 }, 'q')).toThrow(
      /q\.per must be an integer between 1 and 86400000/,
    );
    expect(() => resolveRateLimit({ rate: 1, burst: 0 }, 'q')).toThrow(
      /q\.burst must be an integer between 1 and 1000000/,
    );
    expect(() => resolveRateLimit({ rate: 1, max: 3 }, 'q')).toThrow(
      /q\.max must be not set \(known keys: rate, per, burst\)/,
    );
    expect(() => resolveRateLimit(null, 'q')).toThrow(/q must be an object \{ rate, per\?, burst\? \}/);
    expect(() => resolveRateLimitSettings({ tenants: {} })).toThrow(/rateLimit\.tenants must be not set/);
    expect(() => resolveRateLimitSettings({ groups: [] })).toThrow(/rateLimit\.groups must be an object/);
  });

  it('keeps what a change sets, removes and leaves alone', () => {
    expect(
      resolveRateLimitSettings({ queue: null, groups: { 'tenant-1': { rate: 2 }, 'tenant-2': null } }),
    ).toEqual({
      queue: null,
      groups: {
        'tenant-1': { rate: 2, per: 1000, burst: 2, intervalMs: 500, label: '2/s' },
        'tenant-2': null,
      },
    });
    expect(resolveRateLimitSettings({})).toEqual({});
  });

  it('stores a limit as text and reads it back exactly', () => {
    const l = resolveRateLimit({ rate: 7, per: 1000, burst: 3 }, 'l');
    expect(encodeRateLimit(l)).toBe('142.85714285714286,3,7,1000,7/s');
    expect(decodeRateLimit(encodeRateLimit(l))).toEqual(l);
  });
});

describe('rate limits: the bucket', () => {
  const now = 1_767_225_600_000;

  it('gives its burst at once to a full bucket, then one token per interval', () => {
    const [got, tat] = claimAll(0, now, 100, 5, 50);
    expect(got).toBe(5);
    expect(tat).toBe(now + 500);
    expect(bucketTokenAt(bucketStart(tat, now), 100, 5)).toBe(now + 100);
    expect(claimAll(tat, now + 99, 100, 5, 50)[0]).toBe(0);
    expect(claimAll(tat, now + 100, 100, 5, 50)).toEqual([1, now + 600]);
    // A quiet spell refills it to the burst, never more.
    expect(claimAll(tat, now + 10_000, 100, 5, 50)[0]).toBe(5);
  });

  it('gives exactly the configured rate over a long run, with an interval that is not whole', () => {
    const intervalMs = 1000 / 3;
    let tat = 0;
    let granted = 0;
    // A claimer that comes up to 7 ms late every time still gets 3 per second: in 1000 s, the burst
    // of 2 at the start and then one token every 333.3 ms, none lost to its lateness (the burst
    // absorbs it; with burst 1, each late claim would lose its lateness).
    for (let t = now; t < now + 1_000_000; t += 7) {
      const [got, next] = claimAll(tat, t, intervalMs, 2, 10);
      granted += got;
      tat = next;
    }
    expect(granted).toBe(3001);
  });

  it('pauses: the next token exists when the pause ends, then the rate goes on', () => {
    const tat = bucketPaused(0, now, 5000, 100, 5);
    expect(tat).toBe(now + 5400);
    expect(bucketTokenAt(bucketStart(tat, now), 100, 5)).toBe(now + 5000);
    // A pause never shortens what the bucket already said.
    expect(bucketPaused(now + 99_999, now, 5000, 100, 5)).toBe(now + 99_999);
    // Without a limit (interval 0, burst 1): a token exactly when the pause ends.
    expect(bucketPaused(0, now, 300, 0, 1)).toBe(now + 300);
    expect(nextTokenAt(null, now + 300, now)).toBe(now + 300);
    expect(nextTokenAt(null, now + 300, now + 300)).toBeUndefined();
  });

  it('caps the state to the new tolerance when a limit changes', () => {
    expect(bucketCapped(now + 60_000, now, 10, 5)).toBe(now + 40);
    expect(bucketCapped(now + 20, now, 10, 5)).toBe(now + 20);
  });

  it('counts the wait from when the token existed, not from the claim', () => {
    expect(rateLimitWaitedMs(now + 340.4, now)).toBe(340);
    expect(rateLimitWaitedMs(now + 340.5, now)).toBe(341);
    expect(rateLimitWaitedMs(now - 5, now)).toBe(0);
    expect(rateLimitWait('group', 'tenant-42', '10/s', 340)).toEqual({
      scope: 'group',
      group: 'tenant-42',
      limit: '10/s',
      waitedMs: 340,
      explanation: 'rate limit tenant-42: 10/s, waited 340 ms',
    });
    expect(rateLimitWait('queue', 'ignored', '0.5/s', 2000)).toEqual({
      scope: 'queue',
      limit: '0.5/s',
      waitedMs: 2000,
      explanation: 'queue rate limit: 0.5/s, waited 2000 ms',
    });
  });

  it('reads stored limits into the view the API shows', () => {
    const l = resolveRateLimit({ rate: 4 }, 'l');
    expect(
      rateLimitsView(
        encodeRateLimit(l),
        undefined,
        { b: encodeRateLimit(l), a: encodeRateLimit(l) },
        now + 900,
        now,
      ),
    ).toEqual({
      queue: l,
      group: null,
      groups: { a: l, b: l },
      queueNextTokenAt: now + 150,
    });
  });
});
