/**
 * An instant as people and URLs write it: ms since epoch (`1767225600000`) or an ISO 8601 date or
 * date-time (`2026-01-01T00:00:00Z`). One rule for the HTTP API's times and the DLQ filters; the
 * HTTP schemas carry {@link INSTANT_PATTERN} so the document says exactly what the server takes.
 * @module
 */
import { ValidationError } from './errors.js';

/**
 * What an instant may look like: 1-15 digits (ms since epoch), or a date `YYYY-MM-DD` optionally
 * followed by `T` (or `t`, or a space) and `hh:mm`, optional `:ss` and fraction, optional `Z` or
 * `±hh:mm` / `±hhmm` (no offset: the server's local time). Every string it matches parses: a day past
 * the month's end rolls over (`2026-02-30` is March 2nd), as `Date.parse` does.
 */
export const INSTANT_PATTERN =
  '^(?:\\d{1,15}|\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])' +
  '(?:[Tt ](?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,9})?)?(?:[Zz]|[+-](?:[01]\\d|2[0-3]):?[0-5]\\d)?)?)$';
const INSTANT = new RegExp(INSTANT_PATTERN);
export const INSTANT_RULE = 'ms since epoch or an ISO 8601 date-time such as 2026-01-31T12:00:00Z';

/** `1767225600000` or `2026-01-01T00:00:00Z` → ms since epoch; undefined stays undefined. */
export function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const t = !INSTANT.test(value) ? NaN : /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t)) throw new ValidationError(field, INSTANT_RULE, value);
  return t;
}
