/**
 * The blocking wait of idle workers: BLPOP on the queue's wake list, on connections of their own
 * (a blocked connection can do nothing else), kept in a pool and reused.
 *
 * The timeout is kept by a local timer, not by Redis: Redis checks blocked clients' timeouts only on
 * its cron tick (every 1000/hz ms, 100 ms by default), which would make delayed jobs start up to
 * 100 ms late. When the timer wins, the BLPOP is ended with CLIENT UNBLOCK (or, where that is not
 * allowed, left to run out before its connection is reused).
 *
 * On a Redis Cluster, a blocking connection is a plain connection to the master that owns the wake
 * list's slot (CLIENT ID and CLIENT UNBLOCK only mean something on one node), pooled per node. After
 * a failover moves the slot, the BLPOP fails with MOVED or its connection drops: the wait ends, the
 * slot's owner is looked up again, and the caller (a worker's loop) simply looks again.
 *
 * A worker consuming several queues waits on all their wake lists at once (`waitAny`): one BLPOP
 * naming every list on a single Redis; on a cluster, where one command may only name keys of one
 * slot, one BLPOP per queue on its master, the first to return ending the others.
 * @module
 */
import { setMaxListeners } from 'node:events';

import { Redis, type Cluster } from 'ioredis';

type Client = Redis | Cluster;

/** A plain connection to one node: where a blocking command and its CLIENT UNBLOCK go. */
interface NodeConnections {
  /** Blocking connections to this node not in use. */
  readonly idle: Client[];
  /** Where CLIENT UNBLOCK is sent: the backend's client, or (cluster) a connection to the node. */
  readonly control: Client;
}

export class BlockingWait {
  readonly #client: Client;
  /** Per node ('' for a single Redis): idle blocking connections and the control connection. */
  readonly #nodes = new Map<string, NodeConnections>();
  /** Cluster only: the slot of each wake list, asked once. */
  readonly #slots = new Map<string, number>();
  readonly #busy = new Set<Client>();
  /** A blocking connection's CLIENT ID, with the connection epoch it belongs to. */
  readonly #clientIds = new WeakMap<Client, { id: number; epoch: number }>();
  /** Bumped each time a blocking connection closes: after a reconnect its CLIENT ID is another. */
  readonly #epochs = new WeakMap<Client, number>();
  #closed = false;

  /** `client`: the backend's connection, duplicated for each blocking connection. */
  constructor(client: Client) {
    this.#client = client;
  }

  /** The node that owns `key` ('' for a single Redis), with its connections. */
  async #node(key: string): Promise<NodeConnections & { addr: string }> {
    const client = this.#client;
    if (client instanceof Redis) {
      let n = this.#nodes.get('');
      if (!n) this.#nodes.set('', (n = { idle: [], control: client }));
      return { ...n, addr: '' };
    }
    const slot = await this.#slotOf(client, key);
    const addr = client.slots[slot]?.[0];
    if (addr === undefined) throw new Error(`no master known for the slot of ${key} (cluster not ready)`);
    let n = this.#nodes.get(addr);
    if (!n) {
      const control = this.#nodeClient(addr, true);
      this.#nodes.set(addr, (n = { idle: [], control }));
    }
    return { ...n, addr };
  }

  /** A plain connection to the cluster node `addr` (host:port), with the cluster's node options. */
  #nodeClient(addr: string, withTimeout: boolean): Client {
    const cluster = this.#client as Cluster;
    const colon = addr.lastIndexOf(':');
    const base = cluster.options.redisOptions ?? {};
    const conn = new Redis({
      ...base,
      host: addr.slice(0, colon),
      port: Number(addr.slice(colon + 1)),
      ...(withTimeout ? {} : { socketTimeout: undefined }),
    });
    conn.on('error', () => undefined);
    return conn;
  }

  #connection(node: NodeConnections & { addr: string }): Client {
    const pooled = node.idle.pop();
    if (pooled) return pooled;
    // Without a socket timeout: a BLPOP gets no reply until it ends (the guard in wait covers it).
    const conn =
      this.#client instanceof Redis
        ? this.#client.duplicate({ socketTimeout: undefined })
        : this.#nodeClient(node.addr, false);
    // Connection errors surface as the failed command; without a listener ioredis logs them.
    conn.on('error', () => undefined);
    conn.on('close', () => this.#epochs.set(conn, (this.#epochs.get(conn) ?? 0) + 1));
    return conn;
  }

  /**
   * Blocks on the list `key` until a token arrives, `timeoutMs` passes, or `signal` aborts.
   */
  async wait(key: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    await this.#block([key], timeoutMs, signal, undefined);
  }

  /**
   * Blocks on several lists until a token arrives on one of them, `timeoutMs` passes, `signal`
   * aborts (the caller closing: connections dropped) or `interrupt` fires (ended like the timeout,
   * by CLIENT UNBLOCK). Returns the lists a token was taken from ([] when none).
   *
   * On a single Redis, one BLPOP names every list. On a cluster a BLPOP may only name keys of one
   * slot (each queue has its own hash tag), so there is one BLPOP per slot, each on a connection to
   * the slot's master, run together: the first that returns ends the others (CLIENT UNBLOCK), and
   * a token another one took meanwhile is reported too, not lost.
   */
  async waitAny(
    keys: readonly string[],
    timeoutMs: number,
    signal: AbortSignal,
    interrupt: AbortSignal | undefined,
  ): Promise<string[]> {
    if (keys.length === 0 || signal.aborted || interrupt?.aborted) return [];
    const client = this.#client;
    if (client instanceof Redis || keys.length === 1) {
      const k = await this.#block(keys, timeoutMs, signal, interrupt);
      return k === undefined ? [] : [k];
    }
    // Registered before the slot look-ups: an interrupt during them must end the waits too.
    const first = new AbortController();
    const end = (): void => first.abort();
    interrupt?.addEventListener('abort', end, { once: true });
    if (interrupt?.aborted) first.abort();
    // One listener on the caller's signal, relayed to the waits (a worker on many queues would
    // otherwise pass Node's listener warning threshold on it).
    const closing = new AbortController();
    const close = (): void => closing.abort();
    signal.addEventListener('abort', close, { once: true });
    let groups: string[][];
    try {
      const bySlot = new Map<number, string[]>();
      for (const key of keys) {
        const slot = await this.#slotOf(client, key);
        const g = bySlot.get(slot);
        if (g) g.push(key);
        else bySlot.set(slot, [key]);
      }
      groups = [...bySlot.values()];
    } catch (e) {
      interrupt?.removeEventListener('abort', end);
      signal.removeEventListener('abort', close);
      if (signal.aborted || this.#closed) return [];
      throw e;
    }
    if (signal.aborted) closing.abort();
    setMaxListeners(4 * groups.length + 10, closing.signal, first.signal);
    try {
      const settled = await Promise.allSettled(
        groups.map((g) =>
          this.#block(g, timeoutMs, closing.signal, first.signal).then((k) => {
            if (k !== undefined) first.abort();
            return k;
          }),
        ),
      );
      const popped: string[] = [];
      let failure: unknown;
      for (const r of settled) {
        if (r.status === 'fulfilled') {
          if (r.value !== undefined) popped.push(r.value);
        } else {
          failure ??= r.reason;
        }
      }
      if (popped.length === 0 && failure !== undefined && !signal.aborted) throw failure;
      return popped;
    } finally {
      first.abort();
      interrupt?.removeEventListener('abort', end);
      signal.removeEventListener('abort', close);
    }
  }

  async #slotOf(client: Cluster, key: string): Promise<number> {
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
      this.#slots.set(key, slot);
    }
    return slot;
  }

  /**
   * One BLPOP on `keys` (all of one slot on a cluster): the key a token was taken from, or
   * undefined when the wait ended without one. `stop` ends it like the timeout (CLIENT UNBLOCK).
   */
  async #block(
    keys: readonly string[],
    timeoutMs: number,
    signal: AbortSignal,
    stop: AbortSignal | undefined,
  ): Promise<string | undefined> {
    if (signal.aborted || stop?.aborted) return undefined;
    const key = keys[0] as string;
    let node;
    try {
      node = await this.#node(key);
    } catch (e) {
      // Cluster slots not known yet (connecting, a failover): no wait this time, the caller looks again.
      if (signal.aborted || this.#closed) return undefined;
      throw e;
    }
    if (signal.aborted || this.#closed || stop?.aborted) return undefined;
    const c = this.#connection(node);
    this.#busy.add(c);
    let broken = false;
    const drop = (): void => {
      broken = true;
      c.disconnect();
    };
    signal.addEventListener('abort', drop, { once: true });
    // A half-open connection would block forever: give up on it a little after the timeout.
    const guard = setTimeout(drop, timeoutMs + 2000);
    // Both made before the first await: an abort or the deadline must end this wait wherever it is.
    // (A connection dropped while it was reconnecting never reconnects, and a command queued on it
    // never settles: nothing here may wait on such a command alone.)
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let onStop: (() => void) | undefined;
    const local = new Promise<'timer'>((resolve) => {
      timer = setTimeout(() => resolve('timer'), timeoutMs);
      // `stop` is the timer come early.
      onStop = () => resolve('timer');
      stop?.addEventListener('abort', onStop, { once: true });
    });
    const aborted = new Promise<'abort'>((resolve) => {
      onAbort = () => resolve('abort');
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort as () => void);
      stop?.removeEventListener('abort', onStop as () => void);
    };
    // The id is only trusted for the connection epoch it was read in: after a reconnect (a Redis
    // restart) another client may hold the old id, and unblocking it would wake a stranger.
    let known = this.#clientIds.get(c);
    if (known === undefined || known.epoch !== (this.#epochs.get(c) ?? 0)) {
      const epoch = this.#epochs.get(c) ?? 0;
      const asked = c.call('CLIENT', 'ID').then(
        (id) => ({ id: Number(id), epoch }),
        () => undefined,
      );
      const got = await Promise.race([asked, local, aborted]);
      if (got === 'timer' || got === 'abort') {
        // No id in time (the connection is down or dropped): give this wait up; the caller looks again.
        finish();
        clearTimeout(guard);
        signal.removeEventListener('abort', drop);
        this.#busy.delete(c);
        c.disconnect();
        return undefined;
      }
      known = got;
      if (known) this.#clientIds.set(c, known);
    }
    let popError: unknown;
    let poppedKey: string | undefined;
    /** The BLPOP has answered (a token, its own timeout, or an error). */
    let returned = false;
    // Redis's own timeout is only a backstop, a little after ours.
    const blocking = c.blpop(...keys, (timeoutMs + 250) / 1000).then(
      (reply) => {
        returned = true;
        poppedKey = reply?.[0];
        return 'pop' as const;
      },
      (e: unknown) => {
        returned = true;
        popError = e;
        return 'error' as const;
      },
    );
    const settled = blocking.finally(() => {
      clearTimeout(guard);
      signal.removeEventListener('abort', drop);
      this.#busy.delete(c);
      if (broken || this.#closed) c.disconnect();
      else node.idle.push(c);
    });
    const first = await Promise.race([blocking, local, aborted]);
    finish();
    if (first === 'timer' && known !== undefined && known.epoch === (this.#epochs.get(c) ?? 0)) {
      const id = known.id;
      try {
        // 1 = it was blocked and is now released; 0 = the BLPOP has not reached Redis yet (or has
        // just returned). Asked again until one or the other: a BLPOP left running would take the
        // next token with no one to report it to, and a worker on several queues, which ends its
        // waits early and often, would then miss that wake. (Bounded: an UNBLOCK that keeps
        // answering 0 leaves the BLPOP to run out its backstop.)
        for (let tries = 0; tries < 200; tries++) {
          if ((await node.control.call('CLIENT', 'UNBLOCK', String(id))) === 1) {
            await settled;
            break;
          }
          if (returned) break;
          await new Promise((r) => setTimeout(r, 1));
        }
      } catch {
        // CLIENT UNBLOCK refused (ACL): the BLPOP runs out on its own; its connection waits till then.
      }
      // A token taken just as the wait ended is reported, not lost.
      return poppedKey;
    } else if (first === 'error' && !broken && !signal.aborted) {
      // The slot moved (a failover, a resharding): look its owner up again next time.
      if (popError instanceof Error && /^(MOVED|ASK|CLUSTERDOWN)/.test(popError.message)) {
        for (const k of keys) this.#slots.delete(k);
        return undefined;
      }
      throw popError;
    }
    return poppedKey;
  }

  /** Disconnects every blocking connection; a wait in progress ends. */
  close(): void {
    this.#closed = true;
    for (const c of this.#busy) c.disconnect();
    for (const n of this.#nodes.values()) {
      for (const c of n.idle) c.disconnect();
      n.idle.length = 0;
      if (n.control !== this.#client) n.control.disconnect();
    }
  }
}
