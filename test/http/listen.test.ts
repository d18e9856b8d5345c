/** The one test that really listens: 127.0.0.1, a free port, fetch. */
import { get } from 'node:http';

import { describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { buildApp } from '../../src/http/app.js';
import { eventually } from './helpers.js';

describe('a listening server', () => {
  it('serves JSON and problems over a socket, streams events, and drops a client that disconnects', async () => {
    const backend = new MemoryBackend();
    const app = await buildApp({ backend, token: 'tok' });
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      const base = `http://127.0.0.1:${address.port}`;
      const auth = { authorization: 'Bearer tok' };

      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      const denied = await fetch(`${base}/queues`);
      expect(denied.status).toBe(401);
      expect(denied.headers.get('content-type')).toMatch(/^application\/problem\+json/);

      const events = await fetch(`${base}/events?queue=mail`, { headers: auth });
      expect(events.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const reader = (events.body as ReadableStream<Uint8Array>).getReader();

      const added = await fetch(`${base}/queues/mail/jobs`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'welcome', data: { to: 'a@example.com' } }),
      });
      expect(added.status).toBe(201);
      const { id } = (await added.json()) as { id: string };

      let text = '';
      while (!text.includes('event: added')) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended early: ${text}`);
        text += new TextDecoder().decode(value);
      }
      expect(text).toContain(`"jobId":"${id}"`);

      // A second client that goes away is dropped (node:http, to close the socket for real).
      await new Promise<void>((resolve, reject) => {
        const req = get(`${base}/events?queue=mail`, { headers: auth }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        }).on('error', reject);
      });
      await eventually(async () => {
        const metrics = await (await fetch(`${base}/metrics`, { headers: auth })).text();
        return metrics.includes('retraced_sse_clients 1\n');
      });

      // Closing the app ends the stream that is still open instead of waiting for it.
      await app.close();
      let done = false;
      while (!done) done = (await reader.read()).done;
    } finally {
      await app.close();
      await backend.close();
    }
  });
});
