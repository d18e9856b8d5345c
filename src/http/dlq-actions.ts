/**
 * DLQ replay and purge for the API: by ids or by a filter, for real or as a dry run. A dry run
 * reads and changes nothing: it reports the jobs that would be replayed (or purged) and, for each
 * one that would fail, the same message the real run would give (unknown job, not dead, patched
 * data too large). Input errors are ValidationErrors named relative to the request body.
 * @module
 */
import type { DlqFilter } from '../dlq.js';
import { InvalidStateError, JobNotFoundError, ValidationError } from '../errors.js';
import { toJson } from '../options.js';
import { mergePatch } from '../patch.js';
import type { Queue } from '../queue.js';
import { parseTime } from './inputs.js';
import type { DlqFilterBody } from './schemas.js';

/** Largest page `dlq.list` serves. */
const LIST_PAGE = 1000;

export interface ReplayOutcome {
  readonly dryRun: boolean;
  readonly matched: number;
  readonly replayed: string[];
  readonly failed: { id: string; error: string }[];
}

export interface PurgeOutcome {
  readonly dryRun: boolean;
  readonly purged: number;
  readonly ids?: string[];
}

export interface Target {
  readonly ids?: readonly string[] | undefined;
  readonly filter?: DlqFilterBody | undefined;
}

/** The library filter for a body filter; times parsed, the field named on error. */
export function toDlqFilter(f: DlqFilterBody, field: string): DlqFilter {
  const from = parseTime(f.from, `${field}.from`);
  const to = parseTime(f.to, `${field}.to`);
  return {
    ...(f.reason !== undefined ? { reason: f.reason } : {}),
    ...(f.errorCode !== undefined ? { errorCode: f.errorCode } : {}),
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(f.fingerprint !== undefined ? { fingerprint: f.fingerprint } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  };
}

/** Exactly one of ids (deduplicated) and filter (parsed). Fields are named relative to the body. */
export function resolveTarget(t: Target): { ids: readonly string[] } | { filter: DlqFilter } {
  if (t.ids !== undefined && t.filter !== undefined) {
    throw new ValidationError('filter', 'absent when ids are given');
  }
  if (t.ids !== undefined) return { ids: [...new Set(t.ids)] };
  if (t.filter !== undefined) return { filter: toDlqFilter(t.filter, 'filter') };
  throw new ValidationError('ids', 'given, or a filter instead ({} matches every dead job)');
}

/** Ids of the dead jobs matching `filter`, most recently dead first, at most `limit`. */
async function matchIds(queue: Queue, filter: DlqFilter, limit: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < limit) {
    const want = Math.min(LIST_PAGE, limit - ids.length);
    const page = await queue.dlq.list(filter, { offset: ids.length, limit: want });
    ids.push(...page.map((s) => s.id));
    if (page.length < want) break;
  }
  return ids;
}

/** Why replaying `id` would fail, or undefined if it would be replayed. Reads only. */
async function replayProblem(queue: Queue, id: string, patch: unknown): Promise<string | undefined> {
  const job = await queue.getJob(id);
  if (!job) return new JobNotFoundError(queue.name, id).message;
  if (job.state !== 'dead') return new InvalidStateError(id, job.state, 'dead').message;
  if (patch === undefined) return undefined;
  try {
    toJson(mergePatch(job.data, patch), 'patch (applied to data)', queue.options.maxDataBytes);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export interface ReplayRequest extends Target {
  readonly by: string;
  readonly note?: string | undefined;
  readonly patch?: unknown;
  readonly dryRun: boolean;
  readonly limit: number;
}

export async function replayDead(queue: Queue, req: ReplayRequest): Promise<ReplayOutcome> {
  const target = resolveTarget(req);
  const options = {
    by: req.by,
    ...(req.note !== undefined ? { note: req.note } : {}),
    ...(req.patch !== undefined ? { patch: req.patch } : {}),
  };
  if (!req.dryRun && 'filter' in target) {
    const r = await queue.dlq.replayMany(target.filter, { ...options, limit: req.limit });
    return { dryRun: false, matched: r.replayed.length + r.failed.length, ...r };
  }
  const ids = 'ids' in target ? [...target.ids] : await matchIds(queue, target.filter, req.limit);
  const out: ReplayOutcome = { dryRun: req.dryRun, matched: ids.length, replayed: [], failed: [] };
  for (const id of ids) {
    let error: string | undefined;
    if (req.dryRun) {
      error = await replayProblem(queue, id, req.patch);
    } else {
      try {
        await queue.dlq.replay(id, options);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
    }
    if (error === undefined) out.replayed.push(id);
    else out.failed.push({ id, error });
  }
  return out;
}

export async function purgeDead(
  queue: Queue,
  req: Target & { readonly dryRun: boolean },
): Promise<PurgeOutcome> {
  const target = resolveTarget(req);
  if (!req.dryRun) {
    const purged = await queue.dlq.purge('ids' in target ? { ids: target.ids } : target.filter);
    return { dryRun: false, purged };
  }
  let ids: string[];
  if ('ids' in target) {
    const jobs = await Promise.all(target.ids.map((id) => queue.getJob(id)));
    ids = target.ids.filter((_, i) => jobs[i]?.state === 'dead');
  } else {
    ids = await matchIds(queue, target.filter, Number.MAX_SAFE_INTEGER);
  }
  return { dryRun: true, purged: ids.length, ids };
}
