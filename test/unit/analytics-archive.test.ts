/**
 * The analytics over the archive, pure part: the archive's rows go through the rollups' own rules
 * (first attempts grouped; jobs that retried folded attempt by attempt with what the job remembers;
 * cancels), so a hand-built history gives exactly the report its rollup bucket gives, with the
 * archive's extras (jobs, their attempts) on top.
 */
import { describe, expect, it } from 'vitest';

import {
  analyticsPlan,
  analyticsReport,
  archiveAnalyticsReport,
  archiveBucket,
} from '../../src/analytics.js';
import type { ArchiveAnalyticsCounts, ArchiveHistoryRow } from '../../src/archive.js';
import { fingerprintLabel } from '../../src/fingerprint.js';
import {
  rollupCancel,
  rollupField,
  rollupIncrements,
  rollupJobKeys,
  rollupTimeBucket,
  rollupWrite,
  ROLLUP_KEY,
  type RollupBucket,
  type RollupJobKeys,
} from '../../src/rollup.js';

const NOW = 1_700_000_000_000;
const T = NOW - 600_000;
const err = { name: 'TemporaryError', code: 'ECONNRESET', message: 'reset by 10.0.0.1' };
const LABEL = fingerprintLabel(err);

const h = (
  job: string,
  name: string,
  n: number,
  outcome: string,
  action: string,
  at: number,
  extra: Partial<ArchiveHistoryRow> = {},
): ArchiveHistoryRow => ({
  job,
  name,
  n,
  outcome,
  action,
  dueAt: at,
  startedAt: at + 3 * n,
  finishedAt: at + 1000 * n,
  counted: true,
  ...extra,
});
const reset = { errorClass: 'temporary', rule: 'code:ECONNRESET', fingerprint: 'f1' };

/** Hand-built histories: every attempt in the window. */
const HISTORIES: ArchiveHistoryRow[] = [
  // a: fails twice (ECONNRESET), succeeds at 3.
  h('a', 'email', 1, 'failed', 'retry', T, reset),
  h('a', 'email', 2, 'failed', 'retry', T, reset),
  h('a', 'email', 3, 'succeeded', 'done', T),
  // b: succeeds at once.
  h('b', 'email', 1, 'succeeded', 'done', T + 10),
  // c: times out, then dies of ECONNRESET (exhausted).
  h('c', 'sms', 1, 'timed_out', 'retry', T, { errorClass: 'temporary', rule: 'timeout', fingerprint: 'f2' }),
  h('c', 'sms', 2, 'failed', 'dead', T, { ...reset, deadReason: 'exhausted' }),
  // d: stalls, then succeeds.
  h('d', 'sms', 1, 'stalled', 'retry', T, { errorClass: 'temporary', rule: 'stall' }),
  h('d', 'sms', 2, 'succeeded', 'done', T),
];

/** The bucket the backends write for these attempts: the rollups' rules, job memory included. */
function rollupBucket(start: number): RollupBucket {
  const fields = new Map<string, string>();
  let keys: RollupJobKeys | undefined;
  let job = '';
  let first = 0;
  for (const x of HISTORIES) {
    if (x.job !== job) [job, keys, first] = [x.job, undefined, x.dueAt];
    const end = {
      ...x,
      action: x.action as 'done',
      driftMs: x.startedAt - x.dueAt,
      timeToSuccessMs: x.finishedAt - first,
      label: x.action === 'dead' && x.fingerprint === 'f1' ? LABEL : undefined,
      keys,
    };
    const inc = rollupIncrements(end);
    rollupWrite(fields, inc.counts, inc.labels);
    keys = rollupJobKeys(end);
  }
  rollupWrite(fields, rollupCancel('sms', 'waiting'), new Map());
  return { start, fields: Object.fromEntries(fields) };
}

/** What PgArchive answers: first attempts of jobs that never retried grouped, the others as histories. */
function archiveCounts(): ArchiveAnalyticsCounts {
  const b = HISTORIES.find((x) => x.job === 'b')!;
  return {
    rows: [
      {
        ...b,
        driftBucket: rollupTimeBucket(b.startedAt - b.dueAt),
        timeToSuccessBucket: rollupTimeBucket(b.finishedAt - b.dueAt),
        count: 1,
      },
    ],
    histories: HISTORIES.filter((x) => x.job !== 'b'),
    cancels: [{ name: 'sms', state: 'waiting', count: 1 }],
    jobs: [
      { by: 'rule', key: 'code:ECONNRESET', jobs: 2, attempts: 5 },
      { by: 'rule', key: 'timeout', jobs: 1, attempts: 2 },
      { by: 'rule', key: 'stall', jobs: 1, attempts: 2 },
    ],
    errors: [
      { fingerprint: 'f1', error: err },
      { fingerprint: 'f2', error: { name: 'TimeoutError', code: 'TIMEOUT', message: 'timeout of 30 ms' } },
    ],
  };
}

describe('analytics over the archive (pure)', () => {
  const plan = analyticsPlan(NOW, 3_600_000);
  const query = { queue: 'q', windowMs: 3_600_000, by: 'rule' as const };

  it('makes the rollups’ bucket: the same counts, every failure fingerprint labelled', () => {
    const ref = rollupBucket(plan.from).fields;
    const got = archiveBucket(plan, archiveCounts()).fields;
    const counts = (f: Readonly<Record<string, string>>): Record<string, string> =>
      Object.fromEntries(Object.entries(f).filter(([k]) => !k.startsWith('K') && !k.startsWith('#')));
    expect(counts(got)).toEqual(counts(ref));
    // Labels: the rollups keep the dead-letter's (f1); the archive every failure fingerprint's.
    expect(ref[rollupField(ROLLUP_KEY, 'f', 'f1')]).toBe(LABEL);
    expect(ref[rollupField(ROLLUP_KEY, 'f', 'f2')]).toBe('');
    expect(got[rollupField(ROLLUP_KEY, 'f', 'f1')]).toBe(LABEL);
    expect(got[rollupField(ROLLUP_KEY, 'f', 'f2')]).toBe('TimeoutError|TIMEOUT|timeout of <n> ms');
  });

  it('gives the rollups’ report, with the jobs and their attempts per key on top', () => {
    const fromRollups = analyticsReport(query, plan, [rollupBucket(plan.from)]);
    const fromArchive = archiveAnalyticsReport(query, plan, archiveCounts());
    expect(fromArchive.source).toBe('archive');
    expect(fromRollups.source).toBe('rollups');
    expect(fromArchive.totals).toEqual(fromRollups.totals);
    expect(fromArchive.totals).toMatchObject({ attempts: 8, failed: 4, stalled: 1, succeeded: 3, dead: 1 });
    for (const k of ['attempts', 'timeToSuccess', 'drift', 'suggestion', 'cancels', 'deadReasons'] as const) {
      expect(fromArchive[k]).toEqual(fromRollups[k]);
    }
    const rule = (r: typeof fromArchive, key: string) => r.byRule.find((b) => b.key === key);
    // ECONNRESET: a's two failures and c's death; after them a succeeded once of 2 next attempts
    // that had a verdict, then recovered; c was lost.
    expect(rule(fromArchive, 'code:ECONNRESET')).toEqual({
      ...rule(fromRollups, 'code:ECONNRESET'),
      jobs: 2,
      jobAttempts: 5,
    });
    expect(rule(fromRollups, 'code:ECONNRESET')).toMatchObject({
      failed: 3,
      dead: 1,
      next: 2,
      nextSucceeded: 1,
      recovered: 1,
      lost: 1,
      jobs: null,
    });
    expect(rule(fromArchive, 'stall')).toMatchObject({ failed: 1, next: 1, nextSucceeded: 1, recovered: 1 });
    expect(fromArchive.groups?.find((g) => g.key === 'timeout')).toMatchObject({
      attempts: 2,
      failed: 1,
      succeeded: 0,
      lost: 1,
    });
  });
});
