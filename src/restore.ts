/**
 * Restoring a dead job from the archive (src/archive/) into the backend, so that it can be replayed
 * like any dead job: `dlq.replay` (and `retryNow`, `replayMany`) of a job retention evicted restores
 * it first (`Backend.restoreDead`, one transition: restore-10.lua and its memory twin), then replays
 * it through the one replay path, recorded as any replay. What both backends write beyond the job
 * itself is decided here, once: the label of its fingerprint's group and its search facets.
 * @module
 */
import { ValidationError } from './errors.js';
import { errorFingerprint, fingerprintLabel } from './fingerprint.js';
import { failureFacets, REPLAY_FACETS, stallFacets } from './job-index.js';
import { lastErrorOf } from './summary.js';
import { POISON_FINGERPRINT, POISON_LABEL } from './transitions.js';
import type { Attempt, Job } from './types.js';

/** A dead job to restore, as the archive holds it, with what the backends file it under. */
export interface RestoreRequest {
  /** The job as archived (state `dead`, with its dead-letter facts). */
  readonly job: Job;
  /** The label of its fingerprint's group (`name|code|normalised message`). */
  readonly label: string;
  /** Its search facets other than its name (see job-index.ts), as its history gave them. */
  readonly facets: readonly string[];
}

/** What `Backend.restoreDead` answers: restored, or refused because the backend has the id. */
export type RestoreResult = { readonly ok: true } | { readonly ok: false; readonly state: Job['state'] };

/**
 * The search facets a history gave its job, in the order the transitions add them: per attempt,
 * a replay's (trigger `manual`), then a stall's or a failure's (with the error's fingerprint, as
 * the worker sends it), or `rt` for a retry decision without an error. Duplicates dropped.
 */
export function historyFacets(attempts: readonly Attempt[]): string[] {
  const out = new Set<string>();
  for (const a of attempts) {
    if (a.trigger === 'manual') for (const f of REPLAY_FACETS) out.add(f);
    if (a.outcome === 'stalled') {
      for (const f of stallFacets(a.errorClass ?? 'temporary', a.decision.action === 'dead')) out.add(f);
    } else if (a.error) {
      const facets = failureFacets({
        error: a.error,
        errorClass: a.errorClass,
        rule: a.rule,
        fingerprint: errorFingerprint(a.error),
        decision: a.decision,
      });
      for (const f of facets) out.add(f);
    } else if (a.decision.action === 'retry') out.add('rt');
  }
  return [...out];
}

/** The restore of an archived dead job; a ValidationError on `job` if it is not one. */
export function restoreRequest(job: Job): RestoreRequest {
  if (job.state !== 'dead' || !job.dead) {
    throw new ValidationError('job', 'a dead job with its dead-letter facts (state dead)', job.state);
  }
  const error = job.dead.error ?? lastErrorOf(job);
  const label =
    job.dead.fingerprint === POISON_FINGERPRINT ? POISON_LABEL : error ? fingerprintLabel(error) : '';
  return { job, label, facets: historyFacets(job.attempts) };
}
