/**
 * Error fingerprints for the dead-letter queue: errors that differ only in ids, addresses, times
 * and numbers share a fingerprint. Computed in TypeScript only (the worker sends it with a dead
 * finish; the poison fingerprint is precomputed in `transitions.ts`), so no Lua twin exists.
 *
 * What counts as variable, in this order (each placeholder is kept by the later rules):
 *
 * | shape | example | becomes |
 * |---|---|---|
 * | e-mail address | `bob+x@example.co.uk` | `<email>` |
 * | in a URL or a bare path: a segment or query value with a digit (not `v1`-style versions) | `/v1/orders/ab12cd?page=2` | `/v1/orders/<id>?page=<id>` |
 * | UUID | `550e8400-e29b-41d4-a716-446655440000` | `<uuid>` |
 * | ULID | `01ARZ3NDEKTSV4RRFFQ69G5FAV` | `<ulid>` |
 * | ISO date or timestamp | `2024-01-02T03:04:05Z` | `<time>` |
 * | IPv6 (with `::`, or all 8 groups), IPv4 | `fe80::1`, `10.0.0.12` | `<ip>` |
 * | JWT (three base64url parts) | `eyJhbGciOi….eyJzdWIi….SflKxw…` | `<token>` |
 * | prefixed id: lowercase prefix (one or two parts), `_`, 6+ letters and digits with a digit or a capital | `pi_3f9a8b7c6d5e`, `sk_live_4eC39HqLy` | `pi_<id>`, `sk_live_<id>` |
 * | hex, 8+ characters mixing digits and letters (`0x` optional) | `3f2a9c1d0e` | `<hex>` |
 * | base62 token: 8+ letters and digits with 2+ runs of digits, or 16+ with a digit | `N3xK9pQ2` | `<id>` |
 * | any other run of digits (decimals included) | `30s`, `user 42`, `1.25` | `<n>s`, `user <n>`, `<n>` |
 *
 * Words are never eaten: a run of letters alone (`connection refused`, `deadbeefcafe`,
 * `rate_limited`, `ActiveRecord::RecordNotFound`) stays as written; only the digits of a word with
 * digits go (`http2` → `http<n>`), so `timeout after 30s` and `timeout after 60s` group.
 * @module
 */
import { createHash } from 'node:crypto';
import type { ErrorInfo } from './types.js';

/** Not a letter or digit: the edge of a token (`_` and `-` are edges too, except where noted). */
const EDGE_BEFORE = '(?<![A-Za-z0-9])';
const EDGE_AFTER = '(?![A-Za-z0-9])';

const EMAIL_RE = /(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
/** A URL with a path (`scheme://host/…`), or a bare path of one or more segments (`/v1/items/ab12`). */
const URL_RE =
  /(?:(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^\s/?#"'<>]*|(?<![\w.~:/-]))\/[^\s"'<>]*[^\s"'<>.,;:!?)\]}]/gi;
const HEX_GROUP = '[0-9a-f]{1,4}';
const HEX_GROUPS = `${HEX_GROUP}(?::${HEX_GROUP}){0,6}`;
const IPV4 = '(?:\\d{1,3}\\.){3}\\d{1,3}';

/** The rules for text outside URLs, in order (e-mail addresses go first, over the whole message). */
const PATTERNS: readonly (readonly [RegExp, string])[] = [
  [
    new RegExp(
      `${EDGE_BEFORE}[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}${EDGE_AFTER}`,
      'gi',
    ),
    '<uuid>',
  ],
  // Crockford base32, 26 characters, the first one 0–7 (48-bit time), with a digit.
  [
    new RegExp(
      `${EDGE_BEFORE}(?=[0-9A-Z]*[0-9][0-9A-Z]*${EDGE_AFTER})[0-7][0-9A-HJKMNP-TV-Z]{25}${EDGE_AFTER}`,
      'g',
    ),
    '<ulid>',
  ],
  [/\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g, '<time>'],
  // IPv6 with `::` and at least one group (`::1`, `fe80::1%eth0`, `::ffff:10.0.0.1`), or all 8 groups.
  [
    new RegExp(
      `(?<![\\w:])(?:(?=[0-9a-f:]*[0-9a-f])(?:${HEX_GROUPS})?::(?:(?:${HEX_GROUP}:){0,5}${IPV4}|${HEX_GROUPS})?|(?:${HEX_GROUP}:){7}${HEX_GROUP})(?:%[\\w.]+)?(?![\\w:]|\\.\\d)`,
      'gi',
    ),
    '<ip>',
  ],
  [new RegExp(`(?<![\\d.])${IPV4}(?!\\.?\\d)`, 'g'), '<ip>'],
  [/(?<![\w-])eyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]{6,}/g, '<token>'],
  [
    /(?<![A-Za-z0-9])([a-z]{1,12}(?:_[a-z]{1,12})?)_(?=[A-Za-z]*[0-9A-Z])[A-Za-z0-9]{6,}(?![\w-])/g,
    '$1_<id>',
  ],
  // 8+ hex characters with at least one digit and one letter (all-digit runs are numbers).
  [/\b(?:0x)?(?=[a-f]*\d)(?=\d*[a-f])[0-9a-f]{8,}\b/gi, '<hex>'],
  [new RegExp(`${EDGE_BEFORE}(?=[A-Za-z]*\\d+[A-Za-z]+\\d)[A-Za-z0-9]{8,}${EDGE_AFTER}`, 'g'), '<id>'],
  [new RegExp(`${EDGE_BEFORE}(?=[A-Za-z]*\\d)(?=\\d*[A-Za-z])[A-Za-z0-9]{16,}${EDGE_AFTER}`, 'g'), '<id>'],
  [/\d+(?:\.\d+)?/g, '<n>'],
];

const VERSION_SEGMENT = /^v\d+(?:\.\d+)*$/i;

function normaliseText(text: string): string {
  let s = text;
  for (const [re, token] of PATTERNS) s = s.replace(re, token);
  return s;
}

/**
 * A URL's (or a bare path's) segments and query values with a digit become `<id>`, except
 * `v1`-style versions; the scheme, host and port, query keys and fragment follow the text rules.
 */
function normaliseUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)?([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(url);
  if (!m) return normaliseText(url);
  const [, origin = '', path = '', query = '', fragment = ''] = m;
  const id = (part: string): string => (/\d/.test(part) && !VERSION_SEGMENT.test(part) ? '<id>' : part);
  const q = query.replace(/=([^&]*)/g, (_, v: string) => `=${id(v)}`);
  return `${normaliseText(origin)}${path.split('/').map(id).join('/')}${q}${normaliseText(fragment)}`;
}

/**
 * A message with its variable parts replaced (see the table above), whitespace collapsed, trimmed,
 * cut at 200 characters. Only the first 10,000 characters are read.
 */
export function normaliseMessage(message: string): string {
  const s = (message.length > 10_000 ? message.slice(0, 10_000) : message).replace(EMAIL_RE, '<email>');
  let out = '';
  let last = 0;
  for (const m of s.matchAll(URL_RE)) {
    out += normaliseText(s.slice(last, m.index)) + normaliseUrl(m[0]);
    last = m.index + m[0].length;
  }
  out += normaliseText(s.slice(last));
  return out.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/**
 * Recent labels and fingerprints by (name, code, message): a worker computes a fingerprint for every
 * failure, and failures repeat (that is why they are grouped), while the rules above cost about
 * 12 µs for even a short message (11 regular expressions). Bounded: messages up to 1,000
 * characters, at most 1,024 entries (then the memo starts again).
 */
interface Memo {
  readonly label: string;
  fingerprint?: string;
}
const MEMO = new Map<string, Memo>();
const MEMO_ENTRIES = 1024;
const MEMO_MESSAGE_CHARS = 1000;

function memo(e: Pick<ErrorInfo, 'name' | 'message' | 'code'>): Memo {
  const code = e.code ?? '';
  // Lengths first: no two (name, code, message) share a key.
  const key =
    e.message.length <= MEMO_MESSAGE_CHARS
      ? `${e.name.length}:${code.length}:${e.name}${code}${e.message}`
      : undefined;
  const hit = key === undefined ? undefined : MEMO.get(key);
  if (hit) return hit;
  const entry: Memo = { label: `${e.name}|${code}|${normaliseMessage(e.message)}` };
  if (key !== undefined) {
    if (MEMO.size >= MEMO_ENTRIES) MEMO.clear();
    MEMO.set(key, entry);
  }
  return entry;
}

/** The readable form a fingerprint hashes: `name|code|normalised message`. */
export function fingerprintLabel(e: Pick<ErrorInfo, 'name' | 'message' | 'code'>): string {
  return memo(e).label;
}

/** A stable 16-hex-character id grouping errors by name, code and normalised message (sha1 of the label). */
export function errorFingerprint(e: Pick<ErrorInfo, 'name' | 'message' | 'code'>): string {
  const m = memo(e);
  m.fingerprint ??= createHash('sha1').update(m.label).digest('hex').slice(0, 16);
  return m.fingerprint;
}
