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
import { httpTargetHandler, type HttpTargetOptions } from '../../http-target.js';
import { loadHandlers, type LoadedHandlers } from '../handlers.js';
import { exitSoon, untilSignal } from '../lifecycle.js';
import { formatDuration } from '../../duration.js';
import { printTransitions } from '../transitions.js';

/** The flags that set the built-in HTTP handler (`--http`), grouped apart in the help. */
const HTTP_TARGET_OPTIONS = {
  'http-temporary': {
    type: 'string',
    arg: 'STATUSES',
    multiple: true,
    help: 'with --http: the statuses retried as temporary failures, statuses (300-599) or ranges (500-599), comma-separated or repeated; any other non-2xx dead-letters [default: 408,425,429,500-599]',
  },
  'http-on-429': {
    type: 'string',
    arg: 'rate-limit|retry',
    help: "with --http: a 429 pauses the job's group (or queue) for its Retry-After without charging an attempt (rate-limit), or is a charged temporary failure (retry) [default: rate-limit]",
  },
  'http-rate-limit-scope': {
    type: 'string',
    arg: 'group|queue',
    help: "with --http: what a 429 pauses: the job's group (its queue when it has none) or the whole queue [default: group]",
  },
  'http-header': {
    type: 'string',
    arg: 'NAME',
    multiple: true,
    help: 'with --http: a response header recorded on the attempt, comma-separated or repeated, at most 20 [default: content-type,retry-after,location,x-request-id]',
  },
  'http-body-excerpt': {
    type: 'string',
    arg: 'BYTES',
    help: 'with --http: bytes of the response body recorded on the attempt, 0-4096 [default: 1024]',
  },
  'http-max-redirects': {
    type: 'string',
    arg: 'N',
    help: 'with --http: redirects followed, each hop checked against --allow-host, 0-20 [default: 3]',
  },
  'http-timeout': {
    type: 'string',
    arg: 'DURATION',
    help: 'with --http: the timeout of a target that sets no timeoutMs, per request [default: 10s]',
  },
  'http-max-timeout': {
    type: 'string',
    arg: 'DURATION',
    help: 'with --http: the longest timeout any target gets, whatever its timeoutMs (at most 5m) [default: 5m]',
  },
} as const satisfies OptionSpecs;

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
  ...HTTP_TARGET_OPTIONS,
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
    groups: [
      { title: 'HTTP targets (with --http)', options: HTTP_TARGET_OPTIONS },
      { title: 'Output', options: OUTPUT_OPTIONS },
    ],
    examples: [
      'retraced worker --redis redis://127.0.0.1:6379 --queue emails --handlers ./handlers.js --concurrency 8',
      'retraced worker --redis redis-cluster://10.0.0.1:7000 --queue emails:3 --queue reports:1 --handlers ./handlers.js',
      'RETRACED_HTTP_SECRET=… retraced worker --redis redis://127.0.0.1:6379 --queue hooks --http --allow-host "*.example.com" --concurrency 50',
      'retraced worker --redis redis://127.0.0.1:6379 --queue hooks --http --allow-host api.example.com --http-temporary 409,500-599 --http-on-429 retry --http-header x-request-id,etag --http-body-excerpt 4096 --http-timeout 30s',
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
    const httpFlags = httpTargetFlags(values);
    if (!values.http && Object.keys(httpFlags).length > 0) {
      throw new UsageError(
        `${Object.keys(httpFlags)
          .map((k) => HTTP_FLAGS[k])
          .join(', ')} go${Object.keys(httpFlags).length === 1 ? 'es' : ''} with --http`,
      );
    }
    const concurrency = intValue(values.concurrency, '--concurrency', 1, 10_000) ?? 1;
    const leaseMs = durationValue(values['lease-ms'], '--lease-ms');
    const shutdownMs = durationValue(values['shutdown-timeout'], '--shutdown-timeout') ?? 30_000;
    const workerId = stringValue(values['worker-id'], '--worker-id', 100);
    const secret = process.env.RETRACED_HTTP_SECRET || undefined;
    const loaded: LoadedHandlers = values.http
      ? {
          handler: withFlagNames(
            () =>
              httpTargetHandler({
                allowHosts,
                allowPrivate: values['allow-private'] === true,
                ...(secret ? { secret } : {}),
                ...httpFlags,
              }),
            HTTP_FLAGS,
          ) as LoadedHandlers['handler'],
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
        // On a Redis connection of its own: its reads (100 whole jobs a call) would otherwise queue
        // the workers' claims and finishes behind them on one socket (c100 with the archiver
        // in-process: 5,176 / 10,033 jobs/s against 4,464 / 6,977 sharing it, interleaved).
        const own = await openRedis(
          { url, prefix, source: values.redis ? '--redis' : 'RETRACED_REDIS_URL' },
          { longLived: true },
        );
        archived = await startArchive(
          own.backend,
          pg,
          values,
          out,
          wanted.map((q) => q.name),
          own.close,
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
        ? `HTTP targets to ${allowHosts.join(', ')}${values['allow-private'] ? ' (private addresses allowed)' : ''}${secret ? ', signed' : ''}, ${httpFlags.on429 === 'retry' ? 'a 429 retried as its status says' : `a 429 pauses the job's ${httpFlags.rateLimitScope === 'queue' ? 'queue' : 'group'} uncharged`}`
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

function withFlagNames<T>(make: () => T, flags: Readonly<Record<string, string>> = FLAGS): T {
  try {
    return make();
  } catch (e) {
    const flag = e instanceof ValidationError ? flags[e.field] : undefined;
    if (e instanceof ValidationError && flag) e.message = `${flag}${e.message.slice(e.field.length)}`;
    throw e;
  }
}

/** The HTTP handler's settings (HttpTargetOptions) and the flags that set them. */
const HTTP_FLAGS: Readonly<Record<string, string>> = {
  allowHosts: '--allow-host',
  temporaryStatuses: '--http-temporary',
  on429: '--http-on-429',
  rateLimitScope: '--http-rate-limit-scope',
  headersOfInterest: '--http-header',
  maxBodyExcerpt: '--http-body-excerpt',
  maxRedirects: '--http-max-redirects',
  defaultTimeoutMs: '--http-timeout',
  maxTimeoutMs: '--http-max-timeout',
};

type HttpFlagValues = { readonly [K in keyof typeof HTTP_TARGET_OPTIONS]?: unknown };

/**
 * The HTTP handler's settings the `--http-*` flags give (only those given), parsed; their ranges
 * are the handler's to check (resolveHttpTargetOptions), its errors named after the flags.
 */
export function httpTargetFlags(values: HttpFlagValues): Partial<HttpTargetOptions> {
  const out: {
    -readonly [K in keyof HttpTargetOptions]?: HttpTargetOptions[K];
  } = {};
  const list = (v: unknown): string[] | undefined =>
    v === undefined
      ? undefined
      : (v as string[])
          .flatMap((x) => x.split(','))
          .map((x) => x.trim())
          .filter(Boolean);
  const statuses = list(values['http-temporary']);
  if (statuses !== undefined) {
    const flag = '--http-temporary';
    const all: number[] = [];
    for (const item of statuses) {
      const m = /^(\d{3})(?:-(\d{3}))?$/.exec(item);
      const lo = m ? Number(m[1]) : NaN;
      const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
      if (!m || lo < 300 || hi > 599 || hi < lo) {
        throw new ValidationError(flag, 'statuses between 300 and 599 or ranges of them (500-599)', item);
      }
      for (let s = lo; s <= hi; s++) all.push(s);
    }
    if (all.length === 0) throw new ValidationError(flag, 'at least one status');
    out.temporaryStatuses = all;
  }
  const on429 = values['http-on-429'];
  if (on429 !== undefined) out.on429 = on429 as HttpTargetOptions['on429'];
  const scope = values['http-rate-limit-scope'];
  if (scope !== undefined) out.rateLimitScope = scope as HttpTargetOptions['rateLimitScope'];
  const headers = list(values['http-header']);
  if (headers !== undefined) out.headersOfInterest = headers;
  const excerpt = intValue(values['http-body-excerpt'] as string | undefined, '--http-body-excerpt', 0, 4096);
  if (excerpt !== undefined) out.maxBodyExcerpt = excerpt;
  const redirects = intValue(
    values['http-max-redirects'] as string | undefined,
    '--http-max-redirects',
    0,
    20,
  );
  if (redirects !== undefined) out.maxRedirects = redirects;
  const timeout = durationValue(values['http-timeout'] as string | undefined, '--http-timeout');
  if (timeout !== undefined) out.defaultTimeoutMs = timeout;
  const maxTimeout = durationValue(values['http-max-timeout'] as string | undefined, '--http-max-timeout');
  if (maxTimeout !== undefined) out.maxTimeoutMs = maxTimeout;
  return out;
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
