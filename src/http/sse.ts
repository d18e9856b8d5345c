/**
 * Server-Sent Events: job transitions as they appear on the queues' event feeds, one shared tail
 * per queue for every client of the app.
 *
 * - A queue is followed (one poll, one cursor) while at least one client watches it, from its tail
 *   (`backend.eventTail`: one cheap read, whatever the feed's length) when its first client
 *   arrives, and forgotten when its last client leaves: a client that left costs nothing.
 * - A new client starts from now. One that comes back with `Last-Event-ID: <queue>:<seq>` gets what
 *   it missed on that queue, from the last {@link RESUME_LIMIT} events the tail keeps in memory, or
 *   else one bounded read of the feed; further behind, it gets an `event: resync` instead.
 * - Clients that watch every queue share one listing of the queues (every 5 s, new queues join).
 * - Each event is written as `event: <type>`, `id: <queue>:<seq>`, `data: {queue, type, jobId, at,
 *   fields}`; a comment line every 15 s keeps proxies from closing an idle stream. Clients leave on
 *   disconnect, when they fall more than 1 MiB behind, and when the app closes.
 * @module
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

import type { Backend, QueueEvent } from '../backend.js';
import { BackendClosedError } from '../errors.js';
import { FeedFollower } from './feed.js';
import { formatEvent, formatResync, parseEventId, SseClient } from './sse-client.js';

export { formatEvent, rawHeaders } from './sse-client.js';

/** Events each followed queue keeps for clients that resume, and the most one resume reads. */
export const RESUME_LIMIT = 1000;
/** How often the queues are listed for clients that watch every queue. */
const REDISCOVER_MS = 5000;

export interface SseOptions {
  /** @default 100 */
  readonly pollMs?: number;
  /** @default 15000 */
  readonly heartbeatMs?: number;
  /** @default 5000 */
  readonly rediscoverMs?: number;
  readonly onError?: (error: unknown) => void;
}

/** A followed queue: its clients and its latest events. */
class Feed {
  readonly clients = new Set<SseClient>();
  #recent: QueueEvent[] = [];

  remember(events: readonly QueueEvent[]): void {
    this.#recent.push(...events);
    if (this.#recent.length > 2 * RESUME_LIMIT) this.#recent = this.#recent.slice(-RESUME_LIMIT);
  }

  /** The events after `seq`, or undefined when `seq` is not among the last RESUME_LIMIT. */
  after(seq: string): QueueEvent[] | undefined {
    const recent = this.#recent.slice(-RESUME_LIMIT);
    const i = recent.findIndex((e) => e.seq === seq);
    return i < 0 ? undefined : recent.slice(i + 1);
  }
}

export class SseHub {
  readonly #backend: Backend;
  readonly #follower: FeedFollower;
  readonly #feeds = new Map<string, Feed>();
  readonly #clients = new Set<SseClient>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #rediscoverMs: number;
  readonly #onError: (error: unknown) => void;
  #rediscover: NodeJS.Timeout | undefined;
  #listing: Promise<string[]> | undefined;
  #listed: { names: string[]; at: number } | undefined;
  #closed = false;

  constructor(backend: Backend, options: SseOptions = {}) {
    this.#backend = backend;
    this.#onError = options.onError ?? (() => {});
    this.#rediscoverMs = options.rediscoverMs ?? REDISCOVER_MS;
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

  /** Queues followed now (each one tail, however many clients watch it). */
  get feeds(): number {
    return this.#feeds.size;
  }

  /**
   * Streams the feeds of `queues` (every queue when undefined) to `res` until the client leaves,
   * resuming after `lastEventId` when given. The headers are written once every queue is followed,
   * so a client that has seen them sees every later transition.
   */
  async serve(
    res: ServerResponse,
    headers: OutgoingHttpHeaders,
    queues: readonly string[] | undefined,
    lastEventId?: string,
  ): Promise<void> {
    const client = new SseClient(res, queues === undefined);
    this.#clients.add(client);
    res.on('close', () => this.#drop(client));
    let replay = '';
    try {
      if (this.#closed) throw new BackendClosedError('event stream');
      await this.#watch(client, queues ?? (await this.#queueNames()));
      if (lastEventId !== undefined) replay = await this.#replay(client, lastEventId);
    } catch (e) {
      this.#drop(client);
      throw e;
    }
    // Dropped while the tails were found: the hub closed or the client left.
    if (!this.#clients.has(client)) throw new BackendClosedError('event stream');
    const watching = client.all ? 'every queue' : [...client.queues].join(',');
    client.start(headers, `retry: 2000\n: watching ${watching}\n\n${replay}`);
    if (client.all) this.#startRediscovery();
  }

  async #watch(client: SseClient, queues: readonly string[]): Promise<void> {
    const joined: string[] = [];
    for (const queue of queues) {
      if (client.queues.has(queue) || !this.#clients.has(client)) continue;
      client.queues.add(queue);
      let feed = this.#feeds.get(queue);
      if (!feed) this.#feeds.set(queue, (feed = new Feed()));
      feed.clients.add(client);
      joined.push(queue);
    }
    await Promise.all(
      joined.map(async (queue) => {
        await this.#follower.follow(queue, 'tail');
        // Every client of the queue may have left while its tail was being found.
        if (!this.#feeds.has(queue)) this.#follower.unfollow(queue);
      }),
    );
  }

  /** What a client coming back after `lastEventId` missed on that queue (bounded), as text. */
  async #replay(client: SseClient, lastEventId: string): Promise<string> {
    const id = parseEventId(lastEventId);
    if (!id || !client.queues.has(id.queue)) {
      return id
        ? ''
        : formatResync('', `Last-Event-ID ${JSON.stringify(lastEventId)} is not an id of this stream`);
    }
    const { queue, seq } = id;
    // Everything up to `tail` was delivered before this point and is replayed; what the client was
    // sent so far for this queue is part of that replay.
    const tail = this.#follower.position(queue);
    const feed = this.#feeds.get(queue);
    if (tail === undefined || !feed) return '';
    client.forget(queue);
    if (seq === tail) return '';
    let missed = feed.after(seq);
    if (!missed) {
      const read = await this.#backend.readEvents(queue, seq, RESUME_LIMIT).catch(() => []);
      const end = read.findIndex((e) => e.seq === tail);
      missed = end < 0 ? undefined : read.slice(0, end + 1);
    }
    if (!missed) {
      return formatResync(queue, `more than ${RESUME_LIMIT} events were missed, or ${seq} is no longer kept`);
    }
    return missed.map((e) => formatEvent(queue, e)).join('');
  }

  /** The queues' names, shared by every client that watches all of them (at most one listing per interval). */
  #queueNames(): Promise<string[]> {
    if (this.#listed && Date.now() - this.#listed.at < this.#rediscoverMs) {
      return Promise.resolve(this.#listed.names);
    }
    return (this.#listing ??= this.#backend
      .listQueues()
      .then((names) => {
        this.#listed = { names, at: Date.now() };
        return names;
      })
      .finally(() => {
        this.#listing = undefined;
      }));
  }

  #startRediscovery(): void {
    if (this.#rediscover || this.#closed) return;
    this.#rediscover = setInterval(() => {
      const all = [...this.#clients].filter((c) => c.all);
      if (all.length === 0) {
        clearInterval(this.#rediscover);
        this.#rediscover = undefined;
        return;
      }
      this.#queueNames()
        .then((names) => Promise.all(all.map((c) => this.#watch(c, names))))
        .catch((e: unknown) => this.#onError(e));
    }, this.#rediscoverMs);
    this.#rediscover.unref();
  }

  #deliver(queue: string, events: readonly QueueEvent[]): void {
    const feed = this.#feeds.get(queue);
    if (!feed) return;
    feed.remember(events);
    const text = events.map((e) => formatEvent(queue, e)).join('');
    for (const c of feed.clients) if (!c.write(queue, text)) this.#drop(c);
  }

  #broadcast(text: string): void {
    for (const c of this.#clients) if (!c.write(undefined, text)) this.#drop(c);
  }

  #drop(client: SseClient): void {
    if (!this.#clients.delete(client)) return;
    for (const queue of client.queues) {
      const feed = this.#feeds.get(queue);
      feed?.clients.delete(client);
      if (feed?.clients.size === 0) {
        this.#feeds.delete(queue);
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
    clearInterval(this.#rediscover);
    for (const c of [...this.#clients]) this.#drop(c);
    await this.#follower.stop();
  }
}
