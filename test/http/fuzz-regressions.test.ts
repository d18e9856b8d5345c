/**
 * What test/http/fuzz.test.ts found, shrunk to fixed examples: each case failed before its fix.
 * The last suite holds two lone-surrogate cases of the Redis backend, fixed at the library's edge.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RedisBackend } from '../../src/backends/redis/index.js';
import { PermanentError } from '../../src/errors.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { eventually, expectProblem, setup } from './helpers.js';

describe('URLs the router cannot take apart', () => {
  // Before: Fastify's own `{"error":"Bad Request","code":"FST_ERR_BAD_URL",...}` as application/json
  // (414 for a long segment), before authentication and without the security headers.
  const BAD = [
    '/queues/%ZZ',
    '/queues/%C0%AF/pause',
    '/queues/x%ED%A0%BD/retention',
    '/%',
    `/queues/${'x'.repeat(400)}`,
  ];

  it('get a 400 problem with the usual headers', async () => {
    const t = await setup();
    for (const url of BAD) {
      const res = await t.app.inject({ method: 'GET', url });
      const p = expectProblem(res, 400, 'RETRACED_ERR_BAD_REQUEST');
      expect(p.detail).not.toContain('xxxxxxxx');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('get a 401 first when the server has a token', async () => {
    const t = await setup({ token: 'tok' });
    for (const url of BAD) {
      const res = await t.app.inject({ method: 'POST', url, headers: { authorization: 'Bearer wrong' } });
      expectProblem(res, 401, 'RETRACED_ERR_UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expectProblem(await t.request('GET', '/queues/%ZZ'), 400, 'RETRACED_ERR_BAD_REQUEST');
  });
});

describe('requests that are not HTTP', () => {
  // Before: Fastify's default client-error answer, `{"error":"Bad Request","message":"Client Error"}`.
  async function raw(port: number, text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(text));
      let out = '';
      socket.setEncoding('utf8').on('data', (c: string) => (out += c));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
  }

  it('get a problem, 431 for a head over 16 KiB', async () => {
    const t = await setup();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.app.server.address() as AddressInfo).port;
    const cases: [string, number][] = [
      ['{"name":"n"}\r\n\r\n', 400],
      ['GET /queues HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 400],
      ['GET /queues HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
      [`GET /queues?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
    ];
    for (const [text, status] of cases) {
      const out = await raw(port, text);
      const [head = '', body = ''] = out.split('\r\n\r\n');
      expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
      expect(head.toLowerCase()).toContain('content-type: application/problem+json');
      expect(head.toLowerCase()).toContain('x-content-type-options: nosniff');
      expect(JSON.parse(body)).toMatchObject({
        status,
        type: expect.stringMatching(/^urn:retraced:problem:/),
      });
    }
  });
});

describe('text with lone surrogates', () => {
  // Before: accepted, and on Redis stored as UTF-8, so read back with U+FFFD in their place.
  it('is refused in job names and in who/why fields, naming the field; emoji pass', async () => {
    const t = await setup();
    const name = await t.request('POST', '/queues/q/jobs', { name: 'n\ud800', data: 1 });
    expect(expectProblem(name, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.name');
    const bulk = await t.request('POST', '/queues/q/jobs/bulk', {
      jobs: [
        { name: 'ok', data: 1 },
        { name: '\udc00x', data: 1 },
      ],
    });
    expect(expectProblem(bulk, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.jobs[1].name');
    expect(
      (await t.request('POST', '/queues/q/jobs', { name: 'n😀\u202E', data: '\ud800', options: { id: 'e' } }))
        .statusCode,
    ).toBe(201);
    for (const body of [{ by: 'x\ud800' }, { by: 'x', reason: '\udfff' }]) {
      const res = await t.request('POST', '/queues/q/jobs/e/cancel', body);
      expect(expectProblem(res, 400, 'RETRACED_ERR_VALIDATION').detail).toMatch(
        /^body\.(by|reason) must be (1-200|at most 2000) characters of valid Unicode \(no lone surrogates\), received /,
      );
    }
    const retry = await t.request('POST', '/queues/q/jobs/e/retry', { by: 'x', note: 'a\ud800' });
    expect(expectProblem(retry, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.note');
    const replay = await t.request('POST', '/queues/q/dlq/replay', { by: '\ud800', ids: ['e'] });
    expect(expectProblem(replay, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.by');
    expect(
      (await t.request('POST', '/queues/q/jobs/e/cancel', { by: 'ops 😀', reason: '<b>' })).statusCode,
    ).toBe(200);
    // Job data is JSON: lone surrogates there are escaped and survive.
    expect((await t.request('GET', '/queues/q/jobs/e')).json()).toMatchObject({
      name: 'n😀\u202E',
      data: '\ud800',
    });
  });
});

describe.skipIf(!hasRedisServer())(
  'Redis backend: text it keeps as UTF-8 never receives a lone surrogate',
  () => {
    let server: RedisServer;
    let backend: RedisBackend;
    beforeAll(async () => {
      server = await startRedisServer();
      backend = new RedisBackend({ connection: server.url, prefix: 'fzreg', onWarning: () => {} });
    });
    afterAll(async () => {
      await backend?.close();
      await server?.stop();
    });

    // Before: the library passed `by` and `reason` to the backend, which wrote them as UTF-8 hash
    // fields: '\ud800' came back as '\ufffd'.
    // Fixed: the library refuses them, naming the field, and stores nothing.
    it('Queue.cancel refuses lone surrogates in `by` and `reason`', async () => {
      const q = new Queue('cancel', { backend });
      const { id } = await q.add('n', 1);
      await expect(q.cancel(id, { by: 'a\ud800' })).rejects.toThrow(/by/);
      await expect(q.cancel(id, { by: 'ops', reason: 'b\udc00' })).rejects.toThrow(/reason/);
      expect((await q.getJob(id))?.state).toBe('waiting');
    });

    // A handler's error code is indexed for the DLQ as a raw field; the attempt's own copy (JSON)
    // keeps it, the DLQ summary does not.
    // Fixed: serializeError turns a lone surrogate in a code into U+FFFD, so the DLQ summary and
    // the attempt's record agree.
    it('the DLQ summary and the attempt agree on the error code a handler gave', async () => {
      const app = await buildApp({ backend });
      try {
        const q = new Queue('code', { backend });
        await q.add('n', 1, { id: 'd' });
        const w = new Worker(
          q,
          () => {
            throw new PermanentError('boom', { code: 'E\ud800' });
          },
          { idleCheckMs: 20 },
        );
        await eventually(async () => (await q.counts()).dead === 1);
        await w.close();
        const dlq = (await app.inject({ url: '/queues/code/dlq' })).json<{ jobs: { errorCode: string }[] }>();
        expect(dlq.jobs[0]?.errorCode).toBe('E\ufffd');
        expect((await q.getJob('d'))?.attempts[0]?.error?.code).toBe('E\ufffd');
      } finally {
        await app.close();
      }
    });
  },
);
