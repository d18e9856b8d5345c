import { describe, expect, it } from 'vitest';

import { MAX_BULK, MAX_PATCHED_BYTES, maxReplayJobs } from '../../src/dlq.js';
import { resolveDlqFilter, type DlqFilter } from '../../src/dlq-filter.js';
import { ValidationError } from '../../src/errors.js';

function fieldOf(filter: unknown, name?: (k: string) => string): string {
  try {
    resolveDlqFilter(filter as DlqFilter, name);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).field;
  }
  throw new Error('no error');
}

describe('resolveDlqFilter: the one DLQ filter converter', () => {
  it.each<[DlqFilter, object]>([
    [{}, {}],
    [{ reason: 'poison' }, { reason: ['poison'] }],
    [{ reason: ['permanent', 'exhausted'] }, { reason: ['permanent', 'exhausted'] }],
    [{ reason: 'exhausted,poison,exhausted' }, { reason: ['exhausted', 'poison'] }],
    [
      { errorCode: 'E', name: 'n', fingerprint: 'abc' },
      { errorCode: 'E', name: 'n', fingerprint: 'abc' },
    ],
    [
      { from: 5, to: new Date(9) },
      { from: 5, to: 9 },
    ],
    [
      { from: '1767225600000', to: '2026-01-01T00:00:01Z' },
      { from: 1767225600000, to: 1767225601000 },
    ],
    [{ name: undefined, from: undefined }, {}],
  ])('%j → %j', (input, expected) => {
    expect(resolveDlqFilter(input)).toEqual(expected);
  });

  it('is idempotent: a resolved filter resolves to itself', () => {
    const once = resolveDlqFilter({ reason: 'poison,permanent', from: '2026-01-01T00:00:00Z', name: 'x' });
    expect(resolveDlqFilter(once)).toEqual(once);
  });

  it('names the offending field as the caller spells it', () => {
    expect(fieldOf({ reason: 'bored' })).toBe('filter.reason');
    expect(fieldOf({ reason: [] })).toBe('filter.reason');
    expect(fieldOf({ errorCode: '' })).toBe('filter.errorCode');
    expect(fieldOf({ name: 'n'.repeat(201) })).toBe('filter.name');
    expect(fieldOf({ fingerprint: 'f'.repeat(65) })).toBe('filter.fingerprint');
    expect(fieldOf({ from: 'last week' })).toBe('filter.from');
    expect(fieldOf({ to: Number.NaN })).toBe('filter.to');
    expect(fieldOf({ colour: 'red' })).toBe('filter.colour');
    expect(fieldOf({ errorCode: 7 }, (k) => `--${k}`)).toBe('--errorCode');
    expect(fieldOf({ from: 'x' }, (k) => `querystring.${k}`)).toBe('querystring.from');
    expect(fieldOf(null)).toBe('filter');
  });
});

describe('maxReplayJobs: the bound of one bulk replay', () => {
  it.each([
    [0, MAX_BULK],
    [1677, MAX_BULK],
    [1678, 9998],
    [100_011, 167],
    [1 << 20, 16],
    [MAX_PATCHED_BYTES, 1],
    [MAX_PATCHED_BYTES * 2, 1],
  ])('a patch of %i bytes: at most %i jobs', (bytes, jobs) => {
    expect(maxReplayJobs(bytes)).toBe(jobs);
  });
});
