import { describe, expect, it } from 'vitest';

import type { FinishRequest } from '../../src/backend.js';
import { finishOnly } from '../helpers/finish.js';
import type { Harness } from './context.js';

const opts = JSON.stringify({ retry: { phases: [], maxAttempts: 1 }, timeoutMs: 0, maxStalls: 3 });

/**
 * The archive hand-off (src/archive/): with an archive on, finished jobs are noted for the archiver
 * and retention never evicts one before it is archived.
 */
export function archiveCases(h: Harness): void {
  describe('archive hand-off', () => {
    /** Adds `n` jobs and ends them in one finish call: done, or dead (a permanent error). */
    async function finished(queue: string, prefix: string, n: number, dead = false): Promise<string[]> {
      const b = h.backend;
      const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
      await b.add(
        queue,
        ids.map((id) => ({ id, name: 'n', data: 'null', opts, maxStalls: 3, delayMs: 0, runAt: undefined })),
      );
      const { jobs } = await b.claim(queue, { workerId: 'w1', leaseMs: 5000, max: n });
      const reqs: FinishRequest[] = jobs.map((j) =>
        dead
          ? {
              id: j.id,
              attempt: j.attempt,
              workerId: 'w1',
              outcome: 'failed',
              error: { name: 'Error', message: 'no', code: 'EBAD' },
              errorClass: 'permanent',
              rule: 'code:EBAD',
              fingerprint: 'f0',
              fingerprintLabel: 'Error|EBAD|no',
              decision: { action: 'dead', reason: 'permanent', explanation: 'permanent error' },
            }
          : {
              id: j.id,
              attempt: j.attempt,
              workerId: 'w1',
              outcome: 'succeeded',
              result: 'null',
              decision: { action: 'done' },
            },
      );
      await finishOnly(b, queue, reqs);
      return ids;
    }

    const claim = { owner: 'a1', leaseMs: 5000, max: 100 };

    it('notes nothing while the queue has no archive', async () => {
      const q = h.queue();
      await finished(q.name, 'x', 2);
      expect(await h.backend.archiveStatus(q.name)).toEqual({
        enabled: false,
        pending: 0,
        held: { completed: 0, dead: 0, cancelled: 0 },
      });
      expect(await h.backend.claimArchive(q.name, claim)).toEqual({ busy: false, entries: [] });
    });

    it('turned on, notes the finished jobs already there and every job that finishes, oldest first', async () => {
      const q = h.queue();
      const before = await finished(q.name, 'a', 2);
      await h.backend.setArchive(q.name, true);
      await h.backend.setArchive(q.name, true); // idempotent
      const after = await finished(q.name, 'b', 2, true);
      await h.backend.add(q.name, [
        { id: 'c', name: 'n', data: '1', opts, maxStalls: 3, delayMs: 0, runAt: undefined },
      ]);
      await q.cancel('c', { by: 'ops' });
      const batch = await h.backend.claimArchive(q.name, claim);
      if (batch.busy) throw new Error('busy');
      expect(batch.entries.map((e) => e.id)).toEqual([...before, ...after, 'c']);
      expect(batch.entries.map((e) => e.job?.state)).toEqual([
        'completed',
        'completed',
        'dead',
        'dead',
        'cancelled',
      ]);
      expect(batch.entries[0]!.job).toEqual(await q.getJob('a-0'));
      expect((await h.backend.archiveStatus(q.name)).pending).toBe(5);
      expect(await h.backend.markArchived(q.name, batch.entries)).toBe(5);
      expect(await h.backend.markArchived(q.name, batch.entries)).toBe(0);
      expect((await h.backend.archiveStatus(q.name)).pending).toBe(0);
    });

    it('one archiver at a time holds a queue, until its lease expires', async () => {
      const q = h.queue();
      await h.backend.setArchive(q.name, true);
      await finished(q.name, 'a', 1);
      expect((await h.backend.claimArchive(q.name, { ...claim, leaseMs: 1000 })).busy).toBe(false);
      expect(await h.backend.claimArchive(q.name, { ...claim, owner: 'a2' })).toEqual({ busy: true });
      expect((await h.backend.claimArchive(q.name, { ...claim, leaseMs: 1000 })).busy).toBe(false); // renewed
      await new Promise((r) => setTimeout(r, 1100));
      const taken = await h.backend.claimArchive(q.name, { ...claim, owner: 'a2' });
      expect(taken.busy === false && taken.entries.map((e) => e.id)).toEqual(['a-0']);
    });

    it('retention holds every job not archived yet, counts them held, and evicts them once archived', async () => {
      const q = h.queue();
      await h.backend.setArchive(q.name, true);
      await h.backend.setRetention(q.name, { completed: { count: 1 } });
      await finished(q.name, 'a', 3);
      expect((await q.counts()).completed).toBe(3);
      expect(await q.evictions()).toEqual({ completed: 0, dead: 0, cancelled: 0 });
      expect((await h.backend.archiveStatus(q.name)).held).toEqual({ completed: 2, dead: 0, cancelled: 0 });
      const batch = await h.backend.claimArchive(q.name, { ...claim, max: 2 });
      if (batch.busy) throw new Error('busy');
      expect(batch.entries.map((e) => e.id)).toEqual(['a-0', 'a-1']);
      await h.backend.markArchived(q.name, batch.entries);
      expect(await h.backend.sweepRetention(q.name, { intervalMs: 1, max: 100 })).toEqual({
        ran: true,
        evicted: 2,
      });
      expect(await q.getJob('a-0')).toBeNull();
      expect(await q.getJob('a-2')).not.toBeNull();
      expect(await q.evictions()).toEqual({ completed: 2, dead: 0, cancelled: 0 });
      expect(await h.backend.archiveStatus(q.name)).toEqual({
        enabled: true,
        pending: 1,
        held: { completed: 0, dead: 0, cancelled: 0 },
      });
    });

    it('a job replayed after it was read keeps its note when finished again, so its new attempts are archived', async () => {
      const q = h.queue();
      await h.backend.setArchive(q.name, true);
      await finished(q.name, 'd', 1, true);
      const first = await h.backend.claimArchive(q.name, claim);
      if (first.busy) throw new Error('busy');
      const replay = await h.backend.replay(q.name, {
        id: 'd-0',
        expectedAttempts: 1,
        data: undefined,
        by: 'ops',
        note: undefined,
        patch: undefined,
      });
      expect(replay.ok).toBe(true);
      expect((await h.backend.archiveStatus(q.name)).pending).toBe(0); // not finished: not noted
      await new Promise((r) => setTimeout(r, 5));
      const { jobs } = await h.backend.claim(q.name, { workerId: 'w1', leaseMs: 5000, max: 1 });
      await finishOnly(h.backend, q.name, [
        {
          id: 'd-0',
          attempt: jobs[0]!.attempt,
          workerId: 'w1',
          outcome: 'succeeded',
          result: '2',
          decision: { action: 'done' },
        },
      ]);
      expect(await h.backend.markArchived(q.name, first.entries)).toBe(0); // the older note is gone
      const second = await h.backend.claimArchive(q.name, claim);
      if (second.busy) throw new Error('busy');
      expect(second.entries.map((e) => [e.id, e.job?.state, e.job?.attempts.length])).toEqual([
        ['d-0', 'completed', 2],
      ]);
    });

    it('with the backend archived by default, retention set on a new queue turns its archive on first', async () => {
      const b = h.backend;
      expect(await b.archiveDefault()).toBe(false);
      await b.setArchiveDefault(true);
      try {
        expect(await b.archiveDefault()).toBe(true);
        const q = h.queue({ retention: { completed: { count: 0 } } });
        await q.ready();
        await finished(q.name, 'a', 2);
        // Held for the archive: nothing evicted, both noted.
        expect(await q.evictions()).toEqual({ completed: 0, dead: 0, cancelled: 0 });
        expect(await b.archiveStatus(q.name)).toEqual({
          enabled: true,
          pending: 2,
          held: { completed: 2, dead: 0, cancelled: 0 },
        });
        const batch = await b.claimArchive(q.name, claim);
        if (batch.busy) throw new Error('busy');
        await b.markArchived(q.name, batch.entries);
        await b.sweepRetention(q.name, { intervalMs: 1, max: 100 });
        expect(await q.evictions()).toEqual({ completed: 2, dead: 0, cancelled: 0 });
      } finally {
        await b.setArchiveDefault(false);
      }
      expect(await b.archiveDefault()).toBe(false);
      // Off again: a new queue's retention evicts at once, as before.
      const plain = h.queue({ retention: { completed: { count: 0 } } });
      await plain.ready();
      await finished(plain.name, 'p', 1);
      expect((await b.archiveStatus(plain.name)).enabled).toBe(false);
      expect(await plain.evictions()).toEqual({ completed: 1, dead: 0, cancelled: 0 });
    });

    it('turned off, drops its notes and retention evicts as before', async () => {
      const q = h.queue();
      await h.backend.setArchive(q.name, true);
      await h.backend.setRetention(q.name, { completed: { count: 1 } });
      await finished(q.name, 'a', 2);
      expect((await q.counts()).completed).toBe(2);
      await h.backend.setArchive(q.name, false);
      expect(await h.backend.archiveStatus(q.name)).toEqual({
        enabled: false,
        pending: 0,
        held: { completed: 0, dead: 0, cancelled: 0 },
      });
      await h.backend.sweepRetention(q.name, { intervalMs: 1, max: 100 });
      expect((await q.counts()).completed).toBe(1);
    });
  });
}
