/**
 * What keeps web pages away from the API (src/http/guards.ts): the Host check against DNS
 * rebinding, Content-Type and Origin on every change, and read-only servers. The same attacks from
 * a real browser: test/browser/cross-origin.test.ts.
 */
import { describe, expect, it } from 'vitest';

import { HttpClient } from '../../src/cli/client-http.js';
import { hostAllowed, hostNameOf, normaliseHosts } from '../../src/http/guards.js';
import { expectProblem, setup, type TestApp } from './helpers.js';

const post = (t: TestApp, url: string, headers: Record<string, string>, payload?: string) =>
  t.app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });

describe('Host header', () => {
  it('parses host names exactly', () => {
    expect(hostNameOf('LocalHost:7411')).toBe('localhost');
    expect(hostNameOf('[::1]:7411')).toBe('::1');
    expect(hostNameOf('ops.example.com.')).toBe('ops.example.com');
    expect(hostNameOf('127.0.0.1')).toBe('127.0.0.1');
    expect(hostNameOf('a@evil.example')).toBeUndefined();
    expect(hostNameOf('evil.example/x')).toBeUndefined();
    expect(hostNameOf('')).toBeUndefined();
    expect([...normaliseHosts(['0.0.0.0', '::', 'Ops.Example.com', '*'])]).toEqual(['ops.example.com', '*']);
  });

  it('allows loopback names, the address the connection arrived on, and configured names', () => {
    const none = new Set<string>();
    expect(hostAllowed('localhost:7411', none, '127.0.0.1')).toBe(true);
    expect(hostAllowed('127.0.0.2', none, '127.0.0.1')).toBe(true);
    expect(hostAllowed('[::1]:7411', none, '::1')).toBe(true);
    expect(hostAllowed('10.0.0.5:7411', none, '::ffff:10.0.0.5')).toBe(true);
    expect(hostAllowed('10.0.0.6:7411', none, '10.0.0.5')).toBe(false);
    expect(hostAllowed('evil.example:7411', none, '127.0.0.1')).toBe(false);
    expect(hostAllowed('evil.example', new Set(['evil.example']), '127.0.0.1')).toBe(true);
    expect(hostAllowed('anything', new Set(['*']), '127.0.0.1')).toBe(true);
    expect(hostAllowed('x y', none, '127.0.0.1')).toBe(false);
  });

  it('refuses a rebinding name with 403 naming the flag that would allow it; probes answer any host', async () => {
    const t = await setup();
    const res = await t.app.inject({ method: 'GET', url: '/queues', headers: { host: 'evil.example:7411' } });
    const p = expectProblem(res, 403, 'RETRACED_ERR_HOST_NOT_ALLOWED');
    expect(p.detail).toContain('--allowed-hosts evil.example');
    for (const host of ['localhost:7411', '127.0.0.1:7411', '[::1]:7411']) {
      expect((await t.app.inject({ method: 'GET', url: '/queues', headers: { host } })).statusCode).toBe(200);
    }
    const probe = await t.app.inject({ method: 'GET', url: '/healthz', headers: { host: 'evil.example' } });
    expect(probe.statusCode).toBe(200);
    const config = await t.app.inject({ method: 'GET', url: '/config', headers: { host: 'evil.example' } });
    expectProblem(config, 403, 'RETRACED_ERR_HOST_NOT_ALLOWED');
  });

  it('serves the names given in allowedHosts, and any with *', async () => {
    const t = await setup({ allowedHosts: ['ops.example.com'] });
    const ok = await t.app.inject({ method: 'GET', url: '/queues', headers: { host: 'OPS.example.com' } });
    expect(ok.statusCode).toBe(200);
    const other = await t.app.inject({ method: 'GET', url: '/queues', headers: { host: 'x.example.com' } });
    expectProblem(other, 403, 'RETRACED_ERR_HOST_NOT_ALLOWED');
    const any = await setup({ allowedHosts: ['*'] });
    expect(
      (await any.app.inject({ method: 'GET', url: '/queues', headers: { host: 'x.example' } })).statusCode,
    ).toBe(200);
  });
});

describe('changes need Content-Type: application/json', () => {
  it('refuses the body-less and form posts a web page can send, and pauses nothing', async () => {
    const t = await setup();
    for (const headers of [
      {} as Record<string, string>,
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'multipart/form-data; boundary=x' },
    ]) {
      const p = expectProblem(
        await post(t, '/queues/q/pause', headers),
        415,
        'RETRACED_ERR_UNSUPPORTED_MEDIA_TYPE',
      );
      expect(p.detail).toContain('Content-Type: application/json');
    }
    expect(await t.queue('q').isPaused()).toBe(false);
    const put = await t.app.inject({ method: 'PUT', url: '/queues/q/retention', payload: 'completed=1' });
    expectProblem(put, 415, 'RETRACED_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('accepts JSON, with a charset, with {} or with no body at all', async () => {
    const t = await setup();
    const empty = await post(t, '/queues/q/pause', { 'content-type': 'application/json' });
    expect(empty.json()).toEqual({ name: 'q', paused: true });
    const braces = await post(
      t,
      '/queues/q/resume',
      { 'content-type': 'application/json; charset=utf-8' },
      '{}',
    );
    expect(braces.json()).toEqual({ name: 'q', paused: false });
  });

  it('leaves reads and unknown routes alone', async () => {
    const t = await setup();
    expect((await t.app.inject({ method: 'GET', url: '/queues' })).statusCode).toBe(200);
    expectProblem(await post(t, '/no/such/route', {}), 404, 'RETRACED_ERR_NOT_FOUND');
  });

  it('the CLI client complies: pause over --url sends {} as JSON (regression: it sent no body)', async () => {
    const t = await setup();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const client = new HttpClient(`http://127.0.0.1:${address.port}`, undefined);
    expect(await client.setPaused('q', true)).toEqual({ name: 'q', paused: true });
    expect(await t.queue('q').isPaused()).toBe(true);
  });
});

describe('Origin', () => {
  const json = { 'content-type': 'application/json' };

  it('refuses a change from another origin, even with JSON; serves its own and --cors origins', async () => {
    const t = await setup({ cors: ['https://ui.example'] });
    for (const origin of ['http://evil.example', 'null', 'http://localhost:8080']) {
      const p = expectProblem(
        await post(t, '/queues/q/pause', { ...json, origin }, '{}'),
        403,
        'RETRACED_ERR_CROSS_ORIGIN',
      );
      expect(p.detail).toContain('--cors');
    }
    expect(await t.queue('q').isPaused()).toBe(false);
    // inject's Host is localhost:80.
    const own = await post(t, '/queues/q/pause', { ...json, origin: 'http://localhost:80' }, '{}');
    expect(own.statusCode).toBe(200);
    const cors = await post(t, '/queues/q/resume', { ...json, origin: 'https://ui.example' }, '{}');
    expect(cors.statusCode).toBe(200);
    const read = await t.app.inject({
      method: 'GET',
      url: '/queues',
      headers: { origin: 'http://evil.example' },
    });
    expect(read.statusCode).toBe(200);
  });
});

describe('read-only', () => {
  it('refuses every change with 403; reads, the retry plan and dry runs work', async () => {
    const t = await setup({ readOnly: true });
    const changes: [string, string, unknown][] = [
      ['POST', '/queues/q/pause', {}],
      ['POST', '/queues/q/jobs', { name: 'n', data: {} }],
      ['POST', '/queues/q/jobs/bulk', { jobs: [{ name: 'n', data: {} }] }],
      ['POST', '/queues/q/jobs/x/cancel', {}],
      ['POST', '/queues/q/jobs/x/retry', {}],
      ['PUT', '/queues/q/retention', { completed: { count: 1 } }],
      ['PUT', '/queues/q/priority-aging', { agingMs: 1000 }],
      ['PUT', '/queues/q/default-priority', { priority: 5 }],
      ['PUT', '/queues/q/rate-limits', { queueLimit: { rate: 5 } }],
      ['POST', '/queues/q/dlq/replay', { ids: ['x'], by: 'me' }],
      ['POST', '/queues/q/dlq/purge', { ids: ['x'], dryRun: false }],
    ];
    for (const [method, url, body] of changes) {
      const p = expectProblem(await t.request(method as 'POST', url, body), 403, 'RETRACED_ERR_READ_ONLY');
      expect(p.detail).toContain('read-only');
    }
    expect(await t.queue('q').isPaused()).toBe(false);
    expect((await t.queue('q').counts()).waiting).toBe(0);
    expect((await t.request('GET', '/queues')).statusCode).toBe(200);
    const plan = await t.request('POST', '/retry-plan', {
      policy: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } },
    });
    expect(plan.statusCode).toBe(200);
    const dry = await t.request('POST', '/queues/q/dlq/replay', { ids: ['x'], by: 'me', dryRun: true });
    expect(dry.statusCode).toBe(200);
    const dryPurge = await t.request('POST', '/queues/q/dlq/purge', { ids: ['x'], dryRun: true });
    expect(dryPurge.statusCode).toBe(200);
  });

  it('GET /config tells clients, without a token', async () => {
    const ro = await setup({ readOnly: true, token: 'tok' });
    const res = await ro.app.inject({ method: 'GET', url: '/config' });
    expect(res.json()).toEqual({ version: expect.any(String), readOnly: true, auth: 'bearer' });
    const rw = await setup();
    expect((await rw.request('GET', '/config')).json()).toMatchObject({ readOnly: false, auth: 'none' });
  });
});
