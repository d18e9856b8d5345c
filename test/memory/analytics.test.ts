/**
 * Retry analytics on hand-built histories: the memory backend on a manual clock, driven through
 * the port (add, claim, finish) so that every time is exact, then `Queue.analytics` read back to
 * the exact figure. The same history runs on Redis in the conformance suite (analytics.case.ts).
 */
import { describe, expect, it } from 'vitest';

import { suggestAttempts, type AttemptRow } from '../../src/analytics.js';
import type { FinishRequest } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { ManualClock } from '../../src/clock.js';
import { Queue } from '../../src/queue.js';
import { rollupTimeBucket, ROLLUP_TIME_BOUNDS_MS } from '../../src/rollup.js';
import { finishOnly } from '../helpers/finish.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const opts = JSON.stringify({ retry: { phases: [], maxAttempts: 1 }, timeoutMs: 0, maxStalls: 2 });

interface Failure {
  readonly errorClass: 'temporary' | 'permanent';
  readonly rule: string;
  readonly fingerprint: string;
  readonly label: string;
}
/** One attempt: wait `late` ms after it is due, run `ms`, then succeed, retry after a delay, or die. */
type Step =
  | { readonly late?: number; readonly ms: number; readonly ok: true }
  | { readonly late?: number; readonly ms: number; readonly fail: Failure; readonly retryMs: number }
  | {
      readonly late?: number;
      readonly ms: number;
      readonly fail: Failure;
      readonly dead: 'exhausted' | 'permanent';
    };

const TEMP: Failure = { errorClass: 'temporary', rule: 'code:ECONNRESET', fingerprint: 'f1', label: 'L1' };
const PERM: Failure = {
  errorClass: 'permanent',
  rule: 'thrown:PermanentError',
  fingerprint: 'f2',
  label: 'L2',
};

/** Runs one job through its steps, alone in the queue; returns its id. */
async function runJob(
  b: MemoryBackend,
  clock: ManualClock,
  name: string,
  steps: readonly Step[],
): Promise<string> {
  const [added] = await b.add('q', [
    { id: undefined, name, data: 'null', opts, maxStalls: 2, delayMs: 0, runAt: undefined },
  ]);
  const id = added!.id;
  for (const s of steps) {
    clock.advance(s.late ?? 0);
    const { jobs } = await b.claim('q', { workerId: 'w', leaseMs: 60_000, max: 1 });
    expect(jobs.map((j) => j.id)).toEqual([id]);
    clock.advance(s.ms);
    const attempt = jobs[0]!.attempt;
    const base = { id, attempt, workerId: 'w' };
    let req: FinishRequest;
    if ('ok' in s) {
      req = { ...base, outcome: 'succeeded', result: 'null', decision: { action: 'done' } };
    } else {
      const failed = {
        ...base,
        outcome: 'failed' as const,
        error: { name: 'Error', message: 'boom' },
        errorClass: s.fail.errorClass,
        rule: s.fail.rule,
        fingerprint: s.fail.fingerprint,
        fingerprintLabel: s.fail.label,
      };
      req =
        'retryMs' in s
          ? {
              ...failed,
              decision: {
                action: 'retry',
                delayMs: s.retryMs,
                source: 'policy',
                explanation: 'fixed',
                detail: { strategy: 'fixed' },
              },
            }
          : { ...failed, decision: { action: 'dead', reason: s.dead, explanation: 'dead' } };
    }
    const [r] = await finishOnly(b, 'q', [req]);
    expect(r?.ok).toBe(true);
    if ('retryMs' in s) clock.advance(s.retryMs);
  }
  return id;
}

/**
 * The history: 6 `email` jobs succeed at once (40 ms); 2 fail once (temporary), are retried after
 * 1 s, start 30 ms late and succeed (time to success 1,110 ms); 1 fails three times and dies
 * exhausted; 1 `sms` job fails permanently and dies.
 */
async function history(): Promise<{ clock: ManualClock; b: MemoryBackend; queue: Queue; dead: string[] }> {
  const clock = new ManualClock(T0);
  const b = new MemoryBackend({ clock });
  const dead: string[] = [];
  for (let i = 0; i < 6; i++) await runJob(b, clock, 'email', [{ ms: 40, ok: true }]);
  for (let i = 0; i < 2; i++) {
    await runJob(b, clock, 'email', [
      { ms: 40, fail: TEMP, retryMs: 1000 },
      { late: 30, ms: 40, ok: true },
    ]);
  }
  dead.push(
    await runJob(b, clock, 'email', [
      { ms: 10, fail: TEMP, retryMs: 1000 },
      { ms: 10, fail: TEMP, retryMs: 1000 },
      { ms: 10, fail: TEMP, dead: 'exhausted' },
    ]),
  );
  dead.push(await runJob(b, clock, 'sms', [{ ms: 10, fail: PERM, dead: 'permanent' }]));
  return { clock, b, queue: new Queue('q', { backend: b }), dead };
}

describe('retry analytics (memory backend, manual clock)', () => {
  it('reports the exact figures of a hand-built history', async () => {
    const { queue } = await history();
    const r = await queue.analytics({ window: '1h' });
    expect(r.window).toEqual({
      from: T0 - 3_600_000,
      to: T0 + 4_500,
      ms: 3_600_000,
      resolution: 'minute',
      bucketMs: 60_000,
    });
    expect(r.name).toBeNull();
    expect(r.totals).toEqual({
      attempts: 14,
      failed: 6,
      stalled: 0,
      succeeded: 8,
      dead: 2,
      cancelled: 0,
      retries: 4,
      wastedAttempts: 2,
      deadLetterRate: 0.2,
    });
    expect(r.attempts).toEqual([
      { n: 1, attempts: 10, failed: 4, stalled: 0, succeeded: 6, dead: 1, successRate: 0.6 },
      { n: 2, attempts: 3, failed: 1, stalled: 0, succeeded: 2, dead: 0, successRate: 2 / 3 },
      { n: 3, attempts: 1, failed: 1, stalled: 0, succeeded: 0, dead: 1, successRate: 0 },
    ]);
    // 6 × 40 ms in [20, 50); 2 × 1,110 ms in [1000, 2000).
    expect(r.timeToSuccess.count).toBe(8);
    expect(r.timeToSuccess.buckets.filter((x) => x.count > 0)).toEqual([
      { fromMs: 20, toMs: 50, count: 6 },
      { fromMs: 1000, toMs: 2000, count: 2 },
    ]);
    expect(r.timeToSuccess.buckets).toHaveLength(ROLLUP_TIME_BOUNDS_MS.length + 1);
    expect(r.timeToSuccess.p50).toEqual({ fromMs: 20, toMs: 50 });
    expect(r.timeToSuccess.p95).toEqual({ fromMs: 1000, toMs: 2000 });
    expect(r.timeToSuccess.p99).toEqual({ fromMs: 1000, toMs: 2000 });
    // Every attempt started on time but the two 30 ms late ones.
    expect(r.drift.buckets.filter((x) => x.count > 0)).toEqual([
      { fromMs: 0, toMs: 1, count: 12 },
      { fromMs: 20, toMs: 50, count: 2 },
    ]);
    expect(r.drift.p99).toEqual({ fromMs: 20, toMs: 50 });
    expect(r.deadReasons).toEqual([
      { reason: 'exhausted', count: 1 },
      { reason: 'permanent', count: 1 },
    ]);
    expect(r.cancels).toEqual([]);
    // TEMP: 5 failed attempts; after them 4 attempts, 2 succeeded (the two jobs that recovered);
    // the exhausted job was lost. PERM: one attempt, its job dead, no next attempt.
    const temp = {
      failed: 5,
      dead: 1,
      next: 4,
      nextSucceeded: 2,
      nextSuccessRate: 0.5,
      recovered: 2,
      lost: 1,
      jobs: null,
      jobAttempts: null,
    };
    const perm = {
      failed: 1,
      dead: 1,
      next: 0,
      nextSucceeded: 0,
      nextSuccessRate: null,
      recovered: 0,
      lost: 1,
      jobs: null,
      jobAttempts: null,
    };
    expect(r.byErrorClass).toEqual([
      { key: 'temporary', label: null, ...temp },
      { key: 'permanent', label: null, ...perm },
    ]);
    expect(r.byRule).toEqual([
      { key: 'code:ECONNRESET', label: null, ...temp },
      { key: 'thrown:PermanentError', label: null, ...perm },
    ]);
    expect(r.byFingerprint).toEqual([
      { key: 'f1', label: 'L1', ...temp },
      { key: 'f2', label: 'L2', ...perm },
    ]);
    expect(r.by).toBeNull();
    expect(r.groups).toBeNull();
    expect(r.suggestion).toEqual({
      attempts: 2,
      reason:
        '100% of the jobs that ever succeed do so by attempt 2; attempt 3 succeeded 0% of the time (0 jobs) and cost 1 attempt',
    });
  });

  it('restricts to one job name, and groups by name or by fingerprint', async () => {
    const { queue } = await history();
    const sms = await queue.analytics({ name: 'sms' });
    expect(sms.name).toBe('sms');
    expect(sms.totals).toEqual({
      attempts: 1,
      failed: 1,
      stalled: 0,
      succeeded: 0,
      dead: 1,
      cancelled: 0,
      retries: 0,
      wastedAttempts: 0,
      deadLetterRate: 1,
    });
    expect(sms.byFingerprint).toEqual([
      {
        key: 'f2',
        label: 'L2',
        failed: 1,
        dead: 1,
        next: 0,
        nextSucceeded: 0,
        nextSuccessRate: null,
        recovered: 0,
        lost: 1,
        jobs: null,
        jobAttempts: null,
      },
    ]);
    expect(sms.suggestion).toEqual({
      attempts: null,
      reason:
        'no job succeeded in the window (1 dead-lettered): the record cannot tell how many attempts would help',
    });
    const byName = await queue.analytics({ by: 'name' });
    const none = { next: null, nextSucceeded: null, nextSuccessRate: null, recovered: null, lost: null };
    expect(byName.groups).toEqual([
      { key: 'email', label: null, attempts: 13, failed: 5, succeeded: 8, dead: 1, cancelled: 0, ...none },
      { key: 'sms', label: null, attempts: 1, failed: 1, succeeded: 0, dead: 1, cancelled: 0, ...none },
    ]);
    const byFp = await queue.analytics({ by: 'fingerprint' });
    const grp = { attempts: null, succeeded: null, cancelled: null };
    expect(byFp.groups).toEqual([
      {
        key: 'f1',
        label: 'L1',
        ...grp,
        failed: 5,
        dead: 1,
        next: 4,
        nextSucceeded: 2,
        nextSuccessRate: 0.5,
        recovered: 2,
        lost: 1,
      },
      {
        key: 'f2',
        label: 'L2',
        ...grp,
        failed: 1,
        dead: 1,
        next: 0,
        nextSucceeded: 0,
        nextSuccessRate: null,
        recovered: 0,
        lost: 1,
      },
    ]);
  });

  it('outlives the jobs (purged, evicted); minute buckets expire after 3 h, hour buckets stay', async () => {
    const { clock, b, queue, dead } = await history();
    expect(await b.purgeDead('q', dead)).toEqual(dead);
    await b.setRetention('q', { completed: { count: 0 } });
    await b.sweepRetention('q', { intervalMs: 0, max: 100 });
    expect((await b.counts('q')).completed).toBe(0);
    expect((await queue.analytics()).totals.attempts).toBe(14);
    // 3 h after the minute bucket ended: gone from minute buckets, still in the hour bucket.
    clock.advance(3 * 3_600_000 + 60_000);
    expect((await queue.analytics({ window: '2h' })).totals.attempts).toBe(0);
    const day = await queue.analytics({ window: '1d' });
    expect(day.window.resolution).toBe('hour');
    expect(day.totals.attempts).toBe(14);
    expect(day.attempts.map((a) => a.attempts)).toEqual([10, 3, 1]);
  });

  it('keeps nothing while rollups are off', async () => {
    const clock = new ManualClock(T0);
    const b = new MemoryBackend({ clock });
    const queue = new Queue('q', { backend: b });
    await queue.setRollups(false);
    await runJob(b, clock, 'email', [{ ms: 40, ok: true }]);
    expect((await queue.analytics()).totals.attempts).toBe(0);
    await queue.setRollups(true);
    await runJob(b, clock, 'email', [{ ms: 40, ok: true }]);
    expect((await queue.analytics()).totals).toMatchObject({ attempts: 1, succeeded: 1 });
  });

  it('refuses a bad window, name or by, naming the field', async () => {
    const queue = new Queue('q', { backend: new MemoryBackend() });
    // Well-formed, but over what the rollups keep, and this queue has no archive.
    await expect(queue.analytics({ window: '8d' })).rejects.toThrow(
      /^window must be at most 7 d on a queue without an archive/,
    );
    await expect(queue.analytics({ window: '401d' })).rejects.toThrow(
      /^window must be a duration from 1 s to 400 d/,
    );
    await expect(queue.analytics({ window: 'soon' })).rejects.toThrow(/^window must be/);
    await expect(queue.analytics({ window: 999 })).rejects.toThrow(/^window must be/);
    await expect(queue.analytics({ by: 'color' as never })).rejects.toThrow(
      /^by must be one of name, errorClass, rule, fingerprint/,
    );
    await expect(queue.analytics({ name: '' })).rejects.toThrow(/^name must be/);
  });
});

describe('suggestAttempts', () => {
  const rows = (succeeded: number[], attempts: number[], dead: number[] = []): AttemptRow[] =>
    succeeded.map((s, i) => ({
      n: i + 1,
      attempts: attempts[i]!,
      failed: attempts[i]! - s,
      stalled: 0,
      succeeded: s,
      dead: dead[i] ?? 0,
      successRate: attempts[i]! > 0 ? s / attempts[i]! : null,
    }));

  it('writes the sentence of the issue', () => {
    expect(suggestAttempts(rows([9000, 800, 190, 15, 5], [10_100, 1100, 300, 1000, 840]))).toEqual({
      attempts: 3,
      reason:
        '99.8% of the jobs that ever succeed do so by attempt 3; attempts 4 and 5 succeeded 1.1% of the time (20 jobs) and cost 1,840 attempts',
    });
  });

  it('says when no later attempt was made, and when the last one still succeeds', () => {
    expect(suggestAttempts(rows([10], [10]))).toEqual({
      attempts: 1,
      reason:
        '100% of the jobs that ever succeed do so by attempt 1; no later attempt was made in the window',
    });
    expect(suggestAttempts(rows([50, 50], [100, 50], [0, 0]))).toEqual({
      attempts: 2,
      reason:
        '100% of the jobs that ever succeed do so by attempt 2; no later attempt was made in the window',
    });
    expect(suggestAttempts(rows([50, 25], [100, 50], [0, 25]))).toEqual({
      attempts: 2,
      reason:
        '100% of the jobs that ever succeed do so by attempt 2; attempt 2, the last made, still succeeded 50% of the time and 25 jobs ran out of attempts after it: more attempts might save some, which this record cannot tell',
    });
    // Deaths by a permanent error are not jobs more attempts could save.
    expect(suggestAttempts(rows([50, 25], [100, 50], [0, 25]), 0).reason).toBe(
      '100% of the jobs that ever succeed do so by attempt 2; no later attempt was made in the window',
    );
    expect(suggestAttempts([])).toEqual({
      attempts: null,
      reason: 'no attempt ended in the window: nothing to suggest',
    });
  });

  it('puts a time in its bucket by the fixed bounds', () => {
    expect([-5, 0, 0.5, 1, 1.9, 2, 49, 50, 86_399_999, 86_400_000, 1e12].map(rollupTimeBucket)).toEqual([
      0, 0, 0, 1, 1, 2, 5, 6, 24, 25, 25,
    ]);
  });
});
