/** What the API answers at the protocol edge: unknown methods (405 + Allow), bodies that are not UTF-8. */
import { describe, expect, it } from 'vitest';

import { expectProblem, makeDead, setup } from './helpers.js';

describe('methods a path does not take', () => {
  it.each([
    ['TRACE', '/queues', 'GET, HEAD'],
    ['DELETE', '/queues/q/jobs/j1', 'GET, HEAD'],
    ['PATCH', '/queues/q/jobs', 'GET, HEAD, POST'],
    ['PUT', '/queues/q/dlq/replay', 'POST'],
    ['GET', '/queues/q/retention', 'PUT'],
    ['TRACE', '/healthz', 'GET, HEAD'],
    ['DELETE', '/openapi.json', 'GET, HEAD'],
  ] as const)('%s %s → 405 with Allow: %s (regression: was 404)', async (method, url, allow) => {
    const t = await setup();
    const res = await t.request(method, url);
    const p = expectProblem(res, 405, 'RETRACED_ERR_METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toBe(allow);
    expect(p.detail).toBe(`${url} does not take ${method}; it takes ${allow}`);
  });

  it('a path no route has is still a 404, whatever the method', async () => {
    const t = await setup();
    expectProblem(await t.request('TRACE', '/nope'), 404, 'RETRACED_ERR_NOT_FOUND');
    expectProblem(await t.request('GET', '/queues/q/jobs/j1/nope'), 404, 'RETRACED_ERR_NOT_FOUND');
  });

  it('with a token, the token is checked first (no route list for strangers)', async () => {
    const t = await setup({ token: 'tok' });
    const res = await t.app.inject({ method: 'TRACE', url: '/queues' });
    expectProblem(res, 401, 'RETRACED_ERR_UNAUTHORIZED');
    expect(res.headers.allow).toBeUndefined();
  });
});

describe('request bodies that are not UTF-8 (regression: were stored with U+FFFD)', () => {
  const raw = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

  it('a job whose data holds invalid bytes is refused with 400 naming the field, and nothing is stored', async () => {
    const t = await setup();
    const payload = raw('{"name":"n","data":{"to":"a', [0xff, 0xfe], 'b"}}');
    const res = await t.app.inject({
      method: 'POST',
      url: '/queues/q/jobs',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    const p = expectProblem(res, 400, 'RETRACED_ERR_VALIDATION');
    expect(p.field).toBe('body.data.to');
    expect(p.detail).toBe('body.data.to must be valid UTF-8 text (the body has bytes that are not UTF-8)');
    expect((await t.queue('q').counts()).waiting).toBe(0);
  });

  it.each([
    [
      'a truncated sequence in a key',
      raw('{"name":"n","data":{"k', [0xe2, 0x82], '":1}}'),
      'body.data.k\uFFFD',
    ],
    ['an encoded surrogate in by', raw('{"by":"ops', [0xed, 0xa0, 0x80], '"}'), 'body.by'],
    ['an overlong "/"', raw('{"name":"', [0xc0, 0xaf], '","data":1}'), 'body.name'],
    ['a body that also holds a real U+FFFD', raw('{"name":"\uFFFD","data":"', [0xff], '"}'), 'body'],
    ['bytes outside any string', raw('{"name":"n",', [0xff], '"data":1}'), 'body'],
  ])('%s → 400, field %s', async (_label, payload, field) => {
    const t = await setup();
    const [id] = await makeDead(t, 'q', 1);
    for (const url of ['/queues/q/jobs', `/queues/q/jobs/${id}/retry`]) {
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(expectProblem(res, 400, 'RETRACED_ERR_VALIDATION').field).toBe(field);
    }
    expect((await t.queue('q').counts()).dead).toBe(1);
  });

  it('valid UTF-8, U+FFFD and emoji included, is stored byte for byte', async () => {
    const t = await setup();
    const data = { s: 'é \uFFFD 😀 \u202E' };
    const res = await t.request('POST', '/queues/q/jobs', { name: 'n', data });
    expect(res.statusCode).toBe(201);
    const job = await t.request('GET', `/queues/q/jobs/${res.json<{ id: string }>().id}`);
    expect(job.json<{ data: unknown }>().data).toEqual(data);
  });
});
