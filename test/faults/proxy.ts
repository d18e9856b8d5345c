/**
 * A small TCP proxy for the fault suite, between the clients and the test redis-server:
 *
 *   const proxy = await startProxy({ port: server.port });
 *   // clients connect to proxy.url
 *   proxy.cut();              // every current connection reset (both sides)
 *   proxy.blackhole();        // nothing forwarded any more, sockets kept open (new ones too)
 *   proxy.restore();          // new connections work again (black-holed ones stay silent), no latency
 *   proxy.setLatency(50);     // every chunk delivered 50 ms later, in order
 *
 * A black hole models a path whose state was lost on the way (a NAT or firewall entry gone, a
 * failover behind a virtual address): the bytes sent into it are dropped, no FIN or RST ever comes
 * back, and a connection that was in it stays silent for good, even after `restore()`, until one of
 * its ends closes it (that close is passed on: no half-dead sockets are kept). Connections accepted
 * during the hole are black-holed too (the TCP connect succeeds, nothing after it does). Only the
 * clients' own timeouts can get them out.
 *
 * Each connection is a pair (client side, Redis side); whatever one side does with its socket (end,
 * close, error) is passed to the other, after the data still delayed. Backpressure: a side whose
 * peer cannot take more is paused until the peer drains.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface ProxyStats {
  /** Connections accepted since the start. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Connections reset by `cut()`. */
  readonly cut: number;
  /** Connections put into a black hole (open ones at `blackhole()`, and those accepted during it). */
  readonly blackholed: number;
  /** Bytes dropped by black holes. */
  readonly droppedBytes: number;
}

/** One direction of a pair: `from`'s bytes to `to`, possibly delayed. */
class Pipe {
  readonly #from: Socket;
  readonly #to: Socket;
  readonly #proxy: FaultProxy;
  readonly #pair: Pair;
  /** Chunks waiting for their delivery time (in order); `null` is the end of the stream. */
  readonly #queue: { chunk: Buffer | null; at: number }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(from: Socket, to: Socket, pair: Pair, proxy: FaultProxy) {
    this.#from = from;
    this.#to = to;
    this.#pair = pair;
    this.#proxy = proxy;
    from.on('data', (chunk: Buffer) => this.#push(chunk));
    from.on('end', () => this.#push(null));
    to.on('drain', () => from.resume());
  }

  #push(chunk: Buffer | null): void {
    if (this.#pair.dead) {
      if (chunk) this.#proxy.droppedBytes += chunk.length;
      // An end out of a black hole closes the pair (no half-open sockets left behind).
      else this.#pair.reset();
      return;
    }
    const ms = this.#proxy.latencyMs;
    if (ms <= 0 && this.#queue.length === 0) return this.#deliver(chunk);
    this.#queue.push({ chunk, at: Date.now() + ms });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer || this.#queue.length === 0) return;
    const head = this.#queue[0] as { at: number };
    this.#timer = setTimeout(() => this.#flush(), Math.max(0, head.at - Date.now()));
  }

  #flush(): void {
    this.#timer = undefined;
    const now = Date.now();
    while (this.#queue.length > 0 && (this.#queue[0] as { at: number }).at <= now) {
      const { chunk } = this.#queue.shift() as { chunk: Buffer | null };
      if (this.#pair.dead) {
        if (chunk) this.#proxy.droppedBytes += chunk.length;
      } else this.#deliver(chunk);
    }
    this.#schedule();
  }

  #deliver(chunk: Buffer | null): void {
    if (this.#to.destroyed) return;
    if (chunk === null) this.#to.end();
    else if (!this.#to.write(chunk)) this.#from.pause();
  }

  /** Drops what is still delayed (the pair is going away or into a black hole). */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const { chunk } of this.#queue.splice(0)) if (chunk) this.#proxy.droppedBytes += chunk.length;
  }
}

class Pair {
  readonly client: Socket;
  readonly upstream: Socket | undefined;
  readonly #pipes: Pipe[] = [];
  /** In a black hole: everything either side sends is dropped, for good. */
  dead = false;

  constructor(client: Socket, upstream: Socket | undefined, proxy: FaultProxy) {
    this.client = client;
    this.upstream = upstream;
    if (upstream) {
      this.#pipes.push(new Pipe(client, upstream, this, proxy), new Pipe(upstream, client, this, proxy));
    } else {
      client.on('data', (chunk: Buffer) => (proxy.droppedBytes += chunk.length));
      client.on('end', () => this.reset());
    }
  }

  blackhole(): void {
    this.dead = true;
    for (const p of this.#pipes) p.clear();
    // Keep reading (and dropping): a paused side must not hold the other's writes in its buffers.
    this.client.resume();
    this.upstream?.resume();
  }

  /** Resets both sides (RST: the client sees ECONNRESET, Redis a closed connection). */
  reset(): void {
    for (const p of this.#pipes) p.clear();
    this.client.resetAndDestroy();
    this.upstream?.resetAndDestroy();
  }
}

export class FaultProxy {
  readonly target: { readonly host: string; readonly port: number };
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  #holing = false;
  latencyMs = 0;
  accepted = 0;
  cutCount = 0;
  blackholed = 0;
  droppedBytes = 0;
  port = 0;

  constructor(target: { host?: string; port: number }) {
    this.target = { host: target.host ?? '127.0.0.1', port: target.port };
    this.#server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (c) => this.#accept(c));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const a = this.#server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this;
  }

  #accept(client: Socket): void {
    this.accepted++;
    client.setNoDelay(true);
    let pair: Pair;
    if (this.#holing) {
      this.blackholed++;
      pair = new Pair(client, undefined, this);
      pair.dead = true;
    } else {
      const upstream = connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
      upstream.setNoDelay(true);
      pair = new Pair(client, upstream, this);
    }
    this.#pairs.add(pair);
    // One side closed: after a clean end (FIN) the pipe passes the end on after the data still
    // delayed; after a reset or an error (or out of a black hole) the other side is destroyed.
    const onClose = (s: Socket, other: Socket | undefined): void => {
      if (!other || other.destroyed) return this.#drop(pair);
      if (s.readableEnded && !pair.dead) return; // the end goes through the pipe
      other.destroy();
    };
    const up = pair.upstream;
    client.on('error', () => undefined); // ECONNRESET and the like: 'close' follows
    client.on('close', () => onClose(client, up));
    if (up) {
      up.on('error', () => undefined);
      up.on('close', () => onClose(up, client));
    }
    client.resume();
  }

  #drop(pair: Pair): void {
    this.#pairs.delete(pair);
  }

  /** Resets every open connection, both sides. Returns how many. */
  cut(): number {
    const n = this.#pairs.size;
    for (const p of [...this.#pairs]) p.reset();
    this.cutCount += n;
    return n;
  }

  /** From now on nothing is forwarded, on the open connections and on new ones. */
  blackhole(): void {
    this.#holing = true;
    for (const p of this.#pairs) {
      if (!p.dead) {
        p.blackhole();
        this.blackholed++;
      }
    }
  }

  /** New connections are forwarded again (connections that were black-holed stay silent); latency 0. */
  restore(): void {
    this.#holing = false;
    this.latencyMs = 0;
  }

  /** Delays every chunk, in both directions, by `ms` (0: none). Order is kept. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  stats(): ProxyStats {
    return {
      accepted: this.accepted,
      open: this.#pairs.size,
      cut: this.cutCount,
      blackholed: this.blackholed,
      droppedBytes: this.droppedBytes,
    };
  }

  /** Stops listening and resets every connection. */
  async close(): Promise<void> {
    for (const p of [...this.#pairs]) p.reset();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A proxy to `target` listening on a free port (or `port`). */
export function startProxy(target: { host?: string; port: number }, port = 0): Promise<FaultProxy> {
  return new FaultProxy(target).listen(port);
}
