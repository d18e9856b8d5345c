/**
 * Archive throughput (`npm run bench:archive`): how fast the archiver copies finished jobs from Redis
 * into PostgreSQL, beside the c100 processing rate measured in the same run, and PostgreSQL bytes per
 * archived job. Own redis-server (free port, no persistence) and a throw-away PostgreSQL database
 * (DATABASE_URL or the local server), dropped at the end.
 *
 *   1. process N no-op jobs, 1 worker, concurrency 100, no archive: the c100 rate;
 *   2. archive those N completed jobs (turning the archive on notes them all): archived jobs/s;
 *   3. process N more at c100 with the archiver running in the same process: both rates, and the
 *      backlog (pending) at the end of processing and its peak.
 * N = 20000 (ARCHIVE_BENCH_JOBS to change). Rates drift with the machine: compare within one run.
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { Archiver } from '../src/archive/archiver.js';
import { PgArchive } from '../src/archive/pg-archive.js';
import { RedisBackend } from '../src/backends/redis/redis-backend.js';
import { Queue } from '../src/queue.js';
import { Worker } from '../src/worker.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

const N = Number(process.env.ARCHIVE_BENCH_JOBS ?? 20_000);
const serverUrl = process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';

async function processAll(q: Queue, n: number, onTick?: () => Promise<void>): Promise<number> {
  for (let i = 0; i < n; i += 1000) {
    await q.addBulk(
      Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ name: 'n', data: { i: i + j } })),
    );
  }
  const start = performance.now();
  const w = new Worker(q, async () => null, { concurrency: 100, leaseMs: 30_000 });
  w.on('error', () => undefined);
  const target = (await q.counts()).completed + n;
  for (;;) {
    await onTick?.();
    if ((await q.counts()).completed >= target) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = performance.now() - start;
  await w.close();
  return (n / ms) * 1000;
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const database = `retraced_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  const backend = new RedisBackend({ connection: redis.url });
  const archive = new PgArchive({ connection: u.toString() });
  try {
    await archive.migrate();
    const q = new Queue('bench', { backend });
    const c100 = await processAll(q, N);
    console.log(`c100 processing, no archive:        ${Math.round(c100)} jobs/s (${N} jobs)`);

    const archiver = new Archiver({ backend, archive, queues: ['bench'] });
    let start = performance.now();
    const drained = await archiver.drain();
    const drainRate = (drained / (performance.now() - start)) * 1000;
    const stats = await archive.stats();
    console.log(
      `archive of ${drained} completed jobs:   ${Math.round(drainRate)} jobs/s (${(drainRate / c100).toFixed(2)}× c100)`,
    );
    console.log(
      `PostgreSQL: ${stats.bytes} bytes for ${stats.jobs} jobs, ${stats.attempts} attempts: ${Math.round(stats.bytes / stats.jobs)} bytes/job (tables, indexes, TOAST)`,
    );

    await archiver.start();
    let peak = 0;
    const before = archiver.stats.archived;
    start = performance.now();
    const c100Archiving = await processAll(q, N, async () => {
      peak = Math.max(peak, (await backend.archiveStatus('bench')).pending);
    });
    const pendingAtEnd = (await backend.archiveStatus('bench')).pending;
    while ((await backend.archiveStatus('bench')).pending > 0) await new Promise((r) => setTimeout(r, 20));
    const allMs = performance.now() - start;
    await archiver.close();
    console.log(
      `c100 processing with the archiver: ${Math.round(c100Archiving)} jobs/s; archiver ${Math.round(((archiver.stats.archived - before) / allMs) * 1000)} jobs/s until caught up; backlog peak ${peak}, at the end of processing ${pendingAtEnd}`,
    );
  } finally {
    await archive.close();
    await backend.close();
    await redis.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
