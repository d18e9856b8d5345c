/**
 * Retry analytics of a queue over a window, from the rollups the finish transition keeps.
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { withFieldPrefix } from '../error-map.js';
import { analyticsReport } from '../responses.js';
import { analyticsQuery, queueParams, type AnalyticsQuery, type QueueParams } from '../schemas.js';
import type { RouteContext } from './context.js';

export function registerAnalyticsRoutes(app: FastifyInstance, { queues }: RouteContext): void {
  app.get<{ Params: QueueParams; Querystring: AnalyticsQuery }>(
    '/queues/:queue/analytics',
    {
      schema: {
        tags: ['analytics'],
        summary:
          'Retry analytics: attempts at completion, success chance per attempt, time to success, drift, dead letters, failures by class/rule/fingerprint, a suggested attempts value',
        description:
          'Read from rollups (minute buckets kept 3 h, hour buckets 8 d), not from the jobs: the figures outlive retention. Windows up to 2 h read minute buckets, longer ones hour buckets; `window.from` says where the first bucket read starts. With source=archive (or auto and a window over 7 d) read from the PostgreSQL archive instead: the same figures over the same bucket span, for finished and archived jobs, with full breakdowns (jobs, jobAttempts, recovered).',
        params: queueParams,
        querystring: analyticsQuery,
        response: { 200: analyticsReport },
      },
    },
    async (request) => {
      const { window, name, by, source } = request.query;
      return withFieldPrefix('querystring.', () =>
        queues.get(request.params.queue).analytics({
          source,
          ...(window !== undefined ? { window } : {}),
          ...(name !== undefined ? { name } : {}),
          ...(by !== undefined ? { by } : {}),
        }),
      );
    },
  );
}
