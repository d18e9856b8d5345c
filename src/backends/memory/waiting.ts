/**
 * The memory backend's waiting jobs, by priority: the model of `lua/includes/waitLevels.lua`. One
 * insertion-ordered set per priority (FIFO within one), ranked by `levelRank` (src/transitions.ts)
 * from each level's oldest job; equal ranks are ordered by the priority's decimal text, as the
 * Redis zset orders equal scores by member.
 * @module
 */
import { agedPriority, groupRank, levelRank, priorityAhead, priorityWait } from '../../transitions.js';
import type { PriorityWait } from '../../types.js';

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

  /** Puts `id` back at the head of its priority (a job popped and not taken). */
  unshift(id: string): void {
    const p = this.#job(id).priority;
    const level = this.#levels.get(p);
    if (level?.has(id)) return;
    this.#levels.set(p, new Set([id, ...(level ?? [])]));
    this.#size++;
  }

  has(id: string): boolean {
    return this.#levels.get(this.#job(id).priority)?.has(id) ?? false;
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

/** A waiting job as the groups see it. */
export interface GroupedJob extends WaitingJob {
  readonly group: string | undefined;
  /**
   * The priority-wait counts when it was pushed (the twin of the hash field `ps`): the jobs without
   * a group claimed, all and of its level; undefined = none counted yet (0, 0).
   */
  servedSnap?: readonly [number, number] | undefined;
}

/**
 * All waiting jobs of a queue: those without a group by priority (`WaitingLevels`), and each
 * group's by `groupRank`, with the ring of groups taking turns and the parked groups (whose bucket
 * is empty): the model of the group half of `lua/includes/waitLevels.lua`, operation for operation,
 * so that both backends serve groups in the same order.
 */
export class WaitingJobs {
  readonly levels: WaitingLevels;
  readonly #job: (id: string) => GroupedJob;
  /** Per group, its jobs sorted by score (ascending: the next first). */
  readonly #groups = new Map<string, { score: number; id: string }[]>();
  readonly #score = new Map<string, number>();
  /** Groups taking turns, head first; '' = the jobs without a group (while `#gu`). */
  ring: string[] = [];
  /** Groups whose bucket is empty → when its next token exists. */
  readonly parked = new Map<string, number>();
  #gu = false;
  /** Groups mode (Redis meta `gm`): some group takes turns or is parked. */
  gm = false;
  #seq = 0;
  #grouped = 0;
  /**
   * The priority-wait counters (the twin of PR in lua/includes/waitLevels.lua, the hash `ps`): the
   * jobs without a group claimed since the first push into a level other than 0, all of them and
   * per level; undefined until then.
   */
  #served: { total: number; levels: Map<number, number> } | undefined;

  constructor(job: (id: string) => GroupedJob) {
    this.#job = job;
    this.levels = new WaitingLevels(job);
  }

  get size(): number {
    return this.levels.size + this.#grouped;
  }

  #ungroupedWaiting(): boolean {
    return this.levels.size > 0;
  }

  #ringUngrouped(): void {
    if (this.ring.length === 0 && this.parked.size === 0) return;
    if (!this.#gu) {
      this.#gu = true;
      this.ring.push('');
    }
  }

  #ringJoin(g: string): void {
    this.ring.push(g);
    this.gm = true;
    if (!this.#gu && this.#ungroupedWaiting()) {
      this.#gu = true;
      this.ring.push('');
    }
  }

  /** The twin of ringCollapse. */
  collapse(): void {
    if (this.parked.size > 0) return;
    if (this.ring.length === 0 || (this.ring.length === 1 && this.ring[0] === '')) {
      this.ring = [];
      this.#gu = false;
      this.gm = false;
    }
  }

  /** Makes `id` wait (behind its peers; `score`: a score it had, to put it back where it was). */
  add(id: string, score?: number): void {
    const j = this.#job(id);
    if (j.group === undefined) {
      if (this.levels.has(id)) return;
      this.#ringUngrouped();
      if (j.priority !== 0 && !this.#served) this.#served = { total: 0, levels: new Map() };
      if (this.#served) j.servedSnap = [this.#served.total, this.#served.levels.get(j.priority) ?? 0];
      this.levels.add(id);
      return;
    }
    if (this.#score.has(id)) return;
    const s = score ?? groupRank(j.priority, ++this.#seq);
    let list = this.#groups.get(j.group);
    if (!list) this.#groups.set(j.group, (list = []));
    let i = list.length;
    while (i > 0 && (list[i - 1] as { score: number }).score > s) i--;
    list.splice(i, 0, { score: s, id });
    this.#score.set(id, s);
    this.#grouped++;
    if (list.length === 1) this.#ringJoin(j.group);
  }

  /** Puts a popped job back where it was (a suspect a busy worker may not take). */
  unpop(id: string, score: number | undefined): void {
    if (this.#job(id).group !== undefined) {
      this.add(id, score);
      return;
    }
    this.levels.unshift(id);
    this.#ringUngrouped();
  }

  /** Takes a waiting job out (cancel); the twin of removeWaiting. */
  delete(id: string): void {
    const j = this.#job(id);
    if (j.group === undefined) {
      if (!this.levels.has(id)) return;
      this.levels.delete(id);
      if (this.#gu && !this.#ungroupedWaiting()) {
        this.ring = this.ring.filter((g) => g !== '');
        this.#gu = false;
        this.collapse();
      }
      return;
    }
    const list = this.#groups.get(j.group);
    const i = list?.findIndex((e) => e.id === id) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    this.#score.delete(id);
    this.#grouped--;
    if (list.length === 0) {
      this.#groups.delete(j.group);
      this.ring = this.ring.filter((g) => g !== j.group);
      this.parked.delete(j.group);
      this.collapse();
    }
  }

  /**
   * How many jobs a claim takes before `id` (lua/waiting-ahead): for a job without a group, as
   * `WaitingLevels.ahead`; for a job of a group, those before it in its group (at most `max`).
   */
  ahead(
    id: string,
    agingMs: number,
    max: number,
  ): { same: number; higher: number; aged: number; capped: boolean } | undefined {
    const g = this.#job(id).group;
    if (g === undefined) return this.levels.ahead(id, agingMs, max);
    const i = this.#groups.get(g)?.findIndex((e) => e.id === id) ?? -1;
    if (i < 0) return undefined;
    return i >= max
      ? { same: max, higher: 0, aged: 0, capped: true }
      : { same: i, higher: 0, aged: 0, capped: false };
  }

  /** How many jobs of group g wait (ZCARD gw:<g>). */
  groupSize(g: string): number {
    return this.#groups.get(g)?.length ?? 0;
  }

  /**
   * A job without a group is claimed at `now` (PR.claimed): counts it, and returns its priority
   * wait when jobs of another level were claimed ahead of it since it was pushed.
   */
  claimed(id: string, now: number, agingMs: number): PriorityWait | undefined {
    const s = this.#served;
    if (!s) return undefined;
    const j = this.#job(id);
    const p = j.priority;
    const level = s.levels.get(p) ?? 0;
    const [t0, c0] = j.servedSnap ?? [0, 0];
    const ahead = priorityAhead(s.total, t0, level, c0);
    s.total++;
    s.levels.set(p, level + 1);
    if (ahead <= 0) return undefined;
    const waited = Math.max(0, now - j.dueAt);
    return priorityWait(p, agedPriority(p, waited, agingMs), waited, ahead);
  }

  /** Every waiting id: those without a group in priority order, then each group's, by group key. */
  ids(): string[] {
    const out = this.levels.ids();
    for (const g of [...this.#groups.keys()].sort()) {
      out.push(...(this.#groups.get(g) ?? []).map((e) => e.id));
    }
    return out;
  }

  /** Parked groups whose token exists at `now` take turns again, in token order (ZRANGEBYSCORE). */
  unparkDue(now: number): void {
    const due = [...this.parked].filter(([, at]) => at <= now).sort(byScoreThenName);
    for (const [g] of due) {
      this.parked.delete(g);
      this.ring.push(g);
    }
  }

  /** Every parked group takes turns again (a change of limits), in token order. */
  unparkAll(): void {
    const all = [...this.parked].sort(byScoreThenName);
    this.parked.clear();
    for (const [g] of all) this.ring.push(g);
  }

  /** The earliest parked group's token, or undefined. */
  firstParked(): number | undefined {
    return [...this.parked].sort(byScoreThenName)[0]?.[1];
  }

  /** Pops the next job without a group (popWaiting of one). */
  popUngrouped(agingMs: number): string | undefined {
    const id = this.levels.next(agingMs);
    if (id !== undefined) this.levels.delete(id);
    return id;
  }

  /** The `''` turn, after popping (`got`: whether a job was popped): rotate, or leave the ring. */
  afterUngroupedTurn(got: boolean): void {
    if (got && this.#ungroupedWaiting()) {
      this.ring.push(this.ring.shift() as string);
    } else {
      this.ring.shift();
      this.#gu = false;
      this.collapse();
    }
  }

  /** Parks the group at the head of the ring until `at`. */
  parkHead(at: number): void {
    const g = this.ring.shift() as string;
    this.parked.set(g, at);
  }

  /** Pops the next job of the group at the head of the ring, and moves the ring on. */
  popGroupHead(): { id: string; score: number } | undefined {
    const g = this.ring[0] as string;
    const list = this.#groups.get(g);
    const e = list?.shift();
    if (e) {
      this.#score.delete(e.id);
      this.#grouped--;
    }
    if (list && list.length === 0) this.#groups.delete(g);
    if (e && list && list.length > 0) {
      this.ring.push(this.ring.shift() as string);
    } else {
      this.ring.shift();
      this.collapse();
    }
    return e;
  }
}

export function byScoreThenName(a: [string, number], b: [string, number]): number {
  return a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}
