/**
 * Starts a real local Redis Cluster for tests: `masters` redis-server processes in cluster mode plus
 * `replicas` replicas of each, on free ports, joined by `redis-cli --cluster create`, and waits until
 * every node says `cluster_state:ok`. Stopped (every process, every temp dir) by `stop()`.
 *
 *   const cluster = await startRedisCluster();          // 3 masters, 3 replicas
 *   new RedisBackend({ connection: cluster.url });     // redis-cluster://127.0.0.1:p1,127.0.0.1:p2,…
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

import { startRedisServer, type RedisServer } from './redis-server.js';

export interface RedisCluster {
  /** The seed list as a cluster URL: `redis-cluster://127.0.0.1:<p1>,…` (every node). */
  readonly url: string;
  readonly nodes: readonly RedisServer[];
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  readonly masters?: number;
  readonly replicas?: number;
  /** `cluster-node-timeout` (ms): how long before a silent master is failed over. @default 2000 */
  readonly nodeTimeoutMs?: number;
}

/** A redis-server in cluster mode, not yet part of any cluster. */
function startClusterNode(nodeTimeoutMs: number): Promise<RedisServer> {
  return startRedisServer({
    // prettier-ignore
    extraArgs: [
      '--cluster-enabled', 'yes',
      '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(nodeTimeoutMs),
      '--cluster-require-full-coverage', 'no',
      // Replicas sync at once (Redis 7 waits 5 s for more replicas by default): a replica
      // that never synced refuses to be promoted, so a failover test needs them synced.
      '--repl-diskless-sync-delay', '0',
    ],
  });
}

/**
 * What an operator does after a failover: a new node joins the cluster as a replica of the master
 * on `masterPort` (CLUSTER MEET, CLUSTER REPLICATE), resolved once its initial sync is done. Stop
 * it yourself (the cluster's `stop()` does not know it).
 */
export async function addClusterReplica(
  masterPort: number,
  opts: { nodeTimeoutMs?: number } = {},
): Promise<RedisServer> {
  const node = await startClusterNode(opts.nodeTimeoutMs ?? 2000);
  const c = new Redis({ host: '127.0.0.1', port: node.port, maxRetriesPerRequest: 1 });
  const master = new Redis({ host: '127.0.0.1', port: masterPort, maxRetriesPerRequest: 1 });
  try {
    const masterId = String(await master.call('CLUSTER', 'MYID'));
    await c.call('CLUSTER', 'MEET', '127.0.0.1', String(masterPort));
    const deadline = Date.now() + 30_000;
    for (;;) {
      // REPLICATE needs the master known to the new node (gossip after MEET).
      const known = String(await c.call('CLUSTER', 'NODES')).includes(masterId);
      if (
        known &&
        (await c.call('CLUSTER', 'REPLICATE', masterId).then(
          () => true,
          () => false,
        ))
      ) {
        break;
      }
      if (Date.now() > deadline) throw new Error('the new node did not become a replica within 30 s');
      await sleep(100);
    }
    while (!/master_link_status:up/.test(await c.info('replication'))) {
      if (Date.now() > deadline) throw new Error('the new replica did not sync within 30 s');
      await sleep(50);
    }
    return node;
  } catch (e) {
    await node.stop();
    throw e;
  } finally {
    c.disconnect();
    master.disconnect();
  }
}

export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicas ?? 1;
  const count = masters * (1 + replicas);
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < count; i++) nodes.push(await startClusterNode(opts.nodeTimeoutMs ?? 2000));
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (create.status !== 0) {
      throw new Error(`redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`);
    }
    await waitClusterOk(nodes, masters);
    return {
      url: `redis-cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
      nodes,
      stop: async () => {
        await Promise.all(nodes.map((n) => n.stop()));
      },
    };
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw e;
  }
}

/** Every node reports cluster_state:ok and sees `masters` masters with slots; every replica is synced. */
async function waitClusterOk(nodes: readonly RedisServer[], masters: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let ok = true;
    for (const n of nodes) {
      const c = new Redis({ host: '127.0.0.1', port: n.port, lazyConnect: true, maxRetriesPerRequest: 1 });
      c.on('error', () => undefined);
      try {
        await c.connect();
        const info = String(await c.call('CLUSTER', 'INFO'));
        const size = /cluster_size:(\d+)/.exec(info)?.[1];
        if (!info.includes('cluster_state:ok') || Number(size) !== masters) ok = false;
        // A replica counts once its initial sync is done (its link to the master is up).
        const replication = await c.info('replication');
        if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) ok = false;
      } catch {
        ok = false;
      } finally {
        c.disconnect();
      }
      if (!ok) break;
    }
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error('the Redis Cluster did not reach cluster_state:ok (replicas synced) within 30 s');
    }
    await sleep(100);
  }
}
