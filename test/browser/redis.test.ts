/**
 * The dashboard in chromium against a server on Redis (the test redis-server, a fresh key prefix):
 * the overview lists the queue, and a job that failed twice then succeeded shows its three
 * attempts with the recorded delays and explanations, live as they happen.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { RedisBackend } from '../../src/backends/redis/index.js';
import { cleanupKeys, describeRedis, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { hasChromium, launch, startServer, type TestServer } from './helpers.js';

const suite = hasChromium() ? describeRedis : describeRedis.skip;

suite('dashboard in chromium (Redis backend)', () => {
  const prefix = uniquePrefix();
  let browser: Browser;
  let backend: RedisBackend;
  let server: TestServer;

  beforeAll(async () => {
    backend = new RedisBackend({ connection: redisUrl()!, prefix, onWarning: () => undefined });
    server = await startServer({ backend });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await backend?.close();
    await cleanupKeys(redisUrl()!, `${prefix}*`);
  });

  it('shows the queue and a retried job its three attempts, live', async () => {
    const q = server.queue('pay');
    const { id } = await q.add(
      'charge',
      { amount: 5 },
      { retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 300 } } },
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator('tr[data-queue="pay"]').count()).toBe(1);

    // Opened before the work starts: the attempts appear through the event stream.
    await page.goto(`${server.url}/ui/queues/pay/jobs/${id}`);
    await expect.poll(() => page.locator('h1').textContent()).toBe(`Job ${id} in pay`);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'live' }).count()).toBe(1);
    let runs = 0;
    server.worker('pay', async () => {
      runs++;
      if (runs <= 2) throw Object.assign(new Error(`gateway down ${runs}`), { code: 'ECONNRESET' });
      return { charged: true };
    });
    await expect.poll(() => page.locator('li.attempt').count(), { timeout: 15_000 }).toBe(3);
    const texts = await page.locator('li.attempt').allTextContents();
    expect(texts[0]).toMatch(/retry in 300 ms \(policy\): fixed/);
    expect(texts[1]).toMatch(/retry in 300 ms \(policy\): fixed/);
    expect(texts[2]).toMatch(/Attempt 3.*succeeded/);
    expect(await page.locator('svg g.wait').count()).toBe(2);
    await page.close();
  });
});
