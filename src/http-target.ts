/**
 * HTTP target jobs: a job whose data says which URL to call (method, headers, body, timeout), run by
 * a built-in handler (`httpTargetHandler`, what `retraced worker --http` runs), so a team without
 * Node code gets retries, backoff, the DLQ and the attempt story for its HTTP endpoints.
 *
 * - **Classification by status**: 2xx succeeds (the result is the recorded response); a 429 throws
 *   a RateLimitError by default (`on429`): the job's group, or its queue, pauses for the
 *   `Retry-After` (1 s without one) and the job waits again uncharged (outcome `rate_limited`);
 *   `temporaryStatuses` (default 408, 425, 429 with `on429: 'retry'`, and every 5xx) throw a
 *   TemporaryError, any other status a PermanentError (code `HTTP_<status>`). A network error or a
 *   timeout is temporary. `Retry-After` (seconds or an HTTP date, capped at a day) becomes the
 *   retry's delay (`retryAfterMs`: the attempt's decision says `source: handler`). A 503 with
 *   `Retry-After` stays a (charged) retry: a server in trouble, not a quota.
 * - **On the attempt**: each attempt logs the request and the response through `job.log`, and its
 *   record's `response` is the last response it got `{ status, ms, headers, body, bodyEncoding?,
 *   bodyBytes, redirects? }` (`job.recordResponse`, src/response-record.ts): headers of interest, a
 *   body excerpt of at most `maxBodyExcerpt` bytes (base64 when not UTF-8 text), the whole cut to
 *   MAX_RESPONSE_BYTES, never refused: recording a response never fails the call.
 * - **Signing**: with a `secret`, each request carries `X-Retraced-Timestamp` (ms since epoch) and
 *   `X-Retraced-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`; receivers check it with
 *   {@link verifyHttpTargetSignature} (constant-time, with a freshness window against replays).
 * - **Server-side request forgery refused**: the host must match `allowHosts` (exact names or
 *   `*.example.com`), and the address actually connected to must not be private, loopback,
 *   link-local, unique-local or unspecified unless `allowPrivate` (checked in the socket's DNS
 *   lookup, so a name that resolves to 127.0.0.1, or changes between checks, is refused too).
 *   Redirects are followed by hand (at most `maxRedirects`), each hop checked the same way; only
 *   http and https. A refusal is a PermanentError `HTTP_TARGET_FORBIDDEN` and nothing is sent. A
 *   hop to another origin carries neither the job's credentials (Authorization, Cookie,
 *   Proxy-Authorization) nor a signature ({@link headersForHop}).
 *
 * Why node:http rather than fetch: the fetch bundled with Node (undici) takes no per-request DNS
 * lookup without the `undici` package as a dependency; `http.request`'s `lookup` sees the address
 * the socket connects to, which is where an allow-list against SSRF has to look.
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';

import { PermanentError, RateLimitError, TemporaryError, ValidationError } from './errors.js';
import { DEFAULT_RATE_LIMIT_PAUSE_MS } from './rate-limit.js';
import { bodyExcerpt, MAX_BODY_EXCERPT_BYTES } from './response-record.js';
import type { AttemptResponse } from './types.js';
import type { Handler } from './worker.js';

/** The job name `addHttpJob` gives and the API uses. */
export const HTTP_JOB_NAME = 'http';
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
/** Longest body a target job carries (bytes of UTF-8 text). */
export const MAX_TARGET_BODY_BYTES = 256 * 1024;
export const DEFAULT_TARGET_TIMEOUT_MS = 10_000;
export const MAX_TARGET_TIMEOUT_MS = 300_000;
/** Headers a request may not set (the transport's own, and the signature's). */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'x-retraced-timestamp',
  'x-retraced-signature',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

/** What an HTTP target job's data says. */
export interface HttpTarget {
  readonly url: string;
  /** @default 'POST' */
  readonly method?: HttpMethod;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as is (text); a JSON body is the caller's JSON.stringify. */
  readonly body?: string;
  /** Per request (each redirect hop); absent, the handler's `defaultTimeoutMs` (10000). */
  readonly timeoutMs?: number;
}

/** A target checked and with its defaults. */
export interface ResolvedHttpTarget {
  readonly url: string;
  readonly method: HttpMethod;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
  /** Absent: the handler's `defaultTimeoutMs`. */
  readonly timeoutMs: number | undefined;
}

/** Checks an HTTP target (a job's data), naming the field at fault. */
export function resolveHttpTarget(value: unknown, field = 'target'): ResolvedHttpTarget {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, 'an object { url, method?, headers?, body?, timeoutMs? }', value);
  }
  const t = value as Record<string, unknown>;
  for (const k of Object.keys(t)) {
    if (!['url', 'method', 'headers', 'body', 'timeoutMs'].includes(k)) {
      throw new ValidationError(`${field}.${k}`, 'not a known field (url, method, headers, body, timeoutMs)');
    }
  }
  const url = parseTargetUrl(t.url, `${field}.url`);
  const method = t.method ?? 'POST';
  if (!HTTP_METHODS.includes(method as HttpMethod)) {
    throw new ValidationError(`${field}.method`, `one of ${HTTP_METHODS.join(', ')}`, method);
  }
  const headers: Record<string, string> = {};
  if (t.headers !== undefined) {
    if (typeof t.headers !== 'object' || t.headers === null || Array.isArray(t.headers)) {
      throw new ValidationError(`${field}.headers`, 'an object of header name → text', t.headers);
    }
    const entries = Object.entries(t.headers as Record<string, unknown>);
    if (entries.length > 50) throw new ValidationError(`${field}.headers`, 'at most 50 headers');
    for (const [k, v] of entries) {
      if (!HEADER_NAME.test(k) || RESERVED_HEADERS.has(k.toLowerCase())) {
        throw new ValidationError(
          `${field}.headers`,
          `header names a token, not ${[...RESERVED_HEADERS].join(', ')}`,
          k,
        );
      }
      // eslint-disable-next-line no-control-regex -- control characters are what is refused
      if (typeof v !== 'string' || v.length > 4096 || /[\u0000-\u0008\u000a-\u001f\u007f]/.test(v)) {
        throw new ValidationError(
          `${field}.headers.${k}`,
          'text of at most 4096 characters without control characters',
          v,
        );
      }
      headers[k] = v;
    }
  }
  let body: string | undefined;
  if (t.body !== undefined) {
    if (typeof t.body !== 'string') {
      throw new ValidationError(`${field}.body`, 'text (JSON.stringify a JSON body)', t.body);
    }
    if (Buffer.byteLength(t.body) > MAX_TARGET_BODY_BYTES) {
      throw new ValidationError(`${field}.body`, `at most ${MAX_TARGET_BODY_BYTES} bytes`);
    }
    if (method === 'GET' || method === 'HEAD') {
      throw new ValidationError(`${field}.body`, `absent for ${method}`);
    }
    body = t.body;
  }
  const timeoutMs = t.timeoutMs;
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== 'number' ||
      !Number.isInteger(timeoutMs) ||
      timeoutMs < 1 ||
      timeoutMs > MAX_TARGET_TIMEOUT_MS)
  ) {
    throw new ValidationError(
      `${field}.timeoutMs`,
      `an integer between 1 and ${MAX_TARGET_TIMEOUT_MS}`,
      timeoutMs,
    );
  }
  return {
    url: url.href,
    method: method as HttpMethod,
    headers,
    body,
    timeoutMs: timeoutMs as number | undefined,
  };
}

function parseTargetUrl(value: unknown, field: string): URL {
  if (typeof value !== 'string' || value.length > 2048) {
    throw new ValidationError(field, 'an http or https URL of at most 2048 characters', value);
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ValidationError(field, 'an http or https URL', value);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ValidationError(field, 'an http or https URL', value);
  }
  if (u.username || u.password) {
    throw new ValidationError(field, 'a URL without credentials (use headers)', value);
  }
  return u;
}

/** What `on429` can do with a 429: pause (RateLimitError) or retry like any temporary status. */
export const ON_429 = ['rate-limit', 'retry'] as const;

/** How the built-in handler calls targets. */
export interface HttpTargetOptions {
  /**
   * Hosts that may be called: exact names (`api.example.com`, an IP literal) or `*.example.com`
   * (any subdomain, not the domain itself); `['*']` allows every host (still no private address
   * unless `allowPrivate`). Required: no default allows anything.
   */
  readonly allowHosts: readonly string[];
  /** Allow private, loopback, link-local and unique-local addresses. @default false */
  readonly allowPrivate?: boolean;
  /** Shared secret: sign each request (X-Retraced-Timestamp, X-Retraced-Signature). */
  readonly secret?: string;
  /**
   * Statuses (300-599) that are temporary failures, retried by the policy; any other non-2xx is
   * permanent. A 429 follows `on429` first. @default 408, 425, 429 and 500-599
   */
  readonly temporaryStatuses?: readonly number[];
  /**
   * A 429 (Too Many Requests): `rate-limit` throws a RateLimitError, so the job's group (or its
   * queue, for a job without a group or with `rateLimitScope: 'queue'`) pauses for the Retry-After
   * (1 s without one) and the job waits again without being charged an attempt (outcome
   * `rate_limited`); `retry` classifies it like any other status, by `temporaryStatuses` (where
   * the default has it: a charged temporary failure, Retry-After as its delay). A 503 is always the latter: a server in trouble, not a
   * quota, and a job must not wait on it for ever uncharged. @default 'rate-limit'
   */
  readonly on429?: (typeof ON_429)[number];
  /** What a 429 pauses with `on429: 'rate-limit'`. @default 'group' */
  readonly rateLimitScope?: 'group' | 'queue';
  /** Response headers recorded on the attempt (at most 20). @default content-type, retry-after, location, x-request-id */
  readonly headersOfInterest?: readonly string[];
  /** Bytes of the response body recorded (0 to MAX_BODY_EXCERPT_BYTES, 4096). @default 1024 */
  readonly maxBodyExcerpt?: number;
  /** Redirects followed (0 to 20). @default 3 */
  readonly maxRedirects?: number;
  /** The timeout of a target that sets none (1 to MAX_TARGET_TIMEOUT_MS). @default 10000 */
  readonly defaultTimeoutMs?: number;
  /** The longest timeout any target gets, whatever it asks (1 to MAX_TARGET_TIMEOUT_MS). @default 300000 */
  readonly maxTimeoutMs?: number;
}

/** {@link HttpTargetOptions} checked, with their defaults. */
export interface ResolvedHttpTargetOptions {
  readonly allowHosts: readonly string[];
  readonly allowPrivate: boolean;
  readonly secret: string | undefined;
  readonly temporary: (status: number) => boolean;
  readonly on429: (typeof ON_429)[number];
  readonly rateLimitScope: 'group' | 'queue';
  readonly headersOfInterest: readonly string[];
  readonly maxBodyExcerpt: number;
  readonly maxRedirects: number;
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
}

function optionInt(v: unknown, field: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ValidationError(field, `an integer between ${min} and ${max}`, v);
  }
  return v;
}

/** Checks the handler's options, naming the option at fault (`maxBodyExcerpt must be …`). */
export function resolveHttpTargetOptions(options: HttpTargetOptions): ResolvedHttpTargetOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', 'an object { allowHosts, … }', options);
  }
  const o = options as unknown as Record<string, unknown>;
  if (
    !Array.isArray(o.allowHosts) ||
    o.allowHosts.length === 0 ||
    !o.allowHosts.every((h) => typeof h === 'string' && h.length > 0 && h.length <= 253)
  ) {
    throw new ValidationError('allowHosts', "at least one host pattern (['*'] for any public host)");
  }
  if (o.secret !== undefined && (typeof o.secret !== 'string' || o.secret.length === 0)) {
    throw new ValidationError('secret', 'non-empty text');
  }
  let temporary = DEFAULT_TEMPORARY;
  if (o.temporaryStatuses !== undefined) {
    const list = o.temporaryStatuses;
    if (!Array.isArray(list)) {
      throw new ValidationError('temporaryStatuses', 'a list of HTTP statuses between 300 and 599', list);
    }
    for (const s of list) {
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 300 || s > 599) {
        throw new ValidationError('temporaryStatuses', 'a list of HTTP statuses between 300 and 599', s);
      }
    }
    const set = new Set(list as number[]);
    temporary = (s) => set.has(s);
  }
  const on429 = o.on429 ?? 'rate-limit';
  if (!ON_429.includes(on429 as never)) {
    throw new ValidationError('on429', `one of ${ON_429.join(', ')}`, on429);
  }
  const rateLimitScope = o.rateLimitScope ?? 'group';
  if (rateLimitScope !== 'group' && rateLimitScope !== 'queue') {
    throw new ValidationError('rateLimitScope', 'group or queue', rateLimitScope);
  }
  let headersOfInterest = DEFAULT_HEADERS;
  if (o.headersOfInterest !== undefined) {
    const list = o.headersOfInterest;
    if (!Array.isArray(list) || list.length > 20) {
      throw new ValidationError('headersOfInterest', 'a list of at most 20 header names', list);
    }
    for (const h of list) {
      if (typeof h !== 'string' || !HEADER_NAME.test(h)) {
        throw new ValidationError('headersOfInterest', 'a list of header names (tokens)', h);
      }
    }
    headersOfInterest = (list as string[]).map((h) => h.toLowerCase());
  }
  const maxTimeoutMs = optionInt(
    o.maxTimeoutMs,
    'maxTimeoutMs',
    1,
    MAX_TARGET_TIMEOUT_MS,
    MAX_TARGET_TIMEOUT_MS,
  );
  return {
    allowHosts: o.allowHosts as string[],
    allowPrivate: o.allowPrivate === true,
    secret: o.secret as string | undefined,
    temporary,
    on429: on429 as ResolvedHttpTargetOptions['on429'],
    rateLimitScope,
    headersOfInterest,
    maxBodyExcerpt: optionInt(o.maxBodyExcerpt, 'maxBodyExcerpt', 0, MAX_BODY_EXCERPT_BYTES, 1024),
    maxRedirects: optionInt(o.maxRedirects, 'maxRedirects', 0, MAX_REDIRECTS, 3),
    defaultTimeoutMs: Math.min(
      optionInt(o.defaultTimeoutMs, 'defaultTimeoutMs', 1, MAX_TARGET_TIMEOUT_MS, DEFAULT_TARGET_TIMEOUT_MS),
      maxTimeoutMs,
    ),
    maxTimeoutMs,
  };
}

/** Most redirects a handler may be told to follow. */
export const MAX_REDIRECTS = 20;
/**
 * Request headers of the job's own that a redirect to another origin (scheme, host, port) does not
 * carry, as fetch does; the signature is not sent there either (it is not bound to the URL: the
 * other host could replay it to the first within its freshness window).
 */
export const CROSS_ORIGIN_DROPPED_HEADERS = ['authorization', 'cookie', 'proxy-authorization'] as const;

/** The job's headers a hop to `to` from the original `from` sends: credentials only to the same origin. */
export function headersForHop(
  headers: Readonly<Record<string, string>>,
  from: URL,
  to: URL,
): Record<string, string> {
  if (from.origin === to.origin) return { ...headers };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!(CROSS_ORIGIN_DROPPED_HEADERS as readonly string[]).includes(k.toLowerCase())) out[k] = v;
  }
  return out;
}

const DEFAULT_TEMPORARY = (s: number): boolean =>
  s === 408 || s === 425 || s === 429 || (s >= 500 && s <= 599);
const DEFAULT_HEADERS = ['content-type', 'retry-after', 'location', 'x-request-id'];
/** Longest Retry-After honoured: a day. */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/** Whether `host` (a URL's hostname) is allowed by `allowHosts`. */
export function hostAllowed(host: string, allowHosts: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return allowHosts.some((p) => {
    const a = p.toLowerCase();
    if (a === '*') return true;
    if (a.startsWith('*.')) return h.endsWith(a.slice(1)) && h.length > a.length - 1;
    return h === a.replace(/^\[|\]$/g, '');
  });
}

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv6');
}

/** Private, loopback, link-local, unique-local, multicast or unspecified (IPv4-mapped IPv6 too). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1] as string, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true; // not an address: refuse
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Refused by the allow-list or the private-address rule: nothing was sent. */
class ForbiddenTarget extends PermanentError {
  constructor(message: string) {
    super(message, { code: 'HTTP_TARGET_FORBIDDEN' });
  }
}

/** `Retry-After` (seconds, or an HTTP date) as ms from `now`, capped; undefined when absent or bad. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** The signature headers of a request body sent at `timestamp` (ms since epoch). */
export function signHttpTarget(secret: string, timestamp: number, body: string): Record<string, string> {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return { 'X-Retraced-Timestamp': String(timestamp), 'X-Retraced-Signature': `v1=${mac}` };
}

/**
 * For a receiver: whether a request is signed with `secret` and recent (its timestamp within
 * `toleranceMs` of `now`, default 5 minutes, against replays). `body` is the raw body text ('' for
 * none); the two header values as received.
 */
export function verifyHttpTargetSignature(input: {
  readonly secret: string;
  readonly body: string;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly now?: number;
  readonly toleranceMs?: number;
}): boolean {
  const { secret, body, timestamp, signature } = input;
  if (!timestamp || !signature || !/^\d{1,16}$/.test(timestamp)) return false;
  const now = input.now ?? Date.now();
  if (Math.abs(now - Number(timestamp)) > (input.toleranceMs ?? 300_000)) return false;
  const want = Buffer.from(signHttpTarget(secret, Number(timestamp), body)['X-Retraced-Signature'] as string);
  const got = Buffer.from(signature);
  return got.length === want.length && timingSafeEqual(got, want);
}

interface Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The first maxBodyExcerpt bytes of the body. */
  readonly excerpt: Buffer;
  readonly bytes: number;
}

/**
 * The built-in handler of HTTP target jobs: the job's data is an {@link HttpTarget}. See the module
 * comment for classification, signing and the SSRF rules.
 */
export function httpTargetHandler(options: HttpTargetOptions): Handler<unknown, unknown> {
  const o = resolveHttpTargetOptions(options);
  const { temporary, maxRedirects, allowPrivate } = o;
  const maxExcerpt = o.maxBodyExcerpt;

  const lookup = (
    hostname: string,
    opts: object,
    cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...opts, all: true }, (err, addresses) => {
      if (err) return cb(err, []);
      const list = addresses;
      const bad = list.find((a) => !allowPrivate && isPrivateAddress(a.address));
      if (bad) {
        return cb(
          Object.assign(new Error(`${hostname} resolves to ${bad.address}, a private address`), {
            code: 'HTTP_TARGET_FORBIDDEN',
          }),
          [],
        );
      }
      const all = (opts as { all?: boolean }).all;
      if (all) return cb(null, list);
      const first = list[0] as LookupAddress;
      cb(null, first.address, first.family);
    });
  };

  const check = (u: URL): void => {
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new ForbiddenTarget(`${u.protocol} is not http or https`);
    }
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!hostAllowed(host, o.allowHosts)) {
      throw new ForbiddenTarget(`host ${host} is not in the allow-list`);
    }
    if (isIP(host) !== 0 && !allowPrivate && isPrivateAddress(host)) {
      throw new ForbiddenTarget(`${host} is a private address`);
    }
  };

  const send = (
    u: URL,
    method: HttpMethod,
    timeoutMs: number,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<Response> =>
    new Promise((resolve, reject) => {
      const mod = u.protocol === 'https:' ? https : http;
      const req = mod.request(
        u,
        { method, headers, lookup: lookup as never, signal, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          let bytes = 0;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (kept < maxExcerpt) {
              const part = c.subarray(0, maxExcerpt - kept);
              chunks.push(part);
              kept += part.length;
            }
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              excerpt: Buffer.concat(chunks),
              bytes,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
      req.on('error', reject);
      req.end(body);
    });

  return async (job) => {
    let t: ResolvedHttpTarget;
    try {
      t = resolveHttpTarget(job.data, 'data');
    } catch (e) {
      // A job added without the API's check (a bare add): never fixed by a retry.
      throw new PermanentError((e as Error).message, { code: 'HTTP_TARGET_INVALID' });
    }
    const first = new URL(t.url);
    const timeoutMs = Math.min(t.timeoutMs ?? o.defaultTimeoutMs, o.maxTimeoutMs);
    let url = first;
    let method = t.method;
    let body = t.body;
    const started = Date.now();
    for (let hop = 0; ; hop++) {
      check(url);
      // Credentials and the signature go to the target's own origin only (see headersForHop).
      const sameOrigin = url.origin === first.origin;
      const headers: Record<string, string> = {
        'User-Agent': 'ReTraced-http-target',
        'X-Retraced-Job': `${job.queue}/${job.id}/${job.attempt}`,
        ...headersForHop(t.headers, first, url),
        ...(o.secret && sameOrigin ? signHttpTarget(o.secret, Date.now(), body ?? '') : {}),
      };
      if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
      job.log(
        `→ ${method} ${url.href}${hop > 0 ? ` (redirect ${hop}${sameOrigin ? '' : ', another origin: no credentials, unsigned'})` : ''}`,
      );
      let res: Response;
      try {
        res = await send(url, method, timeoutMs, headers, body, job.signal);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'HTTP_TARGET_FORBIDDEN') throw new ForbiddenTarget((e as Error).message);
        job.log(`✕ ${(e as Error).message}${code ? ` [${code}]` : ''}`);
        throw new TemporaryError(`${method} ${url.host}: ${(e as Error).message}`, {
          code: code ?? 'HTTP_NETWORK',
        });
      }
      const ms = Date.now() - started;
      const kept: Record<string, string> = {};
      for (const h of o.headersOfInterest) {
        const v = res.headers[h];
        if (v !== undefined) kept[h] = Array.isArray(v) ? v.join(', ') : v;
      }
      job.log(
        `← ${res.status} in ${ms} ms${
          Object.keys(kept).length
            ? `; ${Object.entries(kept)
                .map(([k, v]) => `${k}: ${v}`)
                .join('; ')}`
            : ''
        }`,
      );
      const excerpt = bodyExcerpt(res.excerpt);
      // On the attempt's record, cut to its bound: recording never fails the call.
      const record: AttemptResponse = job.recordResponse({
        status: res.status,
        ms,
        headers: kept,
        ...excerpt,
        bodyBytes: res.bytes,
        ...(hop > 0 ? { redirects: hop } : {}),
      });
      if (record.body) {
        job.log(
          `body${res.bytes > res.excerpt.length ? ` (first ${res.excerpt.length} of ${res.bytes} bytes)` : ''}${
            record.bodyEncoding ? ' (base64)' : ''
          }: ${record.body}`,
        );
      }
      const location = res.headers.location;
      if (location && [301, 302, 303, 307, 308].includes(res.status)) {
        if (hop >= maxRedirects) {
          throw new PermanentError(`more than ${maxRedirects} redirects`, {
            code: 'HTTP_TOO_MANY_REDIRECTS',
          });
        }
        url = new URL(location, url);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      if (res.status >= 200 && res.status < 300) return record;
      const message = `HTTP ${res.status} from ${method} ${url.host}${url.pathname}`;
      const code = `HTTP_${res.status}`;
      const retryAfterMs = parseRetryAfter(
        kept['retry-after'] ?? (res.headers['retry-after'] as string | undefined),
        Date.now(),
      );
      if (res.status === 429 && o.on429 === 'rate-limit') {
        // An upstream limit: pause the group (or queue), the job waits again uncharged.
        throw new RateLimitError({
          message,
          code,
          retryAfterMs: retryAfterMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS,
          scope: o.rateLimitScope,
        });
      }
      if (temporary(res.status)) {
        throw new TemporaryError(message, { code, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
      }
      throw new PermanentError(message, { code });
    }
  };
}
