import { describe, expect, it } from 'vitest';

import { MAX_BULK, maxReplayJobs } from '../../src/dlq.js';
import { PermanentError, ValidationError } from '../../src/errors.js';
import type { Queue } from '../../src/queue.js';
import type { Harness } from './context.js';
import { waitForState } from './context.js';

/** The DLQ's one bulk path (`replayMany`, `purgeMany`): per-id outcomes, dry runs, bounds. */
export function dlqBulkCases(h: Harness): void {
  async function dead(q: Queue, n: number, data: object = {}): Promise<string[]> {
    const w = h.worker(q, () => {
      throw new PermanentError('broken', { code: 'BROKEN' });
    });
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { id } = await q.add('x', { ...data, i });
      await waitForState(q, id, 'dead');
      ids.push(id);
    }
    await w.close();
    return ids;
  }

  async function fieldOf(p: Promise<unknown>): Promise<string | undefined> {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).field;
  }

  describe('dead-letter queue: bulk replay and purge', () => {
    it('replayMany by ids reports per id; a dry run reports the same and changes nothing', async () => {
      const q = h.queue({ retry: { attempts: 1 } });
      const [a, b] = await dead(q, 2);
      const { id: live } = await q.add('live', {}, { delay: 60_000 });
      const target = { ids: [a ?? '', live, 'ghost', b ?? '', a ?? ''] };
      const feed = await q.backend.readEvents(q.name, '0', 10_000);
      const dry = await q.dlq.replayMany(target, { by: 'ada', dryRun: true });
      expect(dry).toEqual({
        dryRun: true,
        matched: 4,
        replayed: [a, b],
        failed: [
          { id: live, error: expect.stringMatching(/is scheduled; this needs a job that is dead/) },
          { id: 'ghost', error: expect.stringMatching(/does not exist/) },
        ],
      });
      expect(await q.backend.readEvents(q.name, '0', 10_000)).toEqual(feed);
      expect(await q.dlq.replayMany(target, { by: 'ada' })).toEqual({ ...dry, dryRun: false });
      expect(await q.counts()).toMatchObject({ dead: 0, waiting: 2, scheduled: 1 });
    });

    it('a dry run checks the patched data as the real run does', async () => {
      const q = h.queue({ retry: { attempts: 1 }, maxDataBytes: 300 });
      const [a] = await dead(q, 1);
      const patch = { note: 'n'.repeat(400) };
      const dry = await q.dlq.replayMany({ ids: [a ?? ''] }, { by: 'ada', patch, dryRun: true });
      expect(dry.failed).toEqual([
        { id: a, error: expect.stringMatching(/^patch \(applied to data\) must be at most 300 bytes/) },
      ]);
      const real = await q.dlq.replayMany({ name: 'x' }, { by: 'ada', patch });
      expect(real).toEqual({ dryRun: false, matched: 1, replayed: [], failed: dry.failed });
      expect((await q.getJob(a ?? ''))?.state).toBe('dead');
    });

    it('replayMany checks the patch once per call and applies it only to jobs that are dead (regression)', async () => {
      const q = h.queue({ retry: { attempts: 1 } });
      const [a] = await dead(q, 1);
      let reads = 0;
      // Every walk of the patch (validation, serialisation, merge) reads this getter once.
      const patch = Object.defineProperty({ big: 'x'.repeat(10_000) }, 'probe', {
        enumerable: true,
        get: () => ++reads,
      });
      const ghosts = Array.from({ length: 300 }, (_, i) => `ghost-${i}`);
      const r = await q.dlq.replayMany({ ids: [...ghosts, a ?? ''] }, { by: 'ada', patch });
      expect(r.replayed).toEqual([a]);
      expect(r.failed).toHaveLength(300);
      // Once to check it, once to apply it to the one dead job: not once per id (was 2 per id).
      expect(reads).toBeLessThan(10);
    });

    it('bounds one call: ids and limit beyond what the patch allows are refused, naming the field', async () => {
      const q = h.queue({ retry: { attempts: 1 } });
      const patch = { blob: 'b'.repeat(100_000) };
      const most = maxReplayJobs(JSON.stringify(patch).length);
      expect(most).toBe(167);
      const ids = Array.from({ length: most + 1 }, (_, i) => `id-${i}`);
      expect(await fieldOf(q.dlq.replayMany({ ids }, { by: 'ada', patch }))).toBe('ids');
      expect(await fieldOf(q.dlq.replayMany({}, { by: 'ada', patch, limit: most + 1 }))).toBe('limit');
      expect((await q.dlq.replayMany({ ids: ids.slice(1) }, { by: 'ada', patch })).matched).toBe(most);
      const many = Array.from({ length: MAX_BULK + 1 }, (_, i) => `id-${i}`);
      expect(await fieldOf(q.dlq.replayMany({ ids: many }, { by: 'ada' }))).toBe('ids');
      expect(await fieldOf(q.dlq.purgeMany({ ids: many }))).toBe('ids');
      expect(await fieldOf(q.dlq.replayMany({ ids: ['a'] }, { by: 'ada', limit: 5 }))).toBe('limit');
    });

    it('purgeMany reports per id; a dry run deletes nothing', async () => {
      const q = h.queue({ retry: { attempts: 1 } });
      const [a, b] = await dead(q, 2);
      const { id: live } = await q.add('live', {}, { delay: 60_000 });
      const dry = await q.dlq.purgeMany({ ids: [live, a ?? '', 'ghost', b ?? ''] }, { dryRun: true });
      expect(dry).toEqual({
        dryRun: true,
        matched: 4,
        purged: [a, b],
        failed: [
          { id: live, error: expect.stringMatching(/is scheduled/) },
          { id: 'ghost', error: expect.stringMatching(/does not exist/) },
        ],
      });
      expect((await q.counts()).dead).toBe(2);
      expect(await q.dlq.purgeMany({}, { dryRun: true, limit: 1 })).toMatchObject({
        matched: 1,
        purged: [b],
      });
      expect(await q.dlq.purgeMany({ ids: [live, a ?? '', 'ghost', b ?? ''] })).toEqual({
        ...dry,
        dryRun: false,
      });
      expect(await q.counts()).toMatchObject({ dead: 0, scheduled: 1 });
    });
  });
}
