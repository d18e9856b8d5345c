/**
 * `retraced retry-plan --policy JSON`: what a retry policy will do, computed locally (it is a pure
 * function of the policy), without running or storing anything.
 * @module
 */
import { previewPolicy, resolveRetryPolicy } from '../../backoff.js';
import { formatDuration, formatDurationRange, formatOffset } from '../../duration.js';
import { ValidationError } from '../../errors.js';
import type { RetryPolicy } from '../../types.js';
import { jsonValue, OUTPUT_OPTIONS, type OptionSpecs } from '../args.js';
import { command } from '../command.js';

const options = {
  policy: { type: 'string', arg: 'JSON', help: 'the retry policy, as JSON or @file.json (required)' },
  random: {
    type: 'string',
    arg: 'U',
    help: 'the jitter draw in [0, 1) used for the "delay" column [default: 0.5]',
  },
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

export const retryPlan = command(
  {
    name: 'retry-plan',
    usage: '--policy JSON',
    brief: "Previews a retry policy's schedule without running anything.",
    summary:
      "Previews a retry policy's schedule: each retry's delay, the range jitter allows, when it happens relative to the first failure, and why. Nothing runs.",
    options,
    groups: [{ title: 'Output', options: OUTPUT_OPTIONS }],
    examples: [
      `retraced retry-plan --policy '{"attempts":5,"backoff":{"type":"exponential","delayMs":1000,"jitter":"full"}}'`,
      `retraced retry-plan --policy '{"phases":[{"retries":2,"backoff":{"type":"immediate"}},{"retries":3,"backoff":{"type":"fixed","delayMs":60000}}]}'`,
    ],
  },
  async ({ values }, out) => {
    if (values.policy === undefined) {
      throw new ValidationError('--policy', 'a retry policy as JSON, such as {"attempts":3}');
    }
    // Resolved here first so that errors name `policy.…`, the flag the user wrote.
    const policy = resolveRetryPolicy(jsonValue(values.policy, '--policy') as RetryPolicy, 'policy');
    const u = values.random === undefined ? 0.5 : Number(values.random);
    if (!(u >= 0 && u < 1)) throw new ValidationError('--random', 'a number in [0, 1)', values.random);
    const preview = previewPolicy(policy, { random: () => u });
    out.result(preview, () => {
      out.table(
        [
          { header: 'ATTEMPT', align: 'right' },
          { header: 'PHASE', align: 'right' },
          { header: 'DELAY', align: 'right' },
          { header: 'RANGE' },
          { header: 'AT', align: 'right' },
          { header: 'EXPLANATION' },
        ],
        preview.steps.map((s) => [
          String(s.attempt),
          String(s.phase + 1),
          formatDuration(s.delayMs),
          formatDurationRange(s.minDelayMs, s.maxDelayMs),
          formatOffset(s.atMs),
          s.explanation,
        ]),
        '(no retries)',
      );
      out.line();
      out.line(
        `up to ${preview.maxAttempts} attempt${preview.maxAttempts === 1 ? '' : 's'}: ${preview.summary}`,
      );
    });
  },
);
