/**
 * The retry-plan chart's geometry, pure: for each retry of a previewed policy, its offset from the
 * first failure as a band (every delay at its lowest .. at its highest, jitter included) and the
 * typical offset the preview chose.
 */
import type { PreviewStep } from './types.js';

export interface PlanRow {
  readonly attempt: number;
  readonly y: number;
  readonly minX: number;
  readonly maxX: number;
  readonly atX: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export const PLAN_MARGIN = { left: 96, right: 24, top: 12, bottom: 36 } as const;
export const PLAN_ROW = 28;

export function layoutPlan(
  steps: readonly PreviewStep[],
  width: number,
): { rows: PlanRow[]; spanMs: number; height: number } {
  let min = 0;
  let max = 0;
  const cumulative = steps.map((s) => {
    min += s.minDelayMs;
    max += s.maxDelayMs;
    return { s, min, max };
  });
  const spanMs = Math.max(1, max, ...steps.map((s) => s.atMs));
  const plot = width - PLAN_MARGIN.left - PLAN_MARGIN.right;
  const x = (ms: number) => PLAN_MARGIN.left + (ms / spanMs) * plot;
  const rows = cumulative.map(({ s, min: lo, max: hi }, i) => ({
    attempt: s.attempt,
    y: PLAN_MARGIN.top + i * PLAN_ROW,
    minX: x(lo),
    maxX: x(hi),
    atX: x(s.atMs),
    minMs: lo,
    maxMs: hi,
  }));
  return { rows, spanMs, height: PLAN_MARGIN.top + Math.max(1, rows.length) * PLAN_ROW + PLAN_MARGIN.bottom };
}
