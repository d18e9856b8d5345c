/**
 * Cross-origin attacks on a server without a token, from a real browser (src/http/guards.ts): a
 * page served from another origin (another local port) tries every change a page can send
 * without a preflight, and one that needs a preflight, against the API; a page whose name
 * resolves to 127.0.0.1 (DNS rebinding) tries to read and drive it. None of them pauses the queue;
 * the API's own page can (the control that shows the attempts would be seen).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { CHROMIUM, hasChromium } from './helpers.js';

const run = hasChromium();

/** The attacker's page: each attack a function the test calls by name. */
function attackerPage(api: string): string {
  const target = `${api}/queues/q/pause`;
  return `<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="plain" method="POST" action="${target}" enctype="text/plain" target="sink"><input name='{"a":"' value='"}'></form>
<form id="urlencoded" method="POST" action="${target}" target="sink"><input name="x" value="1"></form>
<form id="multipart" method="POST" action="${target}" enctype="multipart/form-data" target="sink"><input name="x" value="1"></form>
<script>
const target = ${JSON.stringify(target)};
const settle = (p) => p.then((r) => 'sent: ' + r.type + ' ' + r.status, (e) => 'failed: ' + e.message);
window.attacks = {
  plain: () => { document.getElementById('plain').submit(); return 'submitted'; },
  urlencoded: () => { document.getElementById('urlencoded').submit(); return 'submitted'; },
  multipart: () => { document.getElementById('multipart').submit(); return 'submitted'; },
  noCorsEmpty: () => settle(fetch(target, { method: 'POST', mode: 'no-cors' })),
  noCorsText: () => settle(fetch(target, { method: 'POST', mode: 'no-cors', body: '{}' })),
  beacon: () => String(navigator.sendBeacon(target, '{}')),
  corsJson: () => settle(fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })),
};
</script></body></html>`;
}

describe.skipIf(!run)('a real browser cannot drive a server without a token from another origin', () => {
  let browser: Browser;
  let app: FastifyInstance;
  let backend: MemoryBackend;
  let attacker: Server;
  let api: string;
  let apiPort: number;
  let evil: string;
  const hits: string[] = [];

  beforeAll(async () => {
    backend = new MemoryBackend();
    app = await buildApp({ backend });
    await app.listen({ host: '127.0.0.1', port: 0 });
    // Every request that reached the API (before any hook answers it), to show the attacks were sent.
    app.server.on('request', (req: IncomingMessage) => {
      hits.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers['content-type'] ?? '-'}`);
    });
    apiPort = (app.server.address() as { port: number }).port;
    api = `http://127.0.0.1:${apiPort}`;
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(attackerPage(api));
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    evil = `http://127.0.0.1:${(attacker.address() as { port: number }).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // DNS rebinding, without DNS: this name resolves to the API's address.
        '--host-resolver-rules=MAP rebind.test 127.0.0.1',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await app?.close();
    await backend?.close();
  });

  const paused = () => new Queue('q', { backend }).isPaused();

  it('form posts, no-cors fetches, a beacon and a JSON fetch from another origin pause nothing', async () => {
    const page = await browser.newPage();
    await page.goto(evil);
    for (const attack of [
      'plain',
      'urlencoded',
      'multipart',
      'noCorsEmpty',
      'noCorsText',
      'beacon',
      'corsJson',
    ]) {
      const before = hits.length;
      const outcome = await page.evaluate((name) => {
        const w = globalThis as unknown as { attacks: Record<string, () => unknown> };
        return w.attacks[name]!();
      }, attack);
      // Give the browser time to send it (forms and beacons do not report back).
      const deadline = Date.now() + 3000;
      while (hits.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect({ attack, reached: hits.length > before }).toEqual({ attack, reached: true });
      if (attack === 'corsJson') expect(outcome).toMatch(/^failed/);
      expect({ attack, paused: await paused() }).toEqual({ attack, paused: false });
    }
    // The JSON fetch got only as far as its preflight, which the server does not approve.
    expect(hits.some((h) => h.startsWith('OPTIONS /queues/q/pause'))).toBe(true);
    await page.close();
  });

  it('a rebinding page (another name for 127.0.0.1) can neither read nor change anything', async () => {
    const page = await browser.newPage();
    // Probes answer any host: the page loads, with the origin http://rebind.test:<port>.
    await page.goto(`http://rebind.test:${apiPort}/healthz`);
    const answers = await page.evaluate(async () => {
      const read = await fetch('/queues');
      const change = await fetch('/queues/q/pause', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return [read.status, ((await read.json()) as { code: string }).code, change.status];
    });
    expect(answers).toEqual([403, 'RETRACED_ERR_HOST_NOT_ALLOWED', 403]);
    expect(await paused()).toBe(false);
    await page.close();
  });

  it("the API's own page can (the control)", async () => {
    const page = await browser.newPage();
    await page.goto(`${api}/healthz`);
    const status = await page.evaluate(async () => {
      const res = await fetch('/queues/q/pause', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return res.status;
    });
    expect(status).toBe(200);
    expect(await paused()).toBe(true);
    await page.close();
  });
});
