/**
 * One event-stream client of the {@link SseHub}: its response, the queues it watches, and what it
 * was sent before its headers went out (held, then written in order when the stream opens), plus
 * the wire format of events and `Last-Event-ID`.
 * @module
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

import type { QueueEvent } from '../backend.js';

/** A client further behind than this is dropped (its browser reconnects with Last-Event-ID). */
export const MAX_BUFFERED_BYTES = 1 << 20;

export class SseClient {
  readonly res: ServerResponse;
  readonly queues = new Set<string>();
  /** Watches every queue, including queues created after it connected. */
  readonly all: boolean;
  /** Until the stream opens: what it was sent, by queue. */
  #held: { queue: string | undefined; text: string }[] | undefined = [];
  #heldBytes = 0;

  constructor(res: ServerResponse, all: boolean) {
    this.res = res;
    this.all = all;
  }

  get open(): boolean {
    return this.#held === undefined;
  }

  /** false when the client is gone or too far behind (then it should be dropped). */
  write(queue: string | undefined, text: string): boolean {
    if (this.res.writableEnded || this.res.destroyed) return false;
    if (this.#held) {
      this.#held.push({ queue, text });
      this.#heldBytes += text.length;
      return this.#heldBytes <= MAX_BUFFERED_BYTES;
    }
    this.res.write(text);
    return this.res.writableLength <= MAX_BUFFERED_BYTES;
  }

  /** Forgets what was held for `queue` (a resumed queue's replay already covers it). */
  forget(queue: string): void {
    if (this.#held) this.#held = this.#held.filter((h) => h.queue !== queue);
  }

  /** Writes the headers, then `first`, then what was held; from now on writes go straight out. */
  start(headers: OutgoingHttpHeaders, first: string): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    this.res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.res.write(first + held.map((h) => h.text).join(''));
  }
}

/** The headers a Fastify reply collected (CORS, nosniff…), for a response written by hand. */
export function rawHeaders(headers: Readonly<Record<string, unknown>>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.map(String);
  }
  return out;
}

export function formatEvent(queue: string, e: QueueEvent): string {
  const type = e.type.replace(/[\r\n]/g, ' ') || 'message';
  const data = JSON.stringify({ queue, type: e.type, jobId: e.jobId ?? null, at: e.at, fields: e.fields });
  return `event: ${type}\nid: ${queue}:${e.seq}\ndata: ${data}\n\n`;
}

/**
 * Told to a client that came back with a `Last-Event-ID` the server cannot resume from (too old,
 * or unknown): events were missed, so what it shows should be read again. It has no id, so the
 * browser keeps its last one.
 */
export function formatResync(queue: string, reason: string): string {
  return `event: resync\ndata: ${JSON.stringify({ queue, reason })}\n\n`;
}

/** `<queue>:<seq>` as the stream's ids spell them (memory `12`, Redis `1700000000000-0#3`). */
export function parseEventId(id: string | undefined): { queue: string; seq: string } | undefined {
  if (id === undefined || id.length > 400) return undefined;
  const at = id.lastIndexOf(':');
  const queue = id.slice(0, at);
  const seq = id.slice(at + 1);
  if (at <= 0 || !/^\d{1,20}(-\d{1,20})?(#\d{1,6})?$/.test(seq)) return undefined;
  return { queue, seq };
}
