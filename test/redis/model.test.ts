/**
 * Model-based test: random command sequences give the same observable state on the memory backend
 * (the executable model) and on Redis. See test/model/model.ts for what is compared and how time is
 * kept out of it. Shrunk counterexamples are kept in model-regressions.test.ts.
 *
 * MODEL_RUNS / MODEL_SEED / MODEL_LENGTH override the defaults (30 runs × up to 25 commands).
 */
import fc from 'fast-check';
import { afterAll, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { RedisBackend } from '../../src/backends/redis/redis-backend.js';
import { ManualClock } from '../../src/clock.js';
import { commandsArb, runModel } from '../model/model.js';
import { cleanupKeys, describeRedis, redisUrl, uniquePrefix } from '../helpers/redis.js';

const RUNS = Number(process.env.MODEL_RUNS ?? 30);
const LENGTH = Number(process.env.MODEL_LENGTH ?? 25);
const SEED = process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED);

describeRedis('model: redis backend = memory backend', () => {
  const prefixes: string[] = [];
  const stats: Record<string, number> = {};
  afterAll(async () => {
    for (const p of prefixes) await cleanupKeys(redisUrl()!, `${p}:*`);
    if (process.env.MODEL_STATS) {
      console.log(
        Object.entries(stats)
          .sort()
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n'),
      );
    }
  });

  it(`random command sequences (${RUNS} runs × ≤ ${LENGTH} commands) keep both backends in the same observable state`, async () => {
    await fc.assert(
      fc.asyncProperty(commandsArb(LENGTH), async (cmds) => {
        const clock = new ManualClock(Date.now());
        const memory = new MemoryBackend({ clock });
        const prefix = uniquePrefix();
        prefixes.push(prefix);
        const redis = new RedisBackend({ connection: redisUrl()!, prefix, onWarning: () => undefined });
        try {
          await runModel({ memory, redis, queue: 'model', advanceMemory: (ms) => clock.advance(ms) }, cmds, {
            skipKnown: true,
            stats,
          });
        } finally {
          await redis.close();
          await memory.close();
        }
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: false },
    );
  }, 300_000);
});
