/**
 * Helpers for the archive tests (the `archive` vitest project: its globalSetup
 * test/helpers/pg-global-setup.ts makes a throw-away database, and starts a Redis too).
 * Each test file works in schemas of its own (`uniqueSchema()`), so files run in parallel.
 */
import { randomBytes } from 'node:crypto';

import { describe, inject } from 'vitest';

import type {} from './pg-global-setup.js';
import { redisUrl } from './redis.js';

/** URL of this run's throw-away database, or null when PostgreSQL is unavailable. */
export function pgUrl(): string | null {
  const url = inject('pgUrl') as string | null | undefined;
  return typeof url === 'string' && url !== '' ? url : null;
}

/** A fresh schema name for one test or file. */
export function uniqueSchema(): string {
  return `t_${randomBytes(5).toString('hex')}`;
}

/** `describe` when PostgreSQL (and, with `redis`, Redis) is available; else a visible skip. */
export function describeArchive(name: string, fn: () => void, needs: { redis?: boolean } = {}): void {
  const missing = [pgUrl() ? undefined : 'PostgreSQL', needs.redis && !redisUrl() ? 'Redis' : undefined]
    .filter(Boolean)
    .join(' and ');
  if (missing) {
    describe.skip(`${name} (SKIPPED: ${missing} unavailable; see the warning above)`, fn);
    return;
  }
  describe(name, fn);
}
