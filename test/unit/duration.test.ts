import { describe, expect, it } from 'vitest';
import { formatDuration, formatDurationRange, formatOffset } from '../../src/duration.js';

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [1, '1 ms'],
    [250, '250 ms'],
    [999, '999 ms'],
    [250.4, '250 ms'],
    [999.6, '1 s'],
    [1000, '1 s'],
    [1049, '1 s'],
    [1050, '1.1 s'],
    [5000, '5 s'],
    [13_200, '13.2 s'],
    [21_430, '21.4 s'],
    [59_900, '59.9 s'],
    [59_949, '59.9 s'],
    [59_950, '1 min'],
    [59_999, '1 min'],
    [60_000, '1 min'],
    [75_000, '1 min 15 s'],
    [300_000, '5 min'],
    [640_000, '10 min 40 s'],
    [640_400, '10 min 40 s'],
    [640_600, '10 min 41 s'],
    [3_599_499, '59 min 59 s'],
    [3_599_999, '1 h'],
    [3_600_000, '1 h'],
    [5_400_000, '1 h 30 min'],
    [5_410_000, '1 h 30 min'],
    [5_430_000, '1 h 31 min'],
    [86_399_000, '1 d'],
    [86_400_000, '1 d'],
    [2 * 86_400_000 + 3 * 3_600_000, '2 d 3 h'],
    [365 * 86_400_000, '365 d'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('handles negatives and non-finite values', () => {
    expect(formatDuration(-5000)).toBe('-5 s');
    expect(formatDuration(Infinity)).toBe('∞');
    expect(formatDuration(NaN)).toBe('NaN');
  });
});

describe('formatOffset', () => {
  it('prefixes a sign', () => {
    expect(formatOffset(5000)).toBe('+5 s');
    expect(formatOffset(0)).toBe('+0 ms');
    expect(formatOffset(75_000)).toBe('+1 min 15 s');
    expect(formatOffset(-250)).toBe('-250 ms');
  });
});

describe('formatDurationRange', () => {
  it.each([
    [0, 5000, '0–5 s'],
    [2500, 5000, '2.5–5 s'],
    [500, 1000, '500 ms–1 s'],
    [5000, 5000, '5 s'],
    [80_000, 160_000, '1 min 20 s–2 min 40 s'],
    [120_000, 300_000, '2–5 min'],
  ])('%d..%d → %s', (lo, hi, text) => {
    expect(formatDurationRange(lo, hi)).toBe(text);
  });
});
