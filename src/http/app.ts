/**
 * The HTTP API as a value: `buildApp` returns a ready-to-use Fastify instance that the caller
 * tests with `inject()` or serves with `listen()` (only `retraced server` and `retraced dev` do).
 * The app does not own the backend: closing the app stops its feed pollers and event streams,
 * and the caller closes the backend afterwards.
 * @module
 */
import { createRequire } from 'node:module';

import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';

import type { Backend } from '../backend.js';
import { ValidationError } from '../errors.js';
import type { QueueOptions } from '../options.js';
import { trackRouteMethods } from './allow.js';
import { installAuth, installCors, refuseUnauthorised } from './auth.js';
import { answerClientError, installErrorHandlers, problem, sendProblem } from './error-map.js';
import { hostNameOf, installHostCheck, installMutationGuards } from './guards.js';
import { MetricsCollector } from './metrics.js';
import type { Registry } from 'prom-client';
import { QueueRegistry } from './queue-registry.js';
import { problems } from './responses.js';
import type { RouteContext } from './routes/context.js';
import { registerAnalyticsRoutes } from './routes/analytics.js';
import { registerDlqRoutes } from './routes/dlq.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerJobActionRoutes } from './routes/job-actions.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerMetaRoutes } from './routes/meta.js';
import { registerQueueRoutes } from './routes/queues.js';
import { registerRetryIntelligenceRoutes } from './routes/retry-intelligence.js';
import { registerRetryBudgetRoutes } from './routes/retry-budget.js';
import { registerRetryPlanRoutes } from './routes/retry-plan.js';
import { registerSchedulerRoutes } from './routes/schedulers.js';
import { SseHub } from './sse.js';
import { decodeUtf8Body } from './utf8.js';
import { defaultUiDir, registerUiRoutes } from './ui.js';
import { createValidatorCompiler } from './validation.js';

export interface BuildAppOptions {
  /** Where the queues live. The app never closes it. */
  readonly backend: Backend;
  /** Bearer token required on every route but /healthz, /readyz and the dashboard's files. @default none (no auth) */
  readonly token?: string;
  /** Origins allowed to call the API from a browser (`*` for any). @default none (CORS off) */
  readonly cors?: readonly string[];
  /**
   * Host names (or addresses) the server answers to besides loopback names and the address a
   * connection arrives on; `*` for any (see guards.ts: a guard against DNS rebinding).
   * @default none
   */
  readonly allowedHosts?: readonly string[];
  /** Refuse every change (403 RETRACED_ERR_READ_ONLY); reads and dry runs work. @default false */
  readonly readOnly?: boolean;
  /** Largest request body, in bytes; larger ones get a 413. @default 1048576 (1 MiB) */
  readonly bodyLimit?: number;
  /** Options of each queue the API touches (retry defaults, size limits, …); `backend` is ignored. */
  readonly queueOptions?: (name: string) => QueueOptions;
  /** Fastify's logger option. @default false */
  readonly logger?: FastifyServerOptions['logger'];
  /**
   * A prom-client registry for ReTraced's metrics, so that one `/metrics` (this app's, or yours)
   * serves them with your own. Without one the app has its own, with the default process metrics.
   * One app per registry: the metric names are registered once.
   */
  readonly metricsRegistry?: Registry;
  /**
   * The built dashboard to serve at `/` (a directory holding `index.html`), or false for none.
   * @default the package's `dist/ui/`
   */
  readonly ui?: string | false;
}

const DEFAULT_BODY_LIMIT = 1 << 20;

function packageVersion(): string {
  try {
    const pkg = createRequire(import.meta.url)('../../package.json') as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function checkOptions(o: BuildAppOptions): void {
  if (typeof o !== 'object' || o === null || typeof o.backend?.readEvents !== 'function') {
    throw new ValidationError('backend', 'a Backend (MemoryBackend or RedisBackend)');
  }
  if (o.token !== undefined && (typeof o.token !== 'string' || !/^\S{1,1024}$/.test(o.token))) {
    throw new ValidationError('token', 'a non-empty string without spaces (at most 1024 characters)');
  }
  if (
    o.cors !== undefined &&
    (!Array.isArray(o.cors) || o.cors.some((c) => typeof c !== 'string' || c === ''))
  ) {
    throw new ValidationError(
      'cors',
      'an array of origins such as https://ops.example.com, or ["*"]',
      o.cors,
    );
  }
  if (
    o.allowedHosts !== undefined &&
    (!Array.isArray(o.allowedHosts) ||
      o.allowedHosts.some((h) => typeof h !== 'string' || (h !== '*' && hostNameOf(h) === undefined)))
  ) {
    throw new ValidationError(
      'allowedHosts',
      'an array of host names such as ops.example.com, or ["*"]',
      o.allowedHosts,
    );
  }
  if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean') {
    throw new ValidationError('readOnly', 'a boolean', o.readOnly);
  }
  const limit = o.bodyLimit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1024 || limit > 64 << 20)) {
    throw new ValidationError('bodyLimit', 'an integer number of bytes between 1024 and 67108864', limit);
  }
}

/** Builds the API on `options.backend`. Never listens. */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  checkOptions(options);
  const { backend, token, cors = [], readOnly = false } = options;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Job ids may be 128 characters; the schema, not the router, should refuse longer ones.
    routerOptions: { maxParamLength: 300 },
    clientErrorHandler: answerClientError,
    // URLs the router cannot take apart (a malformed %-escape, a path segment over 300
    // characters) never reach the hooks: answer them here like any other request, token first.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
      if (token !== undefined && refuseUnauthorised(request, reply, token)) return;
      const detail =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'a path segment is longer than 300 characters'
          : 'the URL is not valid (a malformed %-escape or invalid UTF-8)';
      sendProblem(reply, problem('RETRACED_ERR_BAD_REQUEST', detail));
    },
  });
  app.setValidatorCompiler(createValidatorCompiler());
  // An empty JSON body (a POST with Content-Type set and nothing to say) is no body, not an error;
  // anything else goes through Fastify's parser, which refuses prototype poisoning.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : decodeUtf8Body(body);
    if (typeof text !== 'string') return done(text, undefined);
    if (text.trim() === '') return done(null, undefined);
    void parseJson(request, text, done);
  });
  installErrorHandlers(app, trackRouteMethods(app));
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
  });
  installHostCheck(app, options.allowedHosts ?? []);
  if (cors.length > 0) installCors(app, cors);
  if (token !== undefined) installAuth(app, token);
  installMutationGuards(app, { cors, readOnly });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ReTraced API',
        version: packageVersion(),
        description:
          'Jobs, retries as data, dead letters and replays. Errors are application/problem+json with a stable code.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      ...(token !== undefined ? { security: [{ bearer: [] }] } : {}),
    },
    // Problem answers are documented here rather than in each route's response schemas, where
    // Fastify would compile a serializer for each of them.
    transform: ({ schema, url }) => ({
      schema: { ...schema, response: { ...(schema.response as object | undefined), ...problems } },
      url,
    }),
  });

  const log = (msg: string) => (e: unknown) => app.log.warn({ err: e }, msg);
  const metrics = new MetricsCollector(backend, {
    onError: log('metrics: reading the event feed failed'),
    ...(options.metricsRegistry ? { registry: options.metricsRegistry } : {}),
  });
  const sse = new SseHub(backend, { onError: log('events: reading the event feed failed') });
  metrics.gauge('retraced_sse_clients', 'Event-stream clients connected now.', () => sse.size);
  metrics.gauge(
    'retraced_sse_feeds',
    'Queue feeds the event stream follows now (one tail each, shared by its clients).',
    () => sse.feeds,
  );
  const ctx: RouteContext = {
    backend,
    queues: new QueueRegistry(backend, options.queueOptions),
    metrics,
    sse,
    server: { readOnly, auth: token !== undefined ? 'bearer' : 'none', version: packageVersion() },
  };

  registerHealthRoutes(app, ctx);
  registerMetaRoutes(app, ctx);
  registerQueueRoutes(app, ctx);
  registerJobRoutes(app, ctx);
  registerJobActionRoutes(app, ctx);
  registerDlqRoutes(app, ctx);
  registerSchedulerRoutes(app, ctx);
  registerRetryPlanRoutes(app, ctx);
  registerAnalyticsRoutes(app, ctx);
  registerRetryBudgetRoutes(app, ctx);
  registerRetryIntelligenceRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  if (options.ui !== false) registerUiRoutes(app, options.ui ?? defaultUiDir());

  // Streams first: the server waits for open connections, and an event stream never ends by itself.
  app.addHook('preClose', () => sse.close());
  app.addHook('onClose', () => metrics.stop());
  await metrics.start();
  return app;
}
