import { describe, expect, it } from 'vitest';

import { ValidationError } from '../../src/errors.js';
import type { WorkerBeat } from '../../src/workers.js';
import type { Harness } from './context.js';
import { sleep, waitUntil } from './context.js';

const beat = (id: string, over: Partial<WorkerBeat> = {}): WorkerBeat => ({
  id,
  host: 'h1',
  pid: 42,
  queues: ['a', 'b'],
  concurrency: 4,
  inFlight: 1,
  version: '9.9.9',
  ...over,
});

/** The worker registry: heartbeats, expiry, leaving, what a Worker says about itself. */
export function workerRegistryCases(h: Harness): void {
  describe('worker registry', () => {
    it('a heartbeat registers a worker; the next refreshes it and keeps its start', async () => {
      const q = h.queue();
      expect(await q.workers()).toMatchObject({ workers: [], lastSeenAt: undefined });
      await h.backend.workerHeartbeat(q.name, beat('w1'), 60_000);
      const first = await q.workers();
      expect(first.workers).toEqual([
        {
          ...beat('w1'),
          startedAt: expect.any(Number),
          heartbeatAt: expect.any(Number),
          expiresAt: expect.any(Number),
        },
      ]);
      const w = first.workers[0]!;
      expect(w.expiresAt - w.heartbeatAt).toBe(60_000);
      expect(first.lastSeenAt).toBe(w.heartbeatAt);
      await sleep(5);
      await h.backend.workerHeartbeat(q.name, beat('w1', { inFlight: 3 }), 60_000);
      await h.backend.workerHeartbeat(q.name, beat('w0'), 60_000);
      const second = await q.workers();
      expect(second.workers.map((x) => [x.id, x.inFlight])).toEqual([
        ['w0', 1],
        ['w1', 3],
      ]);
      const again = second.workers[1]!;
      expect(again.startedAt).toBe(w.startedAt);
      expect(again.heartbeatAt).toBeGreaterThan(w.heartbeatAt);
    });

    it('an entry without a heartbeat expires; leaving removes one at once', async () => {
      const q = h.queue();
      await h.backend.workerHeartbeat(q.name, beat('short'), 1000);
      await h.backend.workerHeartbeat(q.name, beat('long'), 60_000);
      expect((await q.workers()).workers.map((w) => w.id)).toEqual(['long', 'short']);
      await sleep(1100);
      const after = await q.workers();
      expect(after.workers.map((w) => w.id)).toEqual(['long']);
      await h.backend.workerLeave(q.name, 'long');
      const gone = await q.workers();
      expect(gone.workers).toEqual([]);
      expect(gone.lastSeenAt).toBeGreaterThanOrEqual(after.workers[0]!.heartbeatAt);
    });

    it('a Worker registers while it runs, with its jobs in flight, and leaves when it closes', async () => {
      const q = h.queue();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const w = h.worker(q, () => gate, { concurrency: 3, heartbeatMs: 50, workerId: 'reg-1' });
      const { id } = await q.add('slow', null);
      await waitUntil(
        async () => (await q.workers()).workers[0]?.inFlight === 1,
        'a beat with one job in flight',
      );
      const [entry] = (await q.workers()).workers;
      expect(entry).toMatchObject({
        id: 'reg-1',
        pid: process.pid,
        queues: [q.name],
        concurrency: 3,
        inFlight: 1,
      });
      expect(entry!.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(entry!.expiresAt - entry!.heartbeatAt).toBe(150);
      release();
      await waitUntil(async () => (await q.getJob(id))?.state === 'completed', 'job done');
      await w.close();
      const after = await q.workers();
      expect(after.workers).toEqual([]);
      expect(after.lastSeenAt).toBeGreaterThanOrEqual(entry!.heartbeatAt);
    });

    it('heartbeatMs 0 does not register; bad options name the field', async () => {
      const q = h.queue();
      const w = h.worker(q, async () => null, { heartbeatMs: 0 });
      await sleep(30);
      expect((await q.workers()).workers).toEqual([]);
      await w.close();
      expect(() => h.worker(q, async () => null, { heartbeatMs: 10 })).toThrow(ValidationError);
      expect(() => h.worker(q, async () => null, { registryQueues: ['bad name'] })).toThrow(
        /registryQueues\[0\]/,
      );
    });
  });
}
