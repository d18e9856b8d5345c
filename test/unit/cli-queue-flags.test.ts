import { describe, expect, it } from 'vitest';

import { queueFlags } from '../../src/cli/commands/worker.js';
import { ValidationError } from '../../src/errors.js';
import { UsageError } from '../../src/cli/exit-codes.js';

describe('retraced worker --queue NAME[:WEIGHT]', () => {
  it('reads names with weights, repeated or comma-separated, weight 1 by default', () => {
    expect(queueFlags(['emails'])).toEqual([{ name: 'emails', weight: 1 }]);
    expect(queueFlags(['emails:3', 'reports'])).toEqual([
      { name: 'emails', weight: 3 },
      { name: 'reports', weight: 1 },
    ]);
    expect(queueFlags(['a:3,b:1', 'c:1000'])).toEqual([
      { name: 'a', weight: 3 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1000 },
    ]);
  });

  it('refuses a bad name, a bad weight, a queue given twice, naming the flag', () => {
    const bad: [string[], typeof ValidationError | typeof UsageError, string][] = [
      [['a:0'], ValidationError, '--queue a:WEIGHT must be an integer between 1 and 1000, received "0"'],
      [
        ['a:1001'],
        ValidationError,
        '--queue a:WEIGHT must be an integer between 1 and 1000, received "1001"',
      ],
      [['a:x'], ValidationError, '--queue a:WEIGHT must be an integer between 1 and 1000, received "x"'],
      [['a', 'b,a:2'], UsageError, '--queue a is given twice'],
      [
        ['-bad'],
        ValidationError,
        "--queue must be 1-64 characters of letters, digits, '_', '.' or '-', starting with a letter or digit",
      ],
      [[''], ValidationError, '--queue must be'],
    ];
    for (const [raw, type, message] of bad) {
      let caught: unknown;
      try {
        queueFlags(raw);
      } catch (e) {
        caught = e;
      }
      expect(caught, raw.join(' ')).toBeInstanceOf(type);
      expect((caught as Error).message.startsWith(message), (caught as Error).message).toBe(true);
    }
  });
});
