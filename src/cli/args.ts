/**
 * Command-line parsing on `node:util` parseArgs: each command declares its options once (type,
 * placeholder, help line), and the same declaration drives parsing, `--help` and typing. Value
 * parsers turn strings into numbers, durations, times and JSON, naming the flag when they refuse.
 * @module
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { ValidationError } from '../errors.js';
import { UsageError } from './exit-codes.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder shown in help (`--limit N`). */
  readonly arg?: string;
  readonly help: string;
  /** A string option that may be given more than once: its value is every one given, in order. */
  readonly multiple?: true;
}
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Parsed flag values: strings for string options, booleans for boolean ones, absent when not given. */
export type Values<O extends OptionSpecs> = {
  readonly [K in keyof O]?: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K] extends { readonly multiple: true }
      ? string[]
      : string;
};

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  /** `jobs list` */
  readonly name: string;
  /** `QUEUE [--state STATE]` */
  readonly usage: string;
  /** One paragraph, for `--help`. */
  readonly summary: string;
  /** One short line for the parent's command list. @default the summary's first sentence */
  readonly brief?: string;
  /**
   * Positional arguments, checked before `run`: `QUEUE` is required, `ID?` optional, `ID...` any
   * number (zero or more).
   */
  readonly args?: readonly string[];
  /** Every option the command accepts, its own and the shared ones. */
  readonly options: O;
  /** Shared options, shown in help under their own heading (those not listed are under "Options"). */
  readonly groups?: readonly { readonly title: string; readonly options: OptionSpecs }[];
  readonly examples?: readonly string[];
}

export interface Parsed<O extends OptionSpecs> {
  readonly values: Values<O>;
  readonly positionals: string[];
}

/** Options every command accepts. */
export const OUTPUT_OPTIONS = {
  json: { type: 'boolean', help: 'machine-readable JSON on stdout instead of tables' },
  debug: { type: 'boolean', help: 'print stack traces of unexpected errors' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const satisfies OptionSpecs;

/** How a client command reaches the jobs: Redis directly, or a running `retraced server`. */
export const CONNECTION_OPTIONS = {
  redis: { type: 'string', arg: 'URL', help: 'talk to Redis directly (env RETRACED_REDIS_URL)' },
  prefix: { type: 'string', arg: 'PREFIX', help: 'Redis key prefix (env RETRACED_PREFIX) [default: rt]' },
  url: { type: 'string', arg: 'URL', help: 'talk to a running `retraced server` (env RETRACED_URL)' },
  token: { type: 'string', arg: 'TOKEN', help: 'bearer token for --url (env RETRACED_TOKEN)' },
} as const satisfies OptionSpecs;

/** Parses `argv` for `spec`: unknown flags and missing values are usage errors naming the flag. */
export function parseCommand<O extends OptionSpecs>(
  spec: CommandSpec<O>,
  argv: readonly string[],
): Parsed<O> {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    config[name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: config,
      allowPositionals: true,
      strict: true,
    });
    if (!(values as { help?: boolean }).help) checkPositionals(spec, positionals);
    return { values: values as Values<O>, positionals };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new UsageError(
      `${message.replace(/\. To specify a positional argument.*$/s, '')}\nSee: retraced ${spec.name} --help`,
    );
  }
}

/** The `--help` text of a command. */
export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: retraced ${spec.name}${spec.usage ? ` ${spec.usage}` : ''}`, '', spec.summary, ''];
  const section = (title: string, options: OptionSpecs): void => {
    const entries = Object.entries(options);
    if (entries.length === 0) return;
    const heads = entries.map(
      ([name, o]) => `${o.short ? `-${o.short}, ` : '    '}--${name}${o.arg ? ` ${o.arg}` : ''}`,
    );
    const width = Math.max(...heads.map((h) => h.length)) + 2;
    lines.push(`${title}:`);
    entries.forEach(([, o], i) => lines.push(`  ${(heads[i] ?? '').padEnd(width)}${o.help}`));
    lines.push('');
  };
  const grouped = new Set((spec.groups ?? []).flatMap((g) => Object.keys(g.options)));
  section('Options', Object.fromEntries(Object.entries(spec.options).filter(([k]) => !grouped.has(k))));
  for (const g of spec.groups ?? []) {
    section(
      g.title,
      Object.fromEntries(Object.entries(spec.options).filter(([k]) => Object.hasOwn(g.options, k))),
    );
  }
  if (spec.examples?.length) {
    lines.push('Examples:', ...spec.examples.map((e) => `  ${e}`), '');
  }
  return lines.join('\n');
}

function checkPositionals(spec: CommandSpec, positionals: readonly string[]): void {
  const names = spec.args ?? [];
  const variadic = names.some((n) => n.endsWith('...'));
  const required = names.filter((n) => !n.endsWith('?') && !n.endsWith('...'));
  const usage = `\nUsage: retraced ${spec.name} ${spec.usage}`;
  if (positionals.length < required.length) {
    throw new UsageError(`missing ${required.slice(positionals.length).join(' ')}${usage}`);
  }
  if (!variadic && positionals.length > names.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[names.length])}${usage}`);
  }
}

// Value parsers: each names its flag in the error, in the library's ValidationError wording. ------

export function intValue(
  raw: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ValidationError(flag, `an integer between ${min} and ${max}`, raw);
  }
  return n;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `1500`, `1500ms`, `1.5s`, `2m`, `1h`, `1d` → milliseconds. */
export function durationValue(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?$/.exec(raw.trim());
  const ms = m ? Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1)) : NaN;
  if (!Number.isFinite(ms)) {
    throw new ValidationError(flag, 'a duration such as 1500, 1500ms, 30s, 5m, 2h or 1d', raw);
  }
  return ms;
}

/** An ISO date (`2024-05-01T12:00:00Z`), ms since epoch, or a duration ago (`30m` = 30 minutes ago). */
/** For a relative time (`30m`, `2h`: ago), how long ago in ms; undefined for an absolute one or none. */
export function agoValue(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const s = raw.trim();
  return /^\d+(?:\.\d+)?\s*(ms|s|m|min|h|d)$/.test(s) ? (durationValue(s, flag) ?? 0) : undefined;
}

export function timeValue(raw: string | undefined, flag: string, now = Date.now()): number | undefined {
  if (raw === undefined) return undefined;
  const s = raw.trim();
  if (/^\d{10,}$/.test(s)) return Number(s);
  if (/^\d+(?:\.\d+)?\s*(ms|s|m|min|h|d)$/.test(s)) return now - (durationValue(s, flag) ?? 0);
  const t = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN;
  if (!Number.isFinite(t)) {
    throw new ValidationError(flag, 'an ISO date, ms since epoch, or a duration ago such as 30m or 2h', raw);
  }
  return t;
}

/** JSON text, or `@path` to read it from a file. */
export function jsonValue(raw: string | undefined, flag: string): unknown {
  if (raw === undefined) return undefined;
  let text = raw;
  if (raw.startsWith('@')) {
    try {
      text = readFileSync(raw.slice(1), 'utf8');
    } catch (e) {
      throw new ValidationError(
        flag,
        `JSON or @file with a readable file (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`,
        raw,
      );
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new ValidationError(flag, `valid JSON (${e instanceof Error ? e.message : String(e)})`, raw);
  }
  // The library's own limit, checked here without recursion: deeper values would overflow the
  // stack on their way out (JSON.stringify), long before the library could name the flag.
  if (depth(value) > MAX_JSON_DEPTH) {
    throw new ValidationError(flag, `JSON nested at most ${MAX_JSON_DEPTH} levels deep`, raw);
  }
  return value;
}

const MAX_JSON_DEPTH = 64;

/** How deep the deepest value sits (the top level is 0), as the library counts. */
function depth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    max = Math.max(max, d);
    if (max > MAX_JSON_DEPTH) return max;
    if (typeof v === 'object' && v !== null) for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** `a,b,c` → ['a', 'b', 'c'] (empty items dropped). */
export function listValue(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function stringValue(raw: string | undefined, flag: string, max = 2000): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.length === 0 || raw.length > max) {
    throw new ValidationError(flag, `a non-empty string of at most ${max} characters`, raw);
  }
  return raw;
}

/** The help headings of the shared options. */
export const SHARED_GROUPS = [
  { title: 'Connection', options: CONNECTION_OPTIONS },
  { title: 'Output', options: OUTPUT_OPTIONS },
] as const;
