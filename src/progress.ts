/**
 * Progress and logs of an attempt: what a handler reports while it runs (`job.progress(value)`,
 * `job.log(line)`), stored with the attempt it belongs to and bounded per attempt. The bounds are
 * written once here: the memory backend applies them with these functions, the `trail` script
 * (trail-10.lua) includes their Lua twins (generated/progress.lua), and the worker checks the size
 * of a progress value and cuts long lines before it sends them.
 *
 * Sizes are counted in bytes of the JSON text stored (a line `a"b` counts 6: `"a\"b"`), the same
 * on both backends. A line beyond a bound is dropped, not stored, and counted (`logsDropped`): the
 * first lines of an attempt are kept, as a log tail would lose the start of the story.
 * @module
 */
import { ValidationError } from './errors.js';

/** @lua Largest progress value, in bytes of its JSON text (the latest value per attempt is kept). */
export const MAX_PROGRESS_BYTES = 4096;
/** @lua Most log lines kept per attempt. */
export const MAX_LOG_LINES = 500;
/** @lua Most bytes of log lines kept per attempt (JSON text of the lines). */
export const MAX_LOG_BYTES = 65_536;
/**
 * @lua Most bytes of log lines (their JSON text) carried by one `log` event: a live tail gets the lines
 * themselves, and the event feed stays small (a call's later kept lines are counted in `more`; the
 * job's record has them all).
 */
export const MAX_LOG_EVENT_BYTES = 4096;
/** Longest log line, in characters: a longer one is cut here, with '…' (by the worker). */
export const MAX_LOG_LINE_CHARS = 2000;

/** @lua Whether a line of `lineBytes` is kept after `lines` lines of `bytes` bytes in the attempt. */
export function logKeeps(lines: number, bytes: number, lineBytes: number): boolean {
  return lines < MAX_LOG_LINES && bytes + lineBytes <= MAX_LOG_BYTES;
}

/** @lua Whether a kept line of `lineBytes` also rides in the call's `log` event after `bytes` bytes. */
export function logEventCarries(bytes: number, lineBytes: number): boolean {
  return bytes + lineBytes <= MAX_LOG_EVENT_BYTES;
}

/** One log line as stored with its attempt: when it was written (backend clock) and its text. */
export interface LogLine {
  readonly at: number;
  readonly line: string;
}

/** What an attempt record (or the attempt in progress) carries of its trail. */
export interface AttemptTrail {
  /** The latest progress value the handler reported, and when. */
  progress?: { readonly value: unknown; readonly at: number };
  /** The log lines kept, oldest first. */
  logs?: LogLine[];
  /** Lines dropped beyond the bounds. */
  logsDropped?: number;
}

/** The JSON text of a progress value: a ValidationError when it is not JSON or too large. */
export function progressJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) throw new ValidationError('progress', 'a JSON value', value);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_PROGRESS_BYTES) {
    throw new ValidationError('progress', `at most ${MAX_PROGRESS_BYTES} bytes of JSON`, `${bytes} bytes`);
  }
  return text;
}

/** The JSON text of a log line: any value as text (`String`), cut at MAX_LOG_LINE_CHARS. */
export function logLineJson(line: unknown): string {
  let text = typeof line === 'string' ? line : String(line);
  if (text.length > MAX_LOG_LINE_CHARS) {
    // Not in the middle of a surrogate pair.
    let cut = MAX_LOG_LINE_CHARS - 1;
    const c = text.charCodeAt(cut - 1);
    if (c >= 0xd800 && c <= 0xdbff) cut--;
    text = `${text.slice(0, cut)}…`;
  }
  // Lone surrogates (which Redis's UTF-8 cannot keep) become U+FFFD on both backends.
  return JSON.stringify(text.replace(/\p{Cs}/gu, '\uFFFD'));
}

/** The bytes a stored line counts (its JSON text). */
export function lineBytes(json: string): number {
  return Buffer.byteLength(json);
}

/** An attempt's trail as a backend keeps it: progress JSON text, lines as JSON texts, counters. */
export interface StoredTrail {
  progress?: { json: string; at: number };
  lines: { at: number; json: string }[];
  bytes: number;
  dropped: number;
}

/** The trail of one attempt as records carry it (only the fields that have something). */
export function trailFields(t: StoredTrail | undefined): AttemptTrail {
  if (!t) return {};
  const out: AttemptTrail = {};
  if (t.progress) out.progress = { value: JSON.parse(t.progress.json) as unknown, at: t.progress.at };
  if (t.lines.length > 0) out.logs = t.lines.map((l) => ({ at: l.at, line: JSON.parse(l.json) as string }));
  if (t.dropped > 0) out.logsDropped = t.dropped;
  return out;
}

/**
 * The trails of a job's attempts by number, from Redis's trail hash (flat HGETALL: `p:<n>`,
 * `c:<n>`, `b:<n>`, `d:<n>`) and log list (JSON `{n, at, line}`), see trail-10.lua.
 */
export function trailsFromRedis(flat: readonly string[], logs: readonly string[]): Map<number, AttemptTrail> {
  const out = new Map<number, AttemptTrail>();
  const of = (n: number): AttemptTrail => {
    let t = out.get(n);
    if (!t) out.set(n, (t = {}));
    return t;
  };
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [kind, n] = (flat[i] as string).split(':') as [string, string];
    const v = flat[i + 1] as string;
    if (kind === 'p') of(Number(n)).progress = JSON.parse(v) as AttemptTrail['progress'];
    else if (kind === 'd' && v !== '0') of(Number(n)).logsDropped = Number(v);
  }
  for (const text of logs) {
    const l = JSON.parse(text) as { n: number; at: number; line: string };
    (of(l.n).logs ??= []).push({ at: l.at, line: l.line });
  }
  return out;
}

/** `a` with the trail of its attempt number, when it has one. */
export function withTrail<A extends { readonly n: number }>(
  a: A,
  trails: ReadonlyMap<number, AttemptTrail>,
): A {
  const t = trails.get(a.n);
  return t ? { ...a, ...t } : a;
}
