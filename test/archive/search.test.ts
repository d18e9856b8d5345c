/**
 * Search over the archive (`Queue.searchJobs` with `source`, GET /queues/:q/jobs?source=): the
 * archive answers every filter of the backends' search in their order, and `all` merges the two
 * so that a queue whose older jobs were evicted answers as it would have with nothing evicted.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { Archiver } from '../../src/archive/archiver.js';
import { PgArchive } from '../../src/archive/pg-archive.js';
import type { Backend } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { PermanentError, TemporaryError } from '../../src/errors.js';
import { buildApp } from '../../src/http/app.js';
import type { JobQuery } from '../../src/job-index.js';
import { Queue, type SearchSource } from '../../src/queue.js';
import type { Job } from '../../src/types.js';
import { Worker } from '../../src/worker.js';
import { waitUntil } from '../conformance/context.js';
import { describeArchive, pgUrl, uniqueSchema } from '../helpers/pg.js';
import { cleanupKeys, redisUrl, uniquePrefix } from '../helpers/redis.js';

const targets: { name: string; backend: () => Backend; needsRedis: boolean }[] = [
  { name: 'memory', backend: () => new MemoryBackend(), needsRedis: false },
  {
    name: 'redis',
    backend: () => new RedisBackend({ connection: redisUrl()!, prefix: uniquePrefix() }),
    needsRedis: true,
  },
];

/** Every page of a search, `limit` at a time: the ids in order, and the jobs. */
async function all(q: Queue, query: JobQuery, source: SearchSource, limit: number): Promise<Job[]> {
  const out: Job[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const r = await q.searchJobs(query, { cursor, limit, source });
    out.push(...r.jobs);
    if (r.next === undefined) return out;
    cursor = r.next;
  }
  throw new Error('no end');
}

for (const target of targets) {
  describeArchive(
    `search over the archive on ${target.name}`,
    () => {
      let backend: Backend;
      let archive: PgArchive;
      let q: Queue;
      const queries: JobQuery[] = [
        { state: 'completed', name: 'a' },
        { state: 'completed', name: 'b' },
        { state: 'completed', minAttempts: 2 },
        { state: 'completed', errorCode: 'EAGAIN' },
        { state: 'completed', errorClass: 'temporary', name: 'b' },
        { state: 'completed', rule: 'code:EAGAIN' },
        { state: 'dead', errorClass: 'permanent' },
        { state: 'dead', name: 'a', text: '"k":1' },
        { state: 'dead', errorCode: 'EINVAL' },
        { state: 'completed', name: 'a', maxAttempts: 1 },
      ];
      const before = new Map<number, Job[]>();

      beforeAll(async () => {
        backend = target.backend();
        archive = new PgArchive({ connection: pgUrl()!, schema: uniqueSchema() });
        await archive.migrate();
        q = new Queue(`s${Date.now() % 100000}`, { backend, archive });
        await q.ready();
        const w = new Worker(
          q,
          async (job) => {
            const d = job.data as { k: number };
            if (d.k % 5 === 1) throw new PermanentError('bad input', { code: 'EINVAL' });
            if (d.k % 3 === 0 && job.attempt < 2) throw new TemporaryError('later', { code: 'EAGAIN' });
            return d.k;
          },
          { leaseMs: 5000, concurrency: 5 },
        );
        w.on('error', () => undefined);
        // One at a time: distinct creation times and a known order.
        for (let k = 0; k < 30; k++) {
          await q.add(k % 2 ? 'a' : 'b', { k }, { retry: { attempts: 2, backoff: { type: 'immediate' } } });
          await new Promise((r) => setTimeout(r, 2));
        }
        await waitUntil(async () => {
          const c = await q.counts();
          return c.completed + c.dead === 30;
        }, '30 finished');
        await w.close();
        // What the backend answers with nothing evicted: the reference.
        for (const [i, query] of queries.entries()) before.set(i, await all(q, query, 'live', 1000));
        // Archive everything, then evict all but the newest 8 completed and 2 dead.
        await new Archiver({ backend, archive, queues: [q.name] }).drain();
        await q.setRetention({ completed: { count: 8 }, dead: { count: 2 } });
        await backend.sweepRetention(q.name, { intervalMs: 1, max: 100 });
        const c = await q.counts();
        expect([c.completed, c.dead]).toEqual([8, 2]);
      });
      afterAll(async () => {
        await archive?.close();
        if (backend instanceof RedisBackend) await cleanupKeys(redisUrl()!, `${backend.prefix}:*`);
        await backend?.close();
      });

      it('all: the same jobs in the same order as before the evictions, 3 at a time; the evicted ones marked archived', async () => {
        let evicted = 0;
        for (const [i, query] of queries.entries()) {
          const ref = before.get(i)!;
          const got = await all(q, query, 'all', 3);
          expect(got.map((j) => j.id)).toEqual(ref.map((j) => j.id));
          for (const [k, j] of got.entries()) {
            const live = await backend.getJob(q.name, j.id);
            expect(j).toEqual(live ? ref[k] : { ...ref[k], archived: true });
            if (!live) evicted++;
          }
        }
        expect(evicted).toBeGreaterThan(10);
      });

      it('archive: every filter answered by the archive alone, in the search order', async () => {
        for (const [i, query] of queries.entries()) {
          const got = await all(q, query, 'archive', 2);
          expect(got.map((j) => j.id)).toEqual(before.get(i)!.map((j) => j.id));
          expect(got.every((j) => j.archived === true)).toBe(true);
        }
        // No indexed filter needed, and the time range is on the finish time.
        const dead = await all(q, { state: 'dead' }, 'archive', 100);
        expect(dead.map((j) => j.id).sort()).toEqual(
          (await all(q, { state: 'dead', errorClass: 'permanent' }, 'archive', 100)).map((j) => j.id).sort(),
        );
        const t = dead[2]!.finishedAt!;
        const late = await all(q, { state: 'dead', from: t }, 'archive', 100);
        expect(late.every((j) => j.finishedAt! >= t)).toBe(true);
        expect(late.length).toBe(dead.filter((j) => j.finishedAt! >= t).length);
        expect(await all(q, { state: 'waiting' }, 'archive', 10)).toEqual([]);
      });

      it('without an archive: archive finds nothing, all is live; a bad cursor is refused', async () => {
        const plain = new Queue(q.name, { backend });
        const query: JobQuery = { state: 'completed', name: 'a' };
        expect(await plain.searchJobs(query, { source: 'archive' })).toEqual({ jobs: [], next: undefined });
        expect(await plain.searchJobs(query, { source: 'all' })).toEqual(await plain.searchJobs(query));
        await expect(q.searchJobs({ state: 'dead' }, { source: 'archive', cursor: 'x' })).rejects.toThrow(
          /cursor/,
        );
      });

      it('GET /queues/:q/jobs?source=all and source=archive', async () => {
        const app = await buildApp({ backend, queueOptions: () => ({ archive }) });
        try {
          const url = (qs: string): string => `/queues/${q.name}/jobs?${qs}`;
          const ids: string[] = [];
          let cursor = '';
          for (;;) {
            const r = await app.inject({
              method: 'GET',
              url: url(`state=completed&name=a&source=all&limit=2${cursor}`),
            });
            expect(r.statusCode).toBe(200);
            const body = r.json() as {
              jobs: { id: string; archived?: boolean }[];
              nextCursor: string | null;
            };
            ids.push(...body.jobs.map((j) => j.id));
            if (!body.nextCursor) break;
            cursor = `&cursor=${body.nextCursor}`;
          }
          expect(ids).toEqual(before.get(0)!.map((j) => j.id));
          const arch = await app.inject({ method: 'GET', url: url('state=dead&source=archive') });
          expect(arch.statusCode).toBe(200);
          expect((arch.json() as { jobs: { archived?: boolean }[] }).jobs.every((j) => j.archived)).toBe(
            true,
          );
          // No indexed filter: the live dead jobs, then the archived ones Redis no longer holds.
          const dead: { id: string; archived?: boolean }[] = [];
          cursor = '';
          for (;;) {
            const r = await app.inject({ method: 'GET', url: url(`state=dead&source=all&limit=2${cursor}`) });
            expect(r.statusCode).toBe(200);
            const body = r.json() as {
              jobs: { id: string; archived?: boolean }[];
              nextCursor: string | null;
            };
            dead.push(...body.jobs);
            if (!body.nextCursor) break;
            cursor = `&cursor=${body.nextCursor}`;
          }
          const allDead = await all(q, { state: 'dead' }, 'archive', 100);
          expect(dead.map((j) => j.id).sort()).toEqual(allDead.map((j) => j.id).sort());
          expect(dead.filter((j) => !j.archived).length).toBe(2); // the 2 retention kept, first
          expect(dead.slice(0, 2).every((j) => !j.archived)).toBe(true);
        } finally {
          await app.close();
        }
        const bare = await buildApp({ backend });
        try {
          const r = await bare.inject({
            method: 'GET',
            url: `/queues/${q.name}/jobs?state=dead&source=archive`,
          });
          expect(r.statusCode).toBe(200);
          expect(r.json()).toEqual({ jobs: [], nextCursor: null });
        } finally {
          await bare.close();
        }
      });
    },
    { redis: target.needsRedis },
  );
}
