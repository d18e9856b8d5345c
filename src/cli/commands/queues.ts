/**
 * `retraced queues [list] | pause QUEUE | resume QUEUE`: the queues with their counts per state,
 * and stopping or restarting claims on one.
 * @module
 */
import { JobStates } from '../../types.js';
import { CONNECTION_OPTIONS, OUTPUT_OPTIONS, SHARED_GROUPS, type OptionSpecs } from '../args.js';
import { command, group, withClient } from '../command.js';

const options = { ...CONNECTION_OPTIONS, ...OUTPUT_OPTIONS } as const satisfies OptionSpecs;

const list = command(
  {
    name: 'queues list',
    usage: '',
    summary:
      'Lists the queues with their job counts per state, whether they are paused, the finished jobs retention has evicted, and the archive backlog (finished jobs not archived in PostgreSQL yet; "—" without an archive).',
    options,
    groups: SHARED_GROUPS,
    examples: [
      'retraced queues --url http://127.0.0.1:7411',
      'retraced queues list --redis redis://127.0.0.1:6379 --json',
    ],
  },
  async ({ values }, out) => {
    const queues = await withClient(values, (c) => c.queues());
    out.result({ queues }, () =>
      out.table(
        [
          { header: 'QUEUE' },
          { header: 'STATUS' },
          ...JobStates.map((s) => ({ header: s.toUpperCase(), align: 'right' as const })),
          { header: 'EVICTED', align: 'right' as const },
          { header: 'UNARCHIVED', align: 'right' as const },
        ],
        queues.map((q) => [
          q.name,
          q.paused ? out.paint('yellow', 'paused') : 'running',
          ...JobStates.map((s) => String(q.counts[s] ?? 0)),
          q.evictions ? String(q.evictions.completed + q.evictions.dead + q.evictions.cancelled) : '?',
          q.archive?.enabled ? String(q.archive.pending) : '—',
        ]),
        '(no queues yet)',
      ),
    );
  },
);

function toggle(paused: boolean) {
  const verb = paused ? 'pause' : 'resume';
  return command(
    {
      name: `queues ${verb}`,
      usage: 'QUEUE',
      args: ['QUEUE'],
      summary: paused
        ? 'Pauses a queue: workers stop claiming its jobs; jobs in flight finish, nothing is lost.'
        : 'Resumes a paused queue: workers claim its jobs again.',
      options,
      groups: SHARED_GROUPS,
      examples: [`retraced queues ${verb} emails --url http://127.0.0.1:7411`],
    },
    async ({ values, positionals }, out) => {
      const queue = positionals[0] as string;
      const res = await withClient(values, (client) => client.setPaused(queue, paused));
      out.result(res, () => out.line(`queue ${res.name} is ${res.paused ? 'paused' : 'running'}`));
    },
  );
}

export const queues = group(
  'queues',
  'Lists queues with their counts; pauses and resumes them.',
  [list, toggle(true), toggle(false)],
  'list',
);
