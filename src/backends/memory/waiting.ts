/**
 * The memory backend's waiting jobs, by priority: the model of `lua/includes/waitLevels.lua`. One
 * insertion-ordered set per priority (FIFO within one), ranked by `levelRank` (src/transitions.ts)
 * from each level's oldest job; equal ranks are ordered by the priority's decimal text, as the
 * Redis zset orders equal scores by member.
 * @module
 */
import { levelRank } from '../../transitions.js';

export interface WaitingJob {
  readonly priority: number;
  readonly dueAt: number;
}

export class WaitingLevels {
  readonly #levels = new Map<number, Set<string>>();
  readonly #job: (id: string) => WaitingJob;
  #size = 0;

  constructor(job: (id: string) => WaitingJob) {
    this.#job = job;
  }

  get size(): number {
    return this.#size;
  }

  /** Makes `id` wait behind the jobs of its priority (the job's `priority` and `dueAt` are set). */
  add(id: string): void {
    const p = this.#job(id).priority;
    let level = this.#levels.get(p);
    if (!level) this.#levels.set(p, (level = new Set()));
    if (level.has(id)) return;
    level.add(id);
    this.#size++;
  }

  delete(id: string): void {
    const p = this.#job(id).priority;
    const level = this.#levels.get(p);
    if (!level?.delete(id)) return;
    this.#size--;
    if (level.size === 0) this.#levels.delete(p);
  }

  /** The next job a claim takes (not removed), or undefined. */
  next(agingMs: number): string | undefined {
    let best: { rank: number; key: string; head: string } | undefined;
    for (const [p, level] of this.#levels) {
      const head = level.values().next().value as string;
      const rank = levelRank(p, agingMs > 0 ? this.#job(head).dueAt : 0, agingMs);
      const key = String(p);
      if (!best || rank < best.rank || (rank === best.rank && key < best.key)) best = { rank, key, head };
    }
    return best?.head;
  }

  /** The next job of each priority (its oldest), priority 0 first then highest first, as `lua/oldest-waiting` reads them. */
  heads(): string[] {
    const ps = [...this.#levels.keys()].sort((a, b) => (a === 0 ? -1 : b === 0 ? 1 : b - a));
    return ps.map((p) => this.#levels.get(p)?.values().next().value as string);
  }

  /** Every waiting id in priority order (highest first), FIFO within one: how `listJobs` shows them. */
  ids(): string[] {
    const out: string[] = [];
    for (const p of [...this.#levels.keys()].sort((a, b) => b - a)) out.push(...(this.#levels.get(p) ?? []));
    return out;
  }

  /**
   * How many jobs a claim takes before `id` (the twin of lua/waiting-ahead): those before it in its
   * own level, and in the others those whose rank is lower (equal: smaller priority text), walked
   * oldest first until one is not ahead; at most `max` in all. undefined when `id` is not waiting.
   */
  ahead(
    id: string,
    agingMs: number,
    max: number,
  ): { same: number; higher: number; aged: number; capped: boolean } | undefined {
    const job = this.#job(id);
    const level = this.#levels.get(job.priority);
    if (!level?.has(id)) return undefined;
    let same = 0;
    for (const other of level) {
      if (other === id) break;
      same++;
    }
    const rank = levelRank(job.priority, job.dueAt, agingMs);
    const pText = String(job.priority);
    let counted = same;
    let higher = 0;
    let aged = 0;
    for (const [q, ids] of this.#levels) {
      if (q === job.priority || counted >= max) continue;
      let n = 0;
      if (agingMs === 0) {
        if (q > job.priority) n = Math.min(ids.size, max - counted);
      } else {
        for (const other of ids) {
          const r = levelRank(q, this.#job(other).dueAt, agingMs);
          if (!(r < rank || (r === rank && String(q) < pText))) break;
          n++;
          if (counted + n >= max) break;
        }
      }
      if (q > job.priority) higher += n;
      else aged += n;
      counted += n;
    }
    return { same, higher, aged, capped: counted >= max };
  }
}
