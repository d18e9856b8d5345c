/**
 * The rate-limit view's read (`queue.rateLimitState`, the `rate-limit-state` script) on a queue with
 * many groups (`npm run bench:rate-limit-view`; not part of `npm run bench`), on its own
 * redis-server (no persistence): `--groups` groups (default 100,000) with one waiting job each
 * under a group limit of 1/min, and `--parked` of them (default 20,000) with a second job and an
 * empty bucket (parked, after one claim each). Per page: the script's time inside Redis
 * (`INFO commandstats`, µs per call) and the client's round trip (median), for pages of 50 and 500
 * at the start, middle and end of the ring, of the parked groups, and one group by key (`LPOS`
 * through the whole ring: its worst case).
 *
 *   npx tsx bench/rate-limit-view.ts [--groups 100000] [--parked 20000] [--calls 50]
 * @module
 */
import { parseArgs } from 'node:util';

import { Redis } from 'ioredis';

import { RedisBackend } from '../src/backends/redis/index.js';
import { Queue } from '../src/queue.js';
import type { RateLimitStateQuery } from '../src/rate-limit.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

const { values: args } = parseArgs({
  options: {
    groups: { type: 'string', default: '100000' },
    parked: { type: 'string', default: '20000' },
    calls: { type: 'string', default: '50' },
  },
});
const GROUPS = Number(args.groups);
const PARKED = Number(args.parked);
const CALLS = Number(args.calls);

const cursor = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const key = (i: number): string => `tenant-${String(i).padStart(6, '0')}`;

async function evalStats(admin: Redis): Promise<{ calls: number; usec: number }> {
  const info = await admin.info('commandstats');
  let calls = 0;
  let usec = 0;
  for (const m of info.matchAll(/cmdstat_(?:evalsha|eval|fcall):calls=(\d+),usec=(\d+)/g)) {
    calls += Number(m[1]);
    usec += Number(m[2]);
  }
  return { calls, usec };
}

const server = await startRedisServer();
const admin = new Redis(server.url);
const backend = new RedisBackend({ connection: server.url, prefix: 'bv', onWarning: () => {} });
try {
  const q = new Queue('view', { backend, rateLimit: { group: { rate: 1, per: 60_000 } } });
  const t0 = Date.now();
  for (let i = 0; i < GROUPS; i += 1000) {
    const n = Math.min(1000, GROUPS - i);
    await q.addBulk(
      Array.from({ length: n }, (_, k) => ({ name: 'n', data: null, options: { group: key(i + k) } })),
    );
  }
  // The first PARKED groups get a second job; one claim per group then empties their buckets,
  // and the next turn parks them.
  for (let i = 0; i < PARKED; i += 1000) {
    const n = Math.min(1000, PARKED - i);
    await q.addBulk(
      Array.from({ length: n }, (_, k) => ({ name: 'n', data: null, options: { group: key(i + k) } })),
    );
  }
  let claimed = 0;
  if (PARKED > 0) {
    for (;;) {
      const r = await backend.claim('view', { workerId: 'w', leaseMs: 3_600_000, max: 1000 });
      claimed += r.jobs.length;
      if (r.jobs.length === 0) break;
    }
    // The groups that had one job are empty now; fill them again so the ring keeps GROUPS - PARKED.
    for (let i = PARKED; i < GROUPS; i += 1000) {
      const n = Math.min(1000, GROUPS - i);
      await q.addBulk(
        Array.from({ length: n }, (_, k) => ({ name: 'n', data: null, options: { group: key(i + k) } })),
      );
    }
  }
  const s0 = await q.rateLimitState({ limit: 1 });
  console.log(
    `setup: ${GROUPS} groups (${claimed} claims) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ` +
      `${s0.counts.turns} taking turns, ${s0.counts.parked} parked; redis ${(await admin.info('server')).match(/redis_version:(\S+)/)?.[1]}`,
  );
  const turns = s0.counts.turns;
  const cases: [string, RateLimitStateQuery][] = [
    ['ring, first page of 50', { limit: 50 }],
    ['ring, middle, 50', { limit: 50, cursor: cursor({ offset: Math.floor(turns / 2) }) }],
    ['ring, last page of 50', { limit: 50, cursor: cursor({ offset: Math.max(0, turns - 50) }) }],
    ['ring, first page of 500', { limit: 500 }],
    ['ring, middle, 500', { limit: 500, cursor: cursor({ offset: Math.floor(turns / 2) }) }],
    [
      'parked, middle, 50',
      { filter: 'parked', limit: 50, cursor: cursor({ offset: Math.floor(PARKED / 2) }) },
    ],
    [
      'parked, middle, 500',
      { filter: 'parked', limit: 500, cursor: cursor({ offset: Math.floor(PARKED / 2) }) },
    ],
    ['one group, end of the ring (LPOS)', { group: key(GROUPS - 1) }],
  ];
  console.log('| read | rows | in Redis (µs/call) | round trip median (ms) |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [label, query] of cases) {
    await q.rateLimitState(query); // script loaded, caches warm
    const before = await evalStats(admin);
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      rows = (await q.rateLimitState(query)).groups.length;
      times.push(performance.now() - t);
    }
    const after = await evalStats(admin);
    times.sort((a, b) => a - b);
    const perCall = (after.usec - before.usec) / Math.max(1, after.calls - before.calls);
    console.log(
      `| ${label} | ${rows} | ${perCall.toFixed(0)} | ${(times[Math.floor(times.length / 2)] as number).toFixed(2)} |`,
    );
  }
} finally {
  await backend.close();
  admin.disconnect();
  await server.stop();
}
