/**
 * The DLQ filter flags (`--reason --code --name --fingerprint --since --until`), shared by
 * `dlq list`, `dlq replay` and `dlq purge`.
 * @module
 */
import { ValidationError } from '../../errors.js';
import type { DeadReason } from '../../types.js';
import {
  CONNECTION_OPTIONS,
  listValue,
  OUTPUT_OPTIONS,
  stringValue,
  agoValue,
  timeValue,
  type OptionSpecs,
  type Values,
} from '../args.js';
import type { Client, DlqFilterData } from '../client.js';

export const SHARED_OPTIONS = { ...CONNECTION_OPTIONS, ...OUTPUT_OPTIONS } as const satisfies OptionSpecs;
const REASONS: readonly DeadReason[] = ['exhausted', 'permanent', 'poison'];

export const FILTER_OPTIONS = {
  reason: { type: 'string', arg: 'R[,R]', help: `dead for this reason: ${REASONS.join(', ')}` },
  code: { type: 'string', arg: 'CODE', help: 'last error code, such as ECONNRESET' },
  name: { type: 'string', arg: 'NAME', help: 'job name' },
  fingerprint: { type: 'string', arg: 'FP', help: 'error fingerprint (see `dlq groups`)' },
  since: { type: 'string', arg: 'TIME', help: 'dead since: ISO date, ms since epoch, or ago (30m, 2h, 1d)' },
  until: { type: 'string', arg: 'TIME', help: 'dead until, same forms as --since' },
} as const satisfies OptionSpecs;

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

export function filterFrom(values: Values<typeof FILTER_OPTIONS>): DlqFilterData {
  const reason = listValue(values.reason);
  for (const r of reason ?? []) {
    if (!REASONS.includes(r as DeadReason)) {
      throw new ValidationError('--reason', `one of ${REASONS.join(', ')}`, r);
    }
  }
  const f: Record<string, unknown> = {
    reason: reason?.length ? reason : undefined,
    errorCode: stringValue(values.code, '--code', 200),
    name: stringValue(values.name, '--name', 200),
    fingerprint: stringValue(values.fingerprint, '--fingerprint', 64),
    from: timeValue(values.since, '--since'),
    to: timeValue(values.until, '--until'),
  };
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as DlqFilterData;
}
