/**
 * `retraced server --redis URL`: the HTTP API alone, for production. Loopback by default; beyond
 * loopback only with a token. It also sweeps the retention rules of every queue on time (with
 * the workers: one sweep per queue per second across all of them). SIGINT/SIGTERM close the server
 * (open event streams included) and the backend, then exit 0.
 * @module
 */
import { intValue, listValue, OUTPUT_OPTIONS, type OptionSpecs } from '../args.js';
import { IN_PROCESS_ARCHIVE_OPTIONS, postgresUrl, startArchive, type RunningArchive } from '../archive.js';
import { openRedis } from '../backend.js';
import { command } from '../command.js';
import { UsageError } from '../exit-codes.js';
import { DEFAULT_RETENTION_SWEEP_MS } from '../../options.js';
import { RetentionSweeper } from '../../retention-sweeper.js';
import { SchedulerLoop } from '../../scheduler-loop.js';
import { baseUrl, exitSoon, untilSignal } from '../lifecycle.js';
import { checkExposure, DEFAULT_HOST, listen, portValue, tokenValue } from '../serve.js';

const options = {
  redis: {
    type: 'string',
    arg: 'URL',
    help: 'the Redis holding the queues (env RETRACED_REDIS_URL) (required)',
  },
  prefix: { type: 'string', arg: 'PREFIX', help: 'Redis key prefix (env RETRACED_PREFIX) [default: rt]' },
  port: {
    type: 'string',
    arg: 'N',
    help: 'port to listen on, 0 for any free one (env RETRACED_PORT) [default: 7411]',
  },
  host: {
    type: 'string',
    arg: 'HOST',
    help: 'address to listen on (env RETRACED_HOST) [default: 127.0.0.1]',
  },
  token: {
    type: 'string',
    arg: 'TOKEN',
    help: 'bearer token required on every route but /healthz and /readyz (env RETRACED_TOKEN); mandatory beyond loopback',
  },
  cors: {
    type: 'string',
    arg: 'ORIGINS',
    help: 'comma-separated origins allowed from browsers, * for any [default: CORS off]',
  },
  'allowed-hosts': {
    type: 'string',
    arg: 'HOSTS',
    help: 'comma-separated host names the server answers to besides localhost, its loopback and IP addresses and --host, * for any (a guard against DNS rebinding) [default: none]',
  },
  'read-only': {
    type: 'boolean',
    help: 'refuse every change (403): reads, the retry plan and dry runs work',
  },
  'body-limit': { type: 'string', arg: 'BYTES', help: 'largest request body [default: 1048576]' },
  log: { type: 'boolean', help: 'log every request as JSON on stdout' },
  ...IN_PROCESS_ARCHIVE_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const satisfies OptionSpecs;

export const server = command(
  {
    name: 'server',
    usage: '--redis URL [--postgres URL] [--port N] [--host HOST] [--token TOKEN]',
    brief: 'The HTTP API over Redis, for production.',
    summary:
      'Serves the HTTP API (OpenAPI at /openapi.json, docs at /docs, metrics at /metrics, events at /events) over a Redis backend. Run workers separately with `retraced worker`.',
    options,
    groups: [{ title: 'Output', options: OUTPUT_OPTIONS }],
    examples: [
      'retraced server --redis redis://127.0.0.1:6379',
      'RETRACED_TOKEN=$(openssl rand -hex 32) retraced server --redis redis://redis:6379 --host 0.0.0.0',
    ],
  },
  async ({ values }, out) => {
    const url = values.redis ?? (process.env.RETRACED_REDIS_URL || undefined);
    if (url === undefined) {
      throw new UsageError(
        '--redis URL is required (or set RETRACED_REDIS_URL); to try ReTraced without Redis, run `retraced dev`',
      );
    }
    const host = values.host ?? (process.env.RETRACED_HOST || DEFAULT_HOST);
    const port = portValue(values.port);
    const token = tokenValue(values.token);
    checkExposure(host, token);
    const cors = listValue(values.cors) ?? [];
    const allowedHosts = [host, ...(listValue(values['allowed-hosts']) ?? [])];
    const readOnly = values['read-only'] === true;
    const bodyLimit = intValue(values['body-limit'], '--body-limit', 1024, 64 << 20);
    const prefix = values.prefix ?? (process.env.RETRACED_PREFIX || undefined);
    const pg = postgresUrl(values.postgres);

    const opened = await openRedis(
      { url, prefix, source: values.redis ? '--redis' : 'RETRACED_REDIS_URL' },
      { longLived: true },
    );
    let archived: RunningArchive | undefined;
    try {
      // The archiver in-process; evicted jobs are read from the archive by every route.
      // On a Redis connection of its own: its reads (100 whole jobs a call) would otherwise queue
      // the commands of the routes behind them on one socket.
      if (pg !== undefined) {
        const own = await openRedis(
          { url, prefix, source: values.redis ? '--redis' : 'RETRACED_REDIS_URL' },
          { longLived: true },
        );
        archived = await startArchive(own.backend, pg, values, out, undefined, own.close);
      }
      const archive = archived?.archive;
      // Loaded on use: Fastify and its plugins are the heaviest part of the CLI to start.
      const { buildApp } = await import('../../http/app.js');
      const app = await buildApp({
        backend: opened.backend,
        ...(archive ? { queueOptions: () => ({ archive }) } : {}),
        ...(token !== undefined ? { token } : {}),
        ...(cors.length > 0 ? { cors } : {}),
        allowedHosts,
        readOnly,
        ...(bodyLimit !== undefined ? { bodyLimit } : {}),
        ...(values.log ? { logger: true } : {}),
      });
      const stopped = untilSignal();
      const bound = await listen(app, host, port);
      const sweeper = new RetentionSweeper(opened.backend, {
        intervalMs: DEFAULT_RETENTION_SWEEP_MS,
        queues: cachedQueues(() => opened.backend.listQueues()),
        onError: (e) => out.note(`retention sweep failed: ${e instanceof Error ? e.message : String(e)}`),
      });
      sweeper.start();
      const queues = cachedQueues(() => opened.backend.listQueues());
      const schedulers = new SchedulerLoop({
        backend: opened.backend,
        queues,
        onError: (e) => out.note(`scheduler tick failed: ${e instanceof Error ? e.message : String(e)}`),
      }).start();
      const base = baseUrl(host, bound);
      if (out.json) {
        out.line(
          JSON.stringify({
            url: base,
            port: bound,
            host,
            backend: opened.description,
            auth: token !== undefined,
            readOnly,
            archive: archive !== undefined,
          }),
        );
      } else {
        out.line(
          `ReTraced API on ${base} (${opened.description}${archive ? `, archive in PostgreSQL schema ${archive.schema}` : ''}, ${token !== undefined ? 'bearer token required' : 'no token: loopback only'}${readOnly ? ', read-only' : ''})`,
        );
        out.line(
          `  dashboard ${base}/   docs ${base}/docs   metrics ${base}/metrics   events ${base}/events`,
        );
      }
      const signal = await stopped;
      out.note(`${signal}: closing the server…`);
      await sweeper.stop();
      await schedulers.close();
      await app.close();
    } finally {
      await archived?.close();
      await opened.close();
    }
    out.note('server stopped');
    exitSoon(0);
  },
);

/** The queue names, listed again at most once a minute (a listing scans the keyspace). */
function cachedQueues(list: () => Promise<string[]>): () => Promise<readonly string[]> {
  let names: readonly string[] = [];
  let at = -Infinity;
  return async () => {
    if (Date.now() - at >= 60_000) {
      names = await list();
      at = Date.now();
    }
    return names;
  };
}
