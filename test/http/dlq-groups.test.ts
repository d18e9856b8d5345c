/**
 * DLQ groups as the dashboard shows them: besides counts and first/last seen, the job names among
 * each group's recent dead jobs and one sample error in full.
 */
import { describe, expect, it } from 'vitest';

import { makeDead, setup } from './helpers.js';

describe('GET /queues/:queue/dlq/groups', () => {
  it('gives each group its job names and the most recent dead job with its error', async () => {
    const t = await setup();
    await makeDead(t, 'mail', 2, 'E_MAILBOX', 'welcome');
    const [last] = (await makeDead(t, 'mail', 1, 'E_MAILBOX', 'digest')).slice(-1);
    await makeDead(t, 'mail', 1, 'E_OTHER', 'welcome');
    const res = await t.request('GET', '/queues/mail/dlq/groups');
    const groups = res.json<{ groups: Record<string, unknown>[] }>().groups;
    expect(groups).toHaveLength(2);
    const [busiest, other] = groups;
    expect(busiest).toMatchObject({
      count: 3,
      names: ['digest', 'welcome'],
      sample: { id: last, error: { name: 'PermanentError', code: 'E_MAILBOX', message: 'boom E_MAILBOX' } },
    });
    expect((busiest?.sample as { error: { stack?: string } }).error.stack).toMatch(
      /PermanentError: boom E_MAILBOX/,
    );
    expect(other).toMatchObject({ count: 1, names: ['welcome'] });
  });
});
