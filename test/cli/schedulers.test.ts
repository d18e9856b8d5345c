/**
 * `retraced schedulers` against Redis directly and through a `retraced server`: upsert, list, show
 * with the tick ledger, pause, resume, remove; the same answers both ways; bad input names the
 * field and exits 2, an unknown scheduler exits 3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RedisBackend } from '../../src/backends/redis/index.js';
import { Queue } from '../../src/index.js';
import { SchedulerLoop } from '../../src/scheduler-loop.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { run, start } from './run.js';

const available = hasRedisServer();

describe.skipIf(!available)('retraced schedulers', () => {
  let server: RedisServer;
  let backend: RedisBackend;
  const prefix = `clis${process.pid}`;
  const redis = (): string[] => ['--redis', server.url, '--prefix', prefix];

  beforeAll(async () => {
    server = await startRedisServer();
    backend = new RedisBackend({ connection: server.url, prefix });
  }, 30_000);

  afterAll(async () => {
    await backend?.close();
    await server?.stop();
  });

  it('upserts, lists, shows the ledger, pauses, resumes and removes (direct and over HTTP)', async () => {
    const up = await run([
      'schedulers',
      'upsert',
      'mail',
      'nightly',
      '--cron',
      '0 3 * * *',
      '--tz',
      'Europe/Paris',
      '--name',
      'digest',
      '--data',
      '{"kind":"daily"}',
      '--priority',
      '5',
      '--group',
      'tenant-3',
      '--missed',
      'each:3',
      ...redis(),
    ]);
    expect(up.stderr).toBe('');
    expect(up.stdout).toMatch(
      /^scheduler nightly in mail created: cron "0 3 \* \* \*" \(Europe\/Paris\), next run /,
    );
    const q = new Queue('mail', { backend });
    const s = await q.getScheduler('nightly');
    expect(s).toMatchObject({ priority: 5, group: 'tenant-3', missed: { each: 3 }, data: { kind: 'daily' } });

    await run(['schedulers', 'upsert', 'mail', 'fast', '--every', '100ms', '--name', 'ping', ...redis()]);
    const loop = new SchedulerLoop({ backend, queues: ['mail'] }).start();
    try {
      for (let i = 0; i < 300 && (await q.counts()).waiting < 2; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await loop.close();
    }

    const list = await run(['schedulers', 'mail', ...redis()]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SPEC\s+STATUS\s+NEXT RUN\s+LAST TICK\s+JOB$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['fast', 'nightly']);
    expect(list.stdout).toContain('digest (priority 5) (group tenant-3)');

    const show = await run(['schedulers', 'show', 'mail', 'fast', '--ticks', '2', ...redis()]);
    expect(show.stdout).toMatch(/^scheduler fast in mail: every 100 ms$/m);
    expect(show.stdout).toMatch(/^PLANNED\s+RAN\s+OUTCOME$/m);
    expect(show.stdout.match(/created sch:fast:\d+ \(\d+ ms late\)/g)).toHaveLength(2);

    const paused = await run(['schedulers', 'pause', 'mail', 'fast', ...redis()]);
    expect(paused.stdout.trim()).toBe('scheduler fast in mail is paused');

    const srv = start(['server', ...redis(), '--port', '0', '--token', 'sekret']);
    try {
      const url = (await srv.waitFor(/ReTraced API on (http:\/\/127\.0\.0\.1:\d+)/, 20_000))[1] as string;
      const http = ['--url', url, '--token', 'sekret'];
      const direct = await run(['schedulers', 'show', 'mail', 'fast', '--json', ...redis()]);
      const viaApi = await run(['schedulers', 'show', 'mail', 'fast', '--json', ...http]);
      expect(JSON.parse(viaApi.stdout)).toEqual(JSON.parse(direct.stdout));
      expect(JSON.parse(direct.stdout)).toMatchObject({ id: 'fast', paused: true, upcoming: [] });
      const resumed = await run(['schedulers', 'resume', 'mail', 'fast', ...http]);
      expect(resumed.stdout).toMatch(/^scheduler fast in mail is active, next run /);
      const bad = await run([
        'schedulers',
        'upsert',
        'mail',
        'x',
        '--cron',
        '99 * * * *',
        '--name',
        'n',
        ...http,
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/spec\.cron must be a valid cron expression .*\(field body\.spec\.cron\)/);
      const removed = await run(['schedulers', 'remove', 'mail', 'fast', '--json', ...http]);
      expect(JSON.parse(removed.stdout)).toEqual({ id: 'fast', removed: true });
      const gone = await run(['schedulers', 'show', 'mail', 'fast', ...http]);
      expect(gone.code).toBe(3);
    } finally {
      expect((await srv.stop('SIGTERM')).code).toBe(0);
    }
    const badDirect = await run([
      'schedulers',
      'upsert',
      'mail',
      'x',
      '--every',
      '5m',
      '--tz',
      'UTC',
      '--name',
      'n',
      ...redis(),
    ]);
    expect([badDirect.code, badDirect.stderr.trim()]).toEqual([
      2,
      'error: --tz must be not set with --every (it is for --cron)',
    ]);
    expect((await run(['schedulers', 'remove', 'mail', 'fast', ...redis()])).code).toBe(3);
    expect((await q.schedulers()).map((x) => x.id)).toEqual(['nightly']);
  }, 60_000);

  it('retraced workers QUEUE lists live workers, and says since when none was seen', async () => {
    const never = await run(['workers', 'idle', ...redis()]);
    expect(never.stdout.trim()).toBe('(no worker has ever registered on idle)');
    await backend.workerHeartbeat(
      'busy',
      { id: 'w-1', host: 'box', pid: 7, queues: ['busy'], concurrency: 8, inFlight: 2, version: '1.2.3' },
      60_000,
    );
    const live = await run(['workers', 'busy', ...redis()]);
    const [head, row] = live.stdout.trim().split('\n');
    expect(head).toMatch(/^ID\s+HOST\s+PID\s+IN FLIGHT\s+LAST HEARTBEAT\s+UP\s+VERSION\s+QUEUES$/);
    // The ages are as old as the CLI process takes to start and read (seconds on a loaded machine).
    expect(row).toMatch(/^w-1\s+box\s+7\s+2\/8\s+\S+ \((now|[\d.]+ s ago)\)\s+[\d.]+ m?s\s+1\.2\.3\s+busy$/);
    const json = JSON.parse((await run(['workers', 'busy', '--json', ...redis()])).stdout) as {
      workers: unknown[];
    };
    expect(json.workers).toHaveLength(1);
    await backend.workerLeave('busy', 'w-1');
    const gone = await run(['workers', 'busy', ...redis()]);
    expect(gone.stdout.trim()).toMatch(/^\(no live worker on busy; last seen [\d.]+ m?s ago\)$/);
  });

  it('retraced jobs why QUEUE ID says what holds a job, the same with --redis and --url', async () => {
    const q = new Queue('why', { backend });
    await q.add('first', null, { priority: 2 });
    const { id } = await q.add('second', null);
    await q.pause();
    const direct = await run(['jobs', 'why', 'why', id, ...redis()]);
    expect(direct.code).toBe(0);
    const lines = direct.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      `job ${id} in why (waiting): queue why is paused: nothing is claimed until it is resumed`,
    );
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/)[0])).toEqual(['paused', 'priority', 'no-worker']);
    expect(lines[2]).toMatch(/behind 1 job a claim takes first: 1 of higher priority$/);
    const srv = start(['server', ...redis(), '--port', '0']);
    try {
      const url = (await srv.waitFor(/ReTraced API on (http:\/\/127\.0\.0\.1:\d+)/, 20_000))[1] as string;
      const viaApi = await run(['jobs', 'why', 'why', id, '--json', '--url', url]);
      const viaRedis = await run(['jobs', 'why', 'why', id, '--json', ...redis()]);
      const strip = (s: string) => {
        const e = JSON.parse(s) as { now?: number; holds: { forMs?: number }[] };
        delete e.now;
        return e;
      };
      expect(strip(viaApi.stdout)).toEqual(strip(viaRedis.stdout));
      expect((await run(['jobs', 'why', 'why', 'nope', '--url', url])).code).toBe(3);
    } finally {
      expect((await srv.stop('SIGTERM')).code).toBe(0);
    }
  });
});
