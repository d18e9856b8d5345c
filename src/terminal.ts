/**
 * Text for a person's terminal: the one place where it is made safe and coloured, used by the
 * CLI's output (src/cli/output.ts) and by {@link renderTimeline}.
 *
 * Job data, names, error messages, notes and reasons come from outside, and a terminal obeys what
 * it is sent: a raw ESC or C1 control can recolour, clear the screen, rewrite earlier lines,
 * retitle the window or write the clipboard; CR, LF and U+2028/U+2029 start a line that can pass
 * for one of ours; the bidi controls (U+202E RIGHT-TO-LEFT OVERRIDE and friends) reorder what is
 * shown. Every such character is shown escaped instead, as `\u202e`.
 *
 * Colours are marks until {@link render}: `paint` wraps text in marks that carry a key drawn at
 * random when the process starts, and `render` escapes every control character of the text first
 * and only then turns the marks into colour sequences (or drops them, colour off). Text from a job
 * cannot hold a mark without the key, so it cannot colour anything, whatever it contains.
 * @module
 */
import { randomBytes } from 'node:crypto';

export const COLOURS = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  dim: 2,
  bold: 1,
} as const;
export type Colour = keyof typeof COLOURS;

// C0 controls (LF, CR, TAB and ESC included), DEL, C1 controls (CSI, OSC, NEL...), ARABIC LETTER
// MARK, LRM and RLM, the embeddings and overrides U+202A-U+202E, the isolates U+2066-U+2069, and
// the line and paragraph separators U+2028/U+2029.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g;

/** `text` with every control, bidi control and line separator written as `\uXXXX`: one line. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const KEY = randomBytes(8).toString('hex');
const MARK = new RegExp(`\uE000${KEY}:(\\d+)\uE001`, 'g');
const mark = (sgr: number): string => `\uE000${KEY}:${sgr}\uE001`;

/** `text` marked to show in `colour` once rendered (plain text if {@link render} has colour off). */
export function paint(colour: Colour, text: string): string {
  return `${mark(COLOURS[colour])}${text}${mark(0)}`;
}

/** One line for the terminal: {@link escapeControls}, then the marks of {@link paint} as colours or nothing. */
export function render(line: string, colour: boolean): string {
  return escapeControls(line).replace(MARK, (_, sgr: string) => (colour ? `\x1b[${sgr}m` : ''));
}

/** The length of `text` once rendered without colour: what it takes on a line. */
export function visibleLength(text: string): number {
  return text.replace(MARK, '').length;
}
