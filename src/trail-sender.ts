/**
 * The worker's half of progress and logs: `job.progress(value)` and `job.log(line)` return at once
 * (fire-and-forget) and are sent in order, batched: what a handler reports while one write is in
 * flight goes in the next, so a handler logging in a loop costs one backend call per round trip,
 * not one per line. Only the latest progress value of a batch is sent. At most MAX_LOG_LINES lines
 * wait at once; beyond, lines are dropped here and counted with the next write (the backend keeps
 * no more per attempt anyway). The worker awaits `flushed()` before it finishes the attempt, so an
 * attempt's lines are stored before its record, while the lease is still held.
 * @module
 */
import type { TrailResult } from './backend.js';
import { logLineJson, MAX_LOG_LINES, progressJson } from './progress.js';

/**
 * Set by the first answered write in this process. Until then `issued` waits for answers: the
 * first call of a script on a Redis that has not loaded it is answered NOSCRIPT and sent again
 * (ioredis), after a finish sent meanwhile. (After a Redis restart, one attempt's lines can still
 * come after its finish and be refused: ARCHITECTURE.md §8.)
 */
let warm = false;

/** Lines sent per backend call at most (a write's arguments stay small). */
const LINES_PER_WRITE = 100;

/** One write's content, as the sender hands it over (the worker adds which attempt it belongs to). */
export interface TrailPart {
  readonly progress: string | undefined;
  readonly lines: readonly string[];
  readonly dropped: number;
}

export class TrailSender {
  readonly #send: (w: TrailPart) => Promise<TrailResult>;
  readonly #onError: (e: unknown) => void;
  #progress: string | undefined;
  #lines: string[] = [];
  #dropped = 0;
  #sending: Promise<void> | undefined;
  /** A write is due after this turn (setImmediate) and has not started. */
  #scheduled = false;
  /** The lease is gone: nothing more is sent. */
  #stale = false;

  constructor(send: (w: TrailPart) => Promise<TrailResult>, onError: (e: unknown) => void) {
    this.#send = send;
    this.#onError = onError;
  }

  /** Checks the value now (a ValidationError for a value not JSON or too large), sends it soon. */
  progress(value: unknown): void {
    const json = progressJson(value);
    if (this.#stale) return;
    this.#progress = json;
    this.#kick();
  }

  log(line: unknown): void {
    if (this.#stale) return;
    if (this.#lines.length >= MAX_LOG_LINES) this.#dropped++;
    else this.#lines.push(logLineJson(line));
    this.#kick();
  }

  /** Resolves when everything reported so far has been written (or refused, or failed). */
  flushed(): Promise<void> {
    return this.#sending ?? Promise.resolve();
  }

  #kick(): void {
    // After the current turn: what the handler reports in the same turn goes in one write.
    if (this.#sending || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#start());
  }

  #start(): void {
    if (!this.#scheduled) return;
    this.#scheduled = false;
    this.#sending = this.#drain();
  }

  /**
   * Resolves once everything reported so far has been handed to the backend, not answered: the
   * attempt's finish, sent after on the same connection, is applied after it (Redis runs one
   * connection's commands in order), so the attempt's lines still land before its record without
   * a round trip of their own. More than one write's worth waits for the earlier answers.
   */
  async issued(): Promise<void> {
    if (this.#sending) await this.#sending;
    if (warm && this.#scheduled && this.#lines.length <= LINES_PER_WRITE) {
      this.#start(); // sends its one write now; the loop ends with that answer
      return;
    }
    if (this.#scheduled) this.#start();
    await this.#sending;
  }

  async #drain(): Promise<void> {
    try {
      while (!this.#stale && (this.#progress !== undefined || this.#lines.length > 0 || this.#dropped > 0)) {
        const lines = this.#lines.splice(0, LINES_PER_WRITE);
        const w: TrailPart = { progress: this.#progress, lines, dropped: this.#dropped };
        this.#progress = undefined;
        this.#dropped = 0;
        try {
          const r = await this.#send(w);
          warm = true;
          if (!r.ok) this.#stale = true;
        } catch (e) {
          this.#onError(e); // lost, not retried: progress and logs never hold a job up
        }
      }
      if (this.#stale) {
        this.#lines = [];
        this.#progress = undefined;
      }
    } finally {
      this.#sending = undefined;
    }
  }
}
