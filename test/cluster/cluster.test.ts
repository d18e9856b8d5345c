/**
 * What only a cluster can get wrong: queues spread over several masters and are all listed; an idle
 * worker blocks on the master that owns its queue and wakes at once; the event feed, DLQ groups and
 * bulk replays per queue; the CLI with a cluster URL; bad cluster URLs refused naming the field.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

import { parseClusterUrl } from '../../src/backends/redis/cluster-url.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { queueKeys } from '../../src/backends/redis/keys.js';
import { PermanentError, ValidationError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { cleanupClusterKeys, clusterClient, clusterUrl, describeCluster } from '../helpers/cluster.js';
import { uniquePrefix } from '../helpers/redis.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('cluster URLs', () => {
  it('reads seeds, credentials and TLS', () => {
    expect(parseClusterUrl('redis-cluster://127.0.0.1:7000,10.0.0.2:7001')).toEqual({
      tls: false,
      username: undefined,
      password: undefined,
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
    });
    expect(parseClusterUrl('rediss-cluster://app:s%40cret@redis.internal:6380')).toEqual({
      tls: true,
      username: 'app',
      password: 's@cret',
      nodes: [{ host: 'redis.internal', port: 6380 }],
    });
    expect(parseClusterUrl('redis-cluster://:pw@[::1]:7000').nodes).toEqual([{ host: '::1', port: 7000 }]);
  });
  it('refuses a bad node naming the field, never echoing the password', () => {
    for (const bad of [
      'redis-cluster://',
      'redis-cluster://h',
      'redis-cluster://:pw@h:99999',
      'redis-cluster://h:1,',
    ]) {
      let err: unknown;
      try {
        parseClusterUrl(bad, '--redis');
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe('--redis');
      expect((err as Error).message).not.toContain('pw');
    }
  });
});

describeCluster('on a real Redis Cluster', () => {
  const prefix = uniquePrefix();
  const url = clusterUrl() as string;
  const backend = new RedisBackend({ connection: url, prefix, onWarning: () => undefined });
  const workers: Worker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await backend.close();
    await cleanupClusterKeys(`${prefix}:*`);
  });

  it('spreads queues over the masters and lists every one of them', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `q${i}`);
    for (const n of names) await new Queue(n, { backend }).add('x', { n });
    expect(await backend.listQueues()).toEqual([...names].sort());
    // Where each queue's meta hash lives: more than one master holds some.
    const c = clusterClient();
    try {
      await new Promise<void>((r) => (c.status === 'ready' ? r() : c.once('ready', () => r())));
      const owners = new Set<string>();
      for (const n of names) {
        const slot = Number(await c.call('CLUSTER', 'KEYSLOT', queueKeys(prefix, n).meta));
        owners.add(c.slots[slot]![0]!);
      }
      expect(owners.size).toBeGreaterThan(1);
    } finally {
      c.disconnect();
    }
  });

  it('an idle worker blocks on its queue’s master and a new job starts at once; a delayed one on time', async () => {
    const q = new Queue('blocking', { backend });
    const started: number[] = [];
    workers.push(
      new Worker(q, () => {
        started.push(Date.now());
      }),
    );
    await sleep(300); // the worker is idle, blocked
    const t0 = Date.now();
    await q.add('now', {});
    while (started.length < 1) await sleep(2);
    expect(started[0]! - t0).toBeLessThan(3000);
    const { id } = await q.add('later', {}, { delay: 300 });
    while (started.length < 2) await sleep(2);
    const job = await q.getJob(id);
    expect(job!.attempts[0]!.driftMs).toBeLessThan(1000); // a 6-node cluster on 2 cores
  });

  it('the event feed, DLQ groups and a bulk replay work per queue', async () => {
    const q = new Queue('dlq', { backend });
    let fixed = false;
    workers.push(
      new Worker(q, () => {
        if (!fixed) throw new PermanentError('card expired for customer 42');
        return 'ok';
      }),
    );
    const added = await q.addBulk([1, 2, 3].map((i) => ({ name: 'charge', data: { i } })));
    const deadline = Date.now() + 10_000;
    while ((await q.counts()).dead < 3 && Date.now() < deadline) await sleep(20);
    const groups = await q.dlq.groups();
    expect(groups).toHaveLength(1);
    expect(groups[0]!.count).toBe(3);
    const events = await backend.readEvents('dlq', '0', 100);
    expect(events.filter((e) => e.type === 'dead').length).toBeGreaterThan(0);
    fixed = true;
    const res = await q.dlq.replayMany({ fingerprint: groups[0]!.fingerprint }, { by: 'ops' });
    expect([...res.replayed].sort()).toEqual(added.map((a) => a.id).sort());
    expect(res.failed).toEqual([]);
    while ((await q.counts()).completed < 3 && Date.now() < deadline) await sleep(20);
    for (const a of added) expect((await q.getJob(a.id))!.state).toBe('completed');
  });

  it('the CLI reaches the cluster with --redis and a cluster URL', async () => {
    await new Queue('cli', { backend }).add('hello', { a: 1 });
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NO_COLOR: '1' },
      });
    const queues = run(['queues', '--redis', url, '--prefix', prefix, '--json']);
    expect(queues.status, queues.stderr).toBe(0);
    expect(queues.stdout).toContain('"cli"');
    const jobs = run([
      'jobs',
      'list',
      'cli',
      '--redis',
      url,
      '--prefix',
      prefix,
      '--state',
      'waiting',
      '--json',
    ]);
    expect(jobs.status, jobs.stderr).toBe(0);
    expect(jobs.stdout).toContain('"hello"');
  });
});
