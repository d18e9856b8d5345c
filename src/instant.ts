/**
 * An instant as people and URLs write it: ms since epoch (`1767225600000`) or an ISO 8601 date or
 * date-time (`2026-01-01T00:00:00Z`). One rule for the HTTP API's times and the DLQ filters.
 * @module
 */
import { ValidationError } from './errors.js';

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
