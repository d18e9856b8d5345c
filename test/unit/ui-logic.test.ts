/**
 * The dashboard's pure logic, exactly: its URLs, the attempt timeline's and the retry plan's
 * geometry, live rates from events, event-stream framing and how times read.
 */
import { describe, expect, it } from 'vitest';

import { ago, formatSigned, formatTime, perMinute } from '../../ui/src/format.js';
import { layoutPlan } from '../../ui/src/plan.js';
import { kindsOf, RateWindow } from '../../ui/src/rates.js';
import { parseRoute, paths } from '../../ui/src/routes.js';
import { parseSse } from '../../ui/src/sse-parse.js';
import { layoutTimeline, tickStep, waitLabel } from '../../ui/src/timeline.js';
import type { Attempt } from '../../ui/src/types.js';

describe('dashboard routes', () => {
  it('parses every view from a path and a query', () => {
    expect(parseRoute('/', '')).toEqual({ view: 'overview' });
    expect(parseRoute('/ui/', '')).toEqual({ view: 'overview' });
    const jobs = parseRoute('/ui/queues/mail/jobs', '?state=dead&name=welcome');
    expect(jobs.view === 'jobs' && [jobs.queue, jobs.query.get('state'), jobs.query.get('name')]).toEqual([
      'mail',
      'dead',
      'welcome',
    ]);
    expect(parseRoute('/ui/queues/a%2Fb/jobs/x%3A1', '')).toEqual({ view: 'job', queue: 'a/b', id: 'x:1' });
    expect(parseRoute('/ui/queues/mail/dlq', '?fingerprint=ab12').view).toBe('dlq');
    expect(parseRoute('/ui/retry-plan', '').view).toBe('plan');
    expect(parseRoute('/ui/queues/mail/retries', '')).toEqual({ view: 'retries', queue: 'mail' });
    expect(paths.retries('a b')).toBe('/ui/queues/a%20b/retries');
    expect(parseRoute('/ui/queues/mail/retry-budgets', '')).toEqual({ view: 'budgets', queue: 'mail' });
    expect(paths.budgets('a b')).toBe('/ui/queues/a%20b/retry-budgets');
    const analytics = parseRoute('/ui/queues/mail/analytics', '?window=24h');
    expect(analytics.view).toBe('analytics');
    expect(analytics.view === 'analytics' && analytics.query.get('window')).toBe('24h');
    expect(paths.analytics('a b', { window: '7d', name: undefined })).toBe(
      '/ui/queues/a%20b/analytics?window=7d',
    );
    expect(parseRoute('/ui/queues/mail/analytics/x', '').view).toBe('missing');
    const sch = parseRoute('/ui/queues/mail/schedulers', '?id=nightly');
    expect(sch.view === 'schedulers' && [sch.queue, sch.query.get('id')]).toEqual(['mail', 'nightly']);
    expect(parseRoute('/ui/queues/mail/workers', '')).toEqual({ view: 'workers', queue: 'mail' });
    expect(parseRoute('/ui/queues/mail/workers/x', '').view).toBe('missing');
    expect(paths.schedulers('a b', 'sch:1')).toBe('/ui/queues/a%20b/schedulers?id=sch%3A1');
    expect(paths.schedulers('q')).toBe('/ui/queues/q/schedulers');
    expect(paths.workers('q')).toBe('/ui/queues/q/workers');
    const rl = parseRoute('/ui/queues/mail/rate-limits', '?filter=paused&group=tenant-42');
    expect(rl.view === 'rate-limits' && [rl.queue, rl.query.get('filter'), rl.query.get('group')]).toEqual([
      'mail',
      'paused',
      'tenant-42',
    ]);
    expect(parseRoute('/ui/queues/mail/rate-limits/x', '').view).toBe('missing');
    expect(paths.rateLimits('q', { group: 'a:b', cursor: undefined })).toBe(
      '/ui/queues/q/rate-limits?group=a%3Ab',
    );
    expect(paths.rateLimits('q')).toBe('/ui/queues/q/rate-limits');
  });

  it('answers missing for paths it does not know and for malformed escapes', () => {
    expect(parseRoute('/ui/queues/mail/jobs/1/extra', '')).toEqual({
      view: 'missing',
      path: '/ui/queues/mail/jobs/1/extra',
    });
    expect(parseRoute('/ui/queues/%E0%A4%A/jobs', '').view).toBe('missing');
    expect(parseRoute('/ui/queues//jobs', '').view).toBe('missing');
    expect(parseRoute('/ui/nope', '').view).toBe('missing');
  });

  it('builds links with every non-empty filter in the query, escaped', () => {
    expect(paths.jobs('mail', { state: 'dead', name: '', cursor: undefined })).toBe(
      '/ui/queues/mail/jobs?state=dead',
    );
    expect(paths.job('a b', 'x/1')).toBe('/ui/queues/a%20b/jobs/x%2F1');
    expect(paths.dlq('mail', { fingerprint: 'f&1' })).toBe('/ui/queues/mail/dlq?fingerprint=f%261');
    expect(paths.plan('{"attempts":2}')).toBe('/ui/retry-plan?policy=%7B%22attempts%22%3A2%7D');
    expect(paths.overview()).toBe('/');
    const [path, search] = paths.job('a b', 'x/1').split('?');
    expect(parseRoute(path!, search ?? '')).toEqual({ view: 'job', queue: 'a b', id: 'x/1' });
  });
});

function attempt(n: number, dueAt: number, startedAt: number, finishedAt: number, next?: number): Attempt {
  return {
    n,
    trigger: 'auto',
    dueAt,
    startedAt,
    finishedAt,
    driftMs: startedAt - dueAt,
    workerId: 'w',
    outcome: next === undefined ? 'succeeded' : 'failed',
    decision:
      next === undefined
        ? { action: 'done' }
        : {
            action: 'retry',
            delayMs: next - finishedAt,
            nextDueAt: next,
            source: 'policy',
            explanation: 'fixed',
          },
  };
}

describe('attempt timeline layout', () => {
  it('puts each attempt on its lane and each wait between them, on one linear axis', () => {
    // 1000 px of plot for 1000 ms: x = 72 + (t − 1000).
    const l = layoutTimeline(
      {
        createdAt: 1000,
        attempts: [
          attempt(1, 1000, 1010, 1110, 1510),
          attempt(2, 1510, 1520, 1620, 1900),
          attempt(3, 1900, 1910, 2000),
        ],
        now: 5000,
      },
      1096,
    );
    expect([l.t0, l.t1, l.height]).toEqual([1000, 2000, 184]);
    expect(
      l.lanes.map((x) => [x.n, x.y, x.dueX, x.startX, x.endX, x.driftMs, x.durationMs, x.outcome]),
    ).toEqual([
      [1, 16, 72, 82, 182, 10, 100, 'failed'],
      [2, 60, 582, 592, 692, 10, 100, 'failed'],
      [3, 104, 972, 982, 1072, 10, 90, 'succeeded'],
    ]);
    expect(l.waits.map((w) => [w.after, w.y, w.fromX, w.toX, w.delayMs, w.pending])).toEqual([
      [1, 16, 182, 582, 400, false],
      [2, 60, 692, 972, 280, false],
    ]);
    expect(l.ticks.map((t) => t.offsetMs)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    expect(l.ticks[10]?.x).toBe(1072);
  });

  it('runs the attempt in progress until now, and shows a pending retry until its due time', () => {
    const running = layoutTimeline(
      {
        createdAt: 1000,
        attempts: [],
        current: { n: 1, trigger: 'auto', dueAt: 1000, startedAt: 1100, workerId: 'w', leaseExpiresAt: 9000 },
        now: 2000,
      },
      1096,
    );
    expect(
      running.lanes.map((x) => [x.startX, x.endX, x.driftMs, x.durationMs, x.running, x.outcome]),
    ).toEqual([[172, 1072, 100, 900, true, 'running']]);
    const pending = layoutTimeline(
      { createdAt: 1000, attempts: [attempt(1, 1000, 1000, 1100, 2000)], nextDueAt: 2000, now: 1200 },
      1096,
    );
    expect(pending.t1).toBe(2000);
    expect(pending.waits.map((w) => [w.fromX, w.toX, w.pending])).toEqual([[172, 1072, true]]);
  });

  it('draws no wait after a retry decision that a later step overtook (dead, or nothing pending)', () => {
    const l = layoutTimeline({ createdAt: 0, attempts: [attempt(1, 0, 0, 100, 500)], now: 200 }, 1096);
    expect(l.waits).toEqual([]);
  });

  it('chooses the smallest round tick step that fits', () => {
    expect(tickStep(1000, 11)).toBe(100);
    expect(tickStep(3_600_000, 8)).toBe(600_000);
    expect(tickStep(1e12, 5)).toBe(2315 * 86_400_000);
  });

  it('labels a wait with its delay and explanation, shortened to fit', () => {
    expect(waitLabel(false, 2000, 'fixed: 2 s', 600)).toBe('waited 2 s — fixed: 2 s');
    expect(waitLabel(false, 2000, 'x'.repeat(50), 120)).toBe('waited 2 s — xxxxxx…');
    expect(waitLabel(true, 2000, 'a long explanation', 30)).toBe('next in 2 s');
  });
});

describe('retry plan layout', () => {
  it('draws each retry as the band of its possible offsets from the first failure', () => {
    const steps = [
      { attempt: 2, phase: 0, delayMs: 250, minDelayMs: 0, maxDelayMs: 500, atMs: 250, explanation: '' },
      { attempt: 3, phase: 0, delayMs: 750, minDelayMs: 0, maxDelayMs: 1500, atMs: 1000, explanation: '' },
    ];
    // 1000 px for 2000 ms: x = 96 + ms / 2.
    const p = layoutPlan(steps, 1120);
    expect([p.spanMs, p.height]).toEqual([2000, 104]);
    expect(p.rows).toEqual([
      { attempt: 2, y: 12, minX: 96, maxX: 346, atX: 221, minMs: 0, maxMs: 500 },
      { attempt: 3, y: 40, minX: 96, maxX: 1096, atX: 596, minMs: 0, maxMs: 2000 },
    ]);
  });
});

describe('live rates', () => {
  it('counts events by kind: completions, failed attempts, retries, dead letters', () => {
    expect(kindsOf({ type: 'completed', fields: {} })).toEqual(['completed']);
    expect(kindsOf({ type: 'retrying', fields: { outcome: 'failed' } })).toEqual(['failed', 'retried']);
    expect(kindsOf({ type: 'dead', fields: { outcome: 'timed_out' } })).toEqual(['failed', 'dead']);
    expect(kindsOf({ type: 'dead', fields: { outcome: 'stalled' } })).toEqual(['dead']);
    expect(kindsOf({ type: 'stalled', fields: {} })).toEqual(['retried']);
    expect(kindsOf({ type: 'added', fields: {} })).toEqual([]);
  });

  it('totals a window and buckets the recent past, forgetting what is older than it keeps', () => {
    const w = new RateWindow(60_000);
    w.add('q', { type: 'completed', fields: {} }, 0);
    w.add('q', { type: 'completed', fields: {} }, 30_000);
    w.add('q', { type: 'retrying', fields: { outcome: 'failed' } }, 55_000);
    w.add('q', { type: 'completed', fields: {} }, 65_000);
    expect(w.totals('q', 70_000, 60_000)).toEqual({ completed: 2, failed: 1, retried: 1, dead: 0 });
    expect(w.totals('q', 70_000, 10_000)).toEqual({ completed: 1, failed: 0, retried: 0, dead: 0 });
    expect(w.totals('other', 70_000, 60_000)).toEqual({ completed: 0, failed: 0, retried: 0, dead: 0 });
    // Buckets [30 s, 40 s), …, [60 s, 70 s), each labelled with its end, in seconds.
    expect(w.buckets('q', 70_000, 10_000, 4, ['completed', 'failed'])).toEqual([
      [40, 50, 60, 70],
      [1, 0, 0, 1],
      [0, 0, 1, 0],
    ]);
  });

  it('writes rates per minute', () => {
    expect(perMinute(30, 60_000)).toBe('30/min');
    expect(perMinute(1, 40_000)).toBe('1.5/min');
    expect(perMinute(1, 30_000)).toBe('2/min');
    expect(perMinute(0, 60_000)).toBe('0/min');
    expect(perMinute(5, 0)).toBe('0/min');
  });
});

describe('event-stream framing', () => {
  it('takes the data of complete events and keeps the incomplete rest', () => {
    expect(parseSse('event: completed\nid: q:1\ndata: {"a":1}\n\n: heartbeat\n\ndata: {"b"')).toEqual({
      events: [{ event: 'completed', id: 'q:1', data: '{"a":1}' }],
      rest: 'data: {"b"',
    });
    expect(parseSse('data:x\r\ndata: y\r\n\r\n')).toEqual({
      events: [{ event: 'message', id: undefined, data: 'x\ny' }],
      rest: '',
    });
    // A resync has no id (the browser keeps its last one); a field without a colon is a name alone.
    expect(parseSse('event: resync\ndata: {"queue":"q"}\n\nid\ndata\n\n')).toEqual({
      events: [
        { event: 'resync', id: undefined, data: '{"queue":"q"}' },
        { event: 'message', id: '', data: '' },
      ],
      rest: '',
    });
  });
});

describe('times as the dashboard writes them', () => {
  it('writes UTC to the millisecond, signed durations and ages', () => {
    expect(formatTime(Date.UTC(2026, 0, 31, 12, 0, 1, 250))).toBe('2026-01-31 12:00:01.250');
    expect(formatTime(undefined)).toBe('—');
    expect(formatSigned(-1200)).toBe('-1.2 s');
    expect(formatSigned(5)).toBe('+5 ms');
    expect(ago(0, 500)).toBe('just now');
    expect(ago(0, 5000)).toBe('5 s ago');
  });
});
