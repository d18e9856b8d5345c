import { afterEach, describe, expect, it, vi } from 'vitest';

import type { Backend, RetentionSweep } from '../../src/backend.js';
import { ValidationError } from '../../src/errors.js';
import { resolveWorkerOptions } from '../../src/options.js';
import { RetentionSweeper, SWEEP_MAX_EVICTIONS } from '../../src/retention-sweeper.js';

/** A backend that records sweeps and evicts `evicted` per queue (or throws for 'bad'). */
function fakeBackend(evicted: number): { backend: Backend; calls: [string, RetentionSweep][] } {
  const calls: [string, RetentionSweep][] = [];
  const backend = {
    sweepRetention: async (queue: string, sweep: RetentionSweep) => {
      calls.push([queue, sweep]);
      if (queue === 'bad') throw new Error('down');
      return { ran: true, evicted };
    },
  } as unknown as Backend;
  return { backend, calls };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('RetentionSweeper', () => {
  it('sweeps each queue every interval with the bound, until stopped', async () => {
    vi.useFakeTimers();
    const { backend, calls } = fakeBackend(2);
    const s = new RetentionSweeper(backend, {
      intervalMs: 1000,
      queues: () => ['a', 'b'],
      onError: () => undefined,
    });
    s.start();
    s.start(); // once only
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const sweep = { intervalMs: 1000, max: SWEEP_MAX_EVICTIONS };
    expect(calls).toEqual([
      ['a', sweep],
      ['b', sweep],
    ]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(4);
    await s.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(4);
  });

  it('answers with the jobs evicted; a round in progress is joined, not doubled', async () => {
    const { backend, calls } = fakeBackend(3);
    const s = new RetentionSweeper(backend, {
      intervalMs: 1000,
      queues: async () => ['a', 'b'],
      onError: () => undefined,
    });
    const [x, y] = await Promise.all([s.sweep(), s.sweep()]);
    expect([x, y]).toEqual([6, 6]);
    expect(calls).toHaveLength(2);
    expect(await s.sweep()).toBe(6);
    expect(calls).toHaveLength(4);
  });

  it('reports a failed round and goes on', async () => {
    const { backend } = fakeBackend(1);
    const errors: unknown[] = [];
    const s = new RetentionSweeper(backend, {
      intervalMs: 1000,
      queues: () => ['a', 'bad'],
      onError: (e) => errors.push(e),
    });
    expect(await s.sweep()).toBe(1);
    expect(errors.map((e) => (e as Error).message)).toEqual(['down']);
  });

  it('never starts with an interval of 0', async () => {
    vi.useFakeTimers();
    const { backend, calls } = fakeBackend(1);
    const s = new RetentionSweeper(backend, { intervalMs: 0, queues: () => ['a'], onError: () => undefined });
    s.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([]);
    await s.stop();
  });
});

describe('worker option retentionSweepMs', () => {
  const id = (): string => 'w';
  it('defaults to 1000; 0 turns the sweep off; 1–9 ms and non-numbers are refused', () => {
    expect(resolveWorkerOptions({}, id).retentionSweepMs).toBe(1000);
    expect(resolveWorkerOptions({ retentionSweepMs: 0 }, id).retentionSweepMs).toBe(0);
    expect(resolveWorkerOptions({ retentionSweepMs: 10 }, id).retentionSweepMs).toBe(10);
    for (const bad of [5, -1, '1000', Number.NaN]) {
      expect(() => resolveWorkerOptions({ retentionSweepMs: bad as number }, id)).toThrow(ValidationError);
    }
  });
});
