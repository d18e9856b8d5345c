/**
 * Bearer-token authentication and CORS, as two `onRequest` hooks.
 *
 * - With a token, every route except the ones marked `config: { public: true }` (health and
 *   readiness) needs `Authorization: Bearer <token>`, compared in constant time.
 * - CORS is off unless origins are configured; then allowed origins get the headers and preflight
 *   requests (`OPTIONS` with `Access-Control-Request-Method`) are answered before authentication.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { ValidationError } from '../errors.js';
import { problem, sendProblem } from './error-map.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a token (health and readiness probes). */
    public?: boolean;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison that does not leak the token's length either (both sides are hashed). */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function bearer(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/** Answers 401 (and returns true) unless the request carries the token. */
export function refuseUnauthorised(request: FastifyRequest, reply: FastifyReply, token: string): boolean {
  const given = bearer(request.headers.authorization);
  if (given !== undefined && tokenMatches(given, token)) return false;
  reply.header('www-authenticate', 'Bearer realm="retraced"');
  const detail = given === undefined ? 'send Authorization: Bearer <token>' : 'the bearer token is not valid';
  sendProblem(reply, problem('RETRACED_ERR_UNAUTHORIZED', detail));
  return true;
}

export function installAuth(app: FastifyInstance, token: string): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.config.public === true) return;
    if (refuseUnauthorised(request, reply, token)) return reply;
  });
}

const ALLOW_HEADERS = 'authorization, content-type, last-event-id';
const ALLOW_METHODS = 'GET, POST, PUT, OPTIONS';

export function installCors(app: FastifyInstance, origins: readonly string[]): void {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (origin === undefined || (!any && !allowed.has(origin))) return;
    reply.header('access-control-allow-origin', any ? '*' : origin);
    if (!any) reply.header('vary', 'Origin');
    const preflight =
      request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (!preflight) return;
    reply
      .header('access-control-allow-methods', ALLOW_METHODS)
      .header('access-control-allow-headers', ALLOW_HEADERS)
      .header('access-control-max-age', '600');
    return reply.code(204).send();
  });
}

/** True for hosts only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Refuses to serve beyond loopback without a token (the check `retraced server` runs before
 * `listen`). Throws a ValidationError naming `token`.
 */
export function assertListenSecurity(options: {
  readonly host: string;
  readonly token?: string | undefined;
}): void {
  if (isLoopbackHost(options.host) || (options.token !== undefined && options.token !== '')) return;
  throw new ValidationError(
    'token',
    `set (RETRACED_TOKEN) when listening beyond loopback (host ${JSON.stringify(options.host)})`,
  );
}
