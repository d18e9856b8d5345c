import { describe, expect, it } from 'vitest';

import { errorLine, lastErrorOf, summariseJob } from '../../src/summary.js';
import type { Attempt, Job } from '../../src/types.js';

const attempt = (n: number, outcome: Attempt['outcome'], error?: Attempt['error']): Attempt =>
  ({ n, outcome, ...(error ? { error } : {}) }) as Attempt;
const job = (attempts: Attempt[], extra: Partial<Job> = {}): Job =>
  ({ id: '7', name: 'send', state: 'completed', createdAt: 1, dueAt: 2, attempts, ...extra }) as Job;

const boom = { name: 'Error', message: 'boom', code: 'ECONNRESET', stack: 'at x' };
const late = { name: 'TimeoutError', message: 'took too long' };

describe('lastErrorOf: one meaning of "last error"', () => {
  it.each<[string, Attempt[], unknown]>([
    ['no attempts', [], undefined],
    ['a success only', [attempt(1, 'succeeded')], undefined],
    ['the failure before a success', [attempt(1, 'failed', boom), attempt(2, 'succeeded')], boom],
    ['the most recent of two errors', [attempt(1, 'failed', boom), attempt(2, 'timed_out', late)], late],
    ['the failure before a cancel', [attempt(1, 'failed', boom), attempt(2, 'cancelled')], boom],
    ['a stall', [attempt(1, 'stalled', late)], late],
  ])('%s', (_what, attempts, expected) => {
    expect(lastErrorOf({ attempts })).toEqual(expected);
  });
});

describe('summariseJob', () => {
  it('keeps name, message and code of the last error, never its stack', () => {
    expect(
      summariseJob(job([attempt(1, 'failed', boom), attempt(2, 'succeeded')], { finishedAt: 9 })),
    ).toEqual({
      id: '7',
      name: 'send',
      state: 'completed',
      createdAt: 1,
      dueAt: 2,
      attempts: 2,
      lastError: { name: 'Error', message: 'boom', code: 'ECONNRESET' },
      finishedAt: 9,
    });
  });

  it('leaves out what a job does not have', () => {
    expect(summariseJob(job([], { state: 'waiting' }))).toEqual({
      id: '7',
      name: 'send',
      state: 'waiting',
      createdAt: 1,
      dueAt: 2,
      attempts: 0,
    });
    expect(summariseJob(job([attempt(1, 'failed', late)])).lastError).toEqual(late);
  });

  it('errorLine prints one as Name: message [CODE]', () => {
    expect(errorLine(boom)).toBe('Error: boom [ECONNRESET]');
    expect(errorLine(late)).toBe('TimeoutError: took too long');
  });
});
