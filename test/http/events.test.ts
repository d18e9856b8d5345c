import type { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { formatEvent } from '../../src/http/sse.js';
import { expectProblem, setup } from './helpers.js';

/** Reads the stream until `done(text so far)` holds (3 s at most). */
async function readUntil(stream: Readable, done: (text: string) => boolean): Promise<string> {
  let text = '';
  const deadline = setTimeout(() => stream.destroy(new Error(`timed out; got: ${text}`)), 3000);
  try {
    for await (const chunk of stream) {
      text += String(chunk);
      if (done(text)) break;
    }
  } finally {
    clearTimeout(deadline);
  }
  return text;
}

describe('GET /events', () => {
  it('streams transitions of the watched queues as SSE, and ends when the app closes', async () => {
    const t = await setup();
    await t.queue('before').add('old', 1);
    const res = await t.app.inject({ method: 'GET', url: '/events?queue=mail,sms', payloadAsStream: true });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const stream = res.stream();
    const { id } = await t.queue('mail').add('welcome', { html: '<b>hi</b>' });
    await t.queue('other').add('ignored', 1);
    const text = await readUntil(stream, (s) => s.includes('event: added'));
    expect(text).toMatch(/^retry: 2000\n: watching mail,sms\n\n/);
    const block = text.split('\n\n').find((b) => b.startsWith('event: added')) ?? '';
    const [event, sseId, data] = block.split('\n');
    expect(event).toBe('event: added');
    expect(sseId).toMatch(/^id: mail:\d+$/);
    expect(JSON.parse((data ?? '').replace(/^data: /, ''))).toMatchObject({
      queue: 'mail',
      type: 'added',
      jobId: id,
      at: expect.any(Number),
      fields: { state: 'waiting' },
    });
    expect(text).not.toContain('ignored');

    const ended = new Promise<void>((resolve) => stream.on('end', resolve).on('close', resolve));
    stream.resume();
    await t.app.close();
    await ended;
  });

  it('watches every queue when none is named', async () => {
    const t = await setup();
    await t.queue('a').add('n', 1);
    const res = await t.app.inject({ method: 'GET', url: '/events', payloadAsStream: true });
    const stream = res.stream();
    await t.queue('a').add('second', 2);
    const text = await readUntil(stream, (s) => s.includes('event: added'));
    expect(text).toContain(': watching every queue');
    expect(text).toContain('"queue":"a"');
  });

  it('a client that comes back with Last-Event-ID first gets what it missed', async () => {
    const t = await setup();
    const first = (
      await t.app.inject({ method: 'GET', url: '/events?queue=mail', payloadAsStream: true })
    ).stream();
    const a = await t.queue('mail').add('a', 1);
    const b = await t.queue('mail').add('b', 1);
    const seen = await readUntil(first, (s) => s.includes(a.id) && s.includes(b.id));
    const lastId = /^id: (.+)$/m.exec(seen)?.[1] ?? '';
    const back = await t.app.inject({
      method: 'GET',
      url: '/events?queue=mail',
      headers: { 'last-event-id': lastId },
      payloadAsStream: true,
    });
    const text = await readUntil(back.stream(), (s) => s.includes(b.id));
    expect(text).not.toContain(`"jobId":"${a.id}"`);
    expect(text).toMatch(/^retry: 2000\n: watching mail\n\nevent: added\nid: mail:\d+\n/);
  });

  it('refuses a bad queue list before streaming', async () => {
    const t = await setup();
    const res = await t.request('GET', '/events?queue=ok,not%20ok');
    expect(expectProblem(res, 400, 'RETRACED_ERR_VALIDATION').field).toBe('querystring.queue');
  });

  it('formats one event per block with a single-line data field', () => {
    const text = formatEvent('q', {
      seq: '7',
      type: 'dead',
      jobId: '3',
      at: 5,
      fields: { reason: 'line1\nline2' },
    });
    expect(text).toBe(
      'event: dead\nid: q:7\ndata: {"queue":"q","type":"dead","jobId":"3","at":5,"fields":{"reason":"line1\\nline2"}}\n\n',
    );
  });
});
