/**
 * Worker processes: `node --import tsx bench/worker-process.ts …` children, driven over IPC.
 *
 *   child → parent  { type: 'ready' }                       connected, worker created, idle
 *   parent → child  { type: 'go' }         → { type: 'started' }   claims from now on
 *   parent → child  { type: 'stop' }       → { type: 'done', runs, errors }   closed gracefully
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { HandlerKind, SystemName } from './types.js';

export type ParentMessage = { type: 'go' } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'done'; runs: number[]; errors: string[] }
  | { type: 'fatal'; message: string };

export interface WorkerProcessSpec {
  readonly system: SystemName;
  readonly redisUrl: string;
  readonly queue: string;
  readonly concurrency: number;
  readonly handler: HandlerKind;
  readonly attempts: number;
}

const WORKER_SCRIPT = fileURLToPath(new URL('../worker-process.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Process ids of the worker processes alive now (for CPU accounting). */
export function liveWorkerPids(): number[] {
  return [...live].map((c) => c.pid).filter((p): p is number => p !== undefined);
}

class Child {
  readonly proc: ChildProcess;
  readonly #waiters = new Map<string, { resolve: (m: ChildMessage) => void; reject: (e: Error) => void }>();
  #exited = false;
  #fatal: string | undefined;

  constructor(spec: WorkerProcessSpec, index: number) {
    this.proc = fork(
      WORKER_SCRIPT,
      [
        spec.system,
        spec.redisUrl,
        spec.queue,
        String(spec.concurrency),
        spec.handler,
        String(spec.attempts),
        String(index),
      ],
      { execArgv: ['--import', TSX_LOADER], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    live.add(this.proc);
    this.proc.on('message', (m: ChildMessage) => {
      if (m.type === 'fatal') {
        this.#fatal = m.message;
        this.#rejectAll(new Error(`worker process ${index}: ${m.message}`));
        return;
      }
      const w = this.#waiters.get(m.type);
      this.#waiters.delete(m.type);
      w?.resolve(m);
    });
    this.proc.once('exit', (code, signal) => {
      this.#exited = true;
      live.delete(this.proc);
      this.#rejectAll(
        new Error(`worker process ${index} exited (${signal ?? code}) ${this.#fatal ?? ''}`.trim()),
      );
    });
  }

  #rejectAll(e: Error): void {
    for (const w of this.#waiters.values()) w.reject(e);
    this.#waiters.clear();
  }

  waitFor<T extends ChildMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.#exited) return reject(new Error(`worker process exited before '${type}'`));
      const timer = setTimeout(() => {
        this.#waiters.delete(type);
        reject(new Error(`worker process: no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(type, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<ChildMessage, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  send(m: ParentMessage): void {
    if (!this.#exited) this.proc.send(m);
  }

  async kill(): Promise<void> {
    if (this.#exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGKILL');
    await gone;
  }
}

/** A set of worker processes of one system on one queue. */
export class WorkerProcesses {
  readonly #children: Child[];

  private constructor(children: Child[]) {
    this.#children = children;
  }

  /** Spawns `count` children and waits until each is connected with an idle worker. */
  static async spawn(spec: WorkerProcessSpec, count: number, timeoutMs = 30_000): Promise<WorkerProcesses> {
    const children = Array.from({ length: count }, (_, i) => new Child(spec, i));
    const set = new WorkerProcesses(children);
    try {
      await Promise.all(children.map((c) => c.waitFor('ready', timeoutMs)));
    } catch (e) {
      await set.kill();
      throw e;
    }
    return set;
  }

  /** Tells every child to start claiming, all at once; resolves when all have started. */
  async go(timeoutMs = 10_000): Promise<void> {
    const started = this.#children.map((c) => c.waitFor('started', timeoutMs));
    for (const c of this.#children) c.send({ type: 'go' });
    await Promise.all(started);
  }

  /** Graceful stop of every child; returns the job indexes each ran, concatenated, and errors. */
  async stop(timeoutMs = 60_000): Promise<{ runs: number[]; errors: string[] }> {
    const done = this.#children.map((c) => c.waitFor('done', timeoutMs));
    for (const c of this.#children) c.send({ type: 'stop' });
    const results = await Promise.all(done);
    await Promise.all(
      this.#children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
            const t = setTimeout(() => void c.kill().then(resolve), 5_000);
            c.proc.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
    return { runs: results.flatMap((r) => r.runs), errors: results.flatMap((r) => r.errors) };
  }

  async kill(): Promise<void> {
    await Promise.all(this.#children.map((c) => c.kill()));
  }
}
