/**
 * The DLQ over the archive (`dlq.page`, `dlq.groups`, `dlq.get` with `source`, and the API's
 * GET /queues/:q/dlq and /dlq/groups with `source`): dead jobs retention evicted from the backend
 * are still listed, filtered and grouped; `all` answers as the backend did before the evictions,
 * each job once (a dead job is archived before eviction, so the kept ones are in both).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { Archiver } from '../../src/archive/archiver.js';
import { PgArchive } from '../../src/archive/pg-archive.js';
import type { Backend } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import type { DeadListed, DlqFilter, DlqGroup } from '../../src/dlq.js';
import { PermanentError } from '../../src/errors.js';
import { buildApp } from '../../src/http/app.js';
import { Queue, type SearchSource } from '../../src/queue.js';
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

const N = 24;
const KEPT = 4;

/** Every page of the DLQ from `source`, `limit` at a time. */
async function every(
  q: Queue,
  filter: DlqFilter,
  source: SearchSource,
  limit: number,
): Promise<DeadListed[]> {
  const out: DeadListed[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 200; i++) {
    const r = await q.dlq.page(filter, { source, cursor, limit });
    expect(r.jobs.length).toBeLessThanOrEqual(limit);
    out.push(...r.jobs);
    if (r.next === undefined) return out;
    cursor = r.next;
  }
  throw new Error('no end');
}

const strip = (gs: DlqGroup[]): Omit<DlqGroup, 'archived'>[] => gs.map(({ archived: _a, ...g }) => g);

for (const target of targets) {
  describeArchive(
    `the DLQ over the archive on ${target.name}`,
    () => {
      let backend: Backend;
      let archive: PgArchive;
      let q: Queue;
      const filters: DlqFilter[] = [
        {},
        { name: 'a' },
        { errorCode: 'EINVAL' },
        { reason: 'permanent' },
        { name: 'b', errorCode: 'EAUTH' },
      ];
      const before = new Map<number, DeadListed[]>();
      let groupsBefore: DlqGroup[] = [];
      let filteredGroupsBefore: DlqGroup[] = [];
      let times: number[] = [];

      beforeAll(async () => {
        backend = target.backend();
        archive = new PgArchive({ connection: pgUrl()!, schema: uniqueSchema() });
        await archive.migrate();
        q = new Queue(`d${Date.now() % 100000}`, { backend, archive });
        await q.ready();
        const w = new Worker(
          q,
          async (job) => {
            const d = job.data as { k: number };
            // Distinct dead-letter times: the reference order is then the same on every backend.
            await new Promise((r) => setTimeout(r, 3));
            if (d.k % 3 === 0) throw new PermanentError(`bad input for order ${d.k}`, { code: 'EINVAL' });
            if (d.k % 3 === 1) throw new PermanentError('not allowed', { code: 'EAUTH' });
            throw new PermanentError(`gone: /items/${d.k}x`, { code: 'EGONE' });
          },
          { leaseMs: 5000, concurrency: 1 },
        );
        w.on('error', () => undefined);
        for (let k = 0; k < N; k++) await q.add(k % 2 ? 'a' : 'b', { k });
        await waitUntil(async () => (await q.counts()).dead === N, `${N} dead`);
        await w.close();
        // The reference: what the backend answers with nothing evicted.
        for (const [i, f] of filters.entries()) before.set(i, await every(q, f, 'live', 1000));
        groupsBefore = await q.dlq.groups();
        filteredGroupsBefore = await q.dlq.groups({ name: 'a' });
        times = before.get(0)!.map((s) => s.at);
        expect(new Set(times).size).toBe(N);
        // Archive everything, then evict all but the newest KEPT dead jobs.
        await new Archiver({ backend, archive, queues: [q.name], owner: 'archiver-1' }).drain();
        await q.setRetention({ dead: { count: KEPT } });
        await backend.sweepRetention(q.name, { intervalMs: 1, max: 100 });
        expect((await q.counts()).dead).toBe(KEPT);
      });
      afterAll(async () => {
        await archive?.close();
        if (backend instanceof RedisBackend) await cleanupKeys(redisUrl()!, `${backend.prefix}:*`);
        await backend?.close();
      });

      it('live: only the dead jobs retention kept', async () => {
        expect((await every(q, {}, 'live', 10)).map((s) => s.id)).toEqual(
          before
            .get(0)!
            .slice(0, KEPT)
            .map((s) => s.id),
        );
        expect((await q.dlq.groups()).reduce((n, g) => n + g.count, 0)).toBe(KEPT);
      });

      it('all: every filter lists as before the evictions, 3 at a time, each job once; evicted ones marked archived', async () => {
        for (const [i, f] of filters.entries()) {
          const ref = before.get(i)!;
          expect(ref.length).toBeGreaterThan(0);
          const got = await every(q, f, 'all', 3);
          expect(got.map((s) => s.id)).toEqual(ref.map((s) => s.id));
          const kept = new Set(
            before
              .get(0)!
              .slice(0, KEPT)
              .map((s) => s.id),
          );
          for (const [k, s] of got.entries()) {
            expect(s).toEqual(kept.has(s.id) ? ref[k] : { ...ref[k], archived: true });
          }
        }
        // A time range: the same jobs as the backend had in it.
        const [from, to] = [times[N - 3]!, times[2]!];
        const ranged = await every(q, { from, to }, 'all', 5);
        expect(ranged.map((s) => s.id)).toEqual(
          before
            .get(0)!
            .filter((s) => s.at >= from && s.at <= to)
            .map((s) => s.id),
        );
      });

      it('archive: the archive alone, every filter, all marked archived', async () => {
        for (const [i, f] of filters.entries()) {
          const got = await every(q, f, 'archive', 4);
          expect(got.map((s) => s.id)).toEqual(before.get(i)!.map((s) => s.id));
          expect(got.every((s) => s.archived === true)).toBe(true);
        }
      });

      it('groups: all counts each job once (the kept ones are in both), as before the evictions', async () => {
        const all = await q.dlq.groups({}, { source: 'all' });
        expect(strip(all)).toEqual(groupsBefore);
        expect(all.reduce((n, g) => n + g.count, 0)).toBe(N);
        expect(all.reduce((n, g) => n + (g.archived ?? 0), 0)).toBe(N - KEPT);
        expect(strip(await q.dlq.groups({ name: 'a' }, { source: 'all' }))).toEqual(filteredGroupsBefore);
        // The archive alone: every dead job archived, the same groups (labels from the sample error).
        const arch = await q.dlq.groups({}, { source: 'archive' });
        expect(strip(arch)).toEqual(groupsBefore);
        expect(arch.every((g) => g.archived === g.count)).toBe(true);
      });

      it('get: an evicted dead job from the archive, marked archived', async () => {
        const evicted = before.get(0)![KEPT + 1]!;
        expect(await backend.getJob(q.name, evicted.id)).toBeNull();
        const job = await q.dlq.get(evicted.id);
        expect(job.archived).toBe(true);
        expect(job.state).toBe('dead');
        expect(job.dead?.fingerprint).toBe(evicted.fingerprint);
        await expect(new Queue(q.name, { backend }).dlq.get(evicted.id)).rejects.toThrow(/does not exist/);
      });

      it('a job replayed since it was archived dead is listed and counted from the backend only', async () => {
        const kept = before.get(0)![0]!;
        await q.dlq.replay(kept.id, { by: 'ada', note: 'try again' });
        const all = await every(q, {}, 'all', 7);
        expect(all.map((s) => s.id)).toEqual(
          before
            .get(0)!
            .slice(1)
            .map((s) => s.id),
        );
        const groups = await q.dlq.groups({}, { source: 'all' });
        expect(groups.reduce((n, g) => n + g.count, 0)).toBe(N - 1);
        // The archive alone still has it, dead as archived.
        expect((await every(q, {}, 'archive', 50)).map((s) => s.id)).toContain(kept.id);
      });

      it('refuses a bad source and a bad cursor, naming the field', async () => {
        await expect(q.dlq.page({}, { source: 'both' as SearchSource })).rejects.toThrow(/source/);
        await expect(q.dlq.page({}, { cursor: 'x' })).rejects.toThrow(/cursor/);
        await expect(q.dlq.groups({}, { source: 'x' as SearchSource })).rejects.toThrow(/source/);
        const plain = new Queue(q.name, { backend });
        expect(await plain.dlq.page({}, { source: 'archive' })).toEqual({ jobs: [], next: undefined });
        expect(await plain.dlq.groups({}, { source: 'archive' })).toEqual([]);
      });

      it('GET /queues/:q/dlq?source=all and /dlq/groups?source=all', async () => {
        const app = await buildApp({ backend, queueOptions: () => ({ archive }) });
        try {
          const ids: string[] = [];
          let archived = 0;
          let cursor = '';
          for (let i = 0; i < 50; i++) {
            const r = await app.inject({
              method: 'GET',
              url: `/queues/${q.name}/dlq?source=all&name=a&limit=2${cursor}`,
            });
            expect(r.statusCode).toBe(200);
            const body = r.json() as { jobs: DeadListed[]; nextCursor: string | null };
            ids.push(...body.jobs.map((j) => j.id));
            archived += body.jobs.filter((j) => j.archived === true).length;
            if (!body.nextCursor) break;
            cursor = `&cursor=${body.nextCursor}`;
          }
          const ref = (await every(q, { name: 'a' }, 'all', 1000)).map((s) => s.id);
          expect(ids).toEqual(ref);
          expect(archived).toBeGreaterThan(5);
          const g = await app.inject({
            method: 'GET',
            url: `/queues/${q.name}/dlq/groups?source=all&code=x`,
          });
          expect(g.statusCode).toBe(400);
          const groups = await app.inject({ method: 'GET', url: `/queues/${q.name}/dlq/groups?source=all` });
          expect(groups.statusCode).toBe(200);
          const body = groups.json() as { groups: (DlqGroup & { sample?: { id: string } })[] };
          expect(body.groups.reduce((n, x) => n + x.count, 0)).toBe(N - 1);
          expect(body.groups.every((x) => x.sample !== undefined && (x.archived ?? 0) > 0)).toBe(true);
          const bad = await app.inject({ method: 'GET', url: `/queues/${q.name}/dlq?cursor=nope` });
          expect(bad.statusCode).toBe(400);
          expect((bad.json() as { detail: string }).detail).toMatch(/cursor/);
        } finally {
          await app.close();
        }
      });

      it('replay of evicted dead jobs: restored with their history, replayed as recorded, the new attempts archived once', async () => {
        const [one, two, three] = before.get(0)!.slice(KEPT + 1, KEPT + 4);
        const countAttempts = async (id: string): Promise<number> => {
          const r = await archive.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM "${archive.schema}".attempts WHERE queue = $1 AND job_id = $2`,
            [q.name, id],
          );
          return Number(r.rows[0]!.n);
        };
        const old = await archive.getJob(q.name, one!.id);
        expect(await countAttempts(one!.id)).toBe(1);
        const replayed = await q.dlq.replay(one!.id, {
          by: 'ada',
          note: 'fixed upstream',
          patch: { fixed: true },
        });
        expect(replayed.state).toBe('waiting');
        expect(replayed.attempts).toEqual(old!.attempts);
        // A bulk replay by filter over the archive: the matches Redis no longer holds are restored too.
        const bulk = await q.dlq.replayMany(
          { fingerprint: two!.fingerprint, to: two!.at, from: three!.at },
          { by: 'ada', source: 'archive' },
        );
        expect(bulk.failed).toEqual([]);
        expect(bulk.replayed).toContain(two!.id);
        const w = new Worker(q, async () => 'ok', { leaseMs: 5000 });
        w.on('error', () => undefined);
        const ids = [one!.id, ...bulk.replayed];
        await waitUntil(
          async () =>
            (await Promise.all(ids.map((id) => q.getJob(id)))).every((j) => j?.state === 'completed'),
          'replayed jobs completed',
        );
        await w.close();
        // Archived again once finished: the job row now completed, one attempt appended, once.
        // The same owner as the first archiver (which still holds the queue's lease).
        const archiver = new Archiver({ backend, archive, queues: [q.name], owner: 'archiver-1' });
        await archiver.drain();
        await archiver.drain();
        expect(await archive.write(q.name, [(await backend.getJob(q.name, one!.id))!])).toEqual({
          jobs: 1,
          attempts: 0,
        });
        const now = await archive.getJob(q.name, one!.id);
        expect(now?.state).toBe('completed');
        expect(await countAttempts(one!.id)).toBe(2);
        expect(now?.attempts.map((a) => [a.n, a.trigger, a.outcome])).toEqual([
          [1, 'auto', 'failed'],
          [2, 'manual', 'succeeded'],
        ]);
        expect(now?.attempts[1]?.manual).toMatchObject({ by: 'ada', note: 'fixed upstream' });
        expect(now?.data).toEqual({ ...(old!.data as object), fixed: true });
        // No longer dead anywhere: out of the DLQ of both, and of the groups.
        const all = (await every(q, {}, 'all', 50)).map((s) => s.id);
        for (const id of ids) expect(all).not.toContain(id);
        const groups = await q.dlq.groups({}, { source: 'all' });
        expect(groups.reduce((n, g) => n + g.count, 0)).toBe(N - 1 - ids.length);
      });
    },
    { redis: target.needsRedis },
  );
}
