/**
 * Event-stream load test (not part of `npm test`): many SSE clients with churn against one API
 * server, while the API's latency is measured.
 *
 *   npx tsx bench/sse-load.ts                      # 500 clients (400 stay, 100 churn every 0.3 s), 20 s, Redis
 *   npx tsx bench/sse-load.ts --clients 200 --churn 200 --seconds 10 --backend memory
 *
 * The server runs in a child process (this file with `--serve`), so its CPU is its own; the
 * harness starts a redis-server (free port, no persistence), fills the queue's feed (10,000 events,
 * the most it keeps), adds 50 jobs a second during the test, and times `GET /queues` every 50 ms
 * before, during and after the load. It prints server CPU, Redis CPU and Redis traffic per phase.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get, type ClientRequest } from 'node:http';
import { parseArgs } from 'node:util';

import { Redis } from 'ioredis';

import type { Backend } from '../src/backend.js';
import { MemoryBackend } from '../src/backends/memory/index.js';
import { RedisBackend } from '../src/backends/redis/index.js';
import { buildApp } from '../src/http/app.js';
import { Queue } from '../src/queue.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

const QUEUE = 'load';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server process: the API on a free port, on Redis or in memory (then it also adds the jobs). */
async function serve(redisUrl: string | undefined): Promise<void> {
  const backend: Backend = redisUrl
    ? new RedisBackend({ connection: redisUrl, prefix: 'sseload', onWarning: () => {} })
    : new MemoryBackend();
  const app = await buildApp({ backend });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const queue = new Queue(QUEUE, { backend });
  await fill(queue);
  let producer: NodeJS.Timeout | undefined;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'produce' && !redisUrl) producer = produce(queue);
    if (m.type === 'stop') {
      clearInterval(producer);
      void app.close().then(() => backend.close().then(() => process.exit(0)));
    }
  });
  process.send?.({ type: 'ready', port });
}

async function fill(queue: Queue): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await queue.addBulk(Array.from({ length: 1000 }, (_, j) => ({ name: 'old', data: { i, j } })));
    await queue.addBulk(Array.from({ length: 1000 }, (_, j) => ({ name: 'old', data: { i, j } })));
  }
}

function produce(queue: Queue): NodeJS.Timeout {
  return setInterval(() => void queue.add('tick', { at: Date.now() }).catch(() => {}), 20);
}

function ticks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

interface Phase {
  name: string;
  latencies: number[];
  serverCpuS: number;
  redisCpuS: number;
  redisOutMB: number;
  seconds: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      clients: { type: 'string', default: '500' },
      churn: { type: 'string', default: '100' },
      'churn-ms': { type: 'string', default: '300' },
      seconds: { type: 'string', default: '20' },
      backend: { type: 'string', default: 'redis' },
    },
  });
  if (values.serve !== undefined) return serve(values.serve === 'memory' ? undefined : values.serve);
  const total = Number(values.clients);
  const churners = Math.min(total, Number(values.churn));
  const churnMs = Number(values['churn-ms']);
  const seconds = Number(values.seconds);

  const redisServer = values.backend === 'redis' ? await startRedisServer() : undefined;
  const redis = redisServer ? new Redis(redisServer.url) : undefined;
  const child: ChildProcess = fork(
    new URL(import.meta.url).pathname,
    ['--serve', redisServer?.url ?? 'memory'],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const port = await new Promise<number>((resolve) =>
    child.on('message', (m: { type: string; port: number }) => m.type === 'ready' && resolve(m.port)),
  );
  const base = `http://127.0.0.1:${port}`;
  let producer: NodeJS.Timeout | undefined;
  if (redisServer) {
    producer = produce(
      new Queue(QUEUE, {
        backend: new RedisBackend({ connection: redisServer.url, prefix: 'sseload', onWarning: () => {} }),
      }),
    );
  } else child.send({ type: 'produce' });

  const redisInfo = async () => {
    if (!redis) return { cpu: 0, out: 0 };
    const text = await redis.info();
    const n = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
    return { cpu: n('used_cpu_sys') + n('used_cpu_user'), out: n('total_net_output_bytes') };
  };
  const tick = 100; // clock ticks per second on Linux
  async function phase(name: string, ms: number): Promise<Phase> {
    const cpu0 = ticks(child.pid!);
    const r0 = await redisInfo();
    const started = Date.now();
    const latencies: number[] = [];
    while (Date.now() - started < ms) {
      const t0 = performance.now();
      await (await fetch(`${base}/queues`)).arrayBuffer();
      latencies.push(performance.now() - t0);
      await sleep(50);
    }
    const r1 = await redisInfo();
    return {
      name,
      latencies,
      seconds: (Date.now() - started) / 1000,
      serverCpuS: (ticks(child.pid!) - cpu0) / tick,
      redisCpuS: r1.cpu - r0.cpu,
      redisOutMB: (r1.out - r0.out) / 1e6,
    };
  }

  const phases: Phase[] = [await phase('before (no stream)', 5000)];
  const open = new Set<ClientRequest>();
  let connections = 0;
  let events = 0;
  let stopping = false;
  const connect = (stayMs: number | undefined): void => {
    if (stopping) return;
    connections++;
    const req = get(`${base}/events?queue=${QUEUE}`, { agent: false }, (res) => {
      res.on('data', (chunk: Buffer) => (events += chunk.toString().split('\nid: ').length - 1));
      if (stayMs !== undefined) setTimeout(() => req.destroy(), stayMs);
    });
    open.add(req);
    req.on('error', () => {});
    req.on('close', () => {
      open.delete(req);
      if (stayMs !== undefined) setTimeout(() => connect(stayMs), 10);
    });
  };
  for (let i = 0; i < total - churners; i++) connect(undefined);
  for (let i = 0; i < churners; i++) connect(churnMs);
  phases.push(await phase(`${total} clients, ${churners} churning every ${churnMs} ms`, seconds * 1000));
  stopping = true;
  for (const req of open) req.destroy();
  await sleep(500);
  phases.push(await phase('after (clients gone)', 5000));

  clearInterval(producer);
  console.log(
    `\nSSE load: ${connections} connections opened, ${events} events received; ${values.backend} backend\n`,
  );
  console.log('| phase | GET /queues p50 | p99 | server CPU | Redis CPU | Redis traffic out |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const p of phases) {
    console.log(
      `| ${p.name} (${p.seconds.toFixed(0)} s) | ${pct(p.latencies, 50).toFixed(1)} ms | ${pct(p.latencies, 99).toFixed(1)} ms | ${p.serverCpuS.toFixed(1)} s (${((100 * p.serverCpuS) / p.seconds).toFixed(0)}% of a core) | ${p.redisCpuS.toFixed(1)} s | ${p.redisOutMB.toFixed(1)} MB |`,
    );
  }
  child.send({ type: 'stop' });
  await new Promise((r) => child.once('exit', r));
  redis?.disconnect();
  await redisServer?.stop();
  process.exit(0);
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
