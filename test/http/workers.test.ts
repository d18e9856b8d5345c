import { describe, expect, it } from 'vitest';

import { expectProblem, setup } from './helpers.js';

describe('GET /queues/:queue/workers', () => {
  it('lists the live workers with what their heartbeat said, and when one was last seen', async () => {
    const t = await setup();
    const empty = await t.request('GET', '/queues/mail/workers');
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual({ now: expect.any(Number), workers: [] });
    await t.backend.workerHeartbeat(
      'mail',
      { id: 'w-1', host: 'box', pid: 7, queues: ['mail'], concurrency: 8, inFlight: 2, version: '1.2.3' },
      15_000,
    );
    const res = await t.request('GET', '/queues/mail/workers');
    const body = res.json<{ now: number; lastSeenAt: number; workers: { heartbeatAt: number }[] }>();
    expect(body.workers).toEqual([
      {
        id: 'w-1',
        host: 'box',
        pid: 7,
        queues: ['mail'],
        concurrency: 8,
        inFlight: 2,
        version: '1.2.3',
        startedAt: body.lastSeenAt,
        heartbeatAt: body.lastSeenAt,
        expiresAt: body.lastSeenAt + 15_000,
      },
    ]);
    await t.backend.workerLeave('mail', 'w-1');
    const after = (await t.request('GET', '/queues/mail/workers')).json<{
      workers: unknown[];
      lastSeenAt: number;
    }>();
    expect(after.workers).toEqual([]);
    expect(after.lastSeenAt).toBeGreaterThanOrEqual(body.lastSeenAt);
    expect(
      expectProblem(await t.request('GET', '/queues/b%20d/workers'), 400, 'RETRACED_ERR_VALIDATION').field,
    ).toBe('params.queue');
  });
});
