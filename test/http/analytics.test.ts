import { describe, expect, it } from 'vitest';

import { PermanentError } from '../../src/errors.js';
import { eventually, expectProblem, setup } from './helpers.js';

describe('GET /queues/:queue/analytics', () => {
  it('answers the report of the rollups, restricted and grouped as asked', async () => {
    const t = await setup();
    const q = t.queue('mail');
    await q.add('welcome', 1);
    await q.add('welcome', 2);
    await q.add('bounce', 3);
    t.worker('mail', (job) => {
      if (job.name === 'bounce') throw new PermanentError('no such mailbox');
      return null;
    });
    await eventually(async () => {
      const c = await q.counts();
      return c.completed + c.dead === 3;
    });
    const res = await t.request('GET', '/queues/mail/analytics?window=15m&by=name');
    expect(res.statusCode).toBe(200);
    const body = res.json<Record<string, unknown>>();
    expect(body).toMatchObject({
      queue: 'mail',
      window: { ms: 900_000, resolution: 'minute', bucketMs: 60_000 },
      name: null,
      totals: { attempts: 3, failed: 1, succeeded: 2, dead: 1, retries: 0, wastedAttempts: 0 },
      attempts: [{ n: 1, attempts: 3, failed: 1, succeeded: 2, dead: 1 }],
      deadReasons: [{ reason: 'permanent', count: 1 }],
      byRule: [{ key: 'thrown:PermanentError', label: null, failed: 1, dead: 1 }],
      by: 'name',
      groups: [
        { key: 'bounce', label: null, attempts: 1, failed: 1, succeeded: 0, dead: 1 },
        { key: 'welcome', label: null, attempts: 2, failed: 0, succeeded: 2, dead: 0 },
      ],
      suggestion: {
        attempts: 1,
        reason:
          '100% of the jobs that ever succeed do so by attempt 1; no later attempt was made in the window',
      },
    });
    const one = await t.request('GET', '/queues/mail/analytics?name=welcome');
    expect(one.json()).toMatchObject({ name: 'welcome', window: { ms: 3_600_000 }, totals: { attempts: 2 } });
  });

  it('refuses a bad window or grouping with a problem naming the field', async () => {
    const t = await setup();
    const tooLong = expectProblem(
      await t.request('GET', '/queues/mail/analytics?window=401d'),
      400,
      'RETRACED_ERR_VALIDATION',
    );
    expect(tooLong.field).toBe('querystring.window');
    expect(tooLong.detail).toMatch(/^querystring.window must match pattern/);
    // Well-formed, but only the archive keeps 8 d, and this server has none.
    const noArchive = expectProblem(
      await t.request('GET', '/queues/mail/analytics?window=8d'),
      409,
      'RETRACED_ERR_SOURCE_UNAVAILABLE',
    );
    expect(noArchive.field).toBe('querystring.window');
    expect(noArchive.detail).toMatch(/^window must be at most 7 d on a queue without an archive/);
    const source = expectProblem(
      await t.request('GET', '/queues/mail/analytics?source=archive'),
      409,
      'RETRACED_ERR_SOURCE_UNAVAILABLE',
    );
    expect(source.field).toBe('querystring.source');
    expect(source.detail).toMatch(/^source must be rollups or auto: this queue has no archive/);
    expect(
      expectProblem(
        await t.request('GET', '/queues/mail/analytics?source=redis'),
        400,
        'RETRACED_ERR_VALIDATION',
      ).field,
    ).toBe('querystring.source');
    expect(
      expectProblem(
        await t.request('GET', '/queues/mail/analytics?window=soon'),
        400,
        'RETRACED_ERR_VALIDATION',
      ).field,
    ).toBe('querystring.window');
    expect(
      expectProblem(
        await t.request('GET', '/queues/mail/analytics?by=colour'),
        400,
        'RETRACED_ERR_VALIDATION',
      ).field,
    ).toBe('querystring.by');
  });
});
