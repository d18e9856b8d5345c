/**
 * `retraced dev` as `npm start` runs it: starts the memory backend, the API and the demo workers,
 * prints the URLs, serves, tells a story that the client commands can read over `--url`, and
 * shuts down cleanly on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Job } from '../../src/index.js';
import { eventually, run, start, type Running } from './run.js';

describe('retraced dev', () => {
  let dev: Running;
  let url: string;

  beforeAll(async () => {
    dev = start(['dev', '--port', '0']);
    const m = await dev.waitFor(/API\s+(http:\/\/127\.0\.0\.1:(\d+))/, 20_000);
    url = m[1] as string;
  }, 30_000);

  afterAll(async () => {
    await dev?.stop('SIGKILL');
  });

  it('prints the URLs of the API, docs, metrics and events, and commands to try', async () => {
    await dev.waitFor(/Ctrl-C to stop/);
    const out = dev.stdout();
    expect(out).toContain(`Dashboard ${url}/`);
    expect(out).toContain(`Docs     ${url}/docs`);
    expect(out).toContain(`Metrics  ${url}/metrics`);
    expect(out).toContain(`Events   ${url}/events?queue=demo`);
    expect(out).toContain(`npx retraced jobs list demo --url ${url}`);
    expect(out).toContain(`npx retraced dlq groups demo --url ${url}`);
    expect(out).toMatch(/jobs show demo <id> --url/);
  });

  it('serves /healthz and the demo queue', async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const r = await run(['queues', '--url', url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^QUEUE\s+STATUS\s+SCHEDULED\s+WAITING\s+ACTIVE\s+COMPLETED\s+DEAD\s+CANCELLED\s+EVICTED\s+UNARCHIVED$/m,
    );
    // Evictions counted so far, and no archive (dev without --postgres).
    expect(r.stdout).toMatch(/^demo\s+running(\s+\d+){7}\s+—$/m);
  });

  it('tells a story within seconds: retries, a dead job, a replay by hand that succeeds', async () => {
    // The demo seeds a customer import with a bad email: dead-lettered as permanent at once.
    const deadId = await eventually(
      async () => {
        const r = await run([
          'dlq',
          'list',
          'demo',
          '--name',
          'import-customer',
          '--reason',
          'permanent',
          '--url',
          url,
          '--json',
        ]);
        const page = JSON.parse(r.stdout) as { jobs: { id: string }[] };
        return page.jobs[0]?.id;
      },
      20_000,
      250,
    );

    const shown = await run(['jobs', 'show', 'demo', deadId, '--url', url]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(
      new RegExp(`job ${deadId} "import-customer" on demo: dead \\(permanent\\), 1 attempt`),
    );
    expect(shown.stdout).toMatch(/#1 auto\s+due \S+\s+started \S+ \(drift \d+ ms\)\s+took \d+ ms\s+failed/);
    expect(shown.stdout).toContain('class permanent (rule thrown:PermanentError)');
    expect(shown.stdout).toContain(
      '→ dead-letter (permanent): permanent error (thrown:PermanentError): not retried',
    );

    const replay = await run([
      'dlq',
      'replay',
      'demo',
      deadId,
      '--by',
      'tester',
      '--note',
      'fixed the address',
      '--patch',
      '{"email":"ok@example.com"}',
      '--url',
      url,
    ]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain(`replayed 1 job of demo: ${deadId}`);

    const job = await eventually(
      async () => {
        const r = await run(['jobs', 'show', 'demo', deadId, '--url', url, '--json']);
        const j = JSON.parse(r.stdout) as Job;
        return j.state === 'completed' ? j : undefined;
      },
      15_000,
      250,
    );
    expect(job.attempts.map((a) => [a.trigger, a.outcome])).toEqual([
      ['auto', 'failed'],
      ['manual', 'succeeded'],
    ]);
    expect(job.attempts[1]?.manual).toMatchObject({
      by: 'tester',
      note: 'fixed the address',
      patch: [{ path: 'data.email', op: 'replace' }],
    });

    // And a job that retried with a policy: its timeline explains the delay.
    const retried = await eventually(
      async () => {
        const r = await run([
          'jobs',
          'list',
          'demo',
          '--state',
          'completed',
          '--name',
          'notify-webhook',
          '--url',
          url,
          '--json',
        ]);
        return (JSON.parse(r.stdout) as { jobs: { id: string; attempts: number }[] }).jobs.find(
          (j) => j.attempts > 1,
        )?.id;
      },
      20_000,
      500,
    );
    const timeline = await run(['jobs', 'show', 'demo', retried, '--url', url]);
    expect(timeline.stdout).toContain('phase 1 of 2: immediate: retry at once');
    expect(timeline.stdout).toMatch(
      /phase 2 of 2: exponential: 500 ms × 2\^0 = 500 ms, equal jitter → \d+ ms/,
    );
  }, 60_000);

  it('shuts down on SIGTERM with exit 0', async () => {
    const res = await dev.stop('SIGTERM');
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('SIGTERM: shutting down');
    expect(res.stderr).toContain('stopped');
  });
});
