/**
 * Vitest globalSetup of the `redis` project: decides which Redis the tests use and provides its URL
 * to the test files as `inject('redisUrl')` (see test/helpers/redis.ts).
 *
 * - `REDIS_URL` set → use it as is (it is never flushed; tests clean up their own keys).
 * - else `redis-server` on PATH → start a throwaway server on a free port, stopped at teardown.
 * - else in CI (`CI` set) → fail the run.
 * - else → loud warning, provide `null`: Redis tests are skipped.
 */
import type { TestProject } from 'vitest/node';
import { hasRedisServer, startRedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the Redis the tests may use, or null when Redis tests are skipped. */
    redisUrl: string | null;
  }
}

function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const envUrl = process.env.REDIS_URL?.trim();
  if (envUrl) {
    project.provide('redisUrl', envUrl);
    return undefined;
  }

  if (hasRedisServer()) {
    const server = await startRedisServer();
    project.provide('redisUrl', server.url);
    return () => server.stop();
  }

  if (isCI()) {
    throw new Error('redis-server is required in CI: install redis-server or set REDIS_URL (CI is set).');
  }

  const message = '⚠ Redis tests SKIPPED: redis-server not found (install redis-server or set REDIS_URL)';
  const bar = '='.repeat(message.length + 2);
  const color = process.stderr.isTTY ? (s: string) => `\x1b[1;33m${s}\x1b[0m` : (s: string) => s;
  console.warn(color(`\n${bar}\n${message}\n${bar}\n`));
  project.provide('redisUrl', null);
  return undefined;
}
