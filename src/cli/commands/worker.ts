/**
 * `retraced worker`: runs the handlers of a user's module against a Redis queue, printing one
 * line per transition, until SIGINT/SIGTERM, when it stops claiming, lets the jobs in flight finish
 * (up to --shutdown-timeout), then exits 0.
 * @module
 */
import { ValidationError } from '../../errors.js';
import { Queue } from '../../queue.js';
import { assertQueueName } from '../../validate.js';
import { SchedulerLoop } from '../../scheduler-loop.js';
import { Worker } from '../../worker.js';
import { durationValue, intValue, OUTPUT_OPTIONS, stringValue, type OptionSpecs } from '../args.js';
import { IN_PROCESS_ARCHIVE_OPTIONS, postgresUrl, startArchive, type RunningArchive } from '../archive.js';
import { openRedis } from '../backend.js';
import { command } from '../command.js';
import { UsageError } from '../exit-codes.js';
import { httpTargetHandler } from '../../http-target.js';
import { loadHandlers, type LoadedHandlers } from '../handlers.js';
import { exitSoon, untilSignal } from '../lifecycle.js';
import { formatDuration } from '../../duration.js';
import { printTransitions } from '../transitions.js';

const options = {
  redis: {
    type: 'string',
    arg: 'URL',
    help: 'the Redis holding the queue (env RETRACED_REDIS_URL) (required)',
  },
  prefix: { type: 'string', arg: 'PREFIX', help: 'Redis key prefix (env RETRACED_PREFIX) [default: rt]' },
  queue: {
    type: 'string',
    arg: 'NAME[:WEIGHT]',
    multiple: true,
    help: 'a queue to work on (required); repeat it (or separate with commas) for several, each with an optional weight 1-1000 [default weight: 1]',
  },
  handlers: {
    type: 'string',
    arg: 'PATH',
    help: 'your module: default export (job, signal) => result, or { [jobName]: handler } (required, or --http)',
  },
  http: {
    type: 'boolean',
    help: "run the built-in HTTP target handler instead of --handlers: each job's data says which URL to call (POST /queues/:queue/http-jobs); sign requests with env RETRACED_HTTP_SECRET",
  },
  'allow-host': {
    type: 'string',
    arg: 'PATTERN',
    multiple: true,
    help: 'with --http: a host targets may call (api.example.com, *.example.com, or * for any public host); repeat or separate with commas (required with --http)',
  },
  'allow-private': {
    type: 'boolean',
    help: 'with --http: allow private, loopback and link-local addresses (refused by default: server-side request forgery)',
  },
  concurrency: { type: 'string', arg: 'N', help: 'jobs run at once, 1-10000 [default: 1]' },
  'lease-ms': {
    type: 'string',
    arg: 'DURATION',
    help: 'lease per claim, renewed while a handler runs [default: 30s]',
  },
  'worker-id': { type: 'string', arg: 'ID', help: 'recorded on every attempt [default: host:pid:random]' },
  'shutdown-timeout': {
    type: 'string',
    arg: 'DURATION',
    help: 'on SIGINT/SIGTERM, wait this long for jobs in flight [default: 30s]',
  },
  quiet: { type: 'boolean', short: 'q', help: 'no line per transition' },
  ...IN_PROCESS_ARCHIVE_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

export const worker = command(
  {
    name: 'worker',
    usage:
      '--redis URL --queue NAME[:WEIGHT]... (--handlers ./handlers.js | --http --allow-host PATTERN...) [--concurrency N]',
    brief: 'Runs your handlers module on a queue, until SIGINT/SIGTERM.',
    summary:
      "Runs the handlers a module exports on a queue's jobs, printing one line per transition (NDJSON with --json). On SIGINT/SIGTERM it stops claiming, lets the jobs in flight finish, and exits 0. With several queues (--queue a:3 --queue b:1) one worker shares its concurrency between them: by weight while all have work, all of it to those that have when others are empty; an idle worker blocks on every queue at once. The module may also export `strategies` (custom retry strategies) and `queueOptions` (such as the `classify` table).",
    options,
    groups: [{ title: 'Output', options: OUTPUT_OPTIONS }],
    examples: [
      'retraced worker --redis redis://127.0.0.1:6379 --queue emails --handlers ./handlers.js --concurrency 8',
      'retraced worker --redis redis-cluster://10.0.0.1:7000 --queue emails:3 --queue reports:1 --handlers ./handlers.js',
      'RETRACED_HTTP_SECRET=… retraced worker --redis redis://127.0.0.1:6379 --queue hooks --http --allow-host "*.example.com" --concurrency 50',
      '',
      '// handlers.js',
      "import { TemporaryError } from 'retraced';",
      'export default {',
      "  'send-email': async (job, signal) => { /* … */ return { sent: true }; },",
      '};',
    ],
  },
  async ({ values }, out) => {
    const url = values.redis ?? (process.env.RETRACED_REDIS_URL || undefined);
    if (url === undefined) {
      throw new UsageError(
        '--redis URL is required (or set RETRACED_REDIS_URL): workers claim jobs from Redis directly',
      );
    }
    if (values.queue === undefined) throw new UsageError('--queue NAME is required');
    const wanted = queueFlags(values.queue);
    if (values.http && values.handlers !== undefined) {
      throw new UsageError('--http runs the built-in HTTP handler: drop --handlers (or --http)');
    }
    if (!values.http && values.handlers === undefined) {
      throw new UsageError('--handlers PATH is required: a module exporting your handlers (or --http)');
    }
    const allowHosts = (values['allow-host'] ?? [])
      .flatMap((h) => h.split(','))
      .map((h) => h.trim())
      .filter(Boolean);
    if (values.http && allowHosts.length === 0) {
      throw new UsageError(
        '--http needs --allow-host PATTERN (the hosts targets may call; * for any public host)',
      );
    }
    if (!values.http && (allowHosts.length > 0 || values['allow-private'])) {
      throw new UsageError('--allow-host and --allow-private go with --http');
    }
    const concurrency = intValue(values.concurrency, '--concurrency', 1, 10_000) ?? 1;
    const leaseMs = durationValue(values['lease-ms'], '--lease-ms');
    const shutdownMs = durationValue(values['shutdown-timeout'], '--shutdown-timeout') ?? 30_000;
    const workerId = stringValue(values['worker-id'], '--worker-id', 100);
    const secret = process.env.RETRACED_HTTP_SECRET || undefined;
    const loaded: LoadedHandlers = values.http
      ? {
          handler: httpTargetHandler({
            allowHosts,
            allowPrivate: values['allow-private'] === true,
            ...(secret ? { secret } : {}),
          }) as LoadedHandlers['handler'],
          names: undefined,
          strategies: undefined,
          queueOptions: undefined,
        }
      : await loadHandlers(values.handlers as string);

    const prefix = values.prefix ?? (process.env.RETRACED_PREFIX || undefined);
    const opened = await openRedis(
      { url, prefix, source: values.redis ? '--redis' : 'RETRACED_REDIS_URL' },
      { longLived: true },
    );
    let archived: RunningArchive | undefined;
    try {
      const pg = postgresUrl(values.postgres);
      if (pg !== undefined) {
        archived = await startArchive(
          opened.backend,
          pg,
          values,
          out,
          wanted.map((q) => q.name),
        );
      }
      const queues = wanted.map(({ name, weight }) => ({
        queue: new Queue(name, {
          ...loaded.queueOptions,
          backend: opened.backend,
          ...(archived ? { archive: archived.archive } : {}),
        }),
        weight,
      }));
      const w = withFlagNames(
        () =>
          new Worker(queues, loaded.handler, {
            concurrency,
            ...(leaseMs !== undefined ? { leaseMs } : {}),
            ...(workerId !== undefined ? { workerId } : {}),
            ...(loaded.strategies ? { strategies: loaded.strategies } : {}),
            autostart: false,
          }),
      );
      if (!values.quiet) printTransitions(w, out);
      printErrors(w, out);
      const stopped = untilSignal();
      w.start();
      // Fires the queue's schedulers (any number of processes may: each tick creates its jobs once).
      const schedulers = new SchedulerLoop({
        backend: opened.backend,
        queues: wanted.map((q) => q.name),
        onError: (e) => out.note(`scheduler tick failed: ${e instanceof Error ? e.message : String(e)}`),
      }).start();
      const names = values.http
        ? `HTTP targets to ${allowHosts.join(', ')}${values['allow-private'] ? ' (private addresses allowed)' : ''}${secret ? ', signed' : ''}`
        : loaded.names
          ? `handlers for ${loaded.names.join(', ')}`
          : 'one handler for every job name';
      out.note(
        `worker ${w.id} on ${queuesText(wanted)} (${opened.description}, concurrency ${concurrency}, lease ${formatDuration(w.options.leaseMs)}): ${names}. Ctrl-C to stop.`,
      );
      const signal = await stopped;
      out.note(
        `${signal}: stopping; ${w.running} job${w.running === 1 ? '' : 's'} in flight (waiting up to ${formatDuration(shutdownMs)})…`,
      );
      await schedulers.close();
      await w.close({ timeoutMs: shutdownMs });
      out.note('worker stopped');
    } finally {
      await archived?.close();
      await opened.close();
    }
    exitSoon(0);
  },
);

/** `--queue a:3 --queue b` (or `--queue a:3,b`): names with weights, checked. */
export function queueFlags(raw: readonly string[]): { name: string; weight: number }[] {
  const out: { name: string; weight: number }[] = [];
  for (const item of raw.flatMap((r) => r.split(','))) {
    const m = /^([^:]*)(?::(.*))?$/.exec(item.trim()) as RegExpExecArray;
    const name = m[1] as string;
    assertQueueName(name, '--queue');
    const weight = m[2] === undefined ? 1 : (intValue(m[2], `--queue ${name}:WEIGHT`, 1, 1000) as number);
    if (out.some((q) => q.name === name)) throw new UsageError(`--queue ${name} is given twice`);
    out.push({ name, weight });
  }
  if (out.length === 0) throw new UsageError('--queue NAME is required');
  return out;
}

function queuesText(queues: readonly { name: string; weight: number }[]): string {
  if (queues.length === 1) return `queue ${(queues[0] as { name: string }).name}`;
  return `queues ${queues.map((q) => `${q.name} (weight ${q.weight})`).join(', ')}`;
}

/** The library names worker options as in code (`leaseMs`); the user wrote flags (`--lease-ms`). */
const FLAGS: Readonly<Record<string, string>> = {
  concurrency: '--concurrency',
  leaseMs: '--lease-ms',
  workerId: '--worker-id',
};

function withFlagNames<T>(make: () => T): T {
  try {
    return make();
  } catch (e) {
    const flag = e instanceof ValidationError ? FLAGS[e.field] : undefined;
    if (e instanceof ValidationError && flag) e.message = `${flag}${e.message.slice(e.field.length)}`;
    throw e;
  }
}

/** Worker errors (Redis down, …) on stderr, each distinct message at most every 10 s. */
function printErrors(w: Worker, out: { note(text: string): void }): void {
  const last = new Map<string, number>();
  w.on('error', (e) => {
    const now = Date.now();
    if (now - (last.get(e.message) ?? 0) < 10_000) return;
    last.set(e.message, now);
    out.note(`worker error: ${e.message}`);
  });
}
