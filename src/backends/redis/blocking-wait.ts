/**
 * The blocking wait of idle workers: BLPOP on the queue's wake list, on connections of their own
 * (a blocked connection can do nothing else), kept in a pool and reused.
 *
 * The timeout is kept by a local timer, not by Redis: Redis checks blocked clients' timeouts only on
 * its cron tick (every 1000/hz ms, 100 ms by default), which would make delayed jobs start up to
 * 100 ms late. When the timer wins, the BLPOP is ended with CLIENT UNBLOCK (or, where that is not
 * allowed, left to run out before its connection is reused).
 * @module
 */
import { Redis, type Cluster } from 'ioredis';

type Client = Redis | Cluster;

export class BlockingWait {
  readonly #client: Client;
  readonly #idle: Client[] = [];
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

  #connection(): Client {
    const pooled = this.#idle.pop();
    if (pooled) return pooled;
    // Without a socket timeout: a BLPOP gets no reply until it ends (the guard in wait covers it).
    const conn =
      this.#client instanceof Redis
        ? this.#client.duplicate({ socketTimeout: undefined })
        : (this.#client.duplicate as () => Client).call(this.#client);
    // Connection errors surface as the failed command; without a listener ioredis logs them.
    conn.on('error', () => undefined);
    conn.on('close', () => this.#epochs.set(conn, (this.#epochs.get(conn) ?? 0) + 1));
    return conn;
  }

  /**
   * Blocks on the list `key` until a token arrives, `timeoutMs` passes, or `signal` aborts.
   */
  async wait(key: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const c = this.#connection();
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
    const local = new Promise<'timer'>((resolve) => (timer = setTimeout(() => resolve('timer'), timeoutMs)));
    const aborted = new Promise<'abort'>((resolve) => {
      onAbort = () => resolve('abort');
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort as () => void);
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
        return;
      }
      known = got;
      if (known) this.#clientIds.set(c, known);
    }
    let popError: unknown;
    // Redis's own timeout is only a backstop, a little after ours.
    const blocking = c.blpop(key, (timeoutMs + 250) / 1000).then(
      () => 'pop' as const,
      (e: unknown) => {
        popError = e;
        return 'error' as const;
      },
    );
    const settled = blocking.finally(() => {
      clearTimeout(guard);
      signal.removeEventListener('abort', drop);
      this.#busy.delete(c);
      if (broken || this.#closed) c.disconnect();
      else this.#idle.push(c);
    });
    const first = await Promise.race([blocking, local, aborted]);
    finish();
    if (first === 'timer' && known !== undefined && known.epoch === (this.#epochs.get(c) ?? 0)) {
      const id = known.id;
      try {
        // 1 = it was blocked and is now released; 0 = the BLPOP has not reached Redis yet: try
        // again shortly, then leave it to run out its backstop rather than wait for it.
        for (let tries = 0; tries < 3; tries++) {
          if ((await this.#client.call('CLIENT', 'UNBLOCK', String(id))) === 1) {
            await settled;
            break;
          }
          await new Promise((r) => setTimeout(r, 1));
        }
      } catch {
        // CLIENT UNBLOCK refused (ACL): the BLPOP runs out on its own; its connection waits till then.
      }
    } else if (first === 'error' && !broken && !signal.aborted) {
      throw popError;
    }
  }

  /** Disconnects every blocking connection; a wait in progress ends. */
  close(): void {
    this.#closed = true;
    for (const c of [...this.#idle, ...this.#busy]) c.disconnect();
    this.#idle.length = 0;
  }
}
