/**
 * Helpers for tests on a real Redis Cluster (the `cluster` vitest project, whose globalSetup
 * test/helpers/redis-cluster-global-setup.ts starts one or takes REDIS_CLUSTER_URL).
 */
import type { Cluster } from 'ioredis';
import { describe, inject } from 'vitest';

import { connectRedis } from '../../src/backends/redis/connect.js';
import type {} from './redis-cluster-global-setup.js';

/** The cluster's seed URL, or null when the cluster tests are skipped. */
export function clusterUrl(): string | null {
  const url = inject('redisClusterUrl') as string | null | undefined;
  return typeof url === 'string' && url !== '' ? url : null;
}

/** `describe` when a cluster is available, else `describe.skip` with a visible warning. */
export const describeCluster: typeof describe.skip = (() => {
  if (clusterUrl() !== null) return describe;
  console.warn('⚠ Redis Cluster tests SKIPPED: no cluster (see test/helpers/redis-cluster-global-setup.ts)');
  return describe.skip;
})();

/** A cluster client for the test's own checks (the caller disconnects it). */
export function clusterClient(): Cluster {
  const c = connectRedis(clusterUrl() as string, { maxRetriesPerRequest: 3 }) as Cluster;
  c.on('error', () => undefined);
  return c;
}

/** Deletes the keys matching `pattern` on every master (SCAN + UNLINK, key by key: any slot). */
export async function cleanupClusterKeys(pattern: string): Promise<void> {
  const c = clusterClient();
  try {
    await new Promise<void>((resolve, reject) => {
      if (c.status === 'ready') resolve();
      c.once('ready', () => resolve());
      c.once('end', () => reject(new Error('cluster connection ended')));
    });
    for (const node of c.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) await c.unlink(k);
      } while (cursor !== '0');
    }
  } finally {
    c.disconnect();
  }
}
