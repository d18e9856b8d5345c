/**
 * What went wrong, as a process exit code: one table from the library's stable error `code`s (and
 * the HTTP API's, which reuse them) to exit codes, plus a fallback by HTTP status for codes the
 * table does not know. Scripts branch on these numbers, so they never change meaning.
 *
 * | exit | meaning |
 * | ---- | ------- |
 * | 0 | ok |
 * | 1 | unexpected error (a bug, or a failure the CLI cannot classify) |
 * | 2 | usage or validation: a bad flag, argument or value; nothing was changed |
 * | 3 | not found: no such job (or queue) |
 * | 4 | invalid state or conflict: the job is not in a state the operation accepts, port in use |
 * | 5 | backend unreachable: Redis or the server could not be reached |
 * | 6 | auth: the server refused the token |
 * @module
 */
import { RetracedError } from '../errors.js';

export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  unreachable: 5,
  auth: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Stable error code → exit code. Library codes, CLI codes, and the OS codes of a refused connection. */
const BY_CODE: Readonly<Record<string, ExitCode>> = {
  RETRACED_ERR_VALIDATION: ExitCode.usage,
  RETRACED_ERR_PAYLOAD_TOO_LARGE: ExitCode.usage,
  RETRACED_ERR_SOURCE_UNAVAILABLE: ExitCode.usage,
  RETRACED_CLI_USAGE: ExitCode.usage,
  RETRACED_ERR_JOB_NOT_FOUND: ExitCode.notFound,
  RETRACED_ERR_SCHEDULER_NOT_FOUND: ExitCode.notFound,
  RETRACED_ERR_QUEUE_NOT_FOUND: ExitCode.notFound,
  RETRACED_ERR_NOT_FOUND: ExitCode.notFound,
  RETRACED_ERR_INVALID_STATE: ExitCode.conflict,
  RETRACED_ERR_CONFLICT: ExitCode.conflict,
  RETRACED_CLI_CONFLICT: ExitCode.conflict,
  EADDRINUSE: ExitCode.conflict,
  RETRACED_ERR_CLOSED: ExitCode.unreachable,
  RETRACED_ERR_REPLICATION: ExitCode.unreachable,
  RETRACED_CLI_UNREACHABLE: ExitCode.unreachable,
  RETRACED_ERR_UNAVAILABLE: ExitCode.unreachable,
  ECONNREFUSED: ExitCode.unreachable,
  ECONNRESET: ExitCode.unreachable,
  ETIMEDOUT: ExitCode.unreachable,
  ENOTFOUND: ExitCode.unreachable,
  EAI_AGAIN: ExitCode.unreachable,
  EHOSTUNREACH: ExitCode.unreachable,
  RETRACED_ERR_UNAUTHORIZED: ExitCode.auth,
  RETRACED_ERR_FORBIDDEN: ExitCode.auth,
  RETRACED_CLI_AUTH: ExitCode.auth,
};

/** HTTP status → exit code, for problem responses whose `code` the table above does not know. */
const BY_STATUS: Readonly<Record<number, ExitCode>> = {
  400: ExitCode.usage,
  401: ExitCode.auth,
  403: ExitCode.auth,
  404: ExitCode.notFound,
  405: ExitCode.usage,
  409: ExitCode.conflict,
  408: ExitCode.unreachable,
  413: ExitCode.usage,
  414: ExitCode.usage,
  415: ExitCode.usage,
  422: ExitCode.usage,
  431: ExitCode.usage,
  502: ExitCode.unreachable,
  503: ExitCode.unreachable,
  504: ExitCode.unreachable,
};

/** An error the CLI itself raises, with a stable code from the table above. */
export class CliError extends RetracedError {
  override readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A bad command line: unknown flag, missing argument, malformed value. */
export class UsageError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super('RETRACED_CLI_USAGE', message, options);
  }
}

/** An error answer from the HTTP API (`application/problem+json`). */
export class RemoteError extends CliError {
  readonly status: number;
  readonly field: string | undefined;
  constructor(status: number, code: string, message: string, field?: string) {
    super(code, message);
    this.status = status;
    this.field = field;
  }
}

export function exitCodeFor(error: unknown): ExitCode {
  const code = errorCode(error);
  if (code !== undefined && Object.hasOwn(BY_CODE, code)) return BY_CODE[code] as ExitCode;
  if (error instanceof RemoteError) return BY_STATUS[error.status] ?? ExitCode.unexpected;
  return ExitCode.unexpected;
}

/** The stable `code` of an error, looking through `cause` (fetch wraps ECONNREFUSED that way). */
function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && Object.hasOwn(BY_CODE, code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  const top = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof top === 'string' ? top : undefined;
}
