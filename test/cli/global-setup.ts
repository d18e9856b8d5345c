/**
 * Vitest globalSetup of the `cli` project: the CLI tests spawn the built binary exactly as users
 * run it (`node dist/cli/main.js`), so the project builds first, once per run. The build is
 * `npm run build` (the Lua module, then `tsc -p tsconfig.build.json`), made incremental to save
 * most of the compile on repeated runs:
 *
 * - tsc keeps its `.tsbuildinfo` under node_modules/.cache/retraced/ and re-emits changed sources;
 * - incremental tsc trusts its record of what it emitted, so after each build we stamp dist/
 *   (every file's path, size and mtime); if dist/ no longer matches the stamp (deleted, or written
 *   by another build), the record is dropped and the build is a full one.
 *
 * A failed build fails the run with the compiler's output, never tests a stale dist/.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cache = path.join(root, 'node_modules', '.cache', 'retraced');
const buildInfo = path.join(cache, 'cli-build.tsbuildinfo');
const stampFile = path.join(cache, 'cli-build.stamp');
const dist = path.join(root, 'dist');

function exec(command: string, args: readonly string[]): void {
  const res = spawnSync(command, args, { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' });
  if (res.error || res.status !== 0) {
    const output = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim();
    throw new Error(
      `cli tests: building dist/ failed (${command} ${args.join(' ')}: ${res.error?.message ?? `exit ${res.status}`}):\n${output}`,
    );
  }
}

function files(dir: string): string[] {
  let out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out = out.concat(files(p));
    else out.push(p);
  }
  return out;
}

/** What dist/ looks like now: a hash over every file's path, size and mtime. */
function distStamp(): string {
  const h = createHash('sha256');
  for (const f of files(dist).sort()) {
    const s = statSync(f);
    h.update(`${path.relative(dist, f)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return h.digest('hex');
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export default function setup(): void {
  const started = Date.now();
  exec('npm', ['run', '--silent', 'build:lua']);
  const full = read(stampFile) !== distStamp();
  if (full) rmSync(buildInfo, { force: true });
  mkdirSync(cache, { recursive: true });
  exec(process.execPath, [
    path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    'tsconfig.build.json',
    '--incremental',
    '--tsBuildInfoFile',
    buildInfo,
  ]);
  writeFileSync(stampFile, distStamp());
  console.log(
    `cli tests: ${full ? 'built' : 'rebuilt (incremental)'} dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}
