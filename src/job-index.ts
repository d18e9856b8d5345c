/**
 * Job search by secondary indexes: what a search asks (`JobQuery`), which index entries ("facets")
 * a job gets at which transition, and the order and cursor of the results. Pure; both backends use
 * it, the Redis one through Lua twins of the same names (`lua/includes/indexFacets.lua`,
 * `lua/search-10.lua`).
 *
 * A facet is an index entry, spelled `<kind>:<value>`: `n:` name (at add), and, recorded by the
 * transition that makes them true and kept until the job is deleted: `c:` error class, `r:` the rule
 * that classified it, `e:` error code, `f:` error fingerprint (of ANY attempt of the job, not only
 * the last one: "every job that ever hit ECONNRESET"), `t:stall` / `t:manual` (the job was
 * recovered from a stall / run again by a person), and `rt` (the job ran or will run more than
 * once: every job with 2 or more attempts made has it). On Redis each facet is a sorted set of job
 * ids scored by creation time; on memory, a set on the job.
 *
 * A search with at least one facet walks the smallest facet's index, newest created first, and
 * checks the rest on each candidate (other facets, state, attempts made, time range, text in the
 * data): each request examines at most `budget` candidates, so a page may hold fewer than `limit`
 * jobs while a cursor says more may follow. The text filter is such a check, never an index.
 * @module
 */
import { LEASE_EXPIRED_CODE, POISON_FINGERPRINT, STALL_RULE } from './transitions.js';
import type { ErrorClass, ErrorInfo, Job, JobState } from './types.js';

export type SearchTrigger = 'manual' | 'stall';

/** What a search asks: the state, and any of the other filters (all must match). */
export interface JobQuery {
  readonly state: JobState;
  readonly name?: string | undefined;
  /** The class of an error of any attempt. */
  readonly errorClass?: ErrorClass | undefined;
  /** The rule that classified an error of any attempt (`code:ECONNRESET`, `thrown:PermanentError`, …). */
  readonly rule?: string | undefined;
  /** The code of an error of any attempt. */
  readonly errorCode?: string | undefined;
  /** The fingerprint of an error of any attempt (`errorFingerprint`). */
  readonly fingerprint?: string | undefined;
  /** The job had an attempt triggered this way (recovered from a stall, or run by a person). */
  readonly trigger?: SearchTrigger | undefined;
  /** Attempts made (finished), at least / at most. */
  readonly minAttempts?: number | undefined;
  readonly maxAttempts?: number | undefined;
  /** createdAt (finishedAt for finished states) at or after / at or before, ms since epoch. */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  /** A substring of the job's data as JSON text (case-sensitive). */
  readonly text?: string | undefined;
}

export interface SearchPage {
  readonly ids: string[];
  /** Where the next page starts; undefined when nothing more matches. */
  readonly next: string | undefined;
}

/** Most candidates one search request examines (Redis; memory examines everything). */
export const SEARCH_BUDGET = 5000;

export const FINISHED_STATES: readonly JobState[] = ['completed', 'dead', 'cancelled'];

/** The facets a query needs, in a fixed order; empty when it needs none (a plain state listing). */
export function queryFacets(q: JobQuery): string[] {
  const out: string[] = [];
  if (q.name !== undefined) out.push(`n:${q.name}`);
  if (q.errorClass !== undefined) out.push(`c:${q.errorClass}`);
  if (q.rule !== undefined) out.push(`r:${q.rule}`);
  if (q.errorCode !== undefined) out.push(`e:${q.errorCode}`);
  if (q.fingerprint !== undefined) out.push(`f:${q.fingerprint}`);
  if (q.trigger !== undefined) out.push(`t:${q.trigger}`);
  if (q.minAttempts !== undefined && q.minAttempts >= 2) out.push('rt');
  return out;
}

/** The facets a finished attempt adds (the Lua twin: `failureFacets` in finish-10.lua's include). */
export function failureFacets(r: {
  readonly error?: ErrorInfo | undefined;
  readonly errorClass?: ErrorClass | undefined;
  readonly rule?: string | undefined;
  readonly fingerprint?: string | undefined;
  readonly decision: { readonly action: string };
}): string[] {
  const out: string[] = [];
  if (r.error) {
    if (r.errorClass) out.push(`c:${r.errorClass}`);
    if (r.rule) out.push(`r:${r.rule}`);
    if (r.error.code) out.push(`e:${r.error.code}`);
    if (r.fingerprint) out.push(`f:${r.fingerprint}`);
  }
  if (r.decision.action === 'retry') out.push('rt');
  return out;
}

/**
 * The facets a stall adds (the Lua twin: includes/stallFacets.lua): the trigger, the stalled
 * attempt's class, rule and code, and `rt` (back to waiting) or, for poison, the dead letter's
 * fingerprint.
 */
export function stallFacets(errorClass: ErrorClass, poison: boolean): string[] {
  return [
    't:stall',
    `c:${errorClass}`,
    `r:${STALL_RULE}`,
    `e:${LEASE_EXPIRED_CODE}`,
    poison ? `f:${POISON_FINGERPRINT}` : 'rt',
  ];
}

/** The facets a replay (or a retry by hand) adds (replay-10.lua). */
export const REPLAY_FACETS: readonly string[] = ['t:manual', 'rt'];

/** What a search answers: the jobs of the page, in order, and where the next page starts. */
export interface SearchResult {
  readonly jobs: Job[];
  /** Undefined when nothing more matches. */
  readonly next: string | undefined;
}

/** A position in the newest-created-first order: (createdAt, id), ids compared as bytes. */
export interface SearchKey {
  readonly createdAt: number;
  readonly id: string;
}

/**
 * Where a search or a DLQ listing looks: the backend (`live`), the archive, or both merged (`all`,
 * each job once: as the backend has it while it does).
 */
export const SearchSources = ['live', 'archive', 'all'] as const;
export type SearchSource = (typeof SearchSources)[number];

/** Newest created first; among equals, the greater id (byte order, as a Redis sorted set in REV). */
export function compareSearchKeys(a: SearchKey, b: SearchKey): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  const x = Buffer.from(a.id);
  const y = Buffer.from(b.id);
  return -Buffer.compare(x, y);
}

/** The cursor text after `k`: `<createdAt>:<id>` (the Redis script reads the same text). */
export function searchCursor(k: SearchKey): string {
  return `${k.createdAt}:${k.id}`;
}

/** Parses a search cursor; undefined when it is not one. */
export function parseSearchCursor(text: string): SearchKey | undefined {
  const m = /^(\d{1,16}):(.+)$/s.exec(text);
  if (!m) return undefined;
  return { createdAt: Number(m[1]), id: m[2] as string };
}

/** The checks every candidate gets beyond its facets (memory; the Lua twin is in search-10.lua). */
export function matchesCandidate(
  q: JobQuery,
  j: {
    readonly state: JobState;
    readonly attempts: number;
    readonly createdAt: number;
    readonly finishedAt: number | undefined;
    readonly data: string;
  },
): boolean {
  if (j.state !== q.state) return false;
  if (q.minAttempts !== undefined && j.attempts < q.minAttempts) return false;
  if (q.maxAttempts !== undefined && j.attempts > q.maxAttempts) return false;
  const t = FINISHED_STATES.includes(q.state) ? (j.finishedAt ?? j.createdAt) : j.createdAt;
  if (q.from !== undefined && t < q.from) return false;
  if (q.to !== undefined && t > q.to) return false;
  if (q.text !== undefined && !j.data.includes(q.text)) return false;
  return true;
}
