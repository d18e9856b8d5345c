/**
 * Parsing of the inputs a JSON schema cannot fully check: times (ms since epoch or ISO 8601) and
 * the opaque page cursors. Failures are ValidationErrors that name the field.
 * @module
 */
import { ValidationError } from '../errors.js';

/** `1767225600000` or `2026-01-01T00:00:00Z` → ms since epoch; undefined stays undefined. */
export function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const t = /^\d{1,16}$/.test(value)
    ? Number(value)
    : /^\d{4}-\d{2}-\d{2}/.test(value)
      ? Date.parse(value)
      : NaN;
  if (!Number.isFinite(t) || t > 8.64e15) {
    throw new ValidationError(
      field,
      'ms since epoch or an ISO 8601 date-time such as 2026-01-31T12:00:00Z',
      value,
    );
  }
  return t;
}

/** A cursor is base64url of `{"offset":n}`: opaque to clients, cheap to check. */
export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, field: string): number {
  if (cursor === undefined) return 0;
  let offset: unknown;
  try {
    offset = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { offset?: unknown }).offset;
  } catch {
    offset = undefined;
  }
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new ValidationError(field, 'a nextCursor returned by a previous page', cursor);
  }
  return offset;
}
