/**
 * `retraced budget QUEUE [--ratio R [--window S] [--min N] [--on-exhausted defer|dead]] [--name NAME]
 * [--remove]`: shows the queue's retry budgets, or sets / removes the queue's or a job name's own.
 * @module
 */
import { ValidationError } from '../../errors.js';
import type { RetryBudget } from '../../retry-budget.js';
import { CONNECTION_OPTIONS, OUTPUT_OPTIONS, SHARED_GROUPS, type OptionSpecs } from '../args.js';
import { command, withClient } from '../command.js';

const options = {
  ratio: {
    type: 'string',
    arg: 'R',
    help: 'retries ≤ R × first attempts of the window (0.2 = 20 %); sets the budget',
  },
  window: {
    type: 'string',
    arg: 'SECONDS',
    help: 'the sliding window in whole seconds, 1 to 3600 [default: 10]',
  },
  min: { type: 'string', arg: 'N', help: 'retries always allowed per second [default: 10]' },
  'on-exhausted': {
    type: 'string',
    arg: 'defer|dead',
    help: 'over budget: defer the retry, or dead-letter it [default: defer]',
  },
  name: { type: 'string', arg: 'NAME', help: "a job name's own budget instead of the queue's" },
  remove: { type: 'boolean', help: "remove the budget (the queue's, or --name's)" },
  ...CONNECTION_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

function num(value: string, flag: string, rule: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new ValidationError(flag, rule, value);
  return n;
}

export const budget = command(
  {
    name: 'budget',
    usage: 'QUEUE [--ratio R [--window S] [--min N] [--on-exhausted defer|dead]] [--name NAME] [--remove]',
    args: ['QUEUE'],
    brief: "Shows or sets a queue's retry budget (a storm guard).",
    summary:
      "Shows the queue's retry budgets, or sets one: automatic retries may be at most --ratio × the first attempts of a sliding --window, plus --min per second; a retry over budget is deferred (or dead-lettered with reason budget), its decision saying why. With --name, that job name's own budget.",
    options,
    groups: SHARED_GROUPS,
    examples: [
      'retraced budget emails --ratio 0.2 --window 10 --min 5 --url http://127.0.0.1:7411',
      'retraced budget emails --name digest --remove --redis redis://127.0.0.1:6379',
      'retraced budget emails --json --url http://127.0.0.1:7411',
    ],
  },
  async ({ values, positionals }, out) => {
    const queue = positionals[0] as string;
    const setting = values.ratio !== undefined;
    if (!setting && !values.remove) {
      for (const flag of ['window', 'min', 'on-exhausted'] as const) {
        if (values[flag] !== undefined) throw new ValidationError(`--${flag}`, 'given only with --ratio');
      }
    }
    if (setting && values.remove) throw new ValidationError('--ratio', 'not given with --remove');
    let budgets;
    if (setting || values.remove) {
      let b: RetryBudget | null = null;
      if (setting) {
        const onExhausted = values['on-exhausted'];
        if (onExhausted !== undefined && onExhausted !== 'defer' && onExhausted !== 'dead') {
          throw new ValidationError('--on-exhausted', "'defer' or 'dead'", onExhausted);
        }
        b = {
          ratio: num(values.ratio as string, '--ratio', 'a number from 0 to 10'),
          ...(values.window !== undefined
            ? { windowMs: num(values.window, '--window', 'whole seconds from 1 to 3600') * 1000 }
            : {}),
          ...(values.min !== undefined
            ? { minPerSecond: num(values.min, '--min', 'an integer from 0 to 100000') }
            : {}),
          ...(onExhausted !== undefined ? { onExhausted } : {}),
        };
      }
      budgets = await withClient(values, (c) => c.setRetryBudget(queue, values.name, b));
    } else {
      budgets = await withClient(values, (c) => c.retryBudgets(queue));
    }
    out.result({ budgets }, () =>
      out.table(
        [
          { header: 'SCOPE' },
          { header: 'RATIO', align: 'right' },
          { header: 'WINDOW', align: 'right' },
          { header: 'MIN/S', align: 'right' },
          { header: 'OVER BUDGET' },
          { header: 'BOOKED UNTIL' },
        ],
        budgets.map((b) => [
          b.name === null ? '(queue)' : b.name,
          `${Math.round(b.ratio * 1000) / 10} %`,
          `${b.windowMs / 1000} s`,
          String(b.minPerSecond),
          b.onExhausted,
          b.bookedUntil > 0 ? new Date(b.bookedUntil).toISOString() : '-',
        ]),
        '(no retry budget)',
      ),
    );
  },
);
