/**
 * Retry strategies as pure functions: a backoff and a retry index in, a delay and the sentence
 * that explains it out. The only source of randomness is `ctx.random`, drawn at most once per
 * computation and recorded in `detail.draw`, so every schedule can be reproduced.
 * @module
 */

import { formatDuration, formatDurationRange, formatOffset } from './duration.js';
import { ValidationError } from './errors.js';
import { Jitters } from './types.js';
import type {
  Backoff,
  BackoffType,
  DelayDetail,
  ErrorInfo,
  Jitter,
  ResolvedRetryPolicy,
  RetryPhase,
  RetryPolicy,
} from './types.js';

/** No delay, configured or computed, exceeds one year. */
export const MAX_DELAY_MS = 365 * 24 * 60 * 60 * 1000;
/** No policy allows more attempts than this (the first run included). */
export const MAX_ATTEMPTS = 1000;

export interface DelayContext {
  /** 1-based index of the retry within its phase. */
  retry: number;
  /** The previous retry's chosen delay, for decorrelated jitter. */
  prevDelayMs?: number;
  /** Returns a number in [0, 1). */
  random: () => number;
}

export interface DelayResult {
  /** Integer ms, ≥ 0. */
  delayMs: number;
  explanation: string;
  detail: DelayDetail;
}

export type CustomStrategy = (ctx: {
  retry: number;
  attempt: number;
  prevDelayMs?: number;
  error?: ErrorInfo;
  random: () => number;
}) => number | { delayMs: number; explanation?: string };

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  attempts: 3,
  backoff: Object.freeze({ type: 'exponential', delayMs: 1000, maxDelayMs: 300_000, jitter: 'none' } as const),
});

export type RetryPlan =
  | { action: 'retry'; phase: number; retry: number; delayMs: number; explanation: string; detail: DelayDetail }
  | { action: 'dead'; reason: 'exhausted'; explanation: string };

export interface PreviewStep {
  /** The attempt number the retry starts (2, 3, …). */
  attempt: number;
  phase: number;
  delayMs: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Cumulative offset from the first failure, summing `delayMs` (run time ignored). */
  atMs: number;
  explanation: string;
}

export interface PolicyPreview {
  maxAttempts: number;
  steps: PreviewStep[];
  then: 'dead-letter';
  summary: string;
}

const fmt = formatDuration;

// ---------------------------------------------------------------------------------------------
// Delay computation

/**
 * The delay before the `ctx.retry`-th retry of a phase using `backoff`.
 * `ctx.attempt` (the attempt that just failed, passed to custom strategies) defaults to `ctx.retry`.
 * @throws ValidationError for an unknown custom strategy, a custom strategy returning a bad value,
 *   a `random` returning a value outside [0, 1), or a retry index that is not an integer ≥ 1.
 */
export function computeBackoff(
  backoff: Backoff,
  ctx: DelayContext & { attempt?: number; error?: ErrorInfo },
  strategies?: Readonly<Record<string, CustomStrategy>>,
): DelayResult {
  const k = ctx.retry;
  if (!Number.isInteger(k) || k < 1) throw new ValidationError('retry', 'an integer >= 1', k);
  switch (backoff.type) {
    case 'immediate':
      return { delayMs: 0, explanation: 'immediate: retry at once', detail: { strategy: 'immediate', retry: k } };
    case 'fixed':
      return {
        delayMs: backoff.delayMs,
        explanation: `fixed: ${fmt(backoff.delayMs)}`,
        detail: { strategy: 'fixed', retry: k, baseMs: backoff.delayMs },
      };
    case 'linear': {
      const stepMs = backoff.stepMs ?? backoff.delayMs;
      const rawMs = backoff.delayMs + stepMs * (k - 1);
      const cap = applyCap(rawMs, backoff.maxDelayMs);
      return {
        delayMs: cap.value,
        explanation: `linear: ${fmt(backoff.delayMs)} + ${k - 1} × ${fmt(stepMs)} = ${fmt(rawMs)}${cap.note}`,
        detail: { strategy: 'linear', retry: k, baseMs: backoff.delayMs, stepMs, rawMs, ...cap.detail },
      };
    }
    case 'exponential':
      return exponential(backoff, ctx);
    case 'custom':
      return custom(backoff.name, ctx, strategies);
  }
}

type ExponentialBackoff = Extract<Backoff, { type: 'exponential' }>;

function exponential(b: ExponentialBackoff, ctx: DelayContext): DelayResult {
  const k = ctx.retry;
  const base = b.delayMs;
  const factor = b.factor ?? 2;
  const jitter: Jitter = b.jitter ?? 'none';
  if (jitter === 'decorrelated') return decorrelated(b, ctx);
  const rawMs = exponentialRaw(base, factor, k);
  const cap = applyCap(rawMs, b.maxDelayMs);
  const head = `exponential: ${fmt(base)} × ${factor}^${k - 1} = ${fmt(rawMs)}${cap.note}`;
  const detail = { strategy: 'exponential', retry: k, baseMs: base, factor, rawMs, ...cap.detail, jitter } as const;
  if (jitter === 'none') return { delayMs: cap.value, explanation: head, detail };
  const u = draw(ctx);
  const delayMs = jitter === 'full' ? Math.floor(cap.value * u) : Math.floor(cap.value / 2 + (u * cap.value) / 2);
  return { delayMs, explanation: `${head}, ${jitter} jitter → ${fmt(delayMs)}`, detail: { ...detail, draw: u } };
}

/** AWS "decorrelated jitter": uniform between the base and 3 × the previous delay, then capped. */
function decorrelated(b: ExponentialBackoff, ctx: DelayContext): DelayResult {
  const base = b.delayMs;
  const prev = validPrev(ctx.prevDelayMs) ?? base;
  const tripled = prev * 3;
  const upper = Math.max(base, tripled);
  const u = draw(ctx);
  const rawMs = Math.floor(base + u * (upper - base));
  const cap = applyCap(rawMs, b.maxDelayMs);
  const range =
    tripled >= base
      ? `3 × ${fmt(prev)} = ${fmt(tripled)}`
      : `${fmt(base)} (3 × ${fmt(prev)} = ${fmt(tripled)} is below the base)`;
  return {
    delayMs: cap.value,
    explanation: `exponential, decorrelated jitter: between ${fmt(base)} and ${range} → ${fmt(rawMs)}${cap.capped ? cap.note : ''}`,
    detail: { strategy: 'exponential', retry: ctx.retry, baseMs: base, rawMs, ...cap.detail, jitter: 'decorrelated', draw: u },
  };
}

function exponentialRaw(base: number, factor: number, k: number): number {
  if (base === 0) return 0;
  return Math.round(Math.min(base * factor ** (k - 1), Number.MAX_VALUE));
}

function validPrev(prev: number | undefined): number | undefined {
  return typeof prev === 'number' && Number.isFinite(prev) && prev >= 0 ? prev : undefined;
}

/** A configured cap, or the one-year limit when none is configured. */
function applyCap(raw: number, cap: number | undefined) {
  if (cap !== undefined) {
    const capped = raw > cap;
    return {
      value: capped ? cap : raw,
      capped,
      note: capped ? `, capped at ${fmt(cap)}` : ` (cap ${fmt(cap)})`,
      detail: { capMs: cap, capped },
    };
  }
  const capped = raw > MAX_DELAY_MS;
  return {
    value: capped ? MAX_DELAY_MS : raw,
    capped,
    note: capped ? `, capped at ${fmt(MAX_DELAY_MS)} (the limit)` : '',
    detail: capped ? { capMs: MAX_DELAY_MS, capped } : { capped },
  };
}

function draw(ctx: DelayContext): number {
  const u = ctx.random();
  if (typeof u !== 'number' || !(u >= 0 && u < 1)) {
    throw new ValidationError('random', 'a function returning a number in [0, 1)', u);
  }
  return u;
}

function custom(
  name: string,
  ctx: DelayContext & { attempt?: number; error?: ErrorInfo },
  strategies: Readonly<Record<string, CustomStrategy>> | undefined,
): DelayResult {
  const fn = strategies !== undefined && Object.hasOwn(strategies, name) ? strategies[name] : undefined;
  if (typeof fn !== 'function') {
    const known = Object.keys(strategies ?? {});
    const list = known.length > 0 ? known.join(', ') : 'none';
    throw new ValidationError('retry.backoff.name', `a strategy registered on the worker (known: ${list})`, name);
  }
  const prev = validPrev(ctx.prevDelayMs);
  const out = fn({
    retry: ctx.retry,
    attempt: ctx.attempt ?? ctx.retry,
    random: ctx.random,
    ...(prev !== undefined ? { prevDelayMs: prev } : {}),
    ...(ctx.error !== undefined ? { error: ctx.error } : {}),
  });
  const value: unknown = typeof out === 'object' && out !== null ? out.delayMs : out;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DELAY_MS) {
    throw new ValidationError(
      `strategies.${name}`,
      'a function returning a finite number of ms between 0 and 1 year, or { delayMs, explanation? }',
      value,
    );
  }
  const delayMs = Math.round(value);
  const own = typeof out === 'object' && out !== null ? out.explanation : undefined;
  return {
    delayMs,
    explanation: typeof own === 'string' && own !== '' ? own : `custom ${JSON.stringify(name)}: ${fmt(delayMs)}`,
    detail: { strategy: 'custom', retry: ctx.retry },
  };
}

// ---------------------------------------------------------------------------------------------
// Policy validation

const BACKOFF_KEYS: Readonly<Record<BackoffType, readonly string[]>> = {
  immediate: ['type'],
  fixed: ['type', 'delayMs'],
  linear: ['type', 'delayMs', 'stepMs', 'maxDelayMs'],
  exponential: ['type', 'delayMs', 'factor', 'maxDelayMs', 'jitter'],
  custom: ['type', 'name'],
};
const IMMEDIATE: Backoff = Object.freeze({ type: 'immediate' });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknown(obj: Record<string, unknown>, allowed: readonly string[], field: string, what: string): void {
  for (const key of Object.keys(obj)) {
    if (obj[key] !== undefined && !allowed.includes(key)) {
      throw new ValidationError(`${field}.${key}`, `absent (not a known option ${what})`);
    }
  }
}

function ms(v: unknown, field: string, min = 0, rule = 'an integer >= 0 (milliseconds)'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ValidationError(field, rule, v);
  if (v > MAX_DELAY_MS) throw new ValidationError(field, `at most 1 year (${MAX_DELAY_MS} ms)`, v);
  return v;
}

function resolveBackoff(v: unknown, field: string): Backoff {
  if (!isRecord(v)) throw new ValidationError(field, 'an object with a type', v);
  const t = v.type;
  if (typeof t !== 'string' || !Object.hasOwn(BACKOFF_KEYS, t)) {
    throw new ValidationError(`${field}.type`, 'one of immediate, fixed, linear, exponential, custom', t);
  }
  const type = t as BackoffType;
  rejectUnknown(v, BACKOFF_KEYS[type], field, `of a ${type} backoff`);
  switch (type) {
    case 'immediate':
      return IMMEDIATE;
    case 'fixed':
      return Object.freeze({ type, delayMs: ms(v.delayMs, `${field}.delayMs`) });
    case 'linear': {
      const delayMs = ms(v.delayMs, `${field}.delayMs`);
      const stepMs = v.stepMs === undefined ? delayMs : ms(v.stepMs, `${field}.stepMs`);
      const maxDelayMs = maxDelay(v.maxDelayMs, delayMs, field);
      return Object.freeze({ type, delayMs, stepMs, ...(maxDelayMs !== undefined ? { maxDelayMs } : {}) });
    }
    case 'exponential': {
      const delayMs = ms(v.delayMs, `${field}.delayMs`);
      const factor = v.factor ?? 2;
      if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
        throw new ValidationError(`${field}.factor`, 'a finite number >= 1', factor);
      }
      const maxDelayMs = maxDelay(v.maxDelayMs, delayMs, field);
      const jitter = v.jitter ?? 'none';
      if (typeof jitter !== 'string' || !(Jitters as readonly string[]).includes(jitter)) {
        throw new ValidationError(`${field}.jitter`, `one of ${Jitters.join(', ')}`, jitter);
      }
      return Object.freeze({
        type,
        delayMs,
        factor,
        ...(maxDelayMs !== undefined ? { maxDelayMs } : {}),
        jitter: jitter as Jitter,
      });
    }
    case 'custom': {
      if (typeof v.name !== 'string' || v.name === '') throw new ValidationError(`${field}.name`, 'a non-empty string', v.name);
      return Object.freeze({ type, name: v.name });
    }
  }
}

function maxDelay(v: unknown, delayMs: number, field: string): number | undefined {
  return v === undefined ? undefined : ms(v, `${field}.maxDelayMs`, delayMs, `an integer >= delayMs (${delayMs})`);
}

function resolvePhase(v: unknown, field: string): RetryPhase {
  if (!isRecord(v)) throw new ValidationError(field, 'an object { retries, backoff }', v);
  rejectUnknown(v, ['retries', 'backoff'], field, 'of a phase');
  const retries = v.retries;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0) {
    throw new ValidationError(`${field}.retries`, 'an integer >= 0', retries);
  }
  return Object.freeze({ retries, backoff: resolveBackoff(v.backoff, `${field}.backoff`) });
}

/**
 * Validate a policy as users write it (or an already-resolved one) and normalise it to phases:
 * `{ attempts, backoff }` becomes one phase of `attempts − 1` retries (backoff defaults to immediate);
 * backoffs get their defaults filled in (`factor` 2, `jitter` none, linear `stepMs`).
 * `undefined` gives {@link DEFAULT_RETRY_POLICY}. The result is deeply frozen.
 * @throws ValidationError naming the field under `field` (such as `retry.phases[1].retries`).
 */
export function resolveRetryPolicy(
  policy: RetryPolicy | ResolvedRetryPolicy | undefined | unknown,
  field = 'retry',
): ResolvedRetryPolicy {
  const p: unknown = policy ?? DEFAULT_RETRY_POLICY;
  if (!isRecord(p) || (p.phases === undefined && p.attempts === undefined)) {
    throw new ValidationError(field, 'an object with attempts (and backoff) or phases', p);
  }
  if (p.phases !== undefined && p.attempts !== undefined) {
    throw new ValidationError(field, 'either { attempts, backoff } or { phases }, not both');
  }
  let phases: RetryPhase[];
  if (p.phases !== undefined) {
    rejectUnknown(p, ['phases', 'maxAttempts'], field, 'of a retry policy');
    if (!Array.isArray(p.phases)) throw new ValidationError(`${field}.phases`, 'an array of { retries, backoff }', p.phases);
    phases = p.phases.map((ph: unknown, i) => resolvePhase(ph, `${field}.phases[${i}]`));
  } else {
    rejectUnknown(p, ['attempts', 'backoff'], field, 'of a retry policy');
    const a = p.attempts;
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 1) throw new ValidationError(`${field}.attempts`, 'an integer >= 1', a);
    if (a > MAX_ATTEMPTS) throw new ValidationError(`${field}.attempts`, `at most ${MAX_ATTEMPTS}`, a);
    const backoff = p.backoff === undefined ? IMMEDIATE : resolveBackoff(p.backoff, `${field}.backoff`);
    phases = [Object.freeze({ retries: a - 1, backoff })];
  }
  const maxAttempts = 1 + phases.reduce((n, ph) => n + ph.retries, 0);
  if (maxAttempts > MAX_ATTEMPTS) {
    throw new ValidationError(`${field}.phases`, `at most ${MAX_ATTEMPTS - 1} retries in total`, maxAttempts - 1);
  }
  if (p.maxAttempts !== undefined && p.maxAttempts !== maxAttempts) {
    throw new ValidationError(`${field}.maxAttempts`, `1 + the sum of the phases' retries (${maxAttempts})`, p.maxAttempts);
  }
  return Object.freeze({ phases: Object.freeze(phases), maxAttempts });
}

// ---------------------------------------------------------------------------------------------
// Planning and preview

/**
 * What to do after `attemptsMade` attempts (the last of which just failed): the `attemptsMade`-th
 * retry overall, or dead-letter when attempts are exhausted. Phases with 0 retries are skipped.
 * `ctx.prevDelayMs` is only used within a phase: the first retry of a phase ignores it.
 */
export function planRetry(
  policy: ResolvedRetryPolicy,
  attemptsMade: number,
  ctx: { prevDelayMs?: number; random: () => number; error?: ErrorInfo },
  strategies?: Readonly<Record<string, CustomStrategy>>,
): RetryPlan {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) {
    throw new ValidationError('attemptsMade', 'an integer >= 1', attemptsMade);
  }
  let before = 0;
  if (attemptsMade < policy.maxAttempts) {
    for (const [i, phase] of policy.phases.entries()) {
      if (attemptsMade <= before + phase.retries) {
        const k = attemptsMade - before;
        const r = computeBackoff(
          phase.backoff,
          {
            retry: k,
            attempt: attemptsMade,
            random: ctx.random,
            ...(k > 1 && ctx.prevDelayMs !== undefined ? { prevDelayMs: ctx.prevDelayMs } : {}),
            ...(ctx.error !== undefined ? { error: ctx.error } : {}),
          },
          strategies,
        );
        const prefix = policy.phases.length > 1 ? `phase ${i + 1} of ${policy.phases.length}: ` : '';
        return {
          action: 'retry',
          phase: i,
          retry: k,
          delayMs: r.delayMs,
          explanation: prefix + r.explanation,
          detail: { ...r.detail, phase: i },
        };
      }
      before += phase.retries;
    }
  }
  // Also reached by a policy whose maxAttempts exceeds its phases (not one resolveRetryPolicy returns).
  const used = `${attemptsMade} of ${policy.maxAttempts} used`;
  return { action: 'dead', reason: 'exhausted', explanation: `attempts exhausted: ${used}` };
}

/** The range of delays jitter can produce for the k-th retry of a phase (deterministic: both = delay). */
function delayBounds(b: Backoff, k: number, prev: number | undefined, delayMs: number): [number, number] {
  if (b.type !== 'exponential' || (b.jitter ?? 'none') === 'none') return [delayMs, delayMs];
  const cap = b.maxDelayMs ?? MAX_DELAY_MS;
  if (b.jitter === 'decorrelated') {
    const upper = Math.max(b.delayMs, 3 * (validPrev(prev) ?? b.delayMs));
    return [Math.min(b.delayMs, cap), Math.min(upper, cap)];
  }
  const capped = Math.min(exponentialRaw(b.delayMs, b.factor ?? 2, k), cap);
  return b.jitter === 'full' ? [0, capped] : [Math.floor(capped / 2), capped];
}

/**
 * Every retry the policy would make, with the delay chosen by `random` (default `() => 0.5`),
 * the bounds jitter allows, the cumulative offset from the first failure, and a one-line summary.
 */
export function previewPolicy(
  policy: RetryPolicy | ResolvedRetryPolicy,
  opts: { random?: () => number; strategies?: Readonly<Record<string, CustomStrategy>> } = {},
): PolicyPreview {
  const resolved = resolveRetryPolicy(policy);
  const random = opts.random ?? (() => 0.5);
  const steps: PreviewStep[] = [];
  let prev: number | undefined;
  let atMs = 0;
  for (let made = 1; made < resolved.maxAttempts; made++) {
    const plan = planRetry(resolved, made, { random, ...(prev !== undefined ? { prevDelayMs: prev } : {}) }, opts.strategies);
    if (plan.action !== 'retry') break;
    const backoff = resolved.phases[plan.phase]?.backoff ?? IMMEDIATE;
    const [minDelayMs, maxDelayMs] = delayBounds(backoff, plan.retry, plan.retry > 1 ? prev : undefined, plan.delayMs);
    atMs += plan.delayMs;
    steps.push({ attempt: made + 1, phase: plan.phase, delayMs: plan.delayMs, minDelayMs, maxDelayMs, atMs, explanation: plan.explanation });
    prev = plan.delayMs;
  }
  return { maxAttempts: resolved.maxAttempts, steps, then: 'dead-letter', summary: summarise(steps) };
}

/** Lists shown in a summary are cut to the first 6, `…`, and the last when longer than this. */
const SUMMARY_MAX_ITEMS = 8;

/**
 * Without jitter, cumulative offsets: `will retry at +5 s, +15 s, +35 s, then dead-letter`.
 * With jitter anywhere, each retry's own delay range: `will retry after 0–5 s, then 0–10 s, then dead-letter`.
 * More than 8 retries: the first 6, `…`, the last: `will retry 20 times at +1 s, +3 s, …, +2 h, then dead-letter`.
 */
function summarise(steps: readonly PreviewStep[]): string {
  if (steps.length === 0) return 'no retries: the first failure dead-letters';
  const ranged = steps.some((s) => s.minDelayMs !== s.maxDelayMs);
  const items = steps.map((s) => (ranged ? formatDurationRange(s.minDelayMs, s.maxDelayMs) : formatOffset(s.atMs)));
  const sep = ranged ? ', then ' : ', ';
  const long = items.length > SUMMARY_MAX_ITEMS;
  const list = long
    ? `${items.slice(0, 6).join(sep)}, …${sep}${items[items.length - 1] ?? ''}`
    : items.join(sep);
  const count = long ? ` ${items.length} times` : '';
  return `will retry${count} ${ranged ? 'after' : 'at'} ${list}, then dead-letter`;
}
