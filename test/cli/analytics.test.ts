/**
 * `retraced analytics QUEUE`, in process, through a server on a memory backend: the table and
 * `--json` (the report of the library, unchanged), and a bad `--group` named.
 */
import type { AddressInfo } from 'node:net';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { analytics } from '../../src/cli/commands/analytics.js';
import { budget } from '../../src/cli/commands/budget.js';
import { PermanentError } from '../../src/errors.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { runCaptured } from '../helpers/capture-stdout.js';

const capture = (
  argv: readonly string[],
  cmd: { run(argv: readonly string[]): Promise<number> } = analytics,
): Promise<{ code: number; stdout: string }> => runCaptured(cmd, argv);

describe('retraced analytics', () => {
  let app: FastifyInstance;
  let url: string;
  const backend = new MemoryBackend();
  beforeAll(async () => {
    const q = new Queue<{ fails: number }>('mail', {
      backend,
      retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 5 } },
    });
    for (const fails of [0, 0, 0, 1, 9]) await q.add('send', { fails });
    await q.add('bounce', { fails: 0 });
    const w = new Worker(q, (job) => {
      if (job.name === 'bounce') throw new PermanentError('no such mailbox');
      if (job.attempt <= job.data.fails) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return null;
    });
    for (;;) {
      const c = await q.counts();
      if (c.completed + c.dead === 6) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await w.close();
    app = await buildApp({ backend });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    await backend.close();
  });

  it('prints the attempts table, percentiles, failures and the suggestion', async () => {
    const { code, stdout } = await capture(['mail', '--window', '30m', '--url', url]);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[1]).toBe(
      '9 attempts, 5 failed, 4 succeeded, 2 dead (dead-letter rate 33.3%), 3 retries, 2 wasted on jobs that died',
    );
    expect(lines.slice(3, 7).map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'ATTEMPT RAN FAILED SUCCEEDED DEAD P(SUCCESS)',
      '1 6 3 3 1 50%',
      '2 2 1 1 0 50%',
      '3 1 1 0 1 0%',
    ]);
    expect(stdout).toMatch(/^time to success: p50 .+ \(4\)$/m);
    expect(stdout).toMatch(/^dead by reason: {2}exhausted 1, permanent 1$/m);
    expect(stdout).toContain(
      'suggested attempts: 2 (100% of the jobs that ever succeed do so by attempt 2; attempt 3 succeeded 0% of the time (0 jobs) and cost 1 attempt)',
    );
  });

  it('--json is the report; --group adds its rows; a bad --group is named', async () => {
    const { stdout } = await capture(['mail', '--group', 'name', '--json', '--url', url]);
    const r = JSON.parse(stdout) as { totals: unknown; groups: unknown };
    expect(r.totals).toEqual({
      attempts: 9,
      failed: 5,
      stalled: 0,
      succeeded: 4,
      dead: 2,
      cancelled: 0,
      retries: 3,
      wastedAttempts: 2,
      deadLetterRate: 2 / 6,
    });
    const none = { next: null, nextSucceeded: null, nextSuccessRate: null, recovered: null, lost: null };
    expect(r.groups).toEqual([
      { key: 'send', label: null, attempts: 8, failed: 4, succeeded: 4, dead: 1, cancelled: 0, ...none },
      { key: 'bounce', label: null, attempts: 1, failed: 1, succeeded: 0, dead: 1, cancelled: 0, ...none },
    ]);
    await expect(analytics.run(['mail', '--group', 'colour', '--url', url])).rejects.toThrow(
      /^--group must be one of name, errorClass, rule, fingerprint/,
    );
  });

  it('retraced budget sets, shows and removes a retry budget through the server', async () => {
    const set = await capture(
      ['mail', '--ratio', '0.2', '--window', '30', '--min', '5', '--url', url],
      budget,
    );
    expect(set.code).toBe(0);
    expect(set.stdout.split('\n')[1]?.replace(/\s+/g, ' ').trim()).toBe('(queue) 20 % 30 s 5 defer -');
    await capture(['mail', '--name', 'send', '--ratio', '0', '--on-exhausted', 'dead', '--url', url], budget);
    const shown = JSON.parse((await capture(['mail', '--json', '--url', url], budget)).stdout) as {
      budgets: { name: string | null; windowMs: number; onExhausted: string }[];
    };
    expect(shown.budgets.map((b) => [b.name, b.windowMs, b.onExhausted])).toEqual([
      [null, 30_000, 'defer'],
      ['send', 10_000, 'dead'],
    ]);
    await capture(['mail', '--remove', '--url', url], budget);
    await capture(['mail', '--name', 'send', '--remove', '--url', url], budget);
    expect((await capture(['mail', '--url', url], budget)).stdout).toContain('(no retry budget)');
    await expect(budget.run(['mail', '--window', '10', '--url', url])).rejects.toThrow(
      /^--window must be given only with --ratio/,
    );
  });
});
