/**
 * The cost of the retry analytics rollups (`npm run bench:rollups`): the c100 processing scenario
 * (N no-op jobs, one worker, concurrency 100) with the queue's rollups on and off, alternating run
 * by run on one own redis-server (free port, no persistence), medians of REPS runs each; the same
 * for a retry path (every job fails twice, retried at once, then succeeds); Redis CPU per job from
 * INFO (used_cpu_user + used_cpu_sys), which other processes on the machine disturb less than
 * jobs/s; and the memory of a rollup bucket (MEMORY USAGE of the minute and hour hashes), for the
 * bench's one job name and for a busier mix (20 names, 8 error fingerprints, 3 rules).
 * N = 20000, REPS = 5 (ROLLUP_BENCH_JOBS, ROLLUP_BENCH_REPS to change).
 *
 * `--callgrind`: instead, Redis instructions per job (valgrind --tool=callgrind on redis-server,
 * counted over the processing only, 2,000 jobs driven in fixed batches of 50, one run per side; see
 * drive): a count that the other processes on the machine do not change, unlike jobs/s.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { RedisBackend } from '../src/backends/redis/redis-backend.js';
import { queueKeys } from '../src/backends/redis/keys.js';
import type { FinishRequest } from '../src/backend.js';
import { classifyError, resolveClassifyOptions, serializeError } from '../src/classify.js';
import { decideAfterFailure } from '../src/decide.js';
import { PermanentError } from '../src/errors.js';
import { errorFingerprint } from '../src/fingerprint.js';
import type { JobOptionsStored } from '../src/types.js';
import { Queue } from '../src/queue.js';
import { Worker } from '../src/worker.js';
import { getFreePort, startRedisServer } from '../test/helpers/redis-server.js';
import { bucketStart, ROLLUP_HOUR_MS, ROLLUP_MINUTE_MS } from '../src/rollup.js';

const N = Number(process.env.ROLLUP_BENCH_JOBS ?? 20_000);
const REPS = Number(process.env.ROLLUP_BENCH_REPS ?? 5);

type Handler = (job: { attempt: number; data: unknown }) => unknown;

async function redisCpuMs(backend: RedisBackend): Promise<number> {
  const info = String(await backend.client.call('INFO', 'cpu'));
  const get = (k: string): number => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1000;
}

/** Processes n jobs at concurrency 100; jobs/s and Redis CPU µs per job. */
async function run(
  backend: RedisBackend,
  queue: string,
  rollups: boolean,
  n: number,
  handler: Handler,
): Promise<{ rate: number; redisUsPerJob: number }> {
  const q = new Queue(queue, { backend, retry: { attempts: 5, backoff: { type: 'immediate' } } });
  await q.setRollups(rollups);
  for (let i = 0; i < n; i += 1000) {
    await q.addBulk(
      Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ name: 'n', data: { i: i + j } })),
    );
  }
  global.gc?.();
  const cpu0 = await redisCpuMs(backend);
  const start = performance.now();
  const w = new Worker(q, handler as never, { concurrency: 100, leaseMs: 30_000 });
  w.on('error', () => undefined);
  for (;;) {
    if ((await q.counts()).completed >= n) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const ms = performance.now() - start;
  const cpu1 = await redisCpuMs(backend);
  await w.close();
  return { rate: (n / ms) * 1000, redisUsPerJob: ((cpu1 - cpu0) * 1000) / n };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function compare(backend: RedisBackend, label: string, handler: Handler): Promise<void> {
  const on: { rate: number; redisUsPerJob: number }[] = [];
  const off: { rate: number; redisUsPerJob: number }[] = [];
  for (let r = 0; r < REPS; r++) {
    // Alternate which goes first, so a drift of the machine does not favour one side.
    const order = r % 2 === 0 ? [false, true] : [true, false];
    for (const withRollups of order) {
      await backend.client.call('FLUSHALL');
      const res = await run(backend, `bench`, withRollups, N, handler);
      (withRollups ? on : off).push(res);
    }
  }
  const rOn = median(on.map((x) => x.rate));
  const rOff = median(off.map((x) => x.rate));
  const cOn = median(on.map((x) => x.redisUsPerJob));
  const cOff = median(off.map((x) => x.redisUsPerJob));
  console.log(
    `${label}: rollups off ${Math.round(rOff)} jobs/s, on ${Math.round(rOn)} jobs/s: ${(((rOn - rOff) / rOff) * 100).toFixed(1)} % throughput; ` +
      `Redis CPU ${cOff.toFixed(1)} → ${cOn.toFixed(1)} µs/job (+${(cOn - cOff).toFixed(1)} µs, ${(((cOn - cOff) / cOff) * 100).toFixed(1)} %)`,
  );
  console.log(
    `  runs off: ${off.map((x) => Math.round(x.rate)).join(', ')}; on: ${on.map((x) => Math.round(x.rate)).join(', ')}`,
  );
}

async function bucketMemory(backend: RedisBackend, queue: string): Promise<string> {
  const now = await backend.now();
  const k = queueKeys('rt', queue);
  const out: string[] = [];
  for (const [label, key] of [
    ['minute', k.rollupMinute(bucketStart(now, ROLLUP_MINUTE_MS))],
    ['hour', k.rollupHour(bucketStart(now, ROLLUP_HOUR_MS))],
  ] as const) {
    const bytes = Number(await backend.client.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    const fields = Number(await backend.client.call('HLEN', key));
    const enc = String(await backend.client.call('OBJECT', 'ENCODING', key));
    out.push(`${label} bucket ${bytes} B (${fields} fields, ${enc})`);
  }
  return out.join('; ');
}

function control(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('callgrind_control', args, { stdio: 'ignore' });
    c.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`callgrind_control ${args.join(' ')}: ${code}`)),
    );
  });
}

/**
 * Runs n jobs to their end through the backend as a worker at concurrency 100 would, but in fixed
 * batches (claim 50, then finish those 50 and claim 50 more in one call), so that both sides of
 * the comparison send the very same calls: under valgrind a Worker's batches vary with timing, and
 * the instruction counts with them (±10 % between runs of one side). Each job's first `fails`
 * attempts fail (an ECONNRESET, classified, decided and fingerprinted as the worker does), then it
 * succeeds.
 */
async function drive(backend: RedisBackend, queue: string, n: number, fails: number): Promise<void> {
  const classify = resolveClassifyOptions(undefined);
  const claim = { workerId: 'cg', leaseMs: 120_000, max: 50, exclusiveOk: false };
  let jobs = (await backend.claim(queue, claim)).jobs;
  let done = 0;
  while (done < n) {
    if (jobs.length === 0) throw new Error(`the driver found nothing to claim after ${done} of ${n} jobs`);
    const reqs: FinishRequest[] = jobs.map((c) => {
      if (c.attempt > fails) {
        done++;
        return {
          id: c.id,
          attempt: c.attempt,
          workerId: 'cg',
          heldMs: 0,
          outcome: 'succeeded',
          result: 'null',
          decision: { action: 'done' },
        };
      }
      const thrown = Object.assign(new Error('flaky'), { code: 'ECONNRESET' });
      const error = serializeError(thrown);
      const cls = classifyError(thrown, classify);
      const policy = (JSON.parse(c.opts) as JobOptionsStored).retry;
      const decision = decideAfterFailure({
        classification: cls,
        policy,
        failuresBefore: c.failures,
        prevDelayMs: c.prevDelayMs,
        random: Math.random,
        error,
      });
      if (decision.action !== 'retry') {
        throw new Error(`the driver expected a retry: ${JSON.stringify(decision)}`);
      }
      return {
        id: c.id,
        attempt: c.attempt,
        workerId: 'cg',
        heldMs: 0,
        outcome: 'failed',
        error,
        errorClass: cls.errorClass,
        rule: cls.rule,
        fingerprint: errorFingerprint(error),
        decision,
      };
    });
    const [, next] = await backend.finishAndClaim(queue, reqs, claim);
    jobs = next.jobs;
  }
}

/** Redis instructions per job while n jobs run to their end (see drive), rollups on or off. */
async function callgrindRun(rollups: boolean, n: number, fails: number): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'retraced-cg-'));
  const port = await getFreePort();
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${dir}/cg.out`,
      ...(process.env.ROLLUP_CG_TOGGLE ? [`--toggle-collect=${process.env.ROLLUP_CG_TOGGLE}`] : []),
      'redis-server',
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  const backend = new RedisBackend({ connection: `redis://127.0.0.1:${port}` });
  try {
    for (let i = 0; ; i++) {
      try {
        await backend.client.call('PING');
        break;
      } catch {
        if (i > 300) throw new Error('valgrind redis-server did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const q = new Queue('bench', { backend, retry: { attempts: 5, backoff: { type: 'immediate' } } });
    await q.setRollups(rollups);
    for (let i = 0; i < n; i += 1000) {
      await q.addBulk(
        Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ name: 'n', data: { i: i + j } })),
      );
    }
    await backend.client.call('CONFIG', 'RESETSTAT');
    await control(['--zero', String(child.pid)]);
    await drive(backend, 'bench', n, fails);
    await control(['--dump', String(child.pid)]);
    const stats = String(await backend.client.call('INFO', 'commandstats'));
    const calls = (cmd: string): number =>
      Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    console.log(
      `  (rollups ${rollups ? 'on' : 'off'}: ${(calls('evalsha') / n).toFixed(3)} script calls per job, ${(calls('hincrby') / n).toFixed(2)} HINCRBY per job)`,
    );
    // The dump after the zero: the newest file; its `summary:` line is the instruction count.
    const files = readdirSync(dir).filter((f) => f.startsWith('cg.out'));
    let ir = 0;
    for (const f of files) {
      const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(path.join(dir, f), 'utf8'));
      if (m && f !== 'cg.out') ir = Math.max(ir, Number(m[1]));
    }
    return ir / n;
  } finally {
    await backend.close();
    child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    if (process.env.ROLLUP_CG_KEEP) console.log(`  callgrind output kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function callgrind(): Promise<void> {
  const n = 2000;
  const only = process.env.ROLLUP_CG_ONLY;
  for (const [label, fails] of [
    ['c100 no-op', 0],
    ['retry path (fails twice)', 2],
  ] as [string, number][]) {
    if (only && !label.startsWith(only)) continue;
    const off: number[] = [];
    const on: number[] = [];
    // The driver sends the same calls every run: one run per side.
    const sides = process.env.ROLLUP_CG_ON_ONLY ? [true] : [false, true];
    for (const rollups of sides) {
      (rollups ? on : off).push(await callgrindRun(rollups, n, fails));
    }
    const a = median(off);
    const b = median(on);
    console.log(
      `Redis instructions per job, ${label}, ${n} jobs (callgrind): rollups off ${Math.round(a)}, on ${Math.round(b)}: +${Math.round(b - a)} (${(((b - a) / a) * 100).toFixed(1)} %)`,
    );
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--callgrind')) return callgrind();
  const redis = await startRedisServer();
  const backend = new RedisBackend({ connection: redis.url });
  try {
    console.log(`N = ${N}, ${REPS} runs each, medians; own redis-server ${redis.url}`);
    await compare(backend, 'c100 processing (no-op jobs)', () => null);
    await compare(backend, 'retry path (each job fails twice, immediate retry)', (job) => {
      if (job.attempt <= 2) throw Object.assign(new Error('flaky'), { code: 'ECONNRESET' });
      return null;
    });

    // Memory per bucket: the bench's one name, then a busier mix in one minute.
    await backend.client.call('FLUSHALL');
    await run(backend, 'one', true, 2000, () => null);
    console.log(`one job name, no failure: ${await bucketMemory(backend, 'one')}`);
    await backend.client.call('FLUSHALL');
    const q = new Queue<{ k: number }>('mix', {
      backend,
      retry: { attempts: 4, backoff: { type: 'immediate' } },
    });
    const jobs = Array.from({ length: 4000 }, (_, i) => ({ name: `job-${i % 20}`, data: { k: i } }));
    for (let i = 0; i < jobs.length; i += 1000) await q.addBulk(jobs.slice(i, i + 1000));
    const w = new Worker(
      q,
      async (job) => {
        const k = job.data.k;
        if (k % 50 === 0) throw new PermanentError(`bad input ${k % 8}`);
        if (k % 3 === 0 && job.attempt <= k % 4) {
          throw Object.assign(new Error(`upstream ${k % 8} unavailable`), {
            code: ['ECONNRESET', 'ETIMEDOUT'][k % 2],
          });
        }
        await new Promise((r) => setTimeout(r, k % 7));
        return null;
      },
      { concurrency: 50 },
    );
    w.on('error', () => undefined);
    for (;;) {
      const c = await q.counts();
      if (c.completed + c.dead >= jobs.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await w.close();
    console.log(
      `20 names, 8 fingerprints, 3 rules, failures and deaths: ${await bucketMemory(backend, 'mix')}`,
    );
  } finally {
    await backend.close();
    await redis.stop();
  }
}

await main();
