/**
 * `retraced rate-limit QUEUE` and `retraced add --group`, in process, through a server on a memory
 * backend and directly on the memory backend's API: set, show (table and --json), remove, and bad
 * flags named.
 */
import type { AddressInfo } from 'node:net';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { add } from '../../src/cli/commands/add.js';
import { rateLimit } from '../../src/cli/commands/rate-limit.js';
import { rateLimits } from '../../src/cli/commands/rate-limits.js';
import { buildApp } from '../../src/http/app.js';
import { RateLimitError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { runCaptured } from '../helpers/capture-stdout.js';

const capture = (
  argv: readonly string[],
  cmd: { run(argv: readonly string[]): Promise<number> } = rateLimit,
): Promise<{ code: number; stdout: string }> => runCaptured(cmd, argv);

describe('retraced rate-limit', () => {
  let app: FastifyInstance;
  let url: string;
  const backend = new MemoryBackend();
  beforeAll(async () => {
    app = await buildApp({ backend });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    await backend.close();
  });

  it('sets the queue, each-group and one group limits, shows them, and removes them', async () => {
    expect((await capture(['mail', '--rate', '100', '--url', url])).code).toBe(0);
    await capture(['mail', '--each-group', '--rate', '10', '--burst', '20', '--url', url]);
    await capture(['mail', '--group', 'tenant-42', '--rate', '2', '--per', '1m', '--url', url]);
    const table = (await capture(['mail', '--url', url])).stdout
      .split('\n')
      .map((l) => l.replace(/\s+/g, ' ').trim());
    expect(table.slice(1, 4)).toEqual(['(queue) 100/s 100', '(each group) 10/s 20', 'tenant-42 2/min 2']);
    const json = JSON.parse((await capture(['mail', '--json', '--url', url])).stdout) as unknown;
    expect(json).toEqual({
      queue: { rate: 100, per: 1000, burst: 100, label: '100/s' },
      group: { rate: 10, per: 1000, burst: 20, label: '10/s' },
      groups: { 'tenant-42': { rate: 2, per: 60_000, burst: 2, label: '2/min' } },
    });
    await capture(['mail', '--remove', '--url', url]);
    await capture(['mail', '--group', 'tenant-42', '--remove', '--url', url]);
    expect(await new Queue('mail', { backend }).getRateLimits()).toMatchObject({ queue: null, groups: {} });
    await expect(rateLimit.run(['mail', '--burst', '3', '--url', url])).rejects.toThrow(
      /^--burst must be given only with --rate/,
    );
    await expect(rateLimit.run(['mail', '--rate', 'fast', '--url', url])).rejects.toThrow(
      /^--rate must be a number/,
    );
    await expect(rateLimit.run(['mail', '--group', 'a b', '--rate', '1', '--url', url])).rejects.toThrow(
      /settings\.groups key must be 1-128 characters/,
    );
  });

  it('retraced rate-limits shows the bucket and a page of groups (table, --json, next cursor); hostile text is escaped', async () => {
    const q = new Queue('view', { backend });
    await q.setRateLimits({
      queue: { rate: 100 },
      group: { rate: 1, per: 60_000 },
      groups: { B: { rate: 5 } },
    });
    for (const g of ['A', 'A', 'B', 'C']) await q.add('n', null, { group: g });
    await q.add('u', null);
    const lines = (await capture(['view', '--limit', '3', '--url', url], rateLimits)).stdout
      .split('\n')
      .map((l) => l.replace(/\s+/g, ' ').trim());
    expect(lines.slice(0, 3)).toEqual([
      'queue view: 100/s, burst 100; 100 tokens',
      'each group: 1/min, burst 1; 1 group with a limit of their own',
      'groups: 4 taking turns, 0 parked, 0 paused',
    ]);
    expect(lines.slice(4, 8)).toEqual([
      'GROUP WAITING LIMIT TOKENS NEXT TOKEN TURN STATE',
      'A 2 1/min 1 - 0 served next',
      'B 1 5/s (own) 5 - 1 taking turns',
      'C 1 1/min 1 - 2 taking turns',
    ]);
    const cursor = /^next page: --cursor (\S+)$/.exec(lines[8] ?? '')?.[1];
    expect(cursor).toBeTypeOf('string');
    const page2 = JSON.parse(
      (
        await capture(
          ['view', '--limit', '3', '--cursor', cursor as string, '--json', '--url', url],
          rateLimits,
        )
      ).stdout,
    ) as { groups: { group: string; waiting: number; tokens: number | null }[]; nextCursor?: string };
    expect(page2.groups).toMatchObject([{ group: '', waiting: 1, tokens: null, turn: 3 }]);
    expect(page2.nextCursor).toBeUndefined();
    // A handler's pause shows with its message, escaped (a terminal never obeys job text).
    const q2 = new Queue('view2', { backend });
    await q2.add('n', null, { group: 'A' });
    await q2.add('n', null, { group: 'A' });
    const w = new Worker(q2, () => {
      throw new RateLimitError({ retryAfterMs: 60_000, message: 'HTTP 429\u001b[2J\nfake line' });
    });
    while ((await q2.rateLimitState({ filter: 'paused' })).counts.paused === 0) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await w.close();
    const paused = (await capture(['view2', '--filter', 'paused', '--url', url], rateLimits)).stdout;
    expect(paused).toContain('queue view2: no limit\n');
    expect(paused).toMatch(/groups: \d taking turns, \d parked, 1 paused/);
    expect(paused).toMatch(
      /A +2 +- +0 .*paused until .* by job \d+ \(attempt 1\): HTTP 429\\u001b\[2J\\u000afake line/,
    );
    expect(paused).not.toContain('\u001b');
    await expect(rateLimits.run(['view', '--filter', 'all', '--url', url])).rejects.toThrow(
      /^--filter must be one of waiting, turns, parked, paused/,
    );
    await expect(rateLimits.run(['view', '--cursor', 'nope', '--url', url])).rejects.toThrow(
      /^query\.cursor must be the nextCursor of a previous page/,
    );
  });

  it('retraced add --group puts the job in its group', async () => {
    const out = JSON.parse(
      (await capture(['mail', 'send', '--group', 'tenant-7', '--json', '--url', url], add)).stdout,
    ) as { id: string };
    expect((await new Queue('mail', { backend }).getJob(out.id))?.group).toBe('tenant-7');
  });
});
