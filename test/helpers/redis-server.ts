/**
 * Starts throwaway `redis-server` processes for tests.
 *
 *   const server = await startRedisServer();            // free port, no persistence
 *   const durable = await startRedisServer({ appendonly: true, dir, extraArgs: ['--appendfsync', 'always'] });
 *   durable.kill9();                                    // simulate a crash
 *   await startRedisServer({ appendonly: true, dir, port: durable.port }); // restart on the same data
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface RedisServerOptions {
  /** Port to listen on; a free one is picked when omitted. */
  port?: number;
  /** Enable AOF persistence (default false: `--appendonly no`). */
  appendonly?: boolean;
  /**
   * Working dir (RDB/AOF files). When omitted a temp dir is created and removed when the server exits;
   * pass one (and remove it yourself) to restart a server on the same data after `kill9()`.
   */
  dir?: string;
  /** Extra `redis-server` arguments, e.g. `['--appendfsync', 'always']`. */
  extraArgs?: string[];
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  pid: number;
  /** Graceful stop (SIGTERM, SIGKILL after 5 s); resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
  /** Kills the process with SIGKILL right away (crash simulation). Await `stop()` to wait for the exit. */
  kill9(): void;
}

const READY_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;

let redisServerAvailable: boolean | undefined;

/**
 * Whether `redis-server --version` runs on this machine. Suites that need one skip without it,
 * with a warning; under CI (`CI` set) a missing redis-server is an error instead, so that no
 * Redis suite can pass by being skipped there.
 */
export function hasRedisServer(): boolean {
  if (redisServerAvailable === undefined) {
    const res = spawnSync('redis-server', ['--version'], { stdio: 'ignore', timeout: 5_000 });
    redisServerAvailable = res.error === undefined && res.status === 0;
    if (!redisServerAvailable) {
      const ci =
        process.env.CI !== undefined &&
        process.env.CI !== '' &&
        process.env.CI !== 'false' &&
        process.env.CI !== '0';
      if (ci) {
        throw new Error(
          'redis-server is not installed, and CI is set: the Redis suites must run in CI (.ci/run installs it)',
        );
      }
      console.warn(
        '[tests] redis-server not found: the suites that need one are SKIPPED (install redis-server to run them)',
      );
    }
  }
  return redisServerAvailable;
}

/** A TCP port that was free a moment ago (bind port 0 on 127.0.0.1, read it, close). */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close((err) => (err ? reject(err) : port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

// Servers still running when the test process exits (crash, forgotten stop()) are killed.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  // A picked port can be taken by someone else before redis binds it: retry with a new one.
  const attempts = opts.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await startOnce(opts.port ?? (await getFreePort()), opts);
    } catch (err) {
      lastError = err;
      if (!(err instanceof Error && /address already in use/i.test(err.message))) throw err;
    }
  }
  throw lastError;
}

async function startOnce(port: number, opts: RedisServerOptions): Promise<RedisServer> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'retraced-redis-'));
  // prettier-ignore
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', opts.appendonly ? 'yes' : 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--logfile', '',
    ...(opts.extraArgs ?? []),
  ];

  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      if (ownDir) rmSync(dir, { recursive: true, force: true });
      resolve();
    });
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err; // e.g. ENOENT; 'exit' may not follow
    live.delete(child);
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  });
  live.add(child);
  installExitHook();

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) {
      throw new Error(`could not start redis-server: ${spawnError.message}`, { cause: spawnError });
    }
    if (exited) throw new Error(`redis-server exited during startup on port ${port}:\n${output.trim()}`);
    if (await isOurServer(port, child.pid)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exitPromise;
      throw new Error(
        `redis-server did not answer PING on port ${port} within ${READY_TIMEOUT_MS} ms:\n${output.trim()}`,
      );
    }
    await sleep(50);
  }

  const stop = async (): Promise<void> => {
    if (exited) return exitPromise;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      await exitPromise;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    url,
    port,
    pid: child.pid!,
    stop,
    kill9: () => {
      if (!exited) child.kill('SIGKILL');
    },
  };
}

/** PING works on `port` and the server answering is the process `pid` (not a squatter on the port). */
async function isOurServer(port: number, pid: number | undefined): Promise<boolean> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 1_000,
  });
  client.on('error', () => {}); // connection refused while starting is expected
  try {
    await client.connect();
    if ((await client.ping()) !== 'PONG') return false;
    const info = await client.info('server');
    return /^process_id:(\d+)/m.exec(info)?.[1] === String(pid);
  } catch {
    return false; // refused, or LOADING while the AOF is replayed
  } finally {
    client.disconnect();
  }
}
