/**
 * The retry intelligence over the archive, against real Redis and a real PostgreSQL: the same jobs
 * give the same analytics from the rollups and from the archive (field by field), the same what-if
 * and the same audit from the live backend and from the archive, and after retention evicted the
 * jobs from Redis the archive still answers.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { analyticsPlan, archiveBucket, type AnalyticsReport, type Breakdown } from '../../src/analytics.js';
import { Archiver } from '../../src/archive/archiver.js';
import { PgArchive } from '../../src/archive/pg-archive.js';
import type { AuditReport } from '../../src/audit.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { PermanentError, TemporaryError, ValidationError } from '../../src/errors.js';
import { fingerprintLabel } from '../../src/fingerprint.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import type { WhatIfReport } from '../../src/whatif.js';
import { Worker } from '../../src/worker.js';
import { waitUntil } from '../conformance/context.js';
import { finishOnly } from '../helpers/finish.js';
import { MemoryArchive } from '../helpers/memory-archive.js';
import { describeArchive, pgUrl, uniqueSchema } from '../helpers/pg.js';
import { cleanupKeys, redisUrl, uniquePrefix } from '../helpers/redis.js';

const JOBS = 60;

/**
 * The archive's report with what only the archive gives taken out (jobs and their attempts per key,
 * every fingerprint's label): the rollups' report.
 */
function asRollups(a: AnalyticsReport, rollups: AnalyticsReport): AnalyticsReport {
  const labels = new Map(rollups.byFingerprint.map((b) => [b.key, b.label]));
  const strip = (_i: number, list: readonly Breakdown[], fp = false): Breakdown[] =>
    list.map((b) => ({
      ...b,
      ...(fp ? { label: labels.get(b.key) ?? null } : {}),
      jobs: null,
      jobAttempts: null,
    }));
  const stripped = {
    ...a,
    source: 'rollups' as const,
    // Read a moment apart: the same buckets, another `now`.
    window: { ...a.window, to: rollups.window.to },
    byErrorClass: strip(0, a.byErrorClass),
    byRule: strip(1, a.byRule),
    byFingerprint: strip(2, a.byFingerprint, true),
  };
  if (a.groups && a.by !== 'name') {
    const g =
      a.by === 'fingerprint'
        ? stripped.byFingerprint
        : a.by === 'rule'
          ? stripped.byRule
          : stripped.byErrorClass;
    return {
      ...stripped,
      groups: g.map((b) => ({
        key: b.key,
        label: b.label,
        attempts: null,
        failed: b.failed,
        succeeded: null,
        dead: b.dead,
        cancelled: null,
        next: b.next,
        nextSucceeded: b.nextSucceeded,
        nextSuccessRate: b.nextSuccessRate,
        recovered: b.recovered,
        lost: b.lost,
      })),
    };
  }
  return stripped;
}

/** An audit with its findings in a fixed order (the two sources list jobs finished together in either order). */
function sortedAudit(r: AuditReport): AuditReport {
  const findings = [...r.findings].sort((x, y) =>
    `${x.jobId}\u0000${String(x.attempt).padStart(4)}\u0000${x.kind}` <
    `${y.jobId}\u0000${String(y.attempt).padStart(4)}\u0000${y.kind}`
      ? -1
      : 1,
  );
  return { ...r, findings };
}

function live<T extends WhatIfReport | AuditReport>(r: T): T {
  return { ...r, scope: { ...r.scope, source: 'live' } };
}

describeArchive(
  'retry intelligence over the archive (Redis + PostgreSQL)',
  () => {
    let backend: RedisBackend;
    let archive: PgArchive;
    let q: Queue;

    beforeAll(async () => {
      backend = new RedisBackend({ connection: redisUrl()!, prefix: uniquePrefix() });
      archive = new PgArchive({ connection: pgUrl()!, schema: uniqueSchema() });
      await archive.migrate();
      q = new Queue(`ra${Date.now() % 100000}`, { backend, archive });
      await q.ready();
      const w = new Worker(
        q,
        async (job) => {
          const k = (job.data as { k: number }).k;
          if (k % 7 === 1) throw new PermanentError(`invalid order ${k}`, { code: 'EINVAL' });
          if (k % 5 === 2) throw new TemporaryError(`upstream 503 for ${k}`, { code: 'EUNAVAILABLE' });
          if (k % 3 === 0 && job.attempt < 3) {
            throw new TemporaryError(`reset by 10.0.0.${k}`, { code: 'ECONNRESET' });
          }
          if (k % 11 === 4 && job.attempt === 1) {
            await new Promise((r) => setTimeout(r, 80)); // over its timeout: timed_out
          }
          if (k % 13 === 5 && job.attempt === 1) throw new Error(`plain failure ${k}`);
          return k;
        },
        { leaseMs: 5000, concurrency: 8 },
      );
      w.on('error', () => undefined);
      for (let k = 0; k < JOBS; k++) {
        await q.add(
          k % 2 ? 'charge' : 'email',
          { k },
          {
            timeout: k % 11 === 4 ? 30 : 5000,
            retry:
              k % 4 === 0
                ? { attempts: 4, backoff: { type: 'exponential', delayMs: 5, factor: 2, jitter: 'full' } }
                : { attempts: 3, backoff: { type: 'fixed', delayMs: 3 } },
          },
        );
      }
      await waitUntil(async () => {
        const c = await q.counts();
        return c.completed + c.dead === JOBS;
      }, 'every job finished');
      await w.close();
      // Stalls (one job stalls, then succeeds; one stalls twice: poison) and cancels (waiting,
      // scheduled, active), through the port: what the rollups count besides finishes.
      const stall = async (id: string): Promise<void> => {
        const { jobs } = await backend.claim(q.name, {
          workerId: 'w',
          leaseMs: 40,
          max: 1,
          exclusiveOk: true,
        });
        expect(jobs.map((j) => j.id)).toEqual([id]);
        await new Promise((r) => setTimeout(r, 70));
        expect(await backend.recoverStalled(q.name)).toBe(1);
      };
      const recovers = await q.add('charge', { k: -1 }, { maxStalls: 2 });
      await stall(recovers.id);
      const { jobs } = await backend.claim(q.name, {
        workerId: 'w',
        leaseMs: 5000,
        max: 1,
        exclusiveOk: true,
      });
      const [fin] = await finishOnly(backend, q.name, [
        {
          id: recovers.id,
          attempt: jobs[0]!.attempt,
          workerId: 'w',
          outcome: 'succeeded',
          result: 'null',
          decision: { action: 'done' },
        },
      ]);
      expect(fin?.ok).toBe(true);
      const poison = await q.add('charge', { k: -2 }, { maxStalls: 2 });
      await stall(poison.id);
      await stall(poison.id);
      const waiting = await q.add('email', { k: -3 });
      expect((await backend.cancel(q.name, waiting.id, 'test', undefined)).ok).toBe(true);
      const later = await q.add('email', { k: -4 }, { delay: 3_600_000 });
      expect((await backend.cancel(q.name, later.id, 'test', undefined)).ok).toBe(true);
      const active = await q.add('charge', { k: -5 });
      await backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 1, exclusiveOk: true });
      expect((await backend.cancel(q.name, active.id, 'test', 'changed my mind')).ok).toBe(true);
      await new Archiver({ backend, archive, queues: [q.name] }).drain();
    });

    afterAll(async () => {
      await archive?.close();
      if (backend) await cleanupKeys(redisUrl()!, `${backend.prefix}:*`);
      await backend?.close();
    });

    it('analytics: the archive gives the rollups’ answer, field by field, and full breakdowns', async () => {
      for (const opts of [
        {},
        { name: 'charge' },
        { by: 'name' as const },
        { by: 'fingerprint' as const },
        { by: 'rule' as const, name: 'email' },
        { by: 'errorClass' as const, window: '3h' },
      ]) {
        const fromRollups = await q.analytics({ ...opts, source: 'rollups' });
        const fromArchive = await q.analytics({ ...opts, source: 'archive' });
        expect(fromRollups.source).toBe('rollups');
        expect(fromArchive.source).toBe('archive');
        expect(asRollups(fromArchive, fromRollups)).toEqual(fromRollups);
        // Labels: the rollups keep the dead-letters'; the archive every failure fingerprint's.
        for (const b of fromArchive.byFingerprint) {
          expect(b.label).not.toBeNull();
          const r = fromRollups.byFingerprint.find((x) => x.key === b.key)!;
          if (r.label !== null) expect(b.label).toBe(r.label);
        }
      }
      const r = await q.analytics({ source: 'archive' });
      expect(r.totals.succeeded + r.totals.dead).toBe(JOBS + 2);
      expect(r.totals).toMatchObject({ stalled: 3, cancelled: 3 });
      expect(r.cancels).toEqual([
        { state: 'active', count: 1 },
        { state: 'scheduled', count: 1 },
        { state: 'waiting', count: 1 },
      ]);
      expect(r.totals.dead).toBeGreaterThan(5);
      expect(r.attempts.length).toBeGreaterThanOrEqual(3);
      const fp = (name: string, code: string, message: string): Breakdown =>
        r.byFingerprint.find((b) => b.label === fingerprintLabel({ name, code, message }))!;
      const ks = [...Array(JOBS).keys()];
      // Every job with k % 3 == 0 failed twice with ECONNRESET, then succeeded (those that died of
      // EINVAL or EUNAVAILABLE first aside: k % 7 == 1 or k % 5 == 2).
      const reset = ks.filter((k) => k % 3 === 0 && k % 7 !== 1 && k % 5 !== 2);
      expect(fp('TemporaryError', 'ECONNRESET', 'reset by 10.0.0.3')).toMatchObject({
        failed: 2 * reset.length,
        dead: 0,
        jobs: reset.length,
        jobAttempts: 3 * reset.length,
        recovered: reset.length,
      });
      const dying = ks.filter((k) => k % 7 !== 1 && k % 5 === 2);
      expect(fp('TemporaryError', 'EUNAVAILABLE', 'upstream 503 for 2')).toMatchObject({
        jobs: dying.length,
        dead: dying.length,
        recovered: 0,
      });
      const timedOut = ks.filter((k) => k % 11 === 4 && k % 7 !== 1 && k % 5 !== 2 && k % 3 !== 0);
      expect(r.byRule.find((b) => b.key === 'timeout')).toMatchObject({
        failed: timedOut.length,
        jobs: timedOut.length,
        jobAttempts: 2 * timedOut.length,
        recovered: timedOut.length,
      });
      // The timed-out attempts have their fingerprint (as the worker sent it to the rollups).
      expect(r.byFingerprint.find((b) => b.label?.startsWith('TimeoutError|TIMEOUT|'))?.failed).toBe(
        timedOut.length,
      );
    });

    it('a window that starts inside jobs’ histories: their earlier attempts still decide what is attributed', async () => {
      // The second attempt of a job that retried: the window starts there, its first attempt is before.
      const all = await archive.recordedPage(
        q.name,
        { from: undefined, to: undefined, name: undefined, limit: 1000 },
        undefined,
        1000,
      );
      const second = all.jobs
        .flatMap((j) => j.attempts.filter((a) => a.n === 2).map((a) => a.finishedAt))
        .sort((a, b) => a - b);
      const from = second[Math.floor(second.length / 2)]!;
      const query = { from, to: Date.now() + 60_000 };
      const plan = analyticsPlan(Date.now(), 3_600_000);
      // The same jobs in the test archive (each attempt folded in TypeScript, no SQL).
      const mem = new MemoryArchive();
      await mem.write(q.name, all.jobs);
      const fromPg = await archive.analyticsCounts(q.name, query);
      const fromMem = await mem.analyticsCounts(q.name, query);
      expect(fromPg.histories.some((h) => !h.counted && h.finishedAt < from)).toBe(true);
      const counts = (c: typeof fromPg): Record<string, string> =>
        Object.fromEntries(
          Object.entries(archiveBucket(plan, { ...c, cancels: [], errors: [] }).fields).filter(
            ([k]) => !k.startsWith('K'),
          ),
        );
      expect(counts(fromPg)).toEqual(counts(fromMem));
      // Next attempts attributed to failures before the window (the rule remembered from them).
      expect(Object.keys(counts(fromPg)).some((k) => k.startsWith('nr\x1f'))).toBe(true);
    });

    it('what-if and audit: the archive gives the live answer on the same jobs', async () => {
      for (const o of [
        { seed: 7 },
        { attempts: 2, seed: 7 },
        {
          retry: {
            attempts: 6,
            backoff: { type: 'exponential' as const, delayMs: 1000, jitter: 'full' as const },
          },
          seed: 3,
          draws: 'seeded' as const,
        },
        { classify: { codes: { ECONNRESET: 'permanent' as const } }, seed: 1, filter: { name: 'charge' } },
      ]) {
        const fromLive = await q.whatIf(o);
        const fromArchive = await q.whatIf({ ...o, source: 'archive' });
        expect(fromArchive.scope.source).toBe('archive');
        expect(live(fromArchive)).toEqual(fromLive);
      }
      for (const o of [{}, { toleranceMs: 0, driftMs: 0 }, { filter: { name: 'email' } }]) {
        const fromLive = await q.audit(o);
        const fromArchive = await q.audit({ ...o, source: 'archive' });
        expect(sortedAudit(live(fromArchive))).toEqual(sortedAudit(fromLive));
      }
      // A limit reads the most recently finished jobs (finish time, then id: jobs finished together
      // may be cut in another place than the live listing does).
      const whole = await q.whatIf({ source: 'archive', seed: 1 });
      expect(whole.scope).toMatchObject({ read: JOBS + 2, truncated: false });
      expect((await q.whatIf({ source: 'archive', seed: 1, limit: 7 })).scope).toMatchObject({
        read: 7,
        truncated: true,
      });
    });

    it('over HTTP: source in the query (analytics, audit) and the body (what-if)', async () => {
      const app = await buildApp({ backend, queueOptions: () => ({ archive }) });
      try {
        const get = async (url: string): Promise<unknown> => {
          const r = await app.inject({ method: 'GET', url });
          expect(r.statusCode).toBe(200);
          return r.json();
        };
        const a = (await get(`/queues/${q.name}/analytics?source=archive&by=rule`)) as AnalyticsReport;
        const lib = await q.analytics({ source: 'archive', by: 'rule' });
        expect({ ...a, window: lib.window }).toEqual(lib);
        const long = (await get(`/queues/${q.name}/analytics?window=90d`)) as AnalyticsReport;
        expect(long.source).toBe('archive');
        const audit = (await get(`/queues/${q.name}/audit?source=archive`)) as AuditReport;
        expect(audit).toEqual(await q.audit({ source: 'archive' }));
        const w = await app.inject({
          method: 'POST',
          url: `/queues/${q.name}/whatif`,
          payload: { attempts: 2, seed: 4, source: 'archive' },
        });
        expect(w.statusCode).toBe(200);
        expect(w.json()).toEqual(await q.whatIf({ attempts: 2, seed: 4, source: 'archive' }));
        const bad = await app.inject({ method: 'GET', url: `/queues/${q.name}/audit?source=rollups` });
        expect(bad.statusCode).toBe(400);
        expect((bad.json() as { field: string }).field).toBe('querystring.source');
      } finally {
        await app.close();
      }
    });

    it('after retention evicted the jobs from Redis, the archive still answers', async () => {
      const before = {
        analytics: await q.analytics({ source: 'archive', by: 'fingerprint' }),
        whatIf: await q.whatIf({ source: 'archive', attempts: 2, seed: 5 }),
        audit: await q.audit({ source: 'archive' }),
      };
      await q.setRetention({ completed: { count: 0 }, dead: { count: 0 } });
      await backend.sweepRetention(q.name, { intervalMs: 1, max: 1000 });
      const c = await q.counts();
      expect(c.completed + c.dead).toBe(0);
      expect((await q.whatIf({ seed: 5 })).scope.read).toBe(0);
      const after = await q.analytics({ source: 'archive', by: 'fingerprint' });
      expect({ ...after, window: before.analytics.window }).toEqual(before.analytics);
      expect(await q.whatIf({ source: 'archive', attempts: 2, seed: 5 })).toEqual(before.whatIf);
      expect(await q.audit({ source: 'archive' })).toEqual(before.audit);
      // And for a window longer than the rollups keep, `auto` reads the archive.
      const long = await q.analytics({ window: '90d' });
      expect(long.source).toBe('archive');
      expect(long.totals.succeeded + long.totals.dead).toBe(JOBS + 2);
    });

    it('a queue without an archive: source archive is refused naming the field', async () => {
      const plain = new Queue(q.name, { backend });
      for (const call of [
        () => plain.analytics({ source: 'archive' }),
        () => plain.whatIf({ source: 'archive' }),
        () => plain.audit({ source: 'archive' }),
      ]) {
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field).toBe('source');
        expect((err as Error).message).toMatch(/no archive/);
      }
      await expect(plain.analytics({ window: '30d' })).rejects.toThrow(
        /window must be at most 7 d on a queue without an archive/,
      );
      await expect(q.analytics({ source: 'x' as 'archive' })).rejects.toThrow(
        /source must be one of auto, rollups, archive/,
      );
      await expect(q.whatIf({ source: 'rollups' as 'archive' })).rejects.toThrow(
        /source must be one of live, archive/,
      );
    });
  },
  { redis: true },
);
