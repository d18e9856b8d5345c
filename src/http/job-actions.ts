/**
 * Bulk cancel, retry-now and replay of jobs, for the API (the dashboard's bulk actions): by ids, or
 * by the jobs view's filters ("everything matching"), each with a dry run. A dry run changes
 * nothing: it reports the jobs the real run would act on and, for each other, the message the real
 * run would give (unknown job, wrong state). Jobs are handled one at a time, in the order given
 * (by filter: the search's order); one failure does not stop the rest. Replay is the DLQ's own bulk
 * path (`dlq.replayMany`), given the ids.
 *
 * A filter is resolved to ids first, by the jobs view's search (`searchJobs`), bounded twice: at
 * most `limit` jobs ({@link MAX_ACTION_IDS}), and at most {@link MAX_SEARCH_PAGES} search requests
 * (each examines a bounded number of jobs). `more` says that more jobs may match: run again.
 * @module
 */
import { bulkTarget } from '../dlq.js';
import { InvalidStateError, JobNotFoundError, ValidationError } from '../errors.js';
import type { JobQuery } from '../job-index.js';
import type { Queue } from '../queue.js';
import type { JobState } from '../types.js';
import { searchJobs } from './job-search.js';

export type JobAction = 'cancel' | 'retry' | 'replay';

/** Most ids one request may name, and most jobs a filter acts on per request. */
export const MAX_ACTION_IDS = 1000;
/** Search requests one bulk action by filter makes at most (each examines at most 5,000 jobs). */
export const MAX_SEARCH_PAGES = 20;

export interface ActionRequest {
  /** Exactly one of ids and filter. */
  readonly ids?: readonly string[] | undefined;
  readonly filter?: JobQuery | undefined;
  /** With a filter: act on at most this many matching jobs (1 to {@link MAX_ACTION_IDS}). */
  readonly limit?: number | undefined;
  readonly by: string;
  /** The cancel reason, or the retry's or replay's note. */
  readonly note?: string | undefined;
  readonly dryRun: boolean;
}

export interface ActionOutcome {
  readonly dryRun: boolean;
  readonly matched: number;
  /** Acted on (or, on a dry run, would be). */
  readonly done: string[];
  readonly failed: { id: string; error: string }[];
  /** By filter: more jobs may match than this request took (the limit or the search bound). */
  readonly more: boolean;
}

/** The states each action takes, as `Queue.cancel`, `Queue.retryNow` and `dlq.replay` accept them. */
export const ACTION_STATES: Readonly<Record<JobAction, { states: readonly JobState[]; expected: string }>> = {
  cancel: { states: ['scheduled', 'waiting', 'active'], expected: 'scheduled, waiting or active' },
  retry: { states: ['dead', 'scheduled'], expected: 'dead or scheduled' },
  replay: { states: ['dead'], expected: 'dead' },
};

/**
 * Ids of up to `limit` jobs matching `filter`, in the search's order, and whether more may match.
 * Every id is collected before anything is acted on, so acting cannot move the search's cursor.
 */
export async function matchingIds(
  queue: Queue,
  filter: JobQuery,
  limit: number,
): Promise<{ ids: string[]; more: boolean }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
    const r = await searchJobs(queue, filter, cursor, Math.min(100, limit - ids.length), 'body.filter');
    ids.push(...r.jobs.map((j) => j.id));
    if (r.nextCursor === null) return { ids, more: false };
    if (ids.length >= limit) return { ids, more: true };
    cursor = r.nextCursor;
  }
  return { ids, more: true };
}

async function targetIds(queue: Queue, r: ActionRequest): Promise<{ ids: string[]; more: boolean }> {
  const target = bulkTarget<JobQuery>(r, 'a filter instead (the jobs view\'s filters: {"state": "dead"}, …)');
  if ('ids' in target) {
    if (r.limit !== undefined) {
      throw new ValidationError('limit', 'absent when ids are given (it bounds a filter)');
    }
    return { ids: [...new Set(target.ids)], more: false };
  }
  const limit = r.limit ?? MAX_ACTION_IDS;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ACTION_IDS) {
    throw new ValidationError('limit', `an integer from 1 to ${MAX_ACTION_IDS}`, limit);
  }
  return matchingIds(queue, target, limit);
}

async function problemOf(queue: Queue, action: JobAction, id: string): Promise<string | undefined> {
  const job = await queue.getJob(id);
  if (!job) return new JobNotFoundError(queue.name, id).message;
  const { states, expected } = ACTION_STATES[action];
  if (!states.includes(job.state)) return new InvalidStateError(id, job.state, expected).message;
  return undefined;
}

async function act(queue: Queue, action: 'cancel' | 'retry', id: string, r: ActionRequest): Promise<void> {
  const note = r.note === undefined ? {} : action === 'cancel' ? { reason: r.note } : { note: r.note };
  if (action === 'cancel') await queue.cancel(id, { by: r.by, ...note });
  else await queue.retryNow(id, { by: r.by, ...note });
}

export async function runJobAction(
  queue: Queue,
  action: JobAction,
  r: ActionRequest,
): Promise<ActionOutcome> {
  const { ids, more } = await targetIds(queue, r);
  if (action === 'replay') {
    if (ids.length === 0) return { dryRun: r.dryRun, matched: 0, done: [], failed: [], more };
    const out = await queue.dlq.replayMany(
      { ids },
      { by: r.by, ...(r.note === undefined ? {} : { note: r.note }), dryRun: r.dryRun },
    );
    return { dryRun: out.dryRun, matched: out.matched, done: out.replayed, failed: out.failed, more };
  }
  const done: string[] = [];
  const failed: { id: string; error: string }[] = [];
  for (const id of ids) {
    if (r.dryRun) {
      const problem = await problemOf(queue, action, id);
      if (problem === undefined) done.push(id);
      else failed.push({ id, error: problem });
      continue;
    }
    try {
      await act(queue, action, id, r);
      done.push(id);
    } catch (e) {
      if (!(e instanceof JobNotFoundError || e instanceof InvalidStateError)) throw e;
      failed.push({ id, error: e.message });
    }
  }
  return { dryRun: r.dryRun, matched: ids.length, done, failed, more };
}
