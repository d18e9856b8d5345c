/**
 * The TypeScript half of the Redis wire format (src/backends/redis/wire.ts), exact values. The Lua
 * half is exercised by the conformance suite on Redis.
 */
import { describe, expect, it } from 'vitest';

import {
  decodeAdd,
  decodeClaim,
  decodeEventEntry,
  decodeFinish,
  encodeAdd,
  encodeFinish,
  encodeReplay,
  rawJobsFromJson,
} from '../../src/backends/redis/wire.js';
import { ValidationError } from '../../src/errors.js';

const claim = { workerId: 'w1', leaseMs: 30_000, max: 2, exclusiveOk: true };

describe('Redis wire format', () => {
  it('sends each distinct options text once per add, and expands the compact reply', () => {
    const jobs = [
      { id: undefined, name: 'a', data: '1', opts: '{"x":1}', maxStalls: 3, delayMs: 0, runAt: undefined },
      {
        id: 'k',
        name: 'b',
        data: '2',
        opts: '{"x":1}',
        maxStalls: 3,
        delayMs: 5,
        runAt: undefined,
        priority: -4,
      },
      {
        id: undefined,
        name: 'c',
        data: '3',
        opts: '{}',
        maxStalls: 2,
        delayMs: 0,
        runAt: 1000,
        trace: '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}',
        dedup: { mode: 'debounce' as const, key: 'doc-7', ms: 5000 },
        group: 'tenant-1',
      },
    ];
    expect(encodeAdd(jobs)).toEqual([
      3,
      2,
      2,
      '{"x":1}',
      3,
      '{}',
      2,
      '',
      'a',
      '1',
      1,
      0,
      '',
      '',
      '',
      '',
      '',
      '',
      'k',
      'b',
      '2',
      1,
      5,
      '',
      -4,
      '',
      '',
      '',
      '',
      '',
      'c',
      '3',
      2,
      '@1000',
      '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}',
      '',
      'debounce',
      5000,
      'doc-7',
      'tenant-1',
    ]);
    expect(decodeAdd(['r', '7', 'waiting'], 2)).toEqual([
      { id: '7', created: true, state: 'waiting' },
      { id: '8', created: true, state: 'waiting' },
    ]);
    expect(decodeAdd(['l', 'k', 0, 'dead', '9', 1, 'scheduled', '9', 2, 'scheduled'], 3)).toEqual([
      { id: 'k', created: false, state: 'dead' },
      { id: '9', created: true, state: 'scheduled' },
      { id: '9', created: false, state: 'scheduled', folded: true },
    ]);
  });

  it('sends a plain success in the short form and everything else whole, as JSON objects', () => {
    const args = encodeFinish(
      [
        {
          id: '1',
          attempt: 1,
          workerId: 'w1',
          outcome: 'succeeded',
          result: '{"ok":true}',
          decision: { action: 'done' },
          heldMs: 2.6,
        },
        {
          id: '2',
          attempt: 3,
          workerId: 'w1',
          outcome: 'failed',
          error: { name: 'E', message: 'm "q"', code: 'C' },
          errorClass: 'temporary',
          rule: 'code:C',
          decision: {
            action: 'retry',
            delayMs: 500,
            source: 'policy',
            explanation: 'x',
            detail: { strategy: 'fixed' },
          },
        },
        {
          id: '3',
          attempt: 2,
          workerId: 'w1',
          outcome: 'failed',
          error: { name: 'P', message: 'no' },
          errorClass: 'permanent',
          rule: 'default',
          fingerprint: 'fp1',
          fingerprintLabel: 'P||no',
          decision: { action: 'dead', reason: 'permanent', explanation: 'y' },
        },
      ],
      claim,
    );
    expect(args).toEqual([
      3,
      2,
      'w1',
      30_000,
      '1',
      'd',
      '1',
      1,
      3,
      '{"ok":true}',
      'x',
      '2',
      3,
      'w1',
      'failed',
      '{"outcome":"failed","error":{"name":"E","message":"m \\"q\\"","code":"C"},"errorClass":"temporary","rule":"code:C"}',
      'retry',
      '{"action":"retry","delayMs":500,"source":"policy","explanation":"x","detail":{"strategy":"fixed"}}',
      500,
      'null',
      '',
      '',
      'C',
      '',
      'temporary',
      0,
      '',
      'x',
      '3',
      2,
      'w1',
      'failed',
      '{"outcome":"failed","error":{"name":"P","message":"no"},"errorClass":"permanent","rule":"default"}',
      'dead',
      '{"action":"dead","reason":"permanent","explanation":"y"}',
      'permanent',
      'null',
      'fp1',
      'P||no',
      '',
      '{"name":"P","message":"no"}',
      'permanent',
      0,
      '',
    ]);
  });

  it('refuses a worker id the scripts could not write into JSON unescaped', () => {
    expect(() => encodeFinish([], { ...claim, workerId: 'w"1' })).toThrow(ValidationError);
  });

  it('decodes the finish results and the claim half', () => {
    const packed = [
      '7',
      'n',
      '{"a":1}',
      'd1',
      '4,manual,100,150,30150,2,1,500,1',
      '{"by":"ann","at":90}',
      '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}',
    ].join('\x1f');
    expect(
      decodeFinish([
        'ok,completed,,200;stale,,,200;ok,scheduled,700,200;not_found,,,200',
        [0, 0, -1, ['d1', '{"o":1}'], packed],
      ]),
    ).toEqual([
      [
        { ok: true, state: 'completed', finishedAt: 200 },
        { ok: false, reason: 'stale' },
        { ok: true, state: 'scheduled', nextDueAt: 700, finishedAt: 200 },
        { ok: false, reason: 'not_found' },
      ],
      {
        recovered: 0,
        paused: false,
        nextWakeInMs: undefined,
        jobs: [
          {
            id: '7',
            name: 'n',
            data: '{"a":1}',
            opts: '{"o":1}',
            attempt: 4,
            trigger: 'manual',
            dueAt: 100,
            startedAt: 150,
            leaseExpiresAt: 30150,
            failures: 2,
            stalls: 1,
            prevDelayMs: 500,
            manual: { by: 'ann', at: 90 },
            exclusive: true,
            trace: '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}',
          },
        ],
      },
    ]);
    expect(decodeClaim([3, 1, 25, [], ''])).toEqual({
      jobs: [],
      recovered: 3,
      paused: true,
      nextWakeInMs: 25,
    });
  });

  it('sends the manual trigger whole and the patch as its own text', () => {
    expect(
      encodeReplay({
        id: '5',
        expectedAttempts: 3,
        data: undefined,
        by: 'ann',
        note: 'fixed',
        patch: '[{"path":"a","op":"add","after":1}]',
      }),
    ).toEqual(['5', 3, '', '{"by":"ann","note":"fixed"}', 'ann', '0', '[{"path":"a","op":"add","after":1}]']);
  });

  it('expands a batched event entry into one event per job, a column stored once applying to all', () => {
    const flat = ['t', 'completed', 'at', '1000', 'id', '4,5', 'worker', 'w1', 'drift', '3,7'];
    expect(decodeEventEntry('1-0', flat)).toEqual([
      { seq: '1-0#0', type: 'completed', jobId: '4', at: 1000, fields: { worker: 'w1', drift: '3' } },
      { seq: '1-0#1', type: 'completed', jobId: '5', at: 1000, fields: { worker: 'w1', drift: '7' } },
    ]);
    expect(decodeEventEntry('2-0', ['t', 'paused', 'at', '5', 'id', ''])).toEqual([
      { seq: '2-0', type: 'paused', at: 5, fields: {} },
    ]);
  });

  it("reads archive-read's JSON reply as read's, cjson's {} as an empty list", () => {
    const text = JSON.stringify([
      [['st', 'completed', 'name', 'a'], ['{"n":1}'], '{"x":1}', {}, {}],
      [{}, {}, ''],
    ]);
    expect(rawJobsFromJson(text)).toEqual([
      [['st', 'completed', 'name', 'a'], ['{"n":1}'], '{"x":1}', [], []],
      [[], [], '', [], []],
    ]);
    expect(rawJobsFromJson('{}')).toEqual([]);
  });
});
