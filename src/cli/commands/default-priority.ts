/**
 * `retraced default-priority QUEUE [--set N]`: shows or sets the priority that jobs added without
 * one get, stored with the queue so that every producer applies it (`queue.setDefaultPriority`).
 * @module
 */
import { MAX_PRIORITY, MIN_PRIORITY } from '../../transitions.js';
import { CONNECTION_OPTIONS, intValue, OUTPUT_OPTIONS, SHARED_GROUPS, type OptionSpecs } from '../args.js';
import { command, withClient } from '../command.js';

const options = {
  set: {
    type: 'string',
    arg: 'N',
    help: `the priority of jobs added without one, ${MIN_PRIORITY} … ${MAX_PRIORITY} (higher runs first; 0 = none)`,
  },
  ...CONNECTION_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

export const defaultPriority = command(
  {
    name: 'default-priority',
    usage: 'QUEUE [--set N]',
    args: ['QUEUE'],
    brief: 'Shows or sets the priority of jobs added to a queue without one.',
    summary:
      'Shows the priority that jobs added without one get, or sets it with --set. It is stored with the queue, so every producer applies it: the HTTP API, `retraced add`, and Queue objects without their own defaultPriority option; schedulers take it when created or updated. Jobs already added keep theirs.',
    options,
    groups: SHARED_GROUPS,
    examples: [
      'retraced default-priority emails --url http://127.0.0.1:7411',
      'retraced default-priority emails --set 5 --redis redis://127.0.0.1:6379',
      'retraced default-priority emails --set 0',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const set = intValue(values.set, '--set', MIN_PRIORITY, MAX_PRIORITY);
    const priority = await withClient(values, (c) =>
      set !== undefined ? c.setDefaultPriority(queue, set) : c.defaultPriority(queue),
    );
    out.result({ queue, priority }, () =>
      out.line(
        priority !== 0
          ? `${queue}: jobs added without a priority get ${priority}`
          : `${queue}: jobs added without a priority get 0 (none set)`,
      ),
    );
  },
);
