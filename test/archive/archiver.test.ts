/**
 * The archive against a real PostgreSQL (a throw-away database, see test/helpers/pg-global-setup.ts),
 * on the memory backend and on Redis: what is archived, exactly once; what is read back, field by
 * field equal to what the backend held; retention holding what is not archived yet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Archiver } from '../../src/archive/archiver.js';
import { PgArchive } from '../../src/archive/pg-archive.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/archive/schema.js';
import type { Backend } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { PermanentError, RateLimitError, TemporaryError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import { specText } from '../../src/schedule.js';
import { SchedulerLoop } from '../../src/scheduler-loop.js';
import type { Job } from '../../src/types.js';
import { Worker } from '../../src/worker.js';
import { waitForState, waitUntil } from '../conformance/context.js';
import { describeArchive, pgUrl, uniqueSchema } from '../helpers/pg.js';
import { cleanupKeys, redisUrl, uniquePrefix } from '../helpers/redis.js';

describeArchive('archive schema', () => {
  it('migrates once, whoever runs it, however many at once', async () => {
    const schema = uniqueSchema();
    const archives = [0, 1, 2].map(() => new PgArchive({ connection: pgUrl()!, schema, poolSize: 1 }));
    try {
      expect(await Promise.all(archives.map((a) => a.migrate()))).toEqual(
        [1, 1, 1].map(() => SCHEMA_VERSION),
      );
      expect(await archives[0]!.migrate()).toBe(SCHEMA_VERSION);
      const r = await archives[0]!.pool.query(
        `SELECT version FROM "${schema}".schema_version ORDER BY version`,
      );
      expect(r.rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    } finally {
      await Promise.all(archives.map((a) => a.close()));
    }
  });

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => new PgArchive({ connection: pgUrl()!, schema: 'x"; DROP TABLE y; --' })).toThrow(/schema/);
  });
});

const targets: { name: string; backend: () => Backend; needsRedis: boolean }[] = [
  { name: 'memory', backend: () => new MemoryBackend(), needsRedis: false },
  {
    name: 'redis',
    backend: () => new RedisBackend({ connection: redisUrl()!, prefix: uniquePrefix() }),
    needsRedis: true,
  },
];

for (const target of targets) {
  describeArchive(
    `archive on ${target.name}`,
    () => {
      let backend: Backend;
      let archive: PgArchive;
      let n = 0;
      const queueName = (): string => `arc${++n}`;

      beforeAll(async () => {
        backend = target.backend();
        archive = new PgArchive({ connection: pgUrl()!, schema: uniqueSchema() });
        await archive.migrate();
      });
      afterAll(async () => {
        await archive?.close();
        if (backend instanceof RedisBackend) await cleanupKeys(redisUrl()!, `${backend.prefix}:*`);
        await backend?.close();
      });

      /** Runs a few jobs to each finished state; returns their ids. */
      async function story(q: Queue): Promise<string[]> {
        const w = new Worker(
          q,
          async (job) => {
            const d = job.data as { kind: string };
            if (d.kind === 'perm') throw new PermanentError('bad \u0000 input', { code: 'EINVAL' });
            if (d.kind === 'flaky' && job.attempt < 2) {
              throw new TemporaryError('try again', { code: 'EAGAIN' });
            }
            return { ok: d.kind };
          },
          { leaseMs: 5000, concurrency: 4 },
        );
        w.on('error', () => undefined);
        const ids: string[] = [];
        for (const kind of ['ok', 'perm', 'flaky']) {
          ids.push(
            (await q.add(kind, { kind }, { retry: { attempts: 3, backoff: { type: 'immediate' } } })).id,
          );
        }
        const late = await q.add('late', { kind: 'ok' }, { delay: 60_000 });
        await q.cancel(late.id, { by: 'ops', reason: 'not needed' });
        ids.push(late.id);
        for (const id of ids.slice(0, 3)) await waitForState(q, id, ['completed', 'dead']);
        await w.close();
        return ids;
      }

      it('archives every finished job with its attempts, equal field by field to what the backend held', async () => {
        const q = new Queue(queueName(), { backend });
        const ids = await story(q);
        const before = await Promise.all(ids.map((id) => q.getJob(id)));
        const archiver = new Archiver({ backend, archive, queues: [q.name] });
        expect(await archiver.drain()).toBe(4);
        expect(archiver.stats).toMatchObject({ archived: 4, attempts: 4, skipped: 0 });
        for (const [i, id] of ids.entries()) {
          const held = before[i] as Job;
          expect(await archive.getJob(q.name, id)).toEqual({ ...held, archived: true });
        }
        expect((await backend.archiveStatus(q.name)).pending).toBe(0);
        expect(await archiver.drain()).toBe(0);
      });

      it('once archived, jobs evicted from the backend are read from the archive by the queue', async () => {
        const name = queueName();
        const q = new Queue(name, {
          backend,
          archive,
          retention: { completed: { count: 0 }, dead: { count: 0 }, cancelled: { count: 0 } },
        });
        await q.ready();
        await backend.setArchive(name, true);
        const ids = await story(q);
        // Held: nothing is evicted before it is archived.
        expect((await q.counts()).completed).toBe(2);
        expect((await backend.archiveStatus(name)).held).toEqual({ completed: 2, dead: 1, cancelled: 1 });
        const before = await Promise.all(ids.map((id) => backend.getJob(name, id)));
        await new Archiver({ backend, archive, queues: [name] }).drain();
        await backend.sweepRetention(name, { intervalMs: 1, max: 100 });
        expect(await q.evictions()).toEqual({ completed: 2, dead: 1, cancelled: 1 });
        for (const [i, id] of ids.entries()) {
          expect(await backend.getJob(name, id)).toBeNull();
          expect(await q.getJob(id)).toEqual({ ...before[i], archived: true });
          expect(await q.history(id)).toEqual(before[i]!.attempts);
        }
        expect(await q.getJob('nope')).toBeNull();
      });

      it('writes each job once however often a batch is written again; a replay appends its new attempts', async () => {
        const q = new Queue(queueName(), { backend });
        const ids = await story(q);
        const jobs = (await Promise.all(ids.map((id) => q.getJob(id)))) as Job[];
        expect(await archive.write(q.name, jobs)).toEqual({ jobs: 4, attempts: 4 });
        expect(await archive.write(q.name, jobs)).toEqual({ jobs: 4, attempts: 0 });
        const dead = jobs.find((j) => j.state === 'dead')!;
        await q.dlq.replay(dead.id, { by: 'ops', patch: { kind: 'ok' } });
        const w = new Worker(q, async () => 'fixed', { leaseMs: 5000 });
        w.on('error', () => undefined);
        const done = await waitForState(q, dead.id, 'completed');
        await w.close();
        expect(await archive.write(q.name, [done])).toEqual({ jobs: 1, attempts: 1 });
        // An older read never replaces a newer one.
        expect(await archive.write(q.name, [dead])).toEqual({ jobs: 0, attempts: 0 });
        expect(await archive.getJob(q.name, dead.id)).toEqual({ ...done, archived: true });
        const r = await archive.pool.query(
          `SELECT count(*)::int AS n FROM "${archive.schema}".attempts WHERE queue = $1`,
          [q.name],
        );
        expect(r.rows[0].n).toBe(5);
      });

      it('archives text PostgreSQL text refuses (NUL, unpaired surrogates) and reads it back exactly', async () => {
        const q = new Queue(queueName(), { backend });
        const odd = 'a\u0000b\ud800c\udc00d';
        const w = new Worker(
          q,
          async () => {
            throw new PermanentError(`bad ${odd}`, { code: `E${odd}` });
          },
          { leaseMs: 5000 },
        );
        w.on('error', () => undefined);
        const job = await q.add('odd', { text: odd, [odd]: [odd] }, { retry: { attempts: 1 } });
        const dead = await waitForState(q, job.id, 'dead');
        await w.close();
        expect(await archive.write(q.name, [dead])).toEqual({ jobs: 1, attempts: 1 });
        expect(await archive.getJob(q.name, job.id)).toEqual({ ...dead, archived: true });
        const r = await archive.pool.query(
          `SELECT j.error_code AS jc, a.error_code AS ac FROM "${archive.schema}".jobs j
           JOIN "${archive.schema}".attempts a ON a.queue = j.queue AND a.job_id = j.id WHERE j.queue = $1`,
          [q.name],
        );
        const clean = 'ab\ufffdc\ufffdd';
        expect(r.rows).toEqual([{ jc: `E${clean}`, ac: `E${clean}` }]);
      });

      it('keeps every fact a job and its attempts record: priority, group and rate-limit waits, a handler pause, progress and logs, folded adds, scheduler origin, a budget deferral', async () => {
        const q = new Queue(queueName(), { backend });
        await q.setRateLimits({ group: { rate: 5, burst: 1 } });
        await q.setRetryBudget({ ratio: 0, windowMs: 10_000, minPerSecond: 1 });
        const paused = new Set<string>();
        const w = new Worker(
          q,
          async (job) => {
            const d = job.data as { kind: string };
            job.progress({ step: job.attempt });
            job.log(`attempt ${job.attempt} of ${d.kind}`);
            if (d.kind === 'upstream' && !paused.has(job.id)) {
              paused.add(job.id);
              throw new RateLimitError({ retryAfterMs: 50, scope: 'group' });
            }
            if (d.kind === 'flaky' && job.attempt === 1) throw new TemporaryError('blip', { code: 'EAGAIN' });
            return { done: d.kind };
          },
          { leaseMs: 5000, concurrency: 4 },
        );
        w.on('error', () => undefined);
        const retry = { attempts: 2, backoff: { type: 'immediate' as const } };
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          ids.push((await q.add('grouped', { kind: 'ok' }, { group: 'tenant-1', priority: 5 })).id);
        }
        ids.push((await q.add('upstream', { kind: 'upstream' }, { group: 'tenant-2' })).id);
        for (let i = 0; i < 3; i++) ids.push((await q.add('flaky', { kind: 'flaky' }, { retry })).id);
        const folded = await q.add('once', { kind: 'ok' }, { dedup: { key: 'k', ttlMs: 60_000 } });
        expect((await q.add('once', { kind: 'ok' }, { dedup: { key: 'k', ttlMs: 60_000 } })).id).toBe(
          folded.id,
        );
        ids.push(folded.id);
        const now = await backend.now();
        await q.schedule('every-minute', { every: 60_000 }, { name: 'tick', data: { kind: 'ok' } });
        // The same scheduler with its first run just past (a new spec moves the next run), ticked once.
        await backend.upsertScheduler(q.name, {
          ...(await backend.getScheduler(q.name, 'every-minute'))!,
          spec: specText({ every: 50_000 }),
          anchor: now - 50_010,
          nextRunAt: now - 10,
        });
        await new SchedulerLoop({ backend, queues: [q.name] }).tickQueue(q.name);
        const created = (await q.schedulerTicks('every-minute')).find((t) => t.outcome === 'created')?.jobId;
        expect(created).toBeDefined();
        ids.push(created!);
        for (const id of ids) await waitForState(q, id, ['completed', 'dead'], 15_000);
        await w.close();
        await q.removeScheduler('every-minute');
        const jobs = (await Promise.all(ids.map((id) => q.getJob(id)))) as Job[];
        // Each fact is there to lose (so that the comparison below means something).
        const attempts = jobs.flatMap((j) => j.attempts);
        expect(jobs.filter((j) => j.priority === 5)).toHaveLength(3);
        expect(jobs.filter((j) => j.group === 'tenant-1')).toHaveLength(3);
        expect(attempts.some((a) => a.rateLimit)).toBe(true);
        expect(attempts.some((a) => a.pause)).toBe(true);
        expect(attempts.every((a) => a.logs?.length === 1 && a.progress)).toBe(true);
        expect(jobs.find((j) => j.id === folded.id)?.folded?.count).toBe(1);
        expect(jobs.find((j) => j.id === created)?.scheduler?.id).toBe('every-minute');
        expect(attempts.some((a) => a.decision.action === 'retry' && a.decision.budget)).toBe(true);
        expect(await archive.write(q.name, jobs)).toEqual({ jobs: jobs.length, attempts: attempts.length });
        for (const job of jobs) {
          expect(await archive.getJob(q.name, job.id)).toEqual({ ...job, archived: true });
        }
      });

      it('several archivers at once archive each job once', async () => {
        const q = new Queue(queueName(), { backend });
        await backend.setArchive(q.name, true);
        await q.addBulk(Array.from({ length: 300 }, (_, i) => ({ name: 'n', data: i })));
        const w = new Worker(q, async () => null, { leaseMs: 5000, concurrency: 50 });
        w.on('error', () => undefined);
        await waitUntil(async () => (await q.counts()).completed === 300, '300 completed');
        await w.close();
        const archivers = [1, 2, 3].map(
          (i) =>
            new Archiver({ backend, archive, queues: [q.name], owner: `a${i}`, batchSize: 40, leaseMs: 50 }),
        );
        await Promise.all(archivers.map((a) => a.drain()));
        for (const a of archivers) await a.drain();
        const r = await archive.pool.query(
          `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM "${archive.schema}".jobs WHERE queue = $1`,
          [q.name],
        );
        expect(r.rows[0]).toEqual({ n: 300, d: 300 });
        expect((await backend.archiveStatus(q.name)).pending).toBe(0);
      });

      it('prunes archived jobs past the archive retention, counted', async () => {
        const q = new Queue(queueName(), { backend });
        const ids = await story(q);
        const jobs = (await Promise.all(ids.map((id) => q.getJob(id)))) as Job[];
        await archive.write(q.name, jobs);
        const pruned = (await archive.stats()).pruned;
        expect(await archive.prune(q.name, Math.min(...jobs.map((j) => j.finishedAt!)))).toBe(0);
        expect(await archive.prune(q.name, Date.now() + 60_000, 3)).toBe(4);
        expect((await archive.stats()).pruned).toBe(pruned + 4);
        expect(await archive.getJob(q.name, ids[0]!)).toBeNull();
        const r = await archive.pool.query(
          `SELECT count(*)::int AS n FROM "${archive.schema}".attempts WHERE queue = $1`,
          [q.name],
        );
        expect(r.rows[0].n).toBe(0);
      });

      it('runs until closed, archiving what finishes, and turns the archive on for its queues', async () => {
        const q = new Queue(queueName(), { backend });
        await q.add('n', 1);
        const archiver = new Archiver({ backend, archive, queues: [q.name], idleMs: 10 });
        await archiver.start();
        await waitUntil(async () => (await backend.archiveStatus(q.name)).enabled, 'archive on');
        const w = new Worker(q, async () => 'r', { leaseMs: 5000 });
        w.on('error', () => undefined);
        const id = (await q.add('n', 2)).id;
        await waitUntil(async () => (await archive.getJob(q.name, id))?.state === 'completed', 'archived');
        await w.close();
        await archiver.close();
        expect(archiver.stats.errors).toBe(0);
      });

      it('an archiver of every queue marks the backend archived: a queue created afterwards holds its jobs for it', async () => {
        const archiver = new Archiver({ backend, archive });
        await archiver.drain();
        expect(await backend.archiveDefault()).toBe(true);
        // A queue the archiver has not listed yet, with retention that keeps nothing.
        const q = new Queue(queueName(), { backend, retention: { completed: { count: 0 } } });
        await q.ready();
        const w = new Worker(q, async () => 'r', { leaseMs: 5000 });
        w.on('error', () => undefined);
        const id = (await q.add('n', 1)).id;
        await waitForState(q, id, 'completed');
        await w.close();
        expect(await q.evictions()).toEqual({ completed: 0, dead: 0, cancelled: 0 });
        expect(await archiver.drain()).toBe(1);
        await backend.sweepRetention(q.name, { intervalMs: 1, max: 10 });
        expect(await backend.getJob(q.name, id)).toBeNull();
        expect((await archive.getJob(q.name, id))?.state).toBe('completed');
        await backend.setArchiveDefault(false);
      });
    },
    { redis: target.needsRedis },
  );
}

describe.skipIf(!pgUrl())('archive is optional', () => {
  it('a queue without an archive reads as before', async () => {
    const q = new Queue('plain', { backend: new MemoryBackend() });
    expect(await q.getJob('x')).toBeNull();
  });
});
