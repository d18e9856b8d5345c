/**
 * Test helpers for the HTTP API: an app on a fresh memory backend (closed after each test), JSON
 * requests through `inject()`, and a way to make dead jobs by running a real Worker.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterEach, expect } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { PermanentError } from '../../src/errors.js';
import { buildApp, type BuildAppOptions } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';

const open: { app: FastifyInstance; backend: MemoryBackend; workers: Worker[] }[] = [];

afterEach(async () => {
  for (const { app, backend, workers } of open.splice(0)) {
    await Promise.all(workers.map((w) => w.close()));
    await app.close();
    await backend.close();
  }
});

export interface TestApp {
  readonly app: FastifyInstance;
  readonly backend: MemoryBackend;
  queue(name: string): Queue;
  /** A worker on `queue`, closed after the test. */
  worker(queue: string, handler: ConstructorParameters<typeof Worker>[1]): Worker;
  /** Sends a request; `body` becomes JSON. */
  request(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
}

export async function setup(options: Partial<BuildAppOptions> = {}): Promise<TestApp> {
  const backend = new MemoryBackend();
  const app = await buildApp({ backend, ...options });
  const entry = { app, backend, workers: [] as Worker[] };
  open.push(entry);
  const auth = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  return {
    app,
    backend,
    queue: (name) => new Queue(name, { backend }),
    worker(queue, handler) {
      const w = new Worker(new Queue(queue, { backend }), handler, { idleCheckMs: 50 });
      entry.workers.push(w);
      return w;
    },
    request: (method, url, body, headers = {}) =>
      app.inject({
        method,
        url,
        headers: {
          ...auth,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      }),
  };
}

/** Asserts a problem+json answer with this status and code, and returns it. */
export function expectProblem(
  res: LightMyRequestResponse,
  status: number,
  code: string,
): { field?: string; detail: string } {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json<{
    status: number;
    code: string;
    field?: string;
    detail: string;
    title: string;
    type: string;
  }>();
  expect({ status: res.statusCode, bodyStatus: body.status, code: body.code }).toEqual({
    status,
    bodyStatus: status,
    code,
  });
  expect(body.title).toEqual(expect.any(String));
  expect(body.type).toMatch(/^urn:retraced:problem:/);
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at /);
  return body;
}

/** Waits until `check` passes (polling every 10 ms, 5 s at most). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Adds `n` jobs named `name` that fail permanently with `code`, runs a worker until they are dead,
 * and closes it. Returns their ids.
 */
export async function makeDead(
  t: TestApp,
  queue: string,
  n: number,
  code = 'E_BOOM',
  name = 'send',
): Promise<string[]> {
  const q = t.queue(queue);
  const added = await q.addBulk(Array.from({ length: n }, (_, i) => ({ name, data: { i } })));
  const before = (await q.counts()).dead;
  const w = t.worker(queue, () => {
    throw new PermanentError(`boom ${code}`, { code });
  });
  await eventually(async () => (await q.counts()).dead === before + n);
  await w.close();
  return added.map((a) => a.id);
}
