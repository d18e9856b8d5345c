/**
 * Job search on Redis (not part of `npm run bench`): the memory of the search indexes per job, and
 * the latency of the jobs view's pages (`GET /queues/:queue/jobs`) on a queue of 100,000 jobs.
 *
 *   npx tsx bench/search.ts                 # 100,000 jobs, 20 pages per query, 3 rounds
 *   npx tsx bench/search.ts --jobs 20000 --pages 5 --rounds 1
 *
 * It starts its own redis-server (free port, no persistence), adds the jobs in batches of 1,000
 * (10 names), and runs them through the backend's own transitions in batches of 1,000 claims and
 * finishes: every 4th fails with a temporary error (ECONNRESET or ETIMEDOUT) and is scheduled for a
 * retry an hour later, every 10th dies of a permanent BAD_INPUT, the rest complete. Then it reads
 * `MEMORY USAGE` of every index key (`x:*`) and of the job hashes' `xi` fields, and times the API's
 * pages (Fastify `inject`, the whole request: route, schema, search script, job reads, summaries)
 * for a set of queries, following `nextCursor`.
 * @module
 */
import { parseArgs } from 'node:util';

import { Redis } from 'ioredis';

import type { FinishRequest } from '../src/backend.js';
import { RedisBackend } from '../src/backends/redis/index.js';
import { errorFingerprint } from '../src/fingerprint.js';
import { buildApp } from '../src/http/app.js';
import { Queue } from '../src/queue.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '100000' },
    pages: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
  },
});
const N = Number(values.jobs);
const PAGES = Number(values.pages);
const ROUNDS = Number(values.rounds);
const QUEUE = 'search';
const PREFIX = 'bs';
const NAMES = ['email', 'sms', 'push', 'invoice', 'report', 'sync', 'webhook', 'resize', 'index', 'export'];

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function main(): Promise<void> {
  const server = await startRedisServer();
  const admin = new Redis(server.url);
  const backend = new RedisBackend({ connection: server.url, prefix: PREFIX, onWarning: () => {} });
  const queue = new Queue(QUEUE, { backend });
  const t0 = Date.now();
  const before = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
  for (let i = 0; i < N; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({
        name: NAMES[(i + j) % NAMES.length] as string,
        data: { customer: `c-${(i + j) % 5000}`, order: i + j, note: (i + j) % 997 === 0 ? 'needle' : 'hay' },
      })),
    );
  }
  let n = 0;
  for (;;) {
    const { jobs } = await backend.claim(QUEUE, { workerId: 'bench', leaseMs: 600_000, max: 1000 });
    if (jobs.length === 0) break;
    const reqs = jobs.map((c): FinishRequest => {
      const k = n++;
      if (k % 10 === 1) {
        const error = { name: 'PermanentError', message: `bad input in order ${k}`, code: 'BAD_INPUT' };
        return {
          id: c.id,
          attempt: c.attempt,
          workerId: 'bench',
          outcome: 'failed',
          error,
          errorClass: 'permanent',
          rule: 'thrown:PermanentError',
          fingerprint: errorFingerprint(error),
          fingerprintLabel: 'PermanentError|BAD_INPUT|bad input in order #',
          decision: { action: 'dead', reason: 'permanent', explanation: 'permanent error' },
        };
      }
      if (k % 4 === 0) {
        const code = k % 8 === 0 ? 'ECONNRESET' : 'ETIMEDOUT';
        const error = { name: 'Error', message: `${code} talking to 10.0.0.${k % 250}`, code };
        return {
          id: c.id,
          attempt: c.attempt,
          workerId: 'bench',
          outcome: 'failed',
          error,
          errorClass: 'temporary',
          rule: `code:${code}`,
          fingerprint: errorFingerprint(error),
          decision: {
            action: 'retry',
            delayMs: 3_600_000,
            source: 'policy',
            explanation: '1 h',
            detail: { strategy: 'fixed' },
          },
        };
      }
      return {
        id: c.id,
        attempt: c.attempt,
        workerId: 'bench',
        outcome: 'succeeded',
        result: 'null',
        decision: { action: 'done' },
      };
    });
    await backend.finishAndClaim(QUEUE, reqs, { workerId: 'bench', leaseMs: 1000, max: 0 });
  }
  const after = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
  const fillS = (Date.now() - t0) / 1000;

  // Index memory: every x:* key, and the xi field of each job hash (its facets, for deletion).
  let indexBytes = 0;
  let indexKeys = 0;
  let entries = 0;
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${PREFIX}:{${QUEUE}}:x:*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      indexKeys++;
      indexBytes += Number(await admin.memory('USAGE', k, 'SAMPLES', 0));
      entries += await admin.zcard(k);
    }
  } while (cursor !== '0');
  let xiBytes = 0;
  for (let i = 1; i <= N; i++) {
    const len = await admin.hstrlen(`${PREFIX}:{${QUEUE}}:j:${i}`, 'xi');
    if (len > 0) xiBytes += len + 3; // the field name and its listpack entry headers, about
  }

  const app = await buildApp({ backend });
  const queries: [string, string][] = [
    ['completed, name (indexed, 6.5% of the queue)', 'state=completed&name=email'],
    ['scheduled, error code (indexed)', 'state=scheduled&errorCode=ECONNRESET'],
    [
      'dead, class + rule + name (3 indexes)',
      'state=dead&errorClass=permanent&rule=thrown%3APermanentError&name=sms',
    ],
    ['completed, name + text in data (scan within the index)', 'state=completed&name=push&text=needle'],
    ['dead, attempts ≥ 2 (index rt, none match: budget-bound)', 'state=dead&minAttempts=2'],
    ['completed, no indexed filter (state list by position)', 'state=completed'],
    [
      'scheduled, time range only (state list by position)',
      `state=scheduled&to=${Date.now() + 3_600_000_000}`,
    ],
  ];
  // Warm up: the first request compiles the route's schemas.
  await app.inject({ method: 'GET', url: `/queues/${QUEUE}/jobs?state=completed&name=email&limit=50` });
  const rows: string[] = [];
  const all: number[] = [];
  for (const [title, qs] of queries) {
    const lat: number[] = [];
    let pagesSeen = 0;
    let jobsSeen = 0;
    for (let r = 0; r < ROUNDS; r++) {
      let next: string | null = null;
      for (let p = 0; p < PAGES; p++) {
        const url: string = `/queues/${QUEUE}/jobs?${qs}&limit=50${next ? `&cursor=${next}` : ''}`;
        const t = performance.now();
        const res = await app.inject({ method: 'GET', url });
        lat.push(performance.now() - t);
        all.push(lat.at(-1) as number);
        if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
        const body = res.json() as { jobs: unknown[]; nextCursor: string | null };
        pagesSeen++;
        jobsSeen += body.jobs.length;
        next = body.nextCursor;
        if (!next) break;
      }
    }
    rows.push(
      `| ${title} | \`${qs.replace(/to=\d+/, 'to=…')}\` | ${pagesSeen} | ${(jobsSeen / pagesSeen).toFixed(1)} | ${pct(lat, 50).toFixed(1)} | ${pct(lat, 99).toFixed(1)} | ${Math.max(...lat).toFixed(1)} |`,
    );
  }
  const counts = await queue.counts();
  console.log(
    `search bench: ${N.toLocaleString('en')} jobs (${JSON.stringify(counts)}), filled in ${fillS.toFixed(1)} s; redis ${server.url}`,
  );
  console.log(
    `used_memory Δ / job (everything): ${Math.round((after - before) / N)} B; index keys: ${indexKeys}, entries: ${entries} (${(entries / N).toFixed(2)} per job)`,
  );
  console.log(
    `index memory / job: ${Math.round(indexBytes / N)} B in x:* keys + ${Math.round(xiBytes / N)} B of xi fields = ${Math.round((indexBytes + xiBytes) / N)} B`,
  );
  console.log('');
  console.log('| query | filters | pages | jobs / page | p50 ms | p99 ms | max ms |');
  console.log('| --- | --- | --: | --: | --: | --: | --: |');
  for (const r of rows) console.log(r);
  console.log(
    `| every page above | | ${all.length} | | ${pct(all, 50).toFixed(1)} | ${pct(all, 99).toFixed(1)} | ${Math.max(...all).toFixed(1)} |`,
  );
  await app.close();
  await backend.close();
  admin.disconnect();
  await server.stop();
}

await main();
