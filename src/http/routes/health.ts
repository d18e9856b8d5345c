/**
 * Liveness and readiness probes: the only routes served without a token.
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { problem, sendProblem } from '../error-map.js';
import type { RouteContext } from './context.js';

const READY_TIMEOUT_MS = 2000;

const status = { type: 'object', properties: { status: { type: 'string' } } } as const;
const ready = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    now: {
      type: 'integer',
      description:
        "The scheduler's clock (Redis TIME, ms since epoch): what due times and dead-at times are on",
    },
  },
} as const;

export function registerHealthRoutes(app: FastifyInstance, { backend }: RouteContext): void {
  app.get(
    '/healthz',
    {
      config: { public: true, anyHost: true },
      schema: { tags: ['health'], summary: 'The process is up', security: [], response: { 200: status } },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true, anyHost: true },
      schema: {
        tags: ['health'],
        summary: 'The backend answers (Redis reachable), with its clock',
        security: [],
        response: { 200: ready },
      },
    },
    async (_request, reply) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS);
      });
      try {
        const now = await Promise.race([backend.now(), timeout]);
        return { status: 'ready', now };
      } catch {
        return sendProblem(reply, problem('RETRACED_ERR_NOT_READY', 'the backend did not answer'));
      } finally {
        clearTimeout(timer);
      }
    },
  );
}
