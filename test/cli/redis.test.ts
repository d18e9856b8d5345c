/**
 * The CLI against Redis, on a redis-server of its own: `worker` runs a handlers module and shuts
 * down gracefully, `jobs show` renders the timeline, `dlq replay` records a manual attempt (checked
 * through the library), exit codes for not found / wrong state / bad token, bulk add over the API.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RedisBackend } from '../../src/backends/redis/index.js';
import { PermanentError, Queue, Worker, verifyHttpTargetSignature, type Job } from '../../src/index.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { DIST_INDEX, run, start } from './run.js';

const available = hasRedisServer();
if (!available) {
  console.warn('⚠ CLI Redis tests SKIPPED: redis-server not found (install redis-server to run them)');
}

const HANDLERS = `
import { PermanentError } from ${JSON.stringify(pathToFileURL(DIST_INDEX).href)};
export default {
  quick: async () => ({ ok: true }),
  slow: async () => { await new Promise((r) => setTimeout(r, 1500)); return { slow: 'finished' }; },
  import: async (job) => {
    if (!String(job.data.email).includes('@')) throw new PermanentError('no valid email', { code: 'INVALID_DATA' });
    return { imported: job.data.email };
  },
};
`;

describe.skipIf(!available)('the CLI against Redis', () => {
  let server: RedisServer;
  let backend: RedisBackend;
  let dir: string;
  const prefix = `cli${process.pid}`;
  let queue: Queue;
  const redis = (): string[] => ['--redis', server.url, '--prefix', prefix];

  beforeAll(async () => {
    server = await startRedisServer();
    backend = new RedisBackend({ connection: server.url, prefix });
    queue = new Queue('mail', { backend });
    dir = mkdtempSync(path.join(os.tmpdir(), 'retraced-cli-'));
    writeFileSync(path.join(dir, 'handlers.mjs'), HANDLERS);
  }, 30_000);

  afterAll(async () => {
    await backend?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let deadId: string;
  let slowId: string;

  it('worker runs the handlers module and, on SIGTERM, finishes the job in flight and exits 0', async () => {
    await queue.add('quick', {});
    deadId = (await queue.add('import', { email: 'ada-at-example' })).id;
    const worker = start([
      'worker',
      ...redis(),
      '--queue',
      'mail',
      '--handlers',
      path.join(dir, 'handlers.mjs'),
      '--concurrency',
      '2',
    ]);
    await worker.waitFor(/completed\s+mail \d+ "quick" #1/);
    await worker.waitFor(
      /dead\s+mail \d+ "import" #1 PermanentError: no valid email \[INVALID_DATA\] \(permanent, thrown:PermanentError\) → dead-letter \(permanent\)/,
    );
    slowId = (await queue.add('slow', {})).id;
    await worker.waitFor(new RegExp(`active\\s+mail ${slowId} "slow" #1`));

    const res = await worker.stop('SIGTERM');
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/SIGTERM: stopping; 1 job in flight/);
    expect(res.stdout).toMatch(new RegExp(`completed\\s+mail ${slowId} "slow" #1 in [12]\\.\\d s`));
    const slow = await queue.getJob(slowId);
    expect(slow?.state).toBe('completed');
    expect(slow?.result).toEqual({ slow: 'finished' });
  }, 30_000);

  it('worker --queue a:3 --queue b runs the jobs of both queues in one process', async () => {
    const other = new Queue('reports', { backend });
    const a = await queue.add('quick', {});
    const b = await other.add('quick', {});
    const worker = start([
      'worker',
      ...redis(),
      '--queue',
      'mail:3',
      '--queue',
      'reports',
      '--handlers',
      path.join(dir, 'handlers.mjs'),
    ]);
    await worker.waitFor(new RegExp(`completed\\s+mail ${a.id} "quick" #1`));
    await worker.waitFor(new RegExp(`completed\\s+reports ${b.id} "quick" #1`));
    const res = await worker.stop('SIGTERM');
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/on queues mail \(weight 3\), reports \(weight 1\)/);
    expect((await other.getJob(b.id))?.state).toBe('completed');
    const bad = await run([
      'worker',
      ...redis(),
      '--queue',
      'mail:0',
      '--handlers',
      path.join(dir, 'handlers.mjs'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--queue mail:WEIGHT must be an integer between 1 and 1000/);
  }, 30_000);

  it('add --priority stores the priority and jobs show names it', async () => {
    const added = await run(['add', 'prio', 'urgent', '--priority', '7', '--json', ...redis()]);
    expect(added.code).toBe(0);
    const { id } = JSON.parse(added.stdout) as { id: string };
    const r = await run(['jobs', 'show', 'prio', id, ...redis()]);
    expect(r.stdout).toMatch(/attempts, priority 7/);
  });

  it('add --debounce / --dedup fold later adds into the job, and jobs show counts them', async () => {
    const deb = ['add', 'deb', 'save', '--debounce', 'doc-7', '--delay', '1m', ...redis()];
    const first = await run([...deb, '--data', '{"v":1}', '--json']);
    expect(first.code).toBe(0);
    const { id } = JSON.parse(first.stdout) as { id: string };
    const second = await run([...deb, '--data', '{"v":2}']);
    expect(second.stdout).toContain(
      `folded into job ${id} of deb (scheduled) by its debounce key: data replaced, due time pushed`,
    );
    const shown = await run(['jobs', 'show', 'deb', id, ...redis()]);
    expect(shown.stdout).toContain('1 add folded into this job (debounce key "doc-7")');
    expect(shown.stdout).toContain('{"v":2}');
    const dd = ['add', 'dd', 'ping', '--dedup', 'k', '--ttl', '10m', ...redis()];
    await run(dd);
    expect((await run(dd)).stdout).toMatch(
      /folded into job \d+ of dd \(waiting\) by its dedup key: nothing created/,
    );
    const noTtl = await run(['add', 'dd', 'ping', '--dedup', 'k', ...redis()]);
    expect(noTtl.code).toBe(2);
    expect(noTtl.stderr).toContain('--dedup KEY needs --ttl DURATION');
  });

  it('worker --http calls the targets of HTTP jobs, signed, and refuses hosts not allowed', async () => {
    const seen: { url: string; ok: boolean }[] = [];
    const target = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const ok = verifyHttpTargetSignature({
          secret: 'shh',
          body,
          timestamp: req.headers['x-retraced-timestamp'] as string,
          signature: req.headers['x-retraced-signature'] as string,
        });
        seen.push({ url: req.url ?? '', ok });
        res.writeHead(req.url === '/gone' ? 410 : 200);
        res.end('fine');
      });
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    const hooks = new Queue('hooks', { backend, retry: { attempts: 2 } });
    const ok = await hooks.add('http', { url: `${base}/ok`, body: '{"a":1}' });
    const gone = await hooks.add('http', { url: `${base}/gone` });
    const elsewhere = await hooks.add('http', { url: 'http://not-allowed.example/' });
    const worker = start(
      ['worker', ...redis(), '--queue', 'hooks', '--http', '--allow-host', '127.0.0.1', '--allow-private'],
      { env: { RETRACED_HTTP_SECRET: 'shh' } },
    );
    try {
      await worker.waitFor(
        /HTTP targets to 127\.0\.0\.1 \(private addresses allowed\), signed, a 429 pauses the job's group uncharged/,
      );
      await worker.waitFor(new RegExp(`completed\\s+hooks ${ok.id} "http" #1`));
      await worker.waitFor(new RegExp(`dead\\s+hooks ${gone.id} "http" #1 PermanentError: HTTP 410`));
      await worker.waitFor(
        new RegExp(`dead\\s+hooks ${elsewhere.id} "http" #1 PermanentError: host not-allowed.example`),
      );
    } finally {
      await worker.stop('SIGTERM');
      await new Promise((r) => target.close(r));
    }
    expect(seen).toEqual([
      { url: '/ok', ok: true },
      { url: '/gone', ok: true },
    ]);
    const done = await hooks.getJob(ok.id);
    expect(done?.result).toMatchObject({ status: 200, body: 'fine' });
    expect(done?.attempts[0]?.logs?.[0]?.line).toBe(`→ POST ${base}/ok`);
    const usage = await run(['worker', ...redis(), '--queue', 'hooks', '--http']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--http needs --allow-host PATTERN');
  }, 30_000);

  it('worker --http takes its settings from flags: temporary statuses, on 429, headers kept, excerpt size', async () => {
    const target = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(req.url === '/limited' ? 429 : 409, { 'x-id': 'r-9', 'content-type': 'text/plain' });
        res.end('conflicting');
      });
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    const hooks = new Queue('flagged', {
      backend,
      retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } },
    });
    const conflict = await hooks.add('http', { url: `${base}/conflict` });
    const limited = await hooks.add('http', { url: `${base}/limited` }, { group: 'tenant-1' });
    const worker = start([
      'worker',
      ...redis(),
      '--queue',
      'flagged',
      '--http',
      '--allow-host',
      '127.0.0.1',
      '--allow-private',
      '--http-temporary',
      '409,429,500-599',
      '--http-on-429',
      'retry',
      '--http-header',
      'x-id',
      '--http-body-excerpt',
      '4',
    ]);
    try {
      await worker.waitFor(
        /HTTP targets to 127\.0\.0\.1 \(private addresses allowed\), a 429 retried as its status says/,
      );
      await worker.waitFor(new RegExp(`dead\\s+flagged ${conflict.id} "http" #2`));
      await worker.waitFor(new RegExp(`dead\\s+flagged ${limited.id} "http" #2`));
    } finally {
      await worker.stop('SIGTERM');
      await new Promise((r) => target.close(r));
    }
    // 409 retried (temporary by --http-temporary), then exhausted; the response as the flags say.
    const c = await hooks.getJob(conflict.id);
    expect(c?.dead?.reason).toBe('exhausted');
    expect(c?.attempts[0]).toMatchObject({ outcome: 'failed', errorClass: 'temporary' });
    expect(c?.attempts[0]?.response).toMatchObject({
      status: 409,
      headers: { 'x-id': 'r-9' },
      body: 'conf',
      bodyBytes: 11,
    });
    // 429 with --http-on-429 retry: a charged temporary failure, no pause.
    const l = await hooks.getJob(limited.id);
    expect(l?.attempts.map((a) => a.outcome)).toEqual(['failed', 'failed']);
    expect(l?.attempts[0]?.pause).toBeUndefined();
    expect(l?.attempts[0]?.error?.code).toBe('HTTP_429');
  }, 30_000);

  it('jobs show renders the attempt timeline', async () => {
    const r = await run(['jobs', 'show', 'mail', deadId, ...redis()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^job ${deadId} "import" on mail: dead \\(permanent\\), 1 attempt`));
    expect(r.stdout).toMatch(
      /#1 auto\s+due \d\d:\d\d:\d\d\.\d{3}\s+started \d\d:\d\d:\d\d\.\d{3} \(drift [\d.]+ m?s\)\s+took \d+ ms\s+failed\s+on \S+/,
    );
    expect(r.stdout).toContain('PermanentError: no valid email [INVALID_DATA]');
    expect(r.stdout).toContain('class permanent (rule thrown:PermanentError)');
    expect(r.stdout).toContain('→ dead-letter (permanent)');
  });

  it('dlq groups and list show the dead job', async () => {
    const groups = await run(['dlq', 'groups', 'mail', ...redis(), '--json']);
    expect(JSON.parse(groups.stdout)).toMatchObject({
      groups: [{ count: 1, label: 'PermanentError|INVALID_DATA|no valid email' }],
    });
    const list = await run(['dlq', 'list', 'mail', '--code', 'INVALID_DATA', ...redis()]);
    expect(list.stdout).toMatch(new RegExp(`^${deadId}\\s+import\\s+permanent\\s`, 'm'));
  });

  it('dlq replay records a manual attempt with who, the note and the patch', async () => {
    const dry = await run(['dlq', 'replay', 'mail', '--reason', 'permanent', '--dry-run', ...redis()]);
    expect(dry.stdout.trim()).toBe(`would replay 1 dead job of mail: ${deadId}`);
    expect((await queue.getJob(deadId))?.state).toBe('dead');

    const r = await run([
      'dlq',
      'replay',
      'mail',
      deadId,
      '--by',
      'ada',
      '--note',
      'fixed the address',
      '--patch',
      '{"email":"ada@example.com"}',
      ...redis(),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`replayed 1 job of mail: ${deadId}`);

    const done = new Promise<void>((resolve) => {
      const w = new Worker(queue, (job) => ({ imported: (job.data as { email: string }).email }), {
        workerId: 'test-worker',
      });
      w.on('completed', () => void w.close().then(resolve));
    });
    await done;
    const job = (await queue.getJob(deadId)) as Job;
    expect(job.state).toBe('completed');
    const last = job.attempts.at(-1);
    expect(last).toMatchObject({ n: 2, trigger: 'manual', outcome: 'succeeded', workerId: 'test-worker' });
    expect(last?.manual).toMatchObject({
      by: 'ada',
      note: 'fixed the address',
      patch: [{ path: 'data.email', op: 'replace', before: 'ada-at-example', after: 'ada@example.com' }],
    });
  }, 20_000);

  it('dlq replay --dry-run checks the patched data the same way with --redis and with --url (one bulk path)', async () => {
    const big = new Queue('big', { backend, retry: { attempts: 1 } });
    const { id } = await big.add('import', { blob: 'a'.repeat(300_000) });
    const w = new Worker(big, () => {
      throw new PermanentError('no');
    });
    for (let i = 0; i < 200 && (await big.getJob(id))?.state !== 'dead'; i++) await sleep(25);
    await w.close();
    const patch = path.join(dir, 'patch.json');
    writeFileSync(patch, JSON.stringify({ more: 'b'.repeat(300_000) }));
    const args = ['dlq', 'replay', 'big', id, '--patch', `@${patch}`, '--by', 'ada', '--dry-run'];
    const direct = await run([...args, ...redis()]);
    const srv = start(['server', ...redis(), '--port', '0', '--token', 'sekret']);
    try {
      const url = (await srv.waitFor(/ReTraced API on (http:\/\/127\.0\.0\.1:\d+)/, 20_000))[1] as string;
      const viaApi = await run([...args, '--url', url, '--token', 'sekret']);
      expect(direct.stdout).toMatch(
        new RegExp(`skip ${id}: patch \\(applied to data\\) must be at most 524288 bytes of JSON`),
      );
      expect([viaApi.code, viaApi.stdout]).toEqual([direct.code, direct.stdout]);
      expect(direct.code).toBe(4);
    } finally {
      expect((await srv.stop('SIGTERM')).code).toBe(0);
    }
    expect((await big.getJob(id))?.state).toBe('dead');
  }, 40_000);

  it('exits 3 for an unknown job and 4 for a job in the wrong state, naming them', async () => {
    const missing = await run(['jobs', 'show', 'mail', 'nope', ...redis()]);
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim()).toBe(
      'error: job "nope" does not exist in queue "mail" [RETRACED_ERR_JOB_NOT_FOUND]',
    );
    const finished = await run(['jobs', 'cancel', 'mail', slowId, '--by', 'ada', ...redis()]);
    expect(finished.code).toBe(4);
    expect(finished.stderr).toContain(
      `job "${slowId}" is completed; this needs a job that is scheduled, waiting or active`,
    );
  });

  it('RETRACED_DURABILITY=replicated waits for a replica: without one the add is applied but not acknowledged (exit 5)', async () => {
    const bad = await run(['add', 'mail', 'durable', ...redis()], { env: { RETRACED_DURABILITY: 'always' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('RETRACED_DURABILITY must be none or replicated');
    const r = await run(['add', 'mail', 'durable', '--id', 'dur-1', ...redis()], {
      env: { RETRACED_DURABILITY: 'replicated' },
    });
    // This redis-server has no replica: WAIT 1 times out after 1 s.
    expect(r.stderr).toContain('0 of 1 replica(s) confirmed the write within 1000 ms');
    expect(r.code).toBe(5);
    expect(await queue.getJob('dur-1')).toMatchObject({ id: 'dur-1', name: 'durable' });
  });

  it('add names the bad field of a job', async () => {
    const r = await run([
      'add',
      'mail',
      'quick',
      '--retry',
      '{"attempts":2,"backoff":{"type":"fixed"}}',
      ...redis(),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'error: options.retry.backoff.delayMs must be an integer >= 0 (milliseconds)',
    );
  });

  it('server requires its token (exit 6 without it), and serves bulk adds and queues with it', async () => {
    const srv = start(['server', ...redis(), '--port', '0', '--token', 'sekret']);
    try {
      const url = (await srv.waitFor(/ReTraced API on (http:\/\/127\.0\.0\.1:\d+)/, 20_000))[1] as string;
      const refused = await run(['queues', '--url', url, '--token', 'wrong']);
      expect(refused.code).toBe(6);
      expect(refused.stderr).toContain('the server refused this token');

      const file = path.join(dir, 'jobs.ndjson');
      writeFileSync(
        file,
        Array.from({ length: 1200 }, (_, i) => JSON.stringify({ name: 'quick', data: { i } })).join('\n'),
      );
      const added = await run(['add', 'bulk', '--file', file, '--url', url], {
        env: { RETRACED_TOKEN: 'sekret' },
      });
      expect(added.code).toBe(0);
      expect(added.stderr).toMatch(/^added 1200 jobs to bulk in /);

      const queues = await run(['queues', '--url', url, '--token', 'sekret', '--json']);
      const list = (JSON.parse(queues.stdout) as { queues: { name: string; counts: { waiting: number } }[] })
        .queues;
      expect(list.find((q) => q.name === 'bulk')?.counts.waiting).toBe(1200);
    } finally {
      const res = await srv.stop('SIGTERM');
      expect(res.code).toBe(0);
    }
  }, 40_000);

  it('a bad line of a bulk file is reported with its line number, and nothing is added', async () => {
    const file = path.join(dir, 'bad.ndjson');
    writeFileSync(
      file,
      `${JSON.stringify({ name: 'quick', data: 1 })}\n\n${JSON.stringify({ name: '', data: 2 })}\n`,
    );
    const r = await run(['add', 'badbulk', '--file', file, ...redis()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file} line 3: jobs[1].name must be a non-empty string`);
    expect((await backend.counts('badbulk')).waiting).toBe(0);
  });
});
