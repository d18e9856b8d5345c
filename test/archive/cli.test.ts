/**
 * The archive from the command line, against real Redis and PostgreSQL: `archive migrate`, `archive
 * run` (until SIGINT), `archive status`, and the in-process archiver of `server` / `worker` / `dev`
 * (`startArchive`) with `--archive-retain`. The commands run from source through tsx (this project
 * does not build dist/).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { Archiver } from '../../src/archive/archiver.js';
import { PgArchive } from '../../src/archive/pg-archive.js';
import { SCHEMA_VERSION } from '../../src/archive/schema.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { startArchive } from '../../src/cli/archive.js';
import { Output } from '../../src/cli/output.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { waitForState, waitUntil } from '../conformance/context.js';
import { describeArchive, pgUrl, uniqueSchema } from '../helpers/pg.js';
import { cleanupKeys, redisUrl, uniquePrefix } from '../helpers/redis.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'src', 'cli', 'main.ts');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `retraced …` from source; `stop()` sends SIGINT and resolves with how it ended. */
function cli(args: readonly string[]): {
  done: Promise<Run>;
  output: () => string;
  stop: () => Promise<Run>;
} {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RETRACED_')) env[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<Run>((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    done,
    output: () => stdout + stderr,
    stop: () => {
      child.kill('SIGINT');
      return done;
    },
  };
}

describeArchive(
  'the archive CLI',
  () => {
    const schema = uniqueSchema();
    const prefix = uniquePrefix();
    let backend: RedisBackend;
    let archive: PgArchive;
    const common = (): string[] => ['--postgres', pgUrl()!, '--archive-schema', schema];

    beforeAll(async () => {
      backend = new RedisBackend({ connection: redisUrl()!, prefix });
      archive = new PgArchive({ connection: pgUrl()!, schema });
      await archive.migrate();
    });
    afterAll(async () => {
      await archive?.close();
      await cleanupKeys(redisUrl()!, `${prefix}:*`);
      await backend?.close();
    });

    /** `n` jobs run to completion on a new queue. */
    async function finished(name: string, n: number): Promise<Queue> {
      const q = new Queue(name, { backend });
      const w = new Worker(q, () => 'ok', { concurrency: 4 });
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push((await q.add('job', { i })).id);
      for (const id of ids) await waitForState(q, id, 'completed');
      await w.close();
      return q;
    }

    it('archive migrate applies the schema, and again changes nothing', async () => {
      for (let i = 0; i < 2; i++) {
        const r = await cli(['archive', 'migrate', ...common(), '--json']).done;
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual({ schema, version: SCHEMA_VERSION });
      }
    });

    it('archive run archives the finished jobs of its queues until SIGINT, then says what it did; status agrees', async () => {
      const q = await finished('cli-run', 5);
      const run = cli([
        'archive',
        'run',
        '--redis',
        redisUrl()!,
        '--prefix',
        prefix,
        '--queues',
        q.name,
        ...common(),
      ]);
      await waitUntil(
        async () => ((await backend.archiveStatus(q.name)).pending === 0 ? true : undefined),
        'the archiver to archive the five jobs',
        30_000,
      );
      await waitUntil(
        async () => (/Ctrl-C to stop/.test(run.output()) ? true : undefined),
        'its banner',
        30_000,
      );
      const r = await run.stop();
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^archived 5 jobs \(5 new attempts\) in \d+ batches; pruned 0$/m);
      const ids = (await q.getJobs('completed')).map((j) => j.id);
      for (const id of ids) expect((await archive.getJob(q.name, id))?.state).toBe('completed');

      const status = await cli([
        'archive',
        'status',
        '--redis',
        redisUrl()!,
        '--prefix',
        prefix,
        ...common(),
        '--json',
      ]).done;
      expect(status.code).toBe(0);
      const s = JSON.parse(status.stdout) as {
        queues: { name: string; enabled: boolean; pending: number }[];
      };
      expect(s.queues.find((x) => x.name === q.name)).toMatchObject({ enabled: true, pending: 0 });
    });

    it('jobs show and jobs list read jobs retention evicted from the archive (--postgres with --redis), marked archived', async () => {
      const q = await finished('cli-read', 3);
      await backend.setArchive(q.name, true);
      expect(await new Archiver({ backend, archive, queues: [q.name] }).drain()).toBe(3);
      const [kept, ...gone] = (await q.getJobs('completed')).map((j) => j.id);
      await q.setRetention({ completed: { count: 1 } });
      await backend.sweepRetention(q.name, { intervalMs: 1, max: 100 });
      expect((await q.getJobs('completed')).map((j) => j.id)).toEqual([kept]);
      const redis = ['--redis', redisUrl()!, '--prefix', prefix];

      const show = await cli(['jobs', 'show', q.name, gone[0]!, ...redis, ...common()]).done;
      expect(show.stderr).toBe('');
      expect(show.code).toBe(0);
      expect(show.stdout).toContain('source the archive (retention evicted the job from Redis)');
      const without = await cli(['jobs', 'show', q.name, gone[0]!, ...redis]).done;
      expect(without.code).toBe(3); // not found: Redis alone no longer has it

      const all = await cli([
        'jobs',
        'list',
        q.name,
        '--state',
        'completed',
        '--source',
        'all',
        ...redis,
        ...common(),
        '--json',
      ]).done;
      expect(all.stderr).toBe('');
      expect(all.code).toBe(0);
      const jobs = (JSON.parse(all.stdout) as { jobs: { id: string; archived?: boolean }[] }).jobs;
      expect(jobs.map((j) => j.id).sort()).toEqual([kept, ...gone].sort());
      expect(
        jobs
          .filter((j) => j.archived)
          .map((j) => j.id)
          .sort(),
      ).toEqual([...gone].sort());
      const table = await cli([
        'jobs',
        'list',
        q.name,
        '--state',
        'completed',
        '--source',
        'archive',
        ...redis,
        ...common(),
      ]).done;
      expect(table.stdout).toMatch(new RegExp(`^${gone[0]} \\(archived\\)`, 'm'));
      const refused = await cli(['jobs', 'list', q.name, '--source', 'archive', ...redis, ...common()]).done;
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--source must be archive only with --state completed, dead, cancelled/);
    });

    it('the in-process archiver of server/worker/dev prunes the archive by --archive-retain', async () => {
      const q = await finished('cli-retain', 3);
      const first = new Archiver({ backend, archive, queues: [q.name] });
      expect(await first.drain()).toBe(3);
      await new Promise((r) => setTimeout(r, 20));
      const quiet = new Output({ stdout: { write: () => true }, stderr: { write: () => true } });
      // `release` (the archiver's own Redis connection in server/worker) runs when it cannot start,
      // and once it has stopped.
      let released = 0;
      const release = async (): Promise<void> => {
        released++;
      };
      await expect(
        startArchive(backend, pgUrl()!, { 'archive-retain': 'soon' }, quiet, undefined, release),
      ).rejects.toThrow(/--archive-retain/);
      expect(released).toBe(1);
      const running = await startArchive(
        backend,
        pgUrl()!,
        { 'archive-schema': schema, 'archive-retain': '10ms' },
        quiet,
        [q.name],
        release,
      );
      try {
        await waitUntil(
          async () => (running.archiver.stats.pruned >= 3 ? true : undefined),
          'the prune',
          10_000,
        );
      } finally {
        await running.close();
      }
      expect(released).toBe(2);
      for (const j of await q.getJobs('completed')) expect(await archive.getJob(q.name, j.id)).toBeNull();
    });
  },
  { redis: true },
);
