/**
 * How much CPU other processes took while a run was measured (Linux /proc; elsewhere unknown).
 * "Ours" is this process, its reaped children (the worker processes) and the redis-server.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

import { liveWorkerPids } from './procs.js';
import { sleep } from './stats.js';

export interface CpuSnapshot {
  /** Busy and total clock ticks of the whole machine (all cores). */
  readonly busy: number;
  readonly total: number;
  /** Ticks used by this process, its reaped children and the redis-server. */
  readonly ours: number;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** utime + stime (+ cutime + cstime: reaped children) of a process, in clock ticks. */
function processTicks(pid: number | 'self', withChildren: boolean): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields after the name: state(3) … utime(14) stime(15) cutime(16) cstime(17), 1-based in proc(5)
    const at = (n: number): number => Number(f[n - 3] ?? 0);
    return at(14) + at(15) + (withChildren ? at(16) + at(17) : 0);
  } catch {
    return 0;
  }
}

/** Clock ticks per second of /proc times. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time used so far by the Node side (this process and the live worker processes) and by Redis. */
export interface CpuTimes {
  readonly nodeMs: number;
  readonly redisMs: number;
}

export class CpuMonitor {
  readonly available: boolean;
  readonly #cores = os.cpus().length;

  constructor(readonly redisPid: number) {
    let ok = false;
    try {
      machineTicks();
      ok = true;
    } catch {
      ok = false;
    }
    this.available = ok;
  }

  /** CPU time of this process (µs precision) plus the live worker processes and redis-server (/proc ticks). */
  times(): CpuTimes | undefined {
    if (!this.available) return undefined;
    const self = process.cpuUsage();
    let children = 0;
    for (const pid of liveWorkerPids()) children += processTicks(pid, true);
    return {
      nodeMs: (self.user + self.system) / 1000 + (children * 1000) / CLK_TCK,
      redisMs: (processTicks(this.redisPid, false) * 1000) / CLK_TCK,
    };
  }

  snapshot(): CpuSnapshot | undefined {
    if (!this.available) return undefined;
    const m = machineTicks();
    return { ...m, ours: processTicks('self', true) + processTicks(this.redisPid, false) };
  }

  /** Average number of cores other processes kept busy between two snapshots. */
  foreignCores(a: CpuSnapshot | undefined, b: CpuSnapshot | undefined): number | undefined {
    if (!a || !b) return undefined;
    const elapsedPerCore = (b.total - a.total) / this.#cores;
    if (elapsedPerCore <= 0) return 0;
    const foreign = b.busy - a.busy - (b.ours - a.ours);
    return Math.max(0, foreign / elapsedPerCore);
  }

  /**
   * Waits until other processes use less than `threshold` cores over a 300 ms window, for at most
   * `maxWaitMs`. Returns the last measured load and how long it waited.
   */
  async waitForQuiet(
    threshold: number,
    maxWaitMs: number,
  ): Promise<{ foreign: number | undefined; waitedMs: number }> {
    const start = Date.now();
    let foreign: number | undefined;
    for (;;) {
      const a = this.snapshot();
      await sleep(300);
      foreign = this.foreignCores(a, this.snapshot());
      if (foreign === undefined || foreign < threshold || Date.now() - start >= maxWaitMs) {
        return { foreign, waitedMs: Date.now() - start };
      }
    }
  }
}
