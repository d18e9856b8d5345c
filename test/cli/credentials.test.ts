/**
 * A password or token in a URL given to the CLI is never printed: not in the message refusing a
 * malformed URL, not in the one for an unreachable backend, not with --debug's stack trace
 * (issue 9 §7).
 */
import { describe, expect, it } from 'vitest';

import { run } from './run.js';

const SECRET = 'S3CRET-pw';

describe('credentials in URLs', () => {
  it.each([
    [
      ['--redis', `redis//:${SECRET}@127.0.0.1:1`],
      {},
      `--redis must be a redis:// or rediss:// URL`,
      'redis//***@127.0.0.1:1',
    ],
    [
      [],
      { RETRACED_REDIS_URL: `redis//:${SECRET}@127.0.0.1:1` },
      'RETRACED_REDIS_URL must be',
      'redis//***@127.0.0.1:1',
    ],
    [['--redis', `http://:${SECRET}@127.0.0.1:1`], {}, '--redis must be', 'http://:***@127.0.0.1:1/'],
    [
      ['--url', `http://ada:${SECRET}@127.0.0.1:1`],
      {},
      '--url must be a URL without credentials',
      'http://ada:***@127.0.0.1:1/',
    ],
    [
      ['--url', `http://${SECRET}@127.0.0.1:1`],
      {},
      '--url must be a URL without credentials',
      'http://***@127.0.0.1:1/',
    ],
    [
      ['--url', `htp//ada:${SECRET}@127.0.0.1:1`],
      {},
      '--url must be an http:// or https:// URL',
      'htp//***@127.0.0.1:1',
    ],
  ])(
    '%j %j: refused with exit 2, the secret hidden',
    async (args, env, message, shown) => {
      const results = await Promise.all(
        [[], ['--debug']].map((debug) => run(['queues', ...args, ...debug], { env, timeoutMs: 40_000 })),
      );
      for (const r of results) {
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(message);
        expect(r.stderr).toContain(`received "${shown}"`);
        expect(r.stderr + r.stdout).not.toContain(SECRET);
      }
    },
    45_000,
  );

  it('an unreachable Redis is named without its password, by client commands and by dev', async () => {
    const url = `redis://ada:${SECRET}@127.0.0.1:1`;
    const [client, dev] = await Promise.all([
      run(['queues', '--redis', url], { timeoutMs: 40_000 }),
      run(['dev', '--redis', url, '--port', '0'], { timeoutMs: 40_000 }),
    ]);
    for (const r of [client, dev]) {
      expect(r.code).toBe(5);
      expect(r.stderr).toContain('cannot reach Redis at redis://ada:***@127.0.0.1:1');
      expect(r.stderr + r.stdout).not.toContain(SECRET);
    }
  }, 45_000);
});
