import { describe, expect, it } from 'vitest';

import { escapeControls, paint, render, visibleLength } from '../../src/terminal.js';

describe('escapeControls', () => {
  it.each([
    ['plain text, ünïcode and emoji 🎉', 'plain text, ünïcode and emoji 🎉'],
    ['\x1b[31mred\x1b[0m', '\\u001b[31mred\\u001b[0m'],
    ['a\nb\r\tc\x00\x07\x7f', 'a\\u000ab\\u000d\\u0009c\\u0000\\u0007\\u007f'],
    ['\u0085\u009b2J\u009d0;title\u009c', '\\u0085\\u009b2J\\u009d0;title\\u009c'],
    ['abc\u202edcba', 'abc\\u202edcba'],
    [
      '\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c',
      '\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c',
    ],
    ['line\u2028separator\u2029paragraph', 'line\\u2028separator\\u2029paragraph'],
    ['\u00a0\u200b\u2065\u206a\u202f', '\u00a0\u200b\u2065\u206a\u202f'],
  ])('%j → %j', (text, shown) => {
    expect(escapeControls(text)).toBe(shown);
  });
});

describe('paint and render', () => {
  it('turns marks into SGR sequences with colour on, and drops them with colour off', () => {
    const line = `${paint('bold', 'job 7')} is ${paint('red', 'dead')}`;
    expect(render(line, true)).toBe('\x1b[1mjob 7\x1b[0m is \x1b[31mdead\x1b[0m');
    expect(render(line, false)).toBe('job 7 is dead');
    expect(visibleLength(line)).toBe('job 7 is dead'.length);
  });

  it('escapes the colour sequences and controls of the text it colours, colour on or off', () => {
    const hostile = 'boom\x1b[32m ok\x1b[0m\u202e\n→ done';
    expect(render(paint('red', hostile), true)).toBe(
      '\x1b[31mboom\\u001b[32m ok\\u001b[0m\\u202e\\u000a→ done\x1b[0m',
    );
    expect(render(hostile, false)).toBe('boom\\u001b[32m ok\\u001b[0m\\u202e\\u000a→ done');
  });

  it('cannot be fooled by text that imitates a mark', () => {
    const mark = paint('red', 'x');
    const forged = mark.replace(/[0-9a-f]{16}/g, '0000000000000000');
    expect(render(forged, true)).toBe(forged);
  });
});
