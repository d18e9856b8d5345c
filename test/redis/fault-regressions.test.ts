/**
 * Regressions found by the fault suite (test/faults/), kept small and fast so they run in `npm test`.
 * `it.fails` marks a bug not fixed yet: the test states the correct behaviour and fails today; when
 * src is fixed it starts passing, `it.fails` reports that, and the marker is removed.
 */
import { afterAll, describe, expect, it } from 'vitest';

import type { Backend } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { Queue } from '../../src/queue.js';
import type { JobState } from '../../src/types.js';
import { Worker } from '../../src/worker.js';
import { finishOnly } from '../helpers/finish.js';
import { cleanupKeys, describeRedis, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { startProxy } from '../faults/proxy.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFinished(q: Queue, id: string, timeoutMs: number): Promise<JobState | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = (await q.getJob(id))?.state;
    if (state === 'completed' || state === 'dead' || Date.now() > deadline) return state;
    await sleep(20);
  }
}

/**
 * Regression (fault suite, scenario 2 variant; fixed): src/worker.ts, Worker#start / Worker#flush.
 * `#flush` starts the jobs claimed by `finishAndClaim` (`#start` → `#inflight.set(id, new entry)`)
 * before it resolves the finished batch; the finished attempt's `#start(...).finally` then runs
 * `this.#inflight.delete(c.id)` by id, which deletes the NEW entry when the claim half took the same
 * job again: an immediate retry (delay 0, also every `interrupted` give-back) or a job recovered from
 * this worker's own lost lease. The new attempt is then not in `#inflight`: its lease is never
 * renewed and `running` / the concurrency count ignore it.
 * Fixed by deleting by identity. Expected: attempt 2 (1300 ms, lease 400 ms) is renewed and succeeds: completed, attempts
 * [failed, succeeded], no refusal. Actual: attempt 2 and the next ones stall while the worker is
 * healthy and the job is dead-lettered as poison: [failed, stalled, stalled, stalled], and the late
 * finishes of the renewed-never attempts are refused (2-3 refusals).
 */
function immediateRetryCases(name: string, backend: () => Backend): void {
  describe(`${name}: an immediate retry claimed by the same finishAndClaim`, () => {
    it('keeps its lease renewed (not dead-lettered as poison while the worker is healthy)', async () => {
      const q = new Queue(`rg${uniquePrefix()}`, {
        backend: backend(),
        retry: { attempts: 3, backoff: { type: 'immediate' } },
      });
      const { id } = await q.add('slow-second-attempt', null);
      const w = new Worker(
        q,
        async (job) => {
          if (job.attempt === 1) throw new Error('first attempt fails fast');
          // Three leases long: without renewal it stalls; a lease of 400 ms leaves a loaded machine's
          // event-loop pauses room between two renewals (every lease / 3).
          await sleep(1300);
          return 'ok';
        },
        { leaseMs: 400, workerId: 'w1' },
      );
      w.on('error', () => undefined);
      try {
        const state = await waitFinished(q, id, 10_000);
        const job = await q.getJob(id);
        expect({
          state,
          outcomes: job?.attempts.map((a) => a.outcome),
          refusals: job?.refusals.length,
        }).toEqual({
          state: 'completed',
          outcomes: ['failed', 'succeeded'],
          refusals: 0,
        });
      } finally {
        await w.close({ timeoutMs: 1000 });
      }
    });

    it('counts it as running (concurrency is not exceeded)', async () => {
      const q = new Queue(`rg${uniquePrefix()}`, {
        backend: backend(),
        retry: { attempts: 2, backoff: { type: 'immediate' } },
      });
      const { id } = await q.add('slow-second-attempt', null);
      let running = false;
      const w = new Worker(
        q,
        async (job) => {
          if (job.attempt === 1) throw new Error('first attempt fails fast');
          running = true;
          await sleep(300);
          return 'ok';
        },
        { leaseMs: 5000, workerId: 'w1' },
      );
      w.on('error', () => undefined);
      try {
        const deadline = Date.now() + 3000;
        while (!running && Date.now() < deadline) await sleep(5);
        await sleep(50);
        // Attempt 2 runs now: the worker must count it.
        expect(w.running).toBe(1);
        expect(await waitFinished(q, id, 3000)).toBe('completed');
      } finally {
        await w.close({ timeoutMs: 1000 });
      }
    });
  });
}

/**
 * Regression (fault suite, scenario 11, Redis Cluster failover; fixed): a finish whose reply was
 * lost (the master holding the queue was killed after applying it and replicating it, before
 * answering) left the job completed but the worker never said so: no `completed` event, the
 * attempt's span ended as refused, and the failover test counted the job as stuck. The worker
 * now sends the finish again while the lease may hold (#finishResending in src/worker.ts); the
 * finish transition recognises the repeat and answers it as applied. The same resend applies a
 * finish whose call failed before reaching the backend.
 */
function lostFinishReplyCases(name: string, backend: () => Backend): void {
  /** The backend, with its first `fail` finishAndClaim calls failing: after applying them when
   * `applied` (a lost reply), before (a call that never arrived) otherwise. */
  const flaky = (b: Backend, fail: number, applied: boolean): Backend => {
    let left = fail;
    return new Proxy(b, {
      get(target, prop, receiver) {
        if (prop === 'finishAndClaim') {
          return async (...args: Parameters<Backend['finishAndClaim']>) => {
            if (left > 0) {
              left--;
              if (applied) await target.finishAndClaim(...args);
              throw new Error('Connection is closed.');
            }
            return target.finishAndClaim(...args);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
  for (const [applied, fail] of [
    [true, 1],
    [false, 3],
  ] as const) {
    it(`${name}: a finish ${applied ? 'applied whose reply was lost' : `that failed ${fail} times before reaching the backend`} is sent again: completed once, reported once`, async () => {
      const q = new Queue(`rg${uniquePrefix()}`, { backend: flaky(backend(), fail, applied) });
      const { id } = await q.add('one', null);
      let runs = 0;
      const completed: number[] = [];
      const errors: unknown[] = [];
      const w = new Worker(
        q,
        () => {
          runs++;
          return 'ok';
        },
        { leaseMs: 2000, workerId: 'w1' },
      );
      w.on('error', (e) => errors.push(e));
      w.on('completed', (e) => completed.push(e.attempt));
      try {
        expect(await waitFinished(q, id, 3000)).toBe('completed');
        const deadline = Date.now() + 3000;
        while (completed.length === 0 && Date.now() < deadline) await sleep(10);
        const job = await q.getJob(id);
        expect({
          runs,
          completed,
          errors: errors.length,
          outcomes: job?.attempts.map((a) => a.outcome),
          refusals: job?.refusals.length,
          result: job?.result,
        }).toEqual({
          runs: 1,
          completed: [1],
          errors: 0,
          outcomes: ['succeeded'],
          refusals: 0,
          result: 'ok',
        });
      } finally {
        await w.close({ timeoutMs: 1000 });
      }
    });
  }
}

/**
 * Regression (fault suite, scenario 5; fixed): a job that only shared a worker with a poison job was
 * dead-lettered as poison too: the jobs in flight on a worker that a poison job kills stall with it,
 * were recovered next to each other and claimed together again, until maxStalls. Now a job that has
 * stalled is a suspect, handed only to an idle worker, alone (claimJobs in
 * src/backends/redis/lua/includes/claimJobs.lua; #claimNow in the memory backend): the poison job keeps
 * stalling alone and dies, its neighbours complete.
 */
function bystanderCases(name: string, backend: () => Backend): void {
  it(`${name}: a job claimed in the same batch as a poison job is isolated, not dead-lettered as poison`, async () => {
    const b = backend();
    const q = `rg${uniquePrefix()}`;
    const opts = JSON.stringify({ retry: { phases: [], maxAttempts: 1 }, timeoutMs: 0, maxStalls: 2 });
    const req = (name: string) => ({
      id: undefined,
      name,
      data: 'null',
      opts,
      maxStalls: 2,
      delayMs: 0,
      runAt: undefined,
    });
    const [poison, bystander] = await b.add(q, [req('poison'), req('bystander')]);
    // Delivery 1: a worker with batchSize 4 claims both, then the poison job kills it.
    const first = await b.claim(q, { workerId: 'w1', leaseMs: 50, max: 4, exclusiveOk: true });
    expect(first.jobs.map((j) => j.id)).toEqual([poison?.id, bystander?.id]);
    await sleep(80);
    expect(await b.recoverStalled(q)).toBe(2);
    // Both are suspects now: a busy worker gets neither; an idle one gets one, alone.
    const busy = await b.claim(q, { workerId: 'busy', leaseMs: 50, max: 4, exclusiveOk: false });
    expect(busy.jobs).toEqual([]);
    expect(busy.nextWakeInMs).toBe(25); // stopped by a suspect: look again soon, not after idleCheckMs
    const second = await b.claim(q, { workerId: 'w2', leaseMs: 50, max: 4, exclusiveOk: true });
    expect(second.jobs.map((j) => [j.id, j.exclusive])).toEqual([[poison?.id, true]]);
    await sleep(80);
    expect(await b.recoverStalled(q)).toBe(1);
    expect((await b.getJob(q, poison?.id as string))?.dead?.reason).toBe('poison');
    // The bystander runs alone and completes.
    const third = await b.claim(q, { workerId: 'w3', leaseMs: 5000, max: 4, exclusiveOk: true });
    expect(third.jobs.map((j) => [j.id, j.exclusive])).toEqual([[bystander?.id, true]]);
    const [done] = await finishOnly(b, q, [
      {
        id: bystander?.id as string,
        attempt: 2,
        workerId: 'w3',
        outcome: 'succeeded',
        result: 'null',
        decision: { action: 'done' },
      },
    ]);
    expect(done).toMatchObject({ ok: true, state: 'completed' });
  });
}

const memory = new MemoryBackend();
afterAll(() => memory.close());
immediateRetryCases('memory', () => memory);
bystanderCases('memory', () => memory);
lostFinishReplyCases('memory', () => memory);

describeRedis('redis', () => {
  const prefix = uniquePrefix();
  const backend = new RedisBackend({ connection: redisUrl() as string, prefix, onWarning: () => undefined });
  afterAll(async () => {
    await backend.close();
    await cleanupKeys(redisUrl() as string, `${prefix}:*`);
  });
  immediateRetryCases('redis', () => backend);
  bystanderCases('redis', () => backend);
  lostFinishReplyCases('redis', () => backend);
});

/**
 * Regression (fault suite, scenario 4, black hole; fixed): src/backends/redis/redis-backend.ts, the
 * connections a RedisBackend opens had no client-side timeout. A connection whose path becomes a
 * black hole (no byte, no FIN, no RST back: NAT or firewall state lost, a partition) never errors,
 * so every command sent on it waits for ever, even after the network is back: a worker's claim loop
 * (or the CLIENT UNBLOCK ending an idle wait) hangs and the worker never completes a job again; a
 * producer's adds hang the same way. Fixed by a default ioredis `socketTimeout` (5 s) on the
 * backend's own connections: the dead socket is destroyed, ioredis reconnects and resends. The
 * blocking connections are exempt (a BLPOP is silent by design; waitForWork guards them).
 * Expected: after a 1 s / 1.5 s hole the pending command completes and the worker completes a new
 * job, within the socket timeout and a reconnect. Actual before the fix: neither, ever.
 */
describeRedis.concurrent('redis: connections in a black hole (no FIN, no RST)', () => {
  const target = (): { host: string; port: number } => {
    const u = new URL(redisUrl() as string);
    return { host: u.hostname, port: Number(u.port || 6379) };
  };
  const noWarn = (): void => undefined;

  it('a command sent into it completes once the path is back (default socket timeout)', async () => {
    const proxy = await startProxy(target());
    const b = new RedisBackend({ connection: proxy.url, prefix: uniquePrefix(), onWarning: noWarn });
    try {
      await b.now();
      proxy.blackhole();
      const t0 = Date.now();
      const pending = b.now().then(() => Date.now() - t0);
      await sleep(1000);
      proxy.restore();
      expect(await Promise.race([pending, sleep(9000).then(() => 'still pending')])).toBeLessThan(8000);
    } finally {
      b.client.disconnect();
      await proxy.close();
    }
  });

  it('a worker whose connections were black-holed for longer than its lease completes jobs again', async () => {
    const proxy = await startProxy(target());
    const prefix = uniquePrefix();
    const name = `bh${uniquePrefix()}`;
    const viaProxy = new RedisBackend({ connection: proxy.url, prefix, onWarning: noWarn });
    const direct = new RedisBackend({ connection: redisUrl() as string, prefix, onWarning: noWarn });
    const q = new Queue(name, { backend: direct });
    const w = new Worker(new Queue(name, { backend: viaProxy }), () => 'ok', {
      leaseMs: 1000,
      idleCheckMs: 300,
      workerId: 'bh-worker',
    });
    w.on('error', () => undefined);
    try {
      const before = await q.add('before', null);
      expect(await waitFinished(q, before.id, 3000)).toBe('completed');
      proxy.blackhole(); // the idle worker's blocking and command connections alike
      await sleep(1500);
      proxy.restore();
      const after = await q.add('after', null);
      expect(await waitFinished(q, after.id, 9000)).toBe('completed');
    } finally {
      await Promise.race([w.close({ timeoutMs: 500 }), sleep(2000)]);
      viaProxy.client.disconnect();
      await direct.close();
      await cleanupKeys(redisUrl() as string, `${prefix}:*`);
      await proxy.close();
    }
  });

  it('a blocking connection does not inherit the socket timeout: a long idle wait is not cut', async () => {
    const proxy = await startProxy(target());
    const b = new RedisBackend({
      connection: { host: '127.0.0.1', port: proxy.port, socketTimeout: 200 },
      prefix: uniquePrefix(),
      onWarning: noWarn,
    });
    try {
      await b.now();
      const ac = new AbortController();
      const t0 = Date.now();
      await b.waitForWork('q', 700, ac.signal);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(650);
      // The command connection and one blocking connection, neither cut and reopened.
      expect(proxy.stats().accepted).toBe(2);
    } finally {
      await b.close();
      await proxy.close();
    }
  });
});

/**
 * Regression (CI, the "survives dropped connections" test; fixed): src/backends/redis/redis-backend.ts,
 * waitForWork. An idle worker's wait first asks its blocking connection for its CLIENT ID (after a
 * reconnect the old id is not trusted). When that connection had been cut and was waiting to
 * reconnect, the CLIENT ID sat in ioredis's offline queue; if the worker was closed right then, the
 * abort dropped the connection, which cancels the reconnect, and the queued command never settled:
 * waitForWork, the worker's loop and `worker.close()` hung for good. Now the abort and the wait's own
 * deadline end the wait wherever it is, the CLIENT ID included.
 */
describeRedis('redis: an idle wait on a connection waiting to reconnect', () => {
  it('ends on abort, instead of hanging on a command that can never be sent', async () => {
    const u = new URL(redisUrl() as string);
    const proxy = await startProxy({ host: u.hostname, port: Number(u.port || 6379) });
    const p = new URL(proxy.url);
    const b = new RedisBackend({
      // A slow reconnect keeps the window open: the cut connection waits 400 ms before it reconnects.
      connection: { host: p.hostname, port: Number(p.port), retryStrategy: () => 400 },
      prefix: uniquePrefix(),
      onWarning: () => undefined,
    });
    try {
      // A first wait makes the blocking connection and learns its id; it times out and is pooled.
      await b.waitForWork('rq', 30, new AbortController().signal);
      proxy.cut();
      await sleep(30);
      const ac = new AbortController();
      const t0 = Date.now();
      const waiting = b.waitForWork('rq', 5000, ac.signal).then(() => Date.now() - t0);
      setTimeout(() => ac.abort(), 50);
      const ended = await Promise.race([waiting, sleep(3000).then(() => -1)]);
      expect(ended, 'waitForWork ended after the abort').toBeGreaterThanOrEqual(0);
      expect(ended).toBeLessThan(1000);
    } finally {
      await b.close();
      await proxy.close();
    }
  });
});
