import { describe, expect, it } from 'vitest';

import { JobNotFoundError, PayloadTooLargeError, ValidationError } from '../../src/errors.js';
import type { JobOptions } from '../../src/options.js';
import { Queue } from '../../src/queue.js';
import type { JobState } from '../../src/types.js';
import type { Harness } from './context.js';

/** Runs `fn` (sync or async), which must fail with a ValidationError on `field` whose message states `rule`. */
async function expectInvalid(fn: () => unknown, field: string, rule: string): Promise<ValidationError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ValidationError);
  const err = caught as ValidationError;
  expect(err.field).toBe(field);
  expect(err.rule).toContain(rule);
  expect(err.message).toContain(rule);
  expect(err.message.startsWith(field)).toBe(true);
  return err;
}

const bad = <T>(v: unknown): T => v as T;

export function inputCases(h: Harness): void {
  /** A queue holding one valid job; `check` asserts that nothing else was stored and the job is intact. */
  async function seeded() {
    const q = h.queue();
    const { id } = await q.add('seed', { keep: 'me' }, { id: 'seed-1', delay: 60_000 });
    const before = await q.getJob(id);
    const counts = await q.counts();
    return {
      q,
      check: async () => {
        expect(await q.counts()).toEqual(counts);
        expect(await q.getJob(id)).toEqual(before);
      },
    };
  }

  describe('input validation', () => {
    describe('queue names', () => {
      it.each([
        ['empty', ''],
        ['65 characters', 'a'.repeat(65)],
        ['with a space', 'a b'],
        ['with braces', '{x}'],
        ['with a colon', 'a:b'],
        ['starting with a dash', '-ab'],
      ])('rejects a queue name %s', async (_what, name) => {
        await expectInvalid(() => new Queue(name, { backend: h.backend }), 'queue name', '1-64 characters');
      });

      it('rejects a queue name that is not a string', async () => {
        await expectInvalid(
          () => new Queue(bad<string>(42), { backend: h.backend }),
          'queue name',
          '1-64 characters',
        );
      });

      it('accepts a queue name of exactly 64 allowed characters', async () => {
        const name = `q${Date.now().toString(36)}_.-`.padEnd(64, 'z');
        const q = new Queue(name, { backend: h.backend });
        const { id } = await q.add('ok', null);
        expect((await q.getJob(id))?.state).toBe('waiting');
      });

      it('rejects an unknown queue option', async () => {
        await expectInvalid(
          () => new Queue('qok', bad({ backend: h.backend, retries: 3 })),
          'options.retries',
          'not a known option',
        );
      });
    });

    describe('job options', () => {
      it.each([
        ['with spaces', 'order 42'],
        ['with braces', '{order}'],
        ['of 129 characters', 'x'.repeat(129)],
      ])('rejects a job id %s and stores nothing', async (_what, id) => {
        const { q, check } = await seeded();
        await expectInvalid(() => q.add('j', null, { id }), 'options.id', '1-128 characters');
        await check();
      });

      it.each([
        ['negative', -1],
        ['NaN', NaN],
        ['a string', '10'],
      ])('rejects a delay that is %s and stores nothing', async (_what, delay) => {
        const { q, check } = await seeded();
        await expectInvalid(
          () => q.add('j', null, { delay: bad<number>(delay) }),
          'options.delay',
          'a number of milliseconds',
        );
        await check();
      });

      it('rejects delay and runAt together and stores nothing', async () => {
        const { q, check } = await seeded();
        const now = await h.backend.now();
        await expectInvalid(
          () => q.add('j', null, { delay: 10, runAt: now + 10 }),
          'options.runAt',
          'not set together with delay',
        );
        await check();
      });

      it('rejects an unknown backoff type and stores nothing', async () => {
        const { q, check } = await seeded();
        const retry = bad<JobOptions['retry']>({ attempts: 3, backoff: { type: 'fibonacci', delayMs: 10 } });
        await expectInvalid(
          () => q.add('j', null, { retry }),
          'options.retry.backoff.type',
          'one of immediate, fixed, linear, exponential, custom',
        );
        await check();
      });

      it.each([0, 1.5])('rejects attempts %s and stores nothing', async (attempts) => {
        const { q, check } = await seeded();
        await expectInvalid(
          () => q.add('j', null, { retry: { attempts } }),
          'options.retry.attempts',
          'an integer >= 1',
        );
        await check();
      });

      it('rejects an unknown job option and stores nothing', async () => {
        const { q, check } = await seeded();
        await expectInvalid(
          () => q.add('j', null, bad<JobOptions>({ prority: 1 })),
          'options.prority',
          'not a known option',
        );
        await check();
      });

      it('rejects an empty job name and stores nothing', async () => {
        const { q, check } = await seeded();
        await expectInvalid(() => q.add('', null), 'name', 'a non-empty string');
        await check();
      });
    });

    describe('job data', () => {
      const cycle: Record<string, unknown> = { a: 1 };
      cycle.self = cycle;
      it.each([
        ['a function', { cb: () => 1 }, 'data.cb', 'JSON-serialisable'],
        ['a BigInt', { n: 10n }, 'data.n', 'JSON-serialisable'],
        ['NaN', { x: NaN }, 'data.x', 'finite number'],
        ['a cycle', cycle, 'data.self', 'cycle'],
        ['a Map instance', { m: new Map([['k', 1]]) }, 'data.m', 'plain object'],
      ])(
        'rejects data containing %s, naming the path, and stores nothing',
        async (_what, data, field, rule) => {
          const { q, check } = await seeded();
          await expectInvalid(() => q.add('j', data), field, rule);
          await check();
        },
      );

      it('rejects data over maxDataBytes with a PayloadTooLargeError giving bytes and limit', async () => {
        const q = h.queue({ maxDataBytes: 100 });
        const err = await expectInvalid(() => q.add('big', 'x'.repeat(200)), 'data', 'at most 100 bytes');
        expect(err).toBeInstanceOf(PayloadTooLargeError);
        expect((err as PayloadTooLargeError).bytes).toBe(202);
        expect((err as PayloadTooLargeError).limit).toBe(100);
        expect(Object.values(await q.counts()).reduce((a, b) => a + b, 0)).toBe(0);
      });

      it('addBulk with one bad job adds none of them', async () => {
        const { q, check } = await seeded();
        await expectInvalid(
          () =>
            q.addBulk([
              { name: 'good', data: 1 },
              { name: 'bad', data: { f: () => 1 } },
              { name: 'good too', data: 3 },
            ]),
          'jobs[1].data.f',
          'JSON-serialisable',
        );
        await check();
      });
    });

    describe('lookups and settings', () => {
      it('history of an unknown job throws JobNotFoundError', async () => {
        const q = h.queue();
        await expect(q.history('no-such-job')).rejects.toBeInstanceOf(JobNotFoundError);
      });

      it('cancelling an unknown job throws JobNotFoundError and stores nothing', async () => {
        const { q, check } = await seeded();
        await expect(q.cancel('no-such-job', { by: 'ops' })).rejects.toBeInstanceOf(JobNotFoundError);
        await check();
      });

      it('getJobs rejects an unknown state', async () => {
        const q = h.queue();
        await expectInvalid(() => q.getJobs(bad<JobState>('running')), 'state', 'one of scheduled, waiting');
      });

      it('getJobs rejects a limit of 0', async () => {
        const q = h.queue();
        await expectInvalid(() => q.getJobs('waiting', { limit: 0 }), 'limit', 'an integer between 1 and');
      });

      it('rejects a negative retention count and keeps the previous retention', async () => {
        const q = h.queue();
        await q.setRetention({ completed: { count: 5 } });
        await expectInvalid(
          () => q.setRetention({ completed: { count: -1 } }),
          'retention.completed.count',
          'an integer between 0 and',
        );
        expect(await q.getRetention()).toEqual({ completed: { count: 5 } });
      });

      it('rejects a worker with concurrency 0', async () => {
        const q = h.queue();
        await expectInvalid(
          () => h.worker(q, () => 'never', { concurrency: 0 }),
          'concurrency',
          'an integer between 1 and',
        );
      });

      it('a job stored before a series of bad calls is intact after them', async () => {
        const { q, check } = await seeded();
        const attempts: (() => unknown)[] = [
          () => q.add('j', null, { id: 'seed 1' }),
          () => q.add('j', null, { delay: -5 }),
          () => q.add('j', { f: () => 1 }),
          () => q.add('j', null, { retry: { attempts: 0 } }),
          () => q.addBulk([{ name: 'x', data: 1, options: { id: 'seed-1', delay: NaN } }]),
          () => q.setRetention({ dead: { count: -1 } }),
        ];
        for (const call of attempts) {
          await expect(Promise.resolve().then(call)).rejects.toBeInstanceOf(ValidationError);
        }
        await check();
        expect(await q.getRetention()).toEqual({});
      });
    });
  });
}
