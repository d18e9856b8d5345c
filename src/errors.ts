/**
 * Every error ReTraced throws, in three families, each with a stable `code` users can compare:
 *
 * 1. Misuse: {@link ValidationError} (bad input; names the field and the rule), and
 *    {@link PayloadTooLargeError}.
 * 2. State: {@link JobNotFoundError}, {@link SchedulerNotFoundError}, {@link InvalidStateError}, {@link ConflictError},
 *    {@link BackendClosedError}, and the reasons a worker aborts a handler's signal with (also
 *    recorded as the attempt's error): {@link TimeoutError}, {@link LeaseLostError},
 *    {@link WorkerClosingError}.
 * 3. Handler signals that user code throws to steer a job: {@link PermanentError} (do not retry),
 *    {@link TemporaryError} (retry, optionally after a delay the handler chooses) and
 *    {@link RateLimitError} (an upstream limit: pause the job's group or queue; not a failure).
 *
 * Every class of families 1 and 2 extends {@link RetracedError}. The handler signals do not: they
 * are recognised by brand across copies of the library (see classifyError), and their `code` is the
 * user's. The HTTP API maps each `code` to a status (http/error-map.ts), the CLI to an exit code
 * (cli/exit-codes.ts).
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

/**
 * A source of history this queue cannot read (`source: 'archive'` without an archive, or a window
 * longer than the rollups keep without one): the request is well-formed, the configuration lacks
 * what it needs. A ValidationError naming the field, with a code of its own (HTTP 409).
 */
export class SourceUnavailableError extends ValidationError {
  override readonly code = 'RETRACED_ERR_SOURCE_UNAVAILABLE';
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

/** No scheduler with this id in the queue. */
export class SchedulerNotFoundError extends RetracedError {
  override readonly code = 'RETRACED_ERR_SCHEDULER_NOT_FOUND';
  readonly schedulerId: string;
  constructor(queue: string, schedulerId: string) {
    super(`scheduler ${JSON.stringify(schedulerId)} does not exist in queue ${JSON.stringify(queue)}`);
    this.schedulerId = schedulerId;
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

/**
 * A change raced with another one and was given up (a job kept changing during a manual retry):
 * nothing was changed; trying again is safe.
 */
export class ConflictError extends RetracedError {
  override readonly code = 'RETRACED_ERR_CONFLICT';
}

// The reasons a worker aborts a handler's signal with. Each is also the error recorded on the
// attempt, so their codes are part of the stored history (and `TIMEOUT` of the default code
// table): they keep the short codes they were first recorded with.

/** The attempt ran longer than its `timeout`: the handler's signal is aborted; recorded `timed_out`. */
export class TimeoutError extends RetracedError {
  override readonly code = 'TIMEOUT';
}

/** The worker's lease on a running job was lost (expired and recovered, or cancelled); its late result is refused. */
export class LeaseLostError extends RetracedError {
  override readonly code = 'LEASE_LOST';
}

/** The worker is closing: the attempt is interrupted and the job given back. */
export class WorkerClosingError extends RetracedError {
  override readonly code = 'WORKER_CLOSED';
}

export class BackendClosedError extends RetracedError {
  override readonly code = 'RETRACED_ERR_CLOSED';
  constructor(what = 'backend') {
    super(`the ${what} is closed`);
  }
}

/**
 * A write that Redis applied but could not confirm on enough replicas in time (the backend's
 * `durability` option): it may be lost if the master fails now. Adding again with the same job id
 * is safe (an add is idempotent by id); a finish is repaired by the lease (the job is recovered).
 */
export class ReplicationError extends RetracedError {
  override readonly code = 'RETRACED_ERR_REPLICATION';
  /** Replicas asked for, and replicas that confirmed. */
  readonly wanted: number;
  readonly acked: number;
  constructor(what: string, wanted: number, acked: number, timeoutMs: number) {
    super(
      `${what}: ${acked} of ${wanted} replica(s) confirmed the write within ${timeoutMs} ms; it is applied on the master but may be lost if the master fails now`,
    );
    this.wanted = wanted;
    this.acked = acked;
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

/** Options of {@link RateLimitError}. */
export interface RateLimitErrorOptions extends ErrorOptions {
  /** How long the group or queue pauses, in ms (e.g. from a `Retry-After` header); capped at a day. */
  readonly retryAfterMs: number;
  /**
   * What pauses: the job's group (`group`: one tenant's upstream), or the whole queue. A job
   * without a group pauses its queue. @default 'group'
   */
  readonly scope?: 'group' | 'queue';
  /** @default 'RATE_LIMITED' */
  readonly code?: string;
  /** @default `rate limited: retry after <retryAfterMs> ms` */
  readonly message?: string;
}

/**
 * Thrown by a handler that hit an upstream rate limit (an HTTP 429, say): the job's group (or its
 * queue) pauses for `retryAfterMs`, and the job waits again without being charged a failed attempt
 * (its attempt ends `rate_limited`, and the record says what paused and for how long).
 */
export class RateLimitError extends Error {
  /** Recognised across copies of the library (see classifyError). */
  static readonly brand: symbol = Symbol.for('retraced.RateLimitError');
  readonly code: string;
  readonly retryAfterMs: number;
  readonly scope: 'group' | 'queue';
  constructor(options: RateLimitErrorOptions) {
    super(options.message ?? `rate limited: retry after ${String(options.retryAfterMs)} ms`, options);
    this.name = 'RateLimitError';
    this.code = options.code ?? 'RATE_LIMITED';
    this.retryAfterMs = options.retryAfterMs;
    this.scope = options.scope ?? 'group';
    Object.defineProperty(this, RateLimitError.brand, { value: true });
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
