/**
 * `retraced priority-aging QUEUE`, in process, through a server on a memory backend: show, set with
 * --every (table and --json), --off, and bad flags named.
 */
import type { AddressInfo } from 'node:net';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { priorityAging } from '../../src/cli/commands/priority-aging.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { runCaptured } from '../helpers/capture-stdout.js';

const capture = (argv: readonly string[]): Promise<{ code: number; stdout: string }> =>
  runCaptured(priorityAging, argv);

describe('retraced priority-aging', () => {
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

  it('shows strict order, sets aging per duration, shows it, and turns it off', async () => {
    expect(await capture(['mail', '--url', url])).toEqual({
      code: 0,
      stdout: 'mail: strict order between priorities (no aging)\n',
    });
    expect((await capture(['mail', '--every', '30s', '--url', url])).stdout).toBe(
      'mail: a waiting job gains one priority level per 30 s waited\n',
    );
    expect(await new Queue('mail', { backend }).getPriorityAging()).toBe(30_000);
    expect(JSON.parse((await capture(['mail', '--json', '--url', url])).stdout)).toEqual({
      queue: 'mail',
      agingMs: 30_000,
    });
    await capture(['mail', '--off', '--url', url]);
    expect(await new Queue('mail', { backend }).getPriorityAging()).toBe(0);
  });

  it('names the flag and the rule of bad input, and changes nothing', async () => {
    await capture(['keep', '--every', '1m', '--url', url]);
    await expect(priorityAging.run(['keep', '--every', '1m', '--off', '--url', url])).rejects.toThrow(
      /^--every must be not given with --off/,
    );
    await expect(priorityAging.run(['keep', '--every', 'soon', '--url', url])).rejects.toThrow(/^--every/);
    await expect(priorityAging.run(['keep', '--every', '0ms', '--url', url])).rejects.toThrow(
      /^--every must be at least 1 ms/,
    );
    expect(await new Queue('keep', { backend }).getPriorityAging()).toBe(60_000);
  });
});
