/**
 * The self-audit: recorded behaviour checked against the stored rules. For every recorded retry,
 * the delay the job's stored policy should have produced is recomputed by the worker's own
 * `decideAfterFailure` (with the recorded jitter draw and classification) and compared with the
 * delay recorded and with when the next attempt really started. Pure: jobs in, findings out.
 *
 * Findings (kinds):
 * - `delay`: the recorded delay differs from the policy's by more than the tolerance (the
 *   article's bug: meant to double from 5 s, really ~6 s every time);
 * - `decision`: the policy would have retried where the record dead-lettered, or the reverse;
 * - `due`: the recorded due time is not the attempt's end plus the recorded delay;
 * - `early`: the next attempt started before its due time (by more than the tolerance);
 * - `retry-after`: the handler asked for a delay (Retry-After) and the next attempt started sooner;
 * - `drift`: an attempt started late by an outlying amount: more than
 *   max(`driftMs`, Q3 + 3 × IQR of every drift in scope) (Tukey's far-out fence);
 * - `attempts`: a job made more counted attempts than its policy allows.
 * A retry whose policy draws at random but whose record kept no draw, or whose custom strategy is
 * not known here, is counted as unverifiable, never guessed.
 * @module
 */
import type { CustomStrategy } from './backoff.js';
import { decideAfterFailure } from './decide.js';
import { formatDuration } from './duration.js';
import { ValidationError } from './errors.js';
import {
  resolveHistoryScope,
  resolveHistorySource,
  type HistorySource,
  type ResolvedHistoryScope,
} from './recorded.js';
import { countsAsFailure } from './transitions.js';
import type { Job } from './types.js';
import { assertInt } from './validate.js';
import { classificationOf, hasJitter, percentile, recordedBudget } from './whatif.js';

export const AuditKinds = ['delay', 'decision', 'due', 'early', 'retry-after', 'drift', 'attempts'] as const;
export type AuditKind = (typeof AuditKinds)[number];

export interface AuditFinding {
  readonly kind: AuditKind;
  readonly jobId: string;
  readonly name: string;
  /** The attempt concerned: the one whose decision is wrong, or the one that started early/late. */
  readonly attempt: number;
  readonly expectedDelayMs?: number;
  readonly recordedDelayMs?: number;
  /** Next attempt's start − this attempt's end. */
  readonly actualDelayMs?: number;
  readonly driftMs?: number;
  readonly attempts?: number;
  readonly maxAttempts?: number;
  readonly message: string;
}

export interface AuditOptions {
  readonly window?: { readonly from?: number | undefined; readonly to?: number | undefined } | undefined;
  readonly filter?: { readonly name?: string | undefined } | undefined;
  /** Most recorded jobs read (most recent first). @default 10000 */
  readonly limit?: number | undefined;
  /** Differences up to this many ms are not findings. @default 50 */
  readonly toleranceMs?: number | undefined;
  /** The least drift that can be an outlier. @default 1000 */
  readonly driftMs?: number | undefined;
  /** Most findings listed (all are counted). @default 1000 */
  readonly maxFindings?: number | undefined;
  /**
   * Where the recorded jobs are read: the backend (`live`, the default) or the queue's archive
   * (`archive`: finished jobs kept for months, streamed in pages; most recently finished first).
   */
  readonly source?: HistorySource | undefined;
}

export interface ResolvedAudit {
  readonly scope: ResolvedHistoryScope;
  readonly toleranceMs: number;
  readonly driftMs: number;
  readonly maxFindings: number;
  readonly source: HistorySource;
}

const AUDIT_KEYS = ['window', 'filter', 'limit', 'toleranceMs', 'driftMs', 'maxFindings', 'source'];

export function resolveAuditOptions(o: AuditOptions | undefined): ResolvedAudit {
  if (o !== undefined && (typeof o !== 'object' || o === null || Array.isArray(o))) {
    throw new ValidationError('options', 'an object', o);
  }
  const extra = Object.keys(o ?? {}).find((k) => !AUDIT_KEYS.includes(k));
  if (extra !== undefined) throw new ValidationError(extra, `absent (known: ${AUDIT_KEYS.join(', ')})`);
  const w = o?.window;
  if (w !== undefined && (typeof w !== 'object' || w === null || Array.isArray(w))) {
    throw new ValidationError('window', 'an object { from?, to? } (ms since epoch)', w);
  }
  const f = o?.filter;
  if (f !== undefined && (typeof f !== 'object' || f === null || Array.isArray(f))) {
    throw new ValidationError('filter', 'an object { name? }', f);
  }
  return {
    scope: resolveHistoryScope({ from: w?.from, to: w?.to, name: f?.name, limit: o?.limit }),
    toleranceMs: o?.toleranceMs === undefined ? 50 : assertInt(o.toleranceMs, 'toleranceMs', 0, 86_400_000),
    driftMs: o?.driftMs === undefined ? 1000 : assertInt(o.driftMs, 'driftMs', 0, 86_400_000),
    maxFindings: o?.maxFindings === undefined ? 1000 : assertInt(o.maxFindings, 'maxFindings', 0, 100_000),
    source: resolveHistorySource(o?.source),
  };
}

export interface AuditReport {
  readonly queue: string;
  readonly scope: {
    /** Where the jobs were read: the backend (`live`) or the archive. */
    readonly source: HistorySource;
    readonly from: number | null;
    readonly to: number | null;
    readonly name: string | null;
    readonly limit: number;
    readonly read: number;
    readonly truncated: boolean;
  };
  readonly toleranceMs: number;
  /** The drift above which a start is an outlier, as computed for this scope. */
  readonly driftOutlierMs: number;
  readonly checked: {
    readonly jobs: number;
    /** Retries decided after a failure. */
    readonly retries: number;
    /** Of those, recomputed and compared. */
    readonly verified: number;
    /** Jitter with no recorded draw. */
    readonly noDraw: number;
    /** A custom strategy not known here. */
    readonly unknownStrategy: number;
  };
  readonly counts: Readonly<Record<AuditKind, number>>;
  /** At most `maxFindings`, in job order (most recent first), attempt order within a job. */
  readonly findings: readonly AuditFinding[];
  readonly findingsTruncated: boolean;
  readonly summary: readonly string[];
}

const fmt = formatDuration;

/** The far-out fence of a set of drifts (Q3 + 3 × IQR), or undefined for fewer than 4 values. */
export function driftFence(drifts: readonly number[]): number | undefined {
  if (drifts.length < 4) return undefined;
  const s = [...drifts].sort((a, b) => a - b);
  const q1 = percentile(s, 25) as number;
  const q3 = percentile(s, 75) as number;
  return q3 + 3 * (q3 - q1);
}

/** Audits one job: its findings, and what was checked. Pure. */
export function auditJob(
  job: Pick<Job, 'id' | 'name' | 'options' | 'attempts'>,
  o: Pick<ResolvedAudit, 'toleranceMs'> & { readonly driftOutlierMs: number },
  strategies?: Readonly<Record<string, CustomStrategy>>,
): { findings: AuditFinding[]; retries: number; verified: number; noDraw: number; unknownStrategy: number } {
  const findings: AuditFinding[] = [];
  const tol = o.toleranceMs;
  const policy = job.options.retry;
  const base = { jobId: job.id, name: job.name };
  let retries = 0;
  let verified = 0;
  let noDraw = 0;
  let unknownStrategy = 0;
  let failures = 0;
  let counted = 0;
  let prev: number | undefined;
  const recs = job.attempts;
  recs.forEach((rec, i) => {
    const before = recs[i - 1];
    // A dead job run again by a person starts its retry budget afresh (as the replay transition does).
    if (rec.trigger === 'manual' && before?.decision.action === 'dead') {
      failures = 0;
      counted = 0;
      prev = undefined;
    }
    if (rec.trigger !== 'manual' && rec.driftMs > o.driftOutlierMs) {
      findings.push({
        ...base,
        kind: 'drift',
        attempt: rec.n,
        driftMs: rec.driftMs,
        message: `attempt ${rec.n} started ${fmt(rec.driftMs)} after it was due (outliers: over ${fmt(o.driftOutlierMs)})`,
      });
    }
    if (rec.outcome === 'succeeded' || countsAsFailure(rec.outcome)) counted++;
    if (counted > policy.maxAttempts && (rec.outcome === 'succeeded' || countsAsFailure(rec.outcome))) {
      findings.push({
        ...base,
        kind: 'attempts',
        attempt: rec.n,
        attempts: counted,
        maxAttempts: policy.maxAttempts,
        message: `attempt ${rec.n} is attempt ${counted} under a policy of ${policy.maxAttempts}`,
      });
    }
    if (!countsAsFailure(rec.outcome)) return;
    const d = rec.decision;
    const next = recs[i + 1];
    if (d.action === 'retry') {
      retries++;
      const recorded = d.delayMs;
      if (Math.abs(d.nextDueAt - (rec.finishedAt + recorded)) > tol) {
        findings.push({
          ...base,
          kind: 'due',
          attempt: rec.n,
          recordedDelayMs: recorded,
          message: `attempt ${rec.n}: due ${fmt(d.nextDueAt - rec.finishedAt)} after it ended, but the recorded delay is ${fmt(recorded)}`,
        });
      }
      if (next !== undefined && next.trigger !== 'manual') {
        const actual = next.startedAt - rec.finishedAt;
        if (d.source === 'handler' && actual < recorded - tol) {
          findings.push({
            ...base,
            kind: 'retry-after',
            attempt: next.n,
            recordedDelayMs: recorded,
            actualDelayMs: actual,
            message: `attempt ${next.n} started ${fmt(actual)} after attempt ${rec.n}, before the ${fmt(recorded)} its handler asked for (Retry-After)`,
          });
        } else if (next.startedAt < d.nextDueAt - tol) {
          findings.push({
            ...base,
            kind: 'early',
            attempt: next.n,
            recordedDelayMs: recorded,
            actualDelayMs: actual,
            message: `attempt ${next.n} started ${fmt(d.nextDueAt - next.startedAt)} before it was due`,
          });
        }
      }
    }
    // Recompute what the stored policy decides after this failure.
    const custom = policy.phases.find(
      (p) => p.backoff.type === 'custom' && !Object.hasOwn(strategies ?? {}, p.backoff.name),
    );
    const draw = d.action === 'retry' ? d.detail.draw : undefined;
    const jitter = policy.phases.some((p) => hasJitter(p.backoff) && p.backoff.type !== 'custom');
    let drew = false;
    const expected =
      custom !== undefined || d.action === 'cancelled'
        ? undefined
        : decideAfterFailure({
            classification: classificationOf(rec),
            policy,
            failuresBefore: failures,
            prevDelayMs: prev,
            random: () => {
              drew = true;
              return draw ?? 0;
            },
            ...(rec.error !== undefined ? { error: rec.error } : {}),
            strategies,
          });
    failures++;
    if (d.action === 'retry') prev = d.delayMs;
    // The retry budget's part is recorded with the decision: a deferral is not the policy's delay,
    // and a budget dead-letter is the budget's decision, not the policy's.
    const budget = recordedBudget(rec);
    if (budget === 'dead') return;
    const deferred = budget ?? 0;
    if (expected === undefined) {
      if (d.action === 'retry') unknownStrategy++;
      return;
    }
    if (d.action === 'retry' && drew && draw === undefined && jitter) {
      noDraw++;
      return;
    }
    if (d.action === 'retry') verified++;
    if (expected.action !== d.action) {
      const what = (x: { action: string }): string => (x.action === 'retry' ? 'a retry' : 'dead-letter');
      findings.push({
        ...base,
        kind: 'decision',
        attempt: rec.n,
        ...(expected.action === 'retry' ? { expectedDelayMs: expected.delayMs } : {}),
        ...(d.action === 'retry' ? { recordedDelayMs: d.delayMs } : {}),
        message: `attempt ${rec.n}: the policy decides ${what(expected)}, the record says ${what(d)}`,
      });
      return;
    }
    if (
      expected.action === 'retry' &&
      d.action === 'retry' &&
      Math.abs(expected.delayMs - (d.delayMs - deferred)) > tol
    ) {
      const actual = next !== undefined ? { actualDelayMs: next.startedAt - rec.finishedAt } : {};
      findings.push({
        ...base,
        kind: 'delay',
        attempt: rec.n,
        expectedDelayMs: expected.delayMs,
        recordedDelayMs: d.delayMs,
        ...actual,
        message: `after attempt ${rec.n}: expected ${fmt(expected.delayMs)} (${expected.explanation}), recorded ${fmt(d.delayMs)}${deferred > 0 ? ` (${fmt(deferred)} of it deferred by the retry budget)` : ''}`,
      });
    }
  });
  return { findings, retries, verified, noDraw, unknownStrategy };
}

/** The whole audit over jobs already read: pure. */
export function auditReport(
  queue: string,
  read: { readonly jobs: readonly Job[]; readonly truncated: boolean },
  o: ResolvedAudit,
  strategies?: Readonly<Record<string, CustomStrategy>>,
): AuditReport {
  const drifts: number[] = [];
  for (const j of read.jobs) for (const a of j.attempts) if (a.trigger !== 'manual') drifts.push(a.driftMs);
  const fold = auditFold(queue, o, drifts, strategies);
  for (const job of read.jobs) fold.add(job);
  return fold.report(read.truncated);
}

/**
 * {@link auditReport} one job at a time, for jobs streamed in pages (from the archive): the drift
 * fence needs every drift in scope first (`drifts`: of each attempt not triggered by hand), then
 * each job is audited as it comes and only its findings (at most `maxFindings`) are kept.
 */
export function auditFold(
  queue: string,
  o: ResolvedAudit,
  drifts: number[],
  strategies?: Readonly<Record<string, CustomStrategy>>,
): { add(job: Job): void; report(truncated: boolean): AuditReport } {
  const driftOutlierMs = Math.max(o.driftMs, driftFence(drifts) ?? 0);
  const counts = Object.fromEntries(AuditKinds.map((k) => [k, 0])) as Record<AuditKind, number>;
  const findings: AuditFinding[] = [];
  let retries = 0;
  let verified = 0;
  let noDraw = 0;
  let unknownStrategy = 0;
  let read = 0;
  const add = (job: Job): void => {
    read++;
    const r = auditJob(job, { toleranceMs: o.toleranceMs, driftOutlierMs }, strategies);
    retries += r.retries;
    verified += r.verified;
    noDraw += r.noDraw;
    unknownStrategy += r.unknownStrategy;
    for (const f of r.findings) {
      counts[f.kind]++;
      if (findings.length < o.maxFindings) findings.push(f);
    }
  };
  const report = (truncated: boolean): AuditReport => {
    const total = AuditKinds.reduce((n, k) => n + counts[k], 0);
    const n = (v: number): string => v.toLocaleString('en-US');
    const summary = [
      `${n(read)} jobs, ${n(retries)} retries checked (${n(verified)} recomputed, ${n(noDraw)} without a recorded draw, ${n(unknownStrategy)} with an unknown custom strategy)`,
      total === 0
        ? 'no findings: every recomputed delay matches its policy'
        : `${n(total)} findings: ` +
          AuditKinds.filter((k) => counts[k] > 0)
            .map((k) => `${n(counts[k])} ${k}`)
            .join(', '),
    ];
    return {
      queue,
      scope: {
        source: o.source,
        from: o.scope.from ?? null,
        to: o.scope.to ?? null,
        name: o.scope.name ?? null,
        limit: o.scope.limit,
        read,
        truncated,
      },
      toleranceMs: o.toleranceMs,
      driftOutlierMs,
      checked: { jobs: read, retries, verified, noDraw, unknownStrategy },
      counts: { ...counts },
      findings: [...findings],
      findingsTruncated: findings.length < total,
      summary,
    };
  };
  return { add, report };
}

/** For a test or a caller holding jobs: which attempt numbers a kind flagged in one job. */
export function flaggedAttempts(findings: readonly AuditFinding[], kind: AuditKind): number[] {
  return findings.filter((f) => f.kind === kind).map((f) => f.attempt);
}
