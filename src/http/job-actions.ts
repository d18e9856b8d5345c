/**
 * Bulk cancel and bulk retry-now of jobs by id, for the API (the dashboard's bulk actions), each
 * with a dry run. A dry run changes nothing: it reads each job and reports the ones the real run
 * would act on and, for each other, the message the real run would give (unknown job, wrong
 * state). Jobs are handled one at a time, in the order given; one failure does not stop the rest.
 * @module
 */
import { InvalidStateError, JobNotFoundError } from '../errors.js';
import type { Queue } from '../queue.js';
import type { JobState } from '../types.js';

export type JobAction = 'cancel' | 'retry';

export interface ActionRequest {
  readonly ids: readonly string[];
  readonly by: string;
  /** The cancel reason, or the retry's note. */
  readonly note?: string | undefined;
  readonly dryRun: boolean;
}

export interface ActionOutcome {
  readonly dryRun: boolean;
  readonly matched: number;
  /** Acted on (or, on a dry run, would be). */
  readonly done: string[];
  readonly failed: { id: string; error: string }[];
}

/** The states each action takes, as `Queue.cancel` and `Queue.retryNow` accept them. */
export const ACTION_STATES: Readonly<Record<JobAction, { states: readonly JobState[]; expected: string }>> = {
  cancel: { states: ['scheduled', 'waiting', 'active'], expected: 'scheduled, waiting or active' },
  retry: { states: ['dead', 'scheduled'], expected: 'dead or scheduled' },
};

async function problemOf(queue: Queue, action: JobAction, id: string): Promise<string | undefined> {
  const job = await queue.getJob(id);
  if (!job) return new JobNotFoundError(queue.name, id).message;
  const { states, expected } = ACTION_STATES[action];
  if (!states.includes(job.state)) return new InvalidStateError(id, job.state, expected).message;
  return undefined;
}

async function act(queue: Queue, action: JobAction, id: string, r: ActionRequest): Promise<void> {
  const note = r.note === undefined ? {} : action === 'cancel' ? { reason: r.note } : { note: r.note };
  if (action === 'cancel') await queue.cancel(id, { by: r.by, ...note });
  else await queue.retryNow(id, { by: r.by, ...note });
}

export async function runJobAction(
  queue: Queue,
  action: JobAction,
  r: ActionRequest,
): Promise<ActionOutcome> {
  const ids = [...new Set(r.ids)];
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
  return { dryRun: r.dryRun, matched: ids.length, done, failed };
}
