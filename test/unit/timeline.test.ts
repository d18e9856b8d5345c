import { describe, expect, it } from 'vitest';

import { scheduledTick } from '../../src/schedule.js';
import { renderTimeline, responseLine } from '../../src/timeline.js';
import { priorityWait } from '../../src/transitions.js';
import type { Attempt, Job } from '../../src/types.js';

const T = Date.UTC(2026, 0, 1, 12, 0, 0);

function failed(n: number, extra: Partial<Attempt> = {}): Attempt {
  return {
    n,
    trigger: 'auto',
    dueAt: T,
    startedAt: T + 5,
    finishedAt: T + 25,
    driftMs: 5,
    workerId: 'w1',
    outcome: 'failed',
    error: { name: 'Error', message: 'over quota', code: 'E_QUOTA' },
    errorClass: 'permanent',
    rule: 'code:E_QUOTA',
    decision: {
      action: 'dead',
      reason: 'permanent',
      explanation: 'permanent error (code:E_QUOTA): not retried',
    },
    ...extra,
  };
}

function job(attempts: Attempt[]): Job {
  return {
    id: '1',
    queue: 'q',
    name: 'n',
    data: null,
    state: 'dead',
    createdAt: T,
    dueAt: T,
    priority: 0,
    options: { retry: { phases: [], maxAttempts: 1 }, timeoutMs: 0, maxStalls: 3 },
    attempts,
    stalls: 0,
    failures: attempts.length,
    refusals: [],
  };
}

describe('renderTimeline', () => {
  it("says when the worker's own table classified an attempt (the job carried none)", () => {
    const classLines = (a: Attempt): string[] =>
      renderTimeline(job([a]))
        .split('\n')
        .filter((l) => l.includes('class '));
    expect(classLines(failed(1))).toEqual(['       class permanent (rule code:E_QUOTA)']);
    expect(classLines(failed(1, { classifiedBy: 'worker' }))).toEqual([
      "       class permanent (rule code:E_QUOTA, by the worker's table)",
    ]);
  });

  it('says what decided when it ran: its scheduler tick, a rate limit, higher priorities (as recorded)', () => {
    const waitLines = (a: Attempt): string[] =>
      renderTimeline(job([a]))
        .split('\n')
        .filter((l) => l.includes('waited: ') || l.includes('scheduler '));
    expect(waitLines(failed(1))).toEqual([]);
    expect(
      waitLines(
        failed(1, {
          rateLimit: {
            scope: 'group',
            group: 'tenant-42',
            limit: '10/s',
            waitedMs: 340,
            explanation: 'rate limit tenant-42: 10/s, waited 340 ms',
          },
          priority: priorityWait(5, 7, 2400, 1240),
          schedule: scheduledTick('nightly', 'once', T, T + 340, 2),
        }),
      ),
    ).toEqual([
      '       waited: rate limit tenant-42: 10/s, waited 340 ms',
      '       scheduler nightly: tick planned 12:00:00.000, created 340 ms after its planned time; 2 earlier occurrences missed (missed policy once)',
      '       waited: priority 5 (aged to 7): waited 2400 ms while 1240 jobs of higher priority ran',
    ]);
  });

  it('names the priority of a job that has one other than 0', () => {
    const created = (j: Job): string | undefined =>
      renderTimeline(j)
        .split('\n')
        .find((l) => l.includes('created '));
    expect(created({ ...job([]), priority: 5 })).toContain('attempts, priority 5');
    expect(created(job([]))).not.toContain('priority');
  });

  it('says how many adds were folded into the job, under which key', () => {
    const folded = renderTimeline({
      ...job([]),
      dedup: { mode: 'debounce', key: 'doc-7' },
      folded: { count: 3, lastAt: T + 1500 },
    })
      .split('\n')
      .filter((l) => l.includes('folded'));
    expect(folded).toEqual([
      '  3 adds folded into this job (debounce key "doc-7"), the last at 12:00:01.500 UTC',
    ]);
    const keyOnly = renderTimeline({ ...job([]), dedup: { mode: 'dedup', key: 'k' } }).split('\n');
    expect(keyOnly).toContain('  dedup key "k"');
  });
});

describe('renderTimeline: progress and logs', () => {
  it('prints each attempt’s progress and lines under it, escaped, the newest 20 only', () => {
    const lines = Array.from({ length: 22 }, (_, i) => ({ at: T + 10 + i, line: `step ${i}` }));
    const a = failed(1, {
      progress: { value: { done: 3 }, at: T + 9 },
      logs: [{ at: T + 8, line: 'red \u001b[31m text\nnext' }, ...lines],
      logsDropped: 2,
    });
    const out = renderTimeline(job([a])).split('\n');
    const start = out.findIndex((l) => l.includes('progress'));
    expect(out.slice(start)).toEqual([
      '       progress {"done":3} at 12:00:00.009',
      '       … 3 earlier log lines (jobs show --json has them all)',
      ...lines.slice(2).map((l, i) => `       log 12:00:00.0${12 + i} step ${i + 2}`),
      '       2 log lines dropped (over the per-attempt bound)',
    ]);
    const one = renderTimeline(job([failed(1, { logs: [{ at: T, line: 'red \u001b[31m text\nnext' }] })]));
    expect(one).toContain('log 12:00:00.000 red \\u001b[31m text\\u000anext');
  });

  it('shows an attempt’s HTTP response in one line', () => {
    const response = {
      status: 503,
      ms: 1234,
      headers: { 'retry-after': '5' },
      body: 'busy',
      bodyBytes: 4,
      redirects: 1,
    };
    expect(responseLine(response)).toBe('response 503 in 1.2 s after 1 redirect, 4 bytes; retry-after: 5');
    expect(responseLine({ status: 200, ms: 3, headers: {}, body: '', bodyBytes: 1 })).toBe(
      'response 200 in 3 ms, 1 byte',
    );
    const out = renderTimeline(job([failed(1, { response })]));
    expect(out).toContain('response 503 in 1.2 s after 1 redirect, 4 bytes; retry-after: 5');
  });

  it('says when a rate limit held the claim back, and when a handler paused its group', () => {
    const waited = failed(1, {
      rateLimit: {
        scope: 'group',
        group: 'tenant-42',
        limit: '10/s',
        waitedMs: 340,
        explanation: 'rate limit tenant-42: 10/s, waited 340 ms',
      },
    });
    const paused = failed(2, {
      outcome: 'rate_limited',
      pause: { scope: 'group', group: 'tenant-42', ms: 30_000 },
    });
    const lines = renderTimeline(job([waited, paused])).split('\n');
    expect(lines.filter((l) => l.includes('waited: '))).toEqual([
      '       waited: rate limit tenant-42: 10/s, waited 340 ms',
    ]);
    expect(lines.filter((l) => l.includes('paused '))).toEqual([
      '       paused group tenant-42 for 30 s (upstream rate limit; not a failed attempt)',
    ]);
    const queue = renderTimeline(
      job([failed(1, { outcome: 'rate_limited', pause: { scope: 'queue', ms: 500 } })]),
    );
    expect(queue).toContain('paused the queue for 500 ms (upstream rate limit; not a failed attempt)');
  });
});
