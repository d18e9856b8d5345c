/**
 * The cost of dedup/debounce and of progress and logs, on Redis (not part of `npm run bench`), each
 * beside the plain case in one run, medians of `--rounds`:
 *
 *   npx tsx bench/dedup-progress.ts                  # 10,000 jobs, 3 rounds
 *   npx tsx bench/dedup-progress.ts --jobs 2000 --rounds 1
 *
 * - add: `addBulk` in batches of 1,000, plain vs every job with its own dedup key (the add script's
 *   GET, SET PX and two more hash fields) vs all adds folded into one debounced job;
 * - process: one worker, concurrency 100, no-op handler vs a handler that reports progress once and
 *   logs 5 lines (batched by the worker into one `trail` script per attempt, before its finish).
 * It starts its own redis-server (free port, no persistence).
 *
 * Measured here (2 cores shared with other work, so only the ratios within one run mean anything;
 * 5,000 jobs, medians of 3, 2026-12-05 08:53 UTC): bulk add 64 ms plain, 109 ms with its own dedup
 * key per job, 78 ms with all adds folded into one debounced job; processing 27,822 jobs/s no-op vs
 * 15,821 jobs/s with progress + 5 log lines per attempt (the trail write is handed to Redis before
 * the finish, not awaited: src/trail-sender.ts `issued`; awaiting it, a busier run gave 8,749 vs
 * 3,065).
 * @module
 */
import { parseArgs } from 'node:util';

import { RedisBackend } from '../src/backends/redis/index.js';
import { Queue } from '../src/queue.js';
import { Worker, type Handler } from '../src/worker.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

const { values } = parseArgs({
  options: { jobs: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '3' } },
});
const N = Number(values.jobs);
const ROUNDS = Number(values.rounds);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const server = await startRedisServer();
  const backend = new RedisBackend({ connection: server.url, prefix: 'bd', onWarning: () => {} });
  let q = 0;
  const addMs = { plain: [] as number[], dedup: [] as number[], debounceOne: [] as number[] };
  const perSec = { plain: [] as number[], progressLogs: [] as number[] };

  const timeAdds = async (opts: (i: number) => object | undefined): Promise<number> => {
    const queue = new Queue(`a${q++}`, { backend });
    const t = performance.now();
    for (let i = 0; i < N; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, N - i) }, (_, j) => {
          const o = opts(i + j);
          return { name: 'n', data: { i: i + j }, ...(o ? { options: o } : {}) };
        }),
      );
    }
    return performance.now() - t;
  };
  const timeRun = async (handler: Handler): Promise<number> => {
    const queue = new Queue(`p${q++}`, { backend });
    for (let i = 0; i < N; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({ name: 'n', data: i + j })),
      );
    }
    const t = performance.now();
    const w = new Worker(queue, handler, { concurrency: 100 });
    let done = 0;
    await new Promise<void>((resolve) =>
      w.on('completed', () => {
        if (++done === N) resolve();
      }),
    );
    const ms = performance.now() - t;
    await w.close();
    return (N / ms) * 1000;
  };

  for (let r = 0; r < ROUNDS; r++) {
    addMs.plain.push(await timeAdds(() => undefined));
    addMs.dedup.push(await timeAdds((i) => ({ dedup: { key: `k${i}`, ttlMs: 600_000 } })));
    addMs.debounceOne.push(await timeAdds(() => ({ debounce: { key: 'one', delayMs: 600_000 } })));
    perSec.plain.push(await timeRun(() => null));
    perSec.progressLogs.push(
      await timeRun((job) => {
        job.progress({ step: 1 });
        for (let i = 0; i < 5; i++) job.log(`line ${i} of job ${job.id}`);
        return null;
      }),
    );
  }
  const f = (x: number): string => x.toFixed(0);
  console.log(`${N} jobs, medians of ${ROUNDS}`);
  console.log(
    `bulk add (batches of 1,000): plain ${f(median(addMs.plain))} ms, own dedup key each ${f(median(addMs.dedup))} ms, all folded into one debounced job ${f(median(addMs.debounceOne))} ms`,
  );
  console.log(
    `process, 1 worker, concurrency 100: no-op ${f(median(perSec.plain))} jobs/s, progress + 5 log lines ${f(median(perSec.progressLogs))} jobs/s`,
  );
  await backend.close();
  await server.stop();
}

await main();
