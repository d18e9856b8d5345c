/**
 * Builds dist/, what the package ships: a clean emit of src/ by tsc (so no file of a deleted source
 * survives into a tarball), then every `bin` of package.json checked for its shebang and made
 * executable.
 *
 *   npx tsx scripts/build-dist.ts
 *
 * `npm run build` runs `build:lua` (regenerates the committed Lua module) and then this, as
 * `build:dist`. `prepare` runs `check:lua` (never rewrites a committed file, so CI's check stays
 * meaningful) and then `build:dist`, so a clone gets dist/ from `npm install` / `npm ci`, and
 * `npm pack` / `npm publish` always pack a fresh one. Whatever else ships is built in
 * `build:dist`'s chain after this script, which empties dist/ first (the dashboard: `build:ui`).
 *
 * dist/ imports only `dependencies`, never tsx or another devDependency: test/package/ checks it by
 * installing the packed tarball into an empty project.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

rmSync(path.join(root, 'dist'), { recursive: true, force: true });

const tsc = spawnSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  bin?: string | Record<string, string>;
};
const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {});
for (const bin of bins) {
  const file = path.join(root, bin);
  if (!readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n')) {
    console.error(`build-dist: ${bin} (a bin of package.json) does not start with "#!/usr/bin/env node"`);
    process.exit(1);
  }
  chmodSync(file, 0o755);
}
console.log(`build-dist: dist/ built; bin ${bins.join(', ')} executable`);
