/**
 * The Lua twins generated from src/transitions.ts, keys.ts, schedule.ts and dedup.ts (lua/generated/*.lua) give the same
 * answers as the TypeScript they come from, run by a real Redis over a grid of inputs. Together with
 * `npm run check:lua` (twins not stale), this is what lets a rule be written once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { resolveIncludes } from '../../scripts/build-lua.js';
import * as keys from '../../src/backends/redis/keys.js';
import { encodeFinish } from '../../src/backends/redis/wire.js';
import type { FinishRequest } from '../../src/backend.js';
import { failureFacets, stallFacets } from '../../src/job-index.js';
import * as dedup from '../../src/dedup.js';
import * as progress from '../../src/progress.js';
import * as schedule from '../../src/schedule.js';
import * as budget from '../../src/retry-budget.js';
import * as rollup from '../../src/rollup.js';
import * as rules from '../../src/transitions.js';
import { describeRedis, redisUrl } from '../helpers/redis.js';

const luaDir = join(import.meta.dirname, '..', '..', 'src', 'backends', 'redis', 'lua');

/** Evaluates `expr` in Lua after the generated twins (and what they include), as a JSON text. */
async function lua(client: Redis, expr: string): Promise<unknown> {
  const body = [
    'generated/transitions',
    'generated/keys',
    'generated/schedule',
    'includes/rollup',
    'generated/dedup',
    'includes/retryBudget',
    'generated/progress',
  ]
    .map((f) => resolveIncludes(luaDir, `${f}.lua`))
    .join('\n');
  const script = `${body}\nreturn cjson.encode({ ${expr} })`;
  return (JSON.parse((await client.eval(script, 0)) as string) as unknown[])[0];
}

describeRedis('Lua twins of the TypeScript rules', () => {
  let client: Redis;
  beforeAll(() => {
    client = new Redis(redisUrl()!);
  });
  afterAll(() => client.disconnect());

  it('has a twin of every @lua constant with the same value (objects as their JSON text)', async () => {
    let checked = 0;
    const fileOf = (name: string): string =>
      name.startsWith('KEY_')
        ? 'keys.lua'
        : name in schedule
          ? 'schedule.lua'
          : name in rollup
            ? 'rollup.lua'
            : name in dedup
              ? 'dedup.lua'
              : name in budget
                ? 'retryBudget.lua'
                : name in progress
                  ? 'progress.lua'
                  : 'transitions.lua';
    for (const [name, value] of Object.entries({
      ...rules,
      ...keys,
      ...schedule,
      ...rollup,
      ...dedup,
      ...budget,
      ...progress,
    })) {
      if (typeof value === 'function') continue;
      const tagged = readFileSync(join(luaDir, 'generated', fileOf(name)), 'utf8');
      if (!tagged.includes(`local ${name} =`)) continue;
      const expected = typeof value === 'object' ? JSON.stringify(value) : value;
      expect(await lua(client, name), name).toEqual(expected);
      checked++;
    }
    expect(checked).toBe(59);
  });

  it('puts a time in the same rollup bucket as the TypeScript does (rollupTimeBucket)', async () => {
    const values = [-3, 0, 1, 2, 3, 999, 1000, 1001, 49_999, 50_000, 86_399_999, 86_400_000, 1e11];
    for (const b of rollup.ROLLUP_TIME_BOUNDS_MS) values.push(b - 1, b);
    for (const v of values) {
      expect(await lua(client, `rollupTimeBucket(${v})`), `rollupTimeBucket(${v})`).toBe(
        rollup.rollupTimeBucket(v),
      );
    }
  });

  it('folds adds and keeps dedup keys as the TypeScript does (src/dedup.ts)', async () => {
    for (const mode of ['dedup', 'debounce', 'other']) {
      for (const state of ['scheduled', 'waiting', 'active', 'completed', 'dead', 'cancelled']) {
        expect(await lua(client, `foldsInto('${mode}', '${state}')`), `${mode} ${state}`).toBe(
          dedup.foldsInto(mode, state),
        );
      }
      for (const ms of [1, 5000, 86_400_000]) {
        expect(await lua(client, `keyTtlMs('${mode}', ${ms})`), `${mode} ${ms}`).toBe(
          dedup.keyTtlMs(mode, ms),
        );
      }
    }
  });

  it('places retries and explains a budget as the TypeScript does (retryBudget.lua)', async () => {
    const budgets = [
      { ratio: 0.2, windowMs: 10_000, minPerSecond: 1 },
      { ratio: 0.125, windowMs: 3000, minPerSecond: 0, onExhausted: 'dead' as const },
      { ratio: 3, windowMs: 60_000, minPerSecond: 7 },
    ].map((b) => budget.resolveRetryBudget(b));
    const t0 = Date.UTC(2026, 0, 1) * 1000;
    for (const b of budgets) {
      const text = budget.encodeRetryBudget(b);
      for (const firsts of [0, 1, 3, 17, 230]) {
        for (const [tat, due] of [
          [0, t0 / 1000],
          [t0 + 2_500_000, t0 / 1000],
          [t0 + 2_500_000, t0 / 1000 + 4000],
          [t0 + 999_999, t0 / 1000],
        ] as const) {
          const want = budget.budgetPlace(b, firsts, tat, due);
          const got = await lua(
            client,
            `(function() local d, t = budgetPlace(budgetDecode('${text}'), ${firsts}, ${tat}, ${due}) return { d, string.format('%d', t) } end)()`,
          );
          expect(got, `${text} ${firsts} ${tat} ${due}`).toEqual([want.deferMs, String(want.tatUs)]);
        }
        for (const [defer, dead] of [
          [0, false],
          [250, false],
          [1834, false],
          [75_049, false],
          [10, true],
        ] as const) {
          expect(
            await lua(client, `budgetExplanation(budgetDecode('${text}'), ${firsts}, ${defer}, ${dead})`),
          ).toBe(budget.budgetExplanation(b, firsts, defer, dead));
        }
      }
    }
  });

  it('keeps or drops a log line as the TypeScript does (src/progress.ts logKeeps)', async () => {
    const { MAX_LOG_LINES: L, MAX_LOG_BYTES: B } = progress;
    for (const [lines, bytes, size] of [
      [0, 0, 10],
      [L - 1, 0, 1],
      [L, 0, 1],
      [3, B - 10, 10],
      [3, B - 10, 11],
      [0, 0, B + 1],
    ] as const) {
      expect(await lua(client, `logKeeps(${lines}, ${bytes}, ${size})`), `${lines} ${bytes} ${size}`).toBe(
        progress.logKeeps(lines, bytes, size),
      );
    }
  });

  it('decides poison, suspect, failure and kept delay as the TypeScript does', async () => {
    const pairs: [number, number][] = [];
    for (let stalls = 0; stalls <= 5; stalls++) for (let max = 1; max <= 4; max++) pairs.push([stalls, max]);
    for (const [s, m] of pairs) {
      expect(await lua(client, `isPoison(${s}, ${m})`), `isPoison(${s}, ${m})`).toBe(rules.isPoison(s, m));
      expect(await lua(client, `isSuspect(${s}, ${m})`), `isSuspect(${s}, ${m})`).toBe(rules.isSuspect(s, m));
    }
    for (const outcome of ['succeeded', 'failed', 'timed_out', 'interrupted', 'stalled', 'cancelled']) {
      expect(await lua(client, `countsAsFailure('${outcome}')`), outcome).toBe(
        rules.countsAsFailure(outcome),
      );
      expect(await lua(client, `keepsPreviousDelay('${outcome}')`), outcome).toBe(
        rules.keepsPreviousDelay(outcome),
      );
    }
  });

  it('writes the stall texts and the whole stalled attempt ending byte for byte as JSON.stringify does', async () => {
    const now = 1_767_225_600_123;
    for (const [s, m] of [
      [1, 3],
      [2, 3],
      [3, 3],
      [12, 1000],
    ] as const) {
      expect(await lua(client, `stallRetryExplanation(${s}, ${m})`)).toBe(rules.stallRetryExplanation(s, m));
      expect(await lua(client, `poisonExplanation(${s}, ${m})`)).toBe(rules.poisonExplanation(s, m));
      expect(await lua(client, `stallDecision(${s}, ${m}, ${now})`)).toBe(
        JSON.stringify(rules.stallDecision(s, m, now)),
      );
      expect(await lua(client, `stallAttemptEnd(${s}, ${m}, ${now})`)).toBe(
        JSON.stringify(rules.stallAttemptEnd(s, m, now)),
      );
    }
  });

  it('files the search facets of a finish and of a stall as the TypeScript does', async () => {
    const body = ['includes/failureFacets', 'includes/stallFacets']
      .map((f) => resolveIncludes(luaDir, `${f}.lua`))
      .join('\n');
    const run = async (expr: string): Promise<unknown> =>
      JSON.parse((await client.eval(`${body}\nreturn cjson.encode(${expr})`, 0)) as string);
    const error = { name: 'Error', message: 'x "quoted"', code: 'E"Q' };
    const retry = {
      action: 'retry',
      delayMs: 5,
      source: 'policy',
      explanation: 'e',
      detail: { strategy: 'fixed' },
    } as const;
    const reqs: FinishRequest[] = [
      {
        id: '1',
        attempt: 1,
        workerId: 'w',
        outcome: 'failed',
        error,
        errorClass: 'temporary',
        rule: 'code:E"Q',
        fingerprint: 'ab12',
        decision: retry,
      },
      {
        id: '1',
        attempt: 1,
        workerId: 'w',
        outcome: 'failed',
        error: { name: 'E', message: 'm' },
        errorClass: 'permanent',
        rule: 'thrown:PermanentError',
        fingerprint: 'cd',
        fingerprintLabel: 'l',
        decision: { action: 'dead', reason: 'permanent', explanation: 'p' },
      },
      { id: '1', attempt: 1, workerId: 'w', outcome: 'interrupted', decision: retry },
      {
        id: '1',
        attempt: 1,
        workerId: 'other',
        outcome: 'succeeded',
        result: '1',
        decision: { action: 'done' },
      },
    ];
    for (const r of reqs) {
      const args = encodeFinish([r], { workerId: 'w', leaseMs: 1, max: 0 }).slice(6, 21);
      const lua = `failureFacets({ ${args.map((a) => `'${String(a).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')} })`;
      const got = (await run(lua)) as unknown;
      const want = failureFacets(r);
      // cjson encodes an empty table as {}.
      expect(want.length === 0 ? {} : want, JSON.stringify(r)).toEqual(got);
    }
    for (const cls of ['temporary', 'poison'] as const) {
      for (const poison of [false, true]) {
        expect(await run(`stallFacets('${cls}', ${poison})`)).toEqual(stallFacets(cls, poison));
      }
    }
  });

  it('ranks priority levels as the TypeScript does, with and without aging', async () => {
    const due = 1_767_225_600_123;
    for (const p of [-1_000_000, -3, 0, 1, 7, 1_000_000]) {
      for (const ag of [0, 1, 1000, 86_400_000]) {
        // (string.format: Lua prints large numbers with a float printf)
        expect(
          Number(await lua(client, `string.format('%d', levelRank(${p}, ${due}, ${ag}))`)),
          `${p} ${ag}`,
        ).toBe(rules.levelRank(p, due, ag));
      }
    }
  });
});
