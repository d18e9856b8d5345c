/**
 * The pure half of restoring an archived dead job (src/restore.ts): the search facets a history
 * gave its job, and the group label, exactly.
 */
import { describe, expect, it } from 'vitest';

import { errorFingerprint, fingerprintLabel } from '../../src/fingerprint.js';
import { historyFacets, restoreRequest } from '../../src/restore.js';
import { POISON_FINGERPRINT, POISON_LABEL } from '../../src/transitions.js';
import type { Attempt, Job } from '../../src/types.js';

const base = { dueAt: 1, startedAt: 2, finishedAt: 3, driftMs: 1, workerId: 'w' };
const flaky = { name: 'Error', message: 'flaky 42', code: 'EAGAIN' };
const gone = { name: 'Error', message: 'user 7 not found', code: 'NOT_FOUND' };

const failedThenRetried: Attempt = {
  ...base,
  n: 1,
  trigger: 'auto',
  outcome: 'failed',
  error: flaky,
  errorClass: 'temporary',
  rule: 'code:EAGAIN',
  decision: { action: 'retry', delayMs: 0, nextDueAt: 3, strategy: 'immediate', explanation: '' },
} as unknown as Attempt;
const stalledPoison: Attempt = {
  ...base,
  n: 2,
  trigger: 'stall',
  outcome: 'stalled',
  errorClass: 'poison',
  decision: { action: 'dead', reason: 'poison', explanation: '' },
} as unknown as Attempt;
const replayedDead: Attempt = {
  ...base,
  n: 3,
  trigger: 'manual',
  outcome: 'failed',
  error: gone,
  errorClass: 'permanent',
  decision: { action: 'dead', reason: 'permanent', explanation: '' },
} as unknown as Attempt;

describe('historyFacets', () => {
  it('a failure retried: its class, rule, code, fingerprint and rt', () => {
    expect(historyFacets([failedThenRetried])).toEqual([
      'c:temporary',
      'r:code:EAGAIN',
      'e:EAGAIN',
      `f:${errorFingerprint(flaky)}`,
      'rt',
    ]);
  });

  it('a poison stall, then a replay that died: each once, in order', () => {
    expect(historyFacets([failedThenRetried, stalledPoison, replayedDead])).toEqual([
      'c:temporary',
      'r:code:EAGAIN',
      'e:EAGAIN',
      `f:${errorFingerprint(flaky)}`,
      'rt',
      't:stall',
      'c:poison',
      'r:stall',
      'e:LEASE_EXPIRED',
      `f:${POISON_FINGERPRINT}`,
      't:manual',
      'c:permanent',
      'e:NOT_FOUND',
      `f:${errorFingerprint(gone)}`,
    ]);
  });

  it('a success without an error adds nothing', () => {
    expect(
      historyFacets([
        { ...base, n: 1, trigger: 'auto', outcome: 'succeeded', decision: { action: 'done' } } as Attempt,
      ]),
    ).toEqual([]);
  });
});

describe('restoreRequest', () => {
  const job = (dead: Job['dead'], attempts: Attempt[]): Job =>
    ({ id: '1', queue: 'q', name: 'n', state: 'dead', attempts, dead }) as unknown as Job;

  it('labels the group by the deciding error, poison by its own label', () => {
    const r = restoreRequest(
      job({ reason: 'permanent', at: 3, fingerprint: errorFingerprint(gone), error: gone }, [replayedDead]),
    );
    expect(r.label).toBe(fingerprintLabel(gone));
    expect(r.label).toBe('Error|NOT_FOUND|user <n> not found');
    expect(
      restoreRequest(job({ reason: 'poison', at: 3, fingerprint: POISON_FINGERPRINT }, [stalledPoison]))
        .label,
    ).toBe(POISON_LABEL);
  });

  it('refuses a job that is not dead, naming the field', () => {
    expect(() => restoreRequest({ ...job(undefined, []), state: 'completed' })).toThrow(
      /job must be a dead job/,
    );
  });
});
