import { describe, expect, it } from 'vitest';

import { ValidationError } from '../../src/errors.js';
import { MAX_LOG_BYTES, MAX_LOG_EVENT_BYTES, MAX_LOG_LINES, MAX_PROGRESS_BYTES } from '../../src/progress.js';
import { TemporaryError } from '../../src/errors.js';
import type { Harness } from './context.js';
import { waitForState, waitUntil } from './context.js';

export function progressCases(h: Harness): void {
  describe('progress and logs, per attempt', () => {
    it('stores the latest progress and every line with the attempt they belong to, and publishes them', async () => {
      const q = h.queue<null, string>();
      h.worker(q, async (job) => {
        job.log(`attempt ${job.attempt} starts`);
        job.progress({ done: 1, of: 3 });
        job.progress({ done: 2, of: 3 });
        await new Promise((r) => setTimeout(r, 5));
        job.log({ not: 'a string' });
        job.progress({ done: 3, of: 3 });
        if (job.attempt === 1) throw new TemporaryError('try again', { retryAfterMs: 0 });
        return 'ok';
      });
      const { id } = await q.add('p', null);
      const job = await waitForState(q, id, 'completed');
      expect(job.attempts.map((a) => a.progress?.value)).toEqual([
        { done: 3, of: 3 },
        { done: 3, of: 3 },
      ]);
      expect(job.attempts.map((a) => a.logs?.map((l) => l.line))).toEqual([
        ['attempt 1 starts', '[object Object]'],
        ['attempt 2 starts', '[object Object]'],
      ]);
      const [first] = job.attempts;
      for (const l of first?.logs ?? []) {
        // (startedAt is the worker's estimate of its start in backend time: compare with the due time)
        expect(l.at).toBeGreaterThanOrEqual(first?.dueAt ?? Infinity);
        expect(l.at).toBeLessThanOrEqual(first?.finishedAt ?? 0);
      }
      expect(first?.logsDropped).toBeUndefined();
      expect((await q.history(id)).map((a) => a.logs?.length)).toEqual([2, 2]);
      const events = (await h.backend.readEvents(q.name, '0', 1000)).filter(
        (e) => e.jobId === id && (e.type === 'progress' || e.type === 'log'),
      );
      const progress = events.filter((e) => e.type === 'progress');
      expect(progress.at(-1)?.fields).toEqual({ attempt: '2', value: '{"done":3,"of":3}' });
      expect(events.filter((e) => e.type === 'log').reduce((n, e) => n + Number(e.fields.lines), 0)).toBe(4);
    });

    it('shows the progress and lines of the attempt in progress on the job', async () => {
      const q = h.queue();
      let release = (): void => undefined;
      const gate = new Promise<void>((r) => (release = r));
      h.worker(q, async (job) => {
        job.progress(42);
        job.log('working');
        await gate;
      });
      const { id } = await q.add('p', null);
      const running = await waitUntil(async () => {
        const j = await q.getJob(id);
        return j?.current?.logs?.length ? j : undefined;
      }, 'the running attempt to show its line');
      expect(running?.current?.progress?.value).toBe(42);
      expect(running?.current?.logs?.map((l) => l.line)).toEqual(['working']);
      release();
      const done = await waitForState(q, id, 'completed');
      expect(done.attempts[0]?.logs?.map((l) => l.line)).toEqual(['working']);
    });

    it('carries the kept lines themselves in the log event, whole, up to MAX_LOG_EVENT_BYTES', async () => {
      const q = h.queue();
      const { id } = await q.add('p', null);
      const [c] = (await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 1 })).jobs;
      expect(c?.attempt).toBe(1);
      const small = ['"a, b"', JSON.stringify('quote " and , comma'), '"ünï"'];
      expect(await h.backend.writeTrail(q.name, { id, attempt: 1, workerId: 'w', lines: small })).toEqual({
        ok: true,
        kept: 3,
        dropped: 0,
      });
      // 1,000-char lines: 1,002 bytes of JSON each, so four fit in the event and the fifth does not.
      const big = Array.from({ length: 6 }, (_, i) => JSON.stringify(String(i).repeat(1000)));
      expect(Math.floor(MAX_LOG_EVENT_BYTES / 1002)).toBe(4);
      await h.backend.writeTrail(q.name, { id, attempt: 1, workerId: 'w', lines: big });
      const logs = (await h.backend.readEvents(q.name, '0', 1000)).filter(
        (e) => e.jobId === id && e.type === 'log',
      );
      expect(logs.map((e) => e.fields)).toEqual([
        { attempt: '1', lines: '3', dropped: '0', text: `[${small.join(',')}]`, more: '0' },
        { attempt: '1', lines: '6', dropped: '0', text: `[${big.slice(0, 4).join(',')}]`, more: '2' },
      ]);
      expect(JSON.parse(logs[0]?.fields.text ?? '')).toEqual(['a, b', 'quote " and , comma', 'ünï']);
    });

    it('refuses a write from a worker that does not hold the attempt, and stores nothing', async () => {
      const q = h.queue();
      const { id } = await q.add('p', null);
      expect(
        await h.backend.writeTrail(q.name, { id, attempt: 1, workerId: 'w', progress: '1', lines: ['"x"'] }),
      ).toEqual({ ok: false, reason: 'stale' }); // not claimed yet
      const [c] = (await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 1 })).jobs;
      expect(c?.attempt).toBe(1);
      const stale = [
        { id, attempt: 2, workerId: 'w' },
        { id, attempt: 1, workerId: 'other' },
        { id: 'nope', attempt: 1, workerId: 'w' },
      ];
      for (const s of stale) {
        expect(await h.backend.writeTrail(q.name, { ...s, progress: '1', lines: ['"x"'] })).toEqual({
          ok: false,
          reason: 'stale',
        });
      }
      expect((await q.getJob(id))?.current?.logs).toBeUndefined();
      expect(
        await h.backend.writeTrail(q.name, { id, attempt: 1, workerId: 'w', lines: ['"mine"'] }),
      ).toEqual({
        ok: true,
        kept: 1,
        dropped: 0,
      });
      const cur = (await q.getJob(id))?.current;
      expect(cur?.logs?.map((l) => l.line)).toEqual(['mine']);
      expect(cur?.progress).toBeUndefined();
    });

    it('keeps at most MAX_LOG_LINES lines and MAX_LOG_BYTES bytes per attempt, counting the rest', async () => {
      const q = h.queue();
      const { id } = await q.add('p', null);
      await h.backend.claim(q.name, { workerId: 'w', leaseMs: 5000, max: 1 });
      const w = { id, attempt: 1, workerId: 'w' };
      const short = Array.from({ length: MAX_LOG_LINES + 5 }, (_, i) => JSON.stringify(`l${i}`));
      expect(await h.backend.writeTrail(q.name, { ...w, lines: short.slice(0, 300) })).toEqual({
        ok: true,
        kept: 300,
        dropped: 0,
      });
      expect(await h.backend.writeTrail(q.name, { ...w, lines: short.slice(300), dropped: 7 })).toEqual({
        ok: true,
        kept: MAX_LOG_LINES - 300,
        dropped: 5 + 7,
      });
      const cur = (await q.getJob(id))?.current;
      expect(cur?.logs?.length).toBe(MAX_LOG_LINES);
      expect(cur?.logs?.at(-1)?.line).toBe(`l${MAX_LOG_LINES - 1}`);
      expect(cur?.logsDropped).toBe(12);

      // Bytes: lines of 1000 characters are 1002 bytes of JSON each.
      const q2 = h.queue();
      const b = await q2.add('p', null);
      await h.backend.claim(q2.name, { workerId: 'w', leaseMs: 5000, max: 1 });
      const long = JSON.stringify('x'.repeat(1000));
      const r = await h.backend.writeTrail(q2.name, {
        id: b.id,
        attempt: 1,
        workerId: 'w',
        lines: Array.from({ length: 80 }, () => long),
      });
      const fit = Math.floor(MAX_LOG_BYTES / 1002);
      expect(r).toEqual({ ok: true, kept: fit, dropped: 80 - fit });
      expect((await q2.getJob(b.id))?.current?.logsDropped).toBe(80 - fit);
    });

    it('refuses a progress value that is not JSON or too large, in the handler', async () => {
      const q = h.queue<null, string>();
      h.worker(q, (job) => {
        const errors: string[] = [];
        for (const v of [undefined, () => 1, 'x'.repeat(MAX_PROGRESS_BYTES)]) {
          try {
            job.progress(v);
          } catch (e) {
            errors.push(e instanceof ValidationError ? e.field : 'other');
          }
        }
        job.progress('x'.repeat(MAX_PROGRESS_BYTES - 2)); // exactly the bound with its quotes
        return errors.join(',');
      });
      const { id } = await q.add('p', null);
      const done = await waitForState(q, id, 'completed');
      expect(done.result).toBe('progress,progress,progress');
      expect((done.attempts[0]?.progress?.value as string).length).toBe(MAX_PROGRESS_BYTES - 2);
    });
  });
}
