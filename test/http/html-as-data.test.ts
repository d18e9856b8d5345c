/**
 * Markup and script in job data, names and failure messages are data: stored and returned exactly
 * as given, as JSON (never text/html), in the job, the listings, the DLQ views and the event
 * stream; the /docs page (the only HTML the API serves) shows nothing a user wrote. On the memory
 * backend and on a redis-server of its own (skipped without one).
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Backend } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { PermanentError } from '../../src/errors.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { fuzzParams, nastyString } from './fuzz-schema.js';
import { eventually } from './helpers.js';

const SCRIPT = '<script>alert(1)</script>';
const ATTR = '"><img src=x onerror=alert(1)>';
const HOSTILE = {
  script: SCRIPT,
  attr: ATTR,
  svg: '<svg/onload=alert(1)>',
  js: 'javascript:alert(document.cookie)',
  entity: '&lt;script&gt;&amp;',
  close: '</script><!--',
  sse: 'x\n\nevent: dead\ndata: {"forged":true}\n\n',
  lines: 'a\r\nb\u2028c\u2029d',
  nested: { [SCRIPT]: [ATTR, { '<b>': '</b>' }] },
};
const MESSAGE = `failed: ${SCRIPT} ${ATTR}\nevent: forged\ndata: x`;
const CODE = 'E_<b>"x"</b>';
const NAME = `${SCRIPT}`.slice(0, 128);

function expectJson(res: { headers: Record<string, unknown> }): void {
  expect(String(res.headers['content-type'])).toMatch(/^application\/(problem\+)?json/);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
}

/** Reads an event stream until `until` appears in it (5 s at most) and returns its text. */
function readStream(port: number, path: string, until: string, started: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      let text = '';
      const done = (): void => {
        clearTimeout(timer);
        res.destroy();
        resolve(text);
      };
      const timer = setTimeout(done, 5000);
      res.setEncoding('utf8').on('data', (c: string) => {
        text += c;
        if (text.includes(': watching')) started();
        if (text.includes(until)) done();
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const redisAvailable = hasRedisServer();

describe.each(['memory', 'redis'] as const)('markup as data (%s backend)', (kind) => {
  let server: RedisServer | undefined;
  let backend: Backend;
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    if (kind === 'redis' && !redisAvailable) return;
    if (kind === 'memory') backend = new MemoryBackend();
    else {
      server = await startRedisServer();
      backend = new RedisBackend({ connection: server.url, prefix: 'html', onWarning: () => {} });
    }
    app = await buildApp({ backend });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app?.close();
    await backend?.close();
    await server?.stop();
  });

  it.skipIf(kind === 'redis' && !redisAvailable)(
    'is stored and returned byte for byte, as JSON, in jobs, listings, the DLQ and the event stream',
    async () => {
      let onStarted = (): void => {};
      const streaming = new Promise<void>((r) => (onStarted = r));
      const stream = readStream(port, '/events?queue=html', 'event: dead', () => onStarted());
      await streaming;

      const add = await app.inject({
        method: 'POST',
        url: '/queues/html/jobs',
        headers: { accept: 'text/html' },
        payload: { name: NAME, data: HOSTILE, options: { id: 'h1' } },
      });
      expect(add.statusCode).toBe(201);
      expectJson(add);
      const q = new Queue('html', { backend });
      const w = new Worker(
        q,
        () => {
          throw new PermanentError(MESSAGE, { code: CODE });
        },
        { idleCheckMs: 20 },
      );
      await eventually(async () => (await q.counts()).dead === 1);
      await w.close();

      const one = await app.inject({ url: '/queues/html/jobs/h1', headers: { accept: 'text/html' } });
      expectJson(one);
      const job = one.json<{
        name: string;
        data: unknown;
        attempts: { error: { message: string; code: string } }[];
      }>();
      expect(job.name).toBe(NAME);
      expect(job.data).toEqual(HOSTILE);
      expect(job.attempts[0]?.error).toMatchObject({ message: MESSAGE, code: CODE });
      // As JSON text: the markup is there as written (JSON needs no HTML escaping), never as entities.
      expect(one.body).toContain(JSON.stringify(SCRIPT));
      expect(one.body).toContain(JSON.stringify(MESSAGE));
      expect(one.body).not.toMatch(/&lt;script&gt;alert|&quot;|\\u003c/);

      for (const url of [
        '/queues/html/jobs?state=dead',
        '/queues/html/dlq',
        `/queues/html/dlq?errorCode=${encodeURIComponent(CODE)}`,
        '/queues/html/dlq/groups',
        '/queues',
      ]) {
        const res = await app.inject({ url, headers: { accept: 'text/html' } });
        expect(res.statusCode, url).toBe(200);
        expectJson(res);
        expect(res.body).not.toMatch(/&lt;script&gt;alert|&quot;|\\u003c/);
      }
      const dlq = (await app.inject({ url: `/queues/html/dlq?errorCode=${encodeURIComponent(CODE)}` })).json<{
        jobs: { id: string; name: string; errorCode: string }[];
      }>();
      expect(dlq.jobs).toEqual([expect.objectContaining({ id: 'h1', name: NAME, errorCode: CODE })]);
      const groups = (await app.inject({ url: '/queues/html/dlq/groups' })).body;
      // The group's label is the normalised message (digits become <n>), still as plain JSON text.
      expect(groups).toContain(`|${JSON.stringify(CODE).slice(1, -1)}|failed: <script>alert(<n>)</script>`);

      // A replay with a markup patch: still data.
      const replay = await app.inject({
        method: 'POST',
        url: '/queues/html/dlq/replay',
        payload: { ids: ['h1'], by: `${ATTR}`, note: SCRIPT, patch: { script: ATTR }, dryRun: true },
      });
      expect(replay.statusCode).toBe(200);
      expectJson(replay);

      // The event stream: every event's data is one JSON line; the forged lines stay inside it.
      const text = await stream;
      const events = text
        .split('\n\n')
        .filter((block) => block.includes('data: '))
        .map((block) => {
          const lines = block.split('\n');
          expect(lines.every((l) => /^(event|id|data|retry): |^:/.test(l))).toBe(true);
          const data = lines.filter((l) => l.startsWith('data: '));
          expect(data).toHaveLength(1);
          return JSON.parse((data[0] ?? '').slice(6)) as { type: string; fields: Record<string, string> };
        });
      expect(events.map((e) => e.type)).toContain('dead');
      expect(text).not.toContain('\nevent: forged');
      expect(text).not.toContain('"forged":true}\n');
      // (Events carry no user text but the ids: the message stays with the job.)
      expect(events.find((e) => e.type === 'dead')).toMatchObject({ jobId: 'h1' });
    },
  );

  it.skipIf(kind === 'redis' && !redisAvailable)('random hostile text round-trips exactly', async () => {
    const printable = nastyString.filter(
      // Names refuse control characters and lone surrogates; data takes anything JSON can hold.
      // eslint-disable-next-line no-control-regex
      (s) => s.length > 0 && s.length <= 128 && !/[\u0000-\u001f]|\p{Cs}/u.test(s),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        printable,
        fc
          .dictionary(nastyString, fc.oneof(nastyString, fc.jsonValue({ maxDepth: 2 })))
          // Fastify refuses these keys at any depth (prototype poisoning): a 400, tested elsewhere.
          .filter((d) => !/"(__proto__|constructor)":/.test(JSON.stringify(d))),
        async (name, data) => {
          const id = `r${n++}`;
          const add = await app.inject({
            method: 'POST',
            url: '/queues/rt/jobs',
            payload: { name, data, options: { id } },
          });
          expect(add.statusCode).toBe(201);
          const res = await app.inject({ url: `/queues/rt/jobs/${id}` });
          expectJson(res);
          const job = res.json<{ name: string; data: unknown }>();
          expect(job.name).toBe(name);
          expect(JSON.stringify(job.data)).toBe(JSON.stringify(data));
        },
      ),
      fuzzParams(),
    );
  });

  it.skipIf(kind === 'redis' && !redisAvailable)('the docs page reflects nothing a user wrote', async () => {
    for (const url of [
      `/docs?q=${encodeURIComponent(SCRIPT)}`,
      `/docs#${encodeURIComponent(ATTR)}`,
      '/docs',
    ]) {
      const res = await app.inject({ url, headers: { referer: SCRIPT, 'user-agent': ATTR } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.body).not.toMatch(/alert\(|onerror|<script/i);
      expect(res.body).not.toContain(NAME);
    }
    // Errors quoting the input are problem+json, whatever the client accepts.
    const bad = await app.inject({
      url: `/queues/${encodeURIComponent(SCRIPT)}/jobs`,
      headers: { accept: 'text/html' },
    });
    expect(bad.statusCode).toBe(400);
    expectJson(bad);
    const notFound = await app.inject({
      url: `/no/${encodeURIComponent(SCRIPT)}`,
      headers: { accept: 'text/html' },
    });
    expect(notFound.statusCode).toBe(404);
    expectJson(notFound);
  });
});
