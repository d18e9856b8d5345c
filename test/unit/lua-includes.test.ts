/**
 * Each Lua script and include names what it uses, and only that: every `--- @include` of a file
 * brings at least one name the file itself uses, and every include is used by some script.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

const luaDir = join(import.meta.dirname, '..', '..', 'src', 'backends', 'redis', 'lua');
const INCLUDE = /^\s*--- @include "([^"]+)"$/gm;

function luaFiles(sub: string): string[] {
  return readdirSync(join(luaDir, sub))
    .filter((f) => f.endsWith('.lua'))
    .map((f) => (sub ? `${sub}/${f}` : f));
}

/** The names a Lua file defines at its top level: `local function x` and `local X =`. */
function definedNames(text: string): string[] {
  return [...text.matchAll(/^local (?:function )?([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => m[1]!);
}

/** The file's own code: comments and include lines left out. */
function ownCode(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('--'))
    .join('\n');
}

describe('Lua includes', () => {
  const scripts = luaFiles('');
  const includes = [...luaFiles('includes'), ...luaFiles('generated')];
  const read = (f: string): string => readFileSync(join(luaDir, f), 'utf8');

  it.each([...scripts, ...includes])('%s uses every file it includes', (file) => {
    const text = read(file);
    const code = ownCode(text);
    const unused = [...text.matchAll(INCLUDE)]
      .map((m) => m[1]!)
      .filter(
        (inc) => !definedNames(read(`${inc}.lua`)).some((name) => new RegExp(`\\b${name}\\b`).test(code)),
      );
    expect(unused).toEqual([]);
  });

  it('has no include that no script uses', () => {
    const used = new Set<string>();
    const visit = (file: string): void => {
      for (const m of read(file).matchAll(INCLUDE)) {
        if (!used.has(m[1]!)) {
          used.add(m[1]!);
          visit(`${m[1]}.lua`);
        }
      }
    };
    scripts.forEach(visit);
    expect(includes.filter((f) => !used.has(f.replace(/\.lua$/, '')))).toEqual([]);
  });
});
