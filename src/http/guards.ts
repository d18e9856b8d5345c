/**
 * What keeps web pages away from the API: the browser-facing half of its security, as hooks.
 *
 * - **Host** (every route but health and readiness, `config.anyHost`): the `Host` header must name this server, or
 *   a page on `evil.example` whose name resolves to 127.0.0.1 (DNS rebinding) could read and drive
 *   it. Allowed: loopback names (`localhost`, 127.0.0.0/8, `[::1]`), the IP address the
 *   connection arrived on, and the configured names (`allowedHosts`: the `--host` name and
 *   `--allowed-hosts`; `*` turns the check off). Ports are not compared: a rebinding page always
 *   names its own host, whatever the port.
 * - **Mutations** (POST, PUT, PATCH, DELETE) must say `Content-Type: application/json` (a request
 *   without a body sends `{}` or an empty body). A web page can send that type to another origin
 *   only after a CORS preflight, which this server answers only for `cors` origins; the form posts
 *   and `no-cors` fetches a page can send without asking carry other types.
 * - **Origin**: a mutation whose `Origin` is neither this server's own nor a `cors` origin is
 *   refused, whatever its type.
 * - **Read-only** (`readOnly`): every mutation is refused with 403, except routes that change
 *   nothing (`config.readOnlySafe`, e.g. the retry plan) and dry runs of routes that have one
 *   (`config.dryRunnable` and a body with `dryRun: true`).
 * @module
 */
import { isIP } from 'node:net';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { isLoopbackHost } from './auth.js';
import { problem, sendProblem } from './error-map.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served whatever the Host header (health and readiness probes, which name pods by IP). */
    anyHost?: boolean;
    /** A POST that changes nothing (e.g. the retry plan): read-only servers serve it. */
    readOnlySafe?: boolean;
    /** A mutation with a `dryRun` body flag: read-only servers serve its dry runs. */
    dryRunnable?: boolean;
  }
}

export interface GuardOptions {
  /** Host names (or IP addresses) the server answers to besides loopback; `*` for any. */
  readonly allowedHosts?: readonly string[];
  /** Origins allowed by CORS (`*` for any): their mutations are accepted. */
  readonly cors?: readonly string[];
  readonly readOnly?: boolean;
}

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const HOST_RE = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i;

/** The host name of a `Host` header, lower-case, without brackets or a trailing dot; undefined if malformed. */
export function hostNameOf(header: string): string | undefined {
  const m = HOST_RE.exec(header.trim());
  if (!m?.[1]) return undefined;
  return m[1]
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

/** Host names as `hostNameOf` spells them; wildcard listen addresses (0.0.0.0, ::) are dropped. */
export function normaliseHosts(hosts: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const h of hosts) {
    const name = h === '*' ? '*' : hostNameOf(h);
    if (name !== undefined && name !== '0.0.0.0' && name !== '::' && name !== '') out.add(name);
  }
  return out;
}

/** Whether a request whose Host header is `header`, arriving on `localAddress`, may be served. */
export function hostAllowed(
  header: string | undefined,
  allowed: ReadonlySet<string>,
  localAddress: string | undefined,
): boolean {
  if (allowed.has('*') || header === undefined) return true;
  const name = hostNameOf(header);
  if (name === undefined) return false;
  if (isLoopbackHost(name) || allowed.has(name)) return true;
  const local = localAddress?.replace(/^::ffff:(?=\d+\.)/, '').toLowerCase();
  return isIP(name) !== 0 && name === local;
}

/** The media type of a Content-Type header, lower-case, without parameters. */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Whether `origin` is the server's own (same host and port as the Host header). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

function refuse(reply: FastifyReply, code: string, detail: string): FastifyReply {
  return sendProblem(reply, problem(code, detail));
}

function what(request: FastifyRequest): string {
  return `${request.method} ${request.url.split('?')[0] ?? ''}`;
}

/** The Host check, as the app's first hook. */
export function installHostCheck(app: FastifyInstance, allowedHosts: readonly string[]): void {
  const allowed = normaliseHosts(allowedHosts);
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.anyHost === true) return;
    const host = request.headers.host;
    if (hostAllowed(host, allowed, request.socket?.localAddress)) return;
    const name = host === undefined ? undefined : hostNameOf(host);
    return refuse(
      reply,
      'RETRACED_ERR_HOST_NOT_ALLOWED',
      `Host ${JSON.stringify(host ?? '')} is not allowed: this server answers to localhost, 127.0.0.1, [::1], its own address and the names given with --allowed-hosts (a guard against DNS rebinding)` +
        (name !== undefined ? `; to allow it, start the server with --allowed-hosts ${name}` : ''),
    );
  });
}

/** The mutation guards (Origin, read-only, Content-Type), after authentication. */
export function installMutationGuards(app: FastifyInstance, options: GuardOptions): void {
  const cors = new Set(options.cors ?? []);
  const readOnly = options.readOnly === true;
  app.addHook('onRequest', async (request, reply) => {
    if (!MUTATIONS.has(request.method) || request.is404) return;
    const config = request.routeOptions.config;
    const origin = request.headers.origin;
    if (
      origin !== undefined &&
      !cors.has('*') &&
      !cors.has(origin) &&
      !sameOrigin(origin, request.headers.host)
    ) {
      return refuse(
        reply,
        'RETRACED_ERR_CROSS_ORIGIN',
        `${what(request)} from origin ${JSON.stringify(origin)} is refused: only this server's own pages and the origins given with --cors may change anything`,
      );
    }
    if (readOnly && config.readOnlySafe !== true && config.dryRunnable !== true) {
      return refuse(reply, 'RETRACED_ERR_READ_ONLY', readOnlyDetail(request));
    }
    if (mediaType(request.headers['content-type']) !== 'application/json') {
      return refuse(
        reply,
        'RETRACED_ERR_UNSUPPORTED_MEDIA_TYPE',
        `${what(request)} needs the header Content-Type: application/json (send {} when there is nothing else to send); every change requires it, so that no web page can make one without the server's consent`,
      );
    }
  });
  if (!readOnly) return;
  // Dry runs are reads: served once the body says so.
  app.addHook('preValidation', async (request, reply) => {
    if (!MUTATIONS.has(request.method) || request.routeOptions.config.dryRunnable !== true) return;
    const body = request.body as { dryRun?: unknown } | null | undefined;
    if (typeof body === 'object' && body !== null && body.dryRun === true) return;
    return refuse(
      reply,
      'RETRACED_ERR_READ_ONLY',
      `${readOnlyDetail(request)} (a dry run, with "dryRun": true, is served)`,
    );
  });
}

function readOnlyDetail(request: FastifyRequest): string {
  return `this server is read-only (--read-only): ${what(request)} is refused; reads work`;
}
