/**
 * Vitest globalSetup of the `archive` project: a throw-away PostgreSQL database for the run,
 * provided to the test files as `inject('pgUrl')` (see test/helpers/pg.ts), dropped at teardown.
 *
 * - The server: `DATABASE_URL` when set, else the local one, `postgres://postgres@127.0.0.1:5432/postgres`
 *   (trust authentication). Only the database this setup creates (`retraced_test_<pid>_<random>`)
 *   is ever written or dropped; no other database is touched.
 * - No PostgreSQL reachable → in CI (`CI` set) the run fails; else a loud warning and `null`: the
 *   archive tests are skipped, visibly.
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the throw-away PostgreSQL database of this run, or null when archive tests are skipped. */
    pgUrl: string | null;
  }
}

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** The server URL with another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const serverUrl = process.env.DATABASE_URL?.trim() || DEFAULT_PG_URL;
  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    const why = `PostgreSQL not reachable at ${new URL(serverUrl).host} (${(err as Error).message})`;
    if (isCI()) throw new Error(`PostgreSQL is required in CI: ${why}; set DATABASE_URL (CI is set).`);
    const message = `⚠ archive (PostgreSQL) tests SKIPPED: ${why}; set DATABASE_URL`;
    const bar = '='.repeat(message.length + 2);
    const color = process.stderr.isTTY ? (s: string) => `\x1b[1;33m${s}\x1b[0m` : (s: string) => s;
    console.warn(color(`\n${bar}\n${message}\n${bar}\n`));
    project.provide('pgUrl', null);
    return undefined;
  }
  const database = `retraced_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  project.provide('pgUrl', withDatabase(serverUrl, database));
  return async () => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  };
}
