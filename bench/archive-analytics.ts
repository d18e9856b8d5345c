/**
 * The retry intelligence over the PostgreSQL archive (not part of `npm run bench`): query plans
 * (EXPLAIN: which indexes) and times of `queue.analytics({ source: 'archive' })`, and of the
 * what-if and the audit streamed from the archive, on an archive of 100,000 finished jobs.
 *
 *   npx tsx --expose-gc bench/archive-analytics.ts                 # 100,000 jobs over 30 days
 *   ARCHIVE_ANALYTICS_JOBS=20000 npx tsx --expose-gc bench/archive-analytics.ts
 *
 * It makes a throw-away database (DATABASE_URL or the local server; dropped at the end), runs 1,000
 * real jobs through the memory backend and a worker (fails and retries: ECONNRESET twice for every
 * 3rd, a permanent error for every 10th, a dead-letter after 3 temporary failures for every 7th),
 * and archives them cloned N/1,000 times with new ids, each clone shifted back in time so that the
 * finish times spread over the last 30 days. Then: the plans and median times (of 3) of the
 * analytics for windows of 1 d and 30 d, and of the what-if and the audit over every job (limit
 * 100,000, pages of 500), with the heap growth they cause.
 * @module
 */
import pg from 'pg';

import { PgArchive } from '../src/archive/pg-archive.js';
import { MemoryBackend } from '../src/backends/memory/memory-backend.js';
import { PermanentError, TemporaryError } from '../src/errors.js';
import { Queue } from '../src/queue.js';
import type { Attempt, Job } from '../src/types.js';
import { Worker } from '../src/worker.js';

const N = Number(process.env.ARCHIVE_ANALYTICS_JOBS ?? 100_000);
const BASE = 1000;
const SPAN_MS = 30 * 86_400_000;
const serverUrl = process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

function shiftAttempt(a: Attempt, d: number): Attempt {
  const dec = a.decision;
  return {
    ...a,
    dueAt: a.dueAt + d,
    startedAt: a.startedAt + d,
    finishedAt: a.finishedAt + d,
    decision: dec.action === 'retry' ? { ...dec, nextDueAt: dec.nextDueAt + d } : dec,
  };
}

function clone(j: Job, id: string, d: number): Job {
  return {
    ...j,
    id,
    createdAt: j.createdAt + d,
    ...(j.finishedAt !== undefined ? { finishedAt: j.finishedAt + d } : {}),
    ...(j.dead ? { dead: { ...j.dead, at: j.dead.at + d } } : {}),
    attempts: j.attempts.map((a) => shiftAttempt(a, d)),
  } as Job;
}

async function median(label: string, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(`${label}: median ${times[1]!.toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')})`);
  return times[1]!;
}

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  // ARCHIVE_ANALYTICS_KEEP=1: keep the database (named by the job count) for another run.
  const keep = process.env.ARCHIVE_ANALYTICS_KEEP === '1';
  const database = keep ? `retraced_bench_analytics_keep_${N}` : `retraced_bench_analytics_${process.pid}`;
  const exists =
    keep && (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;
  if (!exists) await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const archive = new PgArchive({ connection: url.toString(), poolSize: 2 });
  const backend = new MemoryBackend();
  try {
    await archive.migrate();
    const q = new Queue('bench', { backend, archive });
    await q.ready();
    const w = new Worker(
      q,
      async (job) => {
        const k = (job.data as { k: number }).k;
        if (k % 10 === 1) throw new PermanentError(`invalid order ${k}`, { code: 'EINVAL' });
        if (k % 7 === 2) throw new TemporaryError(`upstream 503 for ${k}`, { code: 'EUNAVAILABLE' });
        if (k % 3 === 0 && job.attempt < 3) {
          throw new TemporaryError(`reset by 10.0.${k % 250}.1`, { code: 'ECONNRESET' });
        }
        return k;
      },
      { concurrency: 50 },
    );
    w.on('error', () => undefined);
    const names = ['email', 'sms', 'push', 'invoice', 'report'];
    await q.addBulk(
      Array.from({ length: BASE }, (_, k) => ({
        name: names[k % names.length]!,
        data: { k },
        options: {
          retry: {
            attempts: 3,
            backoff: { type: 'exponential' as const, delayMs: 2, jitter: 'full' as const },
          },
        },
      })),
    );
    for (;;) {
      const c = await q.counts();
      if (c.completed + c.dead === BASE) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await w.close();
    const base: Job[] = [];
    for (const state of ['completed', 'dead'] as const) {
      for (let off = 0; ; off += 500) {
        const page = await backend.listJobs('bench', state, { offset: off, limit: 500 });
        base.push(...page);
        if (page.length < 500) break;
      }
    }
    const clones = exists ? 0 : Math.ceil(N / BASE);
    const t0 = performance.now();
    for (let c = 0; c < clones; c++) {
      const d = -Math.round((c * SPAN_MS) / clones);
      await archive.write(
        'bench',
        base.map((j) => clone(j, `${c}-${j.id}`, d)),
      );
    }
    await archive.pool.query('VACUUM ANALYZE');
    const stats = await archive.stats();
    console.log(
      `archive: ${int(stats.jobs)} jobs, ${int(stats.attempts)} attempts, ${int(stats.bytes / 1e6)} MB (written in ${int(performance.now() - t0)} ms)`,
    );

    // The SQL each call runs, for EXPLAIN.
    const seen: { text: string; values: unknown[] }[] = [];
    const query = archive.pool.query.bind(archive.pool) as (t: string, v?: unknown[]) => Promise<unknown>;
    (archive.pool as unknown as { query: unknown }).query = (text: string, values?: unknown[]) => {
      seen.push({ text, values: values ?? [] });
      return query(text, values);
    };
    const explain = async (label: string, call: () => Promise<unknown>, which = 0): Promise<void> => {
      seen.length = 0;
      await call();
      const s = seen[which]!;
      const r = (await query(`EXPLAIN (ANALYZE, BUFFERS) ${s.text}`, s.values)) as {
        rows: { 'QUERY PLAN': string }[];
      };
      const plan = r.rows.map((x) => x['QUERY PLAN']);
      const scans = plan.filter((l) => /Scan/.test(l)).map((l) => l.trim().replace(/\s+\(cost.*$/, ''));
      console.log(`\n${label}: ${plan[plan.length - 1]?.trim()}`);
      for (const l of [...new Set(scans)]) console.log(`  ${l}`);
    };
    await explain('analytics 30d', () => q.analytics({ source: 'archive', window: '30d' }));
    await explain('analytics 1d', () => q.analytics({ source: 'archive', window: '1d' }));
    await explain('analytics 1d, one name', () =>
      q.analytics({ source: 'archive', window: '1d', name: 'sms' }),
    );
    await explain('what-if page 1', () => q.whatIf({ source: 'archive', limit: 500, seed: 1 }));
    await explain('what-if page 3 (keyset)', () => q.whatIf({ source: 'archive', limit: 1500, seed: 1 }), 2);
    await explain(
      'what-if by name, page 2',
      () => q.whatIf({ source: 'archive', limit: 1000, seed: 1, filter: { name: 'sms' } }),
      1,
    );
    await explain('audit drifts', () => q.audit({ source: 'archive', limit: 100_000 }));
    (archive.pool as unknown as { query: unknown }).query = query;

    console.log();
    await median('analytics 30d (every job)', () => q.analytics({ source: 'archive', window: '30d' }));
    await median('analytics 30d by fingerprint', () =>
      q.analytics({ source: 'archive', window: '30d', by: 'fingerprint' }),
    );
    await median('analytics 1d', () => q.analytics({ source: 'archive', window: '1d' }));
    await median('analytics 1h', () => q.analytics({ source: 'archive', window: '1h' }));
    // Live heap at each page boundary (after a full GC): what the streaming keeps (its fold's state),
    // against the heap of every job held at once (what reading them whole, as from Redis, needs).
    const gc = (globalThis as { gc?: () => void }).gc;
    const heap = async (label: string, fn: () => Promise<unknown>): Promise<void> => {
      await median(label, fn);
      if (!gc) return;
      const page = archive.recordedPage.bind(archive);
      let maxLive = 0;
      gc();
      const before = process.memoryUsage().heapUsed;
      archive.recordedPage = (...args) => {
        gc();
        maxLive = Math.max(maxLive, process.memoryUsage().heapUsed - before);
        return page(...args);
      };
      await fn();
      archive.recordedPage = page;
      console.log(
        `  live heap at page boundaries (after GC): at most ${(maxLive / 1e6).toFixed(1)} MB over the start`,
      );
    };
    if (gc) {
      gc();
      const before = process.memoryUsage().heapUsed;
      const all: Job[] = [];
      const scope = { from: undefined, to: undefined, name: undefined, limit: 100_000 };
      let after: { finishedAt: number; id: string } | undefined;
      do {
        const p = await archive.recordedPage('bench', scope, after, 500);
        all.push(...p.jobs);
        after = p.next;
      } while (after);
      gc();
      console.log(
        `every archived job held at once (${int(all.length)}): ${((process.memoryUsage().heapUsed - before) / 1e6).toFixed(0)} MB of heap`,
      );
      all.length = 0;
    }
    await heap('what-if over 100,000 archived jobs (--attempts 2)', () =>
      q.whatIf({ source: 'archive', limit: 100_000, attempts: 2, seed: 1 }),
    );
    await heap('audit over 100,000 archived jobs', () => q.audit({ source: 'archive', limit: 100_000 }));
  } finally {
    await archive.close();
    await backend.close();
    if (!keep) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
