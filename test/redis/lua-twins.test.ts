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
import { luaString } from '../../scripts/lua-twins.js';
import * as keys from '../../src/backends/redis/keys.js';
import { encodeFinish } from '../../src/backends/redis/wire.js';
import type { FinishRequest } from '../../src/backend.js';
import { failureFacets, stallFacets } from '../../src/job-index.js';
import * as dedup from '../../src/dedup.js';
import * as progress from '../../src/progress.js';
import * as rate from '../../src/rate-limit.js';
import * as schedule from '../../src/schedule.js';
import * as budget from '../../src/retry-budget.js';
import * as rollup from '../../src/rollup.js';
import * as rules from '../../src/transitions.js';
import { describeRedis, redisUrl } from '../helpers/redis.js';

const luaDir = join(import.meta.dirname, '..', '..', 'src', 'backends', 'redis', 'lua');

/**
 * Evaluates `expr` in Lua after the generated twins (and what they include), as a JSON text; or
 * after `only` these files. (The rollup twins are locals of includes/rollup's block: their
 * constants are read from generated/rollup alone.)
 */
async function lua(client: Redis, expr: string, only?: readonly string[]): Promise<unknown> {
  const body = (
    only ?? [
      'generated/transitions',
      'generated/keys',
      'generated/schedule',
      'includes/rollup',
      'generated/dedup',
      'includes/retryBudget',
      'generated/progress',
      'generated/rate-limit',
    ]
  )
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
                  : name in rate
                    ? 'rate-limit.lua'
                    : 'transitions.lua';
    for (const [name, value] of Object.entries({
      ...rules,
      ...keys,
      ...schedule,
      ...rollup,
      ...dedup,
      ...budget,
      ...progress,
      ...rate,
    })) {
      if (typeof value === 'function') continue;
      const tagged = readFileSync(join(luaDir, 'generated', fileOf(name)), 'utf8');
      if (!tagged.includes(`local ${name} =`)) continue;
      const expected = typeof value === 'object' ? JSON.stringify(value) : value;
      const only = fileOf(name) === 'rollup.lua' ? ['generated/rollup'] : undefined;
      expect(await lua(client, name, only), name).toEqual(expected);
      checked++;
    }
    expect(checked).toBe(89);
  });

  it('puts a time in the same rollup bucket as the TypeScript does (rollupTimeBucket)', async () => {
    const values = [-3, 0, 1, 2, 3, 999, 1000, 1001, 49_999, 50_000, 86_399_999, 86_400_000, 1e11];
    for (const b of rollup.ROLLUP_TIME_BOUNDS_MS) values.push(b - 1, b);
    for (const v of values) {
      expect(await lua(client, `RU.timeBucket(${v})`), `rollupTimeBucket(${v})`).toBe(
        rollup.rollupTimeBucket(v),
      );
    }
  });

  it('remembers the keys a job failed with as the TypeScript does (rollupJobKeys)', async () => {
    const ends: [string, string, string, string][] = [
      ['failed', 'temporary', 'code:ECONNRESET', 'f1'],
      ['interrupted', '', '', ''],
      ['stalled', 'temporary', 'stall', ''],
      ['failed', 'temporary', 'code:ECONNRESET', 'f1'],
      ['timed_out', 'permanent', '', 'f2'],
      ['succeeded', '', '', ''],
      ...Array.from({ length: 6 }, (_, i): [string, string, string, string] => [
        'failed',
        `class${i}`,
        `rule${i}`,
        `fp${i}`,
      ]),
    ];
    let keys: rollup.RollupJobKeys = { last: '', seen: '' };
    for (const [outcome, errorClass, rule, fingerprint] of ends) {
      const e = {
        name: 'n',
        n: 1,
        outcome,
        action: 'retry' as const,
        errorClass,
        rule,
        fingerprint,
        driftMs: 0,
        keys,
      };
      const want = rollup.rollupJobKeys(e);
      const got = await lua(
        client,
        `(function() local a, b = RU.jobKeys(${[outcome, errorClass, rule, fingerprint, keys.last, keys.seen].map(luaString).join(', ')}) return { a, b } end)()`,
      );
      expect(got, `${outcome} ${errorClass}`).toEqual([want.last, want.seen]);
      keys = want;
    }
    // It stops at ROLLUP_JOB_KEYS_MAX keys.
    expect(keys.seen.split(rollup.ROLLUP_JOB_KEYS_SEP).length - 2).toBe(rollup.ROLLUP_JOB_KEYS_MAX);
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
    const E = progress.MAX_LOG_EVENT_BYTES;
    for (const [bytes, size] of [
      [0, 10],
      [E - 10, 10],
      [E - 10, 11],
      [0, E + 1],
    ] as const) {
      expect(await lua(client, `logEventCarries(${bytes}, ${size})`), `${bytes} ${size}`).toBe(
        progress.logEventCarries(bytes, size),
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
      // Both answers: the facets, and the rule the rollups count by ('' when none).
      const lua = `{ failureFacets({ ${args.map((a) => `'${String(a).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')} }) }`;
      const [got, rule] = (await run(lua)) as [unknown, string];
      const want = failureFacets(r);
      // cjson encodes an empty table as {}.
      expect(want.length === 0 ? {} : want, JSON.stringify(r)).toEqual(got);
      const sent = r as { error?: unknown; rule?: string };
      expect(rule, JSON.stringify(r)).toBe(sent.error ? (sent.rule ?? '') : '');
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

  it('runs the token bucket (GCRA) on the same doubles as the TypeScript, and ranks jobs in a group', async () => {
    const now = 1_767_225_600_123;
    const f = async (expr: string): Promise<number> =>
      Number(await lua(client, `string.format('%.17g', ${expr})`));
    for (const intervalMs of [0, 1, 1000 / 3, 1000 / 7, 60_000, 86_400_000 / 0.5]) {
      for (const burst of [1, 2, 10, 1_000_000]) {
        for (const tat of [0, now - 12_345.678, now, now + 1000 / 3, now + 9_999_999.25]) {
          const start = rate.bucketStart(tat, now);
          expect(await f(`bucketStart(${tat}, ${now})`)).toBe(start);
          expect(await f(`bucketTokenAt(${start}, ${intervalMs}, ${burst})`)).toBe(
            rate.bucketTokenAt(start, intervalMs, burst),
          );
          expect(await f(`bucketPaused(${tat}, ${now}, 2500, ${intervalMs}, ${burst})`)).toBe(
            rate.bucketPaused(tat, now, 2500, intervalMs, burst),
          );
          expect(await f(`bucketCapped(${tat}, ${now}, ${intervalMs}, ${burst})`)).toBe(
            rate.bucketCapped(tat, now, intervalMs, burst),
          );
        }
      }
    }
    for (const p of [-1_000_000, -1, 0, 3, 1_000_000]) {
      for (const seq of [1, 2, 4_294_967_295]) {
        expect(await f(`groupRank(${p}, ${seq})`), `${p} ${seq}`).toBe(rules.groupRank(p, seq));
      }
    }
  });

  it('writes the priority wait of a record as the TypeScript does (PR.aged, PR.short, claimFactsJson)', async () => {
    const body = [
      resolveIncludes(luaDir, 'includes/waitLevels.lua'),
      resolveIncludes(luaDir, 'includes/claimFacts.lua'),
    ].join('\n');
    const run = async (expr: string): Promise<string> =>
      (await client.eval(`${body}\nreturn ${expr}`, 0)) as string;
    for (const [p, waited, ag] of [
      [0, 0, 0],
      [5, 2400, 0],
      [5, 2400, 1000],
      [-3, 999, 1000],
      [-3, 1000, 1000],
      [1_000_000, 86_400_000 * 3, 86_400_000],
      [0, 7, 1],
      [2, -5, 1000],
    ] as const) {
      expect(Number(await run(`tostring(PR.aged(${p}, ${waited}, ${ag}))`)), `${p} ${waited} ${ag}`).toBe(
        rules.agedPriority(p, waited, ag),
      );
    }
    for (const [p, eff, waited, ahead] of [
      [5, 5, 2400, 1240],
      [5, 7, 2400, 1],
      [0, 0, 0, 1],
      [-3, 0, 3000, 2],
      [-1_000_000, -999_990, 0, 2],
      [1_000_000, 1_086_400, 86_400_000_000, 123_456_789],
    ] as const) {
      // The short form PR.claimed writes, expanded by claimFactsJson (the record's JSON).
      const short = await run(`PR.short(${p}, ${eff}, ${waited}, ${ahead})`);
      expect(short).toBe(`${p},${eff},${waited},${ahead}`);
      expect(await run(`claimFactsJson('${short}')`)).toBe(
        JSON.stringify({ priority: rules.priorityWait(p, eff, waited, ahead) }),
      );
    }
    expect(await run(`claimFactsJson('{"rateLimit":{}}')`)).toBe('{"rateLimit":{}}');
    expect(rules.priorityWait(5, 7, 2400, 1240).explanation).toBe(
      'priority 5 (aged to 7): waited 2400 ms while 1240 jobs of higher priority ran',
    );
  });

  it('writes the rate-limit wait of a record as the TypeScript does (includes/rateLimit.lua)', async () => {
    const body = resolveIncludes(luaDir, 'includes/rateLimit.lua');
    const run = async (expr: string): Promise<string> =>
      (await client.eval(`${body}\nreturn ${expr}`, 0)) as string;
    for (const [tokenAt, due] of [
      [1000, 1000],
      [999.4, 1000],
      [1340.4, 1000],
      [1340.5, 1000],
      [1_767_225_600_123 + 1000 / 3, 1_767_225_600_000],
    ] as const) {
      expect(Number(await run(`tostring(RL.waitedFor(${tokenAt}, ${due}))`))).toBe(
        rate.rateLimitWaitedMs(tokenAt, due),
      );
    }
    expect(JSON.parse(await run(`RL.waitJson('group', 'tenant-42', '10/s', 340)`))).toEqual(
      rate.rateLimitWait('group', 'tenant-42', '10/s', 340),
    );
    expect(await run(`RL.waitJson('queue', '', '0.5/s', 7)`)).toBe(
      JSON.stringify(rate.rateLimitWait('queue', undefined, '0.5/s', 7)),
    );
    expect(await run(`RL.waitJson('group', 'g', 'x', 1)`)).toBe(
      JSON.stringify(rate.rateLimitWait('group', 'g', 'x', 1)),
    );
    const l = rate.resolveRateLimit({ rate: 3, per: 2000, burst: 4 }, 'l');
    const text = rate.encodeRateLimit(l);
    expect(Number(await run(`string.format('%.17g', RL.limit('${text}').iv)`))).toBe(l.intervalMs);
    expect(await run(`RL.limit('${text}').b .. '|' .. RL.limit('${text}').label`)).toBe('4|3/2 s');
  });
});
