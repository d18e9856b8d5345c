/**
 * `retraced workers QUEUE`: the live workers of a queue (each Worker beats in its queue's
 * registry), with host, pid, concurrency, jobs in flight, last heartbeat and version; and, when
 * there is none, since when.
 * @module
 */
import { formatDuration } from '../../duration.js';
import { CONNECTION_OPTIONS, OUTPUT_OPTIONS, SHARED_GROUPS, type OptionSpecs } from '../args.js';
import { command, withClient } from '../command.js';
import { when } from '../output.js';

const options = { ...CONNECTION_OPTIONS, ...OUTPUT_OPTIONS } as const satisfies OptionSpecs;

export const workers = command(
  {
    name: 'workers',
    usage: 'QUEUE',
    args: ['QUEUE'],
    summary:
      'Lists the live workers of a queue: id, host, pid, concurrency, jobs in flight, last heartbeat, version (entries expire after three missed heartbeats).',
    options,
    groups: SHARED_GROUPS,
    examples: ['retraced workers emails --url http://127.0.0.1:7411', 'retraced workers emails --json'],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const r = await withClient(values, (c) => c.workers(queue));
    out.result(r, () => {
      out.table(
        [
          { header: 'ID' },
          { header: 'HOST' },
          { header: 'PID', align: 'right' },
          { header: 'IN FLIGHT', align: 'right' },
          { header: 'LAST HEARTBEAT' },
          { header: 'UP' },
          { header: 'VERSION' },
          { header: 'QUEUES' },
        ],
        r.workers.map((w) => [
          w.id,
          w.host,
          String(w.pid),
          `${w.inFlight}/${w.concurrency}`,
          when(w.heartbeatAt, r.now),
          formatDuration(Math.max(0, r.now - w.startedAt)),
          w.version,
          w.queues.join(','),
        ]),
        r.lastSeenAt === undefined
          ? `(no worker has ever registered on ${queue})`
          : `(no live worker on ${queue}; last seen ${formatDuration(Math.max(0, r.now - r.lastSeenAt))} ago)`,
      );
    });
  },
);
