/**
 * A job in one line, as listings show it: the HTTP API's job pages and the CLI's `jobs list` (on
 * Redis directly or through a server) all build it here, with one meaning of "last error".
 * @module
 */
import type { ErrorInfo, Job, JobState } from './types.js';

/** An error without its stack. */
export interface ErrorSummary {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

export interface JobSummary {
  readonly id: string;
  readonly name: string;
  readonly state: JobState;
  readonly createdAt: number;
  readonly dueAt: number;
  /** Attempts made so far. */
  readonly attempts: number;
  /** See {@link lastErrorOf}. */
  readonly lastError?: ErrorSummary;
  readonly finishedAt?: number;
  /** Read from the archive: retention evicted it from the backend (`Job.archived`). */
  readonly archived?: true;
}

/**
 * A job's last error: the error of its most recent attempt that recorded one (failed, timed out,
 * stalled, or given back at shutdown), or undefined if none did. A later attempt without an error
 * (a success, a cancel) does not erase it, so a completed job shows what it recovered from; for a
 * dead job it is the error that killed it (`job.dead.error`, the DLQ's `errorCode`).
 */
export function lastErrorOf(job: Pick<Job, 'attempts'>): ErrorInfo | undefined {
  for (let i = job.attempts.length - 1; i >= 0; i--) {
    const e = job.attempts[i]?.error;
    if (e) return e;
  }
  return undefined;
}

export function summariseJob(job: Job): JobSummary {
  const e = lastErrorOf(job);
  return {
    id: job.id,
    name: job.name,
    state: job.state,
    createdAt: job.createdAt,
    dueAt: job.dueAt,
    attempts: job.attempts.length,
    ...(e ? { lastError: { name: e.name, message: e.message, ...(e.code ? { code: e.code } : {}) } } : {}),
    ...(job.finishedAt !== undefined ? { finishedAt: job.finishedAt } : {}),
    ...(job.archived ? { archived: true as const } : {}),
  };
}

/** `Name: message [CODE]`: an error as one line of text. */
export function errorLine(e: ErrorSummary): string {
  return `${e.name}: ${e.message}${e.code ? ` [${e.code}]` : ''}`;
}
