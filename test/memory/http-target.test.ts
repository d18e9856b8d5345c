/**
 * HTTP target jobs against local HTTP servers: classification by status, Retry-After, what the
 * attempt records, signing and its verification, and every SSRF refusal (host not allowed, a
 * loopback address without allowPrivate, a redirect to a host not allowed), each checked to have
 * sent nothing.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import {
  headersForHop,
  hostAllowed,
  httpTargetHandler,
  isPrivateAddress,
  parseRetryAfter,
  resolveHttpTarget,
  resolveHttpTargetOptions,
  signHttpTarget,
  verifyHttpTargetSignature,
  type HttpTargetOptions,
} from '../../src/http-target.js';
import { ValidationError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import {
  bodyExcerpt,
  cutToJsonBytes,
  MAX_RESPONSE_BYTES,
  MAX_RESPONSE_HEADER_CHARS,
  MAX_RESPONSE_HEADERS_BYTES,
  responseRecord,
} from '../../src/response-record.js';
import type { Job, JobState, RetryPolicy } from '../../src/types.js';
import { Worker } from '../../src/worker.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function server(
  handle: (req: Seen, res: ServerResponse) => void,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const s: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(r);
      handle(r, res);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise((r) => s.close(() => r())));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen };
}

async function run(
  target: unknown,
  options: HttpTargetOptions,
  until: JobState[] = ['completed', 'dead'],
  retry: RetryPolicy = { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } },
): Promise<Job> {
  const backend = new MemoryBackend();
  const q = new Queue('hooks', { backend, retry });
  const w = new Worker(q, httpTargetHandler(options), { leaseMs: 5000 });
  w.on('error', () => undefined);
  cleanup.push(async () => {
    await w.close({ timeoutMs: 1000 });
    await backend.close();
  });
  const { id } = await q.add('http', target);
  const deadline = Date.now() + 8000;
  for (;;) {
    const j = await q.getJob(id);
    if (j && until.includes(j.state)) return j;
    if (Date.now() > deadline) throw new Error(`job ${id} stuck in ${j?.state}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const LOCAL = { allowHosts: ['127.0.0.1'], allowPrivate: true };

describe('HTTP target jobs', () => {
  it('calls the URL with method, headers and body, signed; a 2xx completes with status, headers and a body excerpt', async () => {
    const s = await server((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'r-1', 'x-other': 'no' });
      res.end(JSON.stringify({ ok: true, pad: 'x'.repeat(3000) }));
    });
    const body = JSON.stringify({ order: 7 });
    const job = await run(
      { url: `${s.url}/hook?a=1`, method: 'PUT', headers: { 'X-Tenant': 't-42' }, body },
      { ...LOCAL, secret: 's3cret', maxBodyExcerpt: 20 },
    );
    expect(job.state).toBe('completed');
    const [req] = s.seen;
    expect(req?.method).toBe('PUT');
    expect(req?.url).toBe('/hook?a=1');
    expect(req?.body).toBe(body);
    expect(req?.headers['x-tenant']).toBe('t-42');
    expect(req?.headers['x-retraced-job']).toBe(`hooks/${job.id}/1`);
    expect(
      verifyHttpTargetSignature({
        secret: 's3cret',
        body: req?.body ?? '',
        timestamp: req?.headers['x-retraced-timestamp'] as string,
        signature: req?.headers['x-retraced-signature'] as string,
      }),
    ).toBe(true);
    expect(job.result).toMatchObject({
      status: 201,
      headers: { 'content-type': 'application/json', 'x-request-id': 'r-1' },
      body: '{"ok":true,"pad":"xx',
    });
    expect((job.result as { bodyBytes: number }).bodyBytes).toBeGreaterThan(3000);
    const a = job.attempts[0];
    // The response is the attempt's own field, not its progress (bounded: src/response-record.ts).
    expect(a?.response).toEqual(job.result);
    expect(a?.progress).toBeUndefined();
    expect(a?.logs?.map((l) => l.line.replace(/\d+ ms/, 'T ms'))).toEqual([
      `→ PUT ${s.url}/hook?a=1`,
      '← 201 in T ms; content-type: application/json; x-request-id: r-1',
      `body (first 20 of ${(job.result as { bodyBytes: number }).bodyBytes} bytes): {"ok":true,"pad":"xx`,
    ]);
  });

  it('retries a 503 after its Retry-After (recorded as the handler’s delay), then completes', async () => {
    let n = 0;
    const s = await server((_req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(503, { 'retry-after': '1' });
        res.end('busy');
      } else res.end('ok');
    });
    const job = await run({ url: s.url }, LOCAL);
    expect(job.state).toBe('completed');
    const [first, second] = job.attempts;
    expect(first?.error).toMatchObject({ name: 'TemporaryError', code: 'HTTP_503' });
    expect(first?.error?.message).toBe('HTTP 503 from POST 127.0.0.1:' + new URL(s.url).port + '/');
    expect(first?.decision).toMatchObject({ action: 'retry', delayMs: 1000, source: 'handler' });
    expect(first?.logs?.map((l) => l.line)).toContain('body: busy');
    expect((second?.startedAt ?? 0) - (first?.finishedAt ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('classifies 429 (with on429: retry) as temporary and other 4xx as permanent (configurable)', async () => {
    const s = await server((req, res) => {
      res.writeHead(Number(req.url?.slice(1)));
      res.end();
    });
    const once = { attempts: 1 };
    const j429 = await run({ url: `${s.url}/429` }, { ...LOCAL, on429: 'retry' }, ['dead'], once);
    expect(j429.attempts[0]).toMatchObject({ errorClass: 'temporary', error: { code: 'HTTP_429' } });
    const j404 = await run({ url: `${s.url}/404` }, LOCAL);
    expect(j404.state).toBe('dead');
    expect(j404.dead?.reason).toBe('permanent');
    expect(j404.attempts).toHaveLength(1);
    const j409 = await run({ url: `${s.url}/409` }, { ...LOCAL, temporaryStatuses: [409] }, ['dead'], once);
    expect(j409.attempts[0]?.errorClass).toBe('temporary');
    const j500 = await run({ url: `${s.url}/500` }, { ...LOCAL, temporaryStatuses: [409] }, ['dead'], once);
    expect(j500.attempts[0]?.errorClass).toBe('permanent');
  });

  it('times out as a temporary failure', async () => {
    const s = await server(() => undefined); // never answers
    const job = await run({ url: s.url, timeoutMs: 50 }, LOCAL, ['dead'], { attempts: 1 });
    expect(job.attempts[0]).toMatchObject({ errorClass: 'temporary', error: { code: 'ETIMEDOUT' } });
  });

  it('refuses hosts not allowed, loopback without allowPrivate and redirects to hosts not allowed: nothing sent', async () => {
    const s = await server((req, res) => {
      if (req.url === '/away') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        res.end();
      } else if (req.url === '/elsewhere') {
        res.writeHead(307, { location: 'http://evil.example/' });
        res.end();
      } else if (req.url === '/hop') {
        res.writeHead(303, { location: '/final' });
        res.end();
      } else res.end('final');
    });
    const forbidden = async (url: string, o: HttpTargetOptions): Promise<string | undefined> => {
      const j = await run({ url }, o);
      expect(j.state).toBe('dead');
      expect(j.attempts).toHaveLength(1);
      expect(j.attempts[0]?.error?.code).toBe('HTTP_TARGET_FORBIDDEN');
      return j.attempts[0]?.error?.message;
    };
    expect(await forbidden(s.url, { allowHosts: ['api.example.com'], allowPrivate: true })).toBe(
      'host 127.0.0.1 is not in the allow-list',
    );
    expect(await forbidden(s.url, { allowHosts: ['127.0.0.1'] })).toBe('127.0.0.1 is a private address');
    // A name that resolves to a loopback address is refused at connect time.
    expect(
      await forbidden(`http://localhost:${new URL(s.url).port}/`, { allowHosts: ['localhost'] }),
    ).toMatch(/^localhost resolves to (127\.0\.0\.1|::1), a private address$/);
    expect(s.seen).toHaveLength(0);
    // Redirects: to a host not allowed, to a private address; an allowed hop is followed (303 → GET).
    expect(await forbidden(`${s.url}/elsewhere`, LOCAL)).toBe('host evil.example is not in the allow-list');
    expect(await forbidden(`${s.url}/away`, LOCAL)).toBe('host 169.254.169.254 is not in the allow-list');
    expect(s.seen.map((r) => r.url)).toEqual(['/elsewhere', '/away']);
    const ok = await run({ url: `${s.url}/hop`, body: 'x' }, LOCAL);
    expect(ok.state).toBe('completed');
    expect(s.seen.slice(2).map((r) => `${r.method} ${r.url}`)).toEqual(['POST /hop', 'GET /final']);
  });

  it('checks targets, hosts, addresses, Retry-After and signatures exactly', () => {
    expect(() => resolveHttpTarget({ url: 'ftp://x/' })).toThrow(ValidationError);
    expect(() => resolveHttpTarget({ url: 'http://u:p@x/' })).toThrow(
      'target.url must be a URL without credentials',
    );
    expect(() => resolveHttpTarget({ url: 'http://x/', method: 'TRACE' })).toThrow('target.method');
    expect(() => resolveHttpTarget({ url: 'http://x/', headers: { Host: 'y' } })).toThrow('target.headers');
    expect(() => resolveHttpTarget({ url: 'http://x/', headers: { A: 'a\r\nB: b' } })).toThrow(
      'target.headers.A',
    );
    expect(() => resolveHttpTarget({ url: 'http://x/', method: 'GET', body: 'b' })).toThrow('target.body');
    expect(() => resolveHttpTarget({ url: 'http://x/', timeoutMs: 0 })).toThrow('target.timeoutMs');
    expect(resolveHttpTarget({ url: 'https://api.example.com/a' })).toEqual({
      url: 'https://api.example.com/a',
      method: 'POST',
      headers: {},
      body: undefined,
      timeoutMs: undefined,
    });
    expect(hostAllowed('api.example.com', ['*.example.com'])).toBe(true);
    expect(hostAllowed('example.com', ['*.example.com'])).toBe(false);
    expect(hostAllowed('evilexample.com', ['*.example.com'])).toBe(false);
    expect(hostAllowed('API.Example.com', ['api.example.com'])).toBe(true);
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '100.64.0.1',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
    const now = Date.UTC(2026, 0, 1);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter('999999999', now)).toBe(86_400_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    const h = signHttpTarget('k', now, '{"a":1}');
    expect(h['X-Retraced-Signature']).toBe(
      `v1=${createHmac('sha256', 'k').update(`${now}.{"a":1}`).digest('hex')}`,
    );
    const ok = {
      secret: 'k',
      body: '{"a":1}',
      timestamp: String(now),
      signature: h['X-Retraced-Signature'],
      now,
    };
    expect(verifyHttpTargetSignature(ok)).toBe(true);
    expect(verifyHttpTargetSignature({ ...ok, body: '{"a":2}' })).toBe(false);
    expect(verifyHttpTargetSignature({ ...ok, secret: 'other' })).toBe(false);
    expect(verifyHttpTargetSignature({ ...ok, now: now + 300_001 })).toBe(false);
    expect(verifyHttpTargetSignature({ ...ok, signature: undefined })).toBe(false);
  });
});

describe('HTTP target settings and redirects', () => {
  it('refuses bad settings, naming the setting and the rule', () => {
    const bad = (o: object): string => {
      try {
        resolveHttpTargetOptions({ allowHosts: ['*'], ...o } as HttpTargetOptions);
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ maxBodyExcerpt: 4097 })).toBe(
      'maxBodyExcerpt must be an integer between 0 and 4096, received 4097',
    );
    expect(bad({ maxBodyExcerpt: 1.5 })).toBe(
      'maxBodyExcerpt must be an integer between 0 and 4096, received 1.5',
    );
    expect(bad({ maxRedirects: 21 })).toBe('maxRedirects must be an integer between 0 and 20, received 21');
    expect(bad({ temporaryStatuses: [503, 200] })).toBe(
      'temporaryStatuses must be a list of HTTP statuses between 300 and 599, received 200',
    );
    expect(bad({ headersOfInterest: ['ok', 'bad name'] })).toBe(
      'headersOfInterest must be a list of header names (tokens), received "bad name"',
    );
    expect(bad({ on429: 'pause' })).toBe('on429 must be one of rate-limit, retry, received "pause"');
    expect(bad({ defaultTimeoutMs: 0 })).toBe(
      'defaultTimeoutMs must be an integer between 1 and 300000, received 0',
    );
    expect(bad({ allowHosts: [] })).toBe(
      "allowHosts must be at least one host pattern (['*'] for any public host)",
    );
    expect(() => httpTargetHandler({ allowHosts: ['*'], maxBodyExcerpt: 10_000 })).toThrow(
      'maxBodyExcerpt must be an integer between 0 and 4096, received 10000',
    );
    const o = resolveHttpTargetOptions({
      allowHosts: ['*'],
      temporaryStatuses: [409],
      headersOfInterest: ['X-A'],
      defaultTimeoutMs: 60_000,
      maxTimeoutMs: 5_000,
    });
    expect(o).toMatchObject({
      on429: 'rate-limit',
      rateLimitScope: 'group',
      headersOfInterest: ['x-a'],
      maxBodyExcerpt: 1024,
      maxRedirects: 3,
      // The default is never above the cap.
      defaultTimeoutMs: 5_000,
      maxTimeoutMs: 5_000,
    });
    expect([409, 500, 429].map((s) => o.temporary(s))).toEqual([true, false, false]);
  });

  it('sends credentials and the signature to the target’s own origin only: a redirect to another drops them', async () => {
    const other = await server((_req, res) => res.end('there'));
    const s = await server((req, res) => {
      if (req.url === '/away') {
        res.writeHead(307, { location: `${other.url}/landing` });
        res.end();
      } else if (req.url === '/here') {
        res.writeHead(308, { location: '/final' });
        res.end();
      } else res.end('final');
    });
    const headers = {
      Authorization: 'Bearer secret-token',
      Cookie: 'session=1',
      'Proxy-Authorization': 'Basic abc',
      'X-Tenant': 't-42',
    };
    const away = await run({ url: `${s.url}/away`, headers, body: 'b' }, { ...LOCAL, secret: 'k' });
    expect(away.state).toBe('completed');
    const [sent] = s.seen;
    const [landed] = other.seen;
    expect(sent?.headers.authorization).toBe('Bearer secret-token');
    expect(sent?.headers['x-retraced-signature']).toMatch(/^v1=/);
    // 127.0.0.1 on another port is another origin: no credentials, no signature (it could replay it).
    expect(landed?.method).toBe('POST');
    expect(landed?.body).toBe('b');
    expect(landed?.headers['x-tenant']).toBe('t-42');
    for (const h of [
      'authorization',
      'cookie',
      'proxy-authorization',
      'x-retraced-signature',
      'x-retraced-timestamp',
    ]) {
      expect(landed?.headers[h], h).toBeUndefined();
    }
    expect(away.attempts[0]?.response).toMatchObject({ status: 200, body: 'there', redirects: 1 });
    expect(away.attempts[0]?.logs?.[2]?.line).toBe(
      `→ POST ${other.url}/landing (redirect 1, another origin: no credentials, unsigned)`,
    );
    // The same origin keeps them, and the signature is made again for the hop.
    const here = await run({ url: `${s.url}/here`, headers, body: 'b' }, { ...LOCAL, secret: 'k' });
    expect(here.state).toBe('completed');
    const final = s.seen.at(-1);
    expect(final?.url).toBe('/final');
    expect(final?.headers.authorization).toBe('Bearer secret-token');
    expect(final?.headers.cookie).toBe('session=1');
    expect(
      verifyHttpTargetSignature({
        secret: 'k',
        body: final?.body ?? '',
        timestamp: final?.headers['x-retraced-timestamp'] as string,
        signature: final?.headers['x-retraced-signature'] as string,
      }),
    ).toBe(true);
    const from = new URL('https://a.example/x');
    expect(headersForHop(headers, from, new URL('https://a.example/y'))).toEqual(headers);
    expect(headersForHop(headers, from, new URL('http://a.example/y'))).toEqual({ 'X-Tenant': 't-42' });
    expect(headersForHop(headers, from, new URL('https://a.example:8443/y'))).toEqual({ 'X-Tenant': 't-42' });
  });

  it('uses the handler’s default timeout for a target without one, and caps any at maxTimeoutMs', async () => {
    const s = await server(() => undefined); // never answers
    const once = { attempts: 1 };
    const dflt = await run({ url: s.url }, { ...LOCAL, defaultTimeoutMs: 50 }, ['dead'], once);
    expect(dflt.attempts[0]?.error?.message).toBe(
      `POST 127.0.0.1:${new URL(s.url).port}: no answer within 50 ms`,
    );
    const capped = await run(
      { url: s.url, timeoutMs: 60_000 },
      { ...LOCAL, maxTimeoutMs: 60 },
      ['dead'],
      once,
    );
    expect(capped.attempts[0]?.error?.message).toBe(
      `POST 127.0.0.1:${new URL(s.url).port}: no answer within 60 ms`,
    );
  });

  it('never fails a success for its recording: 2,000 control bytes in a 200 complete, recorded as base64', async () => {
    const body = Buffer.alloc(2000, 1);
    const s = await server((_req, res) => res.end(body));
    const job = await run({ url: s.url }, LOCAL, ['completed', 'dead']);
    expect(job.state).toBe('completed');
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts[0]?.response).toMatchObject({
      status: 200,
      body: body.subarray(0, 1024).toString('base64'),
      bodyEncoding: 'base64',
      bodyBytes: 2000,
    });
  });
});

describe('response records', () => {
  it('keeps UTF-8 text as text, anything else as base64; a character cut at the end is left out', () => {
    expect(bodyExcerpt(Buffer.from('héllo\n\tok'))).toEqual({ body: 'héllo\n\tok' });
    expect(bodyExcerpt(Buffer.from('hé').subarray(0, 2))).toEqual({ body: 'h' });
    expect(bodyExcerpt(Buffer.from([0x61, 0x00]))).toEqual({ body: 'YQA=', bodyEncoding: 'base64' });
    expect(bodyExcerpt(Buffer.from([0xff, 0x61]))).toEqual({ body: '/2E=', bodyEncoding: 'base64' });
    expect(bodyExcerpt(Buffer.from('a\u007fb'))).toEqual({ body: 'YX9i', bodyEncoding: 'base64' });
  });

  it('cuts text to a JSON size exactly, never inside a surrogate pair', () => {
    expect(cutToJsonBytes('abcdef', 5)).toBe('abc');
    expect(cutToJsonBytes('a"b', 5)).toBe('a"'); // "a\"" : the escape counts 2
    expect(cutToJsonBytes('a"b', 4)).toBe('a');
    expect(cutToJsonBytes('\u0001\u0001', 9)).toBe('\u0001');
    expect(cutToJsonBytes('é😀x', 7)).toBe('é');
    expect(cutToJsonBytes('é😀x', 8)).toBe('é😀');
    expect(cutToJsonBytes('a\ud800b', 100)).toBe('a\ufffdb');
    expect(cutToJsonBytes('abc', 1)).toBe('');
  });

  it('bounds a response to MAX_RESPONSE_BYTES of JSON by cutting headers and body, and checks its shape', () => {
    const big = responseRecord({
      status: 200,
      ms: 12.4,
      headers: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`X-H${i}`, '\u0001'.repeat(400)])),
      body: '\u0001'.repeat(10_000),
      bodyBytes: 10_000,
    });
    const bytes = Buffer.byteLength(JSON.stringify(big));
    expect(bytes).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(bytes).toBeGreaterThan(MAX_RESPONSE_BYTES - 6);
    expect(big.ms).toBe(12);
    expect(Buffer.byteLength(JSON.stringify(big.headers))).toBeLessThanOrEqual(MAX_RESPONSE_HEADERS_BYTES);
    expect(Object.keys(big.headers)[0]).toBe('x-h0');
    expect(big.headers).toEqual({ 'x-h0': `${'\u0001'.repeat(MAX_RESPONSE_HEADER_CHARS - 1)}…` });
    const b64 = responseRecord({
      status: 500,
      ms: 1,
      headers: {},
      body: 'QUJD'.repeat(3000),
      bodyEncoding: 'base64',
      bodyBytes: 9000,
    });
    expect(b64.body.length % 4).toBe(0);
    expect(Buffer.byteLength(JSON.stringify(b64))).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(responseRecord({ status: 204, ms: 3, headers: {}, body: '', bodyBytes: 0, redirects: 0 })).toEqual(
      {
        status: 204,
        ms: 3,
        headers: {},
        body: '',
        bodyBytes: 0,
      },
    );
    expect(() => responseRecord({ status: 2000, ms: 1, headers: {}, body: '', bodyBytes: 0 })).toThrow(
      'response.status must be an integer between 0 and 999, received 2000',
    );
    expect(() =>
      responseRecord({ status: 200, ms: 1, headers: {}, body: 1 as unknown as string, bodyBytes: 0 }),
    ).toThrow('response.body must be text');
  });
});
