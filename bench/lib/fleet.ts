/**
 * A fleet of ReTraced worker processes on several queues (`bench/cluster-scale-worker.ts`), and the
 * CPU accounting of the scale and load benches: per worker process (/proc), per Redis node (INFO cpu).
 * @module
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';

import type { ScaleChildMessage, ScaleWorkerSpec } from '../cluster-scale-worker.js';

const SCRIPT = fileURLToPath(new URL('../cluster-scale-worker.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process so far, in ms (0 when it is gone). */
export function processCpuMs(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** used_cpu_sys + used_cpu_user of a Redis node, in ms. */
export async function redisCpuMs(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
  return (sys + user) * 1000;
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

class Member {
  readonly proc: ChildProcess;
  done: Record<string, number> = {};
  final: Extract<ScaleChildMessage, { type: 'done' }> | undefined;
  #ready: Promise<void>;
  #finished: Promise<void>;
  #fatal: string | undefined;

  constructor(script: string, spec: object) {
    this.proc = fork(script, [JSON.stringify(spec)], {
      execArgv: ['--import', TSX_LOADER],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(this.proc);
    let ready!: () => void;
    let finished!: () => void;
    let fail!: (e: Error) => void;
    this.#ready = new Promise<void>((res, rej) => {
      ready = res;
      fail = rej;
    });
    this.#finished = new Promise<void>((res) => (finished = res));
    this.proc.on('message', (m: ScaleChildMessage) => {
      if (m.type === 'ready') ready();
      else if (m.type === 'count') this.done = { ...m.done };
      else if (m.type === 'done') {
        this.done = { ...m.done };
        this.final = m;
        finished();
      } else {
        this.#fatal = m.message;
        fail(new Error(m.message));
      }
    });
    this.proc.once('exit', (code) => {
      live.delete(this.proc);
      fail(new Error(`worker process exited (${code}) ${this.#fatal ?? ''}`));
      finished();
    });
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  finished(): Promise<void> {
    return this.#finished;
  }
}

export const LOAD_WORKER = fileURLToPath(new URL('../load-worker.ts', import.meta.url));

/** `count` worker processes with the same spec. */
export class Fleet {
  readonly #members: Member[];

  private constructor(members: Member[]) {
    this.#members = members;
  }

  /** `script`: the child (default `cluster-scale-worker.ts`), given `spec` as JSON. */
  static async spawn(spec: ScaleWorkerSpec | object, count: number, script = SCRIPT): Promise<Fleet> {
    const members = Array.from({ length: count }, () => new Member(script, spec));
    const fleet = new Fleet(members);
    try {
      await Promise.all(members.map((m) => m.ready()));
    } catch (e) {
      fleet.kill();
      throw e;
    }
    return fleet;
  }

  get pids(): number[] {
    return this.#members.map((m) => m.proc.pid as number);
  }

  /** CPU ms used so far by the worker processes together. */
  cpuMs(): number {
    return this.pids.reduce((s, p) => s + processCpuMs(p), 0);
  }

  go(): void {
    for (const m of this.#members) m.proc.send({ type: 'go' });
  }

  /** Jobs completed so far per queue, over every process (as last reported, ≤ 100 ms old). */
  done(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of this.#members) {
      for (const [q, n] of Object.entries(m.done)) out[q] = (out[q] ?? 0) + n;
    }
    return out;
  }

  total(): number {
    return Object.values(this.done()).reduce((a, b) => a + b, 0);
  }

  /** Resolves when at least `n` jobs have completed (polled every 20 ms). */
  async waitTotal(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.total() < n) {
      if (Date.now() > deadline) {
        throw new Error(`only ${this.total()} of ${n} jobs completed in ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Graceful stop; the final counts and the latencies each process recorded. */
  async stop(): Promise<{ done: Record<string, number>; latencies: number[] }> {
    for (const m of this.#members) m.proc.send({ type: 'stop' });
    await Promise.all(this.#members.map((m) => m.finished()));
    return { done: this.done(), latencies: this.#members.flatMap((m) => m.final?.latencies ?? []) };
  }

  kill(): void {
    for (const m of this.#members) m.proc.kill('SIGKILL');
  }
}
