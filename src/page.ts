/**
 * Offset paging of library listings (jobs by state, the DLQ): one default and one bound.
 * @module
 */
import type { Page } from './backend.js';
import { assertInt } from './validate.js';

/** A page with defaults filled in (offset 0, limit 50), each validated; `limit` at most `maxLimit`. */
export function resolvePage(page: Partial<Page>, maxLimit = 1000): Page {
  return {
    offset: page.offset === undefined ? 0 : assertInt(page.offset, 'offset', 0),
    limit: page.limit === undefined ? 50 : assertInt(page.limit, 'limit', 1, maxLimit),
  };
}
