/**
 * `queue.preview()` with custom strategies (README: every policy is previewable): the queue finds
 * them in its `strategies` option, in its workers' in this process, or in the call; and its
 * workers run the queue's.
 */
import { describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import type { CustomStrategy } from '../../src/backoff.js';
import { ValidationError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import type { RetryPolicy } from '../../src/types.js';
import { Worker } from '../../src/worker.js';
import { waitForState } from '../conformance/context.js';

const tenfold: CustomStrategy = ({ attempt }) => ({
  delayMs: 10 * attempt,
  explanation: `10 × ${attempt} ms`,
});
const fixed7: CustomStrategy = () => 7;
const policy: RetryPolicy = { attempts: 3, backoff: { type: 'custom', name: 'tenfold' } };
const tenfoldSteps = [
  { attempt: 2, phase: 0, delayMs: 10, minDelayMs: 10, maxDelayMs: 10, atMs: 10, explanation: '10 × 1 ms' },
  { attempt: 3, phase: 0, delayMs: 20, minDelayMs: 20, maxDelayMs: 20, atMs: 30, explanation: '10 × 2 ms' },
];

function queue(options: ConstructorParameters<typeof Queue>[1] = {}): Queue {
  return new Queue('q', { backend: new MemoryBackend(), ...options });
}

function thrown(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  return expect.fail('expected a ValidationError');
}

describe('queue.preview with custom strategies', () => {
  it("uses the queue's strategies option, for its own policy and a given one", () => {
    const q = queue({ retry: policy, strategies: { tenfold } });
    expect(q.preview()).toEqual({
      maxAttempts: 3,
      steps: tenfoldSteps,
      then: 'dead-letter',
      summary: 'will retry at +10 ms, +30 ms, then dead-letter',
    });
    expect(q.preview(policy).steps).toEqual(tenfoldSteps);
  });

  it('uses the strategies of a worker created on the queue', async () => {
    const q = queue();
    const w = new Worker(q, () => undefined, { autostart: false, strategies: { tenfold } });
    expect(q.preview(policy).steps).toEqual(tenfoldSteps);
    await w.close();
  });

  it('uses strategies passed to the call, over the known ones', () => {
    const q = queue({ strategies: { tenfold } });
    const p = q.preview(policy, { strategies: { tenfold: fixed7 } });
    expect(p.steps.map((s) => [s.delayMs, s.explanation])).toEqual([
      [7, 'custom "tenfold": 7 ms'],
      [7, 'custom "tenfold": 7 ms'],
    ]);
  });

  it('keeps the first function known under a name (the queue option over a worker)', async () => {
    const q = queue({ strategies: { tenfold } });
    const w = new Worker(q, () => undefined, { autostart: false, strategies: { tenfold: fixed7 } });
    expect(q.preview(policy).steps).toEqual(tenfoldSteps);
    await w.close();
  });

  it('says what it needs for an unknown strategy', () => {
    const e = thrown(() => queue({ strategies: { fixed7 } }).preview(policy));
    expect(e.message).toBe(
      'retry.backoff.name must be the name of a custom strategy passed as strategies to the Worker, the Queue or preview (known: fixed7), received "tenfold"',
    );
  });

  it('refuses a strategy that is not a function, naming the field', () => {
    expect(thrown(() => queue({ strategies: { x: 5 as never } })).message).toBe(
      'options.strategies.x must be a function, received 5',
    );
    expect(thrown(() => queue().preview(policy, { strategies: { x: 'no' as never } })).message).toBe(
      'options.strategies.x must be a function, received "no"',
    );
  });

  it("a worker runs the queue's strategies, its own winning on a clash", async () => {
    const q = queue({ strategies: { tenfold, other: fixed7 } });
    const w = new Worker(q, () => undefined, { autostart: false, strategies: { other: tenfold } });
    expect(Object.keys(w.options.strategies).sort()).toEqual(['other', 'tenfold']);
    expect(w.options.strategies.tenfold).toBe(tenfold);
    expect(w.options.strategies.other).toBe(tenfold);
    await w.close();
  });

  it("a job's retries follow a strategy given only to the queue", async () => {
    const q = queue({ strategies: { tenfold } });
    const { id } = await q.add('x', null, { retry: policy });
    const w = new Worker(q, () => Promise.reject(new Error('always fails')), { leaseMs: 5000 });
    const job = await waitForState(q, id, 'dead');
    await w.close();
    expect(
      job.attempts.map((a) => (a.decision.action === 'retry' ? a.decision.delayMs : a.decision.action)),
    ).toEqual([10, 20, 'dead']);
  });
});
