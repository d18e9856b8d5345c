/**
 * Previewing a retry policy: every retry it would make, with delays and explanations, without
 * running anything.
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { previewPolicy, resolveRetryPolicy } from '../../backoff.js';
import { withFieldPrefix } from '../error-map.js';
import { policyPreview } from '../responses.js';
import { retryPlanBody, type RetryPlanBody } from '../schemas.js';
import type { RouteContext } from './context.js';

export function registerRetryPlanRoutes(app: FastifyInstance, _ctx: RouteContext): void {
  app.post<{ Body: RetryPlanBody }>(
    '/retry-plan',
    {
      // Computes, changes nothing: a read-only server serves it.
      config: { readOnlySafe: true },
      schema: {
        tags: ['retry-plan'],
        summary: "A policy's schedule: each retry's delay, range under jitter, offset and explanation",
        description: 'Custom strategies live in workers, so a policy that uses one cannot be previewed here.',
        body: retryPlanBody,
        response: { 200: policyPreview },
      },
    },
    async (request) =>
      withFieldPrefix('body.', async () => previewPolicy(resolveRetryPolicy(request.body.policy, 'policy'))),
  );
}
