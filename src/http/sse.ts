/**
 * Server-Sent Events: job transitions as they appear on the queues' event feeds. One hub per app
 * follows each queue that at least one client watches (one poll per queue, however many clients),
 * starting at the queue's tail when its first client arrives. Each event is written as
 * `event: <type>`, `id: <queue>:<seq>`, `data: {queue, type, jobId, at, fields}`; a comment line
 * every 15 s keeps proxies from closing an idle stream. Clients leave on disconnect, when they
 * fall more than 1 MiB behind, and when the app closes.
 * @module
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

import type { Backend, QueueEvent } from '../backend.js';
import { BackendClosedError } from '../errors.js';
import { FeedFollower } from './feed.js';

const MAX_BUFFERED_BYTES = 1 << 20;
/** How often a client that watches every queue looks for new ones. */
const REDISCOVER_MS = 5000;

export interface SseOptions {
  /** @default 100 */
  readonly pollMs?: number;
  /** @default 15000 */
  readonly heartbeatMs?: number;
  readonly onError?: (error: unknown) => void;
}

class Client {
  readonly res: ServerResponse;
  readonly queues = new Set<string>();
  /** Watches every queue, including queues created after it connected. */
  readonly all: boolean;
  rediscover: NodeJS.Timeout | undefined;

  constructor(res: ServerResponse, all: boolean) {
    this.res = res;
    this.all = all;
  }

  /** false when the client is gone or too far behind (then it should be dropped). */
  write(text: string): boolean {
    if (this.res.writableEnded || this.res.destroyed) return false;
    this.res.write(text);
    return this.res.writableLength <= MAX_BUFFERED_BYTES;
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

export class SseHub {
  readonly #backend: Backend;
  readonly #follower: FeedFollower;
  readonly #watchers = new Map<string, Set<Client>>();
  readonly #clients = new Set<Client>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #onError: (error: unknown) => void;
  #closed = false;

  constructor(backend: Backend, options: SseOptions = {}) {
    this.#backend = backend;
    this.#onError = options.onError ?? (() => {});
    this.#follower = new FeedFollower(backend, {
      pollMs: options.pollMs ?? 100,
      onEvents: (queue, events) => this.#deliver(queue, events),
      onError: (e) => this.#onError(e),
    });
    this.#heartbeat = setInterval(() => this.#broadcast(': heartbeat\n\n'), options.heartbeatMs ?? 15_000);
    this.#heartbeat.unref();
  }

  /** Clients connected now. */
  get size(): number {
    return this.#clients.size;
  }

  /**
   * Streams the feeds of `queues` (every queue when undefined) to `res` until the client leaves.
   * The headers are written once every queue is followed, so a client that has seen them sees
   * every later transition.
   */
  async serve(
    res: ServerResponse,
    headers: OutgoingHttpHeaders,
    queues: readonly string[] | undefined,
  ): Promise<void> {
    const client = new Client(res, queues === undefined);
    this.#clients.add(client);
    res.on('close', () => this.#drop(client));
    try {
      if (this.#closed) throw new BackendClosedError('event stream');
      await this.#watch(client, queues ?? (await this.#backend.listQueues()));
    } catch (e) {
      this.#drop(client);
      throw e;
    }
    // Dropped while the tails were found: the hub closed or the client left.
    if (!this.#clients.has(client)) throw new BackendClosedError('event stream');
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    client.write(`retry: 2000\n: watching ${client.all ? 'every queue' : [...client.queues].join(',')}\n\n`);
    if (client.all) {
      client.rediscover = setInterval(() => {
        this.#backend
          .listQueues()
          .then((names) => this.#watch(client, names))
          .catch((e: unknown) => this.#onError(e));
      }, REDISCOVER_MS);
      client.rediscover.unref();
    }
  }

  async #watch(client: Client, queues: readonly string[]): Promise<void> {
    for (const queue of queues) {
      if (client.queues.has(queue) || !this.#clients.has(client)) continue;
      client.queues.add(queue);
      let set = this.#watchers.get(queue);
      if (!set) this.#watchers.set(queue, (set = new Set()));
      set.add(client);
      await this.#follower.follow(queue, 'tail');
      // Every watcher may have left while the tail was being found.
      if (!this.#watchers.has(queue)) this.#follower.unfollow(queue);
    }
  }

  #deliver(queue: string, events: readonly QueueEvent[]): void {
    const clients = this.#watchers.get(queue);
    if (!clients) return;
    const text = events.map((e) => formatEvent(queue, e)).join('');
    for (const c of clients) if (!c.write(text)) this.#drop(c);
  }

  #broadcast(text: string): void {
    for (const c of this.#clients) if (!c.write(text)) this.#drop(c);
  }

  #drop(client: Client): void {
    if (!this.#clients.delete(client)) return;
    clearInterval(client.rediscover);
    for (const queue of client.queues) {
      const set = this.#watchers.get(queue);
      set?.delete(client);
      if (set?.size === 0) {
        this.#watchers.delete(queue);
        this.#follower.unfollow(queue);
      }
    }
    // Before the headers, the caller answers (with a problem); after them, the stream just ends.
    if (client.res.headersSent && !client.res.writableEnded) client.res.end();
  }

  /** Ends every stream and stops following (run before the server closes, or it would wait). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const c of [...this.#clients]) this.#drop(c);
    await this.#follower.stop();
  }
}
