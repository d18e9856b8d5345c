/**
 * The package as a user gets it: `npm pack`, the tarball installed into an empty project (its
 * dependencies from the registry, through the local npm cache), then the `retraced` bin run through
 * its shebang, the four entry points imported from JavaScript, and a small TypeScript file checked
 * by `tsc --noEmit` against the shipped declarations.
 *
 * It packs the dist/ this project's globalSetup built (`--ignore-scripts`: packing must not
 * rebuild dist/ under the other CLI tests' feet); that `prepare` builds dist/ on `npm ci` in a
 * clone is checked by .ci/run (`npm exec --no -- retraced --help` right after `npm ci`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ROOT } from './run.js';

const exec = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The bare specifiers (`fastify`, `node:fs`, `@fastify/swagger/x`) a module or declaration file imports. */
function bareSpecifiers(text: string): string[] {
  const re = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"\s./][^'"\s]*)['"]/gm;
  return [...text.matchAll(re)].map((m) => m[1] as string);
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]) as string;
}

let project: string;
let shipped: readonly string[];

/** npm with the developer's RETRACED_* and colour settings left out, quiet, never auditing. */
function npm(args: readonly string[], cwd: string): Promise<{ stdout: string }> {
  return exec(NPM, [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: { ...process.env, npm_config_update_notifier: 'false' },
    maxBuffer: 16 << 20,
  });
}

beforeAll(async () => {
  project = mkdtempSync(path.join(tmpdir(), 'retraced-pack-'));
  const { stdout } = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', project], ROOT);
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  if (!packed) throw new Error(`npm pack printed no tarball: ${stdout}`);
  shipped = packed.files.map((f) => f.path);
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module' }),
  );
  await npm(['install', '--prefer-offline', path.join(project, packed.filename)], project);
}, 120_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('the packed tarball, installed into an empty project', () => {
  it('has a retraced bin that runs through its shebang', async () => {
    const bin = path.join(project, 'node_modules', '.bin', 'retraced');
    const { stdout } = await exec(bin, ['--help'], { cwd: project });
    expect(stdout).toContain('Usage: retraced <command> [options]');
    const version = await exec(bin, ['--version'], { cwd: project });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('ships code and declarations that import only dependencies and Node built-ins', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      name: string;
      dependencies: Record<string, string>;
    };
    const allowed = new Set([pkg.name, ...Object.keys(pkg.dependencies)]);
    const strays: string[] = [];
    for (const file of shipped.filter((f) => /\.(js|d\.ts)$/.test(f))) {
      const text = readFileSync(path.join(project, 'node_modules', pkg.name, file), 'utf8');
      for (const spec of bareSpecifiers(text)) {
        if (!isBuiltin(spec) && !allowed.has(packageOf(spec))) strays.push(`${file}: ${spec}`);
      }
    }
    expect(shipped).toContain('dist/cli/main.js');
    expect(strays).toEqual([]);
  });

  it('imports retraced, retraced/redis, retraced/memory and retraced/http from JavaScript', async () => {
    const script = [
      "const lib = await import('retraced');",
      "const redis = await import('retraced/redis');",
      "const memory = await import('retraced/memory');",
      "const http = await import('retraced/http');",
      'console.log(JSON.stringify([typeof lib.Queue, typeof lib.Worker, typeof redis.RedisBackend,',
      '  typeof memory.MemoryBackend, typeof http.buildApp]));',
    ].join('\n');
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
    expect(JSON.parse(stdout)).toEqual(['function', 'function', 'function', 'function', 'function']);
  });

  it('type-checks a TypeScript file against the four entry points', async () => {
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          // Node's types from this repository: the project has no @types/node of its own.
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
          types: ['node'],
          // As most projects have it (and 4x faster than checking fastify's declarations): that our
          // own declarations import nothing a user lacks is the specifier test above.
          skipLibCheck: true,
        },
        files: ['main.ts'],
      }),
    );
    writeFileSync(
      path.join(project, 'main.ts'),
      [
        "import { Queue, type Job } from 'retraced';",
        "import { RedisBackend } from 'retraced/redis';",
        "import { MemoryBackend } from 'retraced/memory';",
        "import { buildApp } from 'retraced/http';",
        '',
        "const queue = new Queue<{ to: string }>('emails', { backend: new MemoryBackend() });",
        "export const added: Promise<unknown> = queue.add('welcome', { to: 'ada@example.com' });",
        "// @ts-expect-error: the data's type is checked, so the declarations were found (not any)",
        "export const wrong: Promise<unknown> = queue.add('welcome', { to: 42 });",
        'export const state = (job: Job): string => job.state;',
        'export const app = (backend: RedisBackend) => buildApp({ backend });',
        '',
      ].join('\n'),
    );
    await expect(exec(process.execPath, [TSC, '-p', project], { cwd: project })).resolves.toBeDefined();
  }, 120_000);
});
