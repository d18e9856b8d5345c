import { describe, expect, it } from 'vitest';

import { luaString, luaTwins, LuaTwinError } from '../../scripts/lua-twins.js';

const twins = (source: string, values: Record<string, unknown> = {}): string =>
  luaTwins('rules.ts', source, values, 'generated');

function twinError(source: string, values: Record<string, unknown> = {}): string {
  try {
    twins(source, values);
  } catch (err) {
    expect(err).toBeInstanceOf(LuaTwinError);
    return (err as Error).message;
  }
  throw new Error('expected a LuaTwinError');
}

describe('luaTwins', () => {
  it('generates constants from their runtime values, objects as JSON text, with their doc comment', () => {
    const src = [
      '/** @lua How many. */',
      'export const N = 10_000;',
      "/** @lua */ export const WORD = 'it\\'s';",
      "/** @lua */ export const ERR = Object.freeze({ name: 'X', code: 'Y' });",
      'export const UNTAGGED = 1;',
    ].join('\n');
    expect(twins(src, { N: 10000, WORD: "it's", ERR: { name: 'X', code: 'Y' }, UNTAGGED: 1 })).toBe(
      [
        '-- generated',
        '',
        '-- How many.',
        'local N = 10000',
        '',
        "local WORD = 'it\\'s'",
        '',
        'local ERR = \'{"name":"X","code":"Y"}\'',
      ].join('\n'),
    );
  });

  it('translates operators with Lua precedence, keeping the parentheses it needs', () => {
    const src = [
      '/** @lua */ export function f(a: number, b: number, s: string): boolean {',
      "  return (a > 0 || b > 0) && !(a + 1 >= b) && s !== 'x' && a - (b - 1) === a * 2;",
      '}',
    ].join('\n');
    expect(twins(src)).toBe(
      [
        '-- generated',
        '',
        'local function f(a, b, s)',
        "  return (a > 0 or b > 0) and not (a + 1 >= b) and s ~= 'x' and a - (b - 1) == a * 2",
        'end',
      ].join('\n'),
    );
  });

  it('turns templates and object literals into concatenations through S, and ?: into and/or', () => {
    const src = [
      '/** @lua */ export function text(n: number): string {',
      '  return `n is ${n}`;',
      '}',
      '/** @lua */ export function obj(n: number, big: boolean): unknown {',
      "  return big ? { kind: 'big', text: text(n), n, nested: { ok: true } } : { kind: 'small' };",
      '}',
    ].join('\n');
    expect(twins(src)).toBe(
      [
        '-- generated',
        '--- @include "includes/S"',
        '',
        'local function text(n)',
        "  return 'n is ' .. S(n)",
        'end',
        '',
        'local function obj(n, big)',
        '  return big and \'{"kind":"big","text":"\' .. text(n) .. \'","n":\' .. S(n) .. \',"nested":{"ok":true}}\' or \'{"kind":"small"}\'',
        'end',
      ].join('\n'),
    );
  });

  it('refuses what it cannot translate faithfully, naming the line', () => {
    expect(
      twinError('/** @lua */ export function f(a: number): number {\n  const b = a;\n  return b;\n}'),
    ).toContain('rules.ts:1: a `@lua` function body must be a single `return <expression>`');
    // A string parameter's text may need escaping: not spliced into JSON.
    expect(twinError('/** @lua */ export function f(s: string): unknown {\n  return { s };\n}')).toContain(
      'rules.ts:2: a string that may need JSON escaping cannot be a JSON value',
    );
    expect(twinError('/** @lua */ export function f(s: string): string {\n  return `${s}!`;\n}')).toContain(
      'a template substitution must be a number or an escape-free text',
    );
    // `c and a or b` would be wrong for a false `a`.
    expect(
      twinError('/** @lua */ export function f(a: boolean): boolean {\n  return a ? false : true;\n}'),
    ).toContain('both branches must be of one kind, and not booleans');
    expect(
      twinError('/** @lua */ export function f(a: number): number {\n  return Math.max(a, 1);\n}'),
    ).toContain('expression not translated');
    expect(twinError('/** @lua */ export function f(a: number): number {\n  return g(a);\n}')).toContain(
      'only earlier `@lua` functions can be called',
    );
    expect(twinError('/** @lua */ export const X = 0.5;', { X: 0.5 })).toContain(
      'a number constant must be a whole number',
    );
    expect(twinError('/** @lua */ export function f(end: number): number {\n  return end;\n}')).toContain(
      'a Lua keyword cannot be a parameter name',
    );
  });
});

describe('luaString', () => {
  it('escapes backslashes, quotes and control characters', () => {
    expect(luaString("a\\b'c\nd\x01é")).toBe("'a\\\\b\\'c\\nd\\001é'");
  });
});
