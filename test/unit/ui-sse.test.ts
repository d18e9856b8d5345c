/**
 * The dashboard's event-stream client (ui/src/sse-follow.ts) against a scripted fetch: it resumes with
 * Last-Event-ID after a drop, and asks the view to read its state again when the server says
 * `resync` or when a reconnection cannot have been resumed whole.
 */
import { describe, expect, it } from 'vitest';

import { follow, type StreamHandlers } from '../../ui/src/sse-follow.js';
import type { FeedEvent } from '../../ui/src/types.js';

/** A server that answers each connection with the next body (then hangs until aborted), recording Last-Event-ID. */
function scripted(bodies: string[]): {
  seen: (string | undefined)[];
  subscribe: (resumable: boolean, h: StreamHandlers) => () => void;
} {
  const seen: (string | undefined)[] = [];
  const open = (lastEventId: string | undefined, signal: AbortSignal): Promise<Response> => {
    seen.push(lastEventId);
    const body = bodies.shift();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (body !== undefined) {
          controller.enqueue(new TextEncoder().encode(body));
          controller.close();
        } else {
          signal.addEventListener('abort', () => controller.error(new Error('aborted')));
        }
      },
    });
    return Promise.resolve(new Response(stream, { status: 200 }));
  };
  return {
    seen,
    subscribe: (resumable, h) => follow({ ...h, open, resumable, onUnauthorised: () => {}, reconnectMs: 1 }),
  };
}

const event = (queue: string, seq: number, jobId: string) =>
  `event: completed\nid: ${queue}:${seq}\ndata: ${JSON.stringify({ queue, type: 'completed', jobId, at: seq, fields: {} })}\n\n`;

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('the dashboard event stream', () => {
  it('resumes a one-queue stream with the last id it saw, and resyncs when the server says so', async () => {
    const { seen, subscribe } = scripted([
      `retry: 2000\n: watching mail\n\n${event('mail', 4, 'a')}${event('mail', 5, 'b')}`,
      `${event('mail', 6, 'c')}`,
      'event: resync\ndata: {"queue":"mail","reason":"too far behind"}\n\n',
    ]);
    const events: string[] = [];
    let resyncs = 0;
    const stop = subscribe(true, {
      onEvent: (e: FeedEvent) => events.push(String(e.jobId)),
      onResync: () => resyncs++,
    });
    await until(() => seen.length === 4);
    stop();
    expect(seen).toEqual([undefined, 'mail:5', 'mail:6', 'mail:6']);
    expect(events).toEqual(['a', 'b', 'c']);
    // Resumed whole twice (no resync), then told to resync once.
    expect(resyncs).toBe(1);
  });

  it('resyncs after reconnecting a stream of every queue (one id resumes one queue only)', async () => {
    const { seen, subscribe } = scripted([event('mail', 1, 'a'), event('sms', 9, 'b')]);
    let resyncs = 0;
    const stop = subscribe(false, { onEvent: () => {}, onResync: () => resyncs++ });
    await until(() => seen.length === 3);
    stop();
    expect(seen).toEqual([undefined, 'mail:1', 'sms:9']);
    expect(resyncs).toBe(2);
  });

  it('resyncs a one-queue stream that dropped before it saw any event', async () => {
    const { seen, subscribe } = scripted([': watching mail\n\n']);
    let resyncs = 0;
    const stop = subscribe(true, { onEvent: () => {}, onResync: () => resyncs++ });
    await until(() => seen.length === 2 && resyncs === 1);
    stop();
    expect(seen[1]).toBeUndefined();
    expect(resyncs).toBe(1);
  });
});
