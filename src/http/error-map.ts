/**
 * Every error the API answers with, in one table: a stable `code` → HTTP status and title. Library
 * errors keep their `code` and message; anything unknown becomes a generic 500 that never shows a
 * stack or an internal message. Answers are RFC 9457 problem details (`application/problem+json`).
 * @module
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { RetracedError, ValidationError } from '../errors.js';
import { validationProblem } from './validation.js';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly field?: string;
}

/** code → [status, title]. The library's codes first, then the ones only the HTTP layer uses. */
export const ERROR_TABLE: Readonly<Record<string, readonly [number, string]>> = {
  RETRACED_ERR_VALIDATION: [400, 'Invalid input'],
  RETRACED_ERR_PAYLOAD_TOO_LARGE: [413, 'Payload too large'],
  RETRACED_ERR_JOB_NOT_FOUND: [404, 'Job not found'],
  RETRACED_ERR_SCHEDULER_NOT_FOUND: [404, 'Scheduler not found'],
  RETRACED_ERR_INVALID_STATE: [409, 'Job in the wrong state'],
  RETRACED_ERR_CONFLICT: [409, 'Conflict'],
  RETRACED_ERR_SOURCE_UNAVAILABLE: [409, 'Source unavailable'],
  RETRACED_ERR_CLOSED: [503, 'Backend closed'],
  RETRACED_ERR_REPLICATION: [503, 'Write not confirmed by a replica'],
  // HTTP layer
  RETRACED_ERR_BAD_REQUEST: [400, 'Bad request'],
  RETRACED_ERR_UNAUTHORIZED: [401, 'Unauthorized'],
  RETRACED_ERR_HOST_NOT_ALLOWED: [403, 'Host not allowed'],
  RETRACED_ERR_CROSS_ORIGIN: [403, 'Cross-origin change refused'],
  RETRACED_ERR_READ_ONLY: [403, 'Read-only server'],
  RETRACED_ERR_NOT_FOUND: [404, 'Not found'],
  RETRACED_ERR_METHOD_NOT_ALLOWED: [405, 'Method not allowed'],
  RETRACED_ERR_UNSUPPORTED_MEDIA_TYPE: [415, 'Unsupported media type'],
  RETRACED_ERR_HEADERS_TOO_LARGE: [431, 'Request header fields too large'],
  RETRACED_ERR_REQUEST_TIMEOUT: [408, 'Request timeout'],
  RETRACED_ERR_BACKEND_UNAVAILABLE: [503, 'Backend unavailable'],
  RETRACED_ERR_NOT_READY: [503, 'Not ready'],
  RETRACED_ERR_INTERNAL: [500, 'Internal server error'],
};

/** Fastify's own request errors → our codes (everything else 4xx from Fastify is a bad request). */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'RETRACED_ERR_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'RETRACED_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'RETRACED_ERR_BAD_REQUEST',
};

/** Connection failures of a networked backend: the backend is unavailable, not the request wrong. */
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

export function problem(code: string, detail: string, field?: string): Problem {
  const [status, title] = ERROR_TABLE[code] ??
    ERROR_TABLE.RETRACED_ERR_INTERNAL ?? [500, 'Internal server error'];
  const slug =
    code
      .replace(/^RETRACED_ERR_?/, '')
      .toLowerCase()
      .replace(/_/g, '-') || 'internal';
  return {
    type: `urn:retraced:problem:${slug}`,
    title,
    status,
    code,
    detail,
    ...(field === undefined ? {} : { field }),
  };
}

function isFastifyError(e: unknown): e is FastifyError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

function errorCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The problem for any thrown value: known codes keep their message, anything else is a generic 500. */
export function toProblem(e: unknown): Problem {
  if (e instanceof RequestFieldError) return problem(e.cause.code, e.message, e.field);
  if (e instanceof ValidationError) return problem(e.code, e.message, e.field);
  if (e instanceof RetracedError && ERROR_TABLE[e.code]) return problem(e.code, e.message);
  if (isFastifyError(e)) {
    const validation = validationProblem(e);
    if (validation) return problem('RETRACED_ERR_VALIDATION', validation.detail, validation.field);
    const mapped = FASTIFY_CODES[e.code];
    if (mapped) return problem(mapped, e.message);
    const status = e.statusCode ?? 500;
    if (status >= 400 && status < 500) return problem('RETRACED_ERR_BAD_REQUEST', e.message);
  }
  if (e instanceof SyntaxError && (e as { statusCode?: unknown }).statusCode === 400) {
    return problem('RETRACED_ERR_BAD_REQUEST', `the body is not valid JSON: ${e.message}`);
  }
  const code = errorCode(e);
  if (
    (code !== undefined && UNAVAILABLE.has(code)) ||
    (e instanceof Error && e.name === 'MaxRetriesPerRequestError')
  ) {
    return problem('RETRACED_ERR_BACKEND_UNAVAILABLE', 'the backend cannot be reached; try again later');
  }
  return problem('RETRACED_ERR_INTERNAL', 'an unexpected error occurred; it has been logged');
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(p);
}

/**
 * A library ValidationError about one part of the request, with `field` as the path in the request
 * (`options.delay` from `queue.add` → `body.options.delay`, as schema errors read). The library's
 * message is kept.
 */
export class RequestFieldError extends Error {
  readonly field: string;
  override readonly cause: ValidationError;
  constructor(prefix: string, cause: ValidationError) {
    super(cause.message, { cause });
    this.name = 'RequestFieldError';
    this.cause = cause;
    this.field = prefix + cause.field;
  }
}

/** Runs a library call whose input came from `prefix` (such as `body.`), renaming ValidationError fields. */
export async function withFieldPrefix<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw e instanceof ValidationError ? new RequestFieldError(prefix, e) : e;
  }
}

/**
 * Installs the error handler and the not-found handler: every failure becomes a problem. A path
 * that `allowedMethods` knows, asked with another method, gets a 405 with `Allow`.
 */
export function installErrorHandlers(
  app: FastifyInstance,
  allowedMethods: (path: string) => readonly string[] = () => [],
): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const p = toProblem(error);
    if (p.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, p);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allow = allowedMethods(path);
    if (allow.length > 0) {
      reply.header('allow', allow.join(', '));
      const detail = `${path} does not take ${request.method}; it takes ${allow.join(', ')}`;
      return sendProblem(reply, problem('RETRACED_ERR_METHOD_NOT_ALLOWED', detail));
    }
    return sendProblem(reply, problem('RETRACED_ERR_NOT_FOUND', `no route ${request.method} ${path}`));
  });
}

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refused (not HTTP, a head over
 * 16 KiB, too slow) never becomes a request, so no hook or handler sees it. It still gets a
 * problem, written on the socket, and the connection is closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const p =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? problem('RETRACED_ERR_HEADERS_TOO_LARGE', 'the request line and headers are larger than 16 KiB')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? problem('RETRACED_ERR_REQUEST_TIMEOUT', 'the request was not received in time')
        : problem('RETRACED_ERR_BAD_REQUEST', 'the request is not valid HTTP/1.1');
  const body = JSON.stringify(p);
  socket.end(
    `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status] ?? ''}\r\n` +
      'Content-Type: application/problem+json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n' +
      body,
  );
}
