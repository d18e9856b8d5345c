/**
 * The response an attempt's HTTP call got, as its record keeps it (`Attempt.response`): status,
 * time, headers of interest and the start of the body, bounded to MAX_RESPONSE_BYTES of JSON. The
 * bound is met by cutting (headers past their budget are left out, the body excerpt is cut to what
 * fits), never by refusing: recording a response must not fail the call it records (a 200 whose
 * body is 2,000 control bytes, 6 bytes each in JSON, is recorded, cut, and the call succeeds).
 *
 * A body excerpt that is UTF-8 text (tab, CR and LF the only control characters) is kept as text;
 * any other (binary, or text in another encoding) as base64 (`bodyEncoding: 'base64'`), so that a
 * binary body costs 4/3 of its bytes rather than up to 6.
 * @module
 */
import { ValidationError } from './errors.js';
import type { AttemptResponse } from './types.js';

/** Largest `Attempt.response`, in bytes of its JSON text. */
export const MAX_RESPONSE_BYTES = 8192;
/** Largest body excerpt a response may keep (`maxBodyExcerpt`), bytes of the body. */
export const MAX_BODY_EXCERPT_BYTES = 4096;
/** The headers of a response record: at most this many bytes of their JSON; later ones are left out. */
export const MAX_RESPONSE_HEADERS_BYTES = 2048;
/** Longest header value kept, characters (a longer one is cut, with '…'). */
export const MAX_RESPONSE_HEADER_CHARS = 256;

/** The start of a body as a record keeps it: UTF-8 text as is, anything else as base64. */
export function bodyExcerpt(bytes: Uint8Array): { body: string; bodyEncoding?: 'base64' } {
  let text: string | undefined;
  try {
    // stream: a multi-byte character cut by the excerpt's end is left out, not an error.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
  } catch {
    text = undefined;
  }
  // eslint-disable-next-line no-control-regex -- control characters make a body binary
  if (text !== undefined && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) {
    return { body: text };
  }
  return {
    body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    bodyEncoding: 'base64',
  };
}

/** Bytes of `s` as a JSON string (quotes included). */
function jsonBytes(s: string): number {
  return Buffer.byteLength(JSON.stringify(s));
}

/**
 * The longest start of `text` whose JSON string takes at most `maxBytes` (quotes included), not
 * cutting a surrogate pair; lone surrogates become U+FFFD (Redis keeps UTF-8). '' when even that
 * does not fit.
 */
export function cutToJsonBytes(text: string, maxBytes: number): string {
  const clean = text.replace(/\p{Cs}/gu, '\uFFFD');
  if (jsonBytes(clean) <= maxBytes) return clean;
  let used = 2;
  let end = 0;
  for (const ch of clean) {
    const b = jsonBytes(ch) - 2;
    if (used + b > maxBytes) break;
    used += b;
    end += ch.length;
  }
  return clean.slice(0, end);
}

function checkInt(v: unknown, field: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new ValidationError(field, `an integer between 0 and ${max}`, v);
  }
  return v;
}

/**
 * A response as an attempt records it: checked (a ValidationError naming the field when it is not
 * a response at all), then bounded to MAX_RESPONSE_BYTES of JSON by cutting headers and body, so
 * that the bound itself never fails.
 */
export function responseRecord(value: AttemptResponse, field = 'response'): AttemptResponse {
  if (typeof value !== 'object' || value === null) {
    throw new ValidationError(field, 'an object { status, ms, headers, body, bodyBytes }', value);
  }
  const status = checkInt(value.status, `${field}.status`, 999);
  const ms = checkInt(Math.round(value.ms), `${field}.ms`, Number.MAX_SAFE_INTEGER);
  const bodyBytes = checkInt(value.bodyBytes, `${field}.bodyBytes`, Number.MAX_SAFE_INTEGER);
  if (typeof value.body !== 'string') throw new ValidationError(`${field}.body`, 'text', value.body);
  if (value.bodyEncoding !== undefined && value.bodyEncoding !== 'base64') {
    throw new ValidationError(`${field}.bodyEncoding`, "'base64' or absent", value.bodyEncoding);
  }
  const headers: Record<string, string> = {};
  let headerBytes = 2;
  for (const [k, v] of Object.entries(value.headers ?? {})) {
    if (typeof v !== 'string') continue;
    const name = k.slice(0, 100).toLowerCase();
    const text = v.length > MAX_RESPONSE_HEADER_CHARS ? `${v.slice(0, MAX_RESPONSE_HEADER_CHARS - 1)}…` : v;
    const cut = cutToJsonBytes(text, MAX_RESPONSE_HEADERS_BYTES);
    const add = jsonBytes(name) + 1 + jsonBytes(cut) + (headerBytes > 2 ? 1 : 0);
    if (headerBytes + add > MAX_RESPONSE_HEADERS_BYTES) break;
    headers[name] = cut;
    headerBytes += add;
  }
  const redirects =
    value.redirects === undefined ? undefined : checkInt(value.redirects, `${field}.redirects`, 1000);
  const out = {
    status,
    ms,
    headers,
    body: '',
    ...(value.bodyEncoding ? { bodyEncoding: value.bodyEncoding } : {}),
    bodyBytes,
    ...(redirects ? { redirects } : {}),
  };
  // The body gets what the rest leaves (at least 5,900 bytes: the rest is bounded above).
  const room = MAX_RESPONSE_BYTES - Buffer.byteLength(JSON.stringify(out)) + 2;
  let body = cutToJsonBytes(value.body, room);
  if (value.bodyEncoding === 'base64') body = body.slice(0, body.length - (body.length % 4));
  return { ...out, body };
}
