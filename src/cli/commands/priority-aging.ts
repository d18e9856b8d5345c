/**
 * `retraced priority-aging QUEUE [--every DURATION | --off]`: shows or sets how fast a waiting job
 * gains priority, so that low priorities cannot starve (`queue.setPriorityAging`).
 * @module
 */
import { ValidationError } from '../../errors.js';
import { formatDuration } from '../../duration.js';
import {
  CONNECTION_OPTIONS,
  durationValue,
  OUTPUT_OPTIONS,
  SHARED_GROUPS,
  type OptionSpecs,
} from '../args.js';
import { command, withClient } from '../command.js';

const options = {
  every: {
    type: 'string',
    arg: 'DURATION',
    help: 'a waiting job gains one priority level per DURATION waited (e.g. 30s, 5m)',
  },
  off: { type: 'boolean', help: 'strict order between priorities (no aging)' },
  ...CONNECTION_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

export const priorityAging = command(
  {
    name: 'priority-aging',
    usage: 'QUEUE [--every DURATION | --off]',
    args: ['QUEUE'],
    brief: "Shows or sets a queue's priority aging (so low priorities cannot starve).",
    summary:
      "Shows the queue's priority aging, or sets it: with --every, a waiting job's effective priority rises by one level per DURATION it has waited, so a steady stream of high-priority jobs cannot starve the others; --off restores strict order between priorities (FIFO within one). Claims apply it with the backend's clock; `jobs why` says when aging put a job ahead.",
    options,
    groups: SHARED_GROUPS,
    examples: [
      'retraced priority-aging emails --url http://127.0.0.1:7411',
      'retraced priority-aging emails --every 30s --redis redis://127.0.0.1:6379',
      'retraced priority-aging emails --off',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    if (values.every !== undefined && values.off) {
      throw new ValidationError('--every', 'not given with --off');
    }
    const every = durationValue(values.every, '--every');
    if (every !== undefined && every < 1) throw new ValidationError('--every', 'at least 1 ms', values.every);
    const agingMs = await withClient(values, (c) =>
      every !== undefined || values.off ? c.setPriorityAging(queue, every ?? 0) : c.priorityAging(queue),
    );
    out.result({ queue, agingMs }, () =>
      out.line(
        agingMs > 0
          ? `${queue}: a waiting job gains one priority level per ${formatDuration(agingMs)} waited`
          : `${queue}: strict order between priorities (no aging)`,
      ),
    );
  },
);
