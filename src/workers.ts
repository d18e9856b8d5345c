/**
 * The registry of live workers, the pure half: what a worker says about itself in each heartbeat,
 * what the registry keeps, and how long an entry lives without one. A worker beats every
 * `heartbeatMs` (default 5 s); its entry expires `WORKER_TTL_BEATS` beats after its last one, so a
 * killed process disappears within 15 s by default, and a worker that closes leaves at once.
 * The backends keep the entries (Redis: a zset by expiry and one hash per worker with a TTL, under
 * the queue's hash tag; memory: a map read with its clock) and, per queue, when a worker was last
 * seen, which `explain` uses to say "no live worker on this queue for 2 min".
 * @module
 */
import { hostname } from 'node:os';

/** Beats an entry outlives its last heartbeat by: it expires after this many missed beats. */
export const WORKER_TTL_BEATS = 3;

/** @default heartbeat interval of a worker (ms). */
export const DEFAULT_HEARTBEAT_MS = 5000;

/** What a worker says in each heartbeat. */
export interface WorkerBeat {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** The queues this worker serves (a Worker serves one; a process may list its others). */
  readonly queues: readonly string[];
  readonly concurrency: number;
  /** Jobs in flight now: running and claimed (prefetched). */
  readonly inFlight: number;
  /** The ReTraced version it runs. */
  readonly version: string;
}

/** A live worker as the registry shows it. */
export interface WorkerInfo extends WorkerBeat {
  /** When it first registered (backend clock). */
  readonly startedAt: number;
  /** Its last heartbeat (backend clock). */
  readonly heartbeatAt: number;
  /** When its entry expires without another heartbeat. */
  readonly expiresAt: number;
}

/** The live workers of a queue, and when one was last seen there. */
export interface WorkerRegistry {
  /** The backend's clock when it looked. */
  readonly now: number;
  /** Live workers (not expired), by id. */
  readonly workers: readonly WorkerInfo[];
  /**
   * The last time any worker was alive on the queue (its last heartbeat, or when it left);
   * undefined if none ever registered.
   */
  readonly lastSeenAt: number | undefined;
}

/** How long an entry lives after a heartbeat, for a worker beating every `heartbeatMs`. */
export function workerTtlMs(heartbeatMs: number): number {
  return heartbeatMs * WORKER_TTL_BEATS;
}

let cachedVersion: string | undefined;

/** The version of this package (from its package.json), for heartbeats. */
export async function packageVersion(): Promise<string> {
  if (cachedVersion === undefined) {
    try {
      const { createRequire } = await import('node:module');
      const pkg = createRequire(import.meta.url)('../package.json') as { version?: unknown };
      cachedVersion = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

/** This process's host name. */
export function hostName(): string {
  return hostname();
}
