/**
 * Scenario 12, the PostgreSQL archive under faults (src/archive/). A steady flow of jobs (1 in 5
 * fails once then succeeds: two attempts; 1 in 20 is dead at once) runs on 2 worker processes; an
 * archiver process copies every finished job into a throw-away PostgreSQL server
 * (test/helpers/pg-server.ts: initdb, its own port, stopped and crashed at will); Redis retention
 * keeps nothing (count 0 for completed and dead), so a job leaves Redis as soon as it is archived,
 * and never before. Three faults, each on its own redis-server and PostgreSQL schema:
 *
 *   12a archiver-kill  the archiver process is SIGKILLed over and over and restarted (a new process,
 *                      a new owner: it takes the queue over when the dead one's lease runs out).
 *                      Half the kills land right after a batch's PostgreSQL commit, before Redis
 *                      was told (the process holds 30 ms there): that batch is written again by the
 *                      next archiver; the others land anywhere (mostly mid-write: rolled back).
 *   12b pg-outage      PostgreSQL is stopped for a few seconds while jobs keep finishing: retention
 *                      must hold every finished job in Redis until the archive is back.
 *   12c pg-crash       PostgreSQL is crashed (`pg_ctl stop -m immediate`: every backend killed, WAL
 *                      recovery on start) and restarted several times while batches are written.
 *
 * Checks, over every accepted job: it is in PostgreSQL exactly once (one jobs row per (queue, id),
 * one attempts row per (queue, id, n), n = 1..k, k and the state as its kind says) and gone from
 * Redis (evicted once archived, counted); lost = in neither; stuck = in Redis, not finished or never
 * archived. Figures: batches written twice, backlog (pending, held) at its peak, the time from the
 * fault's end to archiving again and to an empty backlog.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { Queue } from '../../src/queue.js';
import { canStartPgServer, startPgServer, type PgServer } from '../helpers/pg-server.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniquePrefix } from '../helpers/redis.js';
import {
  ArchiverProc,
  Fleet,
  prepareWorkerProcess,
  SCALE,
  sized,
  sleep,
  stats,
  waitFor,
  writeReport,
} from './harness.js';
import type { FaultJobData } from './shared.js';

const QUEUE = 'arc';
const WORKERS = 2;
const CONCURRENCY = 10;
const LEASE_MS = 2000;
/** The archiver's lease on the queue: a killed archiver's successor waits this long at most. */
const ARCHIVE_LEASE_MS = 1000;
const BATCH = 200;
const RATE = sized(400, 600);
const DURATION_MS = sized(8000, 40_000);

type Fault = 'archiver-kill' | 'pg-outage' | 'pg-crash';

const isCI = (): boolean => {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
};

const available = hasRedisServer() && canStartPgServer();
if (!available) {
  if (hasRedisServer() && isCI()) {
    throw new Error('the archive fault scenarios need the PostgreSQL server binaries (initdb, pg_ctl) in CI');
  }
  console.warn('[faults] scenario 12 (archive) SKIPPED: needs redis-server and initdb/pg_ctl (PostgreSQL)');
}

/** What a job of index i does: 1 in 20 dead at once, 1 in 5 fails once; how many attempts. */
function kind(i: number): {
  data: FaultJobData & { i: number };
  state: 'completed' | 'dead';
  attempts: number;
} {
  if (i % 20 === 7) return { data: { i, permanent: true }, state: 'dead', attempts: 1 };
  if (i % 5 === 0) return { data: { i, failAttempts: 1 }, state: 'completed', attempts: 2 };
  return { data: { i }, state: 'completed', attempts: 1 };
}

interface Sample {
  readonly at: number;
  readonly pending: number;
  readonly held: number;
  readonly evicted: number;
  readonly finished: number;
}

describe.skipIf(!available)(
  'fault: the PostgreSQL archive (archiver kills, PostgreSQL outage and crashes)',
  () => {
    let pgServer: PgServer;
    beforeAll(async () => {
      await prepareWorkerProcess();
      pgServer = await startPgServer();
    }, 120_000);
    afterAll(async () => {
      await pgServer?.destroy();
    });

    async function scenario(fault: Fault): Promise<void> {
      const redis: RedisServer = await startRedisServer();
      const prefix = uniquePrefix();
      const schema = `f_${fault.replaceAll('-', '_')}`;
      const backend = new RedisBackend({ connection: redis.url, prefix, onWarning: () => undefined });
      const admin = new pg.Pool({ connectionString: pgServer.url, max: 2 });
      admin.on('error', () => undefined);
      let fleet: Fleet | undefined;
      const archivers: ArchiverProc[] = [];
      try {
        await backend.setArchive(QUEUE, true);
        const queue = new Queue<FaultJobData>(QUEUE, {
          backend,
          retention: { completed: { count: 0 }, dead: { count: 0 } },
          retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 50 } },
        });
        await queue.ready();
        fleet = new Fleet(
          {
            url: redis.url,
            prefix,
            queue: QUEUE,
            handler: 'noop',
            concurrency: CONCURRENCY,
            leaseMs: LEASE_MS,
          },
          WORKERS,
          `w-${fault}`,
        );
        await fleet.start();

        let n = 0;
        const spawnArchiver = (holdAfterWriteMs = 0): ArchiverProc => {
          const a = new ArchiverProc({
            url: redis.url,
            prefix,
            pgUrl: pgServer.url,
            schema,
            queue: QUEUE,
            owner: `archiver-${++n}`,
            batchSize: BATCH,
            leaseMs: ARCHIVE_LEASE_MS,
            holdAfterWriteMs,
          });
          archivers.push(a);
          return a;
        };
        await spawnArchiver().ready;

        // Sampling: the backlog and the evictions, every 100 ms.
        const samples: Sample[] = [];
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            try {
              const [st, ev, c] = await Promise.all([
                backend.archiveStatus(QUEUE),
                queue.evictions(),
                queue.counts(),
              ]);
              samples.push({
                at: Date.now(),
                pending: st.pending,
                held: st.held.completed + st.held.dead + st.held.cancelled,
                evicted: ev.completed + ev.dead,
                finished: c.completed + c.dead + ev.completed + ev.dead,
              });
            } catch {
              // a sample lost: the next one comes
            }
            await sleep(100);
          }
        })();

        // The producer: RATE jobs/s, a batch every 100 ms, for DURATION_MS and until the faults are
        // over (every fault meets a flow of jobs).
        const ids: string[] = [];
        const expected = new Map<string, ReturnType<typeof kind>>();
        let faultsOver = false;
        const producer = (async () => {
          const per = RATE / 10;
          const t0 = Date.now();
          for (let b = 0; Date.now() - t0 < DURATION_MS || !faultsOver; b++) {
            const jobs = Array.from({ length: per }, (_, k) => kind(b * per + k));
            const added = await queue.addBulk(jobs.map((j) => ({ name: 'work', data: j.data })));
            added.forEach((a, k) => {
              ids.push(a.id);
              expected.set(a.id, jobs[k]!);
            });
            const next = t0 + (b + 1) * 100;
            await sleep(Math.max(0, next - Date.now()));
          }
        })();

        // The fault, while the producer runs.
        const started = Date.now();
        const faults: { at: number; endAt: number; what: string; resumedAt?: number }[] = [];
        const current = (): ArchiverProc => archivers[archivers.length - 1]!;
        if (fault === 'archiver-kill') {
          const until = started + DURATION_MS - 1000;
          for (let k = 0; Date.now() < until; k++) {
            const onWrite = k % 2 === 1;
            const victim = current();
            let at = 0;
            if (onWrite) {
              // This process holds 30 ms after each commit: killed as its 2nd commit is reported,
              // before it has told Redis.
              const killed = new Promise<void>((resolve) => {
                victim.onMessage((m) => {
                  if (m.ev === 'written' && victim.totals().batches >= 2 && victim.alive && at === 0) {
                    victim.kill();
                    at = Date.now();
                    resolve();
                  }
                });
              });
              await Promise.race([killed, sleep(Math.max(0, until - Date.now()) + 5000)]);
            } else {
              // Killed at a random moment once it holds the queue (its first batch written): mostly
              // in the middle of a PostgreSQL write or of a Redis read.
              await waitFor(() => victim.totals().batches >= 1 || Date.now() >= until, 20_000, 5);
              await sleep(Math.random() * 150);
            }
            if (at === 0) {
              victim.kill();
              at = Date.now();
            }
            const writes = victim.totals().batches;
            await victim.exited;
            faults.push({
              at,
              endAt: at,
              what: onWrite ? `kill after commit ${writes}` : `kill after ${writes} batches`,
            });
            spawnArchiver(k % 2 === 0 ? 30 : 0);
            // The next process is up (its lease wait starts), the next kill comes after it wrote.
            await current().ready;
          }
        } else if (fault === 'pg-outage') {
          await sleep(DURATION_MS * 0.25);
          const at = Date.now();
          await pgServer.stop('fast');
          await sleep(sized(3000, 15_000));
          await pgServer.start();
          faults.push({ at, endAt: Date.now(), what: 'stopped' });
        } else {
          const restarts = sized(3, 8);
          const [gapMin, gapMax] = sized([700, 1000], [3000, 4500]);
          for (let k = 0; k < restarts; k++) {
            await sleep(gapMin + Math.random() * (gapMax - gapMin));
            const at = Date.now();
            await pgServer.stop('immediate');
            await pgServer.start();
            faults.push({ at, endAt: Date.now(), what: 'crash + restart' });
          }
        }
        await sleep(500);
        faultsOver = true;
        await producer;
        const producerEnd = Date.now();

        // Drain: every job finished and archived, Redis empty of them.
        const total = ids.length;
        const drained = await waitFor(
          async () => {
            const [st, ev] = await Promise.all([backend.archiveStatus(QUEUE), queue.evictions()]);
            return st.pending === 0 && ev.completed + ev.dead >= total;
          },
          sized(60_000, 180_000),
          100,
        );
        const drainMs = Date.now() - producerEnd;
        sampling = false;
        await sampler;
        await Promise.all(archivers.map((a) => a.stop()));
        await fleet.stopAll();
        const durationMs = Date.now() - started;

        // Time from each fault's end to the next batch written (by any archiver).
        const writes = archivers
          .flatMap((a) => a.messages.filter((m) => m.ev === 'written').map((m) => m.at ?? 0))
          .sort((a, b) => a - b);
        for (const f of faults) f.resumedAt = writes.find((t) => t > f.endAt);
        const resume = faults.filter((f) => f.resumedAt !== undefined).map((f) => f.resumedAt! - f.endAt);
        const outage = faults[0];
        const during = outage ? samples.filter((s) => s.at >= outage.at && s.at <= outage.endAt) : [];
        const backlogBackAt =
          outage && fault === 'pg-outage'
            ? samples.find((s) => s.at > outage.endAt && s.pending <= BATCH)?.at
            : undefined;

        // Read back: PostgreSQL (every row of the queue) and Redis (every job by id).
        const jobRows = await admin.query<{ id: string; state: string; attempt_count: number; rows: number }>(
          `SELECT id, state, attempt_count, count(*) OVER (PARTITION BY id)::int AS rows FROM "${schema}".jobs WHERE queue = $1`,
          [QUEUE],
        );
        const attRows = await admin.query<{
          job_id: string;
          n: number;
          rows: number;
          min: number;
          max: number;
        }>(
          `SELECT job_id, count(*)::int AS n, count(DISTINCT n)::int AS rows, min(n) AS min, max(n) AS max
         FROM "${schema}".attempts WHERE queue = $1 GROUP BY job_id`,
          [QUEUE],
        );
        const inPg = new Map(jobRows.rows.map((r) => [r.id, r]));
        const attOf = new Map(attRows.rows.map((r) => [r.job_id, r]));
        let archived = 0;
        let lost = 0;
        let stuck = 0;
        let completed = 0;
        let dead = 0;
        let doubled = 0;
        let wrong = 0;
        let stillInRedis = 0;
        const problems: unknown[] = [];
        for (let i = 0; i < ids.length; i += 500) {
          const chunk = ids.slice(i, i + 500);
          const live = await Promise.all(chunk.map((id) => backend.getJob(QUEUE, id)));
          chunk.forEach((id, k) => {
            const want = expected.get(id)!;
            const row = inPg.get(id);
            const att = attOf.get(id);
            const held = live[k];
            if (held) stillInRedis++;
            if (!row) {
              if (held) stuck++;
              else lost++;
              if (problems.length < 20) problems.push({ id, inRedis: held?.state ?? null, inPg: false });
              return;
            }
            archived++;
            if (row.state === 'completed') completed++;
            if (row.state === 'dead') dead++;
            if (row.rows !== 1 || !att || att.n !== att.rows) doubled++;
            const ok =
              row.state === want.state &&
              row.attempt_count === want.attempts &&
              att?.n === want.attempts &&
              att.min === 1 &&
              att.max === want.attempts;
            if (!ok) {
              wrong++;
              if (problems.length < 20) problems.push({ id, want, row, att });
            }
          });
        }
        const extraRows = jobRows.rows.length - archived;
        const t = archivers.map((a) => a.totals());
        const sum = (f: (x: (typeof t)[number]) => number): number => t.reduce((s, x) => s + f(x), 0);
        const rowWrites = sum((x) => x.jobs);
        const ev = await queue.evictions();
        const peakPending = Math.max(0, ...samples.map((s) => s.pending));
        const peakHeld = Math.max(0, ...samples.map((s) => s.held));
        const pendingDuring = Math.max(0, ...during.map((s) => s.pending));
        const evictedDuring = during.length > 1 ? during[during.length - 1]!.evicted - during[0]!.evicted : 0;
        const finishedDuring =
          during.length > 1 ? during[during.length - 1]!.finished - during[0]!.finished : 0;
        const kills = faults.length;

        const what: Record<Fault, string> = {
          'archiver-kill': `${kills} SIGKILLs of the archiver (${faults.filter((f) => f.what.startsWith('kill after commit')).length} right after a commit), each replaced by a new process (lease ${ARCHIVE_LEASE_MS} ms)`,
          'pg-outage': `PostgreSQL stopped ${outage ? outage.endAt - outage.at : 0} ms: ${finishedDuring} jobs finished meanwhile, ${evictedDuring} evicted (archived before it), backlog ${pendingDuring} pending at most, held in Redis; back to ≤ 1 batch ${backlogBackAt && outage ? backlogBackAt - outage.endAt : '—'} ms after the restart`,
          'pg-crash': `${kills} PostgreSQL crashes (pg_ctl stop -m immediate) + restarts, down ${stats(faults.map((f) => f.endAt - f.at))?.p50 ?? '—'} ms p50`,
        };
        const report = {
          scenario: `archive-${fault}`,
          title: {
            'archiver-kill': '12a. archive: archiver SIGKILL mid-batch',
            'pg-outage': '12b. archive: PostgreSQL outage',
            'pg-crash': '12c. archive: PostgreSQL crash-restarts',
          }[fault],
          scale: SCALE,
          accepted: ids.length,
          completed,
          dead,
          lost,
          duplicated: doubled,
          stuck,
          recoveryMs: stats(resume),
          durationMs,
          notes: `${what[fault]}; ${RATE} jobs/s for ${((producerEnd - started) / 1000).toFixed(1)} s, ${WORKERS} workers × ${CONCURRENCY}, batches of ${BATCH}; in PostgreSQL ${archived} jobs once each (${doubled} doubled, ${wrong} wrong), ${jobRows.rows.length} rows; ≥ ${rowWrites - archived} job rows written twice (idempotent: no new row), ${sum((x) => x.errors)} failed archiver rounds; backlog peak ${peakPending} pending / ${peakHeld} held; drained ${drainMs} ms after the producer; recovery = fault end → next batch written`,
          details: {
            faults,
            archiverProcesses: archivers.length,
            perArchiver: archivers.map((a, k) => ({ owner: a.cfg.owner, ...t[k] })),
            jobRowWrites: rowWrites,
            attemptRowsNew: sum((x) => x.attempts),
            attemptRows: attRows.rows.reduce((s, r) => s + r.n, 0),
            attemptRowsCommittedUnreported:
              attRows.rows.reduce((s, r) => s + r.n, 0) - sum((x) => x.attempts),
            rowsWrittenTwice: rowWrites - archived,
            extraRows,
            wrong,
            stillInRedis,
            evictions: ev,
            peakPending,
            peakHeld,
            pendingDuringOutage: pendingDuring,
            evictedDuringOutage: evictedDuring,
            finishedDuringOutage: finishedDuring,
            backlogBackAfterMs: backlogBackAt && outage ? backlogBackAt - outage.endAt : null,
            drained,
            drainMs,
            problems,
            samples: samples.filter((_, k) => k % 5 === 0).map((s) => ({ ...s, at: s.at - started })),
          },
        };
        writeReport(report);

        expect(drained).toBe(true);
        expect(lost).toBe(0);
        expect(stuck).toBe(0);
        expect(doubled).toBe(0);
        expect(wrong).toBe(0);
        expect(extraRows).toBe(0);
        expect(archived).toBe(ids.length);
        expect(stillInRedis).toBe(0);
        expect(ev.completed + ev.dead).toBe(ids.length);
        // No attempt row was new twice, across all archivers, whatever was written twice (a batch
        // committed by a process killed before it could report it makes the reported sum smaller).
        expect(sum((x) => x.attempts)).toBeLessThanOrEqual(attRows.rows.reduce((s, r) => s + r.n, 0));
        if (fault === 'archiver-kill') {
          expect(kills).toBeGreaterThanOrEqual(sized(4, 20));
          expect(rowWrites - archived).toBeGreaterThan(0); // the commit-then-kill window was hit
        }
        if (fault === 'pg-outage') {
          expect(pendingDuring).toBeGreaterThan(0);
          expect(finishedDuring).toBeGreaterThan(evictedDuring);
        }
        if (fault === 'pg-crash') expect(kills).toBe(sized(3, 8));
      } finally {
        for (const a of archivers) a.kill();
        await fleet?.stopAll();
        await admin.end();
        await backend.close();
        await redis.stop();
      }
    }

    it('12a: archiver SIGKILLed mid-batch and restarted: every job archived once, none lost', () =>
      scenario('archiver-kill'));
    it('12b: PostgreSQL down: Redis retention holds every finished job until the archive is back', () =>
      scenario('pg-outage'));
    it('12c: PostgreSQL crashed and restarted mid-batch: every job archived once, none lost', () =>
      scenario('pg-crash'));
  },
);
