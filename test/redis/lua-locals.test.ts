/**
 * Lua allows a function at most 200 active locals, and a script's main chunk is one function: every
 * include's `local` and every local of the main loop count. A script near the limit breaks on the
 * next small change, at load time. This measures each script's headroom exactly: how many more
 * locals it loads with (`local _h0, …` put in front, bisected).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

import * as scripts from '../../src/backends/redis/generated/scripts.js';
import { describeRedis, redisUrl } from '../helpers/redis.js';

/** The least spare locals any script must keep; finish (the busiest) keeps more. */
const MIN_HEADROOM = 20;
const FINISH_HEADROOM = 25;

async function headroom(client: Redis, lua: string): Promise<number> {
  let lo = 0;
  let hi = 200;
  while (lo < hi) {
    const k = Math.ceil((lo + hi) / 2);
    const pre = `local ${Array.from({ length: k }, (_, i) => `_h${i}`).join(', ')}\n`;
    try {
      await client.call('SCRIPT', 'LOAD', pre + lua);
      lo = k;
    } catch {
      hi = k - 1;
    }
  }
  return lo;
}

describeRedis('Lua scripts stay clear of the 200 locals limit', () => {
  let client: Redis;
  beforeAll(() => {
    client = new Redis(redisUrl()!);
  });
  afterAll(() => client.disconnect());

  it(`leaves every script room for ${MIN_HEADROOM} more locals, finish for ${FINISH_HEADROOM}`, async () => {
    const low: string[] = [];
    for (const [name, s] of Object.entries(scripts)) {
      if (typeof s !== 'object' || !('lua' in s)) continue;
      const room = await headroom(client, s.lua);
      const min = name === 'finish' ? FINISH_HEADROOM : MIN_HEADROOM;
      if (room < min) low.push(`${name}: ${room} spare locals (at least ${min})`);
    }
    expect(low).toEqual([]);
  });
});
