/**
 * A producer process for the fault suite (scenario 7, clock skew): adds jobs at a fixed rate for a
 * while, from a process whose clock may be skewed (libfaketime), run as
 *
 *   node --import tsx test/faults/producer-process.ts '<json ProducerProcessConfig>'
 *
 * Job i (name `<tag>-<i>`, data `{ i, ms }`) is, by i:
 *   runAt    every `runAtEvery`-th: runAt = Date.now() + runAtInMs (an absolute time read on this
 *            process's clock: the skew carries over)
 *   long     every `longEvery`-th: delayed, sleeps `longMs` (past the lease: it must be renewed)
 *   timeout  every `timeoutEvery`-th: delayed, sleeps `timeoutSleepMs` with timeout `timeoutMs`
 *   delayed  the others: delay in [minDelayMs, maxDelayMs], sleeps 5 ms
 *
 * stdout: {ev:'ready', now} (now: this process's Date.now()), one {ev:'added', id, kind, localNow,
 * delayMs | runAt} per accepted add, {ev:'done', added}, or {ev:'fatal', message}.
 */
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { Queue } from '../../src/queue.js';
import type { JobOptions } from '../../src/options.js';
import type { FaultJobData, ProducerAdded, ProducerProcessConfig } from './shared.js';

function out(msg: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as ProducerProcessConfig;
  const backend = new RedisBackend({ connection: cfg.url, prefix: cfg.prefix, onWarning: () => undefined });
  // Timed-out attempts are retried once, 500 ms later (a retry due time computed by the server),
  // then dead-lettered.
  const queue = new Queue<FaultJobData>(cfg.queue, {
    backend,
    retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 500 } },
  });
  await backend.now();
  out({ ev: 'ready', pid: process.pid, now: Date.now() });
  const total = Math.round((cfg.ratePerSec * cfg.durationMs) / 1000);
  const t0 = performance.now();
  let added = 0;
  for (let i = 0; i < total; i++) {
    // A fixed rate by the monotonic clock (never skewed): job i is sent at i / rate.
    const wait = t0 + (i * 1000) / cfg.ratePerSec - performance.now();
    if (wait > 0) await sleep(wait);
    const span = cfg.maxDelayMs - cfg.minDelayMs;
    const delayMs = cfg.minDelayMs + ((i * 7919) % (span + 1));
    let kind: ProducerAdded['kind'] = 'delayed';
    let data: FaultJobData = { i, ms: 5 };
    let options: JobOptions = { delay: delayMs };
    const localNow = Date.now();
    if (i % cfg.runAtEvery === cfg.runAtEvery - 1) {
      kind = 'runAt';
      options = { runAt: localNow + cfg.runAtInMs };
    } else if (i % cfg.longEvery === 1) {
      kind = 'long';
      data = { i, ms: cfg.longMs };
    } else if (i % cfg.timeoutEvery === 2) {
      kind = 'timeout';
      data = { i, ms: cfg.timeoutSleepMs };
      options = { delay: delayMs, timeout: cfg.timeoutMs };
    }
    const r = await queue.add(`${cfg.tag}-${i}`, data, options);
    added++;
    const msg: ProducerAdded = {
      ev: 'added',
      id: r.id,
      kind,
      localNow,
      ...(kind === 'runAt' ? { runAt: localNow + cfg.runAtInMs } : { delayMs }),
    };
    out(msg as unknown as Record<string, unknown>);
  }
  out({ ev: 'done', added });
  await backend.close();
}

main().catch((e: unknown) => {
  out({ ev: 'fatal', message: e instanceof Error ? e.message : String(e) });
  process.exit(2);
});
