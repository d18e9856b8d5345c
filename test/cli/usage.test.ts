/**
 * The CLI without a backend: help on every command, usage errors, validation messages that name
 * the field, exit codes for unreachable backends, and retry-plan (pure, needs nothing).
 */
import { describe, expect, it } from 'vitest';

import { run } from './run.js';

/** A worker --http up to the handler's settings (checked before Redis is reached). */
const HTTP_WORKER = [
  'worker',
  '--redis',
  'redis://127.0.0.1:9',
  '--queue',
  'q',
  '--http',
  '--allow-host',
  'a.example',
];

const COMMANDS = [
  'dev',
  'server',
  'worker',
  'add',
  'jobs list',
  'jobs show',
  'jobs why',
  'jobs cancel',
  'jobs retry',
  'dlq list',
  'dlq groups',
  'dlq show',
  'dlq replay',
  'dlq purge',
  'queues list',
  'queues pause',
  'queues resume',
  'schedulers list',
  'schedulers show',
  'schedulers upsert',
  'schedulers pause',
  'schedulers resume',
  'schedulers remove',
  'workers',
  'rate-limits',
  'retry-plan',
  'whatif',
  'audit',
  'radar',
  'archive run',
  'archive migrate',
  'archive status',
];

describe.concurrent('retraced --help', () => {
  it('prints the usage of every command and exits 0', async () => {
    const results = await Promise.all(COMMANDS.map((c) => run([...c.split(' '), '--help'])));
    results.forEach((r, i) => {
      const name = COMMANDS[i] as string;
      expect(r.stderr, name).toBe('');
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain(`Usage: retraced ${name}`);
      expect(r.stdout, name).toMatch(/Options:|Connection:/);
    });
  });

  it('lists the commands and the exit codes at the top level', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of [
      'dev',
      'server',
      'worker',
      'add',
      'jobs',
      'dlq',
      'queues',
      'schedulers',
      'retry-plan',
      'whatif',
      'audit',
      'radar',
      'archive',
    ]) {
      expect(r.stdout).toContain(`  ${c} `);
    }
    expect(r.stdout).toContain('5 backend unreachable');
  });

  it('lists the HTTP target settings of worker --http in their own group', async () => {
    const r = await run(['worker', '--help']);
    expect(r.code).toBe(0);
    const group = r.stdout.slice(r.stdout.indexOf('HTTP targets (with --http):'));
    expect(group.length).toBeLessThan(r.stdout.length);
    for (const flag of [
      '--http-temporary STATUSES',
      '--http-on-429 rate-limit|retry',
      '--http-rate-limit-scope group|queue',
      '--http-header NAME',
      '--http-body-excerpt BYTES',
      '--http-max-redirects N',
      '--http-timeout DURATION',
      '--http-max-timeout DURATION',
    ]) {
      expect(group).toContain(flag);
    }
  });

  it('lists the subcommands of a group', async () => {
    const r = await run(['dlq', '--help']);
    expect(r.code).toBe(0);
    for (const c of ['list', 'groups', 'show', 'replay', 'purge']) expect(r.stdout).toContain(`  ${c} `);
  });
});

describe.concurrent('usage errors exit 2 with a clear message and no stack trace', () => {
  it.each([
    [[], /Usage: retraced <command>/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['jobs', 'frobnicate'], /unknown command "jobs frobnicate"/],
    [['jobs', 'list', 'demo', '--bogus'], /Unknown option '--bogus'/],
    [['jobs', 'show', 'demo'], /missing ID/],
    [['jobs', 'list', 'demo'], /pass --redis URL .* or --url URL/],
    [['jobs', 'list', 'demo', '--redis', 'redis://x', '--url', 'http://x'], /either --redis or --url/],
    [['jobs', 'list', 'demo', '--redis', 'not-a-url'], /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
    [['jobs', 'list', 'demo', '--url', 'ftp://x'], /--url must be an http:\/\/ or https:\/\/ URL/],
    [
      ['jobs', 'list', 'demo', '--state', 'zombie', '--url', 'http://127.0.0.1:9'],
      /--state must be one of scheduled, waiting/,
    ],
    [
      ['jobs', 'list', 'demo', '--limit', 'lots', '--url', 'http://127.0.0.1:9'],
      /--limit must be an integer between 1 and 500, received "lots"/,
    ],
    [
      ['add', 'emails', 'welcome', '--data', '{nope', '--url', 'http://127.0.0.1:9'],
      /--data must be valid JSON/,
    ],
    [
      ['add', 'emails', 'welcome', '--delay', 'soon', '--url', 'http://127.0.0.1:9'],
      /--delay must be a duration/,
    ],
    [['dlq', 'replay', 'demo', '--url', 'http://127.0.0.1:9'], /say which dead jobs/],
    [
      ['dlq', 'list', 'demo', '--reason', 'bored', '--url', 'http://127.0.0.1:9'],
      /--reason must be one of exhausted, permanent, poison/,
    ],
    [
      ['server', '--redis', 'redis://127.0.0.1:9', '--host', '0.0.0.0'],
      /refusing to listen on 0.0.0.0 without a token/,
    ],
    [['worker', '--queue', 'q', '--handlers', 'h.js'], /--redis URL is required/],
    [
      ['worker', '--redis', 'redis://127.0.0.1:9', '--queue', 'q', '--handlers', './missing.mjs'],
      /--handlers must be a path to an existing module file, received "\.\/missing\.mjs"/,
    ],
    [
      [
        'worker',
        '--redis',
        'redis://127.0.0.1:9',
        '--queue',
        'q',
        '--handlers',
        'x.mjs',
        '--concurrency',
        '0',
      ],
      /--concurrency must be an integer between 1 and 10000, received "0"/,
    ],
    [
      [...HTTP_WORKER, '--http-body-excerpt', '5000'],
      /--http-body-excerpt must be an integer between 0 and 4096, received "5000"/,
    ],
    [
      [...HTTP_WORKER, '--http-on-429', 'pause'],
      /--http-on-429 must be one of rate-limit, retry, received "pause"/,
    ],
    [
      [...HTTP_WORKER, '--http-rate-limit-scope', 'tenant'],
      /--http-rate-limit-scope must be group or queue, received "tenant"/,
    ],
    [
      [...HTTP_WORKER, '--http-temporary', '409,200'],
      /--http-temporary must be statuses between 300 and 599 or ranges of them \(500-599\), received "200"/,
    ],
    [
      [...HTTP_WORKER, '--http-header', 'x-id,bad name'],
      /--http-header must be a list of header names \(tokens\), received "bad name"/,
    ],
    [
      [...HTTP_WORKER, '--http-max-redirects', '21'],
      /--http-max-redirects must be an integer between 0 and 20/,
    ],
    [
      [...HTTP_WORKER, '--http-timeout', '0'],
      /--http-timeout must be an integer between 1 and 300000, received 0/,
    ],
    [
      [...HTTP_WORKER, '--http-max-timeout', '10m'],
      /--http-max-timeout must be an integer between 1 and 300000/,
    ],
    [
      [
        'worker',
        '--redis',
        'redis://127.0.0.1:9',
        '--queue',
        'q',
        '--handlers',
        'x.mjs',
        '--http-timeout',
        '5s',
        '--http-on-429',
        'retry',
      ],
      /--http-on-429, --http-timeout go with --http/,
    ],
    [['retry-plan'], /--policy must be a retry policy/],
    [['archive', 'migrate'], /--postgres must be a postgres:\/\/ URL/],
  ])('retraced %j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('prints the stack trace only with --debug', async () => {
    const r = await run(['retry-plan', '--policy', '{"attempts":0}', '--debug']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe.concurrent('unreachable backends exit 5', () => {
  it('names the Redis address it could not reach', async () => {
    const r = await run(['queues', '--redis', 'redis://127.0.0.1:9']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('cannot reach Redis at redis://127.0.0.1:9');
  });

  it('names the server it could not reach', async () => {
    const r = await run(['queues', '--url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('cannot reach the server at http://127.0.0.1:9');
  });
});

describe.concurrent('retraced retry-plan', () => {
  const policy = JSON.stringify({
    phases: [
      { retries: 2, backoff: { type: 'immediate' } },
      { retries: 2, backoff: { type: 'exponential', delayMs: 1000, jitter: 'full' } },
    ],
  });

  it('prints each retry with its delay, range, offset and explanation, then the summary', async () => {
    const r = await run(['retry-plan', '--policy', policy]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ATTEMPT\s+PHASE\s+DELAY\s+RANGE\s+AT\s+EXPLANATION$/);
    expect(lines[3]).toMatch(
      /^\s+4\s+2\s+500 ms\s+0–1 s\s+\+500 ms\s+phase 2 of 2: exponential: 1 s × 2\^0 = 1 s, full jitter → 500 ms$/,
    );
    expect(lines.at(-1)).toBe(
      'up to 5 attempts: will retry after 0 ms, then 0 ms, then 0–1 s, then 0–2 s, then dead-letter',
    );
  });

  it('gives the library preview with --json', async () => {
    const r = await run([
      'retry-plan',
      '--policy',
      '{"attempts":3,"backoff":{"type":"fixed","delayMs":2000}}',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const preview = JSON.parse(r.stdout) as {
      maxAttempts: number;
      steps: { atMs: number }[];
      summary: string;
    };
    expect(preview.maxAttempts).toBe(3);
    expect(preview.steps.map((s) => s.atMs)).toEqual([2000, 4000]);
    expect(preview.summary).toBe('will retry at +2 s, +4 s, then dead-letter');
  });

  it('names the offending field of a bad policy', async () => {
    const r = await run(['retry-plan', '--policy', '{"attempts":3,"backoff":{"type":"fixed","delayMs":-5}}']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'error: policy.backoff.delayMs must be an integer >= 0 (milliseconds), received -5',
    );
  });
});

describe('output into a closed pipe', () => {
  // `retraced … | head`: the reader goes away before the CLI writes. It must stop quietly, exit 0,
  // and print no EPIPE stack trace.
  it('exits 0 without a stack trace when stdout is closed', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('./run.js');
    const child = spawn(
      process.execPath,
      [BIN, 'retry-plan', '--policy', '{"attempts":50,"backoff":{"type":"exponential","delayMs":1000}}'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|at .*\(/);
    expect(code).toBe(0);
  });
});
