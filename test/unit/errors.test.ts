import { describe, expect, it } from 'vitest';

import * as api from '../../src/index.js';
import { exitCodeFor, ExitCode } from '../../src/cli/exit-codes.js';
import {
  BackendClosedError,
  ConflictError,
  InvalidStateError,
  JobNotFoundError,
  SchedulerNotFoundError,
  LeaseLostError,
  PayloadTooLargeError,
  SourceUnavailableError,
  PermanentError,
  ReplicationError,
  RetracedError,
  TemporaryError,
  RateLimitError,
  TimeoutError,
  ValidationError,
  WorkerClosingError,
} from '../../src/errors.js';
import { toProblem } from '../../src/http/error-map.js';

/** The catalogue: every error class the library throws, its stable code, its HTTP status and CLI exit code. */
const CATALOGUE: readonly (readonly [RetracedError, string, string, number, number])[] = [
  [new ValidationError('f', 'a rule'), 'ValidationError', 'RETRACED_ERR_VALIDATION', 400, ExitCode.usage],
  [
    new PayloadTooLargeError('data', 10, 5),
    'PayloadTooLargeError',
    'RETRACED_ERR_PAYLOAD_TOO_LARGE',
    413,
    ExitCode.usage,
  ],
  [
    new SourceUnavailableError('source', 'live: this queue has no archive', 'archive'),
    'SourceUnavailableError',
    'RETRACED_ERR_SOURCE_UNAVAILABLE',
    409,
    ExitCode.usage,
  ],
  [new JobNotFoundError('q', 'j'), 'JobNotFoundError', 'RETRACED_ERR_JOB_NOT_FOUND', 404, ExitCode.notFound],
  [
    new SchedulerNotFoundError('q', 's'),
    'SchedulerNotFoundError',
    'RETRACED_ERR_SCHEDULER_NOT_FOUND',
    404,
    ExitCode.notFound,
  ],
  [
    new InvalidStateError('j', 'active', 'dead'),
    'InvalidStateError',
    'RETRACED_ERR_INVALID_STATE',
    409,
    ExitCode.conflict,
  ],
  [new ConflictError('kept changing'), 'ConflictError', 'RETRACED_ERR_CONFLICT', 409, ExitCode.conflict],
  [new BackendClosedError(), 'BackendClosedError', 'RETRACED_ERR_CLOSED', 503, ExitCode.unreachable],
  [
    new ReplicationError('add', 1, 0, 1000),
    'ReplicationError',
    'RETRACED_ERR_REPLICATION',
    503,
    ExitCode.unreachable,
  ],
  // Abort reasons, recorded on attempts (never answered by the API: a 500 if one ever escaped).
  [new TimeoutError('t'), 'TimeoutError', 'TIMEOUT', 500, ExitCode.unexpected],
  [new LeaseLostError('l'), 'LeaseLostError', 'LEASE_LOST', 500, ExitCode.unexpected],
  [new WorkerClosingError('w'), 'WorkerClosingError', 'WORKER_CLOSED', 500, ExitCode.unexpected],
];

describe('the error catalogue', () => {
  it.each(CATALOGUE.map((row) => [row[1], ...row] as const))(
    '%s: name, stable code, instanceof RetracedError, HTTP status, exit code',
    (_label, error, name, code, status, exit) => {
      expect(error).toBeInstanceOf(RetracedError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(toProblem(error).status).toBe(status);
      expect(exitCodeFor(error)).toBe(exit);
    },
  );

  it('every error class the package exports is in the catalogue (or is a handler signal)', () => {
    const exported = Object.entries(api)
      .filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error)
      .map(([k]) => k)
      .sort();
    const catalogued = [
      ...CATALOGUE.map((row) => row[1]),
      'PermanentError',
      'TemporaryError',
      'RateLimitError',
      'RetracedError',
    ].sort();
    expect(exported).toEqual(catalogued);
  });

  it('handler signals keep the code the handler gave and are not library errors', () => {
    expect(new PermanentError('p', { code: 'INVALID_DATA' }).code).toBe('INVALID_DATA');
    expect(new TemporaryError('t', { code: 'RATE_LIMITED', retryAfterMs: 5 }).retryAfterMs).toBe(5);
    expect(new PermanentError('p')).not.toBeInstanceOf(RetracedError);
    const rl = new RateLimitError({ retryAfterMs: 1500 });
    expect([rl.code, rl.retryAfterMs, rl.scope, rl.message, rl.name]).toEqual([
      'RATE_LIMITED',
      1500,
      'group',
      'rate limited: retry after 1500 ms',
      'RateLimitError',
    ]);
    expect(new RateLimitError({ retryAfterMs: 1, scope: 'queue', code: 'HTTP_429' }).code).toBe('HTTP_429');
    expect(rl).not.toBeInstanceOf(RetracedError);
  });

  it('a conflict is its own problem: 409 urn:retraced:problem:conflict', () => {
    expect(toProblem(new ConflictError('job j kept changing; try again'))).toEqual({
      type: 'urn:retraced:problem:conflict',
      title: 'Conflict',
      status: 409,
      code: 'RETRACED_ERR_CONFLICT',
      detail: 'job j kept changing; try again',
    });
  });

  it('a Worker without a handler function is a ValidationError naming the field', () => {
    const queue = new api.Queue('errors-test', { backend: new api.MemoryBackend() });
    const make = () => new api.Worker(queue, 42 as unknown as api.Handler);
    expect(make).toThrow(ValidationError);
    expect(make).toThrow('handler must be a function (job, signal) => result, received 42');
  });

  it('ValidationError names the field and the rule, then what was received', () => {
    expect(new ValidationError('options.delay', 'an integer >= 0', -1).message).toBe(
      'options.delay must be an integer >= 0, received -1',
    );
  });
});
