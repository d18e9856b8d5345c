import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findCycles, importGraph } from '../../scripts/check-cycles.js';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

const tmpDirs: string[] = [];
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'retraced-cycles-'));
  tmpDirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
afterAll(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

describe('import cycles', () => {
  it('src has none (type-only imports included)', () => {
    expect(findCycles(importGraph(src))).toEqual([]);
  });

  it('finds a type-only cycle and one through an index module and a re-export', () => {
    const dir = project({
      'a.ts': "import type { B } from './b.js';\nexport type A = B;\n",
      'b.ts': "import { c } from './sub/index.js';\nexport type B = string;\nexport const b = c;\n",
      'sub/index.ts': "export { a } from '../d.js';\nexport const c = 1;\n",
      'd.ts': "import type { A } from './a.js';\nexport const a: A = 'x';\n",
      'e.ts': "import { b } from './b.js';\nimport fs from 'node:fs';\nexport const e = [b, fs];\n",
      'self.ts': "import { s } from './self.js';\nexport const t = s;\nexport const s = 1;\n",
    });
    expect(importGraph(dir).get('e.ts')).toEqual(['b.ts']);
    expect(findCycles(importGraph(dir))).toEqual([
      ['a.ts', 'b.ts', 'sub/index.ts', 'd.ts', 'a.ts'],
      ['self.ts', 'self.ts'],
    ]);
  });

  it('a graph without a cycle has none', () => {
    const graph = new Map([
      ['a.ts', ['b.ts', 'c.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', []],
    ]);
    expect(findCycles(graph)).toEqual([]);
  });
});
