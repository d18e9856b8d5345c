/**
 * `retraced rate-limits QUEUE [--filter F] [--limit N] [--cursor C] [--group KEY]`: the rate-limit
 * view — the queue's bucket (limit, tokens now, next token, a handler's pause and why) and one page
 * of its groups (waiting jobs, limit, tokens, next token, turn, parked or paused and why).
 * `retraced rate-limit QUEUE` shows and sets the limits themselves.
 * @module
 */
import { ValidationError } from '../../errors.js';
import {
  GROUP_FILTERS,
  MAX_GROUP_PAGE,
  type BucketView,
  type GroupFilter,
  type GroupView,
  type RateLimitState,
} from '../../rate-limit.js';
import { CONNECTION_OPTIONS, intValue, OUTPUT_OPTIONS, SHARED_GROUPS, type OptionSpecs } from '../args.js';
import { command, withClient } from '../command.js';
import { when, type Output } from '../output.js';

const options = {
  filter: {
    type: 'string',
    arg: 'F',
    help: 'waiting (taking turns in turn order, then parked), turns, parked or paused [default: waiting]',
  },
  limit: { type: 'string', arg: 'N', help: `groups per page, 1-${MAX_GROUP_PAGE} [default: 50]` },
  cursor: { type: 'string', arg: 'C', help: 'the next page: the cursor the previous page printed' },
  group: { type: 'string', arg: 'KEY', help: "one group's row only" },
  ...CONNECTION_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

export const rateLimits = command(
  {
    name: 'rate-limits',
    usage: 'QUEUE [--filter waiting|turns|parked|paused] [--limit N] [--cursor C] [--group KEY]',
    args: ['QUEUE'],
    brief: "Shows a queue's rate-limit state: its bucket and its groups, page by page.",
    summary:
      "Shows the queue's bucket (limit, tokens now, next token, a handler's pause and why) and one page of its groups: waiting jobs, limit, tokens, next token, turn, parked or paused (by a handler's RateLimitError, and why). At most --limit groups are read per call, by the backend's clock. `rate-limit QUEUE` sets the limits.",
    options,
    groups: SHARED_GROUPS,
    examples: [
      'retraced rate-limits emails --url http://127.0.0.1:7411',
      'retraced rate-limits emails --filter paused --redis redis://127.0.0.1:6379',
      'retraced rate-limits emails --group tenant-42 --json',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const filter = values.filter;
    if (filter !== undefined && !GROUP_FILTERS.includes(filter as GroupFilter)) {
      throw new ValidationError('--filter', `one of ${GROUP_FILTERS.join(', ')}`, filter);
    }
    const limit = intValue(values.limit, '--limit', 1, MAX_GROUP_PAGE);
    const query = {
      ...(filter !== undefined ? { filter: filter as GroupFilter } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(values.cursor !== undefined ? { cursor: values.cursor } : {}),
      ...(values.group !== undefined ? { group: values.group } : {}),
    };
    const state = await withClient(values, (c) => c.rateLimitState(queue, query));
    out.result(state, () => print(out, queue, state, query.filter ?? 'waiting'));
  },
);

/** `3 tokens`, `empty: next token 12:00:01 (in 20 s)`, `no limit`. */
function tokens(b: BucketView, now: number): string {
  if (b.tokens === null) return 'no limit';
  if (b.tokens > 0) return `${b.tokens} token${b.tokens === 1 ? '' : 's'}`;
  return `empty: next token ${when(b.nextTokenAt, now)}`;
}

/** `paused until 12:01:00 (in 1 min) by job 17 (attempt 2): HTTP 429`. */
function pause(b: BucketView, now: number): string {
  const p = b.pause;
  if (!p) return '';
  return `paused until ${when(p.until, now)} by job ${p.jobId} (attempt ${p.attempt})${p.message ? `: ${p.message}` : ''}`;
}

function state(g: GroupView, now: number): string {
  if (g.pause) return pause(g, now);
  if (g.parkedUntil !== undefined) return 'parked (bucket empty)';
  if (g.turn === 0) return 'served next';
  if (g.turn !== undefined) return 'taking turns';
  return '-';
}

function print(out: Output, queue: string, s: RateLimitState, filter: GroupFilter): void {
  const q = s.queue;
  const bucket = q.tokens === null ? '' : `; ${tokens(q, s.at)}`;
  out.line(`queue ${queue}: ${q.limit ? `${q.limit.label}, burst ${q.limit.burst}` : 'no limit'}${bucket}`);
  if (q.pause) out.line(`  ${pause(q, s.at)}`);
  out.line(
    `each group: ${s.groupLimit ? `${s.groupLimit.label}, burst ${s.groupLimit.burst}` : 'no limit'}; ${s.ownLimits} group${s.ownLimits === 1 ? '' : 's'} with a limit of their own`,
  );
  out.line(`groups: ${s.counts.turns} taking turns, ${s.counts.parked} parked, ${s.counts.paused} paused`);
  out.line();
  out.table(
    [
      { header: 'GROUP' },
      { header: 'WAITING', align: 'right' },
      { header: 'LIMIT' },
      { header: 'TOKENS', align: 'right' },
      { header: 'NEXT TOKEN' },
      { header: 'TURN', align: 'right' },
      { header: 'STATE' },
    ],
    s.groups.map((g) => [
      g.group === '' ? '(no group)' : g.group,
      String(g.waiting),
      g.limit ? `${g.limit.label}${g.ownLimit ? ' (own)' : ''}` : '-',
      g.tokens === null ? '-' : String(g.tokens),
      when(g.nextTokenAt, s.at),
      g.turn === undefined ? '-' : String(g.turn),
      state(g, s.at),
    ]),
    `(no ${filter === 'waiting' ? 'group with waiting jobs' : `${filter} group`})`,
  );
  if (s.nextCursor) out.line(`next page: --cursor ${s.nextCursor}`);
}
