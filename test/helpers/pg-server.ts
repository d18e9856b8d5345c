/**
 * A throw-away PostgreSQL server for the fault suite (the archive scenarios stop, crash and restart
 * it, which the shared test server must never suffer):
 *
 *   const pg = await startPgServer();   // initdb into a temp dir, started on a free port
 *   await pg.stop('immediate');         // a crash: every backend killed, WAL recovery on start
 *   await pg.start();                   // same port, same data
 *   await pg.destroy();                 // stopped, directory removed
 *
 * Needs the PostgreSQL server binaries (`initdb`, `pg_ctl`: on the PATH or in
 * /usr/lib/postgresql/<v>/bin). PostgreSQL refuses to run as root: as root the commands run as the
 * `postgres` user (runuser), and the data directory is handed to it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { getFreePort } from './redis-server.js';

const run = promisify(execFile);

export interface PgServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Starts it again on the same port and data (waits until it accepts connections). */
  start(): Promise<void>;
  /** `fast`: clean shutdown (clients disconnected); `immediate`: a crash (recovery on the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops it (immediate) and removes its directory. Idempotent. */
  destroy(): Promise<void>;
}

/** Where initdb and pg_ctl are, or undefined. */
export function findPgBin(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin/initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** The PostgreSQL user to run as when root, or undefined when not root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Whether a throw-away server can be started here (binaries, and a non-root user to run them). */
export function canStartPgServer(): boolean {
  return findPgBin() !== undefined && (!isRoot() || runAs() !== undefined);
}

// Servers still running when the test process exits are stopped (immediate) before it goes.
const live = new Set<{ bin: string; data: string; user: ReturnType<typeof runAs> }>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const s of live) {
      spawnSync(path.join(s.bin, 'pg_ctl'), ['-D', s.data, '-m', 'immediate', 'stop'], {
        stdio: 'ignore',
        ...(s.user ?? {}),
      });
    }
  });
}

export async function startPgServer(): Promise<PgServer> {
  const bin = findPgBin();
  if (!bin) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found');
  const user = runAs();
  if (isRoot() && !user) {
    throw new Error('running as root and there is no postgres user to run PostgreSQL as');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'retraced-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, 'data');
  const exec = (cmd: string, args: string[]): Promise<unknown> =>
    run(path.join(bin, cmd), args, { ...(user ?? {}), cwd: dir, timeout: 60_000 });
  await exec('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await getFreePort();
  // prettier-ignore
  const serverOptions = [
    `-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c shared_buffers=32MB',
    '-c max_connections=40',
  ].join(' ');
  const entry = { bin, data, user };
  const start = async (): Promise<void> => {
    live.add(entry);
    hookExit();
    await exec('pg_ctl', [
      '-D',
      data,
      '-o',
      serverOptions,
      '-l',
      path.join(dir, 'log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    await exec('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    live.delete(entry);
  };
  let destroyed = false;
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    start,
    stop,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
