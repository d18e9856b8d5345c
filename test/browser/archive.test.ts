/**
 * The dashboard over the archive: the jobs view's Source filter (Redis, the archive, both), archived
 * jobs marked "archived" (not selectable for bulk actions), and the job view of an evicted job; the
 * DLQ view's Source selector (groups and dead jobs over both, archived rows marked), and a replay of
 * dead jobs retention evicted (restored from the archive, then replayed). The
 * archive here is an in-memory JobArchive (the browser project has no PostgreSQL; the PostgreSQL
 * archive's search is tested in test/archive/search.test.ts); the archiving itself is the real
 * Archiver and the real retention hold of the memory backend.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Archiver } from '../../src/archive/archiver.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { PermanentError } from '../../src/errors.js';
import { MemoryArchive } from '../helpers/memory-archive.js';
import { hasChromium, launch, startServer, watchPage, type TestServer } from './helpers.js';

describe.skipIf(!hasChromium())('dashboard over the archive (chromium)', () => {
  let browser: Browser;
  let context: BrowserContext | undefined;
  let server: TestServer | undefined;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await browser?.close();
  });

  it('lists archived jobs with a Source filter, marks them archived, and opens an evicted job', async () => {
    const backend = new MemoryBackend();
    const archive = new MemoryArchive();
    server = await startServer({ backend, archive });
    const q = server.queue('hist');
    await backend.setArchive('hist', true);
    await q.setRetention({ completed: { count: 1 } });
    const w = server.worker('hist', async () => 'ok');
    const old = await q.add('report', { n: 1 });
    await new Promise((r) => setTimeout(r, 5));
    const recent = await q.add('report', { n: 2 });
    await expect.poll(async () => (await q.counts()).completed, { timeout: 8000 }).toBe(2);
    await w.close();
    await new Archiver({ backend, archive, queues: ['hist'] }).drain();
    await backend.sweepRetention('hist', { intervalMs: 1, max: 10 });
    expect(await backend.getJob('hist', old.id)).toBeNull();

    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const seen = watchPage(page);
    // Redis alone: the recent job only.
    await page.goto(`${server.url}/ui/queues/hist/jobs?state=completed`);
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(1);
    // Both, through the form: the recent job from Redis, then the evicted one, marked archived.
    await page.getByLabel('Source').selectOption('all');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => new URL(page.url()).search).toBe('?state=completed&source=all');
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(2);
    const rows = page.locator('tr[data-job]');
    expect(await rows.nth(0).getAttribute('data-job')).toBe(recent.id);
    expect(await rows.nth(0).locator('.badge-archived').count()).toBe(0);
    expect(await rows.nth(1).getAttribute('data-job')).toBe(old.id);
    expect(await rows.nth(1).locator('.badge-archived').textContent()).toBe('archived');
    expect(await page.getByLabel(`Select job ${old.id}`).isDisabled()).toBe(true);
    // The archive alone, by link; then the evicted job's own view.
    await page.goto(`${server.url}/ui/queues/hist/jobs?state=completed&source=archive`);
    await expect.poll(() => page.locator('tr[data-job] .badge-archived').count()).toBe(2);
    await page.locator(`tr[data-job="${old.id}"] a`).click();
    await expect.poll(() => page.locator('.facts .badge-archived').count()).toBe(1);
    expect(await page.locator('.facts').textContent()).toContain('read from the archive');
    // The overview counts the eviction and shows the archive's backlog (nothing left to archive).
    await page.goto(`${server.url}/ui/`);
    const row = page.locator('tr[data-queue="hist"]');
    await expect
      .poll(() => row.locator('[data-archive-pending]').getAttribute('data-archive-pending'))
      .toBe('0');
    expect(await row.locator('[data-archive-pending]').textContent()).toBe('0 unarchived');
    expect(await row.locator('span[title^="completed 1, dead 0"]').textContent()).toBe('1');
    expect(seen.errors).toEqual([]);
  });

  it('DLQ: a Source selector, archived dead jobs marked and counted in the groups once, and replayed from the archive', async () => {
    await context?.close();
    await server?.close();
    const backend = new MemoryBackend();
    const archive = new MemoryArchive();
    server = await startServer({ backend, archive });
    const q = server.queue('dl');
    await backend.setArchive('dl', true);
    await q.setRetention({ dead: { count: 1 } });
    const w = server.worker(
      'dl',
      async () => {
        throw new PermanentError('address 12 refused', { code: 'EREFUSED' });
      },
      { leaseMs: 5000 },
    );
    const old = await q.add('mail', { n: 1 });
    await expect.poll(async () => (await q.counts()).dead, { timeout: 8000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 5));
    const recent = await q.add('mail', { n: 2 });
    await expect.poll(async () => (await q.counts()).dead, { timeout: 8000 }).toBe(2);
    await w.close();
    await new Archiver({ backend, archive, queues: ['dl'] }).drain();
    await backend.sweepRetention('dl', { intervalMs: 1, max: 10 });
    expect(await backend.getJob('dl', old.id)).toBeNull();

    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const seen = watchPage(page);
    // Redis alone: the recent dead job, a group of 1; purge is offered.
    await page.goto(`${server.url}/ui/queues/dl/dlq`);
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(1);
    const group = page.locator('tr[data-fingerprint]');
    await expect.poll(() => group.locator('td').first().textContent()).toBe('1');
    // Both, through the form: the recent job from Redis, then the evicted one, marked archived;
    // the group counts each once (the recent one is in both), 1 from the archive.
    await page.getByLabel('Source').selectOption('all');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => new URL(page.url()).search).toBe('?source=all');
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(2);
    const rows = page.locator('tr[data-job]');
    expect(await rows.nth(0).getAttribute('data-job')).toBe(recent.id);
    expect(await rows.nth(0).locator('.badge-archived').count()).toBe(0);
    expect(await rows.nth(1).getAttribute('data-job')).toBe(old.id);
    expect(await rows.nth(1).locator('.badge-archived').textContent()).toBe('archived');
    await expect.poll(() => group.locator('td').nth(0).textContent()).toBe('2');
    expect(await group.locator('td').nth(1).textContent()).toBe('1');
    expect(await page.getByRole('button', { name: 'Purge… (dry run)' }).isDisabled()).toBe(true);
    // The archive alone, by link: the group keeps the source.
    await page.goto(`${server.url}/ui/queues/dl/dlq?source=archive`);
    await expect.poll(() => page.locator('tr[data-job] .badge-archived').count()).toBe(2);
    // Replay both over both sources: the evicted one is restored from the archive, then replayed.
    await page.goto(`${server.url}/ui/queues/dl/dlq?source=all`);
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(2);
    await page.getByLabel('Who (recorded)').fill('ops-ada');
    await page.getByLabel('Note', { exact: true }).fill('relay fixed');
    await page.getByRole('button', { name: 'Replay… (dry run)' }).click();
    await expect
      .poll(() => page.getByRole('region', { name: 'Dry run result' }).textContent())
      .toContain('would apply to 2 dead jobs of 2');
    expect(await backend.getJob('dl', old.id)).toBeNull();
    await page.getByRole('button', { name: 'Confirm: replay 2 jobs' }).click();
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Replayed' }).textContent())
      .toContain('Replayed 2 of 2 jobs');
    const restored = await backend.getJob('dl', old.id);
    expect(restored?.state).toBe('waiting');
    expect(restored?.attempts).toHaveLength(1);
    expect(restored?.pendingManual).toMatchObject({ by: 'ops-ada', note: 'relay fixed' });
    expect(seen.errors).toEqual([]);
  });

  it("a dead job's own page replays it: from Redis, and restored from the archive when retention evicted it", async () => {
    await context?.close();
    await server?.close();
    const backend = new MemoryBackend();
    const archive = new MemoryArchive();
    server = await startServer({ backend, archive });
    const q = server.queue('one');
    await backend.setArchive('one', true);
    await q.setRetention({ dead: { count: 1 } });
    const w = server.worker(
      'one',
      async () => {
        throw new PermanentError('address 12 refused', { code: 'EREFUSED' });
      },
      { leaseMs: 5000 },
    );
    const old = await q.add('mail', { to: 'a@example.com' });
    await expect.poll(async () => (await q.counts()).dead, { timeout: 8000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 5));
    const recent = await q.add('mail', { to: 'b@example.com' });
    await expect.poll(async () => (await q.counts()).dead, { timeout: 8000 }).toBe(2);
    await w.close();
    await new Archiver({ backend, archive, queues: ['one'] }).drain();
    await backend.sweepRetention('one', { intervalMs: 1, max: 10 });
    expect(await backend.getJob('one', old.id)).toBeNull();

    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const seen = watchPage(page);
    // The evicted job: read from the archive, offered as "Restore and replay"; who is required and a
    // patch is previewed on its data.
    await page.goto(`${server.url}/ui/queues/one/jobs/${old.id}`);
    await expect.poll(() => page.locator('.facts .badge-archived').count()).toBe(1);
    const button = page.getByRole('button', { name: 'Restore and replay' });
    await page.getByLabel('Who (recorded)').fill('');
    expect(await button.isDisabled()).toBe(true);
    await page.getByLabel('Who (recorded)').fill('ops-ada');
    await page.getByLabel('Note', { exact: true }).fill('address fixed');
    await page.getByLabel('Data patch (JSON Merge Patch, optional)').fill('{"to": "c@example.com"');
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('the patch is not JSON');
    expect(await button.isDisabled()).toBe(true);
    await page.getByLabel('Data patch (JSON Merge Patch, optional)').fill('{"to": "c@example.com"}');
    await expect.poll(() => page.locator('.job-replay table.diff tbody tr').count()).toBe(1);
    expect(await backend.getJob('one', old.id)).toBeNull();
    await button.click();
    // Restored into Redis with its history, then replayed: waiting, no longer marked archived.
    await expect.poll(async () => (await backend.getJob('one', old.id))?.state).toBe('waiting');
    const restored = await backend.getJob('one', old.id);
    expect(restored?.attempts).toHaveLength(1);
    expect(restored?.pendingManual).toMatchObject({ by: 'ops-ada', note: 'address fixed' });
    expect(restored?.data).toEqual({ to: 'c@example.com' });
    await expect.poll(() => page.locator('.facts .badge-archived').count()).toBe(0);
    await expect.poll(() => page.locator('.facts .badge').first().textContent()).toBe('waiting');
    expect(await page.locator('.job-replay').count()).toBe(0);
    // A dead job Redis still holds: "Replay", no restore.
    await page.goto(`${server.url}/ui/queues/one/jobs/${recent.id}`);
    await expect.poll(() => page.getByRole('button', { name: 'Replay', exact: true }).count()).toBe(1);
    expect(await page.getByLabel('Who (recorded)').inputValue()).toBe('ops-ada');
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await expect.poll(async () => (await backend.getJob('one', recent.id))?.state).toBe('waiting');
    expect((await backend.getJob('one', recent.id))?.pendingManual).toMatchObject({ by: 'ops-ada' });
    expect(seen.errors).toEqual([]);
  });

  it('analytics, what-if and audit with a Source selector: the archive answers after eviction', async () => {
    await context?.close();
    await server?.close();
    const backend = new MemoryBackend();
    const archive = new MemoryArchive();
    server = await startServer({ backend, archive });
    const q = server.queue('ri');
    await backend.setArchive('ri', true);
    const w = server.worker('ri', async (job) => {
      const { fails } = job.data as { fails: number };
      if (job.attempt <= fails) throw Object.assign(new Error('gateway down'), { code: 'ECONNRESET' });
      return null;
    });
    for (const fails of [0, 1, 2, 5]) {
      await q.add('sync', { fails }, { retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 1 } } });
    }
    await expect.poll(async () => (await q.counts()).completed + (await q.counts()).dead).toBe(4);
    await w.close();
    await new Archiver({ backend, archive, queues: ['ri'] }).drain();
    // Retention evicts every finished job: only the archive (and the rollups) remember them.
    await q.setRetention({ completed: { count: 0 }, dead: { count: 0 } });
    await backend.sweepRetention('ri', { intervalMs: 1, max: 10 });
    expect((await q.counts()).completed).toBe(0);

    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const seen = watchPage(page);
    await page.goto(`${server.url}/ui/queues/ri/analytics`);
    await expect.poll(() => page.locator('.facts dd').first().textContent()).toBe('9');
    expect(await page.locator('p.muted').first().textContent()).toContain('read from the rollups');
    await page.getByLabel('Source').selectOption('archive');
    await expect.poll(() => new URL(page.url()).search).toBe('?window=1h&source=archive');
    await expect
      .poll(() => page.locator('p.muted').first().textContent())
      .toContain('read from the PostgreSQL archive');
    expect(await page.locator('.facts dd').first().textContent()).toBe('9');
    // Full breakdowns: 6 failed attempts, the next one succeeded 2 times of 5, 2 jobs recovered, 1
    // lost (dead), and the 3 jobs that failed with ECONNRESET with their 8 attempts.
    const rule = page.locator('table', { hasText: 'Failures by classifying rule' }).locator('tbody tr');
    await expect.poll(() => rule.count()).toBe(1);
    expect((await rule.first().textContent())?.replace(/\s+/g, ' ').trim()).toBe(
      'code:ECONNRESET640% (2/5)21138',
    );

    await page.goto(`${server.url}/ui/queues/ri/retries`);
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Retry intelligence of ri');
    // Redis has no finished job left; the archive has all four.
    await expect.poll(() => page.locator('.audit-summary li').first().textContent()).toMatch(/^0 jobs/);
    await page.getByLabel('Source').selectOption('archive');
    await expect
      .poll(() => page.locator('.audit-summary li').first().textContent())
      .toMatch(/^4 jobs, 5 retries/);
    await page.getByLabel(/Retry policy/).fill('{"attempts":1}');
    await page.getByRole('button', { name: /Run the what-if/ }).click();
    await expect
      .poll(() => page.locator('.whatif-summary li').first().textContent())
      .toBe('recorded: 3 of 4 jobs succeeded, 1 dead-lettered, 9 attempts');
    expect(await page.locator('.whatif-summary li').last().textContent()).toMatch(/from the archive/);
    expect(seen.errors).toEqual([]);
  });
});
