/**
 * The CLI with bad arguments: wrong types, unknown flags, huge values, hostile unicode and
 * injection strings in queue names, ids and flag values, invalid JSON. Against a `retraced server`
 * (an in-process app on a memory backend, with a token):
 *
 * - in process, fast-check drives the client commands (`add`, `jobs …`, `dlq …`, `queues …`,
 *   `retry-plan`) directly: every failure is a library or CLI error whose exit code is in the one
 *   table (never "unexpected"), bad flag values are named in the message, no stack is shown, and
 *   what is printed for a person holds no terminal control sequence from the data;
 * - a few dozen runs of the built binary check the real stderr and exit codes, for every command;
 * - jobs stored before the run are unchanged after it, and adding still works.
 *
 * `FUZZ_RUNS` (default 30) and `FUZZ_SEED` as in test/http/fuzz.test.ts.
 */
import type { AddressInfo } from 'node:net';

import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import type { Command } from '../../src/cli/command.js';
import { add } from '../../src/cli/commands/add.js';
import { analytics } from '../../src/cli/commands/analytics.js';
import { budget } from '../../src/cli/commands/budget.js';
import { dlq } from '../../src/cli/commands/dlq.js';
import { jobs } from '../../src/cli/commands/jobs.js';
import { priorityAging } from '../../src/cli/commands/priority-aging.js';
import { defaultPriority } from '../../src/cli/commands/default-priority.js';
import { queues } from '../../src/cli/commands/queues.js';
import { retryPlan } from '../../src/cli/commands/retry-plan.js';
import { audit, radar, whatif } from '../../src/cli/commands/retry-intelligence.js';
import { ExitCode, exitCodeFor } from '../../src/cli/exit-codes.js';
import { PermanentError, RetracedError, ValidationError } from '../../src/errors.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { FUZZ_RUNS, fuzzParams, NASTY_STRINGS, nastyString } from '../http/fuzz-schema.js';
import { run } from './run.js';

const TOKEN = 'cli-fuzz-token';
const SENTINEL = 'zz-sentinel';
/** An error message and a cancel reason a terminal would act on if printed raw. */
const TERMINAL_ATTACK = 'boom \u001b]0;pwned\u0007\u001b[2J\u001b[1A\r<script>alert(1)</script>\u009b31m';

// What a bad command line may contain ----------------------------------------------------------

/** Control characters other than newline and tab: printed raw, a terminal would act on them. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Values for flags: the right kind, the wrong kind, huge, hostile. */
const flagValue = fc.oneof(
  nastyString,
  fc.constantFrom(
    '-1',
    '0',
    '1',
    '1.5',
    '1e9',
    '99999999999999999999999',
    '9'.repeat(400),
    'NaN',
    '30s',
    '2m',
    '-5s',
    '1d',
    '2026-02-30T25:00:00Z',
    '{"attempts":3}',
    '{"attempts":0}',
    '{"phases":[{"retries":1,"backoff":{"type":"fixed","delayMs":-1}}]}',
    '{',
    '{"a":1}}',
    '[1,2',
    "{'single':1}",
    '@/nonexistent/file.json',
    '@/etc/passwd',
    '@.',
    `{"deep":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    JSON.stringify({ x: 'y'.repeat(300_000) }),
    'dead,poison',
    'exhausted,,nope',
    'waiting',
    'nope',
  ),
);
const queueArg = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('fz', 'fz2') },
  { weight: 2, arbitrary: nastyString },
);
const idArg = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('1', '2', '3', 'w-1', 'nope') },
  { weight: 2, arbitrary: nastyString },
);

interface Spec {
  /** `jobs list` */
  readonly path: readonly string[];
  readonly command: Command;
  readonly positionals: readonly fc.Arbitrary<string>[];
  /** Flags that take a value (each may be given a bad one). */
  readonly flags: readonly string[];
  readonly booleans?: readonly string[];
}

const FILTER = ['--reason', '--code', '--name', '--fingerprint', '--since', '--until'];
const SPECS: readonly Spec[] = [
  {
    path: ['add'],
    command: add,
    positionals: [queueArg, fc.oneof(fc.constant('send'), nastyString)],
    flags: ['--data', '--id', '--delay', '--run-at', '--priority', '--retry', '--timeout', '--max-stalls'],
  },
  { path: ['add'], command: add, positionals: [queueArg], flags: ['--file'] },
  {
    path: ['jobs', 'list'],
    command: jobs,
    positionals: [queueArg],
    flags: ['--state', '--name', '--limit', '--cursor'],
  },
  { path: ['jobs', 'show'], command: jobs, positionals: [queueArg, idArg], flags: [] },
  { path: ['jobs', 'cancel'], command: jobs, positionals: [queueArg, idArg], flags: ['--by', '--reason'] },
  {
    path: ['jobs', 'retry'],
    command: jobs,
    positionals: [queueArg, idArg],
    flags: ['--by', '--note', '--patch'],
  },
  { path: ['dlq', 'list'], command: dlq, positionals: [queueArg], flags: ['--limit', '--cursor', ...FILTER] },
  { path: ['dlq', 'groups'], command: dlq, positionals: [queueArg], flags: [] },
  { path: ['dlq', 'show'], command: dlq, positionals: [queueArg, idArg], flags: [] },
  {
    path: ['dlq', 'replay'],
    command: dlq,
    positionals: [queueArg, idArg],
    flags: ['--ids', '--by', '--note', '--patch', '--limit', ...FILTER],
    booleans: ['--all', '--dry-run', '--yes'],
  },
  {
    path: ['dlq', 'purge'],
    command: dlq,
    positionals: [queueArg, idArg],
    flags: ['--ids', ...FILTER],
    booleans: ['--all', '--dry-run', '--yes'],
  },
  { path: ['queues', 'list'], command: queues, positionals: [], flags: [] },
  { path: ['queues', 'pause'], command: queues, positionals: [queueArg], flags: [] },
  { path: ['queues', 'resume'], command: queues, positionals: [queueArg], flags: [] },
  { path: ['retry-plan'], command: retryPlan, positionals: [], flags: ['--policy'] },
  {
    path: ['analytics'],
    command: analytics,
    positionals: [queueArg],
    flags: ['--window', '--name', '--group'],
  },
  {
    path: ['priority-aging'],
    command: priorityAging,
    positionals: [queueArg],
    flags: ['--every'],
    booleans: ['--off'],
  },
  { path: ['default-priority'], command: defaultPriority, positionals: [queueArg], flags: ['--set'] },
  {
    path: ['budget'],
    command: budget,
    positionals: [queueArg],
    flags: ['--ratio', '--window', '--min', '--on-exhausted', '--name'],
    booleans: ['--remove'],
  },
  {
    path: ['whatif'],
    command: whatif,
    positionals: [queueArg],
    flags: [
      '--policy',
      '--attempts',
      '--classify',
      '--permanent',
      '--temporary',
      '--seed',
      '--name',
      '--since',
      '--until',
      '--limit',
    ],
    booleans: ['--seeded-draws'],
  },
  {
    path: ['audit'],
    command: audit,
    positionals: [queueArg],
    flags: ['--tolerance', '--drift', '--name', '--since', '--until', '--limit'],
  },
  { path: ['radar'], command: radar, positionals: [queueArg], flags: ['--horizon', '--max'] },
];

interface Invocation {
  readonly spec: Spec;
  /** argv after the command's own name (what `command.run` takes). */
  readonly argv: string[];
  /** The flags given a value, and the value. */
  readonly given: [string, string][];
}

function invocation(url: string): fc.Arbitrary<Invocation> {
  return fc.constantFrom(...SPECS).chain((spec) =>
    fc
      .record({
        positionals: fc.tuple(...spec.positionals),
        flags: fc
          .subarray([...spec.flags])
          .chain((names) => fc.tuple(...names.map((n) => flagValue.map((v) => [n, v] as [string, string])))),
        booleans: fc.subarray([...(spec.booleans ?? []), '--json']),
        extra: fc.oneof(
          { weight: 6, arbitrary: fc.constant<string[]>([]) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              ['--nope'],
              ['-x'],
              ['--limit'],
              ['--json=yes'],
              ['--', '--data'],
              ['extra', 'args'],
              ['--data', '1', '--data', '2'],
            ),
          },
        ),
        auth: fc.oneof(
          { weight: 8, arbitrary: fc.constant(['--token', TOKEN]) },
          { weight: 1, arbitrary: fc.constantFrom([], ['--token', 'wrong'], ['--token', '']) },
        ),
      })
      .map(({ positionals, flags, booleans, extra, auth }) => {
        // `jobs cancel` and friends ask for --by when there is no terminal: always give one.
        const by = spec.flags.includes('--by') && !flags.some(([n]) => n === '--by') ? ['--by', 'fuzz'] : [];
        return {
          spec,
          argv: [
            ...spec.path.slice(1),
            ...positionals,
            ...flags.flatMap(([n, v]) => [n, v]),
            ...booleans,
            ...by,
            ...extra,
            '--url',
            url,
            ...auth,
          ],
          given: flags,
        };
      }),
  );
}

// Running a command in process -------------------------------------------------------------------

interface Outcome {
  readonly code: number;
  readonly error: unknown;
  readonly stdout: string;
  readonly stderr: string;
}

async function runInProcess(command: Command, argv: readonly string[]): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => (
    (stdout += String(chunk)),
    true
  )) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (
    (stderr += String(chunk)),
    true
  )) as typeof process.stderr.write;
  try {
    const code = await command.run(argv);
    return { code, error: undefined, stdout, stderr };
  } catch (e) {
    return { code: exitCodeFor(e), error: e, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const EXPECTED_FAILURES: ReadonlySet<number> = new Set([
  ExitCode.usage,
  ExitCode.notFound,
  ExitCode.conflict,
  ExitCode.auth,
]);

function judge(inv: Invocation, o: Outcome): string[] {
  const bad: string[] = [];
  if (o.error === undefined) {
    if (o.code !== ExitCode.ok && !EXPECTED_FAILURES.has(o.code)) bad.push(`exit ${o.code}`);
  } else {
    const e = o.error;
    if (!(e instanceof RetracedError)) {
      bad.push(`a ${e instanceof Error ? e.name : typeof e}: ${String(e).slice(0, 200)}`);
    }
    if (!EXPECTED_FAILURES.has(o.code)) {
      bad.push(`exit ${o.code} (${e instanceof Error ? e.message.slice(0, 200) : ''})`);
    }
    const message = e instanceof Error ? e.message : '';
    if (message === '') bad.push('no message');
    if (/\n\s+at |node_modules|\.ts:\d/.test(message)) bad.push('a stack in the message');
    if (e instanceof ValidationError && e.field.startsWith('--') && !message.includes(e.field)) {
      bad.push('the flag is not named');
    }
    if (e instanceof ValidationError && e.field.startsWith('--') && !inv.given.some(([n]) => n === e.field)) {
      bad.push(`blames ${e.field}, which was not given`);
    }
  }
  // Human output (not --json, whose strings are JSON-escaped) must be safe to show on a terminal.
  if (!inv.argv.includes('--json') && CONTROL.test(o.stdout)) {
    bad.push(`control characters on stdout: ${JSON.stringify(o.stdout.slice(0, 300))}`);
  }
  return bad;
}

// The server ------------------------------------------------------------------------------------

describe('fuzzing the CLI', () => {
  let backend: MemoryBackend;
  let app: FastifyInstance;
  let url: string;
  const env = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };

  const snapshot = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const state of ['waiting', 'scheduled', 'dead', 'cancelled']) {
      const res = await app.inject({
        url: `/queues/${SENTINEL}/jobs?state=${state}`,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      for (const j of res.json<{ jobs: { id: string }[] }>().jobs) {
        out.push(
          (
            await app.inject({
              url: `/queues/${SENTINEL}/jobs/${j.id}`,
              headers: { authorization: `Bearer ${TOKEN}` },
            })
          ).body,
        );
      }
    }
    return out.sort();
  };
  let before: string[] = [];

  beforeAll(async () => {
    process.env.NO_COLOR = '1';
    delete process.env.FORCE_COLOR;
    backend = new MemoryBackend();
    app = await buildApp({ backend, token: TOKEN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    // Jobs the fuzzed commands act on, and jobs they must leave alone.
    await new Queue('fzb', { backend }).add('binary', 1, { id: 'b-1' });
    for (const queue of ['fz', 'fzv', SENTINEL]) {
      const q = new Queue(queue, { backend });
      await q.add('waiting <b>', { html: '<script>alert(1)</script>', esc: '\u001b[2J' }, { id: 'w-1' });
      await q.add('later', 1, { id: 's-1', delay: 3_600_000 });
      await q.add('cancel me', 1, { id: 'c-1' });
      await q.cancel('c-1', { by: 'ops', reason: TERMINAL_ATTACK });
      await q.addBulk([1, 2, 3].map((i) => ({ name: `dies ${i}`, data: i })));
      const w = new Worker(
        q,
        () => {
          throw new PermanentError(TERMINAL_ATTACK, { code: 'E_<b>' });
        },
        { idleCheckMs: 20 },
      );
      while ((await q.counts()).dead < 3) await new Promise((r) => setTimeout(r, 20));
      await w.close();
    }
    before = await snapshot();
  });
  afterAll(async () => {
    Object.assign(process.env, env);
    if (env.NO_COLOR === undefined) delete process.env.NO_COLOR;
    if (env.FORCE_COLOR !== undefined) process.env.FORCE_COLOR = env.FORCE_COLOR;
    await app?.close();
    await backend?.close();
  });

  it('in process: every failure is a known error with a documented exit code; output is terminal-safe', async () => {
    const failures: string[] = [];
    const codes = new Map<number, number>();
    let runs = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(invocation(url), async (inv) => {
        runs++;
        const o = await runInProcess(inv.spec.command, inv.argv);
        codes.set(o.code, (codes.get(o.code) ?? 0) + 1);
        const bad = judge(inv, o);
        if (bad.length > 0) {
          failures.push(
            `${inv.spec.path.join(' ')} ${JSON.stringify(inv.argv.slice(0, -4)).slice(0, 300)} → ${bad.join('; ')}`,
          );
        }
        return true;
      }),
      fuzzParams(FUZZ_RUNS * 10),
    );
    console.log(
      `cli fuzz: ${runs} in-process runs in ${Date.now() - started} ms; exit codes ${[...codes].map(([c, n]) => `${c}: ${n}`).join(', ')}`,
    );
    expect(failures.slice(0, 10), `${failures.length} failures`).toEqual([]);
    expect(codes.get(ExitCode.ok) ?? 0).toBeGreaterThan(0);
    expect(codes.get(ExitCode.usage) ?? 0).toBeGreaterThan(0);
  });

  it('the human views of hostile jobs print no terminal control sequence', async () => {
    const views = [
      ['jobs', 'show', 'fzv', '1'],
      ['jobs', 'show', 'fzv', 'c-1'],
      ['jobs', 'show', 'fzv', 'w-1'],
      ['jobs', 'list', 'fzv', '--state', 'dead'],
      ['jobs', 'list', 'fzv', '--state', 'cancelled'],
      ['dlq', 'list', 'fzv'],
      ['dlq', 'groups', 'fzv'],
      ['dlq', 'show', 'fzv', '1'],
    ];
    for (const argv of views) {
      const command = argv[0] === 'jobs' ? jobs : dlq;
      const o = await runInProcess(command, [...argv.slice(1), '--url', url, '--token', TOKEN]);
      expect(o.error, argv.join(' ')).toBeUndefined();
      expect(o.stdout.length, argv.join(' ')).toBeGreaterThan(0);
      expect(CONTROL.test(o.stdout), `${argv.join(' ')}: ${JSON.stringify(o.stdout)}`).toBe(false);
    }
    // The text is still there, visibly escaped, and --json keeps it exact.
    const shown = await runInProcess(jobs, ['show', 'fzv', '1', '--url', url, '--token', TOKEN]);
    expect(shown.stdout).toContain('<script>alert(1)</script>');
    const json = await runInProcess(jobs, ['show', 'fzv', '1', '--json', '--url', url, '--token', TOKEN]);
    expect(JSON.parse(json.stdout)).toMatchObject({ attempts: [{ error: { message: TERMINAL_ATTACK } }] });
  });

  it('the binary: bad arguments to every command exit with the documented code, a clear message and no stack', async () => {
    const conn = ['--url', url, '--token', TOKEN];
    // [argv, exit code, what stderr must say]
    const cases: [string[], number, RegExp][] = [
      [['add', 'fz', 'n', '--data', '{bad json', ...conn], 2, /--data must be valid JSON/],
      [
        ['add', 'fz', 'n', '--data', `{"a":${'['.repeat(100)}${']'.repeat(100)}}`, ...conn],
        2,
        /nested at most 64 levels/,
      ],
      [['add', 'fz', 'n', '--delay', 'soon', ...conn], 2, /--delay must be a duration/],
      [['add', 'fz', 'n', '--delay', '9'.repeat(30), ...conn], 2, /delay/],
      [
        ['add', 'fz', 'n', '--max-stalls', '0', ...conn],
        2,
        /--max-stalls must be an integer between 1 and 1000/,
      ],
      [['add', 'fz', 'n', '--retry', '{"attempts":"3"}', ...conn], 2, /retry/],
      [['add', 'fz', 'n', '--priority', '1.5', ...conn], 2, /--priority must be an integer between -1000000/],
      [['add', 'fz', 'n', '--run-at', 'yesterday', ...conn], 2, /--run-at must be/],
      [['add', 'fz', 'n', '--id', '../../etc', ...conn], 2, /id/],
      [['add', '../x', 'n', ...conn], 2, /queue/],
      [['add', 'a\r\nFLUSHALL\r\n', 'n', ...conn], 2, /queue/],
      [['add', '{tag}*', 'n', ...conn], 2, /queue/],
      [['add', 'fz', '\u202Eevil\u200B', '--data', '"<script>alert(1)</script>"', ...conn], 0, /^$/],
      [['add', 'fz', 'n', '--nope', ...conn], 2, /Unknown option '--nope'/],
      [['add', 'fz', 'n', '--file', '/nonexistent.ndjson', ...conn], 2, /--file/],
      [['add', 'fz', 'n', '--data', '@/nonexistent.json', ...conn], 2, /--data must be JSON or @file/],
      [['jobs', 'list', 'fz', '--limit', 'many', ...conn], 2, /--limit must be an integer/],
      [['jobs', 'list', 'fz', '--limit', '1e400', ...conn], 2, /--limit/],
      [['jobs', 'list', 'fz', '--state', '<script>', ...conn], 2, /state/],
      [['jobs', 'list', 'fz', '--cursor', '%00', ...conn], 2, /cursor/],
      [['jobs', 'show', 'fz', 'no-such-job', ...conn], 3, /does not exist/],
      [['jobs', 'show', 'fz', '%2e%2e%2f', ...conn], 2, /id/],
      [['jobs', 'show', 'fz', 'x'.repeat(5000), ...conn], 2, /./],
      [['jobs', 'cancel', 'fz', 'w-1', '--by', '', ...conn], 2, /--by/],
      [
        ['jobs', 'retry', 'fz', '1', '--by', 'me', '--patch', '[1,', ...conn],
        2,
        /--patch must be valid JSON/,
      ],
      [['jobs', 'retry', 'fzb', 'b-1', '--by', 'me', ...conn], 4, /waiting/],
      [['dlq', 'list', 'fz', '--reason', 'bored', ...conn], 2, /reason/],
      [['dlq', 'list', 'fz', '--since', 'the dawn of time', ...conn], 2, /--since/],
      [['dlq', 'replay', 'fz', '--ids', 'a,,b', '--limit', '-1', '--by', 'me', ...conn], 2, /--limit/],
      [['dlq', 'purge', 'fz', '--ids', '*', '--yes', ...conn], 2, /ids|id/],
      [['queues', 'pause', '*', ...conn], 2, /queue/],
      [['queues', 'list', '--url', url, '--token', 'wrong'], 6, /token/],
      [['queues', 'list', '--url', 'javascript:alert(1)'], 2, /--url must be an http/],
      [['queues', 'list', '--url', url, '--redis', 'redis://127.0.0.1:1'], 2, /either --redis or --url/],
      [['retry-plan', '--policy', '{"attempts":-1}'], 2, /attempts/],
      [['retry-plan', '--policy', 'x'.repeat(100_000)], 2, /--policy must be valid JSON/],
      [['server', '--redis', 'redis://127.0.0.1:1', '--port', 'http'], 2, /--port/],
      [['server', '--redis', 'redis://127.0.0.1:1', '--body-limit', '1'], 2, /--body-limit/],
      [['server', '--redis', 'redis://127.0.0.1:1', '--host', '0.0.0.0'], 2, /token/],
      [
        ['worker', '--redis', 'redis://127.0.0.1:1', '--concurrency', '0', '--queue', 'q'],
        2,
        /--concurrency|--handlers/,
      ],
      [['dev', '--port', '-1'], 2, /--port/],
      [['frobnicate', '<script>'], 2, /unknown command/],
      [['jobs', 'explode'], 2, /unknown command "jobs explode"/],
    ];
    const results: string[] = [];
    const started = Date.now();
    // A few at a time: each spawn costs a Node start.
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      const outs = await Promise.all(batch.map(([argv]) => run(argv, { timeoutMs: 15_000 })));
      outs.forEach((r, j) => {
        const [argv, code, says] = batch[j] as [string[], number, RegExp];
        const what = JSON.stringify(argv.slice(0, 4)).slice(0, 120);
        if (r.code !== code) {
          results.push(`${what}: exit ${r.code}, expected ${code}: ${r.stderr.slice(0, 300)}`);
        }
        if (code !== 0 && !/^error: /.test(r.stderr)) {
          results.push(`${what}: stderr does not start with "error: ": ${r.stderr.slice(0, 200)}`);
        }
        if (!says.test(r.stderr)) {
          results.push(`${what}: stderr ${JSON.stringify(r.stderr.slice(0, 300))} does not match ${says}`);
        }
        if (/\n\s+at |node_modules|\.js:\d+|\.ts:\d+/.test(r.stderr)) {
          results.push(`${what}: a stack trace: ${r.stderr.slice(0, 300)}`);
        }
        if (CONTROL.test(r.stderr)) {
          results.push(`${what}: control characters on stderr: ${JSON.stringify(r.stderr.slice(0, 200))}`);
        }
      });
    }
    console.log(`cli fuzz: ${cases.length} runs of the binary in ${Date.now() - started} ms`);
    expect(results).toEqual([]);
  }, 120_000);

  it('regressions: what the in-process fuzzing found, as fixed examples', async () => {
    const conn = ['--url', url, '--token', TOKEN];
    const cases: [Command, string[], number, RegExp][] = [
      // Was a URIError from encodeURIComponent: exit 1, "unexpected".
      [jobs, ['show', 'q\ud800', '1', ...conn], ExitCode.usage, /params\.queue/],
      [dlq, ['groups', '\udfff', ...conn], ExitCode.usage, /params\.queue/],
      // Was a stack overflow in JSON.stringify, reported as "cannot reach the server" (exit 5).
      [
        jobs,
        ['retry', 'fz', '1', '--by', 'me', '--patch', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, ...conn],
        ExitCode.usage,
        /--patch must be JSON nested at most 64 levels deep/,
      ],
      [
        add,
        ['fz', 'n', '--data', `{"a":${'['.repeat(65)}${']'.repeat(65)}}`, ...conn],
        ExitCode.usage,
        /--data must be JSON nested at most 64/,
      ],
      // Was exit 1: the server's 431 (a query over 16 KiB) was not in the exit-code table.
      [jobs, ['list', 'fz', '--name', 'n'.repeat(20_000), ...conn], ExitCode.usage, /larger than 16 KiB/],
      // `.` and `..` were resolved by the URL: `jobs list .` read GET /queues/jobs and crashed (exit 1).
      [jobs, ['list', '.', ...conn], ExitCode.usage, /QUEUE must be not "\." or "\.\."/],
      [jobs, ['show', 'fz', '..', ...conn], ExitCode.usage, /ID must be not/],
      [queues, ['pause', '..', ...conn], ExitCode.usage, /QUEUE must be not/],
      // Were exit 1 with Node's own error: only a missing file was a usage error.
      [
        add,
        ['fz', '--file', 'x'.repeat(5000), ...conn],
        ExitCode.usage,
        /--file must be a readable file \(ENAMETOOLONG\)/,
      ],
      [
        add,
        ['fz', '--file', 'a\u0000b', ...conn],
        ExitCode.usage,
        /--file must be a readable file \(ERR_INVALID_ARG_VALUE\)/,
      ],
      [add, ['fz', '--file', '/', ...conn], ExitCode.usage, /--file must be a readable file \(EISDIR\)/],
      [
        add,
        ['fz', '--file', '/nonexistent/jobs.ndjson', ...conn],
        ExitCode.usage,
        /--file must be a readable file, received/,
      ],
    ];
    for (const [command, argv, code, says] of cases) {
      const o = await runInProcess(command, argv);
      expect(o.code, argv.slice(0, 3).join(' ').slice(0, 80)).toBe(code);
      expect(o.error).toBeInstanceOf(RetracedError);
      expect((o.error as Error).message).toMatch(says);
    }
    // 64 levels is the library's limit, and still accepted.
    const ok = await runInProcess(add, [
      'fz',
      'n',
      '--data',
      `{"a":${'['.repeat(63)}${']'.repeat(63)}}`,
      ...conn,
    ]);
    expect(ok.error).toBeUndefined();
  });

  it('leaves stored jobs unchanged, and adding still works', async () => {
    expect(await snapshot()).toEqual(before);
    const o = await runInProcess(add, [
      'fz',
      'after',
      '--data',
      '{"ok":true}',
      '--json',
      '--url',
      url,
      '--token',
      TOKEN,
    ]);
    expect(o.error).toBeUndefined();
    const added = JSON.parse(o.stdout) as { id: string; created: boolean };
    expect(added.created).toBe(true);
    const job = await app.inject({
      url: `/queues/fz/jobs/${added.id}`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(job.json()).toMatchObject({ name: 'after', data: { ok: true } });
    expect(NASTY_STRINGS.length).toBeGreaterThan(50);
  });
});
