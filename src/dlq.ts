/**
 * The dead-letter queue of one queue: list and filter, group by error fingerprint, inspect,
 * replay (one, a group, or a filter; each replay recorded as a `manual` attempt trigger with who,
 * a note and the data patch as a diff), and purge.
 * @module
 */
import type { Backend, DeadGroupStats, DeadSummary } from './backend.js';
import { ConflictError, InvalidStateError, JobNotFoundError, ValidationError } from './errors.js';
import { toJson, type ResolvedQueueOptions } from './options.js';
import { resolvePage } from './page.js';
import { diffJson, mergePatch } from './patch.js';
import type { DeadReason, Job } from './types.js';
import { checkNote, checkOptionalText, checkWho, Rules } from './validate.js';

const REASONS: readonly DeadReason[] = ['exhausted', 'permanent', 'poison'];

export interface DlqFilter {
  readonly reason?: DeadReason | readonly DeadReason[];
  readonly errorCode?: string;
  readonly name?: string;
  readonly fingerprint?: string;
  /** Dead since (inclusive). */
  readonly from?: Date | number;
  /** Dead until (inclusive). */
  readonly to?: Date | number;
}

export interface ReplayOptions {
  /** Who replays: recorded with the manual attempt. */
  readonly by: string;
  readonly note?: string;
  /** JSON Merge Patch applied to the job's data; the diff is recorded. */
  readonly patch?: unknown;
}

export interface BulkReplayResult {
  readonly replayed: string[];
  readonly failed: { id: string; error: string }[];
}

const SCAN_PAGE = 500;

/**
 * What the DLQ needs of its queue (a `Queue` is one): named here so that this module does not
 * import `queue.ts`, which imports it.
 */
export interface DlqQueueRef {
  readonly name: string;
  readonly backend: Backend;
  readonly options: Pick<ResolvedQueueOptions, 'maxDataBytes'>;
}

export class DeadLetterQueue {
  readonly #queue: DlqQueueRef;

  constructor(queue: DlqQueueRef) {
    this.#queue = queue;
  }

  get #backend() {
    return this.#queue.backend;
  }

  /** Dead jobs matching the filter, most recently dead first. */
  async list(filter: DlqFilter = {}, page: { offset?: number; limit?: number } = {}): Promise<DeadSummary[]> {
    const f = resolveFilter(filter);
    const p = resolvePage(page);
    const out: DeadSummary[] = [];
    let skipped = 0;
    for await (const s of this.#scan(f)) {
      if (skipped < p.offset) {
        skipped++;
        continue;
      }
      out.push(s);
      if (out.length >= p.limit) break;
    }
    return out;
  }

  /** Groups of dead jobs by error fingerprint with counts and first/last seen; busiest first. */
  async groups(filter: DlqFilter = {}): Promise<DeadGroupStats[]> {
    const f = resolveFilter(filter);
    if (isEmptyFilter(f)) return this.#backend.deadGroups(this.#queue.name);
    const labels = new Map((await this.#backend.deadGroups(this.#queue.name)).map((g) => [g.fingerprint, g.label]));
    const groups = new Map<string, { fingerprint: string; label: string; count: number; firstSeen: number; lastSeen: number }>();
    for await (const s of this.#scan(f)) {
      const g = groups.get(s.fingerprint);
      if (g) {
        g.count++;
        g.firstSeen = Math.min(g.firstSeen, s.at);
        g.lastSeen = Math.max(g.lastSeen, s.at);
      } else {
        groups.set(s.fingerprint, { fingerprint: s.fingerprint, label: labels.get(s.fingerprint) ?? '', count: 1, firstSeen: s.at, lastSeen: s.at });
      }
    }
    return [...groups.values()].sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
  }

  /** A dead job with its whole story. Throws if unknown or not dead. */
  async get(id: string): Promise<Job> {
    const job = await this.#backend.getJob(this.#queue.name, id);
    if (!job) throw new JobNotFoundError(this.#queue.name, id);
    if (job.state !== 'dead') throw new InvalidStateError(id, job.state, 'dead');
    return job;
  }

  /**
   * Sends a dead job back to waiting. The next attempt is recorded with trigger `manual`, who,
   * the note, and the patch as a diff. Attempt numbering continues; the retry budget starts afresh.
   */
  async replay(id: string, options: ReplayOptions): Promise<Job> {
    return manualRetry(this.#queue, id, options, false);
  }

  /** Replays every dead job matching the filter (at most `limit`), one by one, each recorded. */
  async replayMany(filter: DlqFilter, options: ReplayOptions & { limit?: number }): Promise<BulkReplayResult> {
    const f = resolveFilter(filter);
    resolveReplayOptions(options);
    const limit = options.limit === undefined ? 10_000 : resolvePage({ limit: options.limit }, 100_000).limit;
    const ids: string[] = [];
    for await (const s of this.#scan(f)) {
      ids.push(s.id);
      if (ids.length >= limit) break;
    }
    const result: BulkReplayResult = { replayed: [], failed: [] };
    for (const id of ids) {
      try {
        await this.replay(id, options);
        result.replayed.push(id);
      } catch (e) {
        result.failed.push({ id, error: e instanceof Error ? e.message : String(e) });
      }
    }
    return result;
  }

  /** Deletes dead jobs: by ids, or every one matching a filter. Returns how many were deleted. */
  async purge(target: { ids: readonly string[] } | DlqFilter): Promise<number> {
    if ('ids' in target) {
      if (!Array.isArray(target.ids) || target.ids.some((id) => typeof id !== 'string')) {
        throw new ValidationError('ids', 'an array of job ids', target.ids);
      }
      return this.#backend.purgeDead(this.#queue.name, target.ids);
    }
    const f = resolveFilter(target);
    let total = 0;
    let batch: string[] = [];
    // Collect first, then delete: deleting while paging would shift the pages.
    const all: string[] = [];
    for await (const s of this.#scan(f)) all.push(s.id);
    for (const id of all) {
      batch.push(id);
      if (batch.length >= SCAN_PAGE) {
        total += await this.#backend.purgeDead(this.#queue.name, batch);
        batch = [];
      }
    }
    if (batch.length) total += await this.#backend.purgeDead(this.#queue.name, batch);
    return total;
  }

  async *#scan(f: ResolvedFilter): AsyncGenerator<DeadSummary> {
    const q = this.#queue.name;
    if (f.fingerprint !== undefined) {
      for (let offset = 0; ; offset += SCAN_PAGE) {
        const ids = await this.#backend.deadByFingerprint(q, f.fingerprint, { offset, limit: SCAN_PAGE });
        for (const id of ids) {
          const job = await this.#backend.getJob(q, id);
          if (!job?.dead) continue;
          const s: DeadSummary = {
            id,
            name: job.name,
            reason: job.dead.reason,
            at: job.dead.at,
            fingerprint: job.dead.fingerprint,
            errorCode: job.dead.error?.code,
          };
          if (matches(s, f)) yield s;
        }
        if (ids.length < SCAN_PAGE) return;
      }
    }
    for (let offset = 0; ; offset += SCAN_PAGE) {
      const page = await this.#backend.listDead(q, { from: f.from, to: f.to }, { offset, limit: SCAN_PAGE });
      for (const s of page) if (matches(s, f)) yield s;
      if (page.length < SCAN_PAGE) return;
    }
  }
}

/**
 * Sends a dead job (or, with `alsoScheduled`, a job waiting for its retry) to waiting by hand.
 * Optimistic: re-reads and retries if the job changed between the read and the transition.
 * @internal
 */
export async function manualRetry(queue: DlqQueueRef, id: string, options: ReplayOptions, alsoScheduled: boolean): Promise<Job> {
  const o = resolveReplayOptions(options);
  const expected = alsoScheduled ? 'dead or scheduled' : 'dead';
  for (let tries = 0; ; tries++) {
    const job = await queue.backend.getJob(queue.name, id);
    if (!job) throw new JobNotFoundError(queue.name, id);
    if (job.state !== 'dead' && !(alsoScheduled && job.state === 'scheduled')) {
      throw new InvalidStateError(id, job.state, expected);
    }
    let data: string | undefined;
    let patch: string | undefined;
    if (o.patch !== undefined) {
      const next = mergePatch(job.data, o.patch);
      data = toJson(next, 'patch (applied to data)', queue.options.maxDataBytes);
      patch = JSON.stringify(diffJson(job.data, JSON.parse(data)));
    }
    const r = await queue.backend.replay(queue.name, {
      id,
      expectedAttempts: job.attempts.length,
      data,
      by: o.by,
      note: o.note,
      patch,
      alsoScheduled,
    });
    if (r.ok) return (await queue.backend.getJob(queue.name, id)) as Job;
    if (r.reason === 'not_found') throw new JobNotFoundError(queue.name, id);
    if (r.reason === 'not_dead') throw new InvalidStateError(id, r.state ?? 'unknown', expected);
    if (tries >= 3) throw new ConflictError(`job ${id} kept changing during the manual retry; try again`);
  }
}

interface ResolvedFilter {
  reasons: readonly DeadReason[] | undefined;
  errorCode: string | undefined;
  name: string | undefined;
  fingerprint: string | undefined;
  from: number | undefined;
  to: number | undefined;
}

function isEmptyFilter(f: ResolvedFilter): boolean {
  return Object.values(f).every((v) => v === undefined);
}

function matches(s: DeadSummary, f: ResolvedFilter): boolean {
  return (
    (f.reasons === undefined || f.reasons.includes(s.reason)) &&
    (f.errorCode === undefined || s.errorCode === f.errorCode) &&
    (f.name === undefined || s.name === f.name) &&
    (f.fingerprint === undefined || s.fingerprint === f.fingerprint) &&
    (f.from === undefined || s.at >= f.from) &&
    (f.to === undefined || s.at <= f.to)
  );
}

function toTime(v: unknown, field: string): number | undefined {
  if (v === undefined) return undefined;
  const t = v instanceof Date ? v.getTime() : v;
  if (typeof t !== 'number' || !Number.isFinite(t)) throw new ValidationError(field, 'a Date or ms since epoch', v);
  return t;
}

function resolveFilter(filter: DlqFilter): ResolvedFilter {
  if (typeof filter !== 'object' || filter === null) throw new ValidationError('filter', 'an object', filter);
  for (const k of Object.keys(filter)) {
    if (!['reason', 'errorCode', 'name', 'fingerprint', 'from', 'to'].includes(k)) {
      throw new ValidationError(`filter.${k}`, 'not a known filter (known: reason, errorCode, name, fingerprint, from, to)');
    }
  }
  let reasons: readonly DeadReason[] | undefined;
  if (filter.reason !== undefined) {
    reasons = Array.isArray(filter.reason) ? filter.reason : [filter.reason as DeadReason];
    for (const r of reasons) {
      if (!REASONS.includes(r)) throw new ValidationError('filter.reason', `one of ${REASONS.join(', ')}`, r);
    }
  }
  return {
    reasons,
    errorCode: checkOptionalText(filter.errorCode, 'filter.errorCode', Rules.errorCode),
    name: checkOptionalText(filter.name, 'filter.name', Rules.jobName),
    fingerprint: checkOptionalText(filter.fingerprint, 'filter.fingerprint', Rules.fingerprint),
    from: toTime(filter.from, 'filter.from'),
    to: toTime(filter.to, 'filter.to'),
  };
}

function resolveReplayOptions(o: ReplayOptions): ReplayOptions {
  if (typeof o !== 'object' || o === null) throw new ValidationError('options', 'an object with { by, note?, patch? }', o);
  checkWho(o.by);
  checkNote(o.note);
  if (o.patch !== undefined) toJson(o.patch, 'patch', 1 << 20);
  return o;
}
