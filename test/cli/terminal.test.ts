/**
 * With colour on, what a job holds reaches the terminal escaped: its colour sequences, C0 and C1
 * controls, line breaks, bidi controls (U+202E RIGHT-TO-LEFT OVERRIDE...) and U+2028/U+2029 are
 * shown as `\u…`, in every human view of a job; only the CLI's own colours are sent raw
 * (issue 9 §7).
 */
import type { AddressInfo } from 'node:net';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MemoryBackend } from '../../src/backends/memory/index.js';
import { PermanentError } from '../../src/errors.js';
import { buildApp } from '../../src/http/app.js';
import { Queue } from '../../src/queue.js';
import { Worker } from '../../src/worker.js';
import { run } from './run.js';

/** The CLI's own colours: SGR reset, bold, dim and red to cyan. */
// eslint-disable-next-line no-control-regex -- escape sequences are exactly what is looked for
const OWN_COLOURS = /\x1b\[(?:0|1|2|3[1-6])m/g;
/** What must never reach the terminal raw (besides the line breaks between lines). */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/;

/** A fake "done" in green, a fake line, a right-to-left override, a C1 CSI, line separators. */
const ATTACK = 'boom\x1b[32m → done\x1b[0m\n       → done \u202eenod\u202c \u009b2J \u2028fake\u2029line';
const SHOWN =
  'boom\\u001b[32m → done\\u001b[0m\\u000a       → done \\u202eenod\\u202c \\u009b2J \\u2028fake\\u2029line';

describe('human views of a hostile job, colour forced on', () => {
  let backend: MemoryBackend;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    backend = new MemoryBackend();
    app = await buildApp({ backend });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const q = new Queue('tty', { backend });
    await q.add('\u202eevil\u2028name', { note: ATTACK }, { id: 'd-1' });
    await q.add('cancel me', 1, { id: 'c-1' });
    await q.cancel('c-1', { by: 'ops', reason: ATTACK });
    const w = new Worker(q, () => Promise.reject(new PermanentError(ATTACK, { code: 'E\u202eX' })), {
      idleCheckMs: 20,
    });
    while ((await q.counts()).dead < 1) await new Promise((r) => setTimeout(r, 20));
    await w.close();
  });

  afterAll(async () => {
    await app?.close();
    await backend?.close();
  });

  const views = [
    ['jobs', 'show', 'tty', 'd-1'],
    ['jobs', 'show', 'tty', 'c-1'],
    ['dlq', 'show', 'tty', 'd-1'],
    ['jobs', 'list', 'tty'],
    ['dlq', 'list', 'tty'],
    ['dlq', 'groups', 'tty'],
  ];

  it.each(views.map((v) => [v.join(' '), v]))(
    '%s',
    async (_, argv) => {
      const r = await run([...argv, '--url', url], { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(OWN_COLOURS); // colour is on
      const raw = r.stdout.replace(OWN_COLOURS, '');
      expect(raw.match(UNSAFE), JSON.stringify(raw)).toBeNull();
    },
    45_000,
  );

  it('shows the hostile text escaped, whole, where a person reads it', async () => {
    const env = { NO_COLOR: '', FORCE_COLOR: '1' };
    const [dead, cancelled] = await Promise.all([
      run(['jobs', 'show', 'tty', 'd-1', '--url', url], { env }),
      run(['jobs', 'show', 'tty', 'c-1', '--url', url], { env }),
    ]);
    expect(dead.stdout).toContain(`PermanentError: ${SHOWN} [E\\u202eX]`);
    expect(dead.stdout).toContain('"\\u202eevil\\u2028name"');
    expect(dead.stdout).toContain('data\x1b[0m   {"note":"boom\\u001b[32m');
    expect(cancelled.stdout).toContain(`cancelled by ops: ${SHOWN}`);
  }, 45_000);
});
