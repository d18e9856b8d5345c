/**
 * `durability: 'replicated'`: every acknowledged add, finish, cancel and replay is on a replica
 * (WAIT pipelined after the script); without a replica in time the write is applied but the caller
 * gets a ReplicationError instead of an acknowledgement. Its own master and replica redis-servers.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { queueKeys } from '../../src/backends/redis/keys.js';
import { RedisBackend, type Durability } from '../../src/backends/redis/redis-backend.js';
import { ReplicationError, ValidationError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const available = hasRedisServer();
if (!available) console.warn('⚠ durability tests SKIPPED: redis-server not found');

describe.skipIf(!available)("durability: 'replicated'", () => {
  let master: RedisServer;
  let replica: RedisServer;
  let lonely: RedisServer;
  const closing: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    // Redis waits repl-diskless-sync-delay (5 s by default) for more replicas before the first
    // sync: the whole budget of the wait below on a loaded machine (a CI run failed on it).
    master = await startRedisServer({ extraArgs: ['--repl-diskless-sync-delay', '0'] });
    replica = await startRedisServer({ extraArgs: ['--replicaof', '127.0.0.1', String(master.port)] });
    lonely = await startRedisServer();
    const r = new Redis(replica.url);
    const deadline = Date.now() + 20_000;
    while (!/master_link_status:up/.test(await r.info('replication'))) {
      if (Date.now() > deadline) throw new Error('the replica did not connect within 20 s');
      await sleep(50);
    }
    r.disconnect();
  }, 30_000);

  afterAll(async () => {
    for (const c of closing.splice(0)) await c.close();
    await Promise.all([master?.stop(), replica?.stop(), lonely?.stop()]);
  }, 30_000);

  function backend(url: string, durability: Durability): RedisBackend {
    const b = new RedisBackend({ connection: url, prefix: 'dur', durability, onWarning: () => {} });
    closing.push(b);
    return b;
  }

  it('an acknowledged add, finish and cancel are already on the replica when they resolve', async () => {
    const b = backend(master.url, 'replicated');
    const q = new Queue('mail', { backend: b });
    const onReplica = new Redis(replica.url);
    try {
      const keys = queueKeys('dur', 'mail');
      const { id } = await q.add('send', { to: 'a' });
      // No sleep: the add resolved only after WAIT, so the replica has the job hash now.
      expect(await onReplica.exists(keys.job(id))).toBe(1);
      const { id: other } = await q.add('send', { to: 'b' }, { delay: 60_000 });
      await q.cancel(other, { by: 'test' });
      expect(await onReplica.hget(keys.job(other), 'st')).toBe('cancelled');
      let finished = 0;
      const w = new Worker(q, () => 'ok', { idleCheckMs: 20 });
      w.on('completed', () => void finished++);
      closing.push(w);
      for (let i = 0; finished < 1; i++) {
        if (i > 200) throw new Error('not processed');
        await sleep(10);
      }
      await w.close();
      expect(await onReplica.hget(keys.job(id), 'st')).toBe('completed');
    } finally {
      onReplica.disconnect();
    }
  });

  it('without a replica in time: ReplicationError, the job is applied, and adding it again is safe', async () => {
    const b = backend(lonely.url, { replicas: 1, timeoutMs: 50 });
    const q = new Queue('mail', { backend: b });
    const err = await q.add('send', { to: 'a' }, { id: 'order-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicationError);
    expect(err).toMatchObject({ code: 'RETRACED_ERR_REPLICATION', wanted: 1, acked: 0 });
    expect((err as Error).message).toBe(
      'add: 0 of 1 replica(s) confirmed the write within 50 ms; it is applied on the master but may be lost if the master fails now',
    );
    // Reads are not waited for; the job is there once.
    const plain = backend(lonely.url, 'none');
    const again = await new Queue('mail', { backend: plain }).add('send', { to: 'a' }, { id: 'order-1' });
    expect(again).toMatchObject({ id: 'order-1', created: false });
    expect((await new Queue('mail', { backend: plain }).counts()).waiting).toBe(1);
  });

  it('refuses a durability it does not know, naming the field', () => {
    expect(() => backend(master.url, 'always' as never)).toThrow(ValidationError);
    expect(() => backend(master.url, { replicas: 0 })).toThrow(
      'durability.replicas must be an integer from 1 to 16, received 0',
    );
    expect(() => backend(master.url, { timeoutMs: 1.5 })).toThrow('durability.timeoutMs');
  });
});
