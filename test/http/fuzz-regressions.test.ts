/**
 * What test/http/fuzz.test.ts found, shrunk to fixed examples: each case failed before its fix.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';

import { describe, expect, it } from 'vitest';

import { expectProblem, setup } from './helpers.js';

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
