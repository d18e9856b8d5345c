/**
 * Retry strategies as pure functions: a backoff and a retry index in, a delay and the sentence
 * that explains it out. The only source of randomness is `ctx.random`, drawn at most once per
 * computation and recorded in `detail.draw`, so every schedule can be reproduced.
 * @module
 */

import { formatDuration as fmt, formatDurationRange, formatOffset } from './duration.js';
import { ValidationError } from './errors.js';
import { Jitters } from './types.js';
import type { Backoff, BackoffType, DelayDetail, ErrorInfo, Jitter } from './types.js';
import type { ResolvedRetryPolicy, RetryPhase, RetryPolicy } from './types.js';
import { checkText, MAX_DURATION_MS, Rules } from './validate.js';

/** No delay, configured or computed, exceeds one year. */
export const MAX_DELAY_MS = MAX_DURATION_MS;
/** No policy allows more attempts than this (the first run included). */
export const MAX_ATTEMPTS = 1000;

/**
 * `retry`: 1-based index within its phase; `prevDelayMs`: the previous retry's delay (decorrelated);
 * `random`: returns a number in [0, 1).
 */
export interface DelayContext {
  retry: number;
  prevDelayMs?: number;
  random: () => number;
}

/** `delayMs` is whole milliseconds, ≥ 0. */
export interface DelayResult {
  delayMs: number;
  explanation: string;
  detail: DelayDetail;
}

/** What a custom strategy receives; `attempt` is the attempt that just failed. */
export interface CustomStrategyContext {
  retry: number;
  attempt: number;
  prevDelayMs?: number;
  error?: ErrorInfo;
  random: () => number;
}
export type CustomStrategyResult = number | { delayMs: number; explanation?: string };
export type CustomStrategy = (ctx: CustomStrategyContext) => CustomStrategyResult;
type Strategies = Readonly<Record<string, CustomStrategy>>;

const DEFAULT_BACKOFF = { type: 'exponential', delayMs: 1000, maxDelayMs: 300_000, jitter: 'none' } as const;
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  attempts: 3,
  backoff: Object.freeze(DEFAULT_BACKOFF),
});

type PlannedRetry = { action: 'retry'; phase: number; retry: number; delayMs: number; explanation: string };
/** A retry (`phase` 0-based, `retry` the index within the phase) or dead-letter. */
export type RetryPlan =
  (PlannedRetry & { detail: DelayDetail }) | { action: 'dead'; reason: 'exhausted'; explanation: string };

/** `attempt`: the attempt the retry starts (2, 3, …); `atMs`: Σ delayMs since the first failure. */
export interface PreviewStep {
  attempt: number;
  phase: number;
  delayMs: number;
  minDelayMs: number;
  maxDelayMs: number;
  atMs: number;
  explanation: string;
}

export interface PolicyPreview {
  maxAttempts: number;
  steps: PreviewStep[];
  then: 'dead-letter';
  summary: string;
}

function fail(field: string, rule: string, received?: unknown): never {
  throw new ValidationError(field, rule, received);
}

function result(delayMs: number, explanation: string, detail: DelayDetail): DelayResult {
  return { delayMs, explanation, detail };
}

/**
 * The delay before the `ctx.retry`-th retry of a phase using `backoff`.
 * `ctx.attempt` (passed to custom strategies) defaults to `ctx.retry`.
 * @throws ValidationError for an unknown custom strategy or a bad value from one, a `random`
 *   returning a value outside [0, 1), or a retry index that is not an integer ≥ 1.
 */
export function computeBackoff(
  backoff: Backoff,
  ctx: DelayContext & { attempt?: number; error?: ErrorInfo },
  strategies?: Strategies,
): DelayResult {
  const k = ctx.retry;
  if (!Number.isInteger(k) || k < 1) fail('retry', 'an integer >= 1', k);
  switch (backoff.type) {
    case 'immediate':
      return result(0, 'immediate: retry at once', { strategy: 'immediate', retry: k });
    case 'fixed': {
      const baseMs = backoff.delayMs;
      return result(baseMs, `fixed: ${fmt(baseMs)}`, { strategy: 'fixed', retry: k, baseMs });
    }
    case 'linear': {
      const { delayMs: baseMs, stepMs = baseMs } = backoff;
      const rawMs = baseMs + stepMs * (k - 1);
      const cap = applyCap(rawMs, backoff.maxDelayMs);
      const text = `linear: ${fmt(baseMs)} + ${k - 1} × ${fmt(stepMs)} = ${fmt(rawMs)}${cap.note}`;
      return result(cap.value, text, { strategy: 'linear', retry: k, baseMs, stepMs, rawMs, ...cap.detail });
    }
    case 'exponential':
      return exponential(backoff, ctx);
    case 'custom':
      return custom(backoff.name, ctx, strategies);
  }
}

type ExponentialBackoff = Extract<Backoff, { type: 'exponential' }>;

function exponential(b: ExponentialBackoff, ctx: DelayContext): DelayResult {
  const { delayMs: baseMs, factor = 2, jitter = 'none' } = b;
  if (jitter === 'decorrelated') return decorrelated(b, ctx);
  const k = ctx.retry;
  const rawMs = exponentialRaw(baseMs, factor, k);
  const cap = applyCap(rawMs, b.maxDelayMs);
  const head = `exponential: ${fmt(baseMs)} × ${factor}^${k - 1} = ${fmt(rawMs)}${cap.note}`;
  const detail = { strategy: 'exponential', retry: k, baseMs, factor, rawMs, ...cap.detail, jitter } as const;
  if (jitter === 'none') return result(cap.value, head, detail);
  const u = draw(ctx);
  const delayMs = Math.floor(jitter === 'full' ? cap.value * u : cap.value / 2 + (u * cap.value) / 2);
  return result(delayMs, `${head}, ${jitter} jitter → ${fmt(delayMs)}`, { ...detail, draw: u });
}

/** AWS "decorrelated jitter": uniform between the base and 3 × the previous delay, then capped. */
function decorrelated(b: ExponentialBackoff, ctx: DelayContext): DelayResult {
  const baseMs = b.delayMs;
  const prev = validPrev(ctx.prevDelayMs) ?? baseMs;
  const tripled = prev * 3;
  const u = draw(ctx);
  const rawMs = Math.floor(baseMs + u * (Math.max(baseMs, tripled) - baseMs));
  const cap = applyCap(rawMs, b.maxDelayMs);
  const upper = `3 × ${fmt(prev)} = ${fmt(tripled)}`;
  const range = tripled >= baseMs ? upper : `${fmt(baseMs)} (${upper} is below the base)`;
  const text = `between ${fmt(baseMs)} and ${range} → ${fmt(rawMs)}${cap.capped ? cap.note : ''}`;
  const common = { strategy: 'exponential', retry: ctx.retry, baseMs, rawMs } as const;
  const detail = { ...common, ...cap.detail, jitter: 'decorrelated', draw: u } as const;
  return result(cap.value, `exponential, decorrelated jitter: ${text}`, detail);
}

function exponentialRaw(base: number, factor: number, k: number): number {
  return base === 0 ? 0 : Math.round(Math.min(base * factor ** (k - 1), Number.MAX_VALUE));
}

const validPrev = (v: number | undefined) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;

/** A configured cap, or the one-year limit when none is configured. */
function applyCap(raw: number, cap: number | undefined) {
  const limit = cap ?? MAX_DELAY_MS;
  const capped = raw > limit;
  const value = capped ? limit : raw;
  let note = capped ? `, capped at ${fmt(limit)}` : '';
  if (cap === undefined && capped) note += ' (the limit)';
  if (cap !== undefined && !capped) note = ` (cap ${fmt(cap)})`;
  return { value, capped, note, detail: cap !== undefined || capped ? { capMs: limit, capped } : { capped } };
}

function draw(ctx: DelayContext): number {
  const u = ctx.random();
  if (typeof u === 'number' && u >= 0 && u < 1) return u;
  return fail('random', 'a function returning a number in [0, 1)', u);
}

function custom(
  name: string,
  ctx: DelayContext & { attempt?: number; error?: ErrorInfo },
  strategies: Strategies | undefined,
): DelayResult {
  const fn = strategies !== undefined && Object.hasOwn(strategies, name) ? strategies[name] : undefined;
  if (typeof fn !== 'function') {
    const known = Object.keys(strategies ?? {}).join(', ') || 'none';
    // Strategies are functions, so they are known only where they were given: the worker that runs
    // the job, or a preview handed them (Queue/Worker `strategies` options, `preview(p, { strategies })`).
    fail(
      'retry.backoff.name',
      `the name of a custom strategy passed as strategies to the Worker, the Queue or preview (known: ${known})`,
      name,
    );
  }
  const { retry, attempt = retry, random, error } = ctx;
  const prevDelayMs = validPrev(ctx.prevDelayMs);
  const out = fn({ retry, attempt, random, ...defined({ prevDelayMs, error }) });
  const isObj = typeof out === 'object' && out !== null;
  const value: unknown = isObj ? out.delayMs : out;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DELAY_MS) {
    fail(`strategies.${name}`, 'a function returning ms between 0 and 1 year (or { delayMs })', value);
  }
  const delayMs = Math.round(value);
  const own = isObj ? out.explanation : undefined;
  const explanation =
    typeof own === 'string' && own !== '' ? own : `custom ${JSON.stringify(name)}: ${fmt(delayMs)}`;
  return { delayMs, explanation, detail: { strategy: 'custom', retry: ctx.retry } };
}

/** The object without its undefined properties (for optional fields). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

// Policy validation --------------------------------------------------------------------------------

/** The keys of a backoff, over every type. */
export type BackoffKey = 'type' | 'delayMs' | 'stepMs' | 'maxDelayMs' | 'factor' | 'jitter' | 'name';
/**
 * Every backoff type and the keys it takes: the one list of types (the HTTP schemas and their
 * messages are derived from it, so a new type is added here and in `computeBackoff` only).
 */
export const BACKOFF_KEYS: Readonly<Record<BackoffType, readonly BackoffKey[]>> = {
  immediate: ['type'],
  fixed: ['type', 'delayMs'],
  linear: ['type', 'delayMs', 'stepMs', 'maxDelayMs'],
  exponential: ['type', 'delayMs', 'factor', 'maxDelayMs', 'jitter'],
  custom: ['type', 'name'],
};
/** The keys each backoff type requires (besides `type`). */
export const BACKOFF_REQUIRED: Readonly<Record<BackoffType, readonly BackoffKey[]>> = {
  immediate: [],
  fixed: ['delayMs'],
  linear: ['delayMs'],
  exponential: ['delayMs'],
  custom: ['name'],
};
/** The backoff types, in the order of {@link BACKOFF_KEYS}. */
export const BACKOFF_TYPES = Object.keys(BACKOFF_KEYS) as readonly BackoffType[];
const TYPES_RULE = `one of ${BACKOFF_TYPES.join(', ')}`;
const IMMEDIATE: Backoff = Object.freeze({ type: 'immediate' });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknown(obj: Record<string, unknown>, allowed: readonly string[], field: string, of: string) {
  const key = Object.keys(obj).find((k) => obj[k] !== undefined && !allowed.includes(k));
  if (key !== undefined) fail(`${field}.${key}`, `absent (not a known option ${of})`);
}

function int(v: unknown, field: string, min: number, rule: string): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min ? v : fail(field, rule, v);
}

function ms(v: unknown, field: string, min = 0, rule = 'an integer >= 0 (milliseconds)'): number {
  const n = int(v, field, min, rule);
  return n <= MAX_DELAY_MS ? n : fail(field, `at most 1 year (${MAX_DELAY_MS} ms)`, n);
}

function resolveBackoff(v: unknown, field: string): Backoff {
  if (!isRecord(v)) fail(field, 'an object with a type', v);
  const type = v.type as BackoffType;
  if (typeof type !== 'string' || !Object.hasOwn(BACKOFF_KEYS, type)) fail(`${field}.type`, TYPES_RULE, type);
  rejectUnknown(v, BACKOFF_KEYS[type], field, `of a ${type} backoff`);
  if (type === 'immediate') return IMMEDIATE;
  if (type === 'custom') {
    return Object.freeze({ type, name: checkText(v.name, `${field}.name`, Rules.strategyName) });
  }
  const delayMs = ms(v.delayMs, `${field}.delayMs`);
  if (type === 'fixed') return Object.freeze({ type, delayMs });
  const capRule = `an integer >= delayMs (${delayMs})`;
  const maxDelayMs =
    v.maxDelayMs === undefined ? undefined : ms(v.maxDelayMs, `${field}.maxDelayMs`, delayMs, capRule);
  const cap = defined({ maxDelayMs });
  if (type === 'linear') {
    const stepMs = v.stepMs === undefined ? delayMs : ms(v.stepMs, `${field}.stepMs`);
    return Object.freeze({ type, delayMs, stepMs, ...cap });
  }
  const factor = v.factor ?? 2;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    fail(`${field}.factor`, 'a finite number >= 1', factor);
  }
  const jitter = (v.jitter ?? 'none') as Jitter;
  if (!Jitters.includes(jitter)) fail(`${field}.jitter`, `one of ${Jitters.join(', ')}`, jitter);
  return Object.freeze({ type, delayMs, factor, ...cap, jitter });
}

function resolvePhase(v: unknown, field: string): RetryPhase {
  if (!isRecord(v)) fail(field, 'an object { retries, backoff }', v);
  rejectUnknown(v, ['retries', 'backoff'], field, 'of a phase');
  const retries = int(v.retries, `${field}.retries`, 0, 'an integer >= 0');
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
  const shape = 'an object with attempts (and backoff) or phases';
  if (!isRecord(p) || (p.phases === undefined && p.attempts === undefined)) fail(field, shape, p);
  const both = p.phases !== undefined && p.attempts !== undefined;
  if (both) fail(field, 'either { attempts, backoff } or { phases }, not both');
  let phases: RetryPhase[];
  if (p.phases !== undefined) {
    rejectUnknown(p, ['phases', 'maxAttempts'], field, 'of a retry policy');
    if (!Array.isArray(p.phases)) fail(`${field}.phases`, 'an array of { retries, backoff }', p.phases);
    phases = p.phases.map((ph: unknown, i) => resolvePhase(ph, `${field}.phases[${i}]`));
  } else {
    rejectUnknown(p, ['attempts', 'backoff'], field, 'of a retry policy');
    const a = int(p.attempts, `${field}.attempts`, 1, 'an integer >= 1');
    if (a > MAX_ATTEMPTS) fail(`${field}.attempts`, `at most ${MAX_ATTEMPTS}`, a);
    const backoff = p.backoff === undefined ? IMMEDIATE : resolveBackoff(p.backoff, `${field}.backoff`);
    phases = [Object.freeze({ retries: a - 1, backoff })];
  }
  const retries = phases.reduce((n, ph) => n + ph.retries, 0);
  const maxAttempts = retries + 1;
  const most = MAX_ATTEMPTS - 1;
  if (retries > most) fail(`${field}.phases`, `at most ${most} retries in total`, retries);
  const sumRule = `1 + the sum of the phases' retries (${maxAttempts})`;
  const mismatch = p.maxAttempts !== undefined && p.maxAttempts !== maxAttempts;
  if (mismatch) fail(`${field}.maxAttempts`, sumRule, p.maxAttempts);
  return Object.freeze({ phases: Object.freeze(phases), maxAttempts });
}

// Planning and preview -----------------------------------------------------------------------------

/**
 * What to do after `attemptsMade` attempts (the last of which just failed): the `attemptsMade`-th
 * retry overall, or dead-letter when attempts are exhausted. Phases with 0 retries are skipped.
 * `ctx.prevDelayMs` is only used within a phase: the first retry of a phase ignores it.
 */
export function planRetry(
  policy: ResolvedRetryPolicy,
  attemptsMade: number,
  ctx: { prevDelayMs?: number; random: () => number; error?: ErrorInfo },
  strategies?: Strategies,
): RetryPlan {
  int(attemptsMade, 'attemptsMade', 1, 'an integer >= 1');
  let before = 0;
  const n = policy.phases.length;
  for (const [phase, { retries, backoff }] of policy.phases.entries()) {
    if (attemptsMade >= policy.maxAttempts) break;
    if (attemptsMade <= before + retries) {
      const retry = attemptsMade - before;
      const more = defined({ prevDelayMs: retry > 1 ? ctx.prevDelayMs : undefined, error: ctx.error });
      const opts = { retry, attempt: attemptsMade, random: ctx.random, ...more };
      const { delayMs, explanation: text, detail } = computeBackoff(backoff, opts, strategies);
      const explanation = (n > 1 ? `phase ${phase + 1} of ${n}: ` : '') + text;
      return { action: 'retry', phase, retry, delayMs, explanation, detail: { ...detail, phase } };
    }
    before += retries;
  }
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
  opts: { random?: () => number; strategies?: Strategies } = {},
): PolicyPreview {
  const resolved = resolveRetryPolicy(policy);
  const random = opts.random ?? (() => 0.5);
  const steps: PreviewStep[] = [];
  let prev: number | undefined;
  let atMs = 0;
  for (let made = 1; made < resolved.maxAttempts; made++) {
    const plan = planRetry(resolved, made, { random, ...defined({ prevDelayMs: prev }) }, opts.strategies);
    if (plan.action !== 'retry') break;
    const { phase, retry, delayMs, explanation } = plan;
    const backoff = resolved.phases[phase]?.backoff ?? IMMEDIATE;
    const [minDelayMs, maxDelayMs] = delayBounds(backoff, retry, retry > 1 ? prev : undefined, delayMs);
    atMs += delayMs;
    steps.push({ attempt: made + 1, phase, delayMs, minDelayMs, maxDelayMs, atMs, explanation });
    prev = delayMs;
  }
  return { maxAttempts: resolved.maxAttempts, steps, then: 'dead-letter', summary: summarise(steps) };
}

/**
 * Without jitter, cumulative offsets: `will retry at +5 s, +15 s, +35 s, then dead-letter`.
 * With jitter anywhere, each retry's own delay range: `will retry after 0–5 s, then 0–10 s, then dead-letter`.
 * More than 8 retries: the first 6, `…`, the last: `will retry 20 times at +1 s, +3 s, …, +2 h, then dead-letter`.
 */
function summarise(steps: readonly PreviewStep[]): string {
  if (steps.length === 0) return 'no retries: the first failure dead-letters';
  const ranged = steps.some((s) => s.minDelayMs !== s.maxDelayMs);
  const items = steps.map((s) =>
    ranged ? formatDurationRange(s.minDelayMs, s.maxDelayMs) : formatOffset(s.atMs),
  );
  const sep = ranged ? ', then ' : ', ';
  const long = items.length > 8;
  const list = long
    ? [...items.slice(0, 6), `…${sep}${items[items.length - 1] ?? ''}`].join(sep)
    : items.join(sep);
  return `will retry${long ? ` ${items.length} times` : ''} ${ranged ? 'after' : 'at'} ${list}, then dead-letter`;
}
