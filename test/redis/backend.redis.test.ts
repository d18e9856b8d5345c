/**
 * Redis-only behaviour: key layout, script cache loss, eviction-policy warning, dropped
 * connections. Destructive cases run on a redis-server of their own, never the shared one.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { sleep, waitUntil } from '../conformance/context.js';
import { finishOnly } from '../helpers/finish.js';
import { describeRedis, uniquePrefix } from '../helpers/redis.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

describeRedis('redis backend specifics', () => {
  let server: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin.disconnect();
    await server.stop();
  });

  it('keeps every key of a queue under the prefix and the queue hash tag', async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend({ connection: server.url, prefix, onWarning: () => undefined });
    const q = new Queue('tagged.q-1', {
      backend,
      retry: { attempts: 1 },
      retention: { completed: { count: 5 } },
    });
    const w = new Worker(q, async (job) => {
      if (job.name === 'bad') throw new Error('boom 42');
      return 'ok';
    });
    await q.addBulk([
      { name: 'good', data: 1 },
      { name: 'bad', data: 2 },
      { name: 'later', data: 3, options: { delay: 60_000 } },
    ]);
    await waitUntil(
      async () => (await q.counts()).dead === 1 && (await q.counts()).completed === 1,
      'jobs to finish',
    );
    await w.close();
    const keys = await admin.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(5);
    for (const k of keys) expect(k.startsWith(`${prefix}:{tagged.q-1}:`)).toBe(true);
    await backend.close();
  });

  it("expires a killed worker's registry entry by itself: its hash by TTL, its id from the zset at the next beat", async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend({ connection: server.url, prefix, onWarning: () => undefined });
    const beat = { host: 'h', pid: 1, queues: ['reg'], concurrency: 1, inFlight: 0, version: 'x' };
    await backend.workerHeartbeat('reg', { id: 'killed', ...beat }, 1000);
    const hash = `${prefix}:{reg}:wk:killed`;
    const zset = `${prefix}:{reg}:wks`;
    expect(await admin.pttl(hash)).toBeGreaterThan(0);
    expect(await admin.hget(hash, 'cc')).toBe('1');
    await sleep(1100);
    expect(await admin.exists(hash)).toBe(0);
    expect(await admin.zscore(zset, 'killed')).not.toBeNull();
    expect((await backend.listWorkers('reg')).workers).toEqual([]);
    await backend.workerHeartbeat('reg', { id: 'alive', ...beat }, 60_000);
    expect(await admin.zrange(zset, '0', '-1')).toEqual(['alive']);
    await backend.close();
  });

  it('keeps a finished job compact: history in its own list, options interned and released with the last job', async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend({ connection: server.url, prefix, onWarning: () => undefined });
    const q = new Queue('compact', { backend, retention: { completed: { count: 2 } } });
    const slow = {
      retry: { attempts: 5, backoff: { type: 'exponential' as const, delayMs: 1, maxDelayMs: 2 } },
    };
    let runs = 0;
    const w = new Worker(q, async () => {
      if (++runs % 3 !== 0) throw new Error('flaky dependency, with a message long enough to matter');
      return 'ok';
    });
    const first = await q.add('a', { n: 1 }, slow);
    const job = await (async () => {
      await waitUntil(async () => (await q.getJob(first.id))?.state === 'completed', 'the first job', 5000);
      return (await q.getJob(first.id))!;
    })();
    expect(job.attempts.map((a) => a.n)).toEqual([1, 2, 3]);
    expect(job.options.retry.maxAttempts).toBe(5);
    const jk = `${prefix}:{compact}:j:${first.id}`;
    // Every field of the job hash is short: Redis keeps it as a listpack, not a hash table.
    expect(await admin.object('ENCODING', jk)).toBe('listpack');
    expect(await admin.llen(`${prefix}:{compact}:h:${first.id}`)).toBe(3);
    const optsKey = `${prefix}:{compact}:o`;
    const interned = await admin.hgetall(optsKey);
    expect(Object.keys(interned).filter((k) => !k.startsWith('#'))).toHaveLength(1);
    expect(Object.entries(interned).find(([k]) => k.startsWith('#'))?.[1]).toBe('1');
    // Other options, then enough completions that retention evicts the first job (count 2).
    for (let i = 0; i < 3; i++) {
      await q.add('b', { n: i }, { retry: { attempts: 4, backoff: { type: 'immediate' } } });
    }
    await waitUntil(async () => (await q.getJob(first.id)) === null, 'the first job to be evicted', 5000);
    await w.close();
    expect(await admin.exists(jk, `${prefix}:{compact}:h:${first.id}`)).toBe(0);
    // The first options text was used by the evicted job only: released with it.
    const after = await admin.hgetall(optsKey);
    expect(Object.values(after)).not.toContain(
      interned[Object.keys(interned).find((k) => !k.startsWith('#'))!],
    );
    expect(Object.keys(after).filter((k) => !k.startsWith('#'))).toHaveLength(1);
    await backend.close();
  });

  it("keeps the rollups' memory of a job in one short field, and reads the two fields of earlier releases alike", async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend({ connection: server.url, prefix, onWarning: () => undefined });
    const SEP = '\x1f';
    const JSEP = '\x1e';
    const fingerprint = (code: string): string => `${code.toLowerCase()}0123456789abcdef`.slice(0, 16);
    /**
     * Fails (ECONNRESET), fails (ETIMEDOUT), succeeds; `legacy` rewrites ru as the two fields of
     * the releases before it (rk, rks) before each later attempt.
     */
    const run = async (name: string, legacy: boolean): Promise<unknown> => {
      const q = new Queue(name, { backend });
      const { id } = await q.add('call', null);
      const jk = `${prefix}:{${name}}:j:${id}`;
      for (const [n, code] of ['ECONNRESET', 'ETIMEDOUT', ''].entries()) {
        const ok = code === '';
        const ru = await admin.hget(jk, 'ru');
        if (n === 1) {
          // One set of keys: rk alone (rks is what rk gives), short enough for a listpack.
          const rk = `temporary${SEP}code:ECONNRESET${SEP}${fingerprint('ECONNRESET')}`;
          expect(ru).toBe(`${rk.length}:${rk}`);
          expect(await admin.object('ENCODING', jk)).toBe('listpack');
        }
        if (n === 2) {
          // Two: rk, then every key.
          const rk = `temporary${SEP}code:ETIMEDOUT${SEP}${fingerprint('ETIMEDOUT')}`;
          const rks = [
            '',
            'c:temporary',
            'r:code:ECONNRESET',
            `f:${fingerprint('ECONNRESET')}`,
            'r:code:ETIMEDOUT',
            `f:${fingerprint('ETIMEDOUT')}`,
            '',
          ].join(JSEP);
          expect(ru).toBe(`${rk.length}:${rk}${rks}`);
        }
        if (legacy && ru !== null) {
          const m = /^(\d+):/.exec(ru)!;
          const rest = ru.slice(m[0].length);
          const rk = rest.slice(0, Number(m[1]));
          let rks = rest.slice(rk.length);
          if (rks === '') {
            const [c, r, f] = rk.split(SEP);
            rks = `${JSEP}c:${c}${JSEP}r:${r}${JSEP}f:${f}${JSEP}`;
          }
          await admin.hdel(jk, 'ru');
          await admin.hset(jk, 'rk', rk, 'rks', rks);
        }
        const { jobs } = await backend.claim(name, {
          workerId: 'w',
          leaseMs: 5000,
          max: 1,
          exclusiveOk: true,
        });
        const base = { id, attempt: jobs[0]!.attempt, workerId: 'w' };
        const [r] = await finishOnly(backend, name, [
          ok
            ? { ...base, outcome: 'succeeded', result: 'null', decision: { action: 'done' } }
            : {
                ...base,
                outcome: 'failed',
                error: { name: 'Error', message: 'boom', code },
                errorClass: 'temporary',
                rule: `code:${code}`,
                fingerprint: fingerprint(code),
                fingerprintLabel: `L${code}`,
                decision: {
                  action: 'retry',
                  delayMs: 0,
                  source: 'policy',
                  explanation: 'at once',
                  detail: { strategy: 'immediate' },
                },
              },
        ]);
        expect(r?.ok).toBe(true);
      }
      const a = await q.analytics({ window: '10m', by: 'rule' });
      return {
        totals: a.totals,
        byRule: a.byRule,
        byFingerprint: a.byFingerprint,
        tts: a.timeToSuccess.count,
      };
    };
    const now = await run('ru-now', false);
    expect(now).toMatchObject({ totals: { attempts: 3, failed: 2, succeeded: 1 }, tts: 1 });
    expect(now).toMatchObject({
      byRule: [
        { key: 'code:ECONNRESET', failed: 1, next: 1, nextSucceeded: 0, recovered: 1, lost: 0 },
        { key: 'code:ETIMEDOUT', failed: 1, next: 1, nextSucceeded: 1, recovered: 1, lost: 0 },
      ],
    });
    expect(await run('ru-legacy', true)).toEqual(now);
    await backend.close();
  });

  it('keeps search indexes exactly: retention and purge remove every entry of the jobs they delete', async () => {
    const prefix = uniquePrefix();
    const backend = new RedisBackend({ connection: server.url, prefix, onWarning: () => undefined });
    const q = new Queue('indexed', {
      backend,
      retry: { attempts: 3, backoff: { type: 'immediate' } },
      retention: { completed: { count: 2 } },
    });
    const seen = new Set<string>();
    const w = new Worker(q, async (job) => {
      if (!seen.has(job.id)) {
        seen.add(job.id);
        throw Object.assign(new Error(`reset ${job.id}`), { code: 'ECONNRESET' });
      }
      return 'ok';
    });
    await q.addBulk([1, 2, 3, 4, 5].map((n) => ({ name: 'call', data: n })));
    await waitUntil(
      async () => (await q.counts()).completed === 2 && (await q.evictions()).completed === 3,
      'retention',
    );
    await w.close();
    const kept = (await q.getJobs('completed')).map((j) => j.id).sort();
    const indexKeys = await admin.keys(`${prefix}:{indexed}:x:*`);
    // name, class, rule, code, fingerprint, rt: each holds exactly the two jobs kept.
    expect(indexKeys).toHaveLength(6);
    for (const k of indexKeys) expect((await admin.zrange(k, '0', '-1')).sort()).toEqual(kept);
    // A stall: the trigger's index, found by search; poison and purge.
    const { id } = await q.add('hang', null, { maxStalls: 1 });
    const claimed = await backend.claim('indexed', { workerId: 'w', leaseMs: 20, max: 1 });
    expect(claimed.jobs.map((j) => j.id)).toEqual([id]);
    await sleep(40);
    expect(await backend.recoverStalled('indexed')).toBe(1);
    const found = await q.searchJobs({ state: 'dead', trigger: 'stall' });
    expect(found.jobs.map((j) => j.id)).toEqual([id]);
    expect(await q.dlq.purge({ ids: [id] })).toBe(1);
    for (const k of await admin.keys(`${prefix}:{indexed}:x:*`)) {
      expect(await admin.zrange(k, '0', '-1')).not.toContain(id);
    }
    await backend.close();
  });

  it('recovers from a flushed script cache (NOSCRIPT) transparently', async () => {
    const backend = new RedisBackend({
      connection: server.url,
      prefix: uniquePrefix(),
      onWarning: () => undefined,
    });
    const q = new Queue('scripts', { backend });
    await q.add('a', 1);
    await admin.script('FLUSH');
    const { id } = await q.add('b', 2);
    expect((await q.getJob(id))?.state).toBe('waiting');
    await backend.close();
  });

  it('warns when maxmemory-policy could evict jobs', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const warnings: string[] = [];
      const backend = new RedisBackend({
        connection: server.url,
        prefix: uniquePrefix(),
        onWarning: (m) => warnings.push(m),
      });
      await new Queue('warn', { backend }).add('x', null);
      await waitUntil(() => warnings.length > 0, 'a warning');
      expect(warnings[0]).toContain('allkeys-lru');
      expect(warnings[0]).toContain('noeviction');
      await backend.close();
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('survives dropped connections: workers reconnect, no job is lost or left active', async () => {
    const backend = new RedisBackend({
      connection: server.url,
      prefix: uniquePrefix(),
      onWarning: () => undefined,
    });
    const q = new Queue<number>('drops', { backend, retry: { attempts: 5, backoff: { type: 'immediate' } } });
    const w = new Worker(q, async () => sleep(2), { concurrency: 8, leaseMs: 1000, idleCheckMs: 200 });
    w.on('error', () => undefined);
    const total = 300;
    await q.addBulk(Array.from({ length: total }, (_, i) => ({ name: 'n', data: i })));
    for (let i = 0; i < 3; i++) {
      await sleep(60);
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    }
    await waitUntil(async () => (await q.counts()).completed === total, 'every job to complete', 15_000);
    const counts = await q.counts();
    expect(counts).toMatchObject({ waiting: 0, active: 0, scheduled: 0, dead: 0, completed: total });
    // Bounded: every job is done, so a close that waits on anything is a bug of its own, reported
    // by its own message rather than by the test's timeout.
    const closed = await Promise.race([
      w.close({ timeoutMs: 2000 }).then(() => true),
      sleep(8000).then(() => false),
    ]);
    expect(closed, 'worker.close() returned').toBe(true);
    await backend.close();
  }, 30_000);

  it('wakes a blocked idle worker as soon as a job is added', async () => {
    const backend = new RedisBackend({
      connection: server.url,
      prefix: uniquePrefix(),
      onWarning: () => undefined,
    });
    const q = new Queue('wake', { backend });
    const w = new Worker(q, async () => 'ok', { idleCheckMs: 30_000 });
    await sleep(100); // blocked in BLPOP for up to 30 s
    const { id } = await q.add('now', null);
    await waitUntil(async () => (await q.getJob(id))?.state === 'completed', 'completion', 3000);
    await w.close();
    await backend.close();
  });
});
