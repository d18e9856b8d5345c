/**
 * Parsing of the inputs a JSON schema cannot fully check: times (ms since epoch or ISO 8601, the
 * library's rule in instant.ts) and the opaque page cursors. Failures are ValidationErrors that name the field.
 * @module
 */
import { ValidationError } from '../errors.js';

export { parseTime } from '../instant.js';

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
