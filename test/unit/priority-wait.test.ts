import { describe, expect, it } from 'vitest';

import { agedPriority, priorityAhead, priorityWait, priorityWaitExplanation } from '../../src/transitions.js';

describe('priority waits (the attempt record of a job claimed after higher priorities)', () => {
  it('counts the jobs of other levels claimed since the job was pushed, not those of its own level', () => {
    // 1,240 claimed in all since, 17 of them of its own level (before it in its FIFO).
    expect(priorityAhead(5_000 + 1_240, 5_000, 300 + 17, 300)).toBe(1_223);
    expect(priorityAhead(10, 10, 4, 4)).toBe(0);
    // Only its own level ran: nothing of a higher priority.
    expect(priorityAhead(12, 10, 6, 4)).toBe(0);
    // Pushed before the counters existed: its snapshot is 0, 0.
    expect(priorityAhead(3, 0, 1, 0)).toBe(2);
  });

  it('ages a priority one level per aging step waited, never for a negative wait, not without aging', () => {
    expect(agedPriority(5, 2_400, 0)).toBe(5);
    expect(agedPriority(5, 2_400, 1_000)).toBe(7);
    expect(agedPriority(5, 999, 1_000)).toBe(5);
    expect(agedPriority(-3, 3_000, 1_000)).toBe(0);
    expect(agedPriority(2, -50, 1_000)).toBe(2);
  });

  it('writes the record and its sentence', () => {
    expect(priorityWait(5, 7, 2_400, 1_240)).toEqual({
      priority: 5,
      effective: 7,
      waitedMs: 2_400,
      ahead: 1_240,
      explanation: 'priority 5 (aged to 7): waited 2400 ms while 1240 jobs of higher priority ran',
    });
    expect(priorityWaitExplanation(0, 0, 35, 1)).toBe(
      'priority 0: waited 35 ms while 1 job of higher priority ran',
    );
    expect(priorityWaitExplanation(-2, -2, 0, 3)).toBe(
      'priority -2: waited 0 ms while 3 jobs of higher priority ran',
    );
  });
});
