/**
 * Failure classification (temporary or permanent, and the rule that decided), error serialisation
 * into plain bounded data (fingerprints that group them are in `fingerprint.ts`).
 * Nothing here throws on a strange thrown value: getters that throw, proxies, circular objects.
 * @module
 */

import { PermanentError, RateLimitError, TemporaryError, ValidationError } from './errors.js';
import type { ClassifyOptionsStored, ErrorInfo } from './types.js';

export type CodeTable = Readonly<Record<string, 'temporary' | 'permanent'>>;

export interface ClassifyOptions {
  /** Error codes and their class, merged over {@link DEFAULT_CODE_TABLE}. */
  codes?: CodeTable;
  /** The class of errors no rule matches. @default 'temporary' */
  default?: 'temporary' | 'permanent';
}

export interface ResolvedClassifyOptions {
  codes: CodeTable;
  default: 'temporary' | 'permanent';
}

export interface Classification {
  errorClass: 'temporary' | 'permanent';
  /** `timeout`, `thrown:PermanentError`, `thrown:TemporaryError`, `code:<CODE>`, `http:<status>` or `default`. */
  rule: string;
  /** A delay the error asked for (TemporaryError, `retryAfterMs`, a `retry-after` header in seconds). */
  retryAfterMs?: number;
}

const PERMANENT_CODES = [
  'INVALID_DATA',
  'VALIDATION_ERROR',
  'BAD_REQUEST',
  'UNAUTHENTICATED',
  'AUTHENTICATION_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'PERMISSION_DENIED',
  'NOT_FOUND',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
];
const TEMPORARY_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'TIMEOUT',
  'SERVICE_UNAVAILABLE',
  'RATE_LIMITED',
  'TOO_MANY_REQUESTS',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
];

export const DEFAULT_CODE_TABLE: CodeTable = Object.freeze(
  Object.fromEntries([
    ...PERMANENT_CODES.map((c) => [c, 'permanent'] as const),
    ...TEMPORARY_CODES.map((c) => [c, 'temporary'] as const),
  ]),
);

const HTTP_PERMANENT = new Set([400, 401, 403, 404, 405, 410, 422]);
const HTTP_TEMPORARY = new Set([408, 425, 429, 500, 502, 503, 504]);
const CLASSES: readonly unknown[] = ['temporary', 'permanent'];

/** Validate classify options and merge their codes over the defaults. The result is frozen. */
export function resolveClassifyOptions(
  o?: ClassifyOptions | unknown,
  field = 'classify',
): ResolvedClassifyOptions {
  if (o === undefined) return Object.freeze({ codes: DEFAULT_CODE_TABLE, default: 'temporary' });
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new ValidationError(field, 'an object', o);
  }
  const opts = o as Record<string, unknown>;
  for (const key of Object.keys(opts)) {
    if (key !== 'codes' && key !== 'default' && opts[key] !== undefined) {
      throw new ValidationError(`${field}.${key}`, 'absent (not a known option)');
    }
  }
  const dflt = opts.default ?? 'temporary';
  if (!CLASSES.includes(dflt)) {
    throw new ValidationError(`${field}.default`, 'one of temporary, permanent', dflt);
  }
  const codes: Record<string, 'temporary' | 'permanent'> = { ...DEFAULT_CODE_TABLE };
  if (opts.codes !== undefined) {
    const c = opts.codes;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) {
      throw new ValidationError(
        `${field}.codes`,
        'an object mapping error codes to temporary or permanent',
        c,
      );
    }
    for (const [code, cls] of Object.entries(c)) {
      if (code === '') {
        throw new ValidationError(`${field}.codes`, 'an object whose keys are non-empty codes');
      }
      if (!CLASSES.includes(cls)) {
        throw new ValidationError(`${field}.codes.${code}`, 'one of temporary, permanent', cls);
      }
      codes[code] = cls as 'temporary' | 'permanent';
    }
  }
  return Object.freeze({ codes: Object.freeze(codes), default: dflt as 'temporary' | 'permanent' });
}

/**
 * Classify options in the form a job stores them (validated as {@link resolveClassifyOptions} does):
 * the codes as configured, sorted, without the default table, which every worker applies under
 * them; and the default class. Small, so the options text interned per queue stays small. Frozen.
 */
export function storedClassifyOptions(
  o?: ClassifyOptions | unknown,
  field = 'classify',
): ClassifyOptionsStored {
  const resolved = resolveClassifyOptions(o, field);
  const given = (o as ClassifyOptions | undefined)?.codes ?? {};
  const codes = Object.fromEntries(
    Object.keys(given)
      .sort()
      .map((k) => [k, given[k] as 'temporary' | 'permanent']),
  );
  return Object.freeze({ codes: Object.freeze(codes), default: resolved.default });
}

/** Read a property without letting a throwing getter or proxy trap escape. */
function get(v: unknown, key: string): unknown {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return undefined;
  try {
    return (v as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** A handler's {@link RateLimitError}, from this copy of the library or another (by its brand). */
export function isRateLimitError(v: unknown): v is RateLimitError {
  return isInstance(v, RateLimitError);
}

/**
 * `instanceof`, or the class's realm-independent brand: a handlers module that imports another
 * copy of retraced (a global CLI, a nested dependency) still throws recognisable signals.
 */
function isInstance(
  v: unknown,
  cls: (abstract new (...args: never[]) => unknown) & { readonly brand?: symbol },
): boolean {
  try {
    if (v instanceof cls) return true;
    const brand = cls.brand;
    return (
      brand !== undefined &&
      typeof v === 'object' &&
      v !== null &&
      (v as Record<symbol, unknown>)[brand] === true
    );
  } catch {
    return false;
  }
}

function nonNegative(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
}

/**
 * Classify a failure. Rules, first match wins:
 * 1. `ctx.timedOut` → temporary (`timeout`);
 * 2. a thrown PermanentError / TemporaryError (`thrown:…`; TemporaryError's `retryAfterMs` is kept);
 * 3. a string `code` found in the table, on the error or on its `cause` chain (`code:<CODE>`);
 * 4. an HTTP status on `status`, `statusCode` or `response.status(Code)` in the known lists (`http:<status>`);
 * 5. the configured default (`default`).
 * A temporary result from rules 3–4 carries `retryAfterMs` from the error's `retryAfterMs` or a
 * `retry-after` header given in seconds.
 */
export function classifyError(
  err: unknown,
  opts: ResolvedClassifyOptions,
  ctx?: { timedOut?: boolean },
): Classification {
  if (ctx?.timedOut === true) return { errorClass: 'temporary', rule: 'timeout' };
  if (isInstance(err, PermanentError)) return { errorClass: 'permanent', rule: 'thrown:PermanentError' };
  if (isInstance(err, TemporaryError)) {
    const after = nonNegative(get(err, 'retryAfterMs'));
    return {
      errorClass: 'temporary',
      rule: 'thrown:TemporaryError',
      ...(after !== undefined ? { retryAfterMs: after } : {}),
    };
  }
  let found: Classification | undefined;
  const code = tableCode(err, opts.codes);
  if (code !== undefined) found = { errorClass: opts.codes[code] ?? opts.default, rule: `code:${code}` };
  if (found === undefined) {
    const status = httpStatus(err);
    if (status !== undefined && HTTP_PERMANENT.has(status)) {
      found = { errorClass: 'permanent', rule: `http:${status}` };
    }
    if (status !== undefined && HTTP_TEMPORARY.has(status)) {
      found = { errorClass: 'temporary', rule: `http:${status}` };
    }
  }
  if (found === undefined) return { errorClass: opts.default, rule: 'default' };
  if (found.errorClass === 'temporary') {
    const after = retryAfter(err);
    if (after !== undefined) found.retryAfterMs = after;
  }
  return found;
}

/** The first string `code` in the table, on the error then down its `cause` chain (at most 5 deep). */
function tableCode(err: unknown, codes: CodeTable): string | undefined {
  let e = err;
  for (let depth = 0; depth < 5 && e !== undefined && e !== null; depth++) {
    const code = get(e, 'code');
    if (typeof code === 'string' && Object.hasOwn(codes, code)) return code;
    e = get(e, 'cause');
  }
  return undefined;
}

function httpStatus(err: unknown): number | undefined {
  for (const holder of [err, get(err, 'response')]) {
    for (const key of ['status', 'statusCode']) {
      const v = get(holder, key);
      if (typeof v === 'number' && Number.isInteger(v)) return v;
    }
  }
  return undefined;
}

const SECONDS = /^\s*\d+(?:\.\d+)?\s*$/;

function retryAfter(err: unknown): number | undefined {
  const own = nonNegative(get(err, 'retryAfterMs'));
  if (own !== undefined) return own;
  for (const headers of [get(err, 'headers'), get(get(err, 'response'), 'headers')]) {
    const v = header(headers, 'retry-after');
    const s = Array.isArray(v) ? (v as unknown[])[0] : v;
    if (typeof s === 'number' && Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
    if (typeof s === 'string' && SECONDS.test(s)) return Math.round(Number(s) * 1000);
  }
  return undefined;
}

/** A header from a fetch `Headers` (has `get`) or a plain object, case-insensitively. */
function header(headers: unknown, name: string): unknown {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const getter = get(headers, 'get');
  try {
    if (typeof getter === 'function') {
      return (getter as (n: string) => unknown).call(headers, name) ?? undefined;
    }
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : get(headers, key);
  } catch {
    return undefined;
  }
}

function bound(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, Math.max(0, max - 1))}…` : s;
}

function isErrorLike(v: unknown): boolean {
  if (isInstance(v, Error)) return true;
  try {
    return Object.prototype.toString.call(v) === '[object Error]';
  } catch {
    return false;
  }
}

function codeOf(v: unknown): string | undefined {
  const code = get(v, 'code');
  if (typeof code === 'string') return code;
  if (typeof code === 'number' && Number.isFinite(code)) return String(code);
  return undefined;
}

/** A JSON replacer that survives cycles (`[Circular]`) and bigints. */
function jsonSafe(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key: string, value: unknown): unknown {
    if (typeof value === 'bigint') return `${value}n`;
    if (typeof value !== 'object' || value === null) return value;
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(value)) return '[Circular]';
    ancestors.push(value);
    return value;
  };
}

function describeValue(v: unknown): string {
  try {
    if (typeof v === 'string') return v;
    if (typeof v === 'function') return `[function ${(v as { name?: unknown }).name || 'anonymous'}]`;
    if (typeof v === 'object' && v !== null) {
      const json = JSON.stringify(v, jsonSafe());
      if (typeof json === 'string') return json;
    }
    return String(v);
  } catch {
    try {
      return Object.prototype.toString.call(v);
    } catch {
      return '[unprintable value]';
    }
  }
}

/**
 * An error as plain, bounded data. Errors keep `name`, `message`, `code` (numbers stringified) and
 * `stack`, each cut with `…` past its limit; any other thrown value becomes `NonError` with its
 * string or JSON form as the message (and its `code`, if it has one). Never throws.
 */
export function serializeError(err: unknown, maxStackChars = 1024, maxMessageChars = 2048): ErrorInfo {
  try {
    const code = codeOf(err);
    // A code is an identifier, indexed as text for the dead-letter queue: a lone surrogate (which
    // UTF-8 cannot hold) becomes U+FFFD here, so every copy of the code agrees.
    const codePart = code !== undefined ? { code: bound(code, 200).replace(/\p{Cs}/gu, '\ufffd') } : {};
    if (!isErrorLike(err)) {
      return { name: 'NonError', message: bound(describeValue(err), maxMessageChars), ...codePart };
    }
    const name = get(err, 'name');
    const message = get(err, 'message');
    const stack = get(err, 'stack');
    return {
      name: bound(typeof name === 'string' && name !== '' ? name : 'Error', 200),
      message: bound(typeof message === 'string' ? message : describeValue(message ?? ''), maxMessageChars),
      ...codePart,
      ...(typeof stack === 'string' ? { stack: bound(stack, maxStackChars) } : {}),
    };
  } catch {
    return { name: 'NonError', message: '[unserializable value]' };
  }
}
