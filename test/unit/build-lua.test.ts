import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildLuaModule,
  GENERATED_HEADER,
  LuaBuildError,
  loadLuaScripts,
  parseScriptFileName,
  resolveIncludes,
  toStringRawLiteral,
} from '../../scripts/build-lua.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/lua');
const okDir = path.join(fixtures, 'ok');

const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'retraced-build-lua-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

function buildError(fn: () => unknown): LuaBuildError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LuaBuildError);
    return err as LuaBuildError;
  }
  throw new Error('expected a LuaBuildError');
}

/** Evaluates a `String.raw` literal produced by toStringRawLiteral. */
function evalLiteral(literal: string): unknown {
  return new Function(`return ${literal};`)();
}

describe('parseScriptFileName', () => {
  it('splits name and number of keys', () => {
    expect(parseScriptFileName('claim-6.lua')).toEqual({ name: 'claim', numberOfKeys: 6 });
    expect(parseScriptFileName('move-to-delayed-3.lua')).toEqual({
      name: 'move-to-delayed',
      numberOfKeys: 3,
    });
    expect(parseScriptFileName('echo-0.lua')).toEqual({ name: 'echo', numberOfKeys: 0 });
  });
  it('rejects names without a key count', () => {
    expect(parseScriptFileName('claim.lua')).toBeNull();
    expect(parseScriptFileName('Claim-1.lua')).toBeNull();
    expect(parseScriptFileName('claim-x.lua')).toBeNull();
  });
});

describe('resolveIncludes', () => {
  it('inlines nested includes once per script', () => {
    expect(resolveIncludes(okDir, 'claim-6.lua')).toBe(
      [
        '-- util.lua',
        '-- keys.lua',
        'local function jobKey(prefix, id)',
        "  return prefix .. ':job:' .. id",
        'end',
        'local function now()',
        "  local t = redis.call('TIME')",
        '  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)',
        'end',
        "local id = redis.call('LPOP', KEYS[1])",
        'return jobKey(ARGV[1], id) .. now()',
        '',
      ].join('\n'),
    );
  });

  it('skips a duplicate include (with or without .lua, extra spaces)', () => {
    const lua = resolveIncludes(okDir, 'move-to-delayed-3.lua');
    expect(lua.match(/local function jobKey/g)).toHaveLength(1);
    expect(lua).not.toContain('@include');
    expect(lua.endsWith('return jobKey(ARGV[1], ARGV[2])\n')).toBe(true);
  });

  it('names the file and line of a missing include', () => {
    const err = buildError(() => resolveIncludes(path.join(fixtures, 'missing'), 'get-1.lua'));
    expect(err.message).toContain('includes/present.lua:2');
    expect(err.message).toContain('includes/absent.lua');
    expect(err.message).toContain('get-1.lua → includes/present.lua → includes/absent.lua');
  });

  it('reports the include stack of a cycle', () => {
    const err = buildError(() => resolveIncludes(path.join(fixtures, 'circular'), 'main-1.lua'));
    expect(err.message).toContain('Circular @include');
    expect(err.message).toContain('main-1.lua → includes/a.lua → includes/b.lua → includes/a.lua');
  });

  it('rejects malformed and escaping includes', () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'bad-1.lua'), '--- @include includes/foo\n');
    expect(buildError(() => resolveIncludes(dir, 'bad-1.lua')).message).toContain(
      'Malformed @include at bad-1.lua:1',
    );
    writeFileSync(path.join(dir, 'up-1.lua'), 'x\n--- @include "../secret"\n');
    expect(buildError(() => resolveIncludes(dir, 'up-1.lua')).message).toContain(
      'escapes the lua dir at up-1.lua:2',
    );
  });
});

describe('toStringRawLiteral', () => {
  it('keeps ordinary Lua readable', () => {
    expect(toStringRawLiteral("return redis.call('GET', KEYS[1])\n")).toBe(
      "String.raw`return redis.call('GET', KEYS[1])\n`",
    );
  });

  it.each([
    ['backtick', 'a`b'],
    ['template start', 'a${b}c'],
    ['lone dollar', 'a$b$'],
    ['trailing backslash', 'abc\\'],
    ['backslash before backtick', 'a\\`'],
    ['two backslashes before backtick', 'a\\\\`'],
    ['backslash before ${', '\\${x}'],
    ['CR and CRLF', 'a\r\nb\rc'],
    ['escapes stay raw', '\\n \\u \\x \\1 \\\\'],
    ['empty', ''],
  ])('round-trips %s exactly', (_label, text) => {
    expect(evalLiteral(toStringRawLiteral(text))).toBe(text);
  });

  it('round-trips arbitrary text exactly', () => {
    const chars = fc.constantFrom('a', ' ', '\n', '\r', '\\', '`', '$', '{', '}', "'", '"', 'é', '\u2028');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 40 }), (arr) => {
        const text = arr.join('');
        expect(evalLiteral(toStringRawLiteral(text))).toBe(text);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (text) => {
        expect(evalLiteral(toStringRawLiteral(text))).toBe(text);
      }),
    );
  });
});

describe('buildLuaModule', () => {
  it('generates a module whose scripts match the resolved sources exactly', async () => {
    const source = buildLuaModule(okDir);
    expect(source.startsWith(`${GENERATED_HEADER}\n`)).toBe(true);
    expect(source).toContain('export type ScriptName = keyof typeof scripts;');
    // Deterministic, sorted by name.
    expect(buildLuaModule(okDir)).toBe(source);
    expect(source.indexOf('export const claim ')).toBeLessThan(source.indexOf('export const echo '));
    expect(source.indexOf('export const echo ')).toBeLessThan(source.indexOf('export const moveToDelayed '));

    const dir = tmpDir();
    const file = path.join(dir, 'scripts.ts');
    writeFileSync(file, source);
    const mod = (await import(pathToFileURL(file).href)) as {
      scripts: Record<string, { name: string; numberOfKeys: number; lua: string }>;
      claim: unknown;
    };
    expect(Object.keys(mod.scripts)).toEqual(['claim', 'echo', 'moveToDelayed']);
    expect(mod.scripts.claim).toBe(mod.claim);
    expect(mod.scripts.moveToDelayed).toMatchObject({ name: 'move-to-delayed', numberOfKeys: 3 });
    for (const s of loadLuaScripts(okDir)) {
      expect(mod.scripts[s.camelName]).toEqual({ name: s.name, numberOfKeys: s.numberOfKeys, lua: s.lua });
    }
    // The fixture with a backtick, `${` and a trailing backslash survives byte for byte.
    expect(mod.scripts.echo?.lua).toBe(readFileSync(path.join(okDir, 'echo-0.lua'), 'utf8'));
  });

  it('generates a valid module with an empty scripts object when there are no scripts', async () => {
    const luaDir = tmpDir();
    mkdirSync(path.join(luaDir, 'includes'));
    writeFileSync(path.join(luaDir, 'includes', 'shared.lua'), '-- not a script\n');
    const source = buildLuaModule(luaDir);
    expect(source).toContain('export const scripts = {} as const;');
    const file = path.join(tmpDir(), 'scripts.ts');
    writeFileSync(file, source);
    const mod = (await import(pathToFileURL(file).href)) as { scripts: object };
    expect(mod.scripts).toEqual({});
  });

  it('rejects bad file names, reserved names and clashes', () => {
    const a = tmpDir();
    writeFileSync(path.join(a, 'claim.lua'), 'return 1\n');
    expect(buildError(() => buildLuaModule(a)).message).toContain('Bad Lua script file name "claim.lua"');
    const b = tmpDir();
    writeFileSync(path.join(b, 'delete-1.lua'), 'return 1\n');
    expect(buildError(() => buildLuaModule(b)).message).toContain('reserved');
    const c = tmpDir();
    writeFileSync(path.join(c, 'claim-1.lua'), 'return 1\n');
    writeFileSync(path.join(c, 'claim-2.lua'), 'return 2\n');
    expect(buildError(() => buildLuaModule(c)).message).toContain('both map to the name "claim"');
  });

  it('propagates include errors', () => {
    expect(buildError(() => buildLuaModule(path.join(fixtures, 'circular'))).message).toContain('Circular');
    expect(buildError(() => buildLuaModule(path.join(fixtures, 'missing'))).message).toContain(
      'Missing include',
    );
  });
});
