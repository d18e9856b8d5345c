import { describe, expect, it } from 'vitest';

import { InvalidStateError, PermanentError } from '../../src/errors.js';
import type { Queue } from '../../src/queue.js';
import { restoreRequest } from '../../src/restore.js';
import type { Job } from '../../src/types.js';
import { MemoryArchive } from '../helpers/memory-archive.js';
import type { Harness } from './context.js';
import { sleep, waitForState } from './context.js';

/**
 * Restoring an archived dead job into the backend (`Backend.restoreDead`, src/restore.ts), and the
 * DLQ's replay of a job only the archive holds: restored with its whole history, then replayed as
 * any dead job. The archive is the in-memory one of the tests (PgArchive: test/archive/dlq.test.ts).
 */
export function restoreCases(h: Harness): void {
  /** Kills jobs one at a time (distinct dead times): `temporary` fails once first, then permanently. */
  async function killAll(q: Queue, names: readonly string[]): Promise<Job[]> {
    const w = h.worker(q, (job) => {
      const d = job.data as { k: number };
      if (job.attempt === 1 && d.k % 2 === 0) throw Object.assign(new Error('flaky'), { code: 'EAGAIN' });
      throw new PermanentError(`user ${d.k} not found`, { code: 'NOT_FOUND' });
    });
    const out: Job[] = [];
    for (const [k, name] of names.entries()) {
      if (k > 0) await sleep(3);
      const { id } = await q.add(name, { k }, { priority: k === 0 ? 2 : 0 });
      out.push(await waitForState(q, id, 'dead'));
    }
    await w.close();
    return out;
  }

  describe('restoring archived dead jobs', () => {
    it('restoreDead puts a purged dead job back as it was: record, dead set order, group, search; twice is refused', async () => {
      const q = h.queue({ retry: { attempts: 3, backoff: { type: 'immediate' } } });
      const [a, b, c] = await killAll(q, ['x', 'y', 'x']);
      const groupsBefore = await q.dlq.groups();
      const listBefore = await q.dlq.list();
      // The middle one leaves the backend (as retention would evict it), then comes back.
      expect(await h.backend.purgeDead(q.name, [b!.id])).toEqual([b!.id]);
      expect(await q.getJob(b!.id)).toBeNull();
      expect(await h.backend.restoreDead(q.name, restoreRequest(b!))).toEqual({ ok: true });
      expect(await q.getJob(b!.id)).toEqual(b);
      expect(await q.dlq.list()).toEqual(listBefore);
      expect((await q.dlq.list()).map((s) => s.id)).toEqual([c!.id, b!.id, a!.id]);
      expect(await q.dlq.groups()).toEqual(groupsBefore);
      // Its search facets: found by its failures' code and by having run more than once.
      const found = await q.searchJobs({ state: 'dead', errorCode: 'NOT_FOUND', name: 'y' });
      expect(found.jobs.map((j) => j.id)).toEqual([b!.id]);
      const ran = await q.searchJobs({ state: 'dead', minAttempts: 2 });
      expect(ran.jobs.map((j) => j.id).sort()).toEqual([a!.id, c!.id].sort());
      // The backend has it now: a second restore is refused with its state.
      expect(await h.backend.restoreDead(q.name, restoreRequest(b!))).toEqual({ ok: false, state: 'dead' });
      const live = await q.add('z', { k: 9 });
      expect(await h.backend.restoreDead(q.name, restoreRequest({ ...b!, id: live.id }))).toEqual({
        ok: false,
        state: 'waiting',
      });
      expect(() => restoreRequest({ ...b!, state: 'completed' })).toThrow(/state dead/);
    });

    it('dlq.replay of a dead job only the archive holds restores it, records the replay, and it runs on', async () => {
      const archive = new MemoryArchive();
      const q = h.queue({ archive, retry: { attempts: 3, backoff: { type: 'immediate' } } });
      const [dead] = await killAll(q, ['charge']);
      await archive.write(q.name, [dead!]);
      await h.backend.purgeDead(q.name, [dead!.id]);
      expect((await q.dlq.get(dead!.id)).archived).toBe(true);
      // A dry run of a bulk replay by id finds it, changes nothing.
      const dry = await q.dlq.replayMany({ ids: [dead!.id] }, { by: 'ada', dryRun: true });
      expect(dry).toEqual({ dryRun: true, matched: 1, replayed: [dead!.id], failed: [] });
      expect(await h.backend.getJob(q.name, dead!.id)).toBeNull();
      // A purge leaves it, saying why.
      const purge = await q.dlq.purgeMany({ ids: [dead!.id] });
      expect(purge.purged).toEqual([]);
      expect(purge.failed[0]?.error).toMatch(/in the archive only/);
      const replayed = await q.dlq.replay(dead!.id, { by: 'ada', note: 'fixed', patch: { k: 100 } });
      expect(replayed.archived).toBeUndefined();
      expect(replayed.state).toBe('waiting');
      expect(replayed.attempts).toEqual(dead!.attempts);
      expect(replayed.pendingManual).toMatchObject({ by: 'ada', note: 'fixed', patch: [{ path: 'data.k' }] });
      expect(replayed.data).toEqual({ k: 100 });
      h.worker(q, () => 'ok');
      const done = await waitForState(q, dead!.id, 'completed');
      expect(done.attempts.map((x) => [x.n, x.trigger, x.outcome])).toEqual([
        [1, 'auto', 'failed'],
        [2, 'auto', 'failed'],
        [3, 'manual', 'succeeded'],
      ]);
      expect(done.attempts[2]?.manual).toMatchObject({ by: 'ada', note: 'fixed' });
      // Replaying it again: it is not dead any more.
      await expect(q.dlq.replay(dead!.id, { by: 'ada' })).rejects.toBeInstanceOf(InvalidStateError);
    });

    it('a queue that only reads the archive (readArchiveOnly, the CLI) never turns the archive notes on', async () => {
      const archive = new MemoryArchive();
      const reader = h.queue({ archive, readArchiveOnly: true, retention: { dead: { count: 1 } } });
      await reader.getJobs('dead');
      expect((await h.backend.archiveStatus(reader.name)).enabled).toBe(false);
      expect(await h.backend.getRetention(reader.name)).toEqual({ dead: { count: 1 } });
      const writer = h.queue({ archive });
      await writer.getJobs('dead');
      expect((await h.backend.archiveStatus(writer.name)).enabled).toBe(true);
      expect(() => h.queue({ archive, readArchiveOnly: 'yes' as unknown as boolean })).toThrow(
        /options.readArchiveOnly/,
      );
    });

    it('a bulk replay by filter from the archive restores and replays every match', async () => {
      const archive = new MemoryArchive();
      const q = h.queue({ archive, retry: { attempts: 1 } });
      const jobs = await killAll(q, ['a', 'b', 'a']);
      await archive.write(q.name, jobs);
      await h.backend.purgeDead(q.name, [jobs[0]!.id, jobs[1]!.id]);
      const r = await q.dlq.replayMany({ name: 'a' }, { by: 'ada', source: 'all' });
      expect(r.replayed).toEqual([jobs[2]!.id, jobs[0]!.id]);
      for (const id of r.replayed) {
        const j = await q.getJob(id);
        expect(j?.state).toBe('waiting');
        expect(j?.pendingManual?.by).toBe('ada');
      }
      // Live only: nothing left to match.
      expect((await q.dlq.replayMany({ name: 'a' }, { by: 'ada' })).matched).toBe(0);
    });
  });
}
