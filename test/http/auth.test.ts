import { describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { buildApp } from '../../src/http/app.js';
import { assertListenSecurity, isLoopbackHost } from '../../src/http/auth.js';
import { expectProblem, setup } from './helpers.js';

const TOKEN = 's3cret-token';

describe('bearer token', () => {
  it('answers 401 problem+json without a token, with a wrong one, and with another scheme', async () => {
    const t = await setup({ token: TOKEN });
    const none = await t.app.inject({ method: 'GET', url: '/queues' });
    expectProblem(none, 401, 'RETRACED_ERR_UNAUTHORIZED');
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await t.app.inject({
      method: 'GET',
      url: '/queues',
      headers: { authorization: 'Bearer nope' },
    });
    expectProblem(wrong, 401, 'RETRACED_ERR_UNAUTHORIZED');
    const prefix = await t.app.inject({
      method: 'GET',
      url: '/queues',
      headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
    });
    expectProblem(prefix, 401, 'RETRACED_ERR_UNAUTHORIZED');
    const basic = await t.app.inject({
      method: 'GET',
      url: '/queues',
      headers: { authorization: `Basic ${TOKEN}` },
    });
    expectProblem(basic, 401, 'RETRACED_ERR_UNAUTHORIZED');
  });

  it('guards every route, unknown ones and writes included, before validating input', async () => {
    const t = await setup({ token: TOKEN });
    for (const [method, url] of [
      ['POST', '/queues/q/jobs'],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
      ['GET', '/docs'],
      ['GET', '/events?queue=q'],
      ['POST', '/retry-plan'],
      ['GET', '/no/such/route'],
    ] as const) {
      expectProblem(
        await t.app.inject({ method, url, payload: method === 'POST' ? { bad: true } : undefined }),
        401,
        'RETRACED_ERR_UNAUTHORIZED',
      );
    }
  });

  it('serves with the right token, and /healthz and /readyz without one', async () => {
    const t = await setup({ token: TOKEN });
    expect((await t.request('GET', '/queues')).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = (await t.app.inject({ method: 'GET', url: '/readyz' })).json<{
      status: string;
      now: number;
    }>();
    // With the scheduler's clock: the CLI counts `--since 30m` back from it, not from its own.
    expect(ready).toEqual({ status: 'ready', now: expect.any(Number) });
    expect(Math.abs(ready.now - (await t.backend.now()))).toBeLessThan(1000);
  });

  it('refuses an empty or spaced token at build time', async () => {
    const backend = new MemoryBackend();
    await expect(buildApp({ backend, token: '' })).rejects.toThrow(/token must be a non-empty string/);
    await expect(buildApp({ backend, token: 'a b' })).rejects.toThrow(/token/);
    await expect(buildApp({ backend, bodyLimit: 1 })).rejects.toThrow(/bodyLimit/);
  });

  it('requires a token to listen beyond loopback', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('10.0.0.5')).toBe(false);
    expect(() => assertListenSecurity({ host: '127.0.0.1' })).not.toThrow();
    expect(() => assertListenSecurity({ host: '0.0.0.0' })).toThrow(/token must be set/);
    expect(() => assertListenSecurity({ host: '0.0.0.0', token: TOKEN })).not.toThrow();
  });
});

describe('CORS', () => {
  it('is off unless configured', async () => {
    const t = await setup();
    const res = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: 'https://evil.example' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers preflight for allowed origins only, before authentication', async () => {
    const t = await setup({ token: TOKEN, cors: ['https://ops.example'] });
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/queues/q/jobs',
      headers: { origin: 'https://ops.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': 'https://ops.example',
      vary: 'Origin',
    });
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
    const other = await t.app.inject({
      method: 'GET',
      url: '/queues',
      headers: { origin: 'https://evil.example', authorization: `Bearer ${TOKEN}` },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const allowed = await t.request('GET', '/queues', undefined, { origin: 'https://ops.example' });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://ops.example');
  });
});
