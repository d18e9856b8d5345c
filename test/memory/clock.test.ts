/**
 * The memory backend under an injected clock: exact times, and the hostile case of a clock that
 * goes backwards. (The contract suite runs on real time; these pin the model to the millisecond.)
 */
import { describe, expect, it } from 'vitest';

import type { AddRequest } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { ManualClock } from '../../src/clock.js';
import { finishOnly } from '../helpers/finish.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const opts = JSON.stringify({ retry: { phases: [], maxAttempts: 1 }, timeoutMs: 0, maxStalls: 2 });
const req = (delayMs = 0, id?: string): AddRequest => ({
  id,
  name: 'n',
  data: 'null',
  opts,
  maxStalls: 2,
  delayMs,
  runAt: undefined,
});
const claimReq = { workerId: 'w1', leaseMs: 100, max: 10 };

function setup(): { clock: ManualClock; b: MemoryBackend } {
  const clock = new ManualClock(T0);
  return { clock, b: new MemoryBackend({ clock }) };
}

describe('memory backend on a manual clock', () => {
  it('starts a delayed job exactly at its due time, never a millisecond early', async () => {
    const { clock, b } = setup();
    await b.add('q', [req(1000)]);
    clock.advance(999);
    const early = await b.claim('q', claimReq);
    expect(early.jobs).toHaveLength(0);
    expect(early.nextWakeInMs).toBe(1);
    clock.advance(1);
    const { jobs } = await b.claim('q', claimReq);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      dueAt: T0 + 1000,
      startedAt: T0 + 1000,
      leaseExpiresAt: T0 + 1100,
      attempt: 1,
    });
  });

  it('recovers a lease exactly when it expires, not before', async () => {
    const { clock, b } = setup();
    await b.add('q', [req()]);
    await b.claim('q', claimReq);
    clock.advance(99);
    expect(await b.recoverStalled('q')).toBe(0);
    clock.advance(1);
    expect(await b.recoverStalled('q')).toBe(1);
    const job = await b.getJob('q', '1');
    expect(job?.state).toBe('waiting');
    expect(job?.attempts[0]).toMatchObject({
      outcome: 'stalled',
      startedAt: T0,
      finishedAt: T0 + 100,
      driftMs: 0,
    });
  });

  it('a clock that jumps backwards never starts a job early', async () => {
    const { clock, b } = setup();
    await b.add('q', [req(1000)]);
    clock.set(T0 - 5 * 60_000);
    const r = await b.claim('q', claimReq);
    expect(r.jobs).toHaveLength(0);
    expect(r.nextWakeInMs).toBe(5 * 60_000 + 1000);
  });

  it('records a retry due exactly finishedAt + delay and starts it then', async () => {
    const { clock, b } = setup();
    await b.add('q', [req()]);
    const [c] = (await b.claim('q', claimReq)).jobs;
    clock.advance(30);
    const [res] = await finishOnly(b, 'q', [
      {
        id: c!.id,
        attempt: 1,
        workerId: 'w1',
        outcome: 'failed',
        error: { name: 'Error', message: 'x' },
        errorClass: 'temporary',
        rule: 'default',
        decision: {
          action: 'retry',
          delayMs: 250,
          source: 'policy',
          explanation: 'fixed: 250 ms',
          detail: { strategy: 'fixed' },
        },
      },
    ]);
    expect(res).toEqual({ ok: true, state: 'scheduled', nextDueAt: T0 + 280, finishedAt: T0 + 30 });
    clock.advance(250);
    const [again] = (await b.claim('q', claimReq)).jobs;
    expect(again).toMatchObject({
      attempt: 2,
      dueAt: T0 + 280,
      startedAt: T0 + 280,
      prevDelayMs: 250,
      failures: 1,
    });
  });

  it('an idle wait ends on the injected clock at the requested time', async () => {
    const { clock, b } = setup();
    let woke = false;
    const wait = b.waitForWork('q', 500, new AbortController().signal).then(() => (woke = true));
    clock.advance(499);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(1);
    await wait;
    expect(woke).toBe(true);
  });

  it('retention by age evicts exactly at the boundary', async () => {
    const { clock, b } = setup();
    await b.setRetention('q', { completed: { ageMs: 1000 } });
    await b.add('q', [req(0, 'a')]);
    await b.claim('q', claimReq);
    await finishOnly(b, 'q', [
      {
        id: 'a',
        attempt: 1,
        workerId: 'w1',
        outcome: 'succeeded',
        result: '1',
        decision: { action: 'done' },
      },
    ]);
    clock.advance(999);
    await b.setRetention('q', { completed: { ageMs: 1000 } });
    expect(await b.getJob('q', 'a')).not.toBeNull();
    clock.advance(1);
    await b.setRetention('q', { completed: { ageMs: 1000 } });
    expect(await b.getJob('q', 'a')).toBeNull();
    expect(await b.evictions('q')).toEqual({ completed: 1, dead: 0, cancelled: 0 });
  });

  it('a retention sweep evicts exactly at the age boundary, once per interval', async () => {
    const { clock, b } = setup();
    await b.setRetention('q', { completed: { ageMs: 1000 } });
    await b.add('q', [req(0, 'a')]);
    await b.claim('q', claimReq);
    await finishOnly(b, 'q', [
      {
        id: 'a',
        attempt: 1,
        workerId: 'w1',
        outcome: 'succeeded',
        result: '1',
        decision: { action: 'done' },
      },
    ]);
    clock.advance(999);
    expect(await b.sweepRetention('q', { intervalMs: 1, max: 10 })).toEqual({ ran: true, evicted: 0 });
    expect(await b.getJob('q', 'a')).not.toBeNull();
    clock.advance(1);
    expect(await b.sweepRetention('q', { intervalMs: 500, max: 10 })).toEqual({ ran: true, evicted: 1 });
    expect(await b.getJob('q', 'a')).toBeNull();
    expect(await b.evictions('q')).toEqual({ completed: 1, dead: 0, cancelled: 0 });
    clock.advance(499);
    expect(await b.sweepRetention('q', { intervalMs: 500, max: 10 })).toEqual({ ran: false, evicted: 0 });
    clock.advance(1);
    expect(await b.sweepRetention('q', { intervalMs: 500, max: 10 })).toEqual({ ran: true, evicted: 0 });
  });
});
