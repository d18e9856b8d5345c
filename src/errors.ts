/**
 * Every error ReTraced throws, in three families, each with a stable `code` users can compare:
 *
 * 1. Misuse: {@link ValidationError} (bad input; names the field and the rule).
 * 2. State: {@link JobNotFoundError}, {@link StaleLeaseError}, {@link InvalidStateError},
 *    {@link BackendClosedError}.
 * 3. Handler signals that user code throws to steer a job: {@link PermanentError} (do not retry)
 *    and {@link TemporaryError} (retry, optionally after a delay the handler chooses).
 *
 * @module
 */

/** Base class of every error the library itself throws. */
export class RetracedError extends Error {
  readonly code: string = 'RETRACED_ERR';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: the message names the field, the rule, and what was received. Nothing was stored. */
export class ValidationError extends RetracedError {
  override readonly code: string = 'RETRACED_ERR_VALIDATION';
  /** Dotted path of the offending field, such as `options.retry.attempts`. */
  readonly field: string;
  /** The rule that was broken, such as `an integer >= 1`. */
  readonly rule: string;
  constructor(field: string, rule: string, received?: unknown) {
    super(`${field} must be ${rule}${received === undefined ? '' : `, received ${describe(received)}`}`);
    this.field = field;
    this.rule = rule;
  }
}

/** Job data (or a result) above the configured size limit. */
export class PayloadTooLargeError extends ValidationError {
  override readonly code = 'RETRACED_ERR_PAYLOAD_TOO_LARGE';
  readonly bytes: number;
  readonly limit: number;
  constructor(field: string, bytes: number, limit: number) {
    super(field, `at most ${limit} bytes of JSON`, `${bytes} bytes`);
    this.bytes = bytes;
    this.limit = limit;
  }
}

export class JobNotFoundError extends RetracedError {
  override readonly code = 'RETRACED_ERR_JOB_NOT_FOUND';
  readonly jobId: string;
  constructor(queue: string, jobId: string) {
    super(`job ${JSON.stringify(jobId)} does not exist in queue ${JSON.stringify(queue)}`);
    this.jobId = jobId;
  }
}

/** The operation needs the job in another state (replaying a job that is not dead, …). */
export class InvalidStateError extends RetracedError {
  override readonly code = 'RETRACED_ERR_INVALID_STATE';
  readonly jobId: string;
  readonly state: string;
  constructor(jobId: string, state: string, expected: string) {
    super(`job ${JSON.stringify(jobId)} is ${state}; this needs a job that is ${expected}`);
    this.jobId = jobId;
    this.state = state;
  }
}

/** A worker tried to finish or renew a job whose lease it no longer holds. */
export class StaleLeaseError extends RetracedError {
  override readonly code = 'RETRACED_ERR_STALE_LEASE';
  readonly jobId: string;
  constructor(jobId: string) {
    super(`the lease on job ${JSON.stringify(jobId)} was lost (expired, recovered or cancelled); result refused`);
    this.jobId = jobId;
  }
}

export class BackendClosedError extends RetracedError {
  override readonly code = 'RETRACED_ERR_CLOSED';
  constructor(what = 'backend') {
    super(`the ${what} is closed`);
  }
}

/** Options for the handler signals. */
export interface HandlerErrorOptions extends ErrorOptions {
  /** A stable error code, recorded with the attempt and used for DLQ grouping. */
  readonly code?: string;
}

/** Thrown by a handler: the failure will not go away by retrying; the job is dead-lettered now. */
export class PermanentError extends Error {
  /** Recognised across copies of the library (see classifyError). */
  static readonly brand: symbol = Symbol.for('retraced.PermanentError');
  readonly code: string | undefined;
  constructor(message: string, options?: HandlerErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
    this.code = options?.code;
    Object.defineProperty(this, PermanentError.brand, { value: true });
  }
}

/** Thrown by a handler: retry later. `retryAfterMs` overrides the policy's delay for this retry. */
export class TemporaryError extends Error {
  /** Recognised across copies of the library (see classifyError). */
  static readonly brand: symbol = Symbol.for('retraced.TemporaryError');
  readonly code: string | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: HandlerErrorOptions & { readonly retryAfterMs?: number }) {
    super(message, options);
    this.name = 'TemporaryError';
    this.code = options?.code;
    Object.defineProperty(this, TemporaryError.brand, { value: true });
    this.retryAfterMs = options?.retryAfterMs;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
