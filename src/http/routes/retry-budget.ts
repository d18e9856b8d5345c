/**
 * Retry budgets of a queue (src/retry-budget.ts): read them, set or remove the queue's or a job
 * name's own.
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { withFieldPrefix } from '../error-map.js';
import { retryBudgets } from '../responses.js';
import {
  queueParams,
  retryBudgetBody,
  retryBudgetRemoveQuery,
  type QueueParams,
  type RetryBudgetBody,
  type RetryBudgetRemoveQuery,
} from '../schemas.js';
import type { RouteContext } from './context.js';

const tags = ['retry-budget'];

export function registerRetryBudgetRoutes(app: FastifyInstance, { queues }: RouteContext): void {
  app.get<{ Params: QueueParams }>(
    '/queues/:queue/retry-budget',
    {
      schema: {
        tags,
        summary: "The queue's retry budget and the job names' own, with how far each is booked ahead",
        params: queueParams,
        response: { 200: retryBudgets },
      },
    },
    async (request) => ({ budgets: await queues.get(request.params.queue).getRetryBudgets() }),
  );

  app.put<{ Params: QueueParams; Body: RetryBudgetBody }>(
    '/queues/:queue/retry-budget',
    {
      schema: {
        tags,
        summary:
          "Set the queue's retry budget, or a job name's own: retries ≤ ratio × first attempts over the window + minPerSecond; over budget a retry is deferred or dead-lettered",
        params: queueParams,
        body: retryBudgetBody,
        response: { 200: retryBudgets },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const { name, ratio, windowSeconds, minPerSecond, onExhausted } = request.body;
      const budget = {
        ratio,
        ...(windowSeconds !== undefined ? { windowMs: windowSeconds * 1000 } : {}),
        ...(minPerSecond !== undefined ? { minPerSecond } : {}),
        ...(onExhausted !== undefined ? { onExhausted } : {}),
      };
      await withFieldPrefix('body.', () => q.setRetryBudget(budget, name === undefined ? {} : { name }));
      return { budgets: await q.getRetryBudgets() };
    },
  );

  app.delete<{ Params: QueueParams; Querystring: RetryBudgetRemoveQuery }>(
    '/queues/:queue/retry-budget',
    {
      schema: {
        tags,
        summary: "Remove the queue's retry budget, or a job name's own",
        params: queueParams,
        querystring: retryBudgetRemoveQuery,
        response: { 200: retryBudgets },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const { name } = request.query;
      await withFieldPrefix('querystring.', () => q.setRetryBudget(null, name === undefined ? {} : { name }));
      return { budgets: await q.getRetryBudgets() };
    },
  );
}
