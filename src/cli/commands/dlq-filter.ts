/**
 * The DLQ filter flags (`--reason --code --name --fingerprint --since --until`), shared by
 * `dlq list`, `dlq replay` and `dlq purge`.
 * @module
 */
import { resolveDlqFilter, type DlqFilterKey } from '../../dlq-filter.js';
import { DeadReasons } from '../../types.js';
import {
  CONNECTION_OPTIONS,
  listValue,
  OUTPUT_OPTIONS,
  agoValue,
  timeValue,
  type OptionSpecs,
  type Values,
} from '../args.js';
import { SearchSources, type SearchSource } from '../../job-index.js';
import { ValidationError } from '../../errors.js';
import { postgresUrl } from '../archive.js';
import type { Client, DlqFilterData } from '../client.js';

export const SHARED_OPTIONS = { ...CONNECTION_OPTIONS, ...OUTPUT_OPTIONS } as const satisfies OptionSpecs;

export const FILTER_OPTIONS = {
  reason: { type: 'string', arg: 'R[,R]', help: `dead for this reason: ${DeadReasons.join(', ')}` },
  code: { type: 'string', arg: 'CODE', help: 'last error code, such as ECONNRESET' },
  name: { type: 'string', arg: 'NAME', help: 'job name' },
  fingerprint: { type: 'string', arg: 'FP', help: 'error fingerprint (see `dlq groups`)' },
  since: { type: 'string', arg: 'TIME', help: 'dead since: ISO date, ms since epoch, or ago (30m, 2h, 1d)' },
  until: { type: 'string', arg: 'TIME', help: 'dead until, same forms as --since' },
} as const satisfies OptionSpecs;

/** Where the DLQ commands look: Redis, the PostgreSQL archive, or both. */
export const SOURCE_OPTIONS = {
  source: {
    type: 'string',
    arg: 'live|archive|all',
    help: 'Redis (live), the PostgreSQL archive (dead jobs evicted from Redis), or both merged [default: live]',
  },
  postgres: {
    type: 'string',
    arg: 'URL',
    help: 'with --redis: the PostgreSQL archive to read (postgres://…; env RETRACED_POSTGRES_URL); a server (--url) reads its own',
  },
  'archive-schema': {
    type: 'string',
    arg: 'NAME',
    help: 'PostgreSQL schema of the archive [default: retraced]',
  },
} as const satisfies OptionSpecs;

export function sourceFrom(values: Values<typeof SOURCE_OPTIONS>): SearchSource | undefined {
  const v = values.source;
  if (v === undefined) return undefined;
  if (!(SearchSources as readonly string[]).includes(v)) {
    throw new ValidationError('--source', `one of ${SearchSources.join(', ')}`, v);
  }
  return v as SearchSource;
}

/**
 * The archive a direct client reads: `--postgres` (or, with --redis and a source other than live,
 * RETRACED_POSTGRES_URL); none over a server, which reads its own.
 */
export function archiveFrom(
  values: Values<typeof SOURCE_OPTIONS> & { readonly redis?: string | undefined },
): { url: string; schema: string | undefined } | undefined {
  const fromEnv = values.source !== undefined && values.source !== 'live' && values.redis !== undefined;
  const url = values.postgres !== undefined || fromEnv ? postgresUrl(values.postgres) : undefined;
  return url === undefined ? undefined : { url, schema: values['archive-schema'] };
}

/**
 * `--source` of the retry-intelligence commands (analytics: auto|rollups|archive; whatif, audit:
 * live|archive), checked against `allowed`; and the archive a direct client reads for them:
 * `--postgres`, or with --redis and a source that may read the archive, RETRACED_POSTGRES_URL.
 */
export function historySourceFrom<S extends string>(
  values: { readonly source?: string | undefined },
  allowed: readonly S[],
): S | undefined {
  const v = values.source;
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ValidationError('--source', `one of ${allowed.join(', ')}`, v);
  }
  return v as S;
}

export function historyArchiveFrom(
  values: Omit<Values<typeof SOURCE_OPTIONS>, 'source'> & {
    readonly redis?: string | undefined;
    readonly source?: string | undefined;
  },
  readsArchive: boolean,
): { url: string; schema: string | undefined } | undefined {
  const fromEnv = readsArchive && values.redis !== undefined;
  const url = values.postgres !== undefined || fromEnv ? postgresUrl(values.postgres) : undefined;
  return url === undefined ? undefined : { url, schema: values['archive-schema'] };
}

/**
 * `--since 30m` and `--until 2h` count back from the scheduler's clock, not this machine's: dead
 * jobs are stamped by Redis, and a CLI whose clock is ten minutes off would otherwise match ten
 * minutes too many or too few (and `dlq purge` would purge them). Absolute times are used as given.
 * Call on the filter made by filterFrom, once a client is at hand.
 */
export async function onSchedulerClock(
  filter: DlqFilterData,
  values: Values<typeof FILTER_OPTIONS>,
  client: Pick<Client, 'now'>,
): Promise<DlqFilterData> {
  const since = agoValue(values.since, '--since');
  const until = agoValue(values.until, '--until');
  if (since === undefined && until === undefined) return filter;
  const now = await client.now();
  return {
    ...filter,
    ...(since !== undefined ? { from: now - since } : {}),
    ...(until !== undefined ? { to: now - until } : {}),
  };
}

/** The flag that sets each filter field, for error messages. */
const FLAG: Readonly<Record<DlqFilterKey, string>> = {
  reason: '--reason',
  errorCode: '--code',
  name: '--name',
  fingerprint: '--fingerprint',
  from: '--since',
  to: '--until',
};

/** The filter the flags give, checked by the library's converter (errors name the flag). */
export function filterFrom(values: Values<typeof FILTER_OPTIONS>): DlqFilterData {
  const reasons = listValue(values.reason);
  return resolveDlqFilter(
    {
      reason: reasons?.length ? reasons.join(',') : undefined,
      errorCode: values.code,
      name: values.name,
      fingerprint: values.fingerprint,
      from: timeValue(values.since, '--since'),
      to: timeValue(values.until, '--until'),
    },
    (k) => FLAG[k],
  );
}
