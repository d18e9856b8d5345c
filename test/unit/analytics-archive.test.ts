/**
 * The analytics over the archive, pure part: the archive's grouped counts go through the rollups'
 * own increments, so a hand-built history gives the rollups' report exactly, with the archive's
 * full breakdowns on top.
 */
import { describe, expect, it } from 'vitest';

import {
  analyticsPlan,
  analyticsReport,
  archiveAnalyticsReport,
  archiveBucket,
} from '../../src/analytics.js';
import type { ArchiveAnalyticsCounts, ArchiveAnalyticsRow } from '../../src/archive.js';
import { fingerprintLabel } from '../../src/fingerprint.js';
import {
  rollupField,
  rollupIncrements,
  rollupTimeBucket,
  ROLLUP_KEY,
  type RollupBucket,
  type RollupEnd,
} from '../../src/rollup.js';

const NOW = 1_700_000_000_000;
const err = { name: 'TemporaryError', code: 'ECONNRESET', message: 'reset by 10.0.0.1' };
const LABEL = fingerprintLabel(err);

/** A hand-built history: attempt ends as the finish transition reports them. */
const ENDS: RollupEnd[] = [
  // email-1: fails twice (ECONNRESET), succeeds at 3 after 7.5 s.
  {
    name: 'email',
    n: 1,
    outcome: 'failed',
    action: 'retry',
    errorClass: 'temporary',
    rule: 'code:ECONNRESET',
    fingerprint: 'f1',
    driftMs: 3,
  },
  {
    name: 'email',
    n: 2,
    outcome: 'failed',
    action: 'retry',
    errorClass: 'temporary',
    rule: 'code:ECONNRESET',
    fingerprint: 'f1',
    driftMs: 40,
  },
  { name: 'email', n: 3, outcome: 'succeeded', action: 'done', driftMs: 12, timeToSuccessMs: 7500 },
  // email-2: succeeds at once.
  { name: 'email', n: 1, outcome: 'succeeded', action: 'done', driftMs: 0, timeToSuccessMs: 30 },
  // sms-1: times out, then dies of ECONNRESET (exhausted).
  {
    name: 'sms',
    n: 1,
    outcome: 'timed_out',
    action: 'retry',
    errorClass: 'temporary',
    rule: 'timeout',
    fingerprint: 'f2',
    driftMs: 1,
  },
  {
    name: 'sms',
    n: 2,
    outcome: 'failed',
    action: 'dead',
    deadReason: 'exhausted',
    errorClass: 'temporary',
    rule: 'code:ECONNRESET',
    fingerprint: 'f1',
    label: LABEL,
    driftMs: 700,
  },
];

/** The rollup bucket of the ends, as the finish transition writes it. */
function rollupBucket(start: number): RollupBucket {
  const fields: Record<string, string> = {};
  for (const e of ENDS) {
    const inc = rollupIncrements(e);
    for (const [f, n] of inc.counts) fields[f] = String(Number(fields[f] ?? 0) + n);
    for (const [fp, t] of inc.labels) fields[rollupField(ROLLUP_KEY, 'f', fp)] = t;
  }
  return { start, fields };
}

/** The archive's grouped rows for the same ends (each end its own row here: counts of 1). */
function archiveCounts(): ArchiveAnalyticsCounts {
  const rows: ArchiveAnalyticsRow[] = ENDS.map((e) => ({
    name: e.name,
    n: e.n,
    outcome: e.outcome,
    action: e.action,
    deadReason: e.deadReason,
    errorClass: e.errorClass,
    rule: e.rule,
    fingerprint: e.fingerprint,
    driftBucket: rollupTimeBucket(e.driftMs),
    timeToSuccessBucket: e.timeToSuccessMs === undefined ? undefined : rollupTimeBucket(e.timeToSuccessMs),
    count: 1,
  }));
  // Two rows of one dimension are one row counted twice.
  const merged = [rows[0]!, { ...rows[1]!, driftBucket: rows[0]!.driftBucket }];
  return {
    rows: [...merged, ...rows.slice(2)],
    jobs: [
      { by: 'rule', key: 'code:ECONNRESET', jobs: 2, attempts: 5, succeeded: 1, dead: 1 },
      { by: 'rule', key: 'timeout', jobs: 1, attempts: 2, succeeded: 0, dead: 1 },
      { by: 'errorClass', key: 'temporary', jobs: 2, attempts: 5, succeeded: 1, dead: 1 },
      { by: 'fingerprint', key: 'f1', jobs: 2, attempts: 5, succeeded: 1, dead: 1 },
      { by: 'fingerprint', key: 'f2', jobs: 1, attempts: 2, succeeded: 0, dead: 1 },
    ],
    errors: [
      { fingerprint: 'f1', error: err },
      {
        fingerprint: 'f2',
        error: { name: 'TimeoutError', code: 'TIMEOUT', message: 'attempt exceeded its timeout of 30 ms' },
      },
    ],
  };
}

describe('analytics over the archive (pure)', () => {
  const plan = analyticsPlan(NOW, 3_600_000);
  const query = { queue: 'q', windowMs: 3_600_000 };

  it('turns grouped rows into the counts a rollup bucket holds, by the rollups’ own rule', () => {
    const ref = rollupBucket(plan.from).fields;
    const got = archiveBucket(plan, archiveCounts()).fields;
    // The drift of the second email failure (40 ms) was grouped into the bucket of 3 ms on
    // purpose: only that count moves.
    const driftOf = (ms: number): string => rollupField('z', 'email', rollupTimeBucket(ms));
    expect(got[driftOf(3)]).toBe('2');
    expect(ref[driftOf(3)]).toBe('1');
    expect(ref[driftOf(40)]).toBe('1');
    expect(got[driftOf(40)]).toBeUndefined();
    const { [driftOf(3)]: _a, [driftOf(40)]: _b, ...restGot } = got;
    const { [driftOf(3)]: _c, [driftOf(40)]: _d, ...restRef } = ref;
    // Labels: the rollups keep the dead-letter's (f1); the archive every failure fingerprint's.
    expect(restGot).toEqual({
      ...restRef,
      [rollupField(ROLLUP_KEY, 'f', 'f2')]: 'TimeoutError|TIMEOUT|attempt exceeded its timeout of <n> ms',
    });
    expect(ref[rollupField(ROLLUP_KEY, 'f', 'f1')]).toBe(LABEL);
    expect(ref[rollupField(ROLLUP_KEY, 'f', 'f2')]).toBeUndefined();
  });

  it('gives the rollups’ report, with full breakdowns by class, rule and fingerprint', () => {
    const counts = archiveCounts();
    // Undo the deliberate regrouping: the same ends, the same report.
    const exact = { ...counts, rows: ENDS.map((e) => ({ ...rowOf(e), count: 1 })) };
    const fromRollups = analyticsReport({ ...query, by: 'rule' }, plan, [rollupBucket(plan.from)]);
    const fromArchive = archiveAnalyticsReport({ ...query, by: 'rule' }, plan, exact);
    expect(fromArchive.source).toBe('archive');
    expect(fromRollups.source).toBe('rollups');
    expect(fromArchive.totals).toEqual({
      attempts: 6,
      failed: 4,
      stalled: 0,
      succeeded: 2,
      dead: 1,
      cancelled: 0,
      retries: 3,
      wastedAttempts: 1,
      deadLetterRate: 1 / 3,
    });
    expect(fromArchive.attempts).toEqual(fromRollups.attempts);
    expect(fromArchive.timeToSuccess).toEqual(fromRollups.timeToSuccess);
    expect(fromArchive.drift).toEqual(fromRollups.drift);
    expect(fromArchive.suggestion).toEqual(fromRollups.suggestion);
    // (These ends carry no job memory (RollupEnd.keys): no next attempt is attributed; a dead job is
    // lost under its last attempt's keys only.)
    const after = { next: 0, nextSucceeded: 0, nextSuccessRate: null, lost: 0 };
    expect(fromArchive.byRule).toEqual([
      {
        key: 'code:ECONNRESET',
        label: null,
        failed: 3,
        dead: 1,
        ...after,
        lost: 1,
        jobs: 2,
        jobAttempts: 5,
        recovered: 1,
      },
      { key: 'timeout', label: null, failed: 1, dead: 0, ...after, jobs: 1, jobAttempts: 2, recovered: 0 },
    ]);
    expect(fromRollups.byRule).toEqual([
      {
        key: 'code:ECONNRESET',
        label: null,
        failed: 3,
        dead: 1,
        ...after,
        lost: 1,
        jobs: null,
        jobAttempts: null,
        recovered: 0,
      },
      {
        key: 'timeout',
        label: null,
        failed: 1,
        dead: 0,
        ...after,
        jobs: null,
        jobAttempts: null,
        recovered: 0,
      },
    ]);
    expect(fromArchive.byFingerprint.map((b) => [b.key, b.label, b.jobs])).toEqual([
      ['f1', LABEL, 2],
      ['f2', 'TimeoutError|TIMEOUT|attempt exceeded its timeout of <n> ms', 1],
    ]);
    const g = { cancelled: null, ...after };
    expect(fromArchive.groups).toEqual([
      {
        key: 'code:ECONNRESET',
        label: null,
        attempts: 5,
        failed: 3,
        succeeded: 1,
        dead: 1,
        ...g,
        lost: 1,
        recovered: 1,
      },
      { key: 'timeout', label: null, attempts: 2, failed: 1, succeeded: 0, dead: 0, ...g, recovered: 0 },
    ]);
    expect(fromRollups.groups).toEqual([
      {
        key: 'code:ECONNRESET',
        label: null,
        attempts: null,
        failed: 3,
        succeeded: null,
        dead: 1,
        ...g,
        lost: 1,
        recovered: 0,
      },
      {
        key: 'timeout',
        label: null,
        attempts: null,
        failed: 1,
        succeeded: null,
        dead: 0,
        ...g,
        recovered: 0,
      },
    ]);
  });
});

function rowOf(e: RollupEnd): Omit<ArchiveAnalyticsRow, 'count'> {
  return {
    name: e.name,
    n: e.n,
    outcome: e.outcome,
    action: e.action,
    deadReason: e.deadReason,
    errorClass: e.errorClass,
    rule: e.rule,
    fingerprint: e.fingerprint,
    driftBucket: rollupTimeBucket(e.driftMs),
    timeToSuccessBucket: e.timeToSuccessMs === undefined ? undefined : rollupTimeBucket(e.timeToSuccessMs),
  };
}
