/**
 * Retry budgets, a storm guard in the shape of Finagle's RetryBudget: over a sliding window, the
 * automatic retries of a queue (or of one job name) may be at most `ratio` × the first attempts of
 * that window, plus `minPerSecond` × the window, so a quiet queue can always retry. Enforced inside
 * the finish transition, by the backend's clock; the rule is written once here (the memory backend
 * calls it) and its constants are generated for the Lua twin (`lua/includes/retryBudget.lua`).
 *
 * How a retry is placed: the budget is a rate, `allowed / window` (GCRA, the "virtual scheduling"
 * form of a token bucket): each scope keeps a theoretical arrival time `tat`. A retry due at `d`
 * conforms when `tat <= d + tolerance` (tolerance = window / RETRY_BUDGET_BURST_DIVISOR): it keeps
 * its due time. Otherwise it is **deferred** to `tat − tolerance` (or dead-lettered with reason
 * `budget` when the budget says `onExhausted: 'dead'`); either way `tat` moves one interval on. So
 * the retries due in any span of `s` ms are at most `(s + tolerance) / interval + 1`, and none is
 * dropped.
 *
 * First attempts are counted when they end (every attempt number 1, whatever its outcome), in
 * RETRY_BUDGET_SLOTS slots per window.
 * @module
 */
import { ValidationError } from './errors.js';

/** @lua How many slots a budget's window is counted in (the first attempts of the last ones). */
export const RETRY_BUDGET_SLOTS = 10;
/** @lua The burst a budget tolerates: this fraction of its window (window / divisor), in time. */
export const RETRY_BUDGET_BURST_DIVISOR = 10;
/** Longest budget window: one hour. */
export const RETRY_BUDGET_MAX_WINDOW_MS = 3_600_000;

export interface RetryBudget {
  /** Retries may be this share of the window's first attempts (0.2 = 20 %); 0 to 10, steps of 0.001. */
  readonly ratio: number;
  /** The sliding window, whole seconds in ms: 1,000 to 3,600,000. @default 10000 */
  readonly windowMs?: number;
  /** Retries always allowed per second, even without first attempts: 0 to 100,000. @default 10 */
  readonly minPerSecond?: number;
  /** Over budget: `defer` the retry (the default) or dead-letter it with reason `budget`. */
  readonly onExhausted?: 'defer' | 'dead';
}

export interface ResolvedRetryBudget {
  /** ratio × 1000, a whole number. */
  readonly permille: number;
  readonly windowMs: number;
  readonly minPerSecond: number;
  readonly onExhausted: 'defer' | 'dead';
}

/** Checks a budget, naming the field and the rule. */
export function resolveRetryBudget(b: unknown, field = 'budget'): ResolvedRetryBudget {
  if (typeof b !== 'object' || b === null || Array.isArray(b)) {
    throw new ValidationError(field, 'an object { ratio, windowMs?, minPerSecond?, onExhausted? }', b);
  }
  const o = b as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['ratio', 'windowMs', 'minPerSecond', 'onExhausted'].includes(k)) {
      throw new ValidationError(
        `${field}.${k}`,
        'not a budget setting (ratio, windowMs, minPerSecond, onExhausted)',
      );
    }
  }
  const ratio = o.ratio;
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0 || ratio > 10) {
    throw new ValidationError(
      `${field}.ratio`,
      'a number from 0 to 10 (0.2 = 20 % of first attempts)',
      ratio,
    );
  }
  const permille = Math.round(ratio * 1000);
  const windowMs = o.windowMs ?? 10_000;
  if (
    typeof windowMs !== 'number' ||
    !Number.isInteger(windowMs) ||
    windowMs < 1000 ||
    windowMs > RETRY_BUDGET_MAX_WINDOW_MS ||
    windowMs % 1000 !== 0
  ) {
    throw new ValidationError(`${field}.windowMs`, 'whole seconds in ms from 1000 to 3600000', windowMs);
  }
  const minPerSecond = o.minPerSecond ?? 10;
  if (
    typeof minPerSecond !== 'number' ||
    !Number.isInteger(minPerSecond) ||
    minPerSecond < 0 ||
    minPerSecond > 100_000
  ) {
    throw new ValidationError(`${field}.minPerSecond`, 'an integer from 0 to 100000', minPerSecond);
  }
  const onExhausted = o.onExhausted ?? 'defer';
  if (onExhausted !== 'defer' && onExhausted !== 'dead') {
    throw new ValidationError(`${field}.onExhausted`, "'defer' or 'dead'", onExhausted);
  }
  return { permille, windowMs, minPerSecond, onExhausted };
}

/** The budget as the backends store it: `permille,windowMs,minPerSecond,defer|dead`. */
export function encodeRetryBudget(b: ResolvedRetryBudget): string {
  return `${b.permille},${b.windowMs},${b.minPerSecond},${b.onExhausted}`;
}

export function decodeRetryBudget(text: string): ResolvedRetryBudget | undefined {
  const [p, w, m, mode] = text.split(',');
  if (mode !== 'defer' && mode !== 'dead') return undefined;
  return { permille: Number(p), windowMs: Number(w), minPerSecond: Number(m), onExhausted: mode };
}

/** As the API shows it. */
export function retryBudgetView(b: ResolvedRetryBudget): Required<RetryBudget> {
  return {
    ratio: b.permille / 1000,
    windowMs: b.windowMs,
    minPerSecond: b.minPerSecond,
    onExhausted: b.onExhausted,
  };
}

/** The slot of the window that `now` falls in. */
export function budgetSlot(b: ResolvedRetryBudget, now: number): number {
  return Math.floor(now / (b.windowMs / RETRY_BUDGET_SLOTS));
}

/** Retries the window allows for `firsts` first attempts in it (at least 1, so nothing waits forever). */
export function budgetAllowed(b: ResolvedRetryBudget, firsts: number): number {
  return Math.max(1, Math.floor((b.permille * firsts) / 1000 + (b.minPerSecond * b.windowMs) / 1000));
}

/** µs between two retries at the budget's rate. */
export function budgetIntervalUs(b: ResolvedRetryBudget, firsts: number): number {
  return Math.floor((b.windowMs * 1000) / budgetAllowed(b, firsts));
}

/**
 * Places one retry due at `dueMs`: its deferral (0 = within budget) and the scope's next `tat`
 * (µs). Twin: `budgetPlace` in retryBudget.lua.
 */
export function budgetPlace(
  b: ResolvedRetryBudget,
  firsts: number,
  tatUs: number,
  dueMs: number,
): { deferMs: number; tatUs: number } {
  const dueUs = dueMs * 1000;
  const tolUs = (b.windowMs * 1000) / RETRY_BUDGET_BURST_DIVISOR;
  const interval = budgetIntervalUs(b, firsts);
  if (tatUs <= dueUs + tolUs) return { deferMs: 0, tatUs: Math.max(tatUs, dueUs) + interval };
  const deferMs = Math.ceil((tatUs - tolUs - dueUs) / 1000);
  return { deferMs, tatUs: tatUs + interval };
}

/** `250 ms`, `1.8 s`, `75.0 s` (one rule for both backends). */
export function budgetDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const tenths = Math.floor((ms + 50) / 100);
  return `${Math.floor(tenths / 10)}.${tenths % 10} s`;
}

function permilleText(p: number): string {
  return p % 10 === 0 ? `${p / 10} %` : `${Math.floor(p / 10)}.${p % 10} %`;
}

/**
 * The sentence a deferred or dead-lettered retry's decision records: "retry budget: 20 % of first
 * attempts over 10 s + 10/s (allows 146 retries for 230 first attempts) used up; deferred 1.8 s".
 */
export function budgetExplanation(
  b: ResolvedRetryBudget,
  firsts: number,
  deferMs: number,
  dead: boolean,
): string {
  const head = `retry budget: ${permilleText(b.permille)} of first attempts over ${b.windowMs / 1000} s + ${b.minPerSecond}/s (allows ${budgetAllowed(b, firsts)} retries for ${firsts} first attempts) used up`;
  return dead ? `${head}; dead-lettered (onExhausted: dead)` : `${head}; deferred ${budgetDuration(deferMs)}`;
}
