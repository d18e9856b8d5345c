/**
 * The event stream's shared tails (src/http/sse.ts), over real sockets, on the memory backend and
 * on a real Redis (a redis-server of its own; skipped without one): a new client reads no history,
 * every client of a queue shares one tail, a departed client costs nothing, and `Last-Event-ID`
 * resumes exactly (from memory, or one bounded read), or says `resync` when it cannot.
 */
import { createServer, get, type ClientRequest, type IncomingMessage } from 'node:http';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import type { Backend } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { RESUME_LIMIT, SseHub } from '../../src/http/sse.js';
import { Queue } from '../../src/queue.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { eventually } from './helpers.js';

/** Counts the backend calls made through it. */
function counting(backend: Backend): {
  backend: Backend;
  calls: Record<string, number>;
  readsAfter: string[];
} {
  const calls: Record<string, number> = {};
  const readsAfter: string[] = [];
  const proxy = new Proxy(backend, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1;
        if (prop === 'readEvents') readsAfter.push(String(args[1]));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { backend: proxy, calls, readsAfter };
}

/** An open event stream: its text so far, and a way to wait for more. */
class Stream {
  text = '';
  readonly req: ClientRequest;
  readonly #opened: Promise<IncomingMessage>;

  constructor(url: string, headers: Record<string, string> = {}) {
    let opened!: (res: IncomingMessage) => void;
    this.#opened = new Promise((resolve) => (opened = resolve));
    this.req = get(url, { headers }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (this.text += chunk));
      opened(res);
    });
    this.req.on('error', () => {});
  }

  async open(): Promise<this> {
    await this.#opened;
    await eventually(() => this.text.includes(': watching'));
    return this;
  }

  /** The ids of the job events received, in order. */
  ids(): string[] {
    return [...this.text.matchAll(/^id: (.+)$/gm)].map((m) => m[1] ?? '');
  }

  jobIds(): string[] {
    return [...this.text.matchAll(/"jobId":"([^"]+)"/g)].map((m) => m[1] ?? '');
  }

  close(): void {
    this.req.destroy();
  }
}

const redisAvailable = hasRedisServer();

describe.each(['memory', 'redis'] as const)('event stream tails (%s backend)', (kind) => {
  let server: RedisServer | undefined;
  const open: { close: () => Promise<void>; streams: Stream[] }[] = [];
  let n = 0;

  afterEach(async () => {
    for (const o of open.splice(0)) {
      for (const s of o.streams) s.close();
      await o.close();
    }
  });
  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  /**
   * The hub alone behind a bare HTTP server (the app's metrics collector follows the feeds too,
   * and its reads would be counted); the route itself is tested in events.test.ts.
   */
  async function start() {
    let raw: Backend;
    if (kind === 'memory') raw = new MemoryBackend();
    else {
      server ??= await startRedisServer();
      raw = new RedisBackend({ connection: server.url, prefix: `sse${n++}`, onWarning: () => {} });
    }
    const { backend, calls, readsAfter } = counting(raw);
    const hub = new SseHub(backend);
    const http = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const queues = url.searchParams.get('queue')?.split(',');
      const last = req.headers['last-event-id'];
      hub.serve(res, {}, queues, typeof last === 'string' ? last : undefined).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const address = http.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const entry = {
      close: async () => {
        await hub.close();
        await new Promise((resolve) => http.close(resolve));
        await raw.close();
      },
      streams: [] as Stream[],
    };
    open.push(entry);
    const base = `http://127.0.0.1:${address.port}`;
    return {
      hub,
      calls,
      readsAfter,
      queue: new Queue('q', { backend: raw }),
      connect(path = '/events?queue=q', headers: Record<string, string> = {}): Promise<Stream> {
        const s = new Stream(base + path, headers);
        entry.streams.push(s);
        return s.open();
      },
    };
  }

  it.skipIf(kind === 'redis' && !redisAvailable)(
    'many clients share one tail found in one read, start from now, and leave nothing behind',
    async () => {
      const t = await start();
      await t.queue.addBulk(Array.from({ length: 3000 }, (_, i) => ({ name: 'old', data: i })));
      const before = { read: t.calls.readEvents ?? 0, tail: t.calls.eventTail ?? 0 };
      const streams = await Promise.all(Array.from({ length: 20 }, () => t.connect()));
      // Regression: each client used to read the whole feed (3 batches of 1000 here) to find its end.
      expect((t.calls.eventTail ?? 0) - before.tail).toBe(1);
      expect((t.calls.readEvents ?? 0) - before.read).toBeLessThan(10);
      const { id } = await t.queue.add('new', 1);
      await eventually(() => streams.every((s) => s.jobIds().includes(id)));
      expect(streams.map((s) => s.jobIds())).toEqual(streams.map(() => [id]));
      expect(t.hub.feeds).toBe(1);

      for (const s of streams) s.close();
      await eventually(() => t.hub.size === 0);
      expect(t.hub.feeds).toBe(0);
      const reads = t.calls.readEvents ?? 0;
      await new Promise((r) => setTimeout(r, 350));
      await t.queue.add('unwatched', 1);
      await new Promise((r) => setTimeout(r, 350));
      expect(t.calls.readEvents ?? 0).toBe(reads);
    },
  );

  it.skipIf(kind === 'redis' && !redisAvailable)(
    'Last-Event-ID resumes exactly, from the shared tail or from one bounded read',
    async () => {
      const t = await start();
      const keeper = await t.connect();
      const first = await t.connect();
      const a = await t.queue.add('a', 1);
      await eventually(() => first.jobIds().includes(a.id));
      const lastId = first.ids().at(-1) as string;
      first.close();
      const b = await t.queue.add('b', 1);
      const c = await t.queue.add('c', 1);
      await eventually(() => keeper.jobIds().includes(c.id));
      // From the tail another client keeps alive: no read of the feed.
      const seqOf = (id: string) => id.slice(id.lastIndexOf(':') + 1);
      let mark = t.readsAfter.length;
      const back = await t.connect('/events?queue=q', { 'last-event-id': lastId });
      expect(t.readsAfter.slice(mark)).not.toContain(seqOf(lastId));
      const d = await t.queue.add('d', 1);
      await eventually(() => back.jobIds().includes(d.id));
      expect(back.jobIds()).toEqual([b.id, c.id, d.id]);

      // Nobody watching: the tail stops, and the next client reads what it missed once.
      const lastOfBack = back.ids().at(-1) as string;
      keeper.close();
      back.close();
      await eventually(() => t.hub.feeds === 0);
      const e = await t.queue.add('e', 1);
      mark = t.readsAfter.length;
      const again = await t.connect('/events?queue=q', { 'last-event-id': lastOfBack });
      const f = await t.queue.add('f', 1);
      await eventually(() => again.jobIds().includes(f.id));
      expect(again.jobIds()).toEqual([e.id, f.id]);
      expect(t.readsAfter.slice(mark).filter((seq) => seq === seqOf(lastOfBack))).toHaveLength(1);
    },
  );

  it.skipIf(kind === 'redis' && !redisAvailable)(
    'too far behind, or an id it never gave: event resync, then live events',
    async () => {
      const t = await start();
      const first = await t.connect();
      const a = await t.queue.add('a', 1);
      await eventually(() => first.jobIds().includes(a.id));
      const lastId = first.ids().at(-1) as string;
      first.close();
      await t.queue.addBulk(Array.from({ length: RESUME_LIMIT + 10 }, (_, i) => ({ name: 'many', data: i })));
      const late = await t.connect('/events?queue=q', { 'last-event-id': lastId });
      expect(late.text).toMatch(/event: resync\ndata: \{"queue":"q","reason":"more than 1000 events/);
      expect(late.jobIds()).toEqual([]);
      const b = await t.queue.add('b', 1);
      await eventually(() => late.jobIds().includes(b.id));
      const bogus = await t.connect('/events?queue=q', { 'last-event-id': 'nonsense' });
      expect(bogus.text).toContain('event: resync');
    },
  );

  it.skipIf(kind === 'redis' && !redisAvailable)(
    'clients of every queue share one listing of the queues',
    async () => {
      const t = await start();
      await t.queue.add('a', 1);
      const before = t.calls.listQueues ?? 0;
      const streams = await Promise.all(Array.from({ length: 10 }, () => t.connect('/events')));
      expect((t.calls.listQueues ?? 0) - before).toBeLessThanOrEqual(2);
      const { id } = await t.queue.add('b', 1);
      await eventually(() => streams.every((s) => s.jobIds().includes(id)));
    },
  );
});
