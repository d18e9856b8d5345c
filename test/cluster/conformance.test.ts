/** The whole backend conformance suite, on the Redis backend over a real local Redis Cluster. */
import { afterAll } from 'vitest';

import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { runBackendConformance } from '../conformance/index.js';
import { cleanupClusterKeys, clusterUrl, describeCluster } from '../helpers/cluster.js';
import { uniquePrefix } from '../helpers/redis.js';

describeCluster('redis backend on a Redis Cluster', () => {
  const prefix = uniquePrefix();
  const backend = new RedisBackend({
    connection: clusterUrl() as string,
    prefix,
    onWarning: () => undefined,
  });
  afterAll(async () => {
    await backend.close();
    await cleanupClusterKeys(`${prefix}:*`);
  });
  runBackendConformance({ name: 'redis-cluster', backend: () => backend });
});
