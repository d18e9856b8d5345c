/**
 * `retraced rate-limit QUEUE [--rate N [--per DURATION] [--burst N]] [--group KEY | --each-group]
 * [--remove]`: shows the queue's rate limits, or sets / removes the queue's, the default group
 * limit or one group's own.
 * @module
 */
import { ValidationError } from '../../errors.js';
import type { RateLimit, RateLimitSettings, RateLimitsView } from '../../rate-limit.js';
import {
  CONNECTION_OPTIONS,
  durationValue,
  intValue,
  OUTPUT_OPTIONS,
  SHARED_GROUPS,
  type OptionSpecs,
} from '../args.js';
import { command, withClient } from '../command.js';
import type { Output } from '../output.js';

const options = {
  rate: { type: 'string', arg: 'N', help: 'jobs per --per (fractions allowed: 0.5); sets the limit' },
  per: { type: 'string', arg: 'DURATION', help: 'the period of --rate, e.g. 1s, 1m [default: 1s]' },
  burst: {
    type: 'string',
    arg: 'N',
    help: 'most jobs started at once after a quiet spell [default: --rate rounded up]',
  },
  group: { type: 'string', arg: 'KEY', help: "one group's own limit instead of the queue's" },
  'each-group': { type: 'boolean', help: 'the limit of each group without its own' },
  remove: { type: 'boolean', help: "remove the limit (the queue's, --group's or --each-group's)" },
  ...CONNECTION_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

export const rateLimit = command(
  {
    name: 'rate-limit',
    usage: 'QUEUE [--rate N [--per DURATION] [--burst N]] [--group KEY | --each-group] [--remove]',
    args: ['QUEUE'],
    brief: "Shows or sets a queue's rate limits (per queue, per group).",
    summary:
      "Shows the queue's rate limits, or sets one: a token bucket of --rate jobs per --per, up to --burst at once, for the whole queue, for each group (--each-group: jobs added with --group take turns, each group under this limit) or for one group (--group KEY). Claims enforce it with the backend's clock; a job held back waits, and its attempt records how long.",
    options,
    groups: SHARED_GROUPS,
    examples: [
      'retraced rate-limit emails --rate 100 --url http://127.0.0.1:7411',
      'retraced rate-limit emails --each-group --rate 10 --burst 20 --redis redis://127.0.0.1:6379',
      'retraced rate-limit emails --group tenant-42 --rate 2 --per 1m',
      'retraced rate-limit emails --group tenant-42 --remove',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const setting = values.rate !== undefined;
    if (!setting) {
      for (const flag of ['per', 'burst'] as const) {
        if (values[flag] !== undefined) throw new ValidationError(`--${flag}`, 'given only with --rate');
      }
    }
    if (setting && values.remove) throw new ValidationError('--rate', 'not given with --remove');
    if (values.group !== undefined && values['each-group']) {
      throw new ValidationError('--each-group', 'not given with --group');
    }
    if (!setting && !values.remove && (values.group !== undefined || values['each-group'])) {
      throw new ValidationError(
        values.group !== undefined ? '--group' : '--each-group',
        'given with --rate or --remove',
      );
    }
    let view: RateLimitsView;
    if (setting || values.remove) {
      let limit: RateLimit | null = null;
      if (setting) {
        const rate = Number(values.rate);
        if ((values.rate as string).trim() === '' || !Number.isFinite(rate)) {
          throw new ValidationError('--rate', 'a number between 0.001 and 1000000', values.rate);
        }
        const per = durationValue(values.per, '--per');
        const burst = intValue(values.burst, '--burst', 1, 1_000_000);
        limit = { rate, ...(per !== undefined ? { per } : {}), ...(burst !== undefined ? { burst } : {}) };
      }
      const settings: RateLimitSettings =
        values.group !== undefined
          ? { groups: { [values.group]: limit } }
          : values['each-group']
            ? { group: limit }
            : { queue: limit };
      view = await withClient(values, (c) => c.setRateLimits(queue, settings));
    } else {
      view = await withClient(values, (c) => c.rateLimits(queue));
    }
    out.result(view, () => print(out, view));
  },
);

function print(out: Output, v: RateLimitsView): void {
  const row = (scope: string, l: RateLimitsView['queue']): string[] =>
    l ? [scope, l.label, String(l.burst)] : [scope, '-', '-'];
  out.table(
    [{ header: 'SCOPE' }, { header: 'LIMIT' }, { header: 'BURST', align: 'right' }],
    [
      row('(queue)', v.queue),
      row('(each group)', v.group),
      ...Object.entries(v.groups).map(([g, l]) => row(g, l)),
    ],
    '(no rate limit)',
  );
  if (v.queueNextTokenAt !== undefined) {
    out.line(`the queue's next token: ${new Date(v.queueNextTokenAt).toISOString()}`);
  }
}
