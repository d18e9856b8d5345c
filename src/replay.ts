/**
 * A replay by hand (`dlq.replay`, `dlq.replayMany`, `queue.retryNow`): who, a note and a data
 * patch, checked once per request; the patch applied to each job's data, size-checked, and
 * recorded as a diff. A dry run checks each job exactly as the real run would.
 * @module
 */
import type { JobArchive } from './archive.js';
import type { Backend } from './backend.js';
import { ConflictError, InvalidStateError, JobNotFoundError, ValidationError } from './errors.js';
import { toJson, type ResolvedQueueOptions } from './options.js';
import { diffJson, mergePatch } from './patch.js';
import { restoreRequest } from './restore.js';
import type { Job } from './types.js';
import { checkNote, checkWho } from './validate.js';

/**
 * What the DLQ and a manual retry need of their queue (a `Queue` is one): named here so that
 * neither this module nor `dlq.ts` imports `queue.ts`, which imports them.
 */
export interface DlqQueueRef {
  readonly name: string;
  readonly backend: Backend;
  /** Where dead jobs evicted from the backend are found (`QueueOptions.archive`). */
  readonly archive?: JobArchive | undefined;
  readonly options: Pick<ResolvedQueueOptions, 'maxDataBytes'>;
}

export interface ReplayOptions {
  /** Who replays: recorded with the manual attempt. */
  readonly by: string;
  readonly note?: string;
  /** JSON Merge Patch applied to the job's data; the diff is recorded. */
  readonly patch?: unknown;
}

/** Largest patch a replay takes, in bytes of JSON. */
export const MAX_PATCH_BYTES = 1 << 20;

/** Replay options checked: the patch is JSON-safe, at most 64 levels deep and sized. */
export interface ResolvedReplay {
  readonly by: string;
  readonly note: string | undefined;
  readonly patch: unknown;
  /** Bytes of the patch's JSON (0 without a patch). */
  readonly patchBytes: number;
}

/** Checks who, note and patch once per request (depth before anything walks the patch). */
export function resolveReplayOptions(o: ReplayOptions): ResolvedReplay {
  if (typeof o !== 'object' || o === null) {
    throw new ValidationError('options', 'an object with { by, note?, patch? }', o);
  }
  const by = checkWho(o.by);
  const note = checkNote(o.note);
  const patchText = o.patch === undefined ? undefined : toJson(o.patch, 'patch', MAX_PATCH_BYTES);
  return { by, note, patch: o.patch, patchBytes: patchText === undefined ? 0 : Buffer.byteLength(patchText) };
}

/** The job's data with the patch applied, as stored, and the diff to record; throws as the replay would. */
export function patchData(job: Job, r: ResolvedReplay, maxDataBytes: number): { data: string; diff: string } {
  const data = toJson(mergePatch(job.data, r.patch), 'patch (applied to data)', maxDataBytes);
  return { data, diff: JSON.stringify(diffJson(job.data, JSON.parse(data))) };
}

/**
 * A dead job retention evicted, restored from the queue's archive into the backend as archived
 * (`Backend.restoreDead`: its attempts, options, facets, dead set and group) so that it can be
 * replayed like any dead job; then the replay is recorded as any replay, and the archiver appends
 * its new attempts when it finishes again. Null when the archive has no such job; an archived job
 * that is not dead is refused as the backend would refuse it. Idempotent: when the backend has the
 * id already (restored by a concurrent replay, or added again), the backend's job is returned.
 */
async function restoreArchived(queue: DlqQueueRef, id: string): Promise<Job | null> {
  const archived = queue.archive ? await queue.archive.getJob(queue.name, id) : null;
  if (!archived) return null;
  if (archived.state !== 'dead') return archived;
  await queue.backend.restoreDead(queue.name, restoreRequest(archived));
  return queue.backend.getJob(queue.name, id);
}

/**
 * Sends a dead job (or, with `alsoScheduled`, a job waiting for its retry) to waiting by hand.
 * Optimistic: re-reads and retries if the job changed between the read and the transition.
 * @internal
 */
export async function manualRetry(
  queue: DlqQueueRef,
  id: string,
  r: ResolvedReplay,
  alsoScheduled: boolean,
): Promise<Job> {
  const expected = alsoScheduled ? 'dead or scheduled' : 'dead';
  for (let tries = 0; ; tries++) {
    const job = (await queue.backend.getJob(queue.name, id)) ?? (await restoreArchived(queue, id));
    if (!job) throw new JobNotFoundError(queue.name, id);
    if (job.state !== 'dead' && !(alsoScheduled && job.state === 'scheduled')) {
      throw new InvalidStateError(id, job.state, expected);
    }
    const patched = r.patch === undefined ? undefined : patchData(job, r, queue.options.maxDataBytes);
    const res = await queue.backend.replay(queue.name, {
      id,
      expectedAttempts: job.attempts.length,
      data: patched?.data,
      by: r.by,
      note: r.note,
      patch: patched?.diff,
      alsoScheduled,
    });
    if (res.ok) return (await queue.backend.getJob(queue.name, id)) as Job;
    if (res.reason === 'not_found') throw new JobNotFoundError(queue.name, id);
    if (res.reason === 'not_dead') throw new InvalidStateError(id, res.state ?? 'unknown', expected);
    if (tries >= 3) throw new ConflictError(`job ${id} kept changing during the manual retry; try again`);
  }
}
