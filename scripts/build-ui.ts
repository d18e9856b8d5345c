/**
 * Builds the dashboard (ui/ → dist/ui/) with Vite.
 *
 *   npx tsx scripts/build-ui.ts              # build
 *   npx tsx scripts/build-ui.ts --if-stale   # build only if dist/ui/ is missing or its inputs changed
 *
 * `--if-stale` is what `npm start` runs first, so a fresh clone (or a pull that changed the UI)
 * shows the current dashboard without a separate build command. Staleness is a hash of the
 * inputs' paths and contents (ui/, the shared pure modules it imports, the lockfile), stored
 * next to the build: checkouts and copies that only touch file times do not rebuild.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const OUT_DIR = path.join(root, 'dist', 'ui');
const STAMP = path.join(OUT_DIR, 'inputs.sha256');
const INPUTS = ['ui', 'src/patch.ts', 'src/duration.ts', 'package-lock.json'];

function files(p: string): string[] {
  if (!existsSync(p)) return [];
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p)
    .sort()
    .flatMap((name) => files(path.join(p, name)));
}

/** One hash over every input file's path and content. */
export function inputsHash(): string {
  const h = createHash('sha256');
  for (const f of INPUTS.flatMap((i) => files(path.join(root, i)))) {
    h.update(path.relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return h.digest('hex');
}

export function isStale(): boolean {
  if (!existsSync(path.join(OUT_DIR, 'index.html')) || !existsSync(STAMP)) return true;
  return readFileSync(STAMP, 'utf8').trim() !== inputsHash();
}

export async function buildUi(): Promise<void> {
  const hash = inputsHash();
  const { build } = await import('vite');
  // Always the production build, also from inside Vitest (NODE_ENV=test would make the Preact
  // preset bundle its debug helpers: a bigger, different app than the one shipped).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: path.join(root, 'ui', 'vite.config.ts'),
      mode: 'production',
      logLevel: 'warn',
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  writeFileSync(STAMP, `${hash}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && !isStale()) process.exit(0);
  console.log(
    ifStale ? 'Building the dashboard (dist/ui/ is missing or out of date)…' : 'Building the dashboard…',
  );
  await buildUi();
  console.log(`Dashboard built into ${path.relative(process.cwd(), OUT_DIR) || OUT_DIR}`);
}
