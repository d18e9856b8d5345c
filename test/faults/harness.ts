/**
 * The fault suite's harness: worker processes (spawned, killed, frozen, replaced), reading back
 * every job, and the per-scenario report (a table line on stdout and
 * test/faults/results/<scenario>.json).
 *
 * FAULTS_SCALE=short (default) or full picks the sizes (see `sized`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Redis } from 'ioredis';

import type { Backend } from '../../src/backend.js';
import type { Attempt, Job } from '../../src/types.js';
import {
  runsKey,
  type ArchiverProcessConfig,
  type ProducerAdded,
  type ProducerProcessConfig,
  type WorkerProcessConfig,
} from './shared.js';

export const SCALE: 'short' | 'full' = process.env.FAULTS_SCALE === 'full' ? 'full' : 'short';
/** The short or the full figure, by FAULTS_SCALE. */
export const sized = <T>(short: T, full: T): T => (SCALE === 'full' ? full : short);

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORKER_SCRIPT = path.join(REPO, 'test/faults/worker-process.ts');
const PRODUCER_SCRIPT = path.join(REPO, 'test/faults/producer-process.ts');
const ARCHIVER_SCRIPT = path.join(REPO, 'test/faults/archiver-process.ts');
/**
 * Bundled once per test file (esbuild, from the current src): starts in ~0.2 s instead of ~1 s under
 * tsx. One directory per checkout: worktrees may share one node_modules.
 */
const BUNDLE_DIR = path.join(
  REPO,
  'node_modules/.cache/retraced-faults',
  createHash('sha256').update(REPO).digest('hex').slice(0, 12),
);
let workerCommand: string[] = ['--import', 'tsx', WORKER_SCRIPT];
let producerCommand: string[] = ['--import', 'tsx', PRODUCER_SCRIPT];
let archiverCommand: string[] = ['--import', 'tsx', ARCHIVER_SCRIPT];

/**
 * Builds the worker (and producer) process into one ES module each (dependencies stay external,
 * resolved from the repository's node_modules). Falls back to `node --import tsx` when esbuild is
 * not there.
 */
export async function prepareWorkerProcess(): Promise<void> {
  try {
    const { build } = await import('esbuild');
    await build({
      entryPoints: {
        'worker-process': WORKER_SCRIPT,
        'producer-process': PRODUCER_SCRIPT,
        'archiver-process': ARCHIVER_SCRIPT,
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outdir: BUNDLE_DIR,
      outExtension: { '.js': '.mjs' },
      logLevel: 'warning',
    });
    workerCommand = [path.join(BUNDLE_DIR, 'worker-process.mjs')];
    producerCommand = [path.join(BUNDLE_DIR, 'producer-process.mjs')];
    archiverCommand = [path.join(BUNDLE_DIR, 'archiver-process.mjs')];
  } catch (e) {
    console.warn(
      `fault suite: esbuild unavailable (${e instanceof Error ? e.message : String(e)}); worker processes run under tsx`,
    );
  }
}

/** How a child process is started besides its config: extra environment, node flags. */
export interface SpawnExtras {
  /** Added to the test process's environment (e.g. libfaketime's LD_PRELOAD and FAKETIME). */
  readonly env?: Record<string, string>;
  /** Node flags before the script (e.g. `--expose-gc`). */
  readonly execArgv?: readonly string[];
}

const LIBFAKETIME_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/faketime/libfaketimeMT.so.1',
  '/usr/local/lib/faketime/libfaketimeMT.so.1',
];

/**
 * libfaketime (Debian package `faketime`), the multi-threaded build, or undefined. `LIBFAKETIME`,
 * when set, is the only place looked at.
 */
export function findLibfaketime(): string | undefined {
  const fromEnv = process.env.LIBFAKETIME;
  if (fromEnv !== undefined) return existsSync(fromEnv) ? fromEnv : undefined;
  return LIBFAKETIME_CANDIDATES.find((p) => existsSync(p));
}

/**
 * The environment that runs a process with its wall clock `offset` off (libfaketime syntax:
 * '+10m', '-600s'). Only the wall clock (Date.now, new Date) moves: the monotonic clock that timers
 * and performance.now() run on is left alone, as with a host whose NTP is off.
 */
export function skewEnv(lib: string, offset: string): Record<string, string> {
  return { LD_PRELOAD: lib, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_NO_CACHE: '1' };
}

const RESULTS_DIR = path.join(REPO, 'test/faults/results');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WorkerMessage {
  readonly ev: string;
  readonly id?: string;
  readonly attempt?: number;
  readonly message?: string;
  /** Worker's clock (same host) when the message was written. */
  readonly at?: number;
  /** `ready`: the worker's Date.now() (skewed or not). */
  readonly now?: number;
  /** `mem`: process.memoryUsage() figures, in bytes. */
  readonly rss?: number;
  readonly heapUsed?: number;
  readonly heapTotal?: number;
  readonly external?: number;
  readonly arrayBuffers?: number;
}

// Every child still running when the test process exits is killed.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function spawnChild(command: readonly string[], cfg: unknown, extras: SpawnExtras): ChildProcess {
  const child = spawn(process.execPath, [...(extras.execArgv ?? []), ...command, JSON.stringify(cfg)], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(extras.env ? { env: { ...process.env, ...extras.env } } : {}),
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Splits a child's stdout into JSON lines (other lines are ignored). */
function onJsonLines(child: ChildProcess, fn: (msg: unknown) => void): void {
  let buf = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      fn(msg);
    }
  });
}

/**
 * A producer process (test/faults/producer-process.ts): its JSON lines, and `done` resolving with
 * every `added` line once it has exited.
 */
export class ProducerProc {
  readonly child: ChildProcess;
  readonly added: ProducerAdded[] = [];
  readonly ready: Promise<{ now: number; receivedAt: number }>;
  readonly done: Promise<ProducerAdded[]>;
  stderr = '';

  constructor(cfg: ProducerProcessConfig, extras: SpawnExtras = {}) {
    this.child = spawnChild(producerCommand, cfg, extras);
    let ready!: (v: { now: number; receivedAt: number }) => void;
    let fail!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      ready = res;
      fail = rej;
    });
    this.ready.catch(() => undefined);
    let fatal: string | undefined;
    onJsonLines(this.child, (m) => {
      const msg = m as { ev?: string; now?: number; message?: string };
      if (msg.ev === 'added') this.added.push(m as ProducerAdded);
      else if (msg.ev === 'ready') ready({ now: msg.now ?? 0, receivedAt: Date.now() });
      else if (msg.ev === 'fatal') fatal = msg.message;
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    this.done = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => {
        fail(new Error(`producer exited (${code}) before ready: ${fatal ?? ''} ${this.stderr}`));
        if (code === 0) resolve(this.added);
        else reject(new Error(`producer ${cfg.tag} exited ${code}: ${fatal ?? ''} ${this.stderr}`));
      });
    });
  }
}

/** A line of an archiver process (test/faults/archiver-process.ts). */
export interface ArchiverMessage {
  readonly ev: string;
  readonly jobs?: number;
  readonly attempts?: number;
  readonly n?: number;
  readonly message?: string;
  readonly at?: number;
}

/** An archiver process: its JSON lines, `ready`, `exited`. */
export class ArchiverProc {
  readonly cfg: ArchiverProcessConfig;
  readonly child: ChildProcess;
  readonly messages: ArchiverMessage[] = [];
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  readonly spawnedAt = Date.now();
  exitedAt: number | undefined;
  stderr = '';
  readonly #listeners = new Set<(m: ArchiverMessage) => void>();

  constructor(cfg: ArchiverProcessConfig) {
    this.cfg = cfg;
    this.child = spawnChild(archiverCommand, cfg, {});
    onJsonLines(this.child, (m) => {
      const msg = m as ArchiverMessage;
      this.messages.push(msg);
      for (const l of this.#listeners) l(msg);
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.exitedAt = Date.now();
        resolve(code);
      });
    });
    this.ready = new Promise((resolve, reject) => {
      this.onMessage((m) => {
        if (m.ev === 'ready') resolve();
        else if (m.ev === 'fatal') reject(new Error(`archiver ${cfg.owner}: ${m.message}`));
      });
      void this.exited.then((code) =>
        reject(new Error(`archiver ${cfg.owner} exited (${code}) before ready: ${this.stderr}`)),
      );
    });
    this.ready.catch(() => undefined);
  }

  onMessage(fn: (m: ArchiverMessage) => void): void {
    this.#listeners.add(fn);
  }

  get alive(): boolean {
    return this.exitedAt === undefined;
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Graceful stop (SIGTERM; SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }

  /** What the process reported: rows written (job rows, new attempts), batches, failed rounds. */
  totals(): { jobs: number; attempts: number; batches: number; errors: number } {
    let jobs = 0;
    let attempts = 0;
    let batches = 0;
    let errors = 0;
    for (const m of this.messages) {
      if (m.ev === 'written') {
        jobs += m.jobs ?? 0;
        attempts += m.attempts ?? 0;
        batches++;
      } else if (m.ev === 'error') errors++;
    }
    return { jobs, attempts, batches, errors };
  }
}

/** One worker process. */
export class WorkerProc {
  readonly cfg: WorkerProcessConfig;
  readonly child: ChildProcess;
  readonly messages: WorkerMessage[] = [];
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  readonly spawnedAt = Date.now();
  status: 'starting' | 'ready' | 'frozen' | 'hung' | 'exited' = 'starting';
  /** A standby process is connected but does not claim until `promote()`. */
  role: 'active' | 'standby';
  stderr = '';
  readonly #listeners = new Set<(m: WorkerMessage) => void>();

  constructor(cfg: WorkerProcessConfig, extras: SpawnExtras = {}) {
    this.cfg = cfg;
    this.role = cfg.standby ? 'standby' : 'active';
    this.child = spawnChild(workerCommand, cfg, extras);
    onJsonLines(this.child, (m) => {
      const msg = m as WorkerMessage;
      this.messages.push(msg);
      if (msg.ev === 'hang') this.status = 'hung';
      for (const l of this.#listeners) l(msg);
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.status = 'exited';
        resolve(code);
      });
    });
    this.ready = new Promise((resolve, reject) => {
      const onMsg = (m: WorkerMessage): void => {
        if (m.ev === 'ready') {
          if (this.status === 'starting') this.status = 'ready';
          this.#listeners.delete(onMsg);
          resolve();
        } else if (m.ev === 'fatal') reject(new Error(`worker ${cfg.workerId}: ${m.message}`));
      };
      this.#listeners.add(onMsg);
      void this.exited.then((code) =>
        reject(new Error(`worker ${cfg.workerId} exited (${code}) before ready: ${this.stderr}`)),
      );
    });
    this.ready.catch(() => undefined);
  }

  get workerId(): string {
    return this.cfg.workerId;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.status === 'starting' || this.status === 'ready';
  }

  /** Starts a standby worker claiming (SIGUSR2). */
  promote(): void {
    this.role = 'active';
    this.child.kill('SIGUSR2');
  }

  onMessage(fn: (m: WorkerMessage) => void): void {
    this.#listeners.add(fn);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.status === 'exited') return;
    this.child.kill(sig);
    if (sig === 'SIGSTOP') this.status = 'frozen';
    if (sig === 'SIGCONT' && this.status === 'frozen') this.status = 'ready';
  }

  /** Graceful stop (SIGTERM; SIGKILL after `graceMs`); frozen or hung processes are killed. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.status === 'exited') return;
    if (this.status === 'frozen' || this.status === 'hung') this.child.kill('SIGKILL');
    else this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

export interface Kill {
  readonly workerId: string;
  readonly pid: number;
  readonly at: number;
  readonly signal: NodeJS.Signals;
}

/**
 * Keeps `size` live workers: a worker that exits (crash, kill) or reports a hang is replaced by a
 * warm spare (connected, started with SIGUSR2: no process start-up on the critical path) when one
 * is ready, else by a new process; spares are topped up in the background. Every process gets a
 * fresh worker id (`<name>-<n>`). Hung workers are left blocked until `stopAll`.
 */
export class Fleet {
  readonly all: WorkerProc[] = [];
  readonly kills: Kill[] = [];
  readonly base: Omit<WorkerProcessConfig, 'workerId'>;
  readonly size: number;
  readonly spares: number;
  readonly name: string;
  #n = 0;
  #stopping = false;

  constructor(base: Omit<WorkerProcessConfig, 'workerId'>, size: number, name = 'fw', spares = 0) {
    this.base = base;
    this.size = size;
    this.name = name;
    this.spares = spares;
  }

  /** Starts the workers (and spares) and waits until each is connected. */
  async start(): Promise<void> {
    const ws = [
      ...Array.from({ length: this.size }, () => this.#spawn(false)),
      ...Array.from({ length: this.spares }, () => this.#spawn(true)),
    ];
    await Promise.all(ws.map((w) => w.ready));
  }

  #spawn(standby: boolean): WorkerProc {
    const w = new WorkerProc({ ...this.base, workerId: `${this.name}-${++this.#n}`, standby });
    this.all.push(w);
    void w.exited.then(() => this.#replace());
    w.onMessage((m) => {
      if (m.ev === 'hang') this.#replace();
    });
    return w;
  }

  #replace(): void {
    if (this.#stopping) return;
    while (this.live().length < this.size) {
      const spare = this.all.find((w) => w.role === 'standby' && w.status === 'ready');
      if (spare) spare.promote();
      else this.#spawn(false);
    }
    const standbys = this.all.filter((w) => w.role === 'standby' && w.alive).length;
    for (let i = standbys; i < this.spares; i++) this.#spawn(true);
  }

  /** Active workers that are starting or running. */
  live(): WorkerProc[] {
    return this.all.filter((w) => w.role === 'active' && w.alive);
  }

  /**
   * SIGKILLs one running active worker (chosen at random) and records when; it is replaced. Never
   * the last running one (`minSurvivors`): the scenario measures recovery by the survivors.
   */
  killOne(rand: () => number = Math.random, minSurvivors = 1): Kill | undefined {
    const ready = this.all.filter((w) => w.role === 'active' && w.status === 'ready');
    if (ready.length <= minSurvivors) return undefined;
    const w = ready[Math.floor(rand() * ready.length)];
    if (!w) return undefined;
    const kill = { workerId: w.workerId, pid: w.pid, at: Date.now(), signal: 'SIGKILL' as const };
    w.signal('SIGKILL');
    this.kills.push(kill);
    return kill;
  }

  messages(ev: string): (WorkerMessage & { workerId: string })[] {
    return this.all.flatMap((w) =>
      w.messages.filter((m) => m.ev === ev).map((m) => ({ ...m, workerId: w.workerId })),
    );
  }

  async stopAll(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.all.map((w) => w.stop()));
  }
}

/** Reads every job by id (concurrent commands: ioredis pipelines them). Missing jobs map to null. */
export async function loadJobs(
  backend: Backend,
  queue: string,
  ids: readonly string[],
): Promise<Map<string, Job | null>> {
  const out = new Map<string, Job | null>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const jobs = await Promise.all(chunk.map((id) => backend.getJob(queue, id)));
    chunk.forEach((id, k) => out.set(id, jobs[k] ?? null));
  }
  return out;
}

/** The ids of every job hash of a queue in Redis (SCAN), to find jobs nobody saw acknowledged. */
export async function scanJobIds(
  client: Pick<Redis, 'scan'>,
  prefix: string,
  queue: string,
): Promise<string[]> {
  const ids: string[] = [];
  const jobKey = `${prefix}:{${queue}}:j:`;
  let cursor = '0';
  do {
    const [c, keys] = await client.scan(cursor, 'MATCH', `${jobKey}*`, 'COUNT', 1000);
    cursor = c;
    ids.push(...keys.map((key) => key.slice(jobKey.length)));
  } while (cursor !== '0');
  return ids;
}

/** What became of the acknowledged adds (each job carries its index `i` in its data). */
export interface AckedTally {
  lost: number;
  completed: number;
  dead: number;
  stuck: number;
  duplicated: number;
  /** Up to 50 of each, for the report. */
  lostIds: string[];
  stuckJobs: { id: string; state: string }[];
}

/**
 * Counts, over the acknowledged adds: lost (gone, or another job under its id), completed, dead,
 * stuck (neither), and duplicated (more than one attempt, or more than one handler start).
 */
export function tallyAcked(
  acked: readonly { id: string; i: number }[],
  jobs: ReadonlyMap<string, Job | null>,
  handlerStarts: (id: string) => number,
): AckedTally {
  const t: AckedTally = {
    lost: 0,
    completed: 0,
    dead: 0,
    stuck: 0,
    duplicated: 0,
    lostIds: [],
    stuckJobs: [],
  };
  for (const a of acked) {
    const j = jobs.get(a.id);
    if (!j || (j.data as { i?: number }).i !== a.i) {
      t.lost++;
      if (t.lostIds.length < 50) t.lostIds.push(a.id);
      continue;
    }
    if (j.state === 'completed') t.completed++;
    else if (j.state === 'dead') t.dead++;
    else {
      t.stuck++;
      if (t.stuckJobs.length < 50) t.stuckJobs.push({ id: a.id, state: j.state });
    }
    if (handlerStarts(a.id) > 1 || j.attempts.length > 1) t.duplicated++;
  }
  return t;
}

/** How many times a handler started on each job (HINCRBY by the worker processes). */
export async function loadRuns(client: Pick<Redis, 'hgetall'>, prefix: string): Promise<Map<string, number>> {
  const h = await client.hgetall(runsKey(prefix));
  return new Map(Object.entries(h).map(([k, v]) => [k, Number(v)]));
}

export interface Stats {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export function stats(xs: readonly number[]): Stats | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return { n: s.length, p50: at(0.5), p95: at(0.95), max: s[s.length - 1] as number };
}

/** Counts per `bucketMs` bucket; returns the peak and the histogram (bucket start → count). */
export function histogram(
  times: readonly number[],
  bucketMs = 100,
): { peak: number; buckets: Record<string, number> } {
  const buckets: Record<string, number> = {};
  if (times.length === 0) return { peak: 0, buckets };
  const t0 = Math.min(...times);
  let peak = 0;
  for (const t of times) {
    const b = String(Math.floor((t - t0) / bucketMs) * bucketMs);
    const n = (buckets[b] = (buckets[b] ?? 0) + 1);
    if (n > peak) peak = n;
  }
  return { peak, buckets };
}

/** Ends of every attempt but the last, grouped by outcome: what happened before the final one. */
export function earlierOutcomes(attempts: readonly Attempt[]): string[] {
  return attempts.slice(0, -1).map((a) => a.outcome);
}

export interface Report {
  readonly scenario: string;
  readonly title: string;
  readonly scale: 'short' | 'full';
  readonly accepted: number;
  readonly completed: number;
  readonly dead: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly stuck: number;
  /** ms from the fault to the job being back in waiting (recorded stall), when the scenario has one. */
  readonly recoveryMs: Stats | null;
  readonly durationMs: number;
  /** A one-line summary of what else the scenario measured. */
  readonly notes: string;
  readonly details: Record<string, unknown>;
}

export const TABLE_HEADER =
  '| scenario | scale | accepted | completed | dead | lost | duplicated | stuck | recovery p50 / p95 / max (ms) | duration (s) | notes |\n' +
  '|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|';

export function tableLine(r: Report): string {
  const rec = r.recoveryMs ? `${r.recoveryMs.p50} / ${r.recoveryMs.p95} / ${r.recoveryMs.max}` : '—';
  return `| ${r.title} | ${r.scale} | ${r.accepted} | ${r.completed} | ${r.dead} | ${r.lost} | ${r.duplicated} | ${r.stuck} | ${rec} | ${(r.durationMs / 1000).toFixed(1)} | ${r.notes} |`;
}

/** Prints the table line and writes test/faults/results/<scenario>[-full].json. */
export function writeReport(r: Report): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${r.scenario}${r.scale === 'full' ? '-full' : ''}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ ...r, at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadavg: os.loadavg() }, null, 2)}\n`,
  );
  console.log(`${TABLE_HEADER}\n${tableLine(r)}`);
}

/** Polls `fn` every `everyMs` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function waitFor(
  fn: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}
