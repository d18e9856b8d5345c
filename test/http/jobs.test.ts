import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { describe, expect, it } from 'vitest';

import { TemporaryError } from '../../src/errors.js';
import { httpTargetHandler } from '../../src/http-target.js';
import type { Job } from '../../src/types.js';
import { eventually, expectProblem, makeDead, setup } from './helpers.js';

interface Page {
  jobs: { id: string; name: string; state: string; attempts: number; lastError?: { code?: string } }[];
  nextCursor: string | null;
}

describe('POST /queues/:queue/jobs', () => {
  it('adds a job with every option and answers 201 with its id and state', async () => {
    const t = await setup();
    const res = await t.request('POST', '/queues/mail/jobs', {
      name: 'send',
      data: { to: 'a@example.com' },
      options: {
        id: 'order-1',
        delay: 60_000,
        retry: { attempts: 4, backoff: { type: 'exponential', delayMs: 500, jitter: 'full' } },
        timeout: 1000,
        maxStalls: 2,
      },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ id: 'order-1', created: true, state: 'scheduled' });
    const job = await t.queue('mail').getJob('order-1');
    expect(job?.options).toMatchObject({ timeoutMs: 1000, maxStalls: 2, retry: { maxAttempts: 4 } });
  });

  it('answers 200 with created: false when the id already exists, changing nothing', async () => {
    const t = await setup();
    const body = { name: 'send', data: 1, options: { id: 'same' } };
    expect((await t.request('POST', '/queues/mail/jobs', body)).statusCode).toBe(201);
    const again = await t.request('POST', '/queues/mail/jobs', { ...body, data: 2 });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: 'same', created: false });
    expect((await t.queue('mail').getJob('same'))?.data).toBe(1);
  });

  it('accepts runAt as an ISO date-time', async () => {
    const t = await setup();
    const res = await t.request('POST', '/queues/mail/jobs', {
      name: 'n',
      data: null,
      options: { runAt: '2099-01-01T00:00:00Z' },
    });
    expect(res.statusCode).toBe(201);
    const job = await t.queue('mail').getJob(res.json<{ id: string }>().id);
    expect(job?.dueAt).toBe(Date.UTC(2099, 0, 1));
  });

  it('names the field of a wrong type in the options (no coercion of strings)', async () => {
    const t = await setup();
    const res = await t.request('POST', '/queues/mail/jobs', {
      name: 'n',
      data: {},
      options: { delay: '5' },
    });
    const p = expectProblem(res, 400, 'RETRACED_ERR_VALIDATION');
    expect(p.field).toBe('body.options.delay');
    expect(p.detail).toMatch(/body\.options\.delay must be integer/);
  });

  it('refuses unknown properties, a missing name and a bad retry backoff type, each by field', async () => {
    const t = await setup();
    const cases: [unknown, string][] = [
      [{ name: 'n', data: 1, extra: true }, 'body.extra'],
      [{ data: 1 }, 'body.name'],
      [
        { name: 'n', data: 1, options: { retry: { attempts: 2, backoff: { type: 'sometimes' } } } },
        'body.options.retry.backoff.type',
      ],
      [{ name: 'n', data: 1, options: { id: 'has space' } }, 'body.options.id'],
      [{ name: 'n', data: 1, options: { runAt: 'tomorrow' } }, 'body.options.runAt'],
    ];
    for (const [body, field] of cases) {
      const p = expectProblem(
        await t.request('POST', '/queues/mail/jobs', body),
        400,
        'RETRACED_ERR_VALIDATION',
      );
      expect(p.field).toBe(field);
    }
  });

  it("keeps the library's message and names the body field when the library refuses the input", async () => {
    const t = await setup();
    const res = await t.request('POST', '/queues/mail/jobs', {
      name: 'n',
      data: 1,
      options: { retry: { attempts: 2, backoff: { type: 'linear', delayMs: 500, maxDelayMs: 100 } } },
    });
    const p = expectProblem(res, 400, 'RETRACED_ERR_VALIDATION');
    expect(p).toMatchObject({
      field: 'body.options.retry.backoff.maxDelayMs',
      detail: 'options.retry.backoff.maxDelayMs must be an integer >= delayMs (500), received 100',
    });
  });

  it('says in the schema which options exclude each other (the document and the server agree)', async () => {
    const t = await setup();
    const res = await t.request('POST', '/queues/mail/jobs', {
      name: 'n',
      data: 1,
      options: { delay: 5, runAt: '1767225600000' },
    });
    expect(expectProblem(res, 400, 'RETRACED_ERR_VALIDATION')).toMatchObject({
      field: 'body.options.runAt',
      detail: 'body.options.runAt must not be set together with delay',
    });
    const both = await t.request('POST', '/queues/mail/jobs', {
      name: 'n',
      data: 1,
      options: { retry: { attempts: 2, phases: [] } },
    });
    expect(expectProblem(both, 400, 'RETRACED_ERR_VALIDATION')).toMatchObject({
      field: 'body.options.retry.phases',
      detail: 'body.options.retry.phases must not be set together with attempts',
    });
    const neither = await t.request('POST', '/queues/mail/jobs', {
      name: 'n',
      data: 1,
      options: { retry: {} },
    });
    expect(expectProblem(neither, 400, 'RETRACED_ERR_VALIDATION')).toMatchObject({
      field: 'body.options.retry.attempts',
      detail: 'body.options.retry.attempts is required, or phases instead',
    });
    for (const [runAt, ok] of [
      ['2026-01-31T12:00:00Z', true],
      ['2026-01-31t12:00:00.123456789+05:30', true],
      ['2026-01-31 12:00', true],
      ['2026-01-31', true],
      ['1767225600000', true],
      ['2026-13-01', false],
      ['2026-01-31T24:00:00Z', false],
      ['tomorrow', false],
      ['9999999999999999', false],
    ] as const) {
      const r = await t.request('POST', '/queues/mail/jobs', { name: 'n', data: 1, options: { runAt } });
      expect(r.statusCode, runAt).toBe(ok ? 201 : 400);
    }
  });

  it('refuses a bad queue name in the path', async () => {
    const t = await setup();
    const p = expectProblem(
      await t.request('POST', '/queues/-bad!/jobs', { name: 'n', data: 1 }),
      400,
      'RETRACED_ERR_VALIDATION',
    );
    expect(p.field).toBe('params.queue');
  });

  it('answers 413 as problem+json for a body over the limit', async () => {
    const t = await setup({ bodyLimit: 4096 });
    const res = await t.request('POST', '/queues/mail/jobs', { name: 'n', data: 'x'.repeat(5000) });
    expectProblem(res, 413, 'RETRACED_ERR_PAYLOAD_TOO_LARGE');
  });

  it("answers 413 when the data is over the queue's maxDataBytes", async () => {
    const t = await setup({ queueOptions: () => ({ maxDataBytes: 100 }) });
    const p = expectProblem(
      await t.request('POST', '/queues/mail/jobs', { name: 'n', data: 'x'.repeat(200) }),
      413,
      'RETRACED_ERR_PAYLOAD_TOO_LARGE',
    );
    expect(p.field).toBe('body.data');
  });

  it('answers 400 (not 500) for a body that is not JSON', async () => {
    const t = await setup();
    const res = await t.app.inject({
      method: 'POST',
      url: '/queues/mail/jobs',
      payload: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(res, 400, 'RETRACED_ERR_BAD_REQUEST');
    const proto = await t.app.inject({
      method: 'POST',
      url: '/queues/mail/jobs',
      payload: '{"name":"n","data":{"__proto__":{"x":1}}}',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(proto, 400, 'RETRACED_ERR_BAD_REQUEST');
    const text = await t.app.inject({
      method: 'POST',
      url: '/queues/mail/jobs',
      payload: 'hi',
      headers: { 'content-type': 'text/html' },
    });
    expectProblem(text, 415, 'RETRACED_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('returns job data holding HTML and script as JSON data, never as HTML', async () => {
    const t = await setup();
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const { id } = (await t.request('POST', '/queues/mail/jobs', { name: evil, data: { html: evil } })).json<{
      id: string;
    }>();
    const res = await t.request('GET', `/queues/mail/jobs/${id}`);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.json<Job>().data).toEqual({ html: evil });
  });
});

describe('POST /queues/:queue/jobs/bulk', () => {
  it('adds many jobs in one call', async () => {
    const t = await setup();
    const res = await t.request('POST', '/queues/mail/jobs/bulk', {
      jobs: [
        { name: 'a', data: 1 },
        { name: 'b', data: 2, options: { id: 'b' } },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ jobs: unknown[] }>().jobs).toEqual([
      { id: expect.any(String), created: true, state: 'waiting' },
      { id: 'b', created: true, state: 'waiting' },
    ]);
  });

  it('adds none when one job is bad, naming it by index', async () => {
    const t = await setup();
    const res = await t.request('POST', '/queues/mail/jobs/bulk', {
      jobs: [
        { name: 'a', data: 1 },
        { name: 'b', data: 2, options: { timeout: -1 } },
      ],
    });
    expect(expectProblem(res, 400, 'RETRACED_ERR_VALIDATION').field).toBe('body.jobs[1].options.timeout');
    expect((await t.queue('mail').counts()).waiting).toBe(0);
  });
});

describe('GET /queues/:queue/jobs', () => {
  it('lists waiting jobs by default, a page at a time with an opaque cursor', async () => {
    const t = await setup();
    await t.queue('q').addBulk(Array.from({ length: 5 }, (_, i) => ({ name: 'n', data: i })));
    const first = (await t.request('GET', '/queues/q/jobs?limit=2')).json<Page>();
    expect(first.jobs.map((j) => j.id)).toEqual(['1', '2']);
    expect(first.jobs[0]).toMatchObject({
      name: 'n',
      state: 'waiting',
      attempts: 0,
      createdAt: expect.any(Number),
      dueAt: expect.any(Number),
    });
    const second = (await t.request('GET', `/queues/q/jobs?limit=2&cursor=${first.nextCursor}`)).json<Page>();
    expect(second.jobs.map((j) => j.id)).toEqual(['3', '4']);
    const last = (await t.request('GET', `/queues/q/jobs?limit=2&cursor=${second.nextCursor}`)).json<Page>();
    expect(last).toEqual({ jobs: [expect.objectContaining({ id: '5' })], nextCursor: null });
  });

  it('filters by state, name, error code and time range', async () => {
    const t = await setup();
    await makeDead(t, 'q', 2, 'E_ONE', 'alpha');
    await makeDead(t, 'q', 1, 'E_TWO', 'beta');
    const dead = (await t.request('GET', '/queues/q/jobs?state=dead')).json<Page>();
    expect(dead.jobs).toHaveLength(3);
    expect(dead.jobs[0]).toMatchObject({
      state: 'dead',
      attempts: 1,
      lastError: { name: 'PermanentError', code: 'E_TWO' },
      finishedAt: expect.any(Number),
    });
    const byCode = (await t.request('GET', '/queues/q/jobs?state=dead&errorCode=E_ONE')).json<Page>();
    expect(byCode.jobs.map((j) => j.name)).toEqual(['alpha', 'alpha']);
    const byName = (await t.request('GET', '/queues/q/jobs?state=dead&name=beta')).json<Page>();
    expect(byName.jobs).toHaveLength(1);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await t.request('GET', `/queues/q/jobs?state=dead&from=${future}`)).json<Page>().jobs).toEqual(
      [],
    );
    expect((await t.request('GET', `/queues/q/jobs?state=dead&to=${future}`)).json<Page>().jobs).toHaveLength(
      3,
    );
  });

  it('searches by indexed filters newest first with a cursor, and by text and attempts made', async () => {
    const t = await setup();
    const q = t.queue('q');
    await q.addBulk([
      { name: 'mail', data: { to: 'ann' } },
      { name: 'mail', data: { to: 'bob' } },
      { name: 'sms', data: { to: 'ann' } },
      { name: 'mail', data: { to: 'cy' } },
    ]);
    const first = (await t.request('GET', '/queues/q/jobs?name=mail&limit=2')).json<Page>();
    expect(first.jobs.map((j) => j.id)).toEqual(['4', '2']);
    const next = (
      await t.request('GET', `/queues/q/jobs?name=mail&limit=2&cursor=${first.nextCursor}`)
    ).json<Page>();
    expect(next).toEqual({ jobs: [expect.objectContaining({ id: '1' })], nextCursor: null });
    const ann = (await t.request('GET', '/queues/q/jobs?name=mail&text=%22ann%22')).json<Page>();
    expect(ann.jobs.map((j) => j.id)).toEqual(['1']);
    // Without an indexed filter: the state's own order, text checked on each job.
    const plain = (await t.request('GET', '/queues/q/jobs?text=ann')).json<Page>();
    expect(plain.jobs.map((j) => j.id)).toEqual(['1', '3']);
    expect((await t.request('GET', '/queues/q/jobs?maxAttempts=0&limit=3')).json<Page>().jobs).toHaveLength(
      3,
    );
    // A cursor of the other kind of listing starts from the first page.
    const plainPage = (await t.request('GET', '/queues/q/jobs?limit=1')).json<Page>();
    const restarted = (
      await t.request('GET', `/queues/q/jobs?name=mail&limit=2&cursor=${plainPage.nextCursor}`)
    ).json<Page>();
    expect(restarted.jobs.map((j) => j.id)).toEqual(['4', '2']);
    for (const [query, field] of [
      ['errorClass=bad', 'querystring.errorClass'],
      ['trigger=auto', 'querystring.trigger'],
      ['minAttempts=-1', 'querystring.minAttempts'],
    ]) {
      expect(
        expectProblem(await t.request('GET', `/queues/q/jobs?${query}`), 400, 'RETRACED_ERR_VALIDATION')
          .field,
      ).toBe(field);
    }
  });

  it('refuses an unknown state, a bad limit, a forged cursor and a bad time, by field', async () => {
    const t = await setup();
    const cases: [string, string][] = [
      ['state=sleeping', 'querystring.state'],
      ['limit=0', 'querystring.limit'],
      ['limit=abc', 'querystring.limit'],
      ['cursor=bm9wZQ', 'querystring.cursor'],
      ['from=yesterday', 'querystring.from'],
      ['colour=red', 'querystring.colour'],
    ];
    for (const [query, field] of cases) {
      const p = expectProblem(
        await t.request('GET', `/queues/q/jobs?${query}`),
        400,
        'RETRACED_ERR_VALIDATION',
      );
      expect(p.field).toBe(field);
    }
  });
});

describe('GET /queues/:queue/jobs/:id', () => {
  it('returns the job with its full attempt history', async () => {
    const t = await setup();
    const q = t.queue('q');
    const { id } = await q.add('n', { a: 1 }, { retry: { attempts: 2 } });
    let calls = 0;
    t.worker('q', () => {
      if (++calls === 1) throw new TemporaryError('flaky', { code: 'E_FLAKY' });
      return 'ok';
    });
    await eventually(async () => (await q.getJob(id))?.state === 'completed');
    const job = (await t.request('GET', `/queues/q/jobs/${id}`)).json<Job>();
    expect(job).toMatchObject({ id, state: 'completed', result: 'ok', data: { a: 1 } });
    expect(job.attempts.map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
    expect(job.attempts[0]).toMatchObject({
      error: { code: 'E_FLAKY' },
      errorClass: 'temporary',
      decision: { action: 'retry' },
    });
  });

  it('answers 404 problem+json for an unknown job, and 400 for a bad id', async () => {
    const t = await setup();
    expectProblem(await t.request('GET', '/queues/q/jobs/nope'), 404, 'RETRACED_ERR_JOB_NOT_FOUND');
    const p = expectProblem(
      await t.request('GET', `/queues/q/jobs/${'x'.repeat(129)}`),
      400,
      'RETRACED_ERR_VALIDATION',
    );
    expect(p.field).toBe('params.id');
  });
});

describe('POST /queues/:queue/jobs/:id/cancel', () => {
  it('cancels a waiting job, recording who and why', async () => {
    const t = await setup();
    const { id } = await t.queue('q').add('n', 1);
    const res = await t.request('POST', `/queues/q/jobs/${id}/cancel`, { by: 'ops', reason: 'duplicate' });
    expect(res.statusCode).toBe(200);
    expect(res.json<Job>()).toMatchObject({
      state: 'cancelled',
      cancelled: { by: 'ops', reason: 'duplicate' },
    });
  });

  it('answers 409 for a finished job, 404 for an unknown one, 400 without by', async () => {
    const t = await setup();
    const { id } = await t.queue('q').add('n', 1);
    await t.request('POST', `/queues/q/jobs/${id}/cancel`, { by: 'ops' });
    expectProblem(
      await t.request('POST', `/queues/q/jobs/${id}/cancel`, { by: 'ops' }),
      409,
      'RETRACED_ERR_INVALID_STATE',
    );
    expectProblem(
      await t.request('POST', '/queues/q/jobs/nope/cancel', { by: 'ops' }),
      404,
      'RETRACED_ERR_JOB_NOT_FOUND',
    );
    expect(
      expectProblem(
        await t.request('POST', `/queues/q/jobs/${id}/cancel`, { reason: 'x' }),
        400,
        'RETRACED_ERR_VALIDATION',
      ).field,
    ).toBe('body.by');
  });
});

describe('POST /queues/:queue/jobs/:id/retry', () => {
  it('runs a scheduled job now, as a manual trigger with who and why', async () => {
    const t = await setup();
    const { id } = await t.queue('q').add('n', { v: 1 }, { delay: 3_600_000 });
    const res = await t.request('POST', `/queues/q/jobs/${id}/retry`, {
      by: 'alice',
      note: 'customer waiting',
      patch: { v: 2 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<Job>()).toMatchObject({ state: 'waiting', data: { v: 2 } });
    t.worker('q', () => 'ok');
    await eventually(async () => (await t.queue('q').getJob(id))?.state === 'completed');
    const job = await t.queue('q').getJob(id);
    expect(job?.attempts[0]).toMatchObject({
      trigger: 'manual',
      manual: { by: 'alice', note: 'customer waiting' },
    });
  });

  it('answers 409 for a waiting job and 400 for an empty by', async () => {
    const t = await setup();
    const { id } = await t.queue('q').add('n', 1);
    expectProblem(
      await t.request('POST', `/queues/q/jobs/${id}/retry`, { by: 'alice' }),
      409,
      'RETRACED_ERR_INVALID_STATE',
    );
    expect(
      expectProblem(
        await t.request('POST', `/queues/q/jobs/${id}/retry`, { by: '' }),
        400,
        'RETRACED_ERR_VALIDATION',
      ).field,
    ).toBe('body.by');
  });
});

describe('dedup and debounce over HTTP', () => {
  it('answers 200 with folded: true for an add folded into an existing job, and shows the count', async () => {
    const t = await setup();
    const body = { name: 'sync', data: 1, options: { dedup: { key: 'user-7', ttlMs: 60_000 } } };
    const first = await t.request('POST', '/queues/mail/jobs', body);
    expect(first.statusCode).toBe(201);
    const { id } = first.json() as { id: string };
    const again = await t.request('POST', '/queues/mail/jobs', { ...body, data: 2 });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ id, created: false, state: 'waiting', folded: true });
    const job = (await t.request('GET', `/queues/mail/jobs/${id}`)).json() as Job;
    expect(job.dedup).toEqual({ mode: 'dedup', key: 'user-7' });
    expect(job.folded?.count).toBe(1);
    const deb = { name: 'save', data: { v: 1 }, options: { debounce: { key: 'doc', delayMs: 60_000 } } };
    const d1 = (await t.request('POST', '/queues/mail/jobs', deb)).json() as { id: string };
    const d2 = await t.request('POST', '/queues/mail/jobs', { ...deb, data: { v: 2 } });
    expect(d2.json()).toEqual({ id: d1.id, created: false, state: 'scheduled', folded: true });
    expect(((await t.request('GET', `/queues/mail/jobs/${d1.id}`)).json() as Job).data).toEqual({ v: 2 });
  });

  it('refuses conflicting or malformed dedup options with a problem naming the field', async () => {
    const t = await setup();
    const cases: [unknown, string][] = [
      [{ dedup: { key: 'k', ttlMs: 0 } }, 'body.options.dedup.ttlMs'],
      [{ dedup: { key: '', ttlMs: 10 } }, 'body.options.dedup.key'],
      [{ debounce: { key: 'k' } }, 'body.options.debounce.delayMs'],
      [{ id: 'x', dedup: { key: 'k', ttlMs: 10 } }, 'body.options.dedup'],
      [{ debounce: { key: 'k', delayMs: 10 }, delay: 5 }, 'body.options.delay'],
    ];
    for (const [options, field] of cases) {
      const res = await t.request('POST', '/queues/mail/jobs', { name: 'x', data: 1, options });
      expect(expectProblem(res, 400, 'RETRACED_ERR_VALIDATION').field, JSON.stringify(options)).toBe(field);
    }
  });
});

describe('POST /queues/:queue/http-jobs', () => {
  it('serves the response an attempt recorded (status, headers of interest, a bounded body excerpt)', async () => {
    const target = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from([0, 1, 2, 255]));
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    try {
      const t = await setup();
      const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/`;
      const res = await t.request('POST', '/queues/hooks/http-jobs', { target: { url } });
      const { id } = res.json() as { id: string };
      t.worker('hooks', httpTargetHandler({ allowHosts: ['127.0.0.1'], allowPrivate: true }));
      let job: Job | undefined;
      for (let i = 0; i < 200 && job?.state !== 'completed'; i++) {
        await new Promise((r) => setTimeout(r, 10));
        job = (await t.request('GET', `/queues/hooks/jobs/${id}`)).json() as Job;
      }
      expect(job?.attempts[0]?.response).toMatchObject({
        status: 200,
        headers: { 'content-type': 'application/octet-stream' },
        body: 'AAEC/w==',
        bodyEncoding: 'base64',
        bodyBytes: 4,
      });
    } finally {
      await new Promise((r) => target.close(r));
    }
  });

  it('adds an HTTP target job (name http, the target checked and completed with defaults, the timeout left to the worker); a bad target is named', async () => {
    const t = await setup();
    const res = await t.request('POST', '/queues/hooks/http-jobs', {
      target: { url: 'https://api.example.com/hook', headers: { 'X-A': 'b' }, body: '{"a":1}' },
      options: { retry: { attempts: 5 } },
    });
    expect(res.statusCode).toBe(201);
    const { id } = res.json() as { id: string };
    const job = (await t.request('GET', `/queues/hooks/jobs/${id}`)).json() as Job;
    expect(job.name).toBe('http');
    expect(job.data).toEqual({
      url: 'https://api.example.com/hook',
      method: 'POST',
      headers: { 'X-A': 'b' },
      body: '{"a":1}',
    });
    // A timeout given is kept.
    const timed = await t.request('POST', '/queues/hooks/http-jobs', {
      target: { url: 'https://api.example.com/hook', timeoutMs: 2500 },
    });
    const timedJob = (
      await t.request('GET', `/queues/hooks/jobs/${(timed.json() as { id: string }).id}`)
    ).json() as Job;
    expect(timedJob.data).toMatchObject({ timeoutMs: 2500 });
    expect(job.options.retry.maxAttempts).toBe(5);
    const cases: [unknown, string][] = [
      [{ url: 'ftp://x/' }, 'body.target.url'],
      [{ url: 'http://u:p@x/' }, 'body.target.url'],
      [{ url: 'https://x/', method: 'TRACE' }, 'body.target.method'],
      [{ url: 'https://x/', headers: { A: 'a\nb' } }, 'body.target.headers.A'],
      [{ url: 'https://x/', method: 'GET', body: 'b' }, 'body.target.body'],
      [{ url: 'https://x/', timeoutMs: 0 }, 'body.target.timeoutMs'],
      [{}, 'body.target.url'],
    ];
    for (const [target, field] of cases) {
      const bad = await t.request('POST', '/queues/hooks/http-jobs', { target });
      expect(expectProblem(bad, 400, 'RETRACED_ERR_VALIDATION').field, JSON.stringify(target)).toBe(field);
    }
  });
});
