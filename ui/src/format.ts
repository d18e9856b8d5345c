/**
 * How the dashboard writes times, durations and numbers. Times are UTC, to the millisecond, as the
 * engine records them (the scheduler's clock), so they read the same for everyone sharing a link.
 */
import { formatDuration } from '../../src/duration.js';

export { formatDuration };

/** `2026-01-31 12:00:01.250` (UTC). */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** `12:00:01.250` (UTC), for axes and dense tables. */
export function formatClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

/** `+250 ms`, `-1.2 s`: a signed duration (drift can be negative by a timer's granularity). */
export function formatSigned(ms: number): string {
  return ms < 0 ? `-${formatDuration(-ms)}` : `+${formatDuration(ms)}`;
}

/** `3.2/min`, `0/min`: a count over a window, per minute. */
export function perMinute(count: number, windowMs: number): string {
  const rate = windowMs > 0 ? (count * 60_000) / windowMs : 0;
  return `${rate >= 10 || Number.isInteger(rate) ? Math.round(rate) : rate.toFixed(1)}/min`;
}

/** `5 s ago`, `just now`. */
export function ago(ms: number, now: number): string {
  const d = now - ms;
  return d < 1000 ? 'just now' : `${formatDuration(d)} ago`;
}
