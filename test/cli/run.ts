/**
 * Spawning the built CLI (`node dist/cli/main.js …`) from tests: `run` for one-shot commands,
 * `start` for long-running ones (dev, server, worker) with `waitFor(pattern)` on their output and
 * `stop(signal)` that resolves with the exit code. Children still running when the test process
 * exits are killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'dist', 'cli', 'main.js');
/** The built library, for handler modules written by tests (same module instance as the CLI's). */
export const DIST_INDEX = path.join(ROOT, 'dist', 'index.js');

export interface Result {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a spawned CLI: no RETRACED_* or colour settings leak in from the developer's shell. */
function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('RETRACED_') && k !== 'FORCE_COLOR' && k !== 'NO_COLOR' && k !== 'REDIS_URL') {
      env[k] = v;
    }
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

function spawnCli(args: readonly string[], env?: Readonly<Record<string, string>>, cwd = ROOT): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Runs a command to its end (killed after `timeoutMs`). */
export function run(
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<Result> {
  const child = spawnCli(args, options.env, options.cwd);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface Running {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr; rejects after `timeoutMs` or on exit. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and resolves once the process exited (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Result>;
}

export function start(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Running {
  const child = spawnCli(args, options.env, options.cwd);
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of listeners) l();
  };
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    notify();
  });
  const exited = new Promise<Result>((resolve) => {
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout: out, stderr: err });
      notify();
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    pid: child.pid ?? 0,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = (out + err).match(pattern);
          if (m) finish(() => resolve(m));
          else if (done) {
            finish(() => reject(new Error(`process exited before printing ${pattern}:\n${out}\n${err}`)));
          }
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timed out waiting for ${pattern}:\n${out}\n${err}`))),
          timeoutMs,
        );
        const finish = (f: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Polls `fn` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
