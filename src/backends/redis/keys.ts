/**
 * The only place Redis key names are built. Every key of a queue carries the hash tag `{queue}`,
 * so a queue lives on one Redis Cluster slot and many queues spread over a cluster.
 * See ARCHITECTURE.md for what each key holds.
 * @module
 */

export interface QueueKeys {
  /** The prefix scripts extend for job hashes (`P + 'j:' + id`) and fingerprint indexes. */
  readonly prefix: string;
  /** The standard KEYS array of every script, in order (see lua/includes/base.lua). */
  readonly all: readonly string[];
  readonly meta: string;
  readonly wait: string;
  readonly sched: string;
  readonly active: string;
  readonly done: string;
  readonly dead: string;
  readonly cancelled: string;
  readonly events: string;
  readonly wake: string;
  readonly fingerprints: string;
  job(id: string): string;
  /** A job's attempt records, oldest first (a list). */
  history(id: string): string;
  /** Interned job options: digest → JSON text, '#' + digest → jobs using it. */
  readonly options: string;
  fingerprint(fp: string): string;
}

export function queueKeys(prefix: string, queue: string): QueueKeys {
  const p = `${prefix}:{${queue}}:`;
  const k = {
    meta: `${p}meta`,
    wait: `${p}wait`,
    sched: `${p}sched`,
    active: `${p}active`,
    done: `${p}done`,
    dead: `${p}dead`,
    cancelled: `${p}cnl`,
    events: `${p}events`,
    wake: `${p}wake`,
    fingerprints: `${p}fpi`,
  };
  return {
    prefix: p,
    ...k,
    all: [k.meta, k.wait, k.sched, k.active, k.done, k.dead, k.cancelled, k.events, k.wake, k.fingerprints],
    job: (id) => `${p}j:${id}`,
    history: (id) => `${p}h:${id}`,
    options: `${p}o`,
    fingerprint: (fp) => `${p}fp:${fp}`,
  };
}
