/**
 * The dead-letter queue of one queue: list and filter, group by error fingerprint, inspect,
 * replay (one, many by ids, or a filter; each replay recorded as a `manual` attempt trigger with
 * who, a note and the data patch as a diff), and purge. `replayMany` and `purgeMany` are the one
 * bulk path: the HTTP API and the CLI (both through a server and on Redis directly) call them.
 * @module
 */
import type { DeadKey } from './archive.js';
import type { DeadGroupStats, DeadSummary } from './backend.js';
import { resolveDlqFilter, type DlqFilter } from './dlq-filter.js';
import { InvalidStateError, JobNotFoundError, ValidationError } from './errors.js';
import { SearchSources, type SearchSource } from './job-index.js';
import { resolvePage } from './page.js';
import {
  manualRetry,
  type DlqQueueRef,
  patchData,
  resolveReplayOptions,
  type ReplayOptions,
  type ResolvedReplay,
} from './replay.js';
import type { Job } from './types.js';

export type { DlqFilter } from './dlq-filter.js';
export type { DlqQueueRef, ReplayOptions } from './replay.js';

/** A dead job as a DLQ page lists it; `archived` when read from the archive (evicted from the backend). */
export interface DeadListed extends DeadSummary {
  readonly archived?: true;
}

/** One page of `dlq.page`: `next` is the cursor of the following page, when there may be one. */
export interface DlqPage {
  readonly jobs: DeadListed[];
  readonly next: string | undefined;
}

/** Where a DLQ read looks (`source`, as for `Queue.searchJobs`) and which page. */
export interface DlqPageOptions {
  /** @default 'live' */
  readonly source?: SearchSource | undefined;
  /** The `next` of the previous page. */
  readonly cursor?: string | undefined;
  /** 1 to 1000. @default 50 */
  readonly limit?: number | undefined;
}

/** A group of dead jobs; over the archive, `archived` counts those read from it. */
export interface DlqGroup extends DeadGroupStats {
  readonly archived?: number;
}

/** Dead jobs by id, or every dead job matching a filter. */
export type DlqTarget = { readonly ids: readonly string[] } | DlqFilter;

export interface BulkOptions {
  /** Report what would happen, per id; change nothing. @default false */
  readonly dryRun?: boolean;
  /** With a filter: act on at most this many matching jobs (1 to {@link MAX_BULK}). */
  readonly limit?: number;
}

/** Per-id outcome of `replayMany`: replayed (or, on a dry run, would be), or why not. */
export interface BulkReplayResult {
  readonly dryRun: boolean;
  /** Ids the target named (deduplicated) or the filter matched. */
  readonly matched: number;
  readonly replayed: string[];
  readonly failed: { id: string; error: string }[];
}

/** Per-id outcome of `purgeMany`: purged (or, on a dry run, would be), or why not. */
export interface BulkPurgeResult {
  readonly dryRun: boolean;
  readonly matched: number;
  readonly purged: string[];
  readonly failed: { id: string; error: string }[];
}

/** What a bulk replay takes besides its target. */
export interface ReplayManyOptions extends ReplayOptions, BulkOptions {
  /**
   * With a filter: the dead jobs of the backend (`live`, the default), of the archive (restored,
   * then replayed) or both (`all`), as `page` lists them. Ids are found in either, always.
   */
  readonly source?: SearchSource | undefined;
}

/** A bulk replay as the API and the CLI carry it: ids or a filter (exactly one), and the options. */
export interface DlqReplayRequest extends ReplayManyOptions {
  readonly ids?: readonly string[] | undefined;
  readonly filter?: DlqFilter | undefined;
}

/** A bulk purge as the API and the CLI carry it. */
export interface DlqPurgeRequest extends BulkOptions {
  readonly ids?: readonly string[] | undefined;
  readonly filter?: DlqFilter | undefined;
}

/** A purge as the API and the CLI report it: how many, and on a dry run which. */
export interface PurgeReport {
  readonly dryRun: boolean;
  readonly purged: number;
  /** On a dry run: the dead jobs that would be purged. */
  readonly ids?: string[];
}

/**
 * The target of a bulk request: exactly one of ids and filter (for the DLQ, `{}` matches every dead
 * job). `orElse` says what the filter would be, in the error when neither is given.
 */
export function bulkTarget<F = DlqFilter>(
  req: { readonly ids?: readonly string[] | undefined; readonly filter?: F | undefined },
  orElse = 'a filter instead ({} matches every dead job)',
): { readonly ids: readonly string[] } | F {
  if (req.ids !== undefined && req.filter !== undefined) {
    throw new ValidationError('filter', 'absent when ids are given');
  }
  if (req.ids !== undefined) return { ids: req.ids };
  if (req.filter !== undefined) return req.filter;
  throw new ValidationError('ids', `given, or ${orElse}`);
}

/** Most ids one bulk call takes, and most jobs a filter's `limit` may ask for. */
export const MAX_BULK = 10_000;
/** Default `limit` of `replayMany` by filter (lowered to fit {@link MAX_PATCHED_BYTES}). */
export const DEFAULT_REPLAY_LIMIT = 10_000;
/**
 * Bytes of patch one `replayMany` call may apply in all (jobs × patch size): each job's patch is
 * merged, validated and written on its own, so a 1 MB patch on 10,000 jobs would be minutes of CPU
 * and 10 GB of writes. Patches up to 1.6 KB reach {@link MAX_BULK} jobs.
 */
export const MAX_PATCHED_BYTES = 16 << 20;

/** Most jobs one `replayMany` call may replay with a patch of `patchBytes` bytes. */
export function maxReplayJobs(patchBytes: number): number {
  return Math.max(1, Math.min(MAX_BULK, Math.floor(MAX_PATCHED_BYTES / Math.max(1, patchBytes))));
}

/** Ids per backend call when looking ids up, listing matches and purging. */
const CHUNK = 500;
/** Archive reads in flight at once when looking up ids the backend does not have. */
const ARCHIVE_LOOKUPS = 16;
/** Most archived rows one read of a merged page asks for. */
const ARCHIVE_SCAN_MAX = 2000;
/**
 * Most of the backend's dead jobs read at once to tell which archived rows it holds (beyond, the
 * rows are looked up one by one: the same answer, slower).
 */
const HELD_READ_MAX = 5000;
/** Largest page `page` gives (resolvePage's bound). */
const PAGE_MAX = 1000;

/** Why a purge leaves a dead job that only the archive holds. */
function archivedOnly(id: string): string {
  return `job ${id} is in the archive only (retention evicted it from the backend): purge deletes dead jobs the backend holds; the archive keeps history until its own retention (retraced archive --retain) prunes it`;
}

export class DeadLetterQueue {
  readonly #queue: DlqQueueRef;

  constructor(queue: DlqQueueRef) {
    this.#queue = queue;
  }

  get #backend() {
    return this.#queue.backend;
  }

  /** Dead jobs matching the filter, most recently dead first; the backend filters. */
  async list(filter: DlqFilter = {}, page: { offset?: number; limit?: number } = {}): Promise<DeadSummary[]> {
    return this.#backend.listDead(this.#queue.name, resolveDlqFilter(filter), resolvePage(page));
  }

  /**
   * A page of the dead jobs matching the filter, most recently dead first (dead at, then id in
   * byte order, descending), from `source`: the backend (`live`, the default), the archive, or
   * both merged (`all`), with one cursor over both. Merged, a job the backend holds (dead, or
   * replayed since it was archived) is listed as the backend has it, once; archived rows come
   * marked `archived: true`. Without an archive, `archive` lists nothing and `all` is `live`.
   */
  async page(filter: DlqFilter = {}, options: DlqPageOptions = {}): Promise<DlqPage> {
    const source = sourceOf(options.source);
    const f = resolveDlqFilter(filter);
    const c = parseDlqCursor(options.cursor);
    const { limit } = resolvePage(options.limit === undefined ? {} : { limit: options.limit });
    const archive = source === 'live' ? undefined : this.#queue.archive;
    const live =
      source === 'archive'
        ? []
        : await this.#backend.listDead(this.#queue.name, f, { offset: c.offset, limit: limit + 1 });
    // The archive's rows after the cursor, less those the backend holds (merged: shown from it).
    const kept: DeadListed[] = [];
    let scan = c.after;
    let ended = archive === undefined;
    // Merged, the newest archived rows are often all held by the backend (dead jobs are archived
    // before retention evicts them): each read that leaves rows out reads twice as many next.
    let want = limit + 1;
    // The last row left out before the first kept one: never shown from the archive (the backend
    // lists it, if it is dead there), so the next page need not read it again.
    let skipped: DeadKey | undefined;
    while (archive && kept.length <= limit && !ended) {
      const rows = await archive.listDead(this.#queue.name, f, scan, want);
      ended = rows.length < want;
      want = Math.min(want * 2, ARCHIVE_SCAN_MAX);
      if (rows.length === 0) break;
      // Which rows the backend holds: its dead jobs of the rows' time range in one read, then the
      // others looked up (held in another state: replayed since), as many as the page still needs.
      const heldDead = source === 'all' ? await this.#liveDeadIn(rows) : new Set<string>();
      const peeked = new Map<string, boolean>();
      let k = 0;
      for (; k < rows.length && kept.length <= limit; k++) {
        const r = rows[k] as DeadSummary;
        let held = heldDead.has(r.id);
        if (!held && source === 'all') {
          if (!peeked.has(r.id)) {
            const next: string[] = [];
            for (let m = k; m < rows.length && next.length < limit + 1 - kept.length; m++) {
              const id = (rows[m] as DeadSummary).id;
              if (!heldDead.has(id)) next.push(id);
            }
            const peeks = await this.#backend.peekDead(this.#queue.name, next);
            next.forEach((id, x) => peeked.set(id, peeks[x] !== null));
          }
          held = peeked.get(r.id) === true;
        }
        if (!held) kept.push({ ...r, archived: true });
        else if (kept.length === 0) skipped = { at: r.at, id: r.id };
        scan = { at: r.at, id: r.id };
      }
      if (k < rows.length) ended = false;
    }
    const jobs: DeadListed[] = [];
    let i = 0;
    let j = 0;
    while (jobs.length < limit && (i < live.length || j < kept.length)) {
      const a = live[i];
      const b = kept[j];
      if (a && (!b || compareDeadKeys(a, b) <= 0)) {
        jobs.push(a);
        i++;
      } else if (b) {
        jobs.push(b);
        j++;
      }
    }
    const more = i < live.length || j < kept.length || !ended;
    const lastArchived = kept[j - 1];
    const after = lastArchived ? { at: lastArchived.at, id: lastArchived.id } : (skipped ?? c.after);
    return { jobs, next: more ? dlqCursor(c.offset + i, after) : undefined };
  }

  /** The ids of the backend's dead jobs in the time range of `rows` (newest first), at most HELD_READ_MAX. */
  async #liveDeadIn(rows: readonly DeadSummary[]): Promise<Set<string>> {
    const first = rows[0] as DeadSummary;
    const last = rows[rows.length - 1] as DeadSummary;
    const live = await this.#backend.listDead(
      this.#queue.name,
      { from: last.at, to: first.at },
      { offset: 0, limit: HELD_READ_MAX },
    );
    return new Set(live.map((s) => s.id));
  }

  /**
   * Groups of dead jobs by error fingerprint with counts and first/last seen; busiest first. With
   * `source` `archive` the archive's dead jobs; `all` both, each job counted once: the jobs the
   * backend holds dead, or replayed by hand and not dead-lettered again, are counted from the
   * backend only (a dead job is archived before retention evicts it, so it is often in both).
   */
  async groups(
    filter: DlqFilter = {},
    options: { source?: SearchSource | undefined } = {},
  ): Promise<DlqGroup[]> {
    const source = sourceOf(options.source);
    const archive = this.#queue.archive;
    if (source === 'live' || !archive) return source === 'archive' ? [] : this.#liveGroups(filter);
    const f = resolveDlqFilter(filter);
    if (source === 'archive') {
      const groups = await archive.deadGroups(this.#queue.name, f, []);
      return groups.map(({ sample: _s, ...g }) => ({ ...g, archived: g.count }));
    }
    const [live, exclude] = await Promise.all([this.#liveGroups(filter), this.#heldIds()]);
    const out = new Map<string, DlqGroup>(live.map((g) => [g.fingerprint, { ...g, archived: 0 }]));
    for (const { sample: _s, ...g } of await archive.deadGroups(this.#queue.name, f, exclude)) {
      const have = out.get(g.fingerprint);
      out.set(
        g.fingerprint,
        have
          ? {
              fingerprint: g.fingerprint,
              label: have.label || g.label,
              count: have.count + g.count,
              firstSeen: Math.min(have.firstSeen, g.firstSeen),
              lastSeen: Math.max(have.lastSeen, g.lastSeen),
              archived: g.count,
            }
          : { ...g, archived: g.count },
      );
    }
    return [...out.values()].sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
  }

  /**
   * The ids of the jobs the backend holds that an archived dead row may also stand for: every
   * dead job, and every job replayed or retried by hand (the search index of trigger `manual`)
   * in another state (it was dead, maybe archived so, and runs again or finished again since).
   */
  async #heldIds(): Promise<string[]> {
    const ids = (await this.#matching({}, Number.MAX_SAFE_INTEGER)).map((s) => s.id);
    for (const state of ['waiting', 'scheduled', 'active', 'completed', 'cancelled'] as const) {
      let cursor: string | undefined;
      do {
        const r = await this.#backend.searchJobs(
          this.#queue.name,
          { state, trigger: 'manual' },
          cursor,
          1000,
        );
        for (const j of r.jobs) ids.push(j.id);
        cursor = r.next;
      } while (cursor !== undefined);
    }
    return ids;
  }

  async #liveGroups(filter: DlqFilter): Promise<DeadGroupStats[]> {
    const f = resolveDlqFilter(filter);
    const all = await this.#backend.deadGroups(this.#queue.name);
    if (Object.keys(f).length === 0) return all;
    const labels = new Map(all.map((g) => [g.fingerprint, g.label]));
    const groups = new Map<
      string,
      { fingerprint: string; label: string; count: number; firstSeen: number; lastSeen: number }
    >();
    for (const s of await this.#matching(filter, Number.MAX_SAFE_INTEGER)) {
      const g = groups.get(s.fingerprint);
      if (g) {
        g.count++;
        g.firstSeen = Math.min(g.firstSeen, s.at);
        g.lastSeen = Math.max(g.lastSeen, s.at);
      } else {
        groups.set(s.fingerprint, {
          fingerprint: s.fingerprint,
          label: labels.get(s.fingerprint) ?? '',
          count: 1,
          firstSeen: s.at,
          lastSeen: s.at,
        });
      }
    }
    return [...groups.values()].sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
  }

  /**
   * A dead job with its whole story: from the backend, or, when retention evicted it, from the
   * archive (marked `archived: true`). Throws if unknown or not dead.
   */
  async get(id: string): Promise<Job> {
    const job =
      (await this.#backend.getJob(this.#queue.name, id)) ??
      (this.#queue.archive ? await this.#queue.archive.getJob(this.#queue.name, id) : null);
    if (!job) throw new JobNotFoundError(this.#queue.name, id);
    if (job.state !== 'dead') throw new InvalidStateError(id, job.state, 'dead');
    return job;
  }

  /**
   * Sends a dead job back to waiting. The next attempt is recorded with trigger `manual`, who,
   * the note, and the patch as a diff. Attempt numbering continues; the retry budget starts afresh.
   * A dead job retention evicted is restored from the archive first (src/restore.ts), with its
   * whole history, then replayed the same way.
   */
  async replay(id: string, options: ReplayOptions): Promise<Job> {
    return manualRetry(this.#queue, id, resolveReplayOptions(options), false);
  }

  /**
   * Replays dead jobs by ids or by filter, one by one, each recorded; with `dryRun`, reports per id
   * what the real run would do (unknown, not dead, patched data too large) and changes nothing.
   * Who, note and patch are checked once; ids are looked up (a summary each) before any patch is
   * applied. At most {@link maxReplayJobs} jobs per call (ids beyond it: a ValidationError on `ids`;
   * a larger `limit`: on `limit`).
   */
  async replayMany(target: DlqTarget, options: ReplayManyOptions): Promise<BulkReplayResult> {
    const r = resolveReplayOptions(options);
    const dryRun = dryRunOf(options.dryRun);
    const source = sourceOf(options.source);
    const most = maxReplayJobs(r.patchBytes);
    const why =
      r.patchBytes > 0
        ? ` with a patch of ${r.patchBytes} bytes (at most ${MAX_PATCHED_BYTES} bytes of patch per call)`
        : '';
    const { ids, dead } = await this.#resolveTarget(target, options.limit, most, why, DEFAULT_REPLAY_LIMIT, {
      source,
      archived: 'restore',
    });
    const out: BulkReplayResult = { dryRun, matched: ids.length, replayed: [], failed: [] };
    for (const id of ids) {
      let error = dead.get(id);
      if (error === undefined) error = await this.#replayOne(id, r, dryRun);
      if (error === undefined) out.replayed.push(id);
      else out.failed.push({ id, error });
    }
    return out;
  }

  /** Deletes dead jobs by ids or by filter; per id, purged or why not. `dryRun` deletes nothing. */
  async purgeMany(target: DlqTarget, options: BulkOptions = {}): Promise<BulkPurgeResult> {
    const dryRun = dryRunOf(options.dryRun);
    const { ids, dead } = await this.#resolveTarget(
      target,
      options.limit,
      MAX_BULK,
      '',
      Number.MAX_SAFE_INTEGER,
      { source: 'live', archived: 'refuse' },
    );
    const candidates = ids.filter((id) => dead.get(id) === undefined);
    const gone = new Set<string>();
    if (!dryRun) {
      for (let i = 0; i < candidates.length; i += CHUNK) {
        for (const id of await this.#backend.purgeDead(this.#queue.name, candidates.slice(i, i + CHUNK))) {
          gone.add(id);
        }
      }
    }
    const out: BulkPurgeResult = { dryRun, matched: ids.length, purged: [], failed: [] };
    for (const id of ids) {
      const error =
        dead.get(id) ?? (dryRun || gone.has(id) ? undefined : `job ${id} changed state during the purge`);
      if (error === undefined) out.purged.push(id);
      else out.failed.push({ id, error });
    }
    return out;
  }

  /** `replayMany` for a request as the API and the CLI carry it. */
  replayRequest(req: DlqReplayRequest): Promise<BulkReplayResult> {
    const { ids, filter, ...options } = req;
    return this.replayMany(bulkTarget({ ids, filter }), options);
  }

  /** `purgeMany` for a request as the API and the CLI carry it, reported as they report it. */
  async purgeRequest(req: DlqPurgeRequest): Promise<PurgeReport> {
    const { ids, filter, ...options } = req;
    const r = await this.purgeMany(bulkTarget({ ids, filter }), options);
    const purged = r.purged.length;
    return r.dryRun ? { dryRun: true, purged, ids: r.purged } : { dryRun: false, purged };
  }

  /** Deletes dead jobs: by ids, or every one matching a filter. Returns how many were deleted. */
  async purge(target: DlqTarget): Promise<number> {
    return (await this.purgeMany(target)).purged.length;
  }

  /**
   * The ids a bulk call acts on, and for each one already known not to qualify, why. Ids are
   * deduplicated and looked up with summaries only (those the backend does not have, in the
   * archive: a dead one qualifies for a replay, which restores it, and is refused by a purge); a
   * filter's matches (from `source`) are dead by construction.
   */
  async #resolveTarget(
    target: DlqTarget,
    limit: number | undefined,
    most: number,
    why: string,
    defaultLimit: number,
    from: { source: SearchSource; archived: 'restore' | 'refuse' },
  ): Promise<{ ids: string[]; dead: Map<string, string | undefined> }> {
    const dead = new Map<string, string | undefined>();
    if (typeof target === 'object' && target !== null && 'ids' in target) {
      const list: unknown = target.ids;
      if (
        !Array.isArray(list) ||
        list.length === 0 ||
        list.some((id) => typeof id !== 'string' || id === '')
      ) {
        throw new ValidationError('ids', 'a non-empty array of job ids', list);
      }
      if (limit !== undefined) {
        throw new ValidationError('limit', 'absent when ids are given (it bounds a filter)');
      }
      const ids = [...new Set(list as string[])];
      if (ids.length > most) {
        throw new ValidationError('ids', `at most ${most} distinct ids per call${why}`, `${ids.length} ids`);
      }
      const absent: string[] = [];
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK);
        const peeks = await this.#backend.peekDead(this.#queue.name, chunk);
        chunk.forEach((id, j) => {
          const p = peeks[j];
          if (!p) absent.push(id);
          else if (p.state !== 'dead') dead.set(id, new InvalidStateError(id, p.state, 'dead').message);
        });
      }
      await this.#lookUpArchived(absent, from.archived, dead);
      return { ids, dead };
    }
    const max = limit === undefined ? Math.min(defaultLimit, most) : bulkLimit(limit, most, why);
    return { ids: (await this.#matching(target, max, from.source)).map((s) => s.id), dead };
  }

  /** Ids the backend does not have: found in the archive or not, and what the bulk call does. */
  async #lookUpArchived(
    ids: readonly string[],
    archived: 'restore' | 'refuse',
    out: Map<string, string | undefined>,
  ): Promise<void> {
    const archive = this.#queue.archive;
    for (let i = 0; i < ids.length; i += ARCHIVE_LOOKUPS) {
      const chunk = ids.slice(i, i + ARCHIVE_LOOKUPS);
      const jobs = archive
        ? await Promise.all(chunk.map((id) => archive.getJob(this.#queue.name, id)))
        : chunk.map(() => null);
      chunk.forEach((id, j) => {
        const job = jobs[j];
        if (!job) out.set(id, new JobNotFoundError(this.#queue.name, id).message);
        else if (job.state !== 'dead') out.set(id, new InvalidStateError(id, job.state, 'dead').message);
        else if (archived === 'refuse') out.set(id, archivedOnly(id));
      });
    }
  }

  /** Summaries of up to `max` dead jobs matching the filter from `source`, most recently dead first. */
  async #matching(filter: DlqFilter, max: number, source: SearchSource = 'live'): Promise<DeadSummary[]> {
    const f = resolveDlqFilter(filter);
    const out: DeadSummary[] = [];
    if (source !== 'live') {
      let cursor: string | undefined;
      while (out.length < max) {
        const page = await this.page(f, { source, cursor, limit: Math.min(PAGE_MAX, max - out.length) });
        out.push(...page.jobs);
        cursor = page.next;
        if (cursor === undefined) break;
      }
      return out;
    }
    while (out.length < max) {
      const want = Math.min(CHUNK, max - out.length);
      const page = await this.#backend.listDead(this.#queue.name, f, { offset: out.length, limit: want });
      out.push(...page);
      if (page.length < want) break;
    }
    return out;
  }

  /** Replays one dead job (or, on a dry run, checks that it would be); the error message if not. */
  async #replayOne(id: string, r: ResolvedReplay, dryRun: boolean): Promise<string | undefined> {
    try {
      if (!dryRun) await manualRetry(this.#queue, id, r, false);
      else if (r.patch !== undefined) patchData(await this.get(id), r, this.#queue.options.maxDataBytes);
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }
}

/** Newest dead first; among equals, the greater id in byte order (the dead set's ZREVRANGE). */
export function compareDeadKeys(a: DeadKey, b: DeadKey): number {
  if (a.at !== b.at) return b.at - a.at;
  return -Buffer.compare(Buffer.from(a.id), Buffer.from(b.id));
}

/**
 * A DLQ page cursor: how many of the backend's matches were listed, and the last archived row
 * listed; base64url JSON (a live-only cursor is `{"offset":n}`, as the API's offset cursors).
 */
export function dlqCursor(offset: number, after: DeadKey | undefined): string {
  const c = after ? { offset, after: [after.at, after.id] } : { offset };
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** Parses a DLQ cursor (undefined: the first page); a ValidationError on `cursor` if not one. */
export function parseDlqCursor(cursor: string | undefined): { offset: number; after: DeadKey | undefined } {
  if (cursor === undefined) return { offset: 0, after: undefined };
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    v = undefined;
  }
  const o = v as { offset?: unknown; after?: unknown } | undefined;
  const after = o?.after;
  const okAfter =
    after === undefined ||
    (Array.isArray(after) &&
      after.length === 2 &&
      Number.isSafeInteger(after[0]) &&
      typeof after[1] === 'string' &&
      after[1] !== '');
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.offset !== 'number' ||
    !Number.isSafeInteger(o.offset) ||
    o.offset < 0 ||
    !okAfter
  ) {
    throw new ValidationError('cursor', 'a `next` returned by a previous page', cursor);
  }
  const a = after as [number, string] | undefined;
  return { offset: o.offset, after: a ? { at: a[0], id: a[1] } : undefined };
}

function sourceOf(v: unknown): SearchSource {
  if (v === undefined) return 'live';
  if (!(SearchSources as readonly unknown[]).includes(v)) {
    throw new ValidationError('source', `one of ${SearchSources.join(', ')}`, v);
  }
  return v as SearchSource;
}

function dryRunOf(v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new ValidationError('dryRun', 'true or false', v);
  return v;
}

function bulkLimit(v: unknown, most: number, why: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > most) {
    throw new ValidationError('limit', `an integer from 1 to ${most}${why}`, v);
  }
  return v;
}
