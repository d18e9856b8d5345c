import { describe, expect, it } from 'vitest';

import type { ScheduledEntry } from '../../src/backend.js';
import { radarReport, resolveRadarOptions } from '../../src/radar.js';

const NOW = 1_000_000;
const FIXED = JSON.stringify({ retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 1000 } } });
const FULL = JSON.stringify({
  retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000, jitter: 'full' } },
});

function e(name: string, dueAt: number, attemptsMade = 1, opts = FIXED): ScheduledEntry {
  return { id: `${name}${dueAt}${Math.random()}`, name, dueAt, attemptsMade, opts };
}

describe('radarReport', () => {
  it('counts retries per second, flags bursts by the rule, names policies without jitter', () => {
    const entries = [
      e('late', NOW - 5000), // overdue: second 0
      ...Array.from({ length: 11 }, () => e('sync', NOW + 3200)),
      ...Array.from({ length: 10 }, () => e('sync', NOW + 4999)),
      e('spread', NOW + 9000, 2, FULL),
      e('spread', NOW + 12_000, 1, FULL),
      e('first', NOW + 2000, 0),
    ];
    const r = radarReport(
      'q',
      { now: NOW, entries, more: false },
      resolveRadarOptions({ horizonMs: 20_000 }),
    );
    expect(r).toMatchObject({ read: 25, retries: 24, overdue: 1, firstRuns: 1, truncated: false });
    expect(r.perSecond).toEqual([1, 0, 0, 11, 10, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(r.peak).toEqual({ count: 11, atS: 3 });
    // Mean 24 / 20 = 1.2/s; 4 × 1.2 = 4.8 → 5; at least 10.
    expect(r.burstThreshold).toBe(10);
    expect(r.bursts).toEqual([
      { startS: 3, endS: 5, retries: 21, peakPerSecond: 11, names: [{ name: 'sync', retries: 21 }] },
    ]);
    expect(r.policies.map((p) => [p.name, p.jitter, p.retries, p.peakPerSecond])).toEqual([
      ['sync', false, 21, 11],
      ['spread', true, 2, 1],
      ['late', false, 1, 1],
    ]);
    expect(r.withoutJitter).toEqual(['sync', 'late']);
    expect(r.burstRule).toBe(
      'a second with at least max(10, 4 × the mean of 1.20 retries/s) = 10 retries due is hot; consecutive hot seconds are one burst',
    );
  });

  it('no retries, no bursts; bad options name the field', () => {
    const r = radarReport('q', { now: NOW, entries: [], more: false }, resolveRadarOptions(undefined));
    expect(r).toMatchObject({ retries: 0, bursts: [], peak: { count: 0, atS: null }, horizonMs: 300_000 });
    expect(r.perSecond).toHaveLength(300);
    expect(() => resolveRadarOptions({ horizonMs: 999 })).toThrow(/horizonMs/);
    expect(() => resolveRadarOptions({ max: 50_001 })).toThrow(/max/);
    expect(() => resolveRadarOptions({ burstFactor: 0.5 })).toThrow(/burstFactor/);
  });
});
