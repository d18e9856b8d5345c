import { describe, expect, it } from 'vitest';

import { PermanentError, TemporaryError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import type { Attempt, Decision } from '../../src/types.js';
import { TimeoutError } from '../../src/errors.js';
import type { Harness } from './context.js';
import { sleep, waitForState, waitUntil } from './context.js';

type RetryDecision = Extract<Decision, { action: 'retry' }>;

/** The attempt's decision, which must be a retry. */
function retryOf(a: Attempt | undefined): RetryDecision {
  expect(a?.decision.action).toBe('retry');
  return a?.decision as RetryDecision;
}

function delaysOf(attempts: readonly Attempt[]): number[] {
  return attempts.filter((a) => a.decision.action === 'retry').map((a) => retryOf(a).delayMs);
}

function fail(): never {
  throw new Error('always fails');
}

export function retriesCases(h: Harness): void {
  describe('retries', () => {
    describe('backoff strategies', () => {
      it('fixed backoff records the same delay before every retry', async () => {
        const q = h.queue({ retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 25 } } });
        const { id } = await q.add('fixed', null);
        h.worker(q, fail);
        const job = await waitForState(q, id, 'dead');
        expect(job.attempts).toHaveLength(3);
        expect(delaysOf(job.attempts)).toEqual([25, 25]);
        expect(retryOf(job.attempts[0]).detail).toMatchObject({ strategy: 'fixed', baseMs: 25, retry: 1 });
      });

      it('linear backoff grows the delay by its step each retry', async () => {
        const q = h.queue({ retry: { attempts: 4, backoff: { type: 'linear', delayMs: 10, stepMs: 15 } } });
        const { id } = await q.add('linear', null);
        h.worker(q, fail);
        const job = await waitForState(q, id, 'dead');
        expect(delaysOf(job.attempts)).toEqual([10, 25, 40]);
        expect(retryOf(job.attempts[2]).detail).toMatchObject({ strategy: 'linear', retry: 3, stepMs: 15 });
      });

      it('exponential backoff doubles the delay: 20, 40, 80 ms exactly', async () => {
        const q = h.queue({
          retry: { attempts: 4, backoff: { type: 'exponential', delayMs: 20, factor: 2 } },
        });
        const { id } = await q.add('exp', null);
        h.worker(q, fail);
        const job = await waitForState(q, id, 'dead');
        expect(job.attempts).toHaveLength(4);
        expect(delaysOf(job.attempts)).toEqual([20, 40, 80]);
        job.attempts.slice(0, 3).forEach((a, i) => {
          const d = retryOf(a);
          expect(d.source).toBe('policy');
          expect(d.detail).toMatchObject({ strategy: 'exponential', retry: i + 1, baseMs: 20, factor: 2 });
        });
      });

      it('each retry is due exactly its delay after the failure, and starts no earlier than due', async () => {
        const q = h.queue({ retry: { attempts: 4, backoff: { type: 'exponential', delayMs: 20 } } });
        const { id } = await q.add('exp', null);
        h.worker(q, fail);
        const job = await waitForState(q, id, 'dead');
        const [a1, a2, a3, a4] = job.attempts;
        expect(a1?.dueAt).toBe(job.createdAt);
        for (const [prev, next] of [
          [a1, a2],
          [a2, a3],
          [a3, a4],
        ] as const) {
          const d = retryOf(prev);
          expect(d.nextDueAt).toBe((prev?.finishedAt ?? NaN) + d.delayMs);
          expect(next?.dueAt).toBe(d.nextDueAt);
          expect(next?.startedAt).toBeGreaterThanOrEqual(next?.dueAt ?? Infinity);
          expect(next?.driftMs).toBe((next?.startedAt ?? NaN) - (next?.dueAt ?? NaN));
          expect(next?.trigger).toBe('auto');
        }
        expect(job.attempts.map((a) => a.n)).toEqual([1, 2, 3, 4]);
      });
    });

    describe('jitter', () => {
      it('full jitter with a draw of 0.25 waits a quarter of the exponential delay', async () => {
        const q = h.queue({
          retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 40, jitter: 'full' } },
        });
        const { id } = await q.add('full', null);
        h.worker(q, fail, { random: () => 0.25 });
        const job = await waitForState(q, id, 'dead');
        // floor(40 × 0.25), floor(80 × 0.25)
        expect(delaysOf(job.attempts)).toEqual([10, 20]);
        expect(retryOf(job.attempts[0]).detail).toMatchObject({ jitter: 'full', draw: 0.25, rawMs: 40 });
        expect(retryOf(job.attempts[1]).detail).toMatchObject({ jitter: 'full', draw: 0.25, rawMs: 80 });
      });

      it('equal jitter with a draw of 0.25 waits half the delay plus a quarter of the other half', async () => {
        const q = h.queue({
          retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 40, jitter: 'equal' } },
        });
        const { id } = await q.add('equal', null);
        h.worker(q, fail, { random: () => 0.25 });
        const job = await waitForState(q, id, 'dead');
        // 20 + 0.25 × 20 = 25; 40 + 0.25 × 40 = 50
        expect(delaysOf(job.attempts)).toEqual([25, 50]);
        expect(retryOf(job.attempts[0]).detail).toMatchObject({ jitter: 'equal', draw: 0.25 });
      });

      it('decorrelated jitter with a draw of 0.25 draws between the base and three times the previous delay', async () => {
        const q = h.queue({
          retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 20, jitter: 'decorrelated' } },
        });
        const { id } = await q.add('decorrelated', null);
        h.worker(q, fail, { random: () => 0.25 });
        const job = await waitForState(q, id, 'dead');
        // first: 20 + 0.25 × (60 − 20) = 30; second: 20 + 0.25 × (90 − 20) = 37.5 → 37
        expect(delaysOf(job.attempts)).toEqual([30, 37]);
        expect(retryOf(job.attempts[1]).detail).toMatchObject({ jitter: 'decorrelated', draw: 0.25 });
      });

      it('full jitter with Math.random stays within [0, raw] and is reproducible from the recorded draw', async () => {
        const q = h.queue({
          retry: { attempts: 4, backoff: { type: 'exponential', delayMs: 20, jitter: 'full' } },
        });
        const { id } = await q.add('full', null);
        h.worker(q, fail);
        const job = await waitForState(q, id, 'dead');
        job.attempts.slice(0, 3).forEach((a, i) => {
          const d = retryOf(a);
          const raw = 20 * 2 ** i;
          const draw = d.detail.draw ?? NaN;
          expect(draw).toBeGreaterThanOrEqual(0);
          expect(draw).toBeLessThan(1);
          expect(d.delayMs).toBeGreaterThanOrEqual(0);
          expect(d.delayMs).toBeLessThanOrEqual(raw);
          expect(d.delayMs).toBe(Math.floor(raw * draw));
        });
      });

      it('equal jitter with Math.random stays within [raw / 2, raw]', async () => {
        const q = h.queue({
          retry: { attempts: 4, backoff: { type: 'exponential', delayMs: 20, jitter: 'equal' } },
        });
        const { id } = await q.add('equal', null);
        h.worker(q, fail);
        const job = await waitForState(q, id, 'dead');
        job.attempts.slice(0, 3).forEach((a, i) => {
          const d = retryOf(a);
          const raw = 20 * 2 ** i;
          expect(d.delayMs).toBeGreaterThanOrEqual(raw / 2);
          expect(d.delayMs).toBeLessThanOrEqual(raw);
          expect(typeof d.detail.draw).toBe('number');
        });
      });

      it('decorrelated jitter with Math.random stays between the base and three times the previous delay', async () => {
        const q = h.queue({
          retry: { attempts: 4, backoff: { type: 'exponential', delayMs: 20, jitter: 'decorrelated' } },
        });
        const { id } = await q.add('decorrelated', null);
        h.worker(q, fail);
        const job = await waitForState(q, id, 'dead');
        let prev = 20;
        for (const a of job.attempts.slice(0, 3)) {
          const d = retryOf(a);
          expect(d.delayMs).toBeGreaterThanOrEqual(20);
          expect(d.delayMs).toBeLessThanOrEqual(3 * prev);
          expect(typeof d.detail.draw).toBe('number');
          prev = d.delayMs;
        }
      });
    });

    describe('policies', () => {
      it('a multi-phase policy retries twice at once, twice exponentially, then dead-letters as exhausted', async () => {
        const q = h.queue({
          retry: {
            phases: [
              { retries: 2, backoff: { type: 'immediate' } },
              { retries: 2, backoff: { type: 'exponential', delayMs: 20 } },
            ],
          },
        });
        const { id } = await q.add('phased', null);
        h.worker(q, fail);
        const job = await waitForState(q, id, 'dead');
        expect(job.attempts).toHaveLength(5);
        expect(delaysOf(job.attempts)).toEqual([0, 0, 20, 40]);
        expect(job.attempts.slice(0, 4).map((a) => retryOf(a).detail.phase)).toEqual([0, 0, 1, 1]);
        expect(job.attempts[4]?.decision).toMatchObject({ action: 'dead', reason: 'exhausted' });
        expect(job.state).toBe('dead');
        expect(job.dead?.reason).toBe('exhausted');
      });

      it('a custom strategy registered on the worker chooses the delay and its explanation', async () => {
        const q = h.queue();
        const calls: { retry: number; attempt: number; message: string | undefined }[] = [];
        const { id } = await q.add('custom', null, {
          retry: { attempts: 3, backoff: { type: 'custom', name: 'myFn' } },
        });
        h.worker(q, fail, {
          strategies: {
            myFn: ({ retry, attempt, error }) => {
              calls.push({ retry, attempt, message: error?.message });
              return { delayMs: 15 * attempt, explanation: `myFn waited ${15 * attempt} ms` };
            },
          },
        });
        const job = await waitForState(q, id, 'dead');
        expect(delaysOf(job.attempts)).toEqual([15, 30]);
        expect(retryOf(job.attempts[1]).explanation).toBe('myFn waited 30 ms');
        expect(retryOf(job.attempts[1]).detail.strategy).toBe('custom');
        expect(calls).toEqual([
          { retry: 1, attempt: 1, message: 'always fails' },
          { retry: 2, attempt: 2, message: 'always fails' },
        ]);
        expect(job.attempts[2]?.decision).toMatchObject({ action: 'dead', reason: 'exhausted' });
      });

      it('a custom strategy the worker does not know dead-letters the job, saying why', async () => {
        const q = h.queue();
        const { id } = await q.add('custom', null, {
          retry: { attempts: 3, backoff: { type: 'custom', name: 'missing' } },
        });
        h.worker(q, fail);
        const job = await waitForState(q, id, 'dead');
        expect(job.attempts).toHaveLength(1);
        const d = job.attempts[0]?.decision;
        expect(d?.action).toBe('dead');
        expect(d && 'explanation' in d ? d.explanation : '').toContain('missing');
      });

      it("a job's own retry policy overrides the queue default", async () => {
        const q = h.queue({ retry: { attempts: 1 } });
        const { id: byQueue } = await q.add('queue-policy', null);
        const { id: byJob } = await q.add('job-policy', null, {
          retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } },
        });
        h.worker(q, fail);
        const a = await waitForState(q, byQueue, 'dead');
        const b = await waitForState(q, byJob, 'dead');
        expect(a.attempts).toHaveLength(1);
        expect(a.options.retry.maxAttempts).toBe(1);
        expect(b.attempts).toHaveLength(3);
        expect(b.options.retry.maxAttempts).toBe(3);
        expect(delaysOf(b.attempts)).toEqual([10, 10]);
      });

      it('a handler-chosen delay (TemporaryError retryAfterMs) replaces the policy delay', async () => {
        const q = h.queue({ retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 5000 } } });
        const { id } = await q.add('limited', null);
        h.worker(q, (job) => {
          if (job.attempt === 1) throw new TemporaryError('rate limited', { retryAfterMs: 60 });
          return 'ok';
        });
        const job = await waitForState(q, id, 'completed');
        const d = retryOf(job.attempts[0]);
        expect(d.source).toBe('handler');
        expect(d.delayMs).toBe(60);
        expect(d.detail.strategy).toBe('handler');
        expect(d.explanation).toContain('60 ms');
        expect(d.explanation).toContain('handler');
        expect(job.attempts[1]?.dueAt).toBe(d.nextDueAt);
      });
    });

    describe('classification', () => {
      it('a PermanentError dead-letters after one attempt, classified permanent by its rule', async () => {
        const q = h.queue({ retry: { attempts: 5 } });
        const { id } = await q.add('perm', null);
        h.worker(q, () => {
          throw new PermanentError('bad input');
        });
        const job = await waitForState(q, id, 'dead');
        expect(job.attempts).toHaveLength(1);
        expect(job.attempts[0]).toMatchObject({
          outcome: 'failed',
          errorClass: 'permanent',
          rule: 'thrown:PermanentError',
          decision: { action: 'dead', reason: 'permanent' },
        });
        expect(job.dead?.reason).toBe('permanent');
      });

      it('a TemporaryError is retried, classified by its rule', async () => {
        const q = h.queue({ retry: { attempts: 2 } });
        const { id } = await q.add('temp', null);
        h.worker(q, (job) => {
          if (job.attempt === 1) throw new TemporaryError('try later');
          return 'ok';
        });
        const job = await waitForState(q, id, 'completed');
        expect(job.attempts[0]).toMatchObject({
          errorClass: 'temporary',
          rule: 'thrown:TemporaryError',
          decision: { action: 'retry' },
        });
        expect(job.attempts[1]?.outcome).toBe('succeeded');
      });

      it('a plain Error is temporary by the default rule', async () => {
        const q = h.queue({ retry: { attempts: 2 } });
        const { id } = await q.add('plain', null);
        h.worker(q, (job) => {
          if (job.attempt === 1) throw new Error('whatever');
          return 'ok';
        });
        const job = await waitForState(q, id, 'completed');
        expect(job.attempts[0]).toMatchObject({
          errorClass: 'temporary',
          rule: 'default',
          decision: { action: 'retry' },
        });
      });

      it('an error with code ECONNRESET is temporary by its code', async () => {
        const q = h.queue({ retry: { attempts: 2 } });
        const { id } = await q.add('reset', null);
        h.worker(q, (job) => {
          if (job.attempt === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          return 'ok';
        });
        const job = await waitForState(q, id, 'completed');
        expect(job.attempts[0]).toMatchObject({
          errorClass: 'temporary',
          rule: 'code:ECONNRESET',
          error: { code: 'ECONNRESET' },
          decision: { action: 'retry' },
        });
      });

      it("the queue's code table makes a code permanent", async () => {
        const q = h.queue({ retry: { attempts: 5 }, classify: { codes: { E_BAD_INPUT: 'permanent' } } });
        const { id } = await q.add('coded', null);
        h.worker(q, () => {
          throw Object.assign(new Error('field x is wrong'), { code: 'E_BAD_INPUT' });
        });
        const job = await waitForState(q, id, 'dead');
        expect(job.attempts).toHaveLength(1);
        expect(job.attempts[0]).toMatchObject({ errorClass: 'permanent', rule: 'code:E_BAD_INPUT' });
        expect(job.dead?.reason).toBe('permanent');
      });

      it("the queue's default class 'permanent' dead-letters an unknown error at once", async () => {
        const q = h.queue({ retry: { attempts: 5 }, classify: { default: 'permanent' } });
        const { id } = await q.add('unknown', null);
        h.worker(q, () => {
          throw new Error('no idea');
        });
        const job = await waitForState(q, id, 'dead');
        expect(job.attempts).toHaveLength(1);
        expect(job.attempts[0]).toMatchObject({ errorClass: 'permanent', rule: 'default' });
        expect(job.dead?.reason).toBe('permanent');
      });
    });

    describe('where the classification comes from', () => {
      it('two workers configured differently classify the same job alike: by the table stored with it at add time', async () => {
        const producer = h.queue({
          retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 300 } },
          classify: { codes: { E_QUOTA: 'temporary' } },
          maxResultBytes: 100,
        });
        const { id } = await producer.add('quota', null);
        // Each worker's own queue options would dead-letter the job: A's table makes E_QUOTA
        // permanent, B's default class is permanent. B's result limit is the default 64 KiB.
        const backend = h.backend;
        const asA = new Queue(producer.name, { backend, classify: { codes: { E_QUOTA: 'permanent' } } });
        const asB = new Queue(producer.name, { backend, classify: { default: 'permanent' } });
        const a = h.worker(
          asA,
          () => {
            throw Object.assign(new Error('over quota'), { code: 'E_QUOTA' });
          },
          { workerId: 'worker-a' },
        );
        await waitForState(producer, id, ['scheduled', 'dead']);
        await a.close();
        h.worker(
          asB,
          (job) => {
            if (job.attempt === 2) throw new Error('no idea');
            return 'x'.repeat(200);
          },
          { workerId: 'worker-b' },
        );
        const job = await waitForState(producer, id, ['completed', 'dead']);
        expect(job.attempts.map((x) => [x.workerId, x.errorClass, x.rule, x.decision.action])).toEqual([
          ['worker-a', 'temporary', 'code:E_QUOTA', 'retry'],
          ['worker-b', 'temporary', 'default', 'retry'],
          ['worker-b', undefined, undefined, 'done'],
        ]);
        expect(job.attempts.some((x) => x.classifiedBy !== undefined)).toBe(false);
        expect(job.result).toEqual({ $truncated: true, bytes: 202, limit: 100 });
        expect(job.options.classify).toEqual({ codes: { E_QUOTA: 'temporary' }, default: 'temporary' });
      });

      it("a job that carries no classification (added by an older version) is classified by the worker's queue, and the record says so", async () => {
        const q = h.queue({ classify: { codes: { E_QUOTA: 'permanent' } } });
        const retry = { phases: [{ retries: 2, backoff: { type: 'immediate' } }], maxAttempts: 3 };
        const opts = JSON.stringify({ retry, timeoutMs: 0, maxStalls: 3 });
        const [added] = await h.backend.add(q.name, [
          { id: 'legacy', name: 'old', data: 'null', opts, maxStalls: 3, delayMs: 0, runAt: undefined },
        ]);
        expect(added?.created).toBe(true);
        h.worker(q, () => {
          throw Object.assign(new Error('over quota'), { code: 'E_QUOTA' });
        });
        const job = await waitForState(q, 'legacy', 'dead');
        expect(job.attempts).toHaveLength(1);
        expect(job.attempts[0]).toMatchObject({
          errorClass: 'permanent',
          rule: 'code:E_QUOTA',
          classifiedBy: 'worker',
        });
        expect(job.dead?.reason).toBe('permanent');
      });
    });

    describe('timeouts', () => {
      it("a queue timeout aborts the handler's signal with a TimeoutError and records a timed_out attempt", async () => {
        const q = h.queue({ timeout: 50, retry: { attempts: 2 } });
        const reasons: unknown[] = [];
        const { id } = await q.add('slow', null);
        h.worker(q, (job, signal) => {
          if (job.attempt > 1) return 'second time lucky';
          return new Promise((_, reject) => {
            signal.addEventListener('abort', () => {
              reasons.push(signal.reason);
              reject(signal.reason as Error);
            });
          });
        });
        const job = await waitForState(q, id, 'completed');
        expect(reasons).toHaveLength(1);
        expect(reasons[0]).toBeInstanceOf(TimeoutError);
        expect(job.attempts).toHaveLength(2);
        expect(job.attempts[0]).toMatchObject({
          outcome: 'timed_out',
          rule: 'timeout',
          errorClass: 'temporary',
          error: { name: 'TimeoutError' },
          decision: { action: 'retry' },
        });
        expect(job.attempts[1]?.outcome).toBe('succeeded');
      });

      it('a one-parameter handler finds the same signal on job.signal, aborted even if it looks after the timeout', async () => {
        const q = h.queue({ timeout: 40, retry: { attempts: 1 } });
        const seen: unknown[] = [];
        const { id } = await q.add('slow', null);
        h.worker(q, async (job) => {
          if (job.attempt === 1) {
            // Looks at its signal only after the timeout has fired.
            await sleep(120);
            seen.push(job.signal.aborted, job.signal.reason);
          }
          return 'late';
        });
        const job = await waitForState(q, id, 'dead');
        await waitUntil(() => seen.length === 2, 'the handler to look at its signal');
        expect(seen[0]).toBe(true);
        expect(seen[1]).toBeInstanceOf(TimeoutError);
        expect(job.attempts[0]).toMatchObject({ outcome: 'timed_out', rule: 'timeout' });
      });

      it("a job's timeout applies even when the handler ignores its signal", async () => {
        const q = h.queue({ retry: { attempts: 2 } });
        const { id } = await q.add('slow', null, { timeout: 50 });
        h.worker(q, (job) => (job.attempt > 1 ? 'done' : new Promise((r) => setTimeout(r, 400))));
        const job = await waitForState(q, id, 'completed');
        expect(job.options.timeoutMs).toBe(50);
        expect(job.attempts[0]).toMatchObject({
          outcome: 'timed_out',
          rule: 'timeout',
          errorClass: 'temporary',
        });
        expect(job.failures).toBe(1);
      });
    });

    describe('recorded errors and counters', () => {
      it("records the error's name, message, code and a bounded stack", async () => {
        class PaymentDeclined extends Error {
          override readonly name = 'PaymentDeclined';
          readonly code = 'CARD_DECLINED';
        }
        const q = h.queue({ retry: { attempts: 1 } });
        const longStack =
          'PaymentDeclined: card declined\n' + '    at somewhere (file.js:1:1)\n'.repeat(2000);
        const { id } = await q.add('pay', null);
        h.worker(q, () => {
          const e = new PaymentDeclined('card declined');
          e.stack = longStack;
          throw e;
        });
        const job = await waitForState(q, id, 'dead');
        const err = job.attempts[0]?.error;
        expect(err).toMatchObject({
          name: 'PaymentDeclined',
          message: 'card declined',
          code: 'CARD_DECLINED',
        });
        expect(err?.stack?.startsWith('PaymentDeclined: card declined')).toBe(true);
        expect(err?.stack?.length).toBeLessThan(longStack.length);
        expect(err?.stack?.length).toBeLessThanOrEqual(2048);
        expect(job.dead?.error).toMatchObject({ name: 'PaymentDeclined', code: 'CARD_DECLINED' });
      });

      it('a thrown non-Error value is recorded as NonError with its text', async () => {
        const q = h.queue({ retry: { attempts: 1 } });
        const { id } = await q.add('odd', null);
        h.worker(q, () => {
          throw 'just a string';
        });
        const job = await waitForState(q, id, 'dead');
        expect(job.attempts[0]?.error).toMatchObject({ name: 'NonError', message: 'just a string' });
      });

      it('job.failures counts the failed attempts, not the successful one', async () => {
        const q = h.queue({ retry: { attempts: 4 } });
        const { id } = await q.add('flaky', null);
        h.worker(q, (job) => {
          if (job.attempt <= 2) throw new Error(`fail ${job.attempt}`);
          return 'ok';
        });
        const job = await waitForState(q, id, 'completed');
        expect(job.attempts.map((a) => a.outcome)).toEqual(['failed', 'failed', 'succeeded']);
        expect(job.failures).toBe(2);
        expect(job.stalls).toBe(0);
      });
    });
  });
}
