import { describe, expect, it } from 'vitest';

import { PermanentError } from '../../src/errors.js';
import { errorFingerprint } from '../../src/fingerprint.js';
import { compareSearchKeys, type JobQuery } from '../../src/job-index.js';
import type { Queue } from '../../src/queue.js';
import type { Job } from '../../src/types.js';
import type { Harness } from './context.js';
import { sleep, waitForState } from './context.js';

/** Every page of a search, followed to its end: the ids in order, and how many pages it took. */
async function allPages<D>(q: Queue<D>, query: JobQuery, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const r = await q.searchJobs(query, { cursor, limit });
    expect(r.jobs.length).toBeLessThanOrEqual(limit);
    ids.push(...r.jobs.map((j) => j.id));
    if (r.next === undefined) return ids;
    cursor = r.next;
  }
  throw new Error('more than 100 pages');
}

/** The ids in search order (newest created first, then the greater id by bytes). */
function searchOrder(jobs: readonly Job[]): string[] {
  return [...jobs].sort(compareSearchKeys).map((j) => j.id);
}

export function searchCases(h: Harness): void {
  describe('job search (indexes)', () => {
    it('finds jobs by name, newest created first, a page at a time with a cursor', async () => {
      const q = h.queue<{ n: number; tag?: string }>();
      const added: string[] = [];
      for (let i = 0; i < 7; i++) {
        if (i % 3 === 0) await sleep(2); // some share a creation time, some do not
        added.push((await q.add(i % 2 === 0 ? 'even' : 'odd', { n: i, tag: i === 4 ? 'needle' : 'hay' })).id);
      }
      const jobs = await Promise.all(added.map(async (id) => (await q.getJob(id)) as Job));
      const even = searchOrder(jobs.filter((j) => j.name === 'even'));
      expect(even).toHaveLength(4);
      expect(await allPages(q, { state: 'waiting', name: 'even' }, 50)).toEqual(even);
      expect(await allPages(q, { state: 'waiting', name: 'even' }, 1)).toEqual(even);
      expect(await allPages(q, { state: 'waiting', name: 'even' }, 3)).toEqual(even);
      const first = await q.searchJobs({ state: 'waiting', name: 'odd' }, { limit: 2 });
      expect(first.jobs.map((j) => j.id)).toEqual(
        searchOrder(jobs.filter((j) => j.name === 'odd')).slice(0, 2),
      );
      expect(first.next).toBeDefined();
      // Text in the data, within the name's candidates; other states and names match nothing.
      expect(await allPages(q, { state: 'waiting', name: 'even', text: '"needle"' }, 50)).toEqual([added[4]]);
      expect(await allPages(q, { state: 'active', name: 'even' }, 50)).toEqual([]);
      expect(await allPages(q, { state: 'waiting', name: 'none' }, 50)).toEqual([]);
      // Time range on createdAt.
      const t4 = (jobs[4] as Job).createdAt;
      const inRange = searchOrder(jobs.filter((j) => j.name === 'even' && j.createdAt >= t4));
      expect(await allPages(q, { state: 'waiting', name: 'even', from: t4 }, 2)).toEqual(inRange);
      const before = searchOrder(jobs.filter((j) => j.name === 'even' && j.createdAt <= t4 - 1));
      expect(await allPages(q, { state: 'waiting', name: 'even', to: t4 - 1 }, 2)).toEqual(before);
    });

    it('finds jobs by an error of any attempt: class, rule, code, fingerprint, and by attempts made', async () => {
      const q = h.queue<{ fails: number }>({ retry: { attempts: 5, backoff: { type: 'immediate' } } });
      const tries = new Map<string, number>();
      h.worker(q, (job) => {
        const n = (tries.get(job.id) ?? 0) + 1;
        tries.set(job.id, n);
        if (n <= job.data.fails) throw Object.assign(new Error(`reset ${job.id}`), { code: 'ECONNRESET' });
        return 'ok';
      });
      const flaky = (await q.add('call', { fails: 2 })).id;
      const fine = (await q.add('call', { fails: 0 })).id;
      const job = await waitForState(q, flaky, 'completed');
      await waitForState(q, fine, 'completed');
      expect(job.attempts).toHaveLength(3);
      const failed = job.attempts[0]!;
      const { errorClass, rule } = failed;
      expect(errorClass).toBeDefined();
      expect(rule).toBeDefined();
      const base = { state: 'completed' } as const;
      expect(await allPages(q, { ...base, errorCode: 'ECONNRESET' }, 10)).toEqual([flaky]);
      expect(await allPages(q, { ...base, errorClass }, 10)).toEqual([flaky]);
      expect(await allPages(q, { ...base, rule }, 10)).toEqual([flaky]);
      expect(await allPages(q, { ...base, fingerprint: errorFingerprint(failed.error!) }, 10)).toEqual([
        flaky,
      ]);
      expect(await allPages(q, { ...base, minAttempts: 2 }, 10)).toEqual([flaky]);
      expect(await allPages(q, { ...base, minAttempts: 4 }, 10)).toEqual([]);
      expect(await allPages(q, { ...base, name: 'call', maxAttempts: 1 }, 10)).toEqual([fine]);
      expect(
        await allPages(q, { ...base, errorCode: 'ECONNRESET', name: 'call', minAttempts: 3 }, 10),
      ).toEqual([flaky]);
      expect(await allPages(q, { ...base, errorCode: 'EOTHER' }, 10)).toEqual([]);
      // finishedAt is the time range of a finished state.
      expect(await allPages(q, { ...base, name: 'call', from: job.finishedAt! + 10_000 }, 10)).toEqual([]);
      expect(await allPages(q, { ...base, name: 'call', to: job.finishedAt! }, 10)).toContain(flaky);
    });

    it('finds jobs run again by a person (trigger manual), and drops deleted jobs from the indexes', async () => {
      const q = h.queue<{ n: number }>({ retry: { attempts: 1 } });
      const w = h.worker(q, () => {
        throw new PermanentError('no', { code: 'BAD' });
      });
      const a = (await q.add('x', { n: 1 })).id;
      const b = (await q.add('x', { n: 2 })).id;
      await waitForState(q, a, 'dead');
      await waitForState(q, b, 'dead');
      await w.close();
      expect(await allPages(q, { state: 'dead', trigger: 'manual' }, 10)).toEqual([]);
      await q.dlq.replay(a, { by: 'alice' });
      expect(await allPages(q, { state: 'waiting', trigger: 'manual' }, 10)).toEqual([a]);
      expect(await allPages(q, { state: 'waiting', name: 'x', minAttempts: 1 }, 10)).toEqual([a]);
      expect(await allPages(q, { state: 'dead', errorCode: 'BAD' }, 10)).toEqual([b]);
      await q.dlq.purge({ ids: [b] });
      expect(await allPages(q, { state: 'dead', errorCode: 'BAD' }, 10)).toEqual([]);
      expect(await allPages(q, { state: 'dead', name: 'x' }, 10)).toEqual([]);
    });

    it('refuses a query without an indexed filter and a cursor that is not one', async () => {
      const q = h.queue();
      await expect(q.searchJobs({ state: 'waiting' })).rejects.toThrow(/query must be/);
      await expect(q.searchJobs({ state: 'waiting', name: 'a' }, { cursor: 'nope' })).rejects.toThrow(
        /cursor must be/,
      );
    });
  });
}
