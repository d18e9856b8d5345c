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
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';

async function capture(
  argv: readonly string[],
  cmd: { run(argv: readonly string[]): Promise<number> } = rateLimit,
): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof write;
  try {
    return { code: await cmd.run(argv), stdout };
  } finally {
    process.stdout.write = write;
  }
}

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

  it('retraced add --group puts the job in its group', async () => {
    const out = JSON.parse(
      (await capture(['mail', 'send', '--group', 'tenant-7', '--json', '--url', url], add)).stdout,
    ) as { id: string };
    expect((await new Queue('mail', { backend }).getJob(out.id))?.group).toBe('tenant-7');
  });
});
