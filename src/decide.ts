/**
 * The retry decision: what follows an attempt that did not succeed, as pure functions of what is
 * known when it ends (how the failure was classified, the job's retry policy, its failures so far,
 * the previous delay, a random source, the error, the registered custom strategies). No backend, no
 * clock, no worker: the Worker calls them for every attempt, and a what-if simulator can replay
 * recorded histories through exactly the same functions.
 *
 * Also here: where the classification of a job's failures comes from ({@link jobClassifier}).
 * @module
 */
import type { FinishDecision } from './backend.js';
import { MAX_DELAY_MS, planRetry, type CustomStrategy } from './backoff.js';
import { resolveClassifyOptions, type Classification, type ResolvedClassifyOptions } from './classify.js';
import { formatDuration } from './duration.js';
import { DEFAULT_RATE_LIMIT_PAUSE_MS, MAX_RATE_LIMIT_PAUSE_MS } from './rate-limit.js';
import type { ErrorInfo, JobOptionsStored, RateLimitPause, ResolvedRetryPolicy } from './types.js';

/** What follows a failure: a retry after a delay, or the dead-letter queue. */
export type FailureDecision = Exclude<FinishDecision, { action: 'done' }>;

/** Everything {@link decideAfterFailure} needs: plain data and a random source. */
export interface FailureInput {
  /** How the failure was classified (`classifyError`'s result, or a recorded class and rule). */
  readonly classification: Classification;
  /** The job's retry policy, as stored with the job. */
  readonly policy: ResolvedRetryPolicy;
  /** Failed attempts the policy counted before this one (the claimed job's `failures`). */
  readonly failuresBefore: number;
  /** The delay chosen before the attempt that failed, for decorrelated jitter. */
  readonly prevDelayMs?: number | undefined;
  /** Returns a number in [0, 1): the only randomness (jitter, custom strategies). */
  readonly random: () => number;
  /** The failure as stored, handed to custom strategies. */
  readonly error?: ErrorInfo | undefined;
  /** Custom strategies by name, for `{ type: 'custom', name }` backoffs. */
  readonly strategies?: Readonly<Record<string, CustomStrategy>> | undefined;
}

/**
 * The decision after a failed or timed-out attempt. In order:
 * - a permanent failure is dead-lettered (`permanent`), whatever the policy;
 * - the policy is planned for `failuresBefore + 1` failures: exhausted → dead (`exhausted`);
 * - a delay the failure asked for (`retryAfterMs`) replaces the policy's, capped at a year
 *   (`source: 'handler'`); otherwise the policy's delay (`source: 'policy'`);
 * - a policy that cannot choose a delay (an unknown custom strategy, one that throws or returns a
 *   bad value) dead-letters the job as `permanent`, saying why.
 */
export function decideAfterFailure(input: FailureInput): FailureDecision {
  const cls = input.classification;
  if (cls.errorClass === 'permanent') {
    return { action: 'dead', reason: 'permanent', explanation: `permanent error (${cls.rule}): not retried` };
  }
  const ctx = { prevDelayMs: input.prevDelayMs, random: input.random, error: input.error };
  let plan;
  try {
    plan = planRetry(input.policy, input.failuresBefore + 1, ctx, input.strategies);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return {
      action: 'dead',
      reason: 'permanent',
      explanation: `the retry policy could not choose a delay: ${why}`,
    };
  }
  if (plan.action === 'dead') return { action: 'dead', reason: 'exhausted', explanation: plan.explanation };
  if (cls.retryAfterMs === undefined) {
    return {
      action: 'retry',
      delayMs: plan.delayMs,
      source: 'policy',
      explanation: plan.explanation,
      detail: plan.detail,
    };
  }
  // A handler's wish is honoured up to the same one-year bound as any policy delay.
  const wanted = Math.min(Math.round(cls.retryAfterMs), MAX_DELAY_MS);
  const policyWait = formatDuration(plan.delayMs);
  return {
    action: 'retry',
    delayMs: wanted,
    source: 'handler',
    explanation: `handler asked to retry after ${formatDuration(wanted)} (${cls.rule}); the policy would have waited ${policyWait}`,
    detail: { strategy: 'handler', phase: plan.phase, retry: plan.retry },
  };
}

/** How an `interrupted` attempt is recorded: not the job's fault, so no classification is made. */
export const INTERRUPTED_CLASSIFICATION: Readonly<Classification> = Object.freeze({
  errorClass: 'temporary',
  rule: 'shutdown',
});

const INTERRUPTED_DECISION: FailureDecision = Object.freeze({
  action: 'retry',
  delayMs: 0,
  source: 'policy',
  explanation:
    'worker closed before the attempt finished: given back at once, not counted against the retry budget',
  detail: Object.freeze({ strategy: 'immediate' }),
});

/**
 * The decision after an `interrupted` attempt (its worker shut down before it finished, or before
 * it started): given back at once, no retry budget spent. The same for every job.
 */
export function interruptedDecision(): FailureDecision {
  return INTERRUPTED_DECISION;
}

/** The classification a job's failures get, and whose it is. */
export interface JobClassifier {
  readonly options: ResolvedClassifyOptions;
  /**
   * `job`: the table and default class stored with the job when it was added (every worker
   * classifies it the same way). `worker`: the job carries none (added by an older version, or by a
   * bare backend call), so the running worker's queue options classify it.
   */
  readonly source: 'job' | 'worker';
}

/**
 * Where a job's classification comes from: the table stored with the job at add time, or, for a
 * job that carries none (or an unreadable one), the worker's own (`fallback`).
 */
export function jobClassifier(
  stored: Pick<JobOptionsStored, 'classify'>,
  fallback: ResolvedClassifyOptions,
): JobClassifier {
  if (stored.classify === undefined) return { options: fallback, source: 'worker' };
  try {
    return { options: resolveClassifyOptions(stored.classify), source: 'job' };
  } catch {
    return { options: fallback, source: 'worker' };
  }
}

/** The limit on a job's stored result: the one stored with the job, else the worker's own. */
export function jobResultLimit(stored: Pick<JobOptionsStored, 'maxResultBytes'>, fallback: number): number {
  const own = stored.maxResultBytes;
  return typeof own === 'number' && Number.isInteger(own) && own >= 2 ? own : fallback;
}

/** What {@link decideAfterRateLimit} needs: the handler's error fields and the job's group. */
export interface RateLimitInput {
  /** The error's `retryAfterMs` (anything: a non-number or a negative gets the default pause). */
  readonly retryAfterMs: unknown;
  /** The error's `scope` (anything other than `queue` is `group`). */
  readonly scope: unknown;
  /** The job's group, if it has one. */
  readonly group: string | undefined;
}

/** The decision after a `rate_limited` attempt, and the pause it asks the backend for. */
export interface RateLimitDecision {
  readonly classification: Classification;
  readonly decision: FailureDecision;
  readonly pause: RateLimitPause;
}

/** The rule recorded on a `rate_limited` attempt. */
export const RATE_LIMIT_RULE = 'rate-limit';

/**
 * After a handler threw a `RateLimitError`: its group (or, for scope `queue` or a job without a
 * group, its queue) pauses for `retryAfterMs` (rounded; a day at most; 1 s when not a number ≥ 0),
 * and the job waits again at once, behind its peers, with its retry budget untouched (outcome
 * `rate_limited` does not count as a failure and keeps the previous delay).
 */
export function decideAfterRateLimit(input: RateLimitInput): RateLimitDecision {
  const raw = input.retryAfterMs;
  const usable = typeof raw === 'number' && Number.isFinite(raw) && raw >= 0;
  const ms = usable ? Math.min(Math.round(raw), MAX_RATE_LIMIT_PAUSE_MS) : DEFAULT_RATE_LIMIT_PAUSE_MS;
  const note = !usable
    ? ` (no usable retryAfterMs: ${formatDuration(ms)})`
    : ms < Math.round(raw)
      ? ` (asked ${formatDuration(Math.round(raw))}, capped at ${formatDuration(ms)})`
      : '';
  const wantsGroup = input.scope !== 'queue';
  const group = wantsGroup ? input.group : undefined;
  const what =
    group !== undefined
      ? `group ${group} paused`
      : wantsGroup
        ? 'the queue (the job has no group) paused'
        : 'the queue paused';
  return {
    classification: { errorClass: 'temporary', rule: RATE_LIMIT_RULE },
    decision: {
      action: 'retry',
      delayMs: 0,
      source: 'handler',
      explanation: `the handler hit a rate limit: ${what} for ${formatDuration(ms)}${note}; the job waits again, not counted against the retry budget`,
      detail: { strategy: 'rate-limit' },
    },
    pause: group !== undefined ? { scope: 'group', group, ms } : { scope: 'queue', ms },
  };
}
