/**
 * Live rates from the event stream: per queue, the events of the last few minutes counted by kind
 * (completed, failed attempts, retries, dead letters), as totals over a window and as buckets for
 * the sparklines. Pure: the caller owns the clock.
 */
import type { FeedEvent } from './types.js';

export type Kind = 'completed' | 'failed' | 'retried' | 'dead';
export const KINDS: readonly Kind[] = ['completed', 'failed', 'retried', 'dead'];

/** What an event counts as; an event may count twice (a failed attempt that is retried). */
export function kindsOf(e: Pick<FeedEvent, 'type' | 'fields'>): Kind[] {
  const out: Kind[] = [];
  if (e.type === 'completed') out.push('completed');
  const outcome = e.fields.outcome;
  if ((e.type === 'retrying' || e.type === 'dead') && (outcome === 'failed' || outcome === 'timed_out')) {
    out.push('failed');
  }
  if (e.type === 'retrying' || e.type === 'stalled') out.push('retried');
  if (e.type === 'dead') out.push('dead');
  return out;
}

export class RateWindow {
  readonly #keepMs: number;
  readonly #events = new Map<string, { at: number; kinds: Kind[] }[]>();

  constructor(keepMs = 5 * 60_000) {
    this.#keepMs = keepMs;
  }

  /** `now` is when the event arrived here (the browser's clock: windows are about arrival). */
  add(queue: string, e: Pick<FeedEvent, 'type' | 'fields'>, now: number): void {
    const kinds = kindsOf(e);
    if (kinds.length === 0) return;
    let list = this.#events.get(queue);
    if (!list) this.#events.set(queue, (list = []));
    list.push({ at: now, kinds });
    const cut = now - this.#keepMs;
    while (list.length > 0 && list[0]!.at < cut) list.shift();
  }

  /** Counts by kind over the last `windowMs`. */
  totals(queue: string, now: number, windowMs: number): Record<Kind, number> {
    const t: Record<Kind, number> = { completed: 0, failed: 0, retried: 0, dead: 0 };
    for (const e of this.#events.get(queue) ?? []) {
      if (e.at <= now - windowMs) continue;
      for (const k of e.kinds) t[k]++;
    }
    return t;
  }

  /** `count` buckets of `bucketMs` ending at `now`: [bucket start times (s), counts per kind…]. */
  buckets(queue: string, now: number, bucketMs: number, count: number, kinds: readonly Kind[]): number[][] {
    const start = now - bucketMs * count;
    const xs = Array.from({ length: count }, (_, i) => (start + bucketMs * (i + 1)) / 1000);
    const ys = kinds.map(() => new Array<number>(count).fill(0));
    for (const e of this.#events.get(queue) ?? []) {
      const i = Math.floor((e.at - start) / bucketMs);
      if (i < 0 || i >= count) continue;
      kinds.forEach((k, j) => {
        if (e.kinds.includes(k)) ys[j]![i]!++;
      });
    }
    return [xs, ...ys];
  }
}
