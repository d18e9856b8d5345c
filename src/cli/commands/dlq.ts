/**
 * `retraced dlq list|groups|show|replay|purge`: the dead-letter queue from a terminal. Replays are
 * recorded as manual attempts (who, note, data patch as a diff); bulk replays show a progress bar;
 * purges ask first.
 * @module
 */
import { intValue, SHARED_GROUPS } from '../args.js';
import { command, group, withClient } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { truncate, when } from '../output.js';
import { purge, replay } from './dlq-bulk.js';
import {
  archiveFrom,
  FILTER_OPTIONS,
  filterFrom,
  onSchedulerClock,
  SHARED_OPTIONS as shared,
  SOURCE_OPTIONS,
  sourceFrom,
} from './dlq-filter.js';
import { printJob } from './jobs.js';

const list = command(
  {
    name: 'dlq list',
    usage: 'QUEUE [filters] [--source live|archive|all] [--limit N] [--cursor C]',
    args: ['QUEUE'],
    summary:
      'Lists dead jobs, most recently dead first, filtered by reason, error code, name, fingerprint or time; from Redis, the archive (jobs retention evicted) or both.',
    options: {
      ...FILTER_OPTIONS,
      ...SOURCE_OPTIONS,
      limit: { type: 'string', arg: 'N', help: 'jobs per page, 1-500 [default: 50]' },
      cursor: { type: 'string', arg: 'C', help: 'the cursor printed under the previous page' },
      ...shared,
    },
    groups: SHARED_GROUPS,
    examples: [
      'retraced dlq list demo --url http://127.0.0.1:7411',
      'retraced dlq list emails --reason exhausted --code ECONNRESET --since 2h',
      'retraced dlq list emails --source all --url http://127.0.0.1:7411',
      'retraced dlq list emails --source archive --redis redis://127.0.0.1:6379 --postgres postgres://127.0.0.1/retraced',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const filter = filterFrom(values);
    const page = {
      limit: intValue(values.limit, '--limit', 1, 500) ?? 50,
      ...(values.cursor !== undefined ? { cursor: values.cursor } : {}),
      source: sourceFrom(values),
    };
    const res = await withClient(
      values,
      async (c) => c.dlqList(queue, await onSchedulerClock(filter, values, c), page),
      archiveFrom(values),
    );
    out.result({ jobs: res.items, nextCursor: res.nextCursor }, () => {
      out.table(
        [
          { header: 'ID' },
          { header: 'NAME' },
          { header: 'REASON' },
          { header: 'DEAD' },
          { header: 'CODE' },
          { header: 'FINGERPRINT' },
        ],
        res.items.map((s) => [
          s.archived ? `${s.id} ${out.paint('dim', '(archived)')}` : s.id,
          truncate(s.name, 32),
          s.reason,
          when(s.at),
          s.errorCode ?? '-',
          s.fingerprint,
        ]),
        `(no dead jobs in ${queue} match)`,
      );
      if (res.nextCursor) out.line(out.paint('dim', `next page: --cursor ${res.nextCursor}`));
    });
  },
);

const groups = command(
  {
    name: 'dlq groups',
    usage: 'QUEUE [filters] [--source live|archive|all]',
    args: ['QUEUE'],
    summary:
      'Groups dead jobs by error fingerprint, with counts and first/last seen, busiest first; over Redis, the archive or both (each job counted once).',
    options: { ...FILTER_OPTIONS, ...SOURCE_OPTIONS, ...shared },
    groups: SHARED_GROUPS,
    examples: [
      'retraced dlq groups demo --url http://127.0.0.1:7411',
      'retraced dlq groups demo --source all --since 30d --url http://127.0.0.1:7411',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const filter = filterFrom(values);
    const source = sourceFrom(values);
    const res = await withClient(
      values,
      async (c) => c.dlqGroups(queue, await onSchedulerClock(filter, values, c), source),
      archiveFrom(values),
    );
    out.result({ groups: res }, () =>
      out.table(
        [
          { header: 'COUNT', align: 'right' },
          ...(source === 'archive' || source === 'all'
            ? [{ header: 'ARCHIVED', align: 'right' as const }]
            : []),
          { header: 'FINGERPRINT' },
          { header: 'FIRST SEEN' },
          { header: 'LAST SEEN' },
          { header: 'ERROR' },
        ],
        res.map((g) => [
          String(g.count),
          ...(source === 'archive' || source === 'all' ? [String(g.archived ?? 0)] : []),
          g.fingerprint,
          when(g.firstSeen),
          when(g.lastSeen),
          truncate(g.label, 100),
        ]),
        `(the dead-letter queue of ${queue} is empty)`,
      ),
    );
  },
);

const show = command(
  {
    name: 'dlq show',
    usage: 'QUEUE ID',
    args: ['QUEUE', 'ID'],
    summary:
      'Shows a dead job with its whole story as a timeline, from Redis or, once retention evicted it, the archive (exit 4 if the job is not dead).',
    options: {
      postgres: SOURCE_OPTIONS.postgres,
      'archive-schema': SOURCE_OPTIONS['archive-schema'],
      ...shared,
    },
    groups: SHARED_GROUPS,
    examples: ['retraced dlq show demo 17 --url http://127.0.0.1:7411'],
  },
  async ({ values, positionals }, out) => {
    const [queue, id] = positionals as [string, string];
    const job = await withClient(values, (c) => c.getJob(queue, id), archiveFrom(values));
    if (job.state !== 'dead') {
      out.note(`job ${id} is ${job.state}, not dead: see \`retraced jobs show ${queue} ${id}\``);
      return ExitCode.conflict;
    }
    out.result(job, () => printJob(out, job));
  },
);

export const dlq = group('dlq', 'The dead-letter queue: list, group, show, replay and purge dead jobs.', [
  list,
  groups,
  show,
  replay,
  purge,
]);
