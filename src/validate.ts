/**
 * The validation vocabulary: every rule about an identifier, a name, a person, a note or a
 * duration, written once. The library checks with these functions; the HTTP schemas spread the
 * same rules into JSON Schema (`pattern`, `minLength`, `maxLength`, `maximum`), so the API and
 * the library refuse exactly the same values, with the same words.
 *
 * One message style, from {@link ValidationError}: `<field> must be <rule>, received <value>`.
 *
 * Lengths count Unicode code points, as JSON Schema's `minLength`/`maxLength` do (an emoji is one
 * character, not two UTF-16 units). Text that is stored is refused when it holds a lone surrogate:
 * Redis keeps text as UTF-8, where one cannot exist (it would come back as U+FFFD).
 * @module
 */
import { ValidationError } from './errors.js';

/** A year: the longest delay or lease we accept. Longer is almost surely a unit mistake (s vs ms). */
export const MAX_DURATION_MS = 365 * 24 * 60 * 60 * 1000;

/** A rule for text: JSON Schema keywords (spread into the HTTP schemas) and the words of the rule. */
export interface TextRule {
  readonly minLength: number;
  readonly maxLength: number;
  /** A JSON Schema `pattern` (an ECMAScript regexp with the `u` flag, anchored). */
  readonly pattern: string;
  /** What a message says the value must be, such as `1-200 characters of valid Unicode (no lone surrogates)`. */
  readonly rule: string;
}

/** Text without lone surrogates (surrogate pairs, such as emoji, pass). */
export const WELL_FORMED_PATTERN = '^\\P{Cs}*$';
const NO_LONE_SURROGATES = 'valid Unicode (no lone surrogates)';

function textRule(minLength: number, maxLength: number, pattern: string, rule: string): TextRule {
  return Object.freeze({ minLength, maxLength, pattern, rule });
}

/** Every text rule of the product, by what the text is. */
export const Rules = Object.freeze({
  queueName: textRule(
    1,
    64,
    '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
    "1-64 characters of letters, digits, '_', '.' or '-', starting with a letter or digit",
  ),
  jobId: textRule(
    1,
    128,
    '^(?!\\.{1,2}$)[A-Za-z0-9_.:-]{1,128}$',
    "1-128 characters of letters, digits, '_', '.', ':' or '-', other than '.' and '..' (a URL path cannot carry those)",
  ),
  workerId: textRule(
    1,
    100,
    '^[A-Za-z0-9_.:-]{1,100}$',
    "1-100 characters of letters, digits, '_', '.', ':' or '-'",
  ),
  jobName: textRule(
    1,
    128,
    '^[^\\u0000-\\u001F\\p{Cs}]*$',
    'a non-empty string of at most 128 characters without control characters or lone surrogates',
  ),
  /** Who did something (cancel, retry, replay): recorded with the job. */
  who: textRule(1, 200, WELL_FORMED_PATTERN, `1-200 characters of ${NO_LONE_SURROGATES}`),
  /** A note or a reason recorded with the job. */
  note: textRule(0, 2000, WELL_FORMED_PATTERN, `at most 2000 characters of ${NO_LONE_SURROGATES}`),
  /** An error code to filter by. */
  errorCode: textRule(1, 200, WELL_FORMED_PATTERN, `1-200 characters of ${NO_LONE_SURROGATES}`),
  /** An error fingerprint to filter by. */
  fingerprint: textRule(1, 64, WELL_FORMED_PATTERN, `1-64 characters of ${NO_LONE_SURROGATES}`),
  /** A dedup or debounce key (src/dedup.ts): adds with the same key are folded into one job. */
  dedupKey: textRule(
    1,
    200,
    '^[^\\u0000-\\u001F\\p{Cs}]*$',
    'a non-empty string of at most 200 characters without control characters or lone surrogates',
  ),
  /** The name a custom retry strategy is registered under. */
  strategyName: textRule(1, 100, WELL_FORMED_PATTERN, `1-100 characters of ${NO_LONE_SURROGATES}`),
});
export type RuleName = keyof typeof Rules;

const compiled = new Map<string, RegExp>();
function regexOf(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) compiled.set(pattern, (re = new RegExp(pattern, 'u')));
  return re;
}

/** Code points in `s`, counting no further than `limit + 1`. */
function codePoints(s: string, limit: number): number {
  if (s.length <= limit) return s.length; // at most as many code points as UTF-16 units
  let n = 0;
  for (let i = 0; i < s.length && n <= limit; i++, n++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/** True when `value` is text that `rule` accepts. */
export function isText(value: unknown, rule: TextRule): value is string {
  if (typeof value !== 'string') return false;
  const n = codePoints(value, rule.maxLength);
  return n >= rule.minLength && n <= rule.maxLength && regexOf(rule.pattern).test(value);
}

/** `value` when `rule` accepts it; else a ValidationError naming `field` and the rule. */
export function checkText(value: unknown, field: string, rule: TextRule): string {
  if (!isText(value, rule)) throw new ValidationError(field, rule.rule, value);
  return value;
}

/** As {@link checkText}, for an optional value: `undefined` passes through. */
export function checkOptionalText(value: unknown, field: string, rule: TextRule): string | undefined {
  return value === undefined ? undefined : checkText(value, field, rule);
}

export function assertQueueName(name: unknown, field = 'queue name'): asserts name is string {
  checkText(name, field, Rules.queueName);
}

export function assertJobId(id: unknown, field = 'id'): asserts id is string {
  checkText(id, field, Rules.jobId);
}

export function assertJobName(name: unknown, field = 'name'): asserts name is string {
  checkText(name, field, Rules.jobName);
}

/** Who does something (`by` of cancel, retry, replay). */
export function checkWho(value: unknown, field = 'by'): string {
  return checkText(value, field, Rules.who);
}

/** An optional note or reason. */
export function checkNote(value: unknown, field = 'note'): string | undefined {
  return checkOptionalText(value, field, Rules.note);
}

export function assertInt(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, `an integer between ${min} and ${max}`, value);
  }
  return value;
}

/** A number of milliseconds in [min, a year], rounded to whole milliseconds. */
export function assertDuration(value: unknown, field: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_DURATION_MS) {
    throw new ValidationError(
      field,
      `a number of milliseconds between ${min} and ${MAX_DURATION_MS} (a year)`,
      value,
    );
  }
  return Math.round(value);
}
