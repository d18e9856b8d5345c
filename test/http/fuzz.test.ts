/**
 * Property-based fuzzing of every route, generated from the app's own route table and schemas, on
 * the memory backend and on a real Redis (a redis-server of its own; skipped without one):
 *
 * - every request, valid or mutated (wrong types, missing and extra fields, out-of-range numbers,
 *   huge strings, deep nesting, hostile unicode and injection strings in path parameters, query
 *   strings, bodies and headers) gets an answer below 500; errors are problem+json, validation
 *   errors name their field; no body shows a stack trace or an internal path;
 * - jobs stored before the run are byte-for-byte the same after it, jobs the run created read back
 *   as they were sent, and the backend still adds and processes a job;
 * - with a token, a missing or wrong one gets a 401 on every route but the probes;
 * - a body over the limit gets a 413 on every route that takes one.
 *
 * `FUZZ_RUNS` (default 30 per route) and `FUZZ_SEED` make longer or replayed runs.
 */
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';

import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';

import type { Backend } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { PermanentError } from '../../src/errors.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import {
  deepJson,
  documents,
  FUZZ_RUNS,
  fuzzParams,
  mutant,
  nastyString,
  operations,
  routeTable,
  valid,
  type Hints,
  type Operation,
  type Schema,
} from './fuzz-schema.js';

/** Hidden routes (not in the OpenAPI document): they take no input at all. */
const NO_INPUT_ROUTES = new Set(['GET /openapi.json', 'GET /docs']);
const TOKEN = 'fuzz-token-1';
const SENTINEL = 'zz-sentinel';
const TARGET = 'fz';

// Requests ----------------------------------------------------------------------------------------

interface FuzzRequest {
  readonly method: string;
  readonly url: string;
  readonly payload?: string;
  readonly headers: Record<string, string>;
  /** What the request was meant to be, for reports. */
  readonly kind: string;
}

/** encodeURIComponent, except that lone surrogates become the (invalid) UTF-8 bytes they would be. */
function encode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...s]
      .map((c) => {
        const u = c.charCodeAt(0);
        if (c.length === 1 && u >= 0xd800 && u <= 0xdfff) {
          return [0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f)]
            .map((b) => `%${b.toString(16).toUpperCase()}`)
            .join('');
        }
        return encodeURIComponent(c);
      })
      .join('');
  }
}

/** Path segments sent as they are (already encoded, or deliberately malformed). */
const RAW_SEGMENTS = [
  '%',
  '%ZZ',
  '%00',
  '%2e%2e',
  '..%2F..%2Fetc',
  '%ED%A0%80',
  '%C0%AF',
  'a;b=c',
  '%0D%0AFLUSHALL',
  '%3Cscript%3E',
  'x'.repeat(400),
];
/** Query strings sent as they are. */
const RAW_QUERIES = [
  '?limit=1&limit=2',
  '?state[]=dead',
  '?%=%',
  '?limit=%00',
  '?__proto__[x]=1&constructor[prototype][y]=1',
  '?cursor=%FF%FE',
  `?${'a=b&'.repeat(3000)}`,
  '?limit=1e3',
  '?limit=0x10',
  '?from=2026-02-30T99:99:99Z&to=-1',
  '?queue=a,,b',
  `?queue=${Array.from({ length: 60 }, (_, i) => `q${i}`).join(',')}`,
];
/** Bodies sent as they are. */
const RAW_BODIES = [
  '',
  '{',
  '{"a":1}{',
  'null',
  '[]',
  '"x"',
  '\u0000',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  deepJson(10_000, 'array'),
  deepJson(10_000, 'object'),
  `{"name":"n","data":${deepJson(10_000, 'array')}}`,
  `{"by":"x","patch":${deepJson(10_000, 'object')}}`,
  `{"name":"n","data":"${'\\ud800'.repeat(1000)}"}`,
  `{"jobs":[${Array.from({ length: 1001 }, () => '{"name":"n","data":1}').join(',')}]}`,
];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'text/html',
];
/** Extra headers: each is valid HTTP, the values are not what the API expects. */
const EXTRA_HEADERS: Record<string, string>[] = [
  {},
  { accept: 'text/html' },
  { 'x-forwarded-for': '127.0.0.1, <script>' },
  { origin: 'https://evil.example' },
  { 'last-event-id': '../../x' },
  { cookie: 'session=<script>' },
  { 'x-http-method-override': 'DELETE' },
];

function queryString(v: unknown): string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `?${encode(String(v))}`;
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    for (const item of Array.isArray(x) ? x : [x]) {
      const text = typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item);
      parts.push(`${encode(k)}=${encode(text)}`);
    }
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function requestFor(op: Operation, hints: Hints): fc.Arbitrary<FuzzRequest> {
  const names = [...op.path.matchAll(/:(\w+)/g)].map((m) => m[1] ?? '');
  const paramSchemas = (op.params?.properties ?? {}) as Record<string, Schema>;
  const segment = (name: string): fc.Arbitrary<[string, boolean]> =>
    fc.oneof(
      {
        weight: 6,
        arbitrary: valid(paramSchemas[name], hints, name).map(
          (v) => [encode(String(v)), true] as [string, boolean],
        ),
      },
      {
        weight: 2,
        arbitrary: nastyString.filter((s) => s !== '').map((s) => [encode(s), false] as [string, boolean]),
      },
      { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS).map((s) => [s, false] as [string, boolean]) },
    );
  const segments = fc.tuple(...names.map(segment));
  const query = op.query
    ? fc.oneof(
        { weight: 4, arbitrary: valid(op.query, hints).map((v) => ({ text: queryString(v), ok: true })) },
        { weight: 3, arbitrary: mutant(op.query, hints).map((v) => ({ text: queryString(v), ok: false })) },
        { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERIES).map((text) => ({ text, ok: false })) },
      )
    : fc.oneof(
        { weight: 4, arbitrary: fc.constant({ text: '', ok: true }) },
        { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERIES).map((text) => ({ text, ok: true })) },
      );
  const takesBody = op.method === 'POST' || op.method === 'PUT';
  const body: fc.Arbitrary<{ payload?: string; ok: boolean }> = takesBody
    ? fc.oneof(
        {
          weight: 4,
          arbitrary: valid(op.body, hints).map((v) => ({ payload: JSON.stringify(v) ?? '', ok: true })),
        },
        {
          weight: 4,
          arbitrary: mutant(op.body, hints).map((v) => ({
            payload: JSON.stringify(v) ?? 'undefined',
            ok: false,
          })),
        },
        { weight: 1, arbitrary: fc.constantFrom(...RAW_BODIES).map((payload) => ({ payload, ok: false })) },
      )
    : fc.oneof(
        { weight: 8, arbitrary: fc.constant({ ok: true }) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(...RAW_BODIES.slice(0, 6)).map((payload) => ({ payload, ok: true })),
        },
      );
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  );
  return fc
    .record({ segments, query, body, contentType, extra: fc.constantFrom(...EXTRA_HEADERS) })
    .map(({ segments: segs, query: q, body: b, contentType: ct, extra }) => {
      let i = 0;
      const path = op.path.replace(/:(\w+)/g, () => segs[i++]?.[0] ?? '');
      const allValid = segs.every((s) => s[1]) && q.ok && b.ok && ct === 'application/json';
      return {
        method: op.method,
        url: path + q.text,
        headers: { ...extra, ...(b.payload === undefined ? {} : { 'content-type': ct }) },
        ...(b.payload === undefined ? {} : { payload: b.payload }),
        kind: allValid ? 'valid' : 'mutated',
      };
    });
}

// Answers -----------------------------------------------------------------------------------------

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly body: string;
}

const LEAKS = [
  /\n\s+at /,
  /\bat [\w.<>]+ \(/,
  /\.[cm]?[tj]s:\d+/,
  /node_modules/,
  /\/work\//,
  /\/home\//,
  /\bfile:\/\//,
];

/** What is wrong with an answer (empty when nothing is). */
function judge(req: FuzzRequest, res: Answer): string[] {
  const bad: string[] = [];
  const type = String(res.headers['content-type'] ?? '');
  const path = req.url.split('?')[0] ?? '';
  if (res.status >= 500) bad.push(`status ${res.status}`);
  if (res.headers['x-content-type-options'] !== 'nosniff') bad.push('no x-content-type-options: nosniff');
  const sent = decodeURIComponentSafe(req.url) + (req.payload ?? '');
  // A job's attempts keep the stack of the error its handler threw (bounded, by design: it is the
  // job's history); anything else that looks like a stack or an internal path is a leak.
  const shown = res.status < 400 && type.startsWith('application/json') ? withoutStacks(res.body) : res.body;
  for (const leak of LEAKS) {
    const m = leak.exec(shown);
    if (m && !sent.includes(m[0])) bad.push(`leaks ${JSON.stringify(m[0])}`);
  }
  if (res.status >= 400) {
    if (!type.startsWith('application/problem+json')) bad.push(`error as ${type}`);
    let p: Record<string, unknown> = {};
    try {
      p = JSON.parse(res.body) as Record<string, unknown>;
    } catch {
      bad.push('error body is not JSON');
    }
    if (
      p.status !== res.status ||
      typeof p.code !== 'string' ||
      typeof p.detail !== 'string' ||
      p.detail === ''
    ) {
      bad.push('not a complete problem');
    }
    if (p.code === 'RETRACED_ERR_VALIDATION' && (typeof p.field !== 'string' || p.field === '')) {
      bad.push('a validation error without a field');
    }
    if (res.status === 413 && p.code !== 'RETRACED_ERR_PAYLOAD_TOO_LARGE') bad.push('413 with another code');
  } else if (path === '/docs') {
    if (!type.startsWith('text/html')) bad.push(`docs as ${type}`);
  } else if (path === '/metrics') {
    if (!type.startsWith('text/plain')) bad.push(`metrics as ${type}`);
  } else if (path === '/events') {
    if (!type.startsWith('text/event-stream')) bad.push(`events as ${type}`);
  } else if (!type.startsWith('application/json')) {
    bad.push(`answer as ${type}`);
  }
  return bad;
}

/**
 * What the OpenAPI document and the server disagree on: a status the operation does not list, or a
 * request the document allows (every part generated from its schemas) refused as invalid.
 */
function contract(op: Operation, req: FuzzRequest, res: Answer): string[] {
  const bad: string[] = [];
  if (!documents(op, res.status)) bad.push(`status ${res.status} not in the document`);
  if (req.kind === 'valid' && res.status === 400) {
    let code = '';
    try {
      code = String((JSON.parse(res.body) as { code?: unknown }).code);
    } catch {
      // judge() reports a body that is not JSON
    }
    if (code === 'RETRACED_ERR_VALIDATION') bad.push('the document allows what the server refuses');
  }
  return bad;
}

function withoutStacks(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body, (k, v: unknown) => (k === 'stack' ? undefined : v)));
  } catch {
    return body;
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `inject`, or for /events (a stream that never ends) a real request closed once the head arrives. */
async function send(app: FastifyInstance, port: number, req: FuzzRequest): Promise<Answer> {
  if (!req.url.startsWith('/events')) {
    const res = await app.inject({
      method: req.method as 'GET',
      url: req.url,
      headers: req.headers,
      ...(req.payload === undefined ? {} : { payload: req.payload }),
    });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }
  // The stream's route takes no body; one sent anyway may be refused before it is read.
  const payload = undefined;
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: '127.0.0.1',
        port,
        agent: false,
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          'content-length': '0',
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status === 200) {
          resolve({ status, headers: res.headers, body: '' });
          res.destroy();
          r.destroy();
          return;
        }
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status, headers: res.headers, body }));
      },
    );
    r.on('error', reject);
    r.end(payload);
  });
}

// Backends ----------------------------------------------------------------------------------------

interface Env {
  readonly backend: Backend;
  readonly app: FastifyInstance;
  readonly port: number;
  close(): Promise<void>;
}

async function startEnv(
  backend: Backend,
  options: { token?: string; bodyLimit?: number } = {},
): Promise<Env> {
  // The API's routes only: the dashboard's files (public, no input) are tested by ui.test.ts.
  const app = await buildApp({ backend, ui: false, ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return { backend, app, port, close: () => app.close() };
}

async function runUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Dead jobs in `queue` whose error messages and data are hostile text. */
async function makeDead(backend: Backend, queue: string, data: readonly unknown[]): Promise<string[]> {
  const q = new Queue(queue, { backend });
  const ids = (await q.addBulk(data.map((d) => ({ name: 'dies', data: d })))).map((a) => a.id);
  const w = new Worker(
    q,
    (job) => {
      throw new PermanentError(`failed on <script>alert(${JSON.stringify(job.id)})</script>`, {
        code: 'E_<B>',
      });
    },
    { idleCheckMs: 20 },
  );
  try {
    await runUntil(async () => (await q.counts()).dead >= ids.length);
  } finally {
    await w.close();
  }
  return ids;
}

type BackendKind = 'memory' | 'redis';
const redisAvailable = hasRedisServer();
if (!redisAvailable) console.warn('⚠ HTTP fuzz on Redis SKIPPED: redis-server not found');

describe.each<BackendKind>(['memory', 'redis'])('fuzzing the HTTP API (%s backend)', (kind) => {
  let server: RedisServer | undefined;
  const backends: Backend[] = [];
  const envs: Env[] = [];

  async function newBackend(): Promise<Backend> {
    let b: Backend;
    if (kind === 'memory') b = new MemoryBackend();
    else {
      server ??= await startRedisServer();
      b = new RedisBackend({ connection: server.url, prefix: `fz${backends.length}`, onWarning: () => {} });
    }
    backends.push(b);
    return b;
  }
  async function env(options: { token?: string; bodyLimit?: number } = {}): Promise<Env> {
    const e = await startEnv(await newBackend(), options);
    envs.push(e);
    return e;
  }

  afterAll(async () => {
    for (const e of envs.splice(0)) await e.close();
    for (const b of backends.splice(0)) await b.close();
    await server?.stop();
  }, 30_000);

  const skip = kind === 'redis' && !redisAvailable;

  it.skipIf(skip)('every route has a schema for each of its inputs', async () => {
    const { app } = await env();
    const routes = routeTable(app);
    const ops = operations(app);
    expect(routes.length).toBeGreaterThan(15);
    const missing: string[] = [];
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      if (NO_INPUT_ROUTES.has(key)) continue;
      const op = ops.get(key);
      if (!op) {
        missing.push(`${key}: not in the OpenAPI document`);
        continue;
      }
      const names = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1] ?? '');
      const declared = Object.keys((op.params?.properties ?? {}) as object);
      if (names.some((n) => !declared.includes(n))) missing.push(`${key}: path parameters without a schema`);
      if ((r.method === 'POST' || r.method === 'PUT') && !op.body && !/\/(pause|resume)$/.test(r.path)) {
        missing.push(`${key}: no body schema`);
      }
    }
    expect(missing).toEqual([]);
  });

  it.skipIf(skip)(
    'no request gets a 5xx, a leak or a malformed error; stored jobs are unchanged and the backend still works',
    async () => {
      const e = await env();
      const { app, backend } = e;
      // Jobs the run must not change: in a queue it never names.
      const sentinel = new Queue(SENTINEL, { backend });
      const hostile = {
        html: '<script>alert(1)</script>',
        attr: '"><img src=x onerror=alert(1)>',
        nul: 'a\u0000b',
        rtl: '\u202Egnp.exe',
      };
      await sentinel.add('waiting <b>', hostile, { id: 'w-1' });
      await sentinel.add('later', { n: 1 }, { id: 's-1', delay: 3_600_000 });
      await makeDead(backend, SENTINEL, [hostile]);
      // Jobs the run may act on (their ids are among the values it tries).
      const deadIds = await makeDead(backend, TARGET, [{ a: 1 }, { b: '<i>' }, null]);
      const target = new Queue(TARGET, { backend });
      const waiting = await target.addBulk([
        { name: 'w', data: 1 },
        { name: 'later', data: 2, options: { delay: 3_600_000 } },
      ]);
      const knownIds = [...deadIds, ...waiting.map((w) => w.id)];

      const snapshot = async (): Promise<unknown[]> => {
        const list = await app.inject({ url: `/queues/${SENTINEL}` });
        const ids = [];
        for (const state of ['waiting', 'scheduled', 'dead'] as const) {
          const res = await app.inject({ url: `/queues/${SENTINEL}/jobs?state=${state}` });
          ids.push(...res.json<{ jobs: { id: string }[] }>().jobs.map((j) => j.id));
        }
        const jobs = await Promise.all(
          ids.sort().map((id) => app.inject({ url: `/queues/${SENTINEL}/jobs/${id}` })),
        );
        return [list.json(), ...jobs.map((j) => [j.statusCode, j.body])];
      };
      const before = await snapshot();
      expect(before).toHaveLength(4);

      const firstPage = await app.inject({ url: `/queues/${SENTINEL}/jobs?state=dead&limit=1` });
      const cursor = firstPage.json<{ nextCursor?: string }>().nextCursor;
      expect(cursor).toBeTypeOf('string');
      const hints: Hints = {
        cursor: fc.constant(cursor),
        queue: fc.constantFrom(TARGET, 'fz2'),
        id: fc.constantFrom(...knownIds),
        ids: fc.array(fc.constantFrom(...knownIds, 'missing'), { minLength: 1, maxLength: 4 }),
        from: fc.constantFrom('0', '2026-01-01T00:00:00Z', String(Date.now())),
        to: fc.constantFrom('99999999999999', '2100-01-01T00:00:00.000Z'),
        runAt: fc.constantFrom('2100-01-01T00:00:00Z', String(Date.now() + 60_000)),
        cron: fc.constantFrom('* * * * *', '0 3 * * *', '*/5 * * * * *', '@daily', '0 9 * * MON-FRI'),
        tz: fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata'),
        // An HTTP target's URL is a grammar a schema cannot say: valid ones.
        url: fc.constantFrom('https://api.example.com/hook', 'http://127.0.0.1:9/x?a=1', 'HTTPS://h.example'),
        // Most random option sets are refused by the library (retry policies especially): these
        // let more valid jobs through, to be read back at the end.
        options: fc.constantFrom(
          {},
          { delay: 60_000 },
          { maxStalls: 2, timeout: 0 },
          { retry: { attempts: 2 } },
        ),
      };
      const ops = [...operations(app).values()];
      const failures: string[] = [];
      const created: { queue: string; id: string; name: string; data: unknown }[] = [];
      const patched = new Set<string>();
      const stats = new Map<string, number>();
      let sent = 0;
      const started = Date.now();
      for (const op of ops) {
        await fc.assert(
          fc.asyncProperty(requestFor(op, hints), async (req) => {
            sent++;
            const res = await send(app, e.port, req);
            const bucket = `${req.kind} ${Math.floor(res.status / 100)}xx`;
            stats.set(bucket, (stats.get(bucket) ?? 0) + 1);
            const bad = [...judge(req, res), ...contract(op, req, res)];
            if (bad.length > 0) {
              failures.push(
                `${req.method} ${req.url.slice(0, 200)} ${(req.payload ?? '').slice(0, 200)} → ${res.status} ${bad.join('; ')}: ${res.body.slice(0, 300)}`,
              );
            }
            if (
              res.status < 300 &&
              req.method === 'POST' &&
              /\/jobs(\/bulk)?$/.test(req.url) &&
              req.payload
            ) {
              // inject() resolves dot segments as a URL does (/queues/a/../b/jobs is queue b).
              const queue = decodeURIComponent(new URL(req.url, 'http://x').pathname.split('/')[2] ?? '');
              type Sent = { name: string; data: unknown };
              type Added = { id: string; created: boolean };
              const body = JSON.parse(req.payload) as Sent & { jobs?: Sent[] };
              const answer = JSON.parse(res.body) as Added & { jobs?: Added[] };
              const pairs: [Sent, Added | undefined][] = body.jobs
                ? body.jobs.map((j, i) => [j, answer.jobs?.[i]])
                : [[body, answer]];
              for (const [j, a] of pairs) {
                if (a?.created) created.push({ queue, id: a.id, name: j.name, data: j.data });
              }
            }
            // A manual retry (or replay) may patch a job's data: those jobs' data is not compared.
            if (res.status === 200 && req.method === 'POST' && /\/(retry|dlq\/replay)$/.test(req.url)) {
              const [, , queue = '', , id = '*'] = new URL(req.url, 'http://x').pathname.split('/');
              patched.add(
                `${decodeURIComponent(queue)}/${/\/retry$/.test(req.url) ? decodeURIComponent(id) : '*'}`,
              );
            }
            return true;
          }),
          fuzzParams(),
        );
      }
      const ms = Date.now() - started;
      console.log(
        `http fuzz (${kind}): ${sent} requests over ${ops.length} operations in ${ms} ms; ${[...stats].map(([k, v]) => `${k}: ${v}`).join(', ')}`,
      );
      if (process.env.FUZZ_DUMP) writeFileSync(process.env.FUZZ_DUMP, failures.join('\n'));
      expect(failures.slice(0, 12), `${failures.length} failures`).toEqual([]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();

      // Nothing stored was changed or corrupted.
      expect(await snapshot()).toEqual(before);
      const corrupted: string[] = [];
      let compared = 0;
      for (const c of created) {
        const res = await app.inject({
          url: `/queues/${encodeURIComponent(c.queue)}/jobs/${encodeURIComponent(c.id)}`,
        });
        // Gone is allowed: a later request may have cancelled it and set retention to 0.
        if (res.statusCode === 404) continue;
        if (res.statusCode !== 200) {
          corrupted.push(`${c.queue}/${c.id}: ${res.statusCode}`);
          continue;
        }
        compared++;
        const job = res.json<{ name: string; data: unknown; attempts: unknown[] }>();
        if (job.name !== c.name) {
          corrupted.push(`${c.queue}/${c.id}: name ${JSON.stringify(c.name)} → ${JSON.stringify(job.name)}`);
        }
        const mayBePatched = patched.has(`${c.queue}/${c.id}`) || patched.has(`${c.queue}/*`);
        if (!mayBePatched && JSON.stringify(job.data) !== JSON.stringify(c.data)) {
          corrupted.push(`${c.queue}/${c.id}: data ${JSON.stringify(c.data)} → ${JSON.stringify(job.data)}`);
        }
      }
      expect(corrupted).toEqual([]);
      expect(compared).toBeGreaterThanOrEqual(Math.floor(created.length / 2));
      // Every queue still lists, every listed job still reads.
      const queues = (await app.inject({ url: '/queues' })).json<{ queues: { name: string }[] }>().queues;
      for (const { name } of queues) {
        for (const state of ['scheduled', 'waiting', 'active', 'completed', 'dead', 'cancelled']) {
          const res = await app.inject({ url: `/queues/${name}/jobs?state=${state}&limit=500` });
          expect(res.statusCode, `${name} ${state}`).toBe(200);
          for (const j of res.json<{ jobs: { id: string }[] }>().jobs.slice(0, 20)) {
            const one = await app.inject({ url: `/queues/${name}/jobs/${encodeURIComponent(j.id)}` });
            expect(one.statusCode, `${name}/${j.id}`).toBe(200);
          }
        }
        expect((await app.inject({ url: `/queues/${name}/dlq?limit=500` })).statusCode).toBe(200);
        expect((await app.inject({ url: `/queues/${name}/dlq/groups` })).statusCode).toBe(200);
      }
      // The backend still works: add through the API, process with a worker, read the result.
      const add = await app.inject({
        method: 'POST',
        url: '/queues/after-fuzz/jobs',
        payload: { name: 'echo', data: { ok: '<ok>' } },
      });
      expect(add.statusCode).toBe(201);
      const id = add.json<{ id: string }>().id;
      const w = new Worker(new Queue('after-fuzz', { backend }), (job) => job.data, { idleCheckMs: 20 });
      try {
        await runUntil(
          async () =>
            (await app.inject({ url: `/queues/after-fuzz/jobs/${id}` })).json<{ state: string }>().state ===
            'completed',
        );
      } finally {
        await w.close();
      }
      expect((await app.inject({ url: `/queues/after-fuzz/jobs/${id}` })).json()).toMatchObject({
        state: 'completed',
        result: { ok: '<ok>' },
      });
    },
    120_000,
  );

  it.skipIf(skip)(
    'without the token, or with a wrong one, every route but the probes answers 401',
    async () => {
      const e = await env({ token: TOKEN });
      const routes = routeTable(e.app);
      const ops = operations(e.app);
      const publicRoutes = new Set(
        [...ops.values()].filter((o) => o.public).map((o) => `${o.method} ${o.path}`),
      );
      expect(publicRoutes).toEqual(new Set(['GET /config', 'GET /healthz', 'GET /readyz']));
      const badAuth = fc.constantFrom<(string | undefined)[]>(
        undefined,
        '',
        'Bearer',
        'Bearer ',
        'Bearer wrong',
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Basic ${TOKEN}`,
        `Bearer ${TOKEN} ${TOKEN}`,
        `Bearer ${Buffer.from(TOKEN).toString('base64')}`,
        `Token ${TOKEN}`,
        TOKEN,
        `Bearer ${'x'.repeat(10_000)}`,
        'Bearer \u00e9\u00e8',
      );
      const anyRoute = fc.oneof(
        fc.constantFrom(...routes),
        fc.record({
          method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
          path: fc.constantFrom('/nope', '/queues/q/nope', '/%', '/..%2F..'),
        }),
      );
      const failures: string[] = [];
      let sent = 0;
      await fc.assert(
        fc.asyncProperty(
          anyRoute,
          fc.array(
            fc.oneof(
              nastyString.filter((s) => s !== ''),
              fc.constantFrom('q', 'a-1'),
            ),
            { minLength: 2, maxLength: 2 },
          ),
          badAuth,
          fc.option(
            fc.oneof(
              fc.constantFrom('{}', '{"name":"n","data":1}', 'x'),
              mutant(undefined).map((v) => JSON.stringify(v) ?? 'null'),
            ),
          ),
          async (route, params, auth, payload) => {
            sent++;
            let i = 0;
            const url = route.path.replace(/:(\w+)/g, () => encode(params[i++] ?? 'x'));
            const req: FuzzRequest = {
              method: route.method,
              url: route.path === '/events' ? `${url}?queue=q` : url,
              headers: {
                ...(auth === undefined ? {} : { authorization: auth }),
                ...(payload === null ? {} : { 'content-type': 'application/json' }),
              },
              ...(payload === null ? {} : { payload }),
              kind: 'unauthorised',
            };
            const res = await send(e.app, e.port, req);
            const isPublic = publicRoutes.has(`${route.method} ${route.path}`);
            const bad = judge(req, res);
            if (isPublic ? res.status === 401 : res.status !== 401) bad.push(`status ${res.status}`);
            if (!isPublic && !String(res.headers['www-authenticate'] ?? '').startsWith('Bearer')) {
              bad.push('no www-authenticate');
            }
            if (bad.length > 0) {
              failures.push(
                `${req.method} ${req.url.slice(0, 100)} auth=${JSON.stringify(auth?.slice(0, 40))} → ${res.status} ${bad.join('; ')}: ${res.body.slice(0, 200)}`,
              );
            }
            return true;
          },
        ),
        fuzzParams(FUZZ_RUNS * 10),
      );
      expect(failures.slice(0, 12), `${failures.length} failures`).toEqual([]);
      expect(sent).toBeGreaterThanOrEqual(Math.min(FUZZ_RUNS * 10, 100));
      // The right token still gets in.
      const ok = await e.app.inject({ url: '/queues', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.statusCode).toBe(200);
    },
  );

  it.skipIf(skip)('a body over the limit gets a 413 on every route that takes one', async () => {
    const small = await env({ bodyLimit: 4096 });
    const byDefault = await env();
    const writes = [...operations(small.app).values()].filter(
      (o) => o.method === 'POST' || o.method === 'PUT',
    );
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...writes),
        fc.constantFrom(small, byDefault),
        fc.integer({ min: 1, max: 50_000 }),
        fc.constantFrom('string', 'array', 'deep'),
        async (op, e, extra, shape) => {
          const limit = e === small ? 4096 : 1 << 20;
          const n = limit + extra;
          const data =
            shape === 'string'
              ? JSON.stringify('<'.repeat(n))
              : shape === 'array'
                ? `[${'1,'.repeat(n / 2)}1]`
                : deepJson(n / 2, 'array');
          const payload = `{"name":"n","by":"x","data":${data}}`;
          const url = op.path.replace(':queue', TARGET).replace(':id', 'x');
          const req: FuzzRequest = {
            method: op.method,
            url,
            payload,
            headers: { 'content-type': 'application/json' },
            kind: 'oversize',
          };
          const res = await send(e.app, e.port, req);
          const bad = judge(req, res);
          if (res.status !== 413) bad.push(`status ${res.status}`);
          if (bad.length > 0) {
            failures.push(
              `${op.method} ${url} ${payload.length} bytes → ${res.status} ${bad.join('; ')}: ${res.body.slice(0, 200)}`,
            );
          }
          return true;
        },
      ),
      fuzzParams(Math.max(10, Math.round(FUZZ_RUNS / 2))),
    );
    expect(failures.slice(0, 12), `${failures.length} failures`).toEqual([]);
    // At the limit, the body is read (and judged on its content, not its size).
    const payload = `{"name":"n","data":"${'a'.repeat(4096 - 22)}"}`;
    expect(payload.length).toBe(4096);
    const res = await small.app.inject({
      method: 'POST',
      url: `/queues/${TARGET}/jobs`,
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(201);
  });
});
