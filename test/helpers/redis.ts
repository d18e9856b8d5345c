/**
 * Helpers for tests that need a real Redis (the `redis` vitest project, whose globalSetup
 * test/helpers/redis-global-setup.ts starts or picks the server).
 *
 *   describeRedis('claim', () => {
 *     const prefix = uniquePrefix();
 *     afterAll(() => cleanupKeys(redisUrl()!, `${prefix}*`));
 *     ...
 *   });
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, inject } from 'vitest';
// Brings the `ProvidedContext.redisUrl` declaration into scope.
import type {} from './redis-global-setup.js';

/** Why Redis tests are skipped here, or null when a Redis URL was provided. */
function skipReason(): string | null {
  const url = inject('redisUrl') as string | null | undefined;
  if (typeof url === 'string' && url !== '') return null;
  if (url === undefined) {
    return 'no redisUrl was provided: this file is not run by the "redis" vitest project (its globalSetup provides it)';
  }
  return 'redis-server not found (install redis-server or set REDIS_URL)';
}

/** URL of the Redis to test against (`redis://127.0.0.1:<port>` or REDIS_URL), or null when unavailable. */
export function redisUrl(): string | null {
  const url = inject('redisUrl') as string | null | undefined;
  return typeof url === 'string' && url !== '' ? url : null;
}

/**
 * `describe` when a Redis is available, otherwise `describe.skip` that logs why the suite is skipped.
 * Supports the usual chain (`describeRedis.sequential(...)`, `describeRedis.each(...)(...)`).
 */
export const describeRedis: typeof describe.skip = (() => {
  const reason = skipReason();
  if (reason === null) return describe;
  let logged = false;
  const log = (what: string): void => {
    console.warn(`⚠ Redis tests SKIPPED (${what}): ${reason}`);
    logged = true;
  };
  return new Proxy(describe.skip, {
    apply(target, thisArg, args: unknown[]) {
      const name = args[0];
      log(typeof name === 'string' ? `"${name}"` : typeof name === 'function' ? `"${name.name}"` : 'suite');
      return Reflect.apply(target, thisArg, args) as unknown;
    },
    get(target, prop) {
      if (!logged) log('suite');
      return Reflect.get(target, prop) as unknown;
    },
  });
})();

/** A fresh prefix made of letters and digits only (e.g. `t3f9a0c1b2e`), for queue names and keys. */
export function uniquePrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/**
 * Deletes the keys matching `pattern` (Redis glob syntax) using SCAN + UNLINK; never FLUSHDB/FLUSHALL,
 * since REDIS_URL may point at a shared server. Returns the number of keys deleted.
 * Refuses patterns without any literal character (such as `*`).
 */
export async function cleanupKeys(url: string, pattern: string): Promise<number> {
  if (!/[^*?[\]\\]/.test(pattern.replace(/\[[^\]]*\]/g, ''))) {
    throw new Error(`cleanupKeys: refusing the overly broad pattern ${JSON.stringify(pattern)}`);
  }
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {}); // surfaced by the failing command instead
  try {
    await client.connect();
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    client.disconnect();
  }
}
