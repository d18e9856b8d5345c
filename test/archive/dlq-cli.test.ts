/**
 * The CLI's DLQ over the archive, talking to Redis directly with `--postgres`: `dlq list` and
 * `dlq groups --source all`, `dlq show` of an evicted dead job, `dlq replay` of one (restored from
 * the archive, then replayed), and `--postgres` refused over a server. The CLI runs from the
 * sources (node --import tsx), as the archive project does not build dist/.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { Archiver } from '../../src/archive/archiver.js';
import { PgArchive } from '../../src/archive/pg-archive.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { PermanentError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { waitUntil } from '../conformance/context.js';
import { describeArchive, pgUrl, uniqueSchema } from '../helpers/pg.js';
import { cleanupKeys, redisUrl, uniquePrefix } from '../helpers/redis.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RETRACED_')) env[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describeArchive(
  'retraced dlq … --source over the archive (--redis with --postgres)',
  () => {
    const prefix = uniquePrefix();
    const schema = uniqueSchema();
    let backend: RedisBackend;
    let archive: PgArchive;
    let q: Queue;
    const ids: string[] = [];
    const conn = (): string[] => ['--redis', redisUrl()!, '--prefix', prefix];
    const pg = (): string[] => ['--postgres', pgUrl()!, '--archive-schema', schema];

    beforeAll(async () => {
      backend = new RedisBackend({ connection: redisUrl()!, prefix });
      archive = new PgArchive({ connection: pgUrl()!, schema });
      await archive.migrate();
      q = new Queue('mail', { backend, archive });
      await q.ready();
      const w = new Worker(
        q,
        async () => {
          throw new PermanentError('mailbox 7 full', { code: 'EFULL' });
        },
        { leaseMs: 5000 },
      );
      w.on('error', () => undefined);
      for (let k = 0; k < 3; k++) {
        ids.push((await q.add('send', { k })).id);
        await waitUntil(async () => (await q.counts()).dead === k + 1, `${k + 1} dead`);
      }
      await w.close();
      await new Archiver({ backend, archive, queues: ['mail'] }).drain();
      await q.setRetention({ dead: { count: 1 } });
      await backend.sweepRetention('mail', { intervalMs: 1, max: 10 });
      expect((await q.counts()).dead).toBe(1);
    });
    afterAll(async () => {
      await archive?.close();
      await cleanupKeys(redisUrl()!, `${prefix}:*`);
      await backend?.close();
    });

    it('lists and groups over both, each job once; shows and replays an evicted one', async () => {
      const list = await cli(['dlq', 'list', 'mail', ...conn(), ...pg(), '--source', 'all', '--json']);
      expect(list.stderr).toBe('');
      const page = JSON.parse(list.stdout) as { jobs: { id: string; archived?: boolean }[] };
      expect(page.jobs.map((j) => [j.id, j.archived === true])).toEqual([
        [ids[2], false],
        [ids[1], true],
        [ids[0], true],
      ]);
      const groups = await cli(['dlq', 'groups', 'mail', ...conn(), ...pg(), '--source', 'all', '--json']);
      const g = JSON.parse(groups.stdout) as { groups: { count: number; archived: number }[] };
      expect(g.groups.map((x) => [x.count, x.archived])).toEqual([[3, 2]]);
      // Without the archive, Redis alone.
      const live = await cli(['dlq', 'list', 'mail', ...conn(), '--json']);
      expect((JSON.parse(live.stdout) as { jobs: unknown[] }).jobs).toHaveLength(1);

      const show = await cli(['dlq', 'show', 'mail', ids[0]!, ...conn(), ...pg()]);
      expect(show.code).toBe(0);
      expect(show.stdout).toContain('the archive (retention evicted the job from Redis)');

      const replay = await cli([
        'dlq',
        'replay',
        'mail',
        ids[0]!,
        '--by',
        'ada',
        '--yes',
        ...conn(),
        ...pg(),
      ]);
      expect(replay.stderr).toBe('');
      expect(replay.code).toBe(0);
      const job = await backend.getJob('mail', ids[0]!);
      expect(job?.state).toBe('waiting');
      expect(job?.pendingManual?.by).toBe('ada');
      expect(job?.attempts).toHaveLength(1);
    });

    it('refuses --postgres over a server, and a bad --source, naming the flag', async () => {
      const http = await cli(['dlq', 'list', 'mail', '--url', 'http://127.0.0.1:9', ...pg()]);
      expect(http.code).toBe(2);
      expect(http.stderr).toContain('--postgres reads the archive with --redis');
      const bad = await cli(['dlq', 'list', 'mail', ...conn(), '--source', 'both']);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('--source');
    });
  },
  { redis: true },
);
