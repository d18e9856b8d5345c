/**
 * The storm radar: from the scheduled set, how many retries fall due in each second of the next
 * minutes, where they bunch up (bursts), and which retry policies lack jitter (the usual cause of
 * synchronised retries). Pure: a backend read (`Backend.scheduledDue`) in, a report out.
 *
 * The burst rule: a second is hot when at least max(`burstMin`, `burstFactor` × the mean retries per
 * second over the horizon) retries fall due in it (defaults 10 and 4); consecutive hot seconds form
 * one burst. Retries already overdue (due but not yet picked up) count in second 0.
 * @module
 */
import type { ScheduledWindow } from './backend.js';
import { resolveRetryPolicy } from './backoff.js';
import { ValidationError } from './errors.js';
import type { ResolvedRetryPolicy } from './types.js';
import { assertInt } from './validate.js';
import { usesJitter } from './whatif.js';

export const DEFAULT_RADAR_HORIZON_MS = 5 * 60_000;
export const MAX_RADAR_HORIZON_MS = 60 * 60_000;
export const DEFAULT_RADAR_MAX = 10_000;
export const MAX_RADAR_MAX = 50_000;

export interface RadarOptions {
  /** How far ahead to look. @default 5 min, at most 1 h */
  readonly horizonMs?: number | undefined;
  /** Most scheduled jobs read. @default 10000, at most 50000 */
  readonly max?: number | undefined;
  /** A hot second has at least this many retries due… @default 10 */
  readonly burstMin?: number | undefined;
  /** …and at least this many times the horizon's mean per second. @default 4 */
  readonly burstFactor?: number | undefined;
}

export interface ResolvedRadar {
  readonly horizonMs: number;
  readonly max: number;
  readonly burstMin: number;
  readonly burstFactor: number;
}

const RADAR_KEYS = ['horizonMs', 'max', 'burstMin', 'burstFactor'];

export function resolveRadarOptions(o: RadarOptions | undefined): ResolvedRadar {
  if (o !== undefined && (typeof o !== 'object' || o === null || Array.isArray(o))) {
    throw new ValidationError('options', 'an object', o);
  }
  const extra = Object.keys(o ?? {}).find((k) => !RADAR_KEYS.includes(k));
  if (extra !== undefined) throw new ValidationError(extra, `absent (known: ${RADAR_KEYS.join(', ')})`);
  const f = o?.burstFactor ?? 4;
  if (typeof f !== 'number' || !Number.isFinite(f) || f < 1 || f > 1000) {
    throw new ValidationError('burstFactor', 'a number from 1 to 1000', f);
  }
  return {
    horizonMs:
      o?.horizonMs === undefined
        ? DEFAULT_RADAR_HORIZON_MS
        : assertInt(o.horizonMs, 'horizonMs', 1000, MAX_RADAR_HORIZON_MS),
    max: o?.max === undefined ? DEFAULT_RADAR_MAX : assertInt(o.max, 'max', 1, MAX_RADAR_MAX),
    burstMin: o?.burstMin === undefined ? 10 : assertInt(o.burstMin, 'burstMin', 1, 1_000_000),
    burstFactor: f,
  };
}

export interface RadarBurst {
  /** Seconds from now: [startS, endS). */
  readonly startS: number;
  readonly endS: number;
  readonly retries: number;
  readonly peakPerSecond: number;
  /** Job names in the burst, most retries first (at most 5). */
  readonly names: readonly { readonly name: string; readonly retries: number }[];
}

export interface RadarPolicy {
  readonly name: string;
  /** null when the stored options could not be read. */
  readonly policy: ResolvedRetryPolicy | null;
  readonly jitter: boolean;
  /** Retries of this job name and policy due within the horizon. */
  readonly retries: number;
  readonly peakPerSecond: number;
}

export interface RadarReport {
  readonly queue: string;
  /** The backend's clock when read. */
  readonly now: number;
  readonly horizonMs: number;
  /** Scheduled jobs read (at most `max`), and whether more were due within the horizon. */
  readonly read: number;
  readonly truncated: boolean;
  /** Retries due within the horizon (jobs with at least one attempt made)… */
  readonly retries: number;
  /** …of which already due (overdue, counted in second 0). */
  readonly overdue: number;
  /** Delayed first runs due within the horizon (not retries; not in `perSecond`). */
  readonly firstRuns: number;
  /** Retries due in each second from now: index i covers [now + i s, now + (i + 1) s). */
  readonly perSecond: readonly number[];
  readonly peak: { readonly count: number; readonly atS: number | null };
  /** The rule's threshold as computed here (retries in one second). */
  readonly burstThreshold: number;
  readonly burstRule: string;
  readonly bursts: readonly RadarBurst[];
  /** By job name and policy, most retries first. */
  readonly policies: readonly RadarPolicy[];
  /** Job names whose policy lacks jitter and that have retries due (the storm's usual suspects). */
  readonly withoutJitter: readonly string[];
}

function policyOf(opts: string): ResolvedRetryPolicy | null {
  try {
    return resolveRetryPolicy((JSON.parse(opts) as { retry?: unknown }).retry);
  } catch {
    return null;
  }
}

export function radarReport(queue: string, w: ScheduledWindow, o: ResolvedRadar): RadarReport {
  const seconds = Math.ceil(o.horizonMs / 1000);
  const perSecond = new Array<number>(seconds).fill(0);
  const groups = new Map<string, { name: string; opts: string; perSecond: Map<number, number>; n: number }>();
  const namesAt: Map<string, number>[] = [];
  let retries = 0;
  let overdue = 0;
  let firstRuns = 0;
  for (const e of w.entries) {
    if (e.attemptsMade === 0) {
      firstRuns++;
      continue;
    }
    const s = Math.min(seconds - 1, Math.max(0, Math.floor((e.dueAt - w.now) / 1000)));
    if (e.dueAt <= w.now) overdue++;
    retries++;
    perSecond[s] = (perSecond[s] ?? 0) + 1;
    const key = `${e.name}\u0000${e.opts}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { name: e.name, opts: e.opts, perSecond: new Map(), n: 0 }));
    g.n++;
    g.perSecond.set(s, (g.perSecond.get(s) ?? 0) + 1);
    const names = (namesAt[s] ??= new Map());
    names.set(e.name, (names.get(e.name) ?? 0) + 1);
  }
  const mean = retries / seconds;
  const threshold = Math.max(o.burstMin, Math.ceil(o.burstFactor * mean));
  const bursts: RadarBurst[] = [];
  let peak = { count: 0, atS: null as number | null };
  for (let s = 0; s < seconds; s++) {
    const c = perSecond[s] ?? 0;
    if (c > peak.count) peak = { count: c, atS: s };
    if (c < threshold) continue;
    const last = bursts[bursts.length - 1];
    if (last && last.endS === s) {
      bursts[bursts.length - 1] = {
        ...last,
        endS: s + 1,
        retries: last.retries + c,
        peakPerSecond: Math.max(last.peakPerSecond, c),
      };
    } else bursts.push({ startS: s, endS: s + 1, retries: c, peakPerSecond: c, names: [] });
  }
  const withNames = bursts.map((b) => {
    const count = new Map<string, number>();
    for (let s = b.startS; s < b.endS; s++) {
      for (const [n, c] of namesAt[s] ?? []) count.set(n, (count.get(n) ?? 0) + c);
    }
    const names = [...count]
      .sort((a, b2) => b2[1] - a[1] || (a[0] < b2[0] ? -1 : 1))
      .slice(0, 5)
      .map(([name, r]) => ({ name, retries: r }));
    return { ...b, names };
  });
  const policies = [...groups.values()]
    .map((g) => {
      const policy = policyOf(g.opts);
      return {
        name: g.name,
        policy,
        jitter: policy !== null && usesJitter(policy),
        retries: g.n,
        peakPerSecond: Math.max(...g.perSecond.values()),
      };
    })
    .sort((a, b) => b.retries - a.retries || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, 100);
  const withoutJitter = [...new Set(policies.filter((p) => !p.jitter).map((p) => p.name))];
  return {
    queue,
    now: w.now,
    horizonMs: o.horizonMs,
    read: w.entries.length,
    truncated: w.more,
    retries,
    overdue,
    firstRuns,
    perSecond,
    peak,
    burstThreshold: threshold,
    burstRule: `a second with at least max(${o.burstMin}, ${o.burstFactor} × the mean of ${mean.toFixed(2)} retries/s) = ${threshold} retries due is hot; consecutive hot seconds are one burst`,
    bursts: withNames,
    policies,
    withoutJitter,
  };
}
