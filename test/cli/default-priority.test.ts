/**
 * `retraced default-priority QUEUE`, in process, through a server on a memory backend: show, set
 * (table and --json; a negative value as `--set=-3`), the `retraced add` that follows gets it, and
 * bad values named without changing anything.
 */
import type { AddressInfo } from 'node:net';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { add } from '../../src/cli/commands/add.js';
import { defaultPriority } from '../../src/cli/commands/default-priority.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { runCaptured } from '../helpers/capture-stdout.js';

describe('retraced default-priority', () => {
  let app: FastifyInstance;
  let url: string;
  const backend = new MemoryBackend();
  const run = (argv: readonly string[]) => runCaptured(defaultPriority, argv);
  beforeAll(async () => {
    app = await buildApp({ backend });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    await backend.close();
  });

  it('shows none, sets one that `retraced add` then applies, and shows it as JSON', async () => {
    expect(await run(['mail', '--url', url])).toEqual({
      code: 0,
      stdout: 'mail: jobs added without a priority get 0 (none set)\n',
    });
    expect((await run(['mail', '--set=-3', '--url', url])).stdout).toBe(
      'mail: jobs added without a priority get -3\n',
    );
    expect(JSON.parse((await run(['mail', '--json', '--url', url])).stdout)).toEqual({
      queue: 'mail',
      priority: -3,
    });
    const added = await runCaptured(add, ['mail', 'send', '--data', '{}', '--json', '--url', url]);
    const { id } = JSON.parse(added.stdout) as { id: string };
    expect((await new Queue('mail', { backend }).getJob(id))?.priority).toBe(-3);
  });

  it('names the flag and the rule of bad input, and changes nothing', async () => {
    await run(['keep', '--set', '8', '--url', url]);
    for (const bad of ['1.5', 'high', '1000001']) {
      await expect(defaultPriority.run(['keep', '--set', bad, '--url', url])).rejects.toThrow(
        /^--set must be an integer between -1000000 and 1000000/,
      );
    }
    expect(await new Queue('keep', { backend }).getDefaultPriority()).toBe(8);
  });
});
