/**
 * The archiver: copies every finished job of its queues, with all its attempts, from the backend
 * into the archive, before retention may evict it (the backend holds a noted job until
 * `markArchived`; see `Backend.setArchive`). Runs as `retraced archive run`, or in-process in
 * `retraced server` / `worker` / `dev` with `--postgres`.
 *
 * Exactly once in the archive: a batch is marked archived only after its write committed, and the
 * write is idempotent (pg-archive.ts), so a crash anywhere leaves jobs either marked (written) or
 * still noted (written again, harmlessly). Several archivers at once take turns per queue (a lease
 * renewed by each claim); the one that holds a queue keeps `inFlight` batches going: while one is
 * written, the next is read.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import type { ArchiveEntry, Backend } from '../backend.js';
import type { Job, JobState } from '../types.js';
import type { PgArchive } from './pg-archive.js';

const FINISHED: ReadonlySet<JobState> = new Set(['completed', 'dead', 'cancelled']);

/** What the archiver needs of the archive (PgArchive; a test may wrap it). */
export type ArchiveWriter = Pick<PgArchive, 'migrate' | 'write' | 'prune'>;

export interface ArchiverOptions {
  readonly backend: Backend;
  readonly archive: ArchiveWriter;
  /**
   * The queues to archive. @default every queue of the backend, looked up every `scanIntervalMs`;
   * the backend is then marked archived (`Backend.setArchiveDefault`), so a queue created between
   * two lookups holds its finished jobs for the archive as soon as it has retention.
   */
  readonly queues?: readonly string[];
  /** Who this archiver is, in its leases. @default host:pid:random */
  readonly owner?: string;
  /** Most jobs per batch (one claim, one PostgreSQL statement). @default 1000 */
  readonly batchSize?: number;
  /** Batches of one queue being written at once. @default 2 */
  readonly inFlight?: number;
  /** How long a queue stays this archiver's without a claim (then another may take it). @default 10000 */
  readonly leaseMs?: number;
  /** Pause when nothing was pending. @default 200 */
  readonly idleMs?: number;
  /** How often the list of queues is read again (when `queues` is not given). @default 5000 */
  readonly scanIntervalMs?: number;
  /** The archive's own retention: archived jobs finished longer ago than this are deleted. @default keep */
  readonly retainMs?: number;
  /** How often the archive's retention runs. @default 60000 */
  readonly pruneIntervalMs?: number;
  /**
   * A failed round (PostgreSQL or the backend unreachable); the archiver retries with a backoff
   * (250 ms doubling, at most 1 s: a retry costs one failed connection, and a longer wait is time
   * the backlog grows after the archive is back).
   */
  readonly onError?: (error: unknown) => void;
}

export interface ArchiverStats {
  /** Job rows written (a job is written again when it finishes again after a replay). */
  archived: number;
  /** Attempt rows that were new. */
  attempts: number;
  batches: number;
  /** Noted jobs dropped without a write: gone (purged) or not finished any more. */
  skipped: number;
  /** Archived jobs deleted by the archive's retention. */
  pruned: number;
  errors: number;
}

export class Archiver {
  readonly owner: string;
  readonly stats: ArchiverStats = { archived: 0, attempts: 0, batches: 0, skipped: 0, pruned: 0, errors: 0 };
  readonly #o: Required<Omit<ArchiverOptions, 'queues' | 'retainMs' | 'onError' | 'owner'>> &
    Pick<ArchiverOptions, 'queues' | 'retainMs' | 'onError'>;
  readonly #enabled = new Set<string>();
  #markedDefault = false;
  #queues: readonly string[] = [];
  #scannedAt = -Infinity;
  #prunedAt = -Infinity;
  #loop: Promise<void> | undefined;
  #closing = false;
  #wake: (() => void) | undefined;

  constructor(options: ArchiverOptions) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#o = {
      backend: options.backend,
      archive: options.archive,
      queues: options.queues,
      batchSize: options.batchSize ?? 1000,
      inFlight: options.inFlight ?? 2,
      leaseMs: options.leaseMs ?? 10_000,
      idleMs: options.idleMs ?? 200,
      scanIntervalMs: options.scanIntervalMs ?? 5000,
      retainMs: options.retainMs,
      pruneIntervalMs: options.pruneIntervalMs ?? 60_000,
      onError: options.onError,
    };
  }

  /** Migrates the archive, then archives until `close()`. Resolves once the archive is migrated. */
  async start(): Promise<void> {
    if (this.#loop) return;
    await this.#o.archive.migrate();
    this.#loop = this.#run();
  }

  /** Stops after the batches in flight (they are written and marked, or left noted). */
  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    await this.#loop;
  }

  /** Archives what is pending now on every queue (turning their archive on first); returns how many. */
  async drain(): Promise<number> {
    let total = 0;
    this.#scannedAt = -Infinity; // every queue there is now
    for (const queue of await this.#currentQueues()) {
      for (;;) {
        const n = await this.#pump(queue);
        total += n;
        if (n === 0) break;
      }
    }
    return total;
  }

  async #currentQueues(): Promise<readonly string[]> {
    const now = Date.now();
    if (this.#o.queues) {
      this.#queues = this.#o.queues;
    } else if (now - this.#scannedAt >= this.#o.scanIntervalMs) {
      // Every queue, also those created between two listings: the backend is marked archived
      // before the first listing, so a new queue's retention turns its archive on first.
      if (!this.#markedDefault) {
        await this.#o.backend.setArchiveDefault(true);
        this.#markedDefault = true;
      }
      this.#queues = await this.#o.backend.listQueues();
      this.#scannedAt = now;
    }
    for (const q of this.#queues) {
      if (this.#enabled.has(q)) continue;
      await this.#o.backend.setArchive(q, true);
      this.#enabled.add(q);
    }
    return this.#queues;
  }

  async #run(): Promise<void> {
    let backoff = 0;
    while (!this.#closing) {
      let done = 0;
      try {
        for (const queue of await this.#currentQueues()) {
          if (this.#closing) break;
          done += await this.#pump(queue);
        }
        await this.#prune();
        backoff = 0;
      } catch (err) {
        this.stats.errors++;
        this.#o.onError?.(err);
        backoff = Math.min(1000, Math.max(250, backoff * 2));
      }
      if (done === 0 || backoff > 0) await this.#sleep(backoff || this.#o.idleMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#closing) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    });
  }

  async #prune(): Promise<void> {
    const { retainMs, pruneIntervalMs } = this.#o;
    if (retainMs === undefined || Date.now() - this.#prunedAt < pruneIntervalMs) return;
    this.#prunedAt = Date.now();
    const before = (await this.#o.backend.now()) - retainMs;
    for (const queue of this.#queues) this.stats.pruned += await this.#o.archive.prune(queue, before);
  }

  /**
   * Archives a queue's pending jobs until none is left or another archiver holds the queue, with up
   * to `inFlight` batches at once; returns how many were archived. A failure stops it after the
   * batches in flight and is thrown (what failed stays noted, for the next round).
   */
  async #pump(queue: string): Promise<number> {
    const { backend, batchSize, inFlight, leaseMs } = this.#o;
    let from: number | undefined;
    let done = 0;
    let failed: { error: unknown } | undefined;
    const flying = new Set<string>();
    const tasks = new Set<Promise<void>>();
    while (!this.#closing && !failed) {
      // What is in flight when the claim is sent: a batch marked after Redis ran the claim but
      // done before its reply is read has left `flying`, and would be written twice.
      const claimed = new Set(flying);
      const batch = await backend.claimArchive(queue, {
        owner: this.owner,
        leaseMs,
        max: batchSize,
        ...(from !== undefined ? { from } : {}),
      });
      if (batch.busy) break;
      const fresh = batch.entries.filter((e) => !claimed.has(e.id));
      if (fresh.length === 0) break;
      from = batch.entries[batch.entries.length - 1]!.mark;
      for (const e of fresh) flying.add(e.id);
      const task: Promise<void> = this.#archive(queue, fresh)
        .then(
          (n) => {
            done += n;
          },
          (error: unknown) => {
            failed ??= { error };
          },
        )
        .finally(() => {
          for (const e of fresh) flying.delete(e.id);
          tasks.delete(task);
        });
      tasks.add(task);
      if (batch.entries.length < batchSize) break; // caught up
      if (tasks.size >= inFlight) await Promise.race(tasks);
    }
    await Promise.all(tasks);
    if (failed) throw failed.error;
    return done;
  }

  /** Writes one batch, then marks it archived (only then may retention evict its jobs). */
  async #archive(queue: string, entries: readonly ArchiveEntry[]): Promise<number> {
    const jobs: Job[] = [];
    for (const e of entries) {
      if (e.job && FINISHED.has(e.job.state)) jobs.push(e.job);
    }
    const w = await this.#o.archive.write(queue, jobs);
    await this.#o.backend.markArchived(queue, entries);
    this.stats.batches++;
    this.stats.archived += w.jobs;
    this.stats.attempts += w.attempts;
    this.stats.skipped += entries.length - jobs.length;
    return entries.length;
  }
}
