/**
 * Compact, human durations for explanations and previews: `250 ms`, `13.2 s`, `10 min 40 s`,
 * `1 h 30 min`, `2 d 3 h`. Each step rounds to its own precision, so a value near a boundary
 * moves up to the next unit (59 999 ms is `1 min`, not `60 s`).
 * @module
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Format milliseconds compactly:
 * - under 1 s: whole milliseconds (`250 ms`);
 * - under 1 min: seconds with at most one decimal (`13.2 s`, `5 s`);
 * - under 1 h: minutes and whole seconds (`5 min`, `10 min 40 s`);
 * - under 1 day: hours and whole minutes (`1 h`, `1 h 30 min`);
 * - otherwise: days and whole hours (`2 d`, `2 d 3 h`).
 *
 * Negative values get a leading `-`; infinities are `∞`.
 */
export function formatDuration(ms: number): string {
  if (Number.isNaN(ms)) return 'NaN';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms === Infinity) return '∞';
  const r = Math.round(ms);
  if (r < SECOND) return `${r} ms`;
  const tenths = Math.round(r / 100);
  if (tenths < 600) return tenths % 10 === 0 ? `${tenths / 10} s` : `${(tenths / 10).toFixed(1)} s`;
  const s = Math.round(r / SECOND);
  if (s < 3600) return pair(Math.floor(s / 60), 'min', s % 60, 's');
  const min = Math.round(r / MINUTE);
  if (min < 1440) return pair(Math.floor(min / 60), 'h', min % 60, 'min');
  const h = Math.round(r / HOUR);
  return pair(Math.floor(h / 24), 'd', h % 24, 'h');
}

function pair(big: number, bigUnit: string, small: number, smallUnit: string): string {
  return small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`;
}

/** An offset from some origin: `+5 s`, `+1 min 15 s`, `-250 ms`. */
export function formatOffset(ms: number): string {
  return ms < 0 ? formatDuration(ms) : `+${formatDuration(ms)}`;
}

const SINGLE_UNIT = /^([\d.]+) (ms|s|min|h|d)$/;

/**
 * A range of durations with an en dash: `0–5 s`, `2.5–5 s`, `1 min 20 s–2 min 40 s`.
 * The lower bound drops its unit when both ends are a single number in the same unit, or when it is 0.
 * Equal bounds format as one duration.
 */
export function formatDurationRange(minMs: number, maxMs: number): string {
  const hi = formatDuration(maxMs);
  if (minMs === maxMs) return hi;
  if (minMs === 0) return `0–${hi}`;
  const lo = formatDuration(minMs);
  const a = SINGLE_UNIT.exec(lo);
  const b = SINGLE_UNIT.exec(hi);
  if (a && b && a[2] === b[2]) return `${a[1]}–${hi}`;
  return `${lo}–${hi}`;
}
