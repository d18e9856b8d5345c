import { describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { resolveRetryPolicy } from '../../src/backoff.js';
import { ValidationError } from '../../src/errors.js';
import { Queue } from '../../src/queue.js';
import { assertDuration, checkNote, checkText, checkWho, isText, Rules } from '../../src/validate.js';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error('did not throw');
}

async function rejectionOf(p: Promise<unknown>): Promise<ValidationError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ValidationError);
  return e as ValidationError;
}

describe('text rules', () => {
  it.each([
    ['who', 'a', true],
    ['who', '', false],
    ['who', 'x'.repeat(200), true],
    ['who', 'x'.repeat(201), false],
    // Lengths are code points, as JSON Schema counts them: 200 emoji are 400 UTF-16 units.
    ['who', '😀'.repeat(200), true],
    ['who', '😀'.repeat(201), false],
    ['who', 'ops\uD800', false],
    ['who', '\uDC00', false],
    ['note', '', true],
    ['note', 'n'.repeat(2000), true],
    ['note', 'n'.repeat(2001), false],
    ['jobId', 'a:b.c-d_e', true],
    ['jobId', 'a b', false],
    ['jobId', 'x'.repeat(129), false],
    ['queueName', 'emails', true],
    ['queueName', '-emails', false],
    ['jobName', 'send <b>', true],
    ['jobName', 'line\nbreak', false],
    ['jobName', 'x\uD83D', false],
    ['strategyName', 'retryAfter', true],
    ['strategyName', '\uD800', false],
  ] as const)('%s accepts %j: %s', (rule, value, ok) => {
    expect(isText(value, Rules[rule])).toBe(ok);
    // The JSON Schema half of the rule agrees (as Ajv runs it, with the u flag).
    const r = Rules[rule];
    const n = [...value].length;
    expect(new RegExp(r.pattern, 'u').test(value) && n >= r.minLength && n <= r.maxLength).toBe(ok);
  });

  it('one message style: the field, the rule, what was received', () => {
    expect(messageOf(() => checkWho('ops\uD800'))).toBe(
      'by must be 1-200 characters of valid Unicode (no lone surrogates), received "ops\\ud800"',
    );
    expect(messageOf(() => checkNote(5, 'reason'))).toBe(
      'reason must be at most 2000 characters of valid Unicode (no lone surrogates), received 5',
    );
    expect(messageOf(() => checkText('a b', 'options.id', Rules.jobId))).toBe(
      `options.id must be 1-128 characters of letters, digits, '_', '.', ':' or '-', other than '.' and '..' (a URL path cannot carry those), received "a b"`,
    );
    expect(messageOf(() => assertDuration(-1, 'options.delay'))).toBe(
      'options.delay must be a number of milliseconds between 0 and 31536000000 (a year), received -1',
    );
  });

  it('a custom strategy name follows its rule (no lone surrogates)', () => {
    const bad = { attempts: 2, backoff: { type: 'custom', name: '\uD800' } };
    expect(messageOf(() => resolveRetryPolicy(bad))).toBe(
      'retry.backoff.name must be 1-100 characters of valid Unicode (no lone surrogates), received "\\ud800"',
    );
  });
});

describe('who, note and ids: the same rule everywhere (regression)', () => {
  const queue = () => new Queue('validate-test', { backend: new MemoryBackend() });

  it('replay refuses a lone surrogate in by, as cancel does, with the same message', async () => {
    const q = queue();
    const cancel = await rejectionOf(q.cancel('some-id', { by: 'ops\uD800' }));
    const replay = await rejectionOf(q.dlq.replay('some-id', { by: 'ops\uD800' }));
    expect(replay.field).toBe('by');
    expect(replay.message).toBe(cancel.message);
  });

  it('replay refuses a lone surrogate in the note, as cancel does in the reason', async () => {
    const q = queue();
    const replay = await rejectionOf(q.dlq.replay('some-id', { by: 'ops', note: '\uDC00' }));
    expect(replay.field).toBe('note');
    expect(replay.rule).toBe(Rules.note.rule);
    const cancel = await rejectionOf(q.cancel('some-id', { by: 'ops', reason: '\uDC00' }));
    expect(cancel.rule).toBe(Rules.note.rule);
  });

  it('getJob checks the id with the job-id rule used by add', async () => {
    const e = await rejectionOf(queue().getJob('a b'));
    expect(e.field).toBe('id');
    expect(e.rule).toBe(Rules.jobId.rule);
  });
});
