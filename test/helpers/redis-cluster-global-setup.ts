/**
 * Vitest globalSetup of the `cluster` project: a real local Redis Cluster (3 masters, 3 replicas)
 * for the test files, as `inject('redisClusterUrl')`.
 *
 * - `REDIS_CLUSTER_URL` set (e.g. `redis-cluster://10.0.0.1:7000,10.0.0.2:7000`) → used as is.
 * - else `redis-server` and `redis-cli` on PATH → a throwaway cluster on free ports, stopped at teardown.
 * - else in CI (`CI` set) → the run fails.
 * - else → a loud warning, `null`: the cluster tests are skipped.
 */
import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

import { startRedisCluster } from './redis-cluster.js';
import { hasRedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Seed URL of the Redis Cluster the tests may use, or null when cluster tests are skipped. */
    redisClusterUrl: string | null;
  }
}

function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const envUrl = process.env.REDIS_CLUSTER_URL?.trim();
  if (envUrl) {
    project.provide('redisClusterUrl', envUrl);
    return undefined;
  }
  const cli = spawnSync('redis-cli', ['--version'], { stdio: 'ignore', timeout: 5000 });
  if (hasRedisServer() && cli.status === 0) {
    const cluster = await startRedisCluster();
    project.provide('redisClusterUrl', cluster.url);
    return () => cluster.stop();
  }
  if (isCI()) throw new Error('redis-server and redis-cli are required in CI for the Redis Cluster tests.');
  console.warn('\n⚠ Redis Cluster tests SKIPPED: redis-server or redis-cli not found\n');
  project.provide('redisClusterUrl', null);
  return undefined;
}
