import { afterAll } from 'vitest';

import { RedisBackend } from '../src/backends/redis/redis-backend.js';
import { runBackendConformance } from './conformance/index.js';
import { cleanupKeys, describeRedis, redisUrl, uniquePrefix } from './helpers/redis.js';

describeRedis('redis backend', () => {
  const prefix = uniquePrefix();
  const backend = new RedisBackend({ connection: redisUrl() as string, prefix, onWarning: () => undefined });
  afterAll(async () => {
    await backend.close();
    await cleanupKeys(redisUrl() as string, `${prefix}:*`);
  });
  runBackendConformance({ name: 'redis', backend: () => backend });
});
