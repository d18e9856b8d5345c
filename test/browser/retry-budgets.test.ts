/**
 * The retry budgets view in chromium: lists the queue's budget and a job name's own (the name as
 * inert text), counts the over-budget deferrals of a storm live from the event stream, sets and
 * removes a budget through the form, and shows the API's refusal of a bad ratio as the API words it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hasChromium, launch, startServer, watchPage } from './helpers.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(`${AXE};0`);
  const result = (await page.evaluate('axe.run(document)')) as {
    violations: { id: string; impact: string | null; help: string }[];
  };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}`);
}

const XSS = 'digest<img src=x onerror=alert(1)>';

describe.skipIf(!hasChromium())('retry budgets view in chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lists budgets, counts deferrals live, sets and removes one, and refuses a bad ratio', async () => {
    const server = await startServer();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      const seen = watchPage(page);
      const q = server.queue('storm');
      await q.setRetryBudget({ ratio: 0, windowMs: 10_000, minPerSecond: 1 });
      await q.setRetryBudget(
        { ratio: 0.5, windowMs: 60_000, minPerSecond: 2, onExhausted: 'dead' },
        { name: XSS },
      );

      await page.goto(`${server.url}/ui/queues/storm/retry-budgets`);
      const rows = page.locator('tbody tr');
      await expect.poll(() => rows.count()).toBe(2);
      expect(await rows.nth(0).locator('th').textContent()).toBe('queue-wide');
      expect(await rows.nth(0).locator('td').allTextContents()).toEqual([
        '0 %',
        '10 s',
        '1',
        'defer',
        'not booked ahead',
      ]);
      expect(await rows.nth(1).locator('th').textContent()).toBe(XSS);
      expect((await rows.nth(1).locator('td').allTextContents()).slice(0, 4)).toEqual([
        '50 %',
        '1 min',
        '2',
        'dead-letter',
      ]);
      expect(await page.locator('img').count()).toBe(0);
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'live' }).count()).toBe(1);
      expect(await axeViolations(page)).toEqual([]);

      // A storm of failing jobs: retries beyond one a second are deferred, counted from the stream.
      for (let i = 0; i < 6; i++) {
        await q.add('n', i, { retry: { attempts: 2, backoff: { type: 'immediate' } } });
      }
      server.worker('storm', () => {
        throw new Error('down');
      });
      const counts = page.getByTestId('budget-counts');
      await expect
        .poll(() => counts.textContent(), { timeout: 10_000 })
        .toMatch(/^[1-9]\d* deferred, 0 dead-lettered$/);
      await expect.poll(() => rows.nth(0).locator('td').nth(4).textContent()).not.toBe('not booked ahead');

      // Set a per-name budget through the form, then remove it.
      await page.getByLabel('Job name (empty: the queue-wide budget)').fill('mail');
      await page.getByLabel('Ratio of first attempts (0.2 = 20 %)').fill('0.25');
      await page.getByRole('button', { name: 'Save budget' }).click();
      await expect
        .poll(() => page.locator('tbody tr[data-budget="mail"] td').first().textContent())
        .toBe('25 %');
      expect((await q.getRetryBudgets()).map((b) => b.name)).toContain('mail');
      await page.getByRole('button', { name: 'Remove budget' }).click();
      await expect.poll(() => page.locator('tbody tr[data-budget="mail"]').count()).toBe(0);
      expect((await q.getRetryBudgets()).map((b) => b.name)).not.toContain('mail');

      // A bad ratio: the API's own words (field and rule) shown.
      const problem = (await page.evaluate(async () => {
        const res = await fetch('/queues/storm/retry-budget', {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'x-retraced-client': 'dashboard' },
          body: JSON.stringify({ ratio: 11, windowSeconds: 10, minPerSecond: 10, onExhausted: 'defer' }),
        });
        return (await res.json()) as { field: string; detail: string };
      })) as { field: string; detail: string };
      expect(problem.field).toBe('body.ratio');
      await page.getByLabel('Ratio of first attempts (0.2 = 20 %)').fill('11');
      await page.getByRole('button', { name: 'Save budget' }).click();
      const alert = page.getByRole('alert');
      await expect.poll(() => alert.textContent()).toBe(`Refused: body.ratio: ${problem.detail}`);
      expect(await axeViolations(page)).toEqual([]);
      expect(seen).toEqual({ errors: [], dialogs: [] });
    } finally {
      await context.close();
      await server.close();
    }
  });

  it('on a read-only server: lists the budgets and disables the form', async () => {
    const server = await startServer({ readOnly: true });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const seen = watchPage(page);
      await server.queue('mail').setRetryBudget({ ratio: 0.2 });
      await page.goto(`${server.url}/ui/queues/mail/retry-budgets`);
      await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
      await expect
        .poll(() => page.getByText('This server is read-only: budgets cannot be changed here.').count())
        .toBe(1);
      expect(await page.getByRole('button', { name: 'Save budget' }).isDisabled()).toBe(true);
      expect(await page.getByRole('button', { name: 'Remove budget' }).isDisabled()).toBe(true);
      expect(seen).toEqual({ errors: [], dialogs: [] });
    } finally {
      await context.close();
      await server.close();
    }
  });
});
