/**
 * Saves a screenshot of every dashboard view into docs/screenshots/ (the README shows them):
 * `npm run screenshots`. It runs what `npm start` runs (memory backend, the API, the demo
 * workers), lets the demo tell a few stories, then visits each view in Debian's chromium through
 * playwright-core. Builds the dashboard first if it is out of date.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium, type Page } from 'playwright-core';

import { MemoryBackend } from '../src/backends/memory/index.js';
import { DEMO_QUEUE, startDemo } from '../src/cli/demo.js';
import { buildApp } from '../src/http/app.js';
import { buildUi, isStale, OUT_DIR } from './build-ui.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = path.join(root, 'docs', 'screenshots');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STORY_MS = Number(process.env.SCREENSHOT_STORY_MS ?? 15_000);

if (isStale()) await buildUi();
mkdirSync(outDir, { recursive: true });
const backend = new MemoryBackend();
const app = await buildApp({ backend, ui: OUT_DIR });
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
const demo = await startDemo({ backend, rate: 4 });
console.log(`demo running on ${base}; letting it tell stories for ${STORY_MS / 1000} s…`);
await new Promise((r) => setTimeout(r, STORY_MS));

const browser = await chromium.launch({
  executablePath,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const shoot = async (
    name: string,
    url: string,
    options: { dark?: boolean; ready?: (p: Page) => Promise<void> } = {},
  ) => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      colorScheme: options.dark ? 'dark' : 'light',
    });
    const page = await context.newPage();
    await page.goto(`${base}${url}`);
    await page
      .getByText(/^(Loading…|Connecting…)$/)
      .first()
      .waitFor({ state: 'detached' })
      .catch(() => undefined);
    await options.ready?.(page);
    await page.waitForTimeout(600);
    const file = path.join(outDir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`saved ${path.relative(root, file)}`);
    await context.close();
  };
  // A job with a story: retried, then done (or dead), with the most attempts.
  const candidates = [
    ...(await demo.queue.getJobs('completed', { limit: 200 })),
    ...(await demo.queue.getJobs('dead', { limit: 200 })),
  ];
  const story = candidates.sort((a, b) => b.attempts.length - a.attempts.length)[0];
  const [group] = await demo.queue.dlq.groups();

  // The overview's rates and sparklines count what the event stream brings while the page is open.
  const watch = async (p: Page) => {
    await p.locator('tr[data-queue]').first().waitFor();
    await p.waitForTimeout(20_000);
  };
  await shoot('overview', '/', { ready: watch });
  await shoot('overview-dark', '/', { dark: true, ready: watch });
  await shoot('jobs', `/ui/queues/${DEMO_QUEUE}/jobs?state=completed`, {
    ready: (p) => p.locator('tr[data-job]').first().waitFor(),
  });
  if (story) {
    await shoot('job', `/ui/queues/${DEMO_QUEUE}/jobs/${encodeURIComponent(story.id)}`, {
      ready: (p) => p.locator('li.attempt').first().waitFor(),
    });
  }
  await shoot(
    'dead-letters',
    `/ui/queues/${DEMO_QUEUE}/dlq${group ? `?fingerprint=${group.fingerprint}` : ''}`,
    {
      ready: async (p) => {
        await p.locator('tr[data-fingerprint]').first().waitFor();
        await p.getByLabel('Who (recorded)').fill('ada');
        await p.getByLabel('Data patch (JSON Merge Patch, optional)').fill('{"email":"edsger@example.com"}');
      },
    },
  );
  await shoot('retry-plan', '/ui/retry-plan', { ready: (p) => p.locator('g.plan-row').first().waitFor() });
} finally {
  await browser.close();
  await demo.stop();
  await app.close();
  await backend.close();
}
