/**
 * `retraced dev` (what `npm start` runs): the embedded memory backend (or Redis), the HTTP API on
 * 127.0.0.1, and demo workers with a trickle of jobs that succeed, retry, time out and
 * dead-letter. It prints the URLs and commands to try, then a status line now and then.
 * @module
 */
import type { Backend } from '../../backend.js';
import { MemoryBackend } from '../../backends/memory/index.js';
import { SchedulerLoop } from '../../scheduler-loop.js';
import { listValue, OUTPUT_OPTIONS, type OptionSpecs } from '../args.js';
import { IN_PROCESS_ARCHIVE_OPTIONS, postgresUrl, startArchive } from '../archive.js';
import { openRedis } from '../backend.js';
import { command } from '../command.js';
import { DEMO_QUEUE, startDemo, type Demo } from '../demo.js';
import { baseUrl, exitSoon, untilSignal } from '../lifecycle.js';
import type { Output } from '../output.js';
import { DEFAULT_HOST, listen, portValue, tokenValue } from '../serve.js';
import { printTransitions } from '../transitions.js';

const options = {
  redis: { type: 'string', arg: 'URL', help: 'use this Redis instead of the in-memory backend' },
  prefix: { type: 'string', arg: 'PREFIX', help: 'Redis key prefix [default: rt]' },
  port: {
    type: 'string',
    arg: 'N',
    help: 'port for the API, 0 for any free one (env RETRACED_PORT) [default: 7411]',
  },
  token: { type: 'string', arg: 'TOKEN', help: 'require this bearer token on the API (env RETRACED_TOKEN)' },
  'read-only': {
    type: 'boolean',
    help: 'the API refuses every change (403); the demo workers still run',
  },
  'allowed-hosts': {
    type: 'string',
    arg: 'HOSTS',
    help: 'comma-separated host names the API answers to besides localhost and 127.0.0.1, * for any',
  },
  'no-demo': { type: 'boolean', help: 'no demo workers and no demo jobs: just the backend and the API' },
  verbose: { type: 'boolean', short: 'v', help: "print every demo job's transitions" },
  ...IN_PROCESS_ARCHIVE_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

export const dev = command(
  {
    name: 'dev',
    usage: '[--redis URL] [--postgres URL] [--port N] [--no-demo]',
    brief: 'In-memory backend, the HTTP API and demo workers in one command (npm start).',
    summary:
      'The one-command experience: an in-memory backend (or Redis), the HTTP API on 127.0.0.1 and demo workers on a "demo" queue whose jobs succeed, retry with different strategies, time out, fail permanently and dead-letter. Prints the URLs and commands to try. Ctrl-C stops it.',
    options,
    groups: [{ title: 'Output', options: OUTPUT_OPTIONS }],
    examples: [
      'retraced dev',
      'retraced dev --port 0 --no-demo',
      'retraced dev --redis redis://127.0.0.1:6379',
    ],
  },
  async ({ values }, out) => {
    const port = portValue(values.port);
    const token = tokenValue(values.token);
    let backend: Backend;
    let description: string;
    let closeBackend: () => Promise<void>;
    if (values.redis !== undefined) {
      const opened = await openRedis(
        { url: values.redis, prefix: values.prefix, source: '--redis' },
        { longLived: true },
      );
      ({ backend, description } = opened);
      closeBackend = () => opened.close();
    } else {
      const memory = new MemoryBackend();
      backend = memory;
      description = 'in-memory backend (everything is gone when you stop it)';
      closeBackend = () => memory.close();
    }

    const pg = postgresUrl(values.postgres);
    const archived = pg !== undefined ? await startArchive(backend, pg, values, out) : undefined;
    const archive = archived?.archive;
    if (archive) description += `, archived in PostgreSQL (schema ${archive.schema})`;
    // Loaded on use: Fastify and its plugins are the heaviest part of the CLI to start.
    const { buildApp } = await import('../../http/app.js');
    const app = await buildApp({
      backend,
      ...(archive ? { queueOptions: () => ({ archive }) } : {}),
      ...(token !== undefined ? { token } : {}),
      allowedHosts: listValue(values['allowed-hosts']) ?? [],
      readOnly: values['read-only'] === true,
    });
    let demo: Demo | undefined;
    let status: NodeJS.Timeout | undefined;
    // Fires the schedulers of every queue (listed again at every rescan).
    const schedulers = new SchedulerLoop({
      backend,
      queues: () => backend.listQueues(),
      onError: (e) => out.note(`scheduler tick failed: ${e instanceof Error ? e.message : String(e)}`),
    }).start();
    try {
      const stopped = untilSignal();
      const bound = await listen(app, DEFAULT_HOST, port);
      const base = baseUrl(DEFAULT_HOST, bound);
      if (!values['no-demo']) {
        demo = await startDemo({ backend, onError: (e) => out.note(`demo: ${e.message}`) });
        if (values.verbose) printTransitions(demo.worker, out);
      }
      if (out.json) {
        out.line(
          JSON.stringify({
            url: base,
            port: bound,
            backend: description,
            demo: demo !== undefined,
            queue: DEMO_QUEUE,
          }),
        );
      } else printWelcome(out, base, description, demo !== undefined, token);
      if (demo && !out.json) status = statusLine(out, demo, base);
      const signal = await stopped;
      out.note('');
      out.note(`${signal}: shutting down…`);
    } finally {
      clearInterval(status);
      await demo?.stop();
      await schedulers.close();
      await app.close();
      await archived?.close();
      await closeBackend();
    }
    out.note('stopped');
    exitSoon(0);
  },
);

/**
 * How the banner tells to run the CLI: `npx retraced` finds the bin of a project that depends on
 * retraced, of a global install, and of a clone (whose `npm install` built dist/), as the README's
 * examples run it.
 */
const CLI = 'npx retraced';

function printWelcome(
  out: Output,
  base: string,
  description: string,
  demo: boolean,
  token: string | undefined,
): void {
  const auth = token !== undefined ? ' --token $RETRACED_TOKEN' : '';
  const b = (s: string): string => out.paint('bold', s);
  out.line(b('ReTraced dev'));
  out.line(
    `  ${description}${demo ? `; demo workers on queue "${DEMO_QUEUE}", a few new jobs per second` : ''}`,
  );
  out.line();
  out.line(`  Dashboard ${b(`${base}/`)}`);
  out.line(`  API      ${b(base)}`);
  out.line(`  Docs     ${base}/docs`);
  out.line(`  Metrics  ${base}/metrics`);
  out.line(`  Events   ${base}/events${demo ? `?queue=${DEMO_QUEUE}` : ''}`);
  out.line();
  out.line('Try, in another terminal:');
  const q = demo ? DEMO_QUEUE : 'QUEUE';
  for (const c of [
    `queues --url ${base}${auth}`,
    `jobs list ${q} --url ${base}${auth}`,
    `dlq groups ${q} --url ${base}${auth}`,
    `dlq list ${q} --url ${base}${auth}`,
    `jobs show ${q} <id> --url ${base}${auth}`,
    `dlq replay ${q} <id> --by you --note "fixed it" --patch '{"email":"edsger@example.com"}' --url ${base}${auth}`,
    `retry-plan --policy '{"attempts":5,"backoff":{"type":"exponential","delayMs":1000,"jitter":"full"}}'`,
  ]) {
    out.line(`  ${CLI} ${c}`);
  }
  out.line(
    `  curl -N ${base}/events${demo ? `?queue=${DEMO_QUEUE}` : ''}${token !== undefined ? ' -H "Authorization: Bearer $RETRACED_TOKEN"' : ''}`,
  );
  out.line();
  out.line('Ctrl-C to stop.');
}

/** Every 15 s: the demo queue's counts, and (once) a dead job to look at. */
function statusLine(out: Output, demo: Demo, base: string): NodeJS.Timeout {
  let pointed = false;
  const t = setInterval(() => {
    void (async () => {
      const c = await demo.queue.counts();
      const time = new Date().toISOString().slice(11, 19);
      out.line(
        out.paint(
          'dim',
          `${time} demo: ${c.waiting} waiting, ${c.scheduled} scheduled (retries pending), ${c.active} active, ${c.completed} completed, ${c.dead} dead`,
        ),
      );
      if (!pointed && c.dead > 0) {
        const [dead] = await demo.queue.dlq.list({}, { limit: 1 });
        if (dead) {
          pointed = true;
          out.line(`  a dead job to inspect: ${CLI} jobs show ${DEMO_QUEUE} ${dead.id} --url ${base}`);
        }
      }
    })().catch(() => undefined);
  }, 15_000);
  t.unref();
  return t;
}
