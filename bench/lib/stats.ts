/**
 * Small statistics and formatting helpers.
 * @module
 */

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Percentile with linear interpolation between closest ranks (p in [0, 100]). NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

/** A seeded PRNG (mulberry32), so that every system gets the same "random" due times. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function fmtNumber(x: number, unit: string): string {
  if (!Number.isFinite(x)) return '—';
  if (unit === 'jobs/s' || unit === 'B/job') return Math.round(x).toLocaleString('en-US');
  if (unit === 'ms') return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
  if (unit === 'keys/job') return x.toFixed(2);
  return x.toPrecision(4);
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with `message` if `p` has not settled within `ms` (the timer is cleared either way). */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
