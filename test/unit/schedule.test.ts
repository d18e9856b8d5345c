import { describe, expect, it } from 'vitest';

import { ValidationError } from '../../src/errors.js';
import {
  MISSED_GRACE_MS,
  nextRunAfter,
  nextRuns,
  planTick,
  resolveMissedPolicy,
  resolveOverlapPolicy,
  resolveScheduleSpec,
  scheduledJobId,
  specText,
  type ResolvedScheduleSpec,
  scheduledTick,
  scheduledTickExplanation,
} from '../../src/schedule.js';

const t = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();
const runs = (spec: ResolvedScheduleSpec, from: string, n: number): string[] =>
  nextRuns(spec, t(from), 0, n).map(iso);

describe('resolveScheduleSpec', () => {
  it('defaults the time zone to UTC and normalises spaces', () => {
    expect(resolveScheduleSpec({ cron: ' */5  * * * * ' })).toEqual({ cron: '*/5 * * * *', tz: 'UTC' });
    expect(specText(resolveScheduleSpec({ every: 1500 }))).toBe('{"every":1500}');
  });

  it('names the field and the rule of a bad spec', () => {
    const bad: [unknown, string][] = [
      [{ cron: '61 * * * *' }, 'spec.cron'],
      [{ cron: '* * * * *', tz: 'Mars/Base' }, 'spec.tz'],
      [{ every: 10 }, 'spec.every'],
      [{ every: 1000, tz: 'UTC' }, 'spec'],
      [{ cron: '* * * * *', every: 5 }, 'spec'],
      [{ cron: '* * * * *', zone: 'UTC' }, 'spec.zone'],
      ['* * * * *', 'spec'],
    ];
    for (const [spec, field] of bad) {
      const e = (() => {
        try {
          resolveScheduleSpec(spec);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e, JSON.stringify(spec)).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).field).toBe(field);
    }
  });

  it('resolves the missed and overlap policies', () => {
    expect(resolveMissedPolicy(undefined)).toBe('skip');
    expect(resolveMissedPolicy({ each: 3 })).toEqual({ each: 3 });
    expect(() => resolveMissedPolicy({ each: 0 })).toThrow(
      'missed.each must be an integer between 1 and 1000',
    );
    expect(() => resolveMissedPolicy('always')).toThrow(/missed must be 'skip', 'once' or \{ each: N \}/);
    expect(resolveOverlapPolicy(undefined)).toBe('allow');
    expect(() => resolveOverlapPolicy('queue')).toThrow("overlap must be 'allow' or 'skip'");
  });

  it('names the jobs it creates after the scheduler and the planned time', () => {
    expect(scheduledJobId('nightly', 1_764_900_000_000)).toBe('sch:nightly:1764900000000');
  });
});

describe('nextRunAfter', () => {
  it('counts every from the anchor, whatever the time asked from', () => {
    const spec = { every: 1000 };
    expect(nextRunAfter(spec, 5_000, 5_000)).toBe(6_000);
    expect(nextRunAfter(spec, 5_999, 5_000)).toBe(6_000);
    expect(nextRunAfter(spec, 6_000, 5_000)).toBe(7_000);
    expect(nextRunAfter(spec, 4_000, 5_000)).toBe(6_000);
  });

  it('is strictly after the time given', () => {
    const spec = resolveScheduleSpec({ cron: '0 * * * *' });
    expect(iso(nextRunAfter(spec, t('2026-12-05T02:00:00Z'), 0))).toBe('2026-12-05T03:00:00.000Z');
    expect(iso(nextRunAfter(spec, t('2026-12-05T01:59:59.999Z'), 0))).toBe('2026-12-05T02:00:00.000Z');
  });

  it('takes seconds as an optional sixth field', () => {
    const spec = resolveScheduleSpec({ cron: '*/10 * * * * *' });
    expect(runs(spec, '2026-12-05T02:00:05Z', 2)).toEqual([
      '2026-12-05T02:00:10.000Z',
      '2026-12-05T02:00:20.000Z',
    ]);
  });

  describe('across daylight-saving changes', () => {
    it('Europe/Paris spring forward: 02:30 does not exist on 29 March 2026 and runs at 03:30 CEST', () => {
      const spec = resolveScheduleSpec({ cron: '30 2 * * *', tz: 'Europe/Paris' });
      expect(runs(spec, '2026-03-28T00:00:00Z', 3)).toEqual([
        '2026-03-28T01:30:00.000Z', // 02:30 CET
        '2026-03-29T01:30:00.000Z', // 03:30 CEST: the skipped hour
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
      ]);
    });

    it('Europe/Paris fall back: 02:30 happens twice on 25 October 2026 and runs once', () => {
      const spec = resolveScheduleSpec({ cron: '30 2 * * *', tz: 'Europe/Paris' });
      expect(runs(spec, '2026-10-24T00:00:00Z', 3)).toEqual([
        '2026-10-24T00:30:00.000Z', // 02:30 CEST
        '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST) only
        '2026-10-26T01:30:00.000Z', // 02:30 CET
      ]);
    });

    it('Europe/Paris fall back: an hourly schedule runs every real hour, both 02:00s included', () => {
      const spec = resolveScheduleSpec({ cron: '0 * * * *', tz: 'Europe/Paris' });
      expect(runs(spec, '2026-10-24T23:30:00Z', 4)).toEqual([
        '2026-10-25T00:00:00.000Z', // 02:00 CEST
        '2026-10-25T01:00:00.000Z', // 02:00 CET
        '2026-10-25T02:00:00.000Z', // 03:00 CET
        '2026-10-25T03:00:00.000Z',
      ]);
    });

    it('America/New_York spring forward: 09:00 stays 09:00 local, one hour earlier in UTC', () => {
      const spec = resolveScheduleSpec({ cron: '0 9 * * *', tz: 'America/New_York' });
      expect(runs(spec, '2026-03-07T00:00:00Z', 3)).toEqual([
        '2026-03-07T14:00:00.000Z', // EST
        '2026-03-08T13:00:00.000Z', // EDT
        '2026-03-09T13:00:00.000Z',
      ]);
      const missing = resolveScheduleSpec({ cron: '30 2 * * *', tz: 'America/New_York' });
      expect(runs(missing, '2026-03-07T12:00:00Z', 2)).toEqual([
        '2026-03-08T07:30:00.000Z', // 03:30 EDT: 02:30 does not exist
        '2026-03-09T06:30:00.000Z', // 02:30 EDT
      ]);
    });

    it('America/New_York fall back: 01:30 happens twice on 1 November 2026 and runs once', () => {
      const spec = resolveScheduleSpec({ cron: '30 1 * * *', tz: 'America/New_York' });
      expect(runs(spec, '2026-10-31T00:00:00Z', 3)).toEqual([
        '2026-10-31T05:30:00.000Z', // 01:30 EDT
        '2026-11-01T05:30:00.000Z', // the first 01:30 (EDT) only
        '2026-11-02T06:30:00.000Z', // 01:30 EST
      ]);
    });
  });
});

describe('planTick', () => {
  const every = { every: 1000 };

  it('fires the planned occurrence when on time, next run computed from the plan', () => {
    expect(planTick(every, 0, 5_000, 5_003, 'skip')).toEqual({
      fire: [5_000],
      missed: undefined,
      next: 6_000,
    });
  });

  it('does nothing before the planned time', () => {
    expect(planTick(every, 0, 5_000, 4_999, 'skip')).toEqual({ fire: [], missed: undefined, next: 5_000 });
  });

  it('skip: after downtime runs only the latest occurrence, the others recorded as missed', () => {
    expect(planTick(every, 0, 5_000, 9_500, 'skip')).toEqual({
      fire: [9_000],
      missed: { first: 5_000, last: 8_000, count: 4 },
      next: 10_000,
    });
  });

  it('skip: runs nothing when even the latest occurrence is later than the grace', () => {
    const hourly = resolveScheduleSpec({ cron: '0 * * * *' });
    const planned = t('2026-12-05T01:00:00Z');
    const now = t('2026-12-05T02:00:00Z') + MISSED_GRACE_MS + 1;
    expect(planTick(hourly, 0, planned, now, 'skip')).toEqual({
      fire: [],
      missed: { first: planned, last: t('2026-12-05T02:00:00Z'), count: 2 },
      next: t('2026-12-05T03:00:00Z'),
    });
  });

  it('once: one run for all the missed occurrences, planned at the latest', () => {
    const hourly = resolveScheduleSpec({ cron: '0 * * * *' });
    const planned = t('2026-12-05T00:00:00Z');
    const now = t('2026-12-05T03:20:00Z');
    expect(planTick(hourly, 0, planned, now, 'once')).toEqual({
      fire: [t('2026-12-05T03:00:00Z')],
      missed: { first: planned, last: t('2026-12-05T02:00:00Z'), count: 3 },
      next: t('2026-12-05T04:00:00Z'),
    });
  });

  it('each: one run per missed occurrence, the latest N at most', () => {
    const hourly = resolveScheduleSpec({ cron: '0 * * * *' });
    const planned = t('2026-12-05T00:00:00Z');
    const now = t('2026-12-05T04:10:00Z');
    expect(planTick(hourly, 0, planned, now, { each: 3 })).toEqual({
      fire: [t('2026-12-05T02:00:00Z'), t('2026-12-05T03:00:00Z'), t('2026-12-05T04:00:00Z')],
      missed: { first: planned, last: t('2026-12-05T01:00:00Z'), count: 2 },
      next: t('2026-12-05T05:00:00Z'),
    });
    expect(planTick(every, 0, 5_000, 6_200, { each: 5 })).toEqual({
      fire: [5_000, 6_000],
      missed: undefined,
      next: 7_000,
    });
    expect(planTick(every, 0, 5_000, 9_000, { each: 2 })).toEqual({
      fire: [8_000, 9_000],
      missed: { first: 5_000, last: 7_000, count: 3 },
      next: 10_000,
    });
  });

  it('counts a long outage of a fine cron without walking it all', () => {
    const secondly = resolveScheduleSpec({ cron: '* * * * * *' });
    const planned = t('2026-12-05T00:00:00Z');
    const now = t('2026-12-05T12:00:00.500Z');
    const plan = planTick(secondly, 0, planned, now, 'skip');
    expect(plan.fire).toEqual([t('2026-12-05T12:00:00Z')]);
    expect(plan.next).toBe(t('2026-12-05T12:00:01Z'));
    expect(plan.missed).toMatchObject({ first: planned, count: 10_000, more: true });
  });

  it('plans across a fall-back night in wall-clock terms: the repeated hour is not a missed run', () => {
    const daily = resolveScheduleSpec({ cron: '30 2 * * *', tz: 'Europe/Paris' });
    const planned = t('2026-10-25T00:30:00Z');
    expect(planTick(daily, 0, planned, t('2026-10-25T01:30:00Z'), 'once')).toEqual({
      fire: [planned],
      missed: undefined,
      next: t('2026-10-26T01:30:00Z'),
    });
  });
});

describe('scheduledTick (the first attempt of a job a tick created)', () => {
  it('records the scheduler, the plan, how late the tick was and what the policy left out', () => {
    const planned = Date.UTC(2026, 0, 1, 3, 0, 0);
    expect(scheduledTick('nightly', 'skip', planned, planned + 340, 0)).toEqual({
      scheduler: 'nightly',
      missed: 'skip',
      plannedAt: planned,
      createdAt: planned + 340,
      lateMs: 340,
      skipped: 0,
      explanation: 'created 340 ms after its planned time',
    });
    expect(scheduledTick('s', 'once', planned, planned + 7_200_005, 5).explanation).toBe(
      'created 7200005 ms after its planned time; 5 earlier occurrences missed',
    );
    expect(scheduledTickExplanation(0, 1)).toBe(
      'created 0 ms after its planned time; 1 earlier occurrence missed',
    );
  });
});
