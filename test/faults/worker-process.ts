/**
 * A worker process for the fault suite: one RedisBackend + Queue + Worker, run as
 *
 *   node --import tsx test/faults/worker-process.ts '<json WorkerProcessConfig>'
 *
 * The handler is chosen by `handler`; job data marks what a job does:
 *   noop          returns at once (after `data.ms` ms if set)
 *   slow          sleeps `data.ms` (default config.sleepMs) ms, ignoring the abort signal
 *   crash-on-job  `data.crash` = 'exit' → process.exit(1), 'kill' → SIGKILL itself; else as slow
 *   hang-forever  `data.hang` → blocks the event loop for good (Atomics.wait: no CPU used, no lease
 *                 renewal any more); `data.crash` as crash-on-job; else as slow
 *   flaky         throws TemporaryError(ECONNREFUSED) while `Date.now() < data.downUntil` (a
 *                 dependency that is down), else as slow
 * Any handler: `data.permanent` throws a PermanentError; `data.failAttempts` = k throws a
 * TemporaryError on attempts 1..k, then runs as above.
 * Before anything else every run does HINCRBY <prefix>:faults:runs <id> 1, so the suite knows how
 * many times each handler really started, whatever happened next (with `announceRuns`, it writes
 * {ev:'run', id, attempt} on stdout instead; with `recordStarts`, it also does HSET
 * <prefix>:faults:starts <id>:<attempt> <Redis TIME in ms>); both on `statsUrl` when given.
 *
 * With `memoryEveryMs`, {ev:'mem', rss, heapUsed, heapTotal, external, arrayBuffers} every that many
 * ms (after a full GC when run with --expose-gc).
 *
 * With `standby`, it connects and waits for SIGUSR2 before it starts claiming.
 *
 * stdout: one JSON object per line: {ev:'ready', now} (now: this process's Date.now(), skewed or not), {ev:'started'}, {ev:'hang'|'crash', id}, {ev:'refused'|'lease-lost', id, attempt},
 * {ev:'error', message}. SIGTERM closes the worker gracefully and exits 0.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { Redis } from 'ioredis';

import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { PermanentError, TemporaryError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { runsKey, startsKey, type FaultJobData, type WorkerProcessConfig } from './shared.js';

function out(msg: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** HSET key field <Redis TIME in ms>, in one script: the time is the server's. */
const RECORD_START = `local t = redis.call('TIME')
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)))
return 1`;

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as WorkerProcessConfig;
  const backend = new RedisBackend({ connection: cfg.url, prefix: cfg.prefix, onWarning: () => undefined });
  const redis = cfg.statsUrl ? new Redis(cfg.statsUrl) : backend.client;
  const queue = new Queue<FaultJobData>(cfg.queue, { backend });
  const worker = new Worker<FaultJobData>(
    queue,
    async (job) => {
      if (cfg.announceRuns) out({ ev: 'run', id: job.id, attempt: job.attempt });
      else await redis.hincrby(runsKey(cfg.prefix), job.id, 1);
      if (cfg.recordStarts) {
        await redis.eval(RECORD_START, 1, startsKey(cfg.prefix), `${job.id}:${job.attempt}`);
      }
      const d = job.data ?? {};
      if (d.permanent) throw new PermanentError('permanently broken input');
      if (d.failAttempts !== undefined && job.attempt <= d.failAttempts) {
        throw new TemporaryError('dependency timed out', { code: 'ETIMEDOUT' });
      }
      if (cfg.handler === 'crash-on-job' || cfg.handler === 'hang-forever') {
        if (d.crash) {
          out({ ev: 'crash', id: job.id, attempt: job.attempt, at: Date.now() });
          if (d.crash === 'kill') process.kill(process.pid, 'SIGKILL');
          process.exit(1);
        }
      }
      if (cfg.handler === 'hang-forever' && d.hang) {
        out({ ev: 'hang', id: job.id, attempt: job.attempt, at: Date.now() });
        // Blocks this thread without burning CPU: no timer, no renewal, no I/O ever runs again.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      }
      if (cfg.handler === 'flaky' && d.downUntil !== undefined && Date.now() < d.downUntil) {
        throw new TemporaryError('dependency unavailable', { code: 'ECONNREFUSED' });
      }
      const ms = d.ms ?? (cfg.handler === 'noop' ? 0 : (cfg.sleepMs ?? 0));
      if (ms > 0) await sleep(ms);
      return { by: cfg.workerId };
    },
    {
      workerId: cfg.workerId,
      concurrency: cfg.concurrency,
      leaseMs: cfg.leaseMs,
      idleCheckMs: cfg.idleCheckMs ?? 1000,
      autostart: cfg.standby !== true,
    },
  );
  worker.on('refused', (e) => out({ ev: 'refused', id: e.id, attempt: e.attempt }));
  worker.on('lease-lost', (e) => out({ ev: 'lease-lost', id: e.id, attempt: e.attempt }));
  worker.on('error', (e) => out({ ev: 'error', message: e.message }));
  worker.on('stalled', (e) => out({ ev: 'stalled', recovered: e.recovered, at: Date.now() }));
  // Event-loop lag, reported every second: a starved process renews and recovers late.
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  setInterval(() => {
    out({ ev: 'lag', maxMs: Math.round(lag.max / 1e6), p99Ms: Math.round(lag.percentile(99) / 1e6) });
    lag.reset();
  }, 1000).unref();
  if (cfg.memoryEveryMs !== undefined && cfg.memoryEveryMs > 0) {
    const gc = (globalThis as { gc?: () => void }).gc;
    setInterval(() => {
      gc?.();
      const m = process.memoryUsage();
      out({
        ev: 'mem',
        at: Date.now(),
        gc: gc !== undefined,
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
      });
    }, cfg.memoryEveryMs).unref();
  }
  let closing = false;
  process.on('SIGTERM', () => {
    if (closing) return;
    closing = true;
    void worker
      .close({ timeoutMs: 2000 })
      .then(() => backend.close())
      .then(() => (redis === backend.client ? undefined : redis.quit()))
      .finally(() => process.exit(0));
  });
  process.on('SIGUSR2', () => {
    worker.start();
    out({ ev: 'started' });
  });
  await backend.now(); // connected
  out({
    ev: 'ready',
    pid: process.pid,
    workerId: cfg.workerId,
    standby: cfg.standby === true,
    now: Date.now(),
  });
}

main().catch((e: unknown) => {
  out({ ev: 'fatal', message: e instanceof Error ? e.message : String(e) });
  process.exit(2);
});
