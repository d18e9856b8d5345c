/**
 * The dashboard in a real browser (chromium through playwright-core) against a real server on the
 * memory backend: every view renders without serious accessibility violations, the job view tells
 * a retried job's story, filters live in the URL, bulk actions and group replays go through a dry
 * run and a confirmation, the token login works, and hostile job data stays inert text.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { PermanentError } from '../../src/errors.js';
import { specText } from '../../src/schedule.js';
import { SchedulerLoop } from '../../src/scheduler-loop.js';
import { hasChromium, launch, startServer, watchPage, type TestServer } from './helpers.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const FAST_RETRY = { retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 150 } } } as const;

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[];
}

/** Serious and critical axe-core violations on the page as it is now. */
async function axeViolations(page: Page): Promise<string[]> {
  // Through the devtools protocol: the page's CSP (rightly) refuses an injected inline script.
  await page.evaluate(`${AXE};0`);
  const result = (await page.evaluate('axe.run(document)')) as AxeResult;
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`);
}

/** Every view's data has arrived (the event stream keeps the network busy, so not `networkidle`). */
async function settled(page: Page): Promise<void> {
  await expect.poll(() => page.getByText(/^(Loading…|Connecting…)$/).count()).toBe(0);
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!hasChromium())('dashboard in chromium (memory backend)', () => {
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

  async function open(
    options: { token?: string; readOnly?: boolean; viewport?: { width: number; height: number } } = {},
  ) {
    server = await startServer({
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.readOnly === true ? { readOnly: true } : {}),
    });
    context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 } });
    const page = await context.newPage();
    return { server, page, seen: watchPage(page) };
  }

  it('renders every view, with a strict CSP and no serious accessibility violation', async () => {
    const { server, page, seen } = await open();
    const q = server.queue('mail');
    const { id } = await q.add('welcome', { to: 'ada@example.com' }, FAST_RETRY);
    await q.add('later', {}, { delay: 60_000 });
    server.worker('mail', async (job) => {
      if (job.name === 'welcome') throw new PermanentError('mailbox does not exist', { code: 'EINVALID' });
    });
    await until(
      () => q.getJob(id),
      (j) => j?.state === 'dead',
    );

    const response = await page.goto(`${server.url}/`);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    expect(response?.headers()['content-security-policy']).not.toMatch(/unsafe-inline/);
    const views: [string, string][] = [
      ['/', 'Queues'],
      ['/ui/queues/mail/jobs?state=scheduled', 'Jobs in mail'],
      [`/ui/queues/mail/jobs/${id}`, `Job ${id} in mail`],
      ['/ui/queues/mail/dlq', 'Dead letters of mail'],
      ['/ui/queues/mail/analytics', 'Retry analytics of mail'],
      ['/ui/queues/mail/schedulers', 'Schedulers of mail'],
      ['/ui/queues/mail/workers', 'Workers of mail'],
      ['/ui/queues/mail/retries', 'Retry intelligence of mail'],
      ['/ui/retry-plan', 'Retry plan'],
    ];
    for (const [path, heading] of views) {
      for (const viewport of [
        { width: 1280, height: 800 },
        { width: 390, height: 844 },
      ]) {
        await page.setViewportSize(viewport);
        await page.goto(`${server.url}${path}`);
        await expect.poll(() => page.locator('h1').first().textContent()).toBe(heading);
        await settled(page);
        if (viewport.width === 1280) expect(await axeViolations(page), path).toEqual([]);
        else {
          // Narrow: nothing wider than the screen but the tables, which scroll in their own box.
          expect(await page.evaluate('document.documentElement.scrollWidth'), path).toBeLessThanOrEqual(390);
        }
      }
      // The system's dark mode: its own colours, and still no serious violation (contrast included).
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.goto(`${server.url}${path}`);
      await expect.poll(() => page.locator('h1').first().textContent()).toBe(heading);
      await settled(page);
      expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(17, 20, 24)');
      expect(await axeViolations(page), `${path} (dark)`).toEqual([]);
      await page.emulateMedia({ colorScheme: 'light' });
    }
    expect(seen.errors).toEqual([]);
  }, 180_000);

  it('lists schedulers with next run, last tick and state, shows the tick ledger, and pauses one', async () => {
    const { server, page, seen } = await open();
    const q = server.queue('reports');
    await q.schedule('fast', { every: 200 }, { name: 'ping', data: null, options: { priority: 2 } });
    await q.schedule('nightly', { cron: '0 3 * * *', tz: 'Europe/Paris' }, { name: 'digest', data: {} });
    const loop = new SchedulerLoop({ backend: server.backend, queues: ['reports'] }).start();
    try {
      await until(
        () => q.schedulerTicks('fast'),
        (t) => t.length >= 2,
      );
    } finally {
      await loop.close();
    }
    await page.goto(`${server.url}/ui/queues/reports/schedulers`);
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Schedulers of reports');
    await settled(page);
    const rows = page.locator('tr[data-scheduler]');
    expect(await rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-scheduler')))).toEqual([
      'fast',
      'nightly',
    ]);
    const fast = page.locator('tr[data-scheduler="fast"]');
    expect((await fast.locator('td').nth(0).textContent())?.trim()).toBe('every 200 ms');
    expect((await fast.locator('td').nth(3).textContent())?.trim()).toBe('ping (priority 2)');
    expect(await fast.locator('td').nth(2).textContent()).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}sch:fast:\d+$/,
    );
    const nightly = page.locator('tr[data-scheduler="nightly"]');
    expect((await nightly.locator('td').nth(0).textContent())?.trim()).toBe('cron 0 3 * * * (Europe/Paris)');
    expect((await nightly.locator('td').nth(2).textContent())?.trim()).toMatch(/^never/);
    await page.getByRole('link', { name: 'Tick ledger of fast' }).click();
    await expect.poll(() => page.url()).toMatch(/schedulers\?id=fast$/);
    await expect.poll(() => page.locator('h2', { hasText: 'Tick ledger of fast' }).count()).toBe(1);
    await settled(page);
    const ticks = page.locator('tr[data-outcome]');
    await expect.poll(() => ticks.count()).toBeGreaterThanOrEqual(2);
    const first = await ticks.first().locator('td').allTextContents();
    expect(first[3]).toBe('created');
    expect(first[4]).toMatch(/^sch:fast:\d+$/);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Pause scheduler fast' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Resume scheduler fast' }).count()).toBe(1);
    expect((await q.getScheduler('fast')).paused).toBe(true);
    expect(seen.errors).toEqual([]);
  });

  it('lists the live workers of a queue, and says when none is alive', async () => {
    const { server, page, seen } = await open();
    const w = server.worker('work', async () => null, {
      concurrency: 4,
      workerId: 'box-1:42',
      heartbeatMs: 100,
    });
    const q = server.queue('work');
    await until(
      () => q.workers(),
      (r) => r.workers.length === 1,
    );
    await page.goto(`${server.url}/ui/queues/work/workers`);
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Workers of work');
    await settled(page);
    await expect.poll(() => page.locator('tr[data-worker]').count()).toBe(1);
    const cells = await page.locator('tr[data-worker="box-1:42"] td').allTextContents();
    expect(cells[1]).toBe(String(process.pid));
    expect(cells[2]).toBe('0/4');
    expect(cells[6]).toBe('work');
    expect(await axeViolations(page)).toEqual([]);
    await w.close();
    // A job on the queue now says why it does not run: no live worker since the one that closed.
    const { id } = await q.add('after', null);
    await page.goto(`${server.url}/ui/queues/work/jobs/${id}`);
    await expect.poll(() => page.locator('li[data-hold]').count()).toBe(1);
    expect(await page.locator('li[data-hold="no-worker"]').textContent()).toMatch(
      /^no-worker no live worker on queue work for [\d.]+ (ms|s) \(last seen .+\)$/,
    );
    expect(await axeViolations(page)).toEqual([]);
    await page.goto(`${server.url}/ui/queues/work/workers`);
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'No live worker' }).textContent())
      .toMatch(/^No live worker on work: the last one was seen (just now|[\d.]+ (ms|s) ago) \(.+ UTC\)\.$/);
    expect(seen.errors).toEqual([]);
  });

  it('shows the retry analytics: totals, the suggestion, the attempts chart and table, histograms', async () => {
    const { server, page, seen } = await open();
    const q = server.queue('pay');
    for (const fails of [0, 0, 1, 9]) await q.add('charge', { fails }, FAST_RETRY);
    server.worker('pay', async (job) => {
      const { fails } = job.data as { fails: number };
      if (job.attempt <= fails) throw Object.assign(new Error('gateway down'), { code: 'ECONNRESET' });
      return null;
    });
    await until(
      () => q.counts(),
      (c) => c.completed + c.dead === 4,
    );
    await page.goto(`${server.url}/ui/queues/pay/analytics?window=15m`);
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Retry analytics of pay');
    await settled(page);
    const rows = page.locator('table.attempt-table tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    expect((await rows.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim())).toEqual([
      // attempt, ran, failed, stalled, succeeded, dead, P(success | previous failed)
      '14202050%',
      '22101050%',
      '3110010%',
    ]);
    expect(await page.locator('h2', { hasText: 'Suggested attempts' }).textContent()).toBe(
      'Suggested attempts: 2',
    );
    expect(await page.locator('.suggestion').textContent()).toBe(
      '100% of the jobs that ever succeed do so by attempt 2; attempt 3 succeeded 0% of the time (0 jobs) and cost 1 attempt',
    );
    // Attempts at completion: one bar per attempt number, succeeded and dead stacked.
    expect(await page.locator('svg.hist').first().locator('g').count()).toBe(3);
    expect(await page.locator('svg.hist').first().locator('g title').allTextContents()).toEqual([
      '1: 2 succeeded, 0 dead',
      '2: 1 succeeded, 0 dead',
      '3: 0 succeeded, 1 dead',
    ]);
    expect(await page.getByText(/^p50 /).count()).toBe(2);
    await page.selectOption('select', '24h');
    await expect.poll(() => page.url()).toMatch(/window=24h/);
    expect(await axeViolations(page)).toEqual([]);
    expect(seen.errors).toEqual([]);
  });

  it('runs a what-if from the form, lists the audit and charts the storm radar', async () => {
    const { server, page, seen } = await open();
    const q = server.queue('pay');
    for (const fails of [0, 1, 2, 9]) await q.add('charge', { fails }, FAST_RETRY);
    // One job retrying in 30 s, with no jitter: what the radar shows.
    await q.add(
      'sync',
      { fails: 99 },
      { retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 30_000 } } },
    );
    server.worker('pay', async (job) => {
      const { fails } = job.data as { fails: number };
      if (job.attempt <= fails) throw Object.assign(new Error('gateway down'), { code: 'ECONNRESET' });
      return null;
    });
    await until(
      () => q.counts(),
      (c) => c.completed + c.dead === 4 && c.scheduled === 1,
    );
    await page.goto(`${server.url}/ui/queues/pay/retries`);
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Retry intelligence of pay');
    await settled(page);
    // The radar: one retry due within 5 minutes, from a policy without jitter.
    await expect
      .poll(() => page.locator('.radar-summary').textContent())
      .toMatch(/^1 retries due in the next 5 min/);
    expect(await page.locator('svg.radar rect').count()).toBe(1);
    expect(await page.locator('table.radar-policies tbody tr').allTextContents()).toEqual([
      'sync11no: synchronised retries',
    ]);
    // The audit: the engine followed its policies.
    await expect
      .poll(() => page.locator('.audit-summary li').last().textContent())
      .toBe('no findings: every recomputed delay matches its policy');
    // The what-if: no retries at all, beside what was recorded.
    await page.getByLabel(/Retry policy/).fill('{"attempts":1}');
    await page.getByRole('button', { name: /Run the what-if/ }).click();
    const rows = page.locator('table.whatif-table tbody tr');
    await expect.poll(() => rows.count()).toBe(8);
    const text = (await rows.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    expect(text.slice(0, 4)).toEqual(['jobs444', 'succeeded311', 'dead-lettered133', 'attempts944']);
    expect(await page.locator('.whatif-summary li').first().textContent()).toBe(
      'recorded: 3 of 4 jobs succeeded, 1 dead-lettered, 9 attempts',
    );
    // A bad policy is refused with the server's reason.
    await page.getByLabel(/Retry policy/).fill('{"attempts":0}');
    await page.getByRole('button', { name: /Run the what-if/ }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^What-if: .*attempts/);
    expect(await axeViolations(page)).toEqual([]);
    expect(seen.errors).toEqual([]);
  });

  it('shows a job that failed twice then succeeded as three attempts with their delays and explanations', async () => {
    const { server, page } = await open();
    const q = server.queue('pay');
    const { id } = await q.add('charge', { amount: 5 }, FAST_RETRY);
    let runs = 0;
    server.worker('pay', async (job) => {
      runs++;
      job.progress({ step: runs, of: 3 });
      job.log(`charging, run ${runs} <b>not bold</b>`);
      if (runs <= 2) throw Object.assign(new Error(`gateway down ${runs}`), { code: 'ECONNRESET' });
      return { charged: true };
    });
    await until(
      () => q.getJob(id),
      (j) => j?.state === 'completed',
    );

    await page.goto(`${server.url}/ui/queues/pay/jobs/${id}`);
    const attempts = page.locator('li.attempt');
    await expect.poll(() => attempts.count()).toBe(3);
    await expect.poll(() => page.locator('svg g.lane').count()).toBe(3);
    expect(await page.locator('svg g.wait').count()).toBe(2);
    const texts = await attempts.allTextContents();
    expect(texts[0]).toMatch(/Attempt 1.*failed/);
    expect(texts[0]).toContain('gateway down 1');
    expect(texts[0]).toContain('rule code:ECONNRESET');
    expect(texts[0]).toMatch(/retry in 150 ms \(policy\): fixed/);
    expect(texts[1]).toMatch(/retry in 150 ms \(policy\): fixed/);
    expect(texts[2]).toMatch(/Attempt 3.*succeeded/);
    expect(texts[2]).toContain('Then: done');
    const waits = await page.locator('svg g.wait title').allTextContents();
    expect(waits[0]).toMatch(/^After attempt 1: 150 ms \(fixed/);
    // Each attempt's own progress and log lines, as text.
    expect(await attempts.locator('.log-line').allTextContents()).toEqual([
      'charging, run 1 <b>not bold</b>',
      'charging, run 2 <b>not bold</b>',
      'charging, run 3 <b>not bold</b>',
    ]);
    expect(await attempts.locator('.progress-value').allTextContents()).toEqual([
      '{"step":1,"of":3}',
      '{"step":2,"of":3}',
      '{"step":3,"of":3}',
    ]);
    expect(await page.locator('li.attempt b').count()).toBe(0);
    await expect.poll(() => page.locator('.json-leaf').allTextContents()).toContain('charged: true');
  });

  it("shows on the attempt card what decided when it ran: its scheduler's tick, the jobs of a higher priority", async () => {
    const { server, page } = await open();
    const q = server.queue('prio');
    const low = await q.add('low', null);
    await q.add('high', null, { priority: 5 });
    const now = await server.backend.now();
    await server.backend.upsertScheduler('prio', {
      id: 'nightly',
      spec: specText({ every: 60_000 }),
      anchor: now - 60_020,
      nextRunAt: now - 20,
      name: 'report',
      data: 'null',
      opts: JSON.stringify({ retry: { phases: [], maxAttempts: 1 }, timeoutMs: 0, maxStalls: 3 }),
      maxStalls: 3,
      missed: 'skip',
      overlap: 'allow',
    });
    await new SchedulerLoop({ backend: server.backend, queues: ['prio'], rescanMs: 120_000 }).tickQueue(
      'prio',
    );
    server.worker('prio', async () => 'ok', { concurrency: 1 });
    // Concurrency 1: the scheduler's job may run after the low one.
    const completed = await until(
      () => q.getJobs('completed'),
      (js) => js.some((j) => j.id === low.id) && js.some((j) => j.name === 'report'),
      20_000,
    );
    const done = await q.getJob(low.id);
    expect(done?.state).toBe('completed');
    const ticked = completed.find((j) => j.name === 'report');
    expect(ticked).toBeDefined();

    await page.goto(`${server.url}/ui/queues/prio/jobs/${low.id}`);
    const wait = page.locator('li.attempt .priority-wait');
    await expect.poll(() => wait.count()).toBe(1);
    expect(await wait.textContent()).toBe(
      `Waited for its turn: ${done?.attempts[0]?.priority?.explanation ?? '?'}`,
    );
    expect(await wait.textContent()).toMatch(
      /^Waited for its turn: priority 0: waited \d+ ms while 1 job of higher priority ran$/,
    );

    await page.goto(`${server.url}/ui/queues/prio/jobs/${encodeURIComponent(ticked!.id)}`);
    const tick = page.locator('li.attempt .schedule-tick');
    await expect.poll(() => tick.count()).toBe(1);
    expect(await tick.textContent()).toMatch(
      /^Scheduled by nightly, tick planned .+: created \d+ ms after its planned time \(missed policy skip\)$/,
    );
  });

  it('keeps the filters in the URL, so a link shows the same list', async () => {
    const { server, page } = await open();
    const q = server.queue('img');
    await q.add('resize', {}, { delay: 60_000 });
    await q.add('crop', {}, { delay: 60_000 });
    await page.goto(`${server.url}/ui/queues/img/jobs?state=scheduled&name=crop`);
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(1);
    expect(await page.locator('tr[data-job] td').nth(2).textContent()).toBe('crop');
    expect(await page.getByLabel('Name').inputValue()).toBe('crop');
    expect(await page.getByLabel('State').inputValue()).toBe('scheduled');

    await page.getByLabel('Name').fill('resize');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => new URL(page.url()).search).toBe('?state=scheduled&name=resize');
    await expect.poll(() => page.locator('tr[data-job] td').nth(2).textContent()).toBe('resize');
  });

  it('runs a bulk cancel as a dry run first, then for real after the confirmation', async () => {
    const { server, page } = await open();
    const q = server.queue('bulk');
    const a = await q.add('one', {}, { delay: 60_000 });
    const b = await q.add('two', {}, { delay: 60_000 });
    await page.goto(`${server.url}/ui/queues/bulk/jobs?state=scheduled`);
    await page.getByLabel(`Select job ${a.id}`).check();
    await page.getByLabel(`Select job ${b.id}`).check();
    await page.getByLabel('Who (recorded)').fill('ops-alice');
    await page.getByLabel('Note or reason').fill('campaign stopped');
    await page.getByRole('button', { name: 'Cancel… (dry run)' }).click();
    const preview = page.getByRole('region', { name: 'Dry run result' });
    await expect.poll(() => preview.textContent()).toContain('would apply to 2 of 2 jobs');
    expect((await q.getJob(a.id))?.state).toBe('scheduled');

    await page.getByRole('button', { name: 'Confirm: cancel 2 jobs' }).click();
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'done for' }).textContent())
      .toContain('Cancel: done for 2 of 2 jobs');
    const cancelled = await q.getJob(a.id);
    expect(cancelled?.state).toBe('cancelled');
    expect(cancelled?.cancelled).toMatchObject({ by: 'ops-alice', reason: 'campaign stopped' });
    expect((await q.getJob(b.id))?.state).toBe('cancelled');
  });

  it('runs a bulk action on every job matching the filters: dry run of the matches, then exactly those', async () => {
    const { server, page } = await open();
    const q = server.queue('bulk');
    const promos = await q.addBulk(
      [1, 2, 3].map((i) => ({ name: 'promo', data: { i }, options: { delay: 60_000 } })),
    );
    const other = await q.add('receipt', {}, { delay: 60_000 });
    await page.goto(`${server.url}/ui/queues/bulk/jobs?state=scheduled&name=promo`);
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(3);
    await page.getByLabel('every job matching the filters').check();
    await page.getByLabel('Who (recorded)').fill('ops-bob');
    await page.getByRole('button', { name: 'Cancel… (dry run)' }).click();
    const preview = page.getByRole('region', { name: 'Dry run result' });
    await expect.poll(() => preview.textContent()).toContain('would apply to 3 of 3 matching jobs');
    expect((await q.counts()).scheduled).toBe(4);

    await page.getByRole('button', { name: 'Confirm: cancel 3 jobs' }).click();
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'done for' }).textContent())
      .toContain('Cancel: done for 3 of 3 jobs');
    for (const p of promos) expect((await q.getJob(p.id))?.cancelled).toMatchObject({ by: 'ops-bob' });
    expect((await q.getJob(other.id))?.state).toBe('scheduled');
  });

  it('replays a dead-letter group with a patch: diff preview, dry run, then manual attempts with the diff', async () => {
    const { server, page } = await open();
    const q = server.queue('mail');
    const ids: string[] = [];
    for (const to of ['bad-1', 'bad-2']) ids.push((await q.add('welcome', { to, tries: 1 })).id);
    server.worker('mail', async (job) => {
      const data = job.data as { to: string };
      if (!data.to.includes('@')) throw new PermanentError(`no mailbox ${data.to}`, { code: 'EINVALID' });
    });
    for (const id of ids) {
      await until(
        () => q.getJob(id),
        (j) => j?.state === 'dead',
      );
    }
    const fingerprint = (await q.getJob(ids[0]!))!.dead!.fingerprint;

    await page.goto(`${server.url}/ui/queues/mail/dlq`);
    const group = page.locator(`tr[data-fingerprint="${fingerprint}"]`);
    await expect.poll(() => group.textContent()).toContain('EINVALID');
    expect(await group.locator('td').first().textContent()).toBe('2');
    expect(await group.textContent()).toContain('welcome');
    await group.getByRole('link').click();
    await expect.poll(() => new URL(page.url()).search).toBe(`?fingerprint=${fingerprint}`);
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(2);

    await page.getByLabel('Who (recorded)').fill('ops-bob');
    await page.getByLabel('Note', { exact: true }).fill('fixed the address');
    await page
      .getByLabel('Data patch (JSON Merge Patch, optional)')
      .fill('{"to":"ada@example.com","tries":null}');
    const diff = page.locator('table.diff');
    await expect.poll(() => diff.textContent()).toContain('data.to');
    expect(await diff.textContent()).toContain('data.tries');
    await page.getByRole('button', { name: 'Replay… (dry run)' }).click();
    await expect
      .poll(() => page.getByRole('region', { name: 'Dry run result' }).textContent())
      .toContain('would apply to 2 dead jobs of 2');
    expect((await q.getJob(ids[0]!))?.state).toBe('dead');
    await page.getByRole('button', { name: 'Confirm: replay 2 jobs' }).click();
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Replayed' }).textContent())
      .toContain('Replayed 2 of 2 jobs');
    for (const id of ids) {
      const job = await until(
        () => q.getJob(id),
        (j) => j?.state === 'completed',
      );
      const manual = job?.attempts.at(-1)?.manual;
      expect(manual).toMatchObject({ by: 'ops-bob', note: 'fixed the address' });
      expect(manual?.patch?.map((c) => c.path).sort()).toEqual(['data.to', 'data.tries']);
    }
    await page.goto(`${server.url}/ui/queues/mail/jobs/${ids[0]}`);
    const last = page.locator('li.attempt').last();
    await expect.poll(() => last.textContent()).toContain('Manual trigger by ops-bob');
    expect(await last.textContent()).toContain('fixed the address');
    expect(await last.locator('table.diff').textContent()).toContain('"ada@example.com"');
  });

  it('asks for the token once, keeps it for the tab, and refuses a wrong one with a clear message', async () => {
    const { server, page } = await open({ token: 'right-token' });
    await server.queue('secure').add('x', {});
    await page.goto(`${server.url}/`);
    await page.getByLabel('API token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('The server refused this token (401)');

    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.getByLabel('API token').fill('right-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Queues');
    await expect.poll(() => page.locator('tr[data-queue="secure"]').count()).toBe(1);
    await page.goto(`${server.url}/ui/queues/secure/jobs`);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Jobs in secure');
    expect(requests.filter((u) => u.includes('right-token'))).toEqual([]);
    expect(await page.evaluate("sessionStorage.getItem('retraced.token')")).toBe('right-token');
  });

  it('on a read-only server: says so, serves dry runs, and every change is refused with the reason', async () => {
    const { server, page } = await open({ readOnly: true });
    const q = server.queue('ro');
    const a = await q.add('one', {}, { delay: 60_000 });
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.getByRole('note').textContent()).toContain('Read-only server');
    await page.getByRole('button', { name: 'Pause ro' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('read-only');
    expect(await q.isPaused()).toBe(false);

    await page.goto(`${server.url}/ui/queues/ro/jobs?state=scheduled`);
    await page.getByLabel(`Select job ${a.id}`).check();
    await page.getByLabel('Who (recorded)').fill('ops');
    await page.getByRole('button', { name: 'Cancel… (dry run)' }).click();
    const preview = page.getByRole('region', { name: 'Dry run result' });
    await expect.poll(() => preview.textContent()).toContain('would apply to 1 of 1 jobs');
    await page.getByRole('button', { name: 'Confirm: cancel 1 jobs' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('read-only');
    expect((await q.getJob(a.id))?.state).toBe('scheduled');
  });

  it('shows hostile data, names and errors as inert text', async () => {
    const { server, page, seen } = await open();
    const q = server.queue('xss');
    const img = '<img src=x onerror="window.__pwned=1;alert(1)">';
    const script = '<script>window.__pwned=2;alert(2)</script>';
    const { id } = await q.add(img, { html: script, nested: { img } }, { retry: { attempts: 1 } });
    server.worker('xss', async (job) => {
      job.log(`${img} ${script}`);
      job.progress({ html: img });
      job.recordResponse({ status: 502, ms: 7, headers: { 'x-upstream': img }, body: script, bodyBytes: 40 });
      const e = new Error(`${img} ${script}`);
      e.stack = `Error: ${script}\n    at ${img}`;
      throw e;
    });
    await until(
      () => q.getJob(id),
      (j) => j?.state === 'dead',
    );

    for (const path of [
      `/ui/queues/xss/jobs/${id}`,
      '/ui/queues/xss/jobs?state=dead',
      '/ui/queues/xss/dlq',
      '/',
    ]) {
      await page.goto(`${server.url}${path}`);
      await settled(page);
      await expect
        .poll(() => page.locator('main').textContent())
        .toMatch(path === '/' ? /xss/ : /<img src=x onerror=/);
      expect(await page.locator('main img').count()).toBe(0);
      expect(await page.locator('main script').count()).toBe(0);
    }
    await page.goto(`${server.url}/ui/queues/xss/jobs/${id}`);
    await page.getByText('Stack').first().click();
    await expect.poll(() => page.locator('pre').first().textContent()).toContain('<script>');
    expect(await page.locator('.log-line').first().textContent()).toBe(`${img} ${script}`);
    // The attempt's HTTP response, headers and body excerpt as text.
    expect(await page.locator('.attempt-response p').first().textContent()).toBe(
      'Response 502 in 7 ms, 40 bytes',
    );
    await page.getByText('Headers and body excerpt').click();
    expect(await page.locator('.attempt-response dd').first().textContent()).toBe(img);
    expect(await page.locator('.attempt-response pre').textContent()).toBe(script);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(seen.dialogs).toEqual([]);
  });
});
