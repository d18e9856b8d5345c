/**
 * Archive throughput (`npm run bench:archive`): does the archiver keep up with the fastest
 * processing scenario (c100: one worker, concurrency 100, no-op jobs)? Own redis-server (free port,
 * no persistence) and a throw-away PostgreSQL database (DATABASE_URL or the local server), dropped
 * at the end. N jobs per phase (ARCHIVE_BENCH_JOBS, default 100,000), each phase on its own queue:
 *
 *   1. c100 alone, no archive: the processing rate;
 *   2. the archiver alone: those N completed jobs archived (turning the archive on notes them all);
 *   3. c100 with the archiver running in the same process (`retraced server|worker --postgres`);
 *   4. c100 with the archiver in its own process (`retraced archive run`, the CLI).
 *
 * Phases 3 and 4 report both rates over the processing window, the archive backlog (jobs finished
 * and not archived yet, sampled every 250 ms) over time, its peak, where it stood when processing
 * ended and how long it took to reach 0 after. CPU per 1,000 jobs of Node (this process and the
 * archiver's), Redis and PostgreSQL (the backends of the bench's database and the WAL writer,
 * checkpointer and background writer; /proc): what bounds it when the cores are shared. Last,
 * PostgreSQL bytes per archived job (tables, indexes, TOAST). Rates drift with the machine (the
 * load average is printed): compare within one run.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { Archiver } from '../src/archive/archiver.js';
import { PgArchive } from '../src/archive/pg-archive.js';
import { RedisBackend } from '../src/backends/redis/redis-backend.js';
import { Queue } from '../src/queue.js';
import { Worker } from '../src/worker.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

const N = Number(process.env.ARCHIVE_BENCH_JOBS ?? 100_000);
const serverUrl = process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
const SAMPLE_MS = 250;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const load = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

/** utime + stime of a process in ms (/proc; 0 when gone or elsewhere). */
function cpuMs(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // CLK_TCK 100 on Linux
  } catch {
    return 0;
  }
}

interface Cpu {
  node: number;
  redis: number;
  pg: number;
}

/** CPU of this process, the archiver process, redis-server and the bench database's PostgreSQL. */
class CpuMeter {
  readonly #pg: Map<number, number> = new Map();
  #child: number | undefined;
  #start: Cpu & { child: number } = { node: 0, redis: 0, pg: 0, child: 0 };

  constructor(
    readonly admin: pg.Client,
    readonly database: string,
    readonly redisPid: number,
  ) {}

  async #pgPids(): Promise<number[]> {
    const r = await this.admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1
         OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
      [this.database],
    );
    return r.rows.map((x) => x.pid);
  }

  async start(child?: number): Promise<void> {
    this.#child = child;
    this.#pg.clear();
    for (const pid of await this.#pgPids()) this.#pg.set(pid, cpuMs(pid));
    const self = process.cpuUsage();
    this.#start = {
      node: (self.user + self.system) / 1000,
      child: child ? cpuMs(child) : 0,
      redis: cpuMs(this.redisPid),
      pg: 0,
    };
  }

  /** CPU ms per 1,000 jobs since `start`. */
  async per1k(jobs: number): Promise<Cpu> {
    let pgMs = 0;
    const pids = new Set([...this.#pg.keys(), ...(await this.#pgPids())]);
    for (const pid of pids) {
      const now = cpuMs(pid);
      // A connection closed since (idle in the pool) is left out: its time is unknown.
      if (now > 0) pgMs += Math.max(0, now - (this.#pg.get(pid) ?? 0));
    }
    const self = process.cpuUsage();
    const node =
      (self.user + self.system) / 1000 -
      this.#start.node +
      (this.#child ? cpuMs(this.#child) - this.#start.child : 0);
    const k = jobs / 1000;
    return { node: node / k, redis: (cpuMs(this.redisPid) - this.#start.redis) / k, pg: pgMs / k };
  }
}

const cpuText = (c: Cpu): string =>
  `CPU ms/1k jobs: Node ${c.node.toFixed(1)}, Redis ${c.redis.toFixed(1)}, PostgreSQL ${c.pg.toFixed(1)}, total ${(c.node + c.redis + c.pg).toFixed(1)}`;

async function addJobs(q: Queue, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    await q.addBulk(
      Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ name: 'n', data: { i: i + j } })),
    );
  }
}

/** Processes the `n` waiting jobs of `q` at c100; returns the time it took (ms). */
async function processAll(q: Queue, n: number): Promise<number> {
  const start = performance.now();
  const w = new Worker(q, async () => null, { concurrency: 100, leaseMs: 30_000 });
  w.on('error', () => undefined);
  let completed = 0;
  w.on('completed', () => {
    completed++;
  });
  while (completed < n) await sleep(5);
  const ms = performance.now() - start;
  await w.close();
  return ms;
}

interface Sample {
  readonly at: number;
  readonly pending: number;
}

/** c100 over N jobs of `queue` while an archiver (already running) archives it. */
async function withArchiver(
  label: string,
  backend: RedisBackend,
  queue: string,
  cpu: CpuMeter,
  child?: number,
): Promise<void> {
  const q = new Queue(queue, { backend });
  await addJobs(q, N);
  const samples: Sample[] = [];
  let sampling = true;
  const t0 = performance.now();
  const sampler = (async () => {
    while (sampling) {
      samples.push({ at: performance.now() - t0, pending: (await backend.archiveStatus(queue)).pending });
      await sleep(SAMPLE_MS);
    }
  })();
  await cpu.start(child);
  const ms = await processAll(q, N);
  const endPending = (await backend.archiveStatus(queue)).pending;
  const endAt = performance.now();
  while ((await backend.archiveStatus(queue)).pending > 0) await sleep(10);
  const drainMs = performance.now() - endAt;
  const c = await cpu.per1k(N);
  sampling = false;
  await sampler;
  const peak = Math.max(endPending, ...samples.map((s) => s.pending));
  const processRate = (N / ms) * 1000;
  const archiveRate = ((N - endPending) / ms) * 1000;
  console.log(`\n${label} (load ${load()})`);
  console.log(
    `  c100 ${int(processRate)} jobs/s; archived ${int(archiveRate)} jobs/s over the same ${int(ms)} ms (${(archiveRate / processRate).toFixed(2)}× c100)`,
  );
  console.log(
    `  backlog: peak ${int(peak)}, ${int(endPending)} when processing ended, 0 ${int(drainMs)} ms later; ${int((N / (ms + drainMs)) * 1000)} jobs/s processed and archived`,
  );
  const every = Math.max(1, Math.round(samples.length / 12));
  console.log(
    `  backlog over time: ${samples
      .filter((_, i) => i % every === 0)
      .map((s) => `${(s.at / 1000).toFixed(1)}s ${int(s.pending)}`)
      .join(', ')}`,
  );
  console.log(`  ${cpuText(c)}`);
}

async function main(): Promise<void> {
  console.log(`archive bench: ${N} jobs per phase, ${os.cpus().length} cores, load ${load()}`);
  const redis = await startRedisServer();
  const database = `retraced_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  const pgUrl = u.toString();
  const backend = new RedisBackend({ connection: redis.url });
  const archive = new PgArchive({ connection: pgUrl });
  const cpu = new CpuMeter(admin, database, redis.pid);
  try {
    await archive.migrate();

    const alone = new Queue('alone', { backend });
    await addJobs(alone, N);
    await cpu.start();
    const c100 = (N / (await processAll(alone, N))) * 1000;
    console.log(`\nc100 processing, no archive (load ${load()})`);
    console.log(`  ${int(c100)} jobs/s; ${cpuText(await cpu.per1k(N))}`);

    const archiver = new Archiver({ backend, archive, queues: ['alone'] });
    await cpu.start();
    let start = performance.now();
    const drained = await archiver.drain();
    const drainRate = (drained / (performance.now() - start)) * 1000;
    console.log(`\nthe archiver alone: ${drained} completed jobs (load ${load()})`);
    console.log(
      `  ${int(drainRate)} jobs/s (${(drainRate / c100).toFixed(2)}× c100 alone); ${cpuText(await cpu.per1k(drained))}`,
    );

    // On a Redis connection of its own, as `retraced server|worker --postgres` run it.
    const own = new RedisBackend({ connection: redis.url });
    const inProcess = new Archiver({ backend: own, archive, queues: ['inproc'] });
    await inProcess.start();
    await withArchiver('c100 with the archiver in the same process', backend, 'inproc', cpu);
    await inProcess.close();
    await own.close();

    const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
    const proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        cli,
        'archive',
        'run',
        '--redis',
        redis.url,
        '--postgres',
        pgUrl,
        '--queues',
        'sep',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    try {
      start = performance.now();
      while (!(await backend.archiveStatus('sep')).enabled) {
        if (proc.exitCode !== null) throw new Error(`retraced archive run exited (${proc.exitCode})`);
        if (performance.now() - start > 30_000) throw new Error('retraced archive run did not start');
        await sleep(50);
      }
      await withArchiver(
        'c100 with the archiver in its own process (retraced archive run)',
        backend,
        'sep',
        cpu,
        proc.pid,
      );
    } finally {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }

    const stats = await archive.stats();
    console.log(
      `\nPostgreSQL: ${int(stats.bytes)} bytes for ${int(stats.jobs)} jobs, ${int(stats.attempts)} attempts: ${int(stats.bytes / stats.jobs)} bytes/job (tables, indexes, TOAST)`,
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
