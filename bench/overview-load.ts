/**
 * The overview under load (not part of `npm run bench`): 50 queues on Redis with about 500 events a
 * second, watched by dashboard tabs, while the API's latency, the event delivery delay, the CPU of
 * the server and of Redis, and (with a real browser) how far the overview's counts lag are measured.
 *
 *   npx tsx bench/overview-load.ts                          # 50 queues, 500 events/s, 10 tabs, 20 s, chromium
 *   npx tsx bench/overview-load.ts --queues 50 --events 500 --tabs 100 --seconds 20 --browser false
 *
 * The API (with the dashboard) runs in a child process (this file with `--serve`), so its CPU is its
 * own. The harness starts a redis-server (free port, no persistence), one producer that adds jobs
 * round robin over the queues, and one worker consuming every queue (weights 1, concurrency 50)
 * whose handler fails one job in ten once (a retry after 100 ms). The job rate that gives the
 * asked events per second is found by a 3 s calibration (events per job: added, active, completed,
 * and the failure's). Each simulated tab does what the overview does: one `GET /events` for every
 * queue, and `GET /queues` once a second (its throttled reload while events flow). With
 * `--browser` (default when /usr/bin/chromium exists) one real overview page is open too, and
 * every second the sum of its "completed" cells is compared with Redis's: the lag, in seconds of
 * completions, is how live the page stays.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { get, type ClientRequest } from 'node:http';
import { parseArgs } from 'node:util';

import { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';

import { RedisBackend } from '../src/backends/redis/index.js';
import { TemporaryError } from '../src/errors.js';
import { buildApp } from '../src/http/app.js';
import { Queue } from '../src/queue.js';
import { Worker } from '../src/worker.js';
import { buildUi, isStale, OUT_DIR } from '../scripts/build-ui.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

const PREFIX = 'ovload';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server process: the API and the dashboard on Redis, on a free port. */
async function serve(redisUrl: string): Promise<void> {
  const backend = new RedisBackend({ connection: redisUrl, prefix: PREFIX, onWarning: () => {} });
  const app = await buildApp({ backend, ui: OUT_DIR });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stop') void app.close().then(() => backend.close().then(() => process.exit(0)));
  });
  process.send?.({ type: 'ready', port });
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
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** One simulated overview tab: the stream of every queue, and GET /queues once a second. */
class Tab {
  events = 0;
  readonly delays: number[] = [];
  readonly listLatencies: number[] = [];
  #req: ClientRequest | undefined;
  #timer: NodeJS.Timeout | undefined;
  #buffer = '';

  constructor(
    readonly base: string,
    readonly measuring: () => boolean,
  ) {}

  open(): void {
    this.#req = get(`${this.base}/events`, { agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = Date.now();
        const blocks = (this.#buffer + chunk).split('\n\n');
        this.#buffer = blocks.pop() ?? '';
        for (const b of blocks) {
          const line = b.split('\n').find((l) => l.startsWith('data: '));
          if (!line) continue;
          this.events++;
          if (this.measuring()) this.delays.push(now - (JSON.parse(line.slice(6)) as { at: number }).at);
        }
      });
    });
    this.#req.on('error', () => {});
    this.#timer = setInterval(() => void this.#list(), 1000);
  }

  async #list(): Promise<void> {
    const t0 = performance.now();
    try {
      await (await fetch(`${this.base}/queues`)).arrayBuffer();
      if (this.measuring()) this.listLatencies.push(performance.now() - t0);
    } catch {
      // counted as missing
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#req?.destroy();
  }
}

/** The sum of the overview page's "completed" cells. */
async function shownCompleted(page: Page): Promise<number> {
  return page.evaluate(`[...document.querySelectorAll('a[aria-label*=" completed jobs in "]')]
    .reduce((n, a) => n + Number(a.textContent), 0)`) as Promise<number>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      queues: { type: 'string', default: '50' },
      events: { type: 'string', default: '500' },
      tabs: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '20' },
      browser: { type: 'string', default: existsSync(CHROMIUM) ? 'true' : 'false' },
    },
  });
  if (values.serve !== undefined) return serve(values.serve);
  const nQueues = Number(values.queues);
  const targetEvents = Number(values.events);
  const nTabs = Number(values.tabs);
  const seconds = Number(values.seconds);
  const withBrowser = values.browser === 'true';
  if (withBrowser && isStale()) await buildUi();

  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
  const child: ChildProcess = fork(new URL(import.meta.url).pathname, ['--serve', redisServer.url], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) =>
    child.on('message', (m: { type: string; port: number }) => m.type === 'ready' && resolve(m.port)),
  );
  const base = `http://127.0.0.1:${port}`;

  const backend = new RedisBackend({ connection: redisServer.url, prefix: PREFIX, onWarning: () => {} });
  const names = Array.from({ length: nQueues }, (_, i) => `q${String(i).padStart(2, '0')}`);
  const queues = names.map(
    (n) => new Queue(n, { backend, retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 100 } } }),
  );
  // Every queue exists (and shows in the overview) before anything watches.
  await Promise.all(queues.map((q) => q.add('warm', {})));
  let handled = 0;
  const workerBackend = new RedisBackend({
    connection: redisServer.url,
    prefix: PREFIX,
    onWarning: () => {},
  });
  const worker = new Worker(
    names.map((n) => ({ queue: new Queue(n, { backend: workerBackend }), weight: 1 })),
    async (job) => {
      handled++;
      if (handled % 10 === 0 && job.attempt === 1) throw new TemporaryError('flaky upstream');
    },
    { concurrency: 50 },
  );

  let jobsPerSecond = 100;
  let next = 0;
  const producer = setInterval(() => {
    // Every 10 ms, the share of the rate, round robin over the queues.
    const n = Math.max(1, Math.round(jobsPerSecond / 100));
    for (let i = 0; i < n; i++) {
      const q = queues[next++ % queues.length] as Queue;
      void q.add('tick', { at: Date.now() }).catch(() => {});
    }
  }, 10);

  // Calibration: events per job at this mix, from one tab's stream.
  let measuring = false;
  const probe = new Tab(base, () => measuring);
  probe.open();
  await sleep(1000);
  const e0 = probe.events;
  await sleep(3000);
  const eventsPerSecond = (probe.events - e0) / 3;
  const perJob = eventsPerSecond / jobsPerSecond;
  jobsPerSecond = Math.round(targetEvents / perJob);
  probe.close();
  console.log(
    `calibration: ${eventsPerSecond.toFixed(0)} events/s at 100 jobs/s (${perJob.toFixed(2)} events per job) → ${jobsPerSecond} jobs/s`,
  );

  const tabs = Array.from({ length: nTabs }, () => new Tab(base, () => measuring));
  for (const t of tabs) t.open();
  let browser: Browser | undefined;
  let page: Page | undefined;
  if (withBrowser) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${base}/`);
    await page
      .locator('tr[data-queue]')
      .nth(nQueues - 1)
      .waitFor();
  }
  await sleep(3000);

  const completedTotal = async () =>
    (await Promise.all(queues.map((q) => q.counts()))).reduce((n, c) => n + c.completed, 0);
  const lags: number[] = [];
  const cpu0 = ticks(child.pid!);
  const info0 = await redis.info('cpu');
  const redisCpu = (text: string) =>
    Number(/used_cpu_sys:([\d.]+)/.exec(text)?.[1]) + Number(/used_cpu_user:([\d.]+)/.exec(text)?.[1]);
  const events0 = tabs.reduce((n, t) => n + t.events, 0);
  const done0 = handled;
  measuring = true;
  const started = Date.now();
  while (Date.now() - started < seconds * 1000) {
    await sleep(1000);
    if (page) {
      const [shown, actual] = await Promise.all([shownCompleted(page), completedTotal()]);
      // Every job completes once: jobsPerSecond completions a second.
      lags.push(Math.max(0, actual - shown) / jobsPerSecond);
    }
  }
  measuring = false;
  const elapsed = (Date.now() - started) / 1000;
  const serverCpu = (ticks(child.pid!) - cpu0) / 100;
  const redisCpuS = redisCpu(await redis.info('cpu')) - redisCpu(info0);
  const delivered = tabs.reduce((n, t) => n + t.events, 0) - events0;
  const liveText = page ? await page.locator('.live').first().textContent() : undefined;

  const delays = tabs.flatMap((t) => t.delays);
  const lists = tabs.flatMap((t) => t.listLatencies);
  console.log(
    `\noverview load: ${nQueues} queues, ${(delivered / nTabs / elapsed).toFixed(0)} events/s per tab (target ${targetEvents}), ${((handled - done0) / elapsed).toFixed(0)} attempts/s handled, ${nTabs} simulated tabs${page ? ' + 1 chromium overview' : ''}, ${elapsed.toFixed(0)} s on Redis\n`,
  );
  console.log('| measure | p50 | p99 | max |');
  console.log('|---|---:|---:|---:|');
  console.log(
    `| event delivery delay (event time → tab) | ${ms(pct(delays, 50))} | ${ms(pct(delays, 99))} | ${ms(Math.max(...delays))} |`,
  );
  console.log(
    `| GET /queues (${nQueues} queues, each tab once a second) | ${ms(pct(lists, 50))} | ${ms(pct(lists, 99))} | ${ms(Math.max(...lists))} |`,
  );
  if (page) {
    console.log(
      `| chromium overview: completed count behind Redis, in seconds of work | ${pct(lags, 50).toFixed(2)} s | ${pct(lags, 99).toFixed(2)} s | ${Math.max(...lags).toFixed(2)} s |`,
    );
  }
  console.log(
    `\nserver CPU: ${serverCpu.toFixed(1)} s (${((100 * serverCpu) / elapsed).toFixed(0)}% of a core); Redis CPU: ${redisCpuS.toFixed(1)} s (${((100 * redisCpuS) / elapsed).toFixed(0)}% of a core)${liveText ? `; the page says: ${liveText}` : ''}`,
  );

  clearInterval(producer);
  for (const t of tabs) t.close();
  await browser?.close();
  await worker.close();
  await workerBackend.close();
  await backend.close();
  child.send({ type: 'stop' });
  await new Promise((r) => child.once('exit', r));
  redis.disconnect();
  await redisServer.stop();
  process.exit(0);
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
