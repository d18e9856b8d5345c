/**
 * Scenario 3, Redis restarts: `redis-server` is SIGKILLed and restarted on the same port and data
 * dir several times while a producer adds jobs and 2 worker processes run them. Nobody is told:
 * the producer's and the workers' ioredis clients reconnect by themselves and the run finishes.
 *
 * With AOF on and `--appendfsync always` Redis fsyncs a write before it replies, so every add
 * the producer saw acknowledged (`queue.add` resolved) survives: lost 0, stuck 0. The same run
 * without persistence (appendonly no, save '') restarts on an empty dataset: the test must see
 * the loss (lost > 0).
 *
 * Lost is judged by (id, data.i): after a restart on an empty dataset the id counter starts again,
 * so a later job can reuse an acknowledged id; such an acknowledged job is lost even though a job
 * with its id exists.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { Redis } from 'ioredis';

import { beforeAll, describe, expect, it } from 'vitest';

import { queueKeys } from '../../src/backends/redis/keys.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { Queue } from '../../src/queue.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniquePrefix } from '../helpers/redis.js';
import {
  Fleet,
  loadJobs,
  scanJobIds,
  tallyAcked,
  loadRuns,
  prepareWorkerProcess,
  SCALE,
  sized,
  sleep,
  stats,
  waitFor,
  writeReport,
} from './harness.js';

const RESTARTS = sized(3, 5);
/** Time between restarts (from the previous server being up to the next kill). */
const BETWEEN_MS = sized(2000, 3000);
const WORKERS = 2;
const CONCURRENCY = 5;
const LEASE_MS = 1000;
const JOB_MS = 5;
/** The producer: this many adds in flight at a time, paced to about RATE adds per second. */
const PRODUCERS = 4;
const RATE = sized(300, 400);
const QUEUE = 'redis-restart';

interface Restart {
  killAt: number;
  /** The new server first answered PING with PONG (a probe every 5 ms, a new connection each). */
  pongAt: number;
  /** startRedisServer resolved. */
  upAt: number;
  /** First `add` acknowledged by the new server (sent after the kill, or acknowledged after upAt). */
  firstAckAt?: number;
  /** First change of the completed count after the restart (a fresh connection polls every 10 ms). */
  firstCompletionAt?: number;
  /** Completed count right after the restart (AOF: as before the kill; no persistence: 0). */
  completedAtUp?: number;
}

interface Acked {
  readonly i: number;
  readonly id: string;
  readonly sentAt: number;
  readonly at: number;
}

/** One PING on a new connection: true on +PONG (false when refused, or -LOADING while the AOF loads). */
function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => done(false), 200);
    function done(ok: boolean): void {
      clearTimeout(t);
      sock.destroy();
      resolve(ok);
    }
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (b: Buffer) => done(b.toString('utf8').startsWith('+PONG')));
  });
}

/** Resolves with the time the server on `port` first answers PONG. */
async function firstPong(port: number, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pingOnce(port)) return Date.now();
    await sleep(5);
  }
  return NaN;
}

/** The connections on the server, counted by their last command (CLIENT LIST `cmd=`). */
async function clientCommands(backend: RedisBackend): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of String(await backend.client.call('CLIENT', 'LIST')).split('\n')) {
    const cmd = /cmd=(\S+)/.exec(line)?.[1];
    if (cmd) out[cmd] = (out[cmd] ?? 0) + 1;
  }
  return out;
}

async function run(persistent: boolean): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'retraced-restart-'));
  const serverOpts = persistent
    ? { appendonly: true, dir, extraArgs: ['--appendfsync', 'always'] }
    : { appendonly: false, dir };
  let server: RedisServer = await startRedisServer(serverOpts);
  const port = server.port;
  const url = server.url;
  const prefix = uniquePrefix();
  const backend = new RedisBackend({ connection: url, prefix, onWarning: () => undefined });
  const queue = new Queue<{ i: number; ms: number }>(QUEUE, {
    backend,
    maxStalls: 50,
    retry: { attempts: 1 },
  });
  const fleet = new Fleet(
    { url, prefix, queue: QUEUE, handler: 'noop', concurrency: CONCURRENCY, leaseMs: LEASE_MS },
    WORKERS,
    persistent ? 'aof' : 'nop',
  );
  try {
    await fleet.start();
    const started = Date.now();

    // The producer: PRODUCERS loops, each adding one job at a time, paced to RATE adds/s overall.
    const acked: Acked[] = [];
    const addErrors: { i: number; at: number; message: string }[] = [];
    let next = 0;
    let producing = true;
    const interval = (1000 * PRODUCERS) / RATE;
    const producer = async (): Promise<void> => {
      while (producing) {
        const i = next++;
        const t0 = Date.now();
        try {
          const { id } = await queue.add('work', { i, ms: JOB_MS });
          acked.push({ i, id, sentAt: t0, at: Date.now() });
        } catch (e) {
          addErrors.push({ i, at: Date.now(), message: e instanceof Error ? e.message : String(e) });
        }
        const rest = interval - (Date.now() - t0);
        if (rest > 0) await sleep(rest);
      }
    };
    const producers = Array.from({ length: PRODUCERS }, () => producer());

    // Kill -9 and restart the server RESTARTS times.
    const clientsBefore = await clientCommands(backend);
    const restarts: Restart[] = [];
    const polls: Promise<void>[] = [];
    const keys = queueKeys(prefix, QUEUE);
    for (let k = 0; k < RESTARTS; k++) {
      await sleep(BETWEEN_MS * (0.8 + Math.random() * 0.4));
      const killAt = Date.now();
      server.kill9();
      await server.stop(); // waits for the exit
      const pong = firstPong(port);
      server = await startRedisServer({ ...serverOpts, port });
      const r: Restart = { killAt, upAt: Date.now(), pongAt: await pong };
      restarts.push(r);
      // Resume of the workers: the first change of the completed count, polled on a fresh
      // connection (not one still backing off from the crash; retrying every 10 ms, not ioredis's
      // default ≥ 1 s, while Redis loads the AOF).
      polls.push(
        (async () => {
          const probe = new Redis(url, { maxRetriesPerRequest: 1, maxLoadingRetryTime: 10 });
          probe.on('error', () => undefined);
          try {
            let base: number | undefined;
            await waitFor(
              async () => {
                const c = await probe.zcard(keys.done).catch(() => undefined);
                if (c === undefined) return false;
                if (base === undefined) {
                  base = r.completedAtUp = c;
                  return false;
                }
                if (c === base) return false;
                r.firstCompletionAt = Date.now();
                return true;
              },
              30_000,
              10,
            );
          } finally {
            probe.disconnect();
          }
        })(),
      );
    }
    await sleep(BETWEEN_MS);
    producing = false;
    await Promise.all(producers);
    await Promise.all(polls);
    for (const r of restarts) {
      r.firstAckAt = acked.find((a) => a.at > r.killAt && (a.sentAt > r.killAt || a.at >= r.upAt))?.at;
    }

    // Drain: generous, until nothing is waiting, scheduled or active for a while.
    const acceptedIds = new Set(acked.map((a) => a.id));
    let quietSince = 0;
    const drained = await waitFor(
      async () => {
        const c = await queue.counts();
        const busy = c.waiting + c.scheduled + c.active;
        if (busy > 0) {
          quietSince = 0;
          return false;
        }
        quietSince ||= Date.now();
        return Date.now() - quietSince >= 2 * LEASE_MS;
      },
      sized(60_000, 120_000),
      100,
    );
    const durationMs = Date.now() - started;
    // Connections on the last server (workers: a command and a blocking one each, plus the test's).
    const clientsAtEnd = await clientCommands(backend);
    await fleet.stopAll();

    // Read back every acknowledged job, and every job in Redis (unacknowledged ones too).
    const jobs = await loadJobs(
      backend,
      QUEUE,
      acked.map((a) => a.id),
    );
    const allIds = await scanJobIds(backend.client, prefix, QUEUE);
    const everything = await loadJobs(backend, QUEUE, allIds);
    const runs = await loadRuns(backend.client, prefix);

    const { lost, completed, dead, stuck, duplicated, lostIds, stuckJobs } = tallyAcked(
      acked,
      jobs,
      (id) => runs.get(id) ?? 0,
    );
    let stalledAttempts = 0;
    let runsAboveAttempts = 0;
    const ackedI = new Set<number>();
    for (const a of acked) {
      ackedI.add(a.i);
      const j = jobs.get(a.id);
      if (!j || (j.data as { i?: number }).i !== a.i) continue;
      // More handler starts counted than attempts: the worker's HINCRBY was resent by ioredis after
      // the crash ate its reply (counted twice, ran once), or a run no attempt records.
      if ((runs.get(a.id) ?? 0) > j.attempts.length) runsAboveAttempts++;
      stalledAttempts += j.attempts.filter((x) => x.outcome === 'stalled').length;
    }
    // Jobs in Redis nobody saw acknowledged: an add whose reply was lost in the crash (rejected,
    // or resent by ioredis after the reconnect and so run twice).
    const seenI = new Map<number, number>();
    let unacknowledged = 0;
    for (const j of everything.values()) {
      if (!j) continue;
      const i = (j.data as { i?: number }).i ?? -1;
      seenI.set(i, (seenI.get(i) ?? 0) + 1);
      if (!acceptedIds.has(j.id) || !ackedI.has(i)) unacknowledged++;
    }
    const addedTwice = [...seenI.values()].filter((n) => n > 1).length;

    // Per worker: its first completed attempt after each kill (AOF only: without persistence the
    // earlier records are gone).
    const workerResume: number[][] = restarts.map(() => []);
    if (persistent) {
      for (const [k, r] of restarts.entries()) {
        const end = restarts[k + 1]?.killAt ?? Infinity;
        const firstBy = new Map<string, number>();
        for (const j of everything.values()) {
          for (const a of j?.attempts ?? []) {
            if (a.outcome !== 'succeeded' || a.finishedAt <= r.killAt || a.finishedAt >= end) continue;
            const prev = firstBy.get(a.workerId);
            if (prev === undefined || a.finishedAt < prev) firstBy.set(a.workerId, a.finishedAt);
          }
        }
        workerResume[k] = [...firstBy.values()].map((t) => t - r.killAt).sort((x, y) => x - y);
      }
    }
    const per = restarts.map((r, k) => ({
      downMs: r.pongAt - r.killAt,
      helperReturnedMs: r.upAt - r.killAt,
      addResumeMs: r.firstAckAt === undefined ? null : r.firstAckAt - r.killAt,
      completionResumeMs: r.firstCompletionAt === undefined ? null : r.firstCompletionAt - r.killAt,
      completedAtRestart: r.completedAtUp ?? null,
      workerFirstCompletionMs: workerResume[k] ?? [],
    }));
    // Every worker completing jobs again (AOF only): the slowest worker's first completion.
    const allWorkers = stats(
      per
        .filter((p) => p.workerFirstCompletionMs.length === WORKERS)
        .map((p) => p.workerFirstCompletionMs.at(-1) as number),
    );
    // Recovery: kill → first job completed after the restart. AOF: from the attempt records (Redis
    // clock, same host), exact; no persistence: those records are gone, the poll is what there is.
    const resume = per
      .map((p) => (persistent ? (p.workerFirstCompletionMs[0] ?? null) : p.completionResumeMs))
      .filter((x): x is number => x !== null);
    const down = stats(per.map((p) => p.downMs));
    const addResume = stats(per.map((p) => p.addResumeMs).filter((x): x is number => x !== null));
    const workerErrors = fleet.messages('error').length;
    const report = {
      scenario: persistent ? 'redis-restart' : 'redis-restart-nopersist',
      title: persistent ? '3. Redis restarts (kill -9), AOF always' : '3b. Redis restarts, no persistence',
      scale: SCALE,
      accepted: acked.length,
      completed,
      dead,
      lost,
      duplicated,
      stuck,
      recoveryMs: stats(resume),
      durationMs,
      notes:
        `${restarts.length} kill -9 + restarts (${persistent ? 'appendonly yes, appendfsync always' : "appendonly no, save ''"}), ` +
        `${WORKERS} workers (c=${CONCURRENCY}), producer ~${RATE} adds/s; recovery = kill → first job completed after the restart; ` +
        `server down p50 ${down?.p50 ?? '—'} ms, first add acknowledged p50 ${addResume?.p50 ?? '—'} / max ${addResume?.max ?? '—'} ms after the kill; ` +
        (persistent
          ? `every worker completing again p50 ${allWorkers?.p50 ?? '—'} / max ${allWorkers?.max ?? '—'} ms; `
          : '') +
        `${stalledAttempts} stalled attempts, ${addErrors.length} adds rejected, ${unacknowledged} unacknowledged jobs in Redis (${addedTwice} adds ran twice)` +
        (persistent
          ? ''
          : `; ${lost} acknowledged adds lost (${((100 * lost) / Math.max(1, acked.length)).toFixed(0)} %)`),
      details: {
        persistence: persistent ? 'appendonly yes, appendfsync always' : "appendonly no, save ''",
        restarts: per,
        clientsBeforeFirstKill: clientsBefore,
        clientsAtEnd,
        serverDownMs: down,
        everyWorkerCompletingAgainMs: allWorkers,
        addResumeMs: addResume,
        addsAttempted: next,
        addsRejected: addErrors.length,
        addErrorsSample: addErrors.slice(0, 10),
        jobsInRedis: allIds.length,
        unacknowledgedJobsInRedis: unacknowledged,
        dataAddedTwice: addedTwice,
        stalledAttempts,
        runsCountedAboveAttempts: runsAboveAttempts,
        lostIdsSample: lostIds,
        stuckSample: stuckJobs,
        workerProcesses: fleet.all.length,
        workerErrorEvents: workerErrors,
        workerErrorSample: fleet
          .messages('error')
          .slice(0, 10)
          .map((m) => m.message),
        drainedInTime: drained,
        leaseMs: LEASE_MS,
      },
    };
    writeReport(report);

    expect(restarts.length).toBe(RESTARTS);
    // The workers and the producer came back by themselves after every restart.
    expect(per.every((p) => p.addResumeMs !== null)).toBe(true);
    expect(per.every((p) => p.completionResumeMs !== null)).toBe(true);
    expect(drained).toBe(true);
    if (persistent) {
      expect(lost).toBe(0);
      expect(stuck).toBe(0);
      expect(completed).toBe(acked.length);
    } else {
      // The point of the second run: the test sees acknowledged adds vanish.
      expect(lost).toBeGreaterThan(0);
    }
  } finally {
    await fleet.stopAll();
    await backend.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!hasRedisServer())('fault: Redis restarts (kill -9 and restart redis-server)', () => {
  beforeAll(async () => {
    await prepareWorkerProcess();
  });

  it(`AOF always: ${RESTARTS} restarts during a run, acknowledged adds lost 0, stuck 0, everyone reconnects`, async () => {
    await run(true);
  });

  it(`no persistence: the same run loses acknowledged adds, and the test sees it`, async () => {
    await run(false);
  });
});

/**
 * Bug found by this scenario (src/backends/redis/redis-backend.ts, `waitForWork`): the blocking
 * connection's `CLIENT ID` is cached per ioredis client object (`#clientIds`) and never refreshed
 * after ioredis reconnects it. After a Redis restart the connection has a new id, and the cached
 * one may belong to any other client of that Redis: when the local timer ends a wait,
 * `CLIENT UNBLOCK <stale id>` releases *another* client's blocking command (another worker's BLPOP,
 * or an unrelated application's BLPOP / XREAD on the same server, which then returns a spurious
 * timeout), while this backend's own BLPOP is not released and runs out its backstop.
 * Expected: a bystander's BLPOP (5 s) on an unrelated key stays blocked while the backend waits
 * twice 100 ms. Actual: it returns null ~150 ms after it blocked (50 ms + the first 100 ms wait). Fix direction: drop the cached id when the
 * connection reconnects (ioredis 'ready' / 'close' event), or read it with CLIENT ID on each wait.
 */
interface StaleIdOutcome {
  readonly staleId: number;
  /** A client of another application got the blocking connection's old id after the restart. */
  readonly victimFound: boolean;
  /** ms after its BLPOP (5 s timeout) the bystander was released, or null if still blocked after 1 s. */
  readonly bystanderReleasedAfterMs: number | null;
}

async function staleClientIdScenario(): Promise<StaleIdOutcome> {
  let server = await startRedisServer();
  const port = server.port;
  // Spare connections first, so the backend's blocking connection gets a high id before the restart.
  const spare = Array.from({ length: 30 }, () => new Redis(server.url));
  await Promise.all(spare.map((c) => c.ping()));
  const backend = new RedisBackend({
    connection: server.url,
    prefix: uniquePrefix(),
    onWarning: () => undefined,
  });
  const bystanders: Redis[] = [];
  try {
    const ac = new AbortController();
    await backend.waitForWork('q', 50, ac.signal);
    const before = String(await backend.client.call('CLIENT', 'LIST'));
    const staleId = Number(/id=(\d+) [^\n]*cmd=blpop/.exec(before)?.[1]);
    for (const c of spare) c.disconnect();
    server.kill9();
    await server.stop();
    server = await startRedisServer({ port });
    // Let the backend's own connections reconnect (they take low ids), then open connections until
    // one gets the blocking connection's old id: an unrelated application's client.
    await backend.client.ping();
    await sleep(300);
    let victim: Redis | undefined;
    for (let n = 0; n < 200 && !victim && Number.isFinite(staleId); n++) {
      const c = new Redis(server.url);
      bystanders.push(c);
      const id = Number(await c.call('CLIENT', 'ID'));
      if (id === staleId) victim = c;
      if (id > staleId) break;
    }
    if (!victim) return { staleId, victimFound: false, bystanderReleasedAfterMs: null };
    const t0 = Date.now();
    const popped = victim.blpop('some-other-application:list', 5).then(() => Date.now() - t0);
    await sleep(50);
    await backend.waitForWork('q', 100, ac.signal);
    await backend.waitForWork('q', 100, ac.signal);
    const released = await Promise.race([popped, sleep(1000).then(() => null)]);
    return { staleId, victimFound: true, bystanderReleasedAfterMs: released };
  } finally {
    for (const c of bystanders) c.disconnect();
    await backend.close();
    await server.stop();
  }
}

describe.skipIf(!hasRedisServer())('fault: Redis restarts, regression (stale CLIENT ID)', () => {
  let outcome: Promise<StaleIdOutcome>;
  beforeAll(() => {
    outcome = staleClientIdScenario();
  });

  it("setup: after the restart, another client gets the old id of the backend's blocking connection", async () => {
    expect((await outcome).victimFound).toBe(true);
  });

  // Regression (fixed in RedisBackend.waitForWork: a CLIENT ID is trusted only for the connection
  // epoch it was read in).
  it('waitForWork after a restart leaves other clients blocked (no CLIENT UNBLOCK by a stale id)', async () => {
    const o = await outcome;
    console.log(`stale CLIENT ID: ${JSON.stringify(o)}`);
    expect(o.victimFound).toBe(true);
    // The bystander must still be blocked (its own 5 s timeout).
    expect(o.bystanderReleasedAfterMs).toBeNull();
  });
});
