/**
 * The one DLQ filter converter. Every way of naming dead jobs (the library's `DlqFilter`, the HTTP
 * query string and body, the CLI's flags) becomes a backend `DeadFilter` here, checked by the same
 * rules; only the names of the fields in error messages differ, given by the caller.
 * @module
 */
import type { DeadFilter } from './backend.js';
import { ValidationError } from './errors.js';
import { parseTime } from './instant.js';
import { DeadReasons, type DeadReason } from './types.js';
import { checkOptionalText, Rules } from './validate.js';

/** Which dead jobs: every field given must match; `{}` matches every dead job. */
export interface DlqFilter {
  /** One reason, several, or several comma-separated (`exhausted,poison`). */
  readonly reason?: DeadReason | readonly DeadReason[] | string;
  /** The code of the job's last error (the one that killed it). */
  readonly errorCode?: string;
  readonly name?: string;
  /** An error fingerprint, as `groups()` shows it. */
  readonly fingerprint?: string;
  /** Dead since (inclusive): a Date, ms since epoch, or ms / ISO 8601 text. */
  readonly from?: Date | number | string;
  /** Dead until (inclusive), as `from`. */
  readonly to?: Date | number | string;
}

export const DLQ_FILTER_KEYS = ['reason', 'errorCode', 'name', 'fingerprint', 'from', 'to'] as const;
export type DlqFilterKey = (typeof DLQ_FILTER_KEYS)[number];

/** How the library names a filter's fields in errors: `filter.reason`, `filter.from`, … */
export const filterField = (key: DlqFilterKey): string => `filter.${key}`;

/**
 * Checks a filter and returns it as the backend takes it: reasons as a list, times as ms since
 * epoch, nothing undefined. Idempotent: a resolved filter resolves to itself. `field` names the
 * offending field in a ValidationError (`--code` for the CLI, `querystring.from` for the API).
 */
export function resolveDlqFilter(
  filter: DlqFilter,
  field: (key: DlqFilterKey) => string = filterField,
): DeadFilter {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw new ValidationError('filter', 'an object', filter);
  }
  for (const k of Object.keys(filter)) {
    if (!(DLQ_FILTER_KEYS as readonly string[]).includes(k)) {
      throw new ValidationError(
        field(k as DlqFilterKey),
        `not a known filter (known: ${DLQ_FILTER_KEYS.join(', ')})`,
      );
    }
  }
  const out: { -readonly [K in keyof DeadFilter]: DeadFilter[K] } = {};
  const reason = reasonsOf(filter.reason, field('reason'));
  if (reason !== undefined) out.reason = reason;
  const errorCode = checkOptionalText(filter.errorCode, field('errorCode'), Rules.errorCode);
  if (errorCode !== undefined) out.errorCode = errorCode;
  const name = checkOptionalText(filter.name, field('name'), Rules.jobName);
  if (name !== undefined) out.name = name;
  const fingerprint = checkOptionalText(filter.fingerprint, field('fingerprint'), Rules.fingerprint);
  if (fingerprint !== undefined) out.fingerprint = fingerprint;
  const from = instant(filter.from, field('from'));
  if (from !== undefined) out.from = from;
  const to = instant(filter.to, field('to'));
  if (to !== undefined) out.to = to;
  return out;
}

function reasonsOf(v: unknown, field: string): readonly DeadReason[] | undefined {
  if (v === undefined) return undefined;
  const list: unknown[] = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : [v];
  const rule = `one of ${DeadReasons.join(', ')}`;
  if (list.length === 0) throw new ValidationError(field, `${rule} (or a list of them)`, v);
  for (const r of list) {
    if (!(DeadReasons as readonly unknown[]).includes(r)) throw new ValidationError(field, rule, r);
  }
  return [...new Set(list as DeadReason[])];
}

function instant(v: unknown, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return parseTime(v, field);
  const t = v instanceof Date ? v.getTime() : v;
  if (typeof t !== 'number' || !Number.isFinite(t)) {
    throw new ValidationError(field, 'a Date, ms since epoch, or an ISO 8601 date-time', v);
  }
  return t;
}
