/**
 * The dashboard's Rate limits view in a real browser (chromium through playwright-core) against a
 * real server on the memory backend: a limited queue with 61 groups renders its bucket gauge and
 * the groups page by page, a group paused by a handler's RateLimitError is highlighted with why
 * (its hostile message as inert text), the job page's "why isn't it running" links a job held by
 * its group's limit to that group, and axe finds no serious violation.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { RateLimitError } from '../../src/errors.js';
import { hasChromium, launch, startServer, watchPage, type TestServer } from './helpers.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[];
}

/** Serious and critical axe-core violations on the page as it is now (as dashboard.test.ts). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(`${AXE};0`);
  const result = (await page.evaluate('axe.run(document)')) as AxeResult;
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`);
}

async function settled(page: Page): Promise<void> {
  await expect.poll(() => page.getByText(/^(Loading…|Connecting…)$/).count()).toBe(0);
}

describe.skipIf(!hasChromium())('dashboard: rate limits (memory backend)', () => {
  let browser: Browser;
  let context: BrowserContext;
  let server: TestServer | undefined;

  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await context?.close();
    await server?.close();
    server = undefined;
  });

  it('shows the bucket gauge, pages the groups, highlights a paused group with why, links a held job to its group', async () => {
    server = await startServer();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const seen = watchPage(page);
    const q = server.queue('tenants');
    await q.setRateLimits({ queue: { rate: 1000, burst: 200 }, group: { rate: 1, per: 60_000 } });
    const img = '<img src=x onerror="window.__pwned=1;alert(1)">';
    const held: string[] = [];
    for (let i = 0; i < 60; i++) {
      const g = `g-${String(i).padStart(2, '0')}`;
      await q.add('call', {}, { group: g });
      held.push((await q.add('call', {}, { group: g })).id);
    }
    await q.add('call', { hit: true }, { group: 'tenant:x' });
    server.worker('tenants', async (job) => {
      if ((job.data as { hit?: boolean }).hit) {
        throw new RateLimitError({ retryAfterMs: 300_000, scope: 'group', message: `upstream 429 ${img}` });
      }
    });
    // Each group runs one job, then waits a minute for its next token (parked); tenant:x is paused.
    await expect
      .poll(async () => {
        const s = await q.rateLimitState({ limit: 1 });
        return [s.counts.parked, s.counts.paused];
      })
      .toEqual([61, 1]);

    await page.goto(`${server.url}/ui/queues/tenants/rate-limits`);
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Rate limits of tenants');
    await settled(page);
    // The queue's bucket: a gauge of its tokens (some taken by the 61 claims), its limit.
    const meter = page.locator('meter#queue-tokens');
    expect(await meter.getAttribute('max')).toBe('200');
    expect(Number(await meter.getAttribute('value'))).toBeGreaterThan(100);
    await expect
      .poll(() => page.locator('[data-bucket="queue"]').textContent())
      .toContain('Limit 1000/s, burst 200');
    // The first page: 50 groups, parked (their next token in about a minute), then the next page.
    const rows = page.locator('table.rate-groups tbody tr');
    await expect.poll(() => rows.count()).toBe(50);
    expect(await page.locator('tr[data-state="parked"]').count()).toBeGreaterThan(0);
    expect(await page.locator('tr[data-group="g-00"] td').nth(3).textContent()).toMatch(
      // A minute after g-00's claim, less the time it took to get here (seconds on a loaded machine).
      /^in (5\d|60)(\.\d)? s$|^in 1 min$/,
    );
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Next page' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('cursor')).toBeTruthy();
    await expect.poll(() => rows.count()).toBe(11);
    expect(await page.getByRole('link', { name: 'Next page' }).count()).toBe(0);
    await page.getByRole('link', { name: 'First page' }).click();
    await expect.poll(() => rows.count()).toBe(50);

    // Paused by a handler: highlighted, with the job, its attempt and the message as text.
    await page.getByLabel('Show groups').selectOption('paused');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('filter')).toBe('paused');
    await expect.poll(() => rows.count()).toBe(1);
    const paused = page.locator('tr[data-group="tenant:x"]');
    expect(await paused.getAttribute('class')).toContain('paused');
    await expect
      .poll(() => paused.textContent())
      .toMatch(
        /paused until in [45] min( \d+(\.\d)? s)? by job \d+ \(attempt 1\): upstream 429 <img src=x onerror=/,
      );
    expect(await page.locator('main img').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);

    // The job page: a job held by its group's empty bucket links to its group's row.
    await page.goto(`${server.url}/ui/queues/tenants/jobs/${held[7]}`);
    await settled(page);
    const link = page.getByRole('link', { name: 'See group g-07' });
    await expect.poll(() => link.count()).toBe(1);
    await link.click();
    await expect.poll(() => new URL(page.url()).searchParams.get('group')).toBe('g-07');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await page.locator('tr[data-group="g-07"]').getAttribute('class')).toContain('current');
    expect(await page.locator('tr[data-group="g-07"] td').first().textContent()).toBe('1');
    expect(await axeViolations(page)).toEqual([]);
    // Dark mode keeps its contrast.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${server.url}/ui/queues/tenants/rate-limits?filter=paused`);
    await settled(page);
    await expect.poll(() => rows.count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);

    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(seen.dialogs).toEqual([]);
    expect(seen.errors).toEqual([]);
  });
});
