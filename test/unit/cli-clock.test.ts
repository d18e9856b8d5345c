/**
 * Regression (fault suite, scenario 7, clock skew): `retraced dlq list|replay|purge --since 30m`
 * counted back from the CLI machine's clock, while dead jobs are stamped by Redis. On a machine ten
 * minutes ahead `--since 5m` matched nothing; ten minutes behind, it matched ten minutes too many
 * (and `dlq purge` purged them). Relative times now count back from the scheduler's clock.
 */
import { describe, expect, it } from 'vitest';

import { agoValue } from '../../src/cli/args.js';
import { filterFrom, onSchedulerClock } from '../../src/cli/commands/dlq-filter.js';

const SCHEDULER_NOW = 1_800_000_000_000;
const scheduler = { now: async () => SCHEDULER_NOW };

describe('DLQ time filters on the scheduler clock', () => {
  it('counts --since and --until back from the scheduler, whatever the local clock says', async () => {
    const values = { since: '30m', until: '2h' } as const;
    const filter = await onSchedulerClock(filterFrom(values), values, scheduler);
    expect(filter.from).toBe(SCHEDULER_NOW - 30 * 60_000);
    expect(filter.to).toBe(SCHEDULER_NOW - 2 * 3_600_000);
  });

  it('keeps absolute times as given and asks the scheduler nothing', async () => {
    let asked = 0;
    const values = { since: '2026-11-29T10:00:00Z', until: '1795000000000', reason: 'exhausted' } as const;
    const filter = await onSchedulerClock(filterFrom(values), values, {
      now: async () => {
        asked++;
        return 0;
      },
    });
    expect(filter).toEqual({
      from: Date.parse('2026-11-29T10:00:00Z'),
      to: 1795000000000,
      reason: ['exhausted'],
    });
    expect(asked).toBe(0);
  });

  it('mixes one relative and one absolute bound', async () => {
    const values = { since: '1795000000000', until: '90s' } as const;
    const filter = await onSchedulerClock(filterFrom(values), values, scheduler);
    expect(filter).toEqual({ from: 1795000000000, to: SCHEDULER_NOW - 90_000 });
  });

  it('tells relative from absolute forms', () => {
    expect(agoValue('30m', '--since')).toBe(1_800_000);
    expect(agoValue('1.5h', '--since')).toBe(5_400_000);
    expect(agoValue('1795000000000', '--since')).toBeUndefined();
    expect(agoValue('2026-11-29', '--since')).toBeUndefined();
    expect(agoValue(undefined, '--since')).toBeUndefined();
  });
});
