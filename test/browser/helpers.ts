/**
 * Browser tests: Debian's chromium driven by playwright-core (no browser download), against a real
 * server (buildApp + listen on a free port) on the memory backend or a test redis-server.
 * Without chromium the suites skip with a warning; under CI (`CI` set) that is an error instead,
 * so no browser suite passes by being skipped there (.ci/run installs chromium).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';

import type { JobArchive } from '../../src/archive.js';
import type { Backend } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const UI_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'ui');

let available: boolean | undefined;

/** Whether the browser suites can run (see the module comment for CI). */
export function hasChromium(): boolean {
  if (available === undefined) {
    available = existsSync(CHROMIUM);
    if (!available) {
      const ci =
        process.env.CI !== undefined &&
        process.env.CI !== '' &&
        process.env.CI !== 'false' &&
        process.env.CI !== '0';
      if (ci) {
        throw new Error(
          `chromium not found at ${CHROMIUM}, and CI is set: the browser suites must run in CI (.ci/run installs it)`,
        );
      }
      console.warn(
        `[tests] chromium not found at ${CHROMIUM}: the browser suites are SKIPPED (apt-get install chromium to run them)`,
      );
    }
  }
  return available;
}

export function launch(): Promise<Browser> {
  return chromium.launch({
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
    ],
  });
}

export interface TestServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly backend: Backend;
  queue(name: string): Queue;
  /** A worker on `queue`, closed with the server. */
  worker(
    queue: string,
    handler: ConstructorParameters<typeof Worker>[1],
    options?: ConstructorParameters<typeof Worker>[2],
  ): Worker;
  close(): Promise<void>;
}

/** The API and the built dashboard on 127.0.0.1 and a free port. */
export async function startServer(
  options: { token?: string; backend?: Backend; readOnly?: boolean; archive?: JobArchive } = {},
): Promise<TestServer> {
  const backend = options.backend ?? new MemoryBackend();
  const archive = options.archive;
  const app = await buildApp({
    backend,
    ui: UI_DIR,
    ...(archive ? { queueOptions: () => ({ archive }) } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.readOnly === true ? { readOnly: true } : {}),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const workers: Worker[] = [];
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    backend,
    queue: (name) => new Queue(name, { backend }),
    worker(queue, handler, workerOptions) {
      const w = new Worker(new Queue(queue, { backend }), handler, { idleCheckMs: 20, ...workerOptions });
      workers.push(w);
      return w;
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await app.close();
      if (!options.backend) await backend.close();
    },
  };
}

/** Fails the test on any page error or dialog (an XSS payload that ran would open one). */
export function watchPage(page: Page): { errors: string[]; dialogs: string[] } {
  const seen = { errors: [] as string[], dialogs: [] as string[] };
  page.on('pageerror', (e) => seen.errors.push(e.message));
  page.on('dialog', (d) => {
    seen.dialogs.push(d.message());
    void d.dismiss();
  });
  return seen;
}
