/**
 * HTTP target jobs on every backend: the response each attempt got is on its record (`response`,
 * bounded, binary bodies as base64), whatever the outcome; and a 429 pauses the job's group (or
 * its queue) without charging it an attempt.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { httpTargetHandler } from '../../src/http-target.js';
import type { Queue } from '../../src/queue.js';
import { MAX_RESPONSE_BYTES } from '../../src/response-record.js';
import type { Job } from '../../src/types.js';
import type { Harness } from './context.js';
import { waitForState, waitUntil } from './context.js';

const servers: (() => Promise<void>)[] = [];

/** A local server answering each request with `handle(path, n)`, n counting that path's calls. */
async function target(handle: (path: string, n: number, res: ServerResponse) => void): Promise<string> {
  const calls = new Map<string, number>();
  const s = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = (calls.get(path) ?? 0) + 1;
      calls.set(path, n);
      handle(path, n, res);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(() => new Promise((r) => s.close(() => r())));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/** 2,000 control bytes and some invalid UTF-8: 6 bytes each in JSON as text. */
const BINARY = Buffer.concat([Buffer.alloc(2000, 1), Buffer.from([0xff, 0xfe, 0x00, 0x80])]);

/** The job once its first attempt is recorded. */
async function firstAttempt(q: Queue, id: string): Promise<Job> {
  return (await waitUntil(async () => {
    const j = await q.getJob(id);
    return j && j.attempts.length >= 1 ? j : undefined;
  }, `the first attempt of ${id}`)) as Job;
}

export function httpTargetCases(h: Harness): void {
  describe('HTTP target jobs', () => {
    afterEach(async () => {
      for (const close of servers.splice(0)) await close();
    });

    const handler = (o: Parameters<typeof httpTargetHandler>[0] = { allowHosts: ['127.0.0.1'] }) =>
      httpTargetHandler({ allowPrivate: true, ...o });

    it('records the response on the attempt, bounded: a 200 with a binary body succeeds, a 500 with one is recorded too', async () => {
      const url = await target((path, _n, res) => {
        res.writeHead(path === '/fail' ? 500 : 200, {
          'content-type': 'application/octet-stream',
          'x-request-id': 'r-7',
        });
        res.end(BINARY);
      });
      const q: Queue = h.queue({ retry: { attempts: 1 } });
      h.worker(q, handler({ allowHosts: ['127.0.0.1'], maxBodyExcerpt: 4096 }));
      const ok = await q.add('http', { url: `${url}/ok` });
      const fail = await q.add('http', { url: `${url}/fail` });
      const done = await waitForState(q, ok.id, 'completed');
      const expected = {
        headers: { 'content-type': 'application/octet-stream', 'x-request-id': 'r-7' },
        body: BINARY.toString('base64'),
        bodyEncoding: 'base64',
        bodyBytes: 2004,
      };
      expect(done.attempts[0]?.outcome).toBe('succeeded');
      expect(done.attempts[0]?.response).toMatchObject({ status: 200, ...expected });
      expect(done.result).toEqual(done.attempts[0]?.response);
      expect(Buffer.byteLength(JSON.stringify(done.attempts[0]?.response))).toBeLessThanOrEqual(
        MAX_RESPONSE_BYTES,
      );
      const dead = await waitForState(q, fail.id, 'dead');
      expect(dead.attempts[0]?.outcome).toBe('failed');
      expect(dead.attempts[0]?.error?.code).toBe('HTTP_500');
      expect(dead.attempts[0]?.response).toMatchObject({ status: 500, ...expected });
    });

    it("pauses the job's group on a 429 (its Retry-After), not charging an attempt; the record says so", async () => {
      const url = await target((path, n, res) => {
        if (path === '/limited' && n === 1) {
          res.writeHead(429, { 'retry-after': '60' });
          res.end('slow down');
        } else res.end('ok');
      });
      const q: Queue = h.queue({ retry: { attempts: 1 } });
      h.worker(q, handler());
      const first = await q.add('http', { url: `${url}/limited` }, { group: 'tenant-1' });
      const back = await firstAttempt(q, first.id);
      const a = back.attempts[0]!;
      expect(back.state).toBe('waiting');
      expect(back.failures).toBe(0);
      expect(a.outcome).toBe('rate_limited');
      expect(a.error).toMatchObject({ name: 'RateLimitError', code: 'HTTP_429' });
      expect(a.pause).toEqual({ scope: 'group', group: 'tenant-1', ms: 60_000 });
      expect(a.decision).toMatchObject({ action: 'retry', delayMs: 0, source: 'handler' });
      expect(a.response).toMatchObject({ status: 429, headers: { 'retry-after': '60' }, body: 'slow down' });
      // The group waits; another group and the jobs without one run (attempts: 1, and not dead).
      const sibling = await q.add('http', { url: `${url}/s` }, { group: 'tenant-1' });
      const other = await q.add('http', { url: `${url}/o` }, { group: 'tenant-2' });
      const plain = await q.add('http', { url: `${url}/p` });
      await waitForState(q, other.id, 'completed');
      await waitForState(q, plain.id, 'completed');
      await new Promise((r) => setTimeout(r, 100));
      expect((await q.getJob(sibling.id))?.state).toBe('waiting');
      expect((await q.getJob(first.id))?.state).toBe('waiting');
    });

    it('pauses the queue on a 429 of a job without a group; on429 retry makes it a charged temporary failure', async () => {
      const url = await target((_path, _n, res) => {
        res.writeHead(429);
        res.end();
      });
      const q: Queue = h.queue({ retry: { attempts: 1 } });
      h.worker(q, handler());
      const j = await q.add('http', { url });
      const back = await firstAttempt(q, j.id);
      expect(back.attempts[0]?.outcome).toBe('rate_limited');
      // No Retry-After: the default pause, 1 s.
      expect(back.attempts[0]?.pause).toEqual({ scope: 'queue', ms: 1000 });
      expect(back.failures).toBe(0);

      const q2: Queue = h.queue({ retry: { attempts: 1 } });
      h.worker(q2, handler({ allowHosts: ['127.0.0.1'], on429: 'retry' }));
      const j2 = await q2.add('http', { url }, { group: 'tenant-1' });
      const dead = await waitForState(q2, j2.id, 'dead');
      expect(dead.attempts[0]).toMatchObject({ outcome: 'failed', errorClass: 'temporary' });
      expect(dead.attempts[0]?.error?.code).toBe('HTTP_429');
      expect(dead.attempts[0]?.pause).toBeUndefined();
    });
  });
}
