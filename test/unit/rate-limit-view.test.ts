import { describe, expect, it } from 'vitest';

import { ValidationError } from '../../src/errors.js';
import {
  bucketStart,
  bucketTokenAt,
  bucketTokens,
  decodePauseRecord,
  encodePauseRecord,
  groupPagePlan,
  groupView,
  pauseInForce,
  resolveRateLimit,
  encodeGroupCursor,
  resolveRateLimitStateQuery,
} from '../../src/rate-limit.js';

/** Takes tokens one by one as a claim does; how many it got at `now`. */
function drain(intervalMs: number, burst: number, tat: number, now: number): number {
  let n = 0;
  for (;;) {
    const start = bucketStart(tat, now);
    if (bucketTokenAt(start, intervalMs, burst) > now) return n;
    tat = start + intervalMs;
    n++;
    if (n > burst + 1) return n;
  }
}

describe('bucketTokens', () => {
  it('is the burst for a full bucket, null without any bucket, 1 for a pause that is over', () => {
    expect(bucketTokens({ intervalMs: 100, burst: 10 }, 0, 5000)).toBe(10);
    expect(bucketTokens(null, 0, 5000)).toBeNull();
    expect(bucketTokens(undefined, 0, 5000)).toBeNull();
    expect(bucketTokens(null, 4000, 5000)).toBe(1);
    expect(bucketTokens(null, 6000, 5000)).toBe(0);
  });

  it('counts exactly the tokens successive claims would get, at every point of a refill', () => {
    for (const [intervalMs, burst] of [
      [100, 10],
      [60_000, 1],
      [0.5, 7],
      [250, 20],
    ] as const) {
      for (let tat = 0; tat <= 12 * intervalMs; tat += intervalMs / 4) {
        for (const now of [0, intervalMs * 0.5, intervalMs * 2, intervalMs * 9.75, intervalMs * 12]) {
          expect(
            bucketTokens({ intervalMs, burst }, tat, now),
            `T=${intervalMs} b=${burst} tat=${tat} now=${now}`,
          ).toBe(drain(intervalMs, burst, tat, now));
        }
      }
    }
  });

  it('with an interval that is not a binary fraction, is at most one token more than claims find at an exact boundary', () => {
    // Claims add T once per token (tat + T + T …); the view multiplies. With T = 1000/3 a full
    // bucket of 3 gives 2 claims at once and the third 1e-13 ms later: the sums round up by an ulp.
    expect(bucketTokens({ intervalMs: 1000 / 3, burst: 3 }, 0, 3330)).toBe(3);
    expect(drain(1000 / 3, 3, 0, 3330)).toBe(2);
    for (const [intervalMs, burst] of [
      [1000 / 3, 3],
      [0.1, 7],
      [1000 / 7, 20],
    ] as const) {
      for (let tat = 0; tat <= 12 * intervalMs; tat += intervalMs / 4) {
        for (const now of [0, intervalMs * 0.5, intervalMs * 2, intervalMs * 9.99, intervalMs * 12]) {
          const d = (bucketTokens({ intervalMs, burst }, tat, now) ?? 0) - drain(intervalMs, burst, tat, now);
          expect(d === 0 || d === 1, `T=${intervalMs} b=${burst} tat=${tat} now=${now}`).toBe(true);
        }
      }
    }
  });

  it('is 0 while paused, and counts from the pause end', () => {
    const l = resolveRateLimit({ rate: 10, burst: 5 }, 'l');
    // Paused until 10 000 (tat = end + tolerance 400).
    expect(bucketTokens(l, 10_400, 9_999)).toBe(0);
    expect(bucketTokens(l, 10_400, 10_000)).toBe(1);
    expect(bucketTokens(l, 10_400, 10_250)).toBe(3);
    expect(bucketTokens(l, 10_400, 20_000)).toBe(5);
  });
});

describe('pause records', () => {
  const rec = { at: 1000, until: 61_000, jobId: 'j-1', attempt: 2, message: 'HTTP 429 "slow down"' };

  it('round-trip, and a text that is not one decodes to undefined', () => {
    expect(decodePauseRecord(encodePauseRecord(rec))).toEqual(rec);
    // As cjson writes it (keys in any order, `until` quoted as a key).
    expect(decodePauseRecord('{"message":"m","until":5,"jobId":"7","attempt":1,"at":2}')).toEqual({
      at: 2,
      until: 5,
      jobId: '7',
      attempt: 1,
      message: 'm',
    });
    expect(decodePauseRecord(undefined)).toBeUndefined();
    expect(decodePauseRecord('')).toBeUndefined();
    expect(decodePauseRecord('{')).toBeUndefined();
    expect(decodePauseRecord('{"at":1}')).toBeUndefined();
    expect(decodePauseRecord('null')).toBeUndefined();
  });

  it('is in force while not over and the bucket still holds it (a change of limits ends it)', () => {
    expect(pauseInForce(rec, 61_000, 30_000)).toBe(true);
    expect(pauseInForce(rec, 70_000, 30_000)).toBe(true);
    expect(pauseInForce(rec, 61_000, 61_000)).toBe(false);
    expect(pauseInForce(rec, undefined, 30_000)).toBe(false);
    expect(pauseInForce(rec, 40_000, 30_000)).toBe(false);
    expect(pauseInForce(undefined, 61_000, 30_000)).toBe(false);
  });
});

describe('groupView', () => {
  it("applies the group's own limit, else the default; the '' row (no group) has none", () => {
    const dflt = '60000,1,1,60000,1/min';
    const raw = {
      group: 'A',
      waiting: 3,
      own: undefined,
      tat: 0,
      pause: undefined,
      turn: 0,
      parkedUntil: undefined,
    };
    expect(groupView(raw, dflt, 1000)).toEqual({
      group: 'A',
      waiting: 3,
      ownLimit: false,
      limit: { rate: 1, per: 60_000, burst: 1, label: '1/min' },
      tokens: 1,
      turn: 0,
    });
    expect(groupView({ ...raw, tat: 61_000, turn: undefined, parkedUntil: 60_999.5 }, dflt, 1000)).toEqual({
      group: 'A',
      waiting: 3,
      ownLimit: false,
      limit: { rate: 1, per: 60_000, burst: 1, label: '1/min' },
      tokens: 0,
      nextTokenAt: 61_000,
      parkedUntil: 61_000,
    });
    expect(groupView({ ...raw, group: '', waiting: 2 }, dflt, 1000)).toEqual({
      group: '',
      waiting: 2,
      ownLimit: false,
      limit: null,
      tokens: null,
      turn: 0,
    });
  });
});

describe('groupPagePlan', () => {
  const sizes = { t: 5, p: 3, z: 2 };
  it('reads the ring from the cursor, then fills the page from the parked groups (waiting)', () => {
    expect(groupPagePlan('waiting', { phase: 't', position: 0 }, 2, sizes)).toEqual({
      reads: [{ phase: 't', start: 0, count: 2 }],
      next: { phase: 't', position: 2 },
    });
    expect(groupPagePlan('waiting', { phase: 't', position: 4 }, 3, sizes)).toEqual({
      reads: [
        { phase: 't', start: 4, count: 1 },
        { phase: 'p', start: 0, count: 2 },
      ],
      next: { phase: 'p', position: 2 },
    });
    expect(groupPagePlan('waiting', { phase: 't', position: 3 }, 2, sizes)).toEqual({
      reads: [{ phase: 't', start: 3, count: 2 }],
      next: { phase: 'p', position: 0 },
    });
    expect(groupPagePlan('waiting', { phase: 'p', position: 2 }, 5, sizes)).toEqual({
      reads: [{ phase: 'p', start: 2, count: 1 }],
      next: undefined,
    });
    expect(groupPagePlan('waiting', { phase: 't', position: 0 }, 50, { t: 0, p: 0, z: 0 })).toEqual({
      reads: [],
      next: undefined,
    });
  });

  it('reads one phase for the other filters, and a cursor past a shrunk phase reads nothing', () => {
    expect(groupPagePlan('turns', { phase: 't', position: 4 }, 3, sizes)).toEqual({
      reads: [{ phase: 't', start: 4, count: 1 }],
      next: undefined,
    });
    expect(groupPagePlan('paused', { phase: 'z', position: 0 }, 1, sizes)).toEqual({
      reads: [{ phase: 'z', start: 0, count: 1 }],
      next: { phase: 'z', position: 1 },
    });
    expect(groupPagePlan('parked', { phase: 'p', position: 9 }, 3, sizes)).toEqual({
      reads: [],
      next: undefined,
    });
  });
});

describe('resolveRateLimitStateQuery', () => {
  const c = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

  it('fills the defaults and starts each filter in its phase', () => {
    expect(resolveRateLimitStateQuery({})).toEqual({
      filter: 'waiting',
      limit: 50,
      cursor: { phase: 't', position: 0 },
      group: undefined,
    });
    expect(resolveRateLimitStateQuery(undefined).filter).toBe('waiting');
    expect(resolveRateLimitStateQuery({ filter: 'parked' }).cursor).toEqual({ phase: 'p', position: 0 });
    expect(resolveRateLimitStateQuery({ filter: 'paused', cursor: c({ offset: 40 }), limit: 500 })).toEqual({
      filter: 'paused',
      limit: 500,
      cursor: { phase: 'z', position: 40 },
      group: undefined,
    });
    expect(resolveRateLimitStateQuery({ cursor: c({ offset: 3, phase: 'p' }) }).cursor).toEqual({
      phase: 'p',
      position: 3,
    });
  });

  it("reads back the cursors it writes: the phase only when not the filter's first", () => {
    expect(encodeGroupCursor('waiting', { phase: 't', position: 2 })).toBe(c({ offset: 2 }));
    expect(encodeGroupCursor('waiting', { phase: 'p', position: 0 })).toBe(c({ offset: 0, phase: 'p' }));
    expect(encodeGroupCursor('paused', { phase: 'z', position: 7 })).toBe(c({ offset: 7 }));
    for (const [filter, cursor] of [
      ['waiting', { phase: 'p', position: 5 }],
      ['parked', { phase: 'p', position: 1 }],
      ['turns', { phase: 't', position: 999_999_999 }],
    ] as const) {
      expect(
        resolveRateLimitStateQuery({ filter, cursor: encodeGroupCursor(filter, cursor) }).cursor,
      ).toEqual(cursor);
    }
  });

  it('names the field and the rule', () => {
    expect(() => resolveRateLimitStateQuery({ limit: 0 })).toThrow(
      new ValidationError('query.limit', 'an integer between 1 and 500', 0),
    );
    const p3 = c({ offset: 3, phase: 'p' });
    expect(() => resolveRateLimitStateQuery({ cursor: p3, filter: 'turns' })).toThrow(
      new ValidationError('query.cursor', 'the nextCursor of a previous page of filter turns', p3),
    );
    for (const bad of [
      c({ offset: -1 }),
      c({ offset: 1.5 }),
      c({ offset: 1, x: 1 }),
      c([1]),
      'p:3',
      '%%%',
      '',
    ]) {
      expect(() => resolveRateLimitStateQuery({ cursor: bad }), bad).toThrow(/^query\.cursor must be/);
    }
    expect(() => resolveRateLimitStateQuery({ cursor: 7 as never })).toThrow(/^query\.cursor/);
    expect(() => resolveRateLimitStateQuery({ sort: 'x' } as never)).toThrow(
      new ValidationError('query.sort', 'not set (known keys: filter, limit, cursor, group)'),
    );
    expect(() => resolveRateLimitStateQuery([] as never)).toThrow(/^query must be an object/);
  });
});
