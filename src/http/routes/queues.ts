/**
 * Queues: list with counts, one queue's state, pause, resume, retention.
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { resolveRetention } from '../../options.js';
import { pauseState, queueDetail, queueSummary, retention } from '../responses.js';
import {
  priorityAgingBody,
  queueParams,
  retentionBody,
  type PriorityAgingBody,
  type QueueParams,
  type RetentionBody,
} from '../schemas.js';
import type { RouteContext } from './context.js';

const tags = ['queues'];

export function registerQueueRoutes(app: FastifyInstance, { backend, queues }: RouteContext): void {
  app.get(
    '/queues',
    {
      schema: {
        tags,
        summary: 'Every queue, with counts per state',
        response: { 200: { type: 'object', properties: { queues: { type: 'array', items: queueSummary } } } },
      },
    },
    async () => {
      const names = await backend.listQueues();
      const list = await Promise.all(
        names.map(async (name) => {
          const [paused, counts] = await Promise.all([backend.isPaused(name), backend.counts(name)]);
          return { name, paused, counts };
        }),
      );
      return { queues: list };
    },
  );

  app.get<{ Params: QueueParams }>(
    '/queues/:queue',
    {
      schema: {
        tags,
        summary: 'One queue: counts, paused, retention and evictions',
        params: queueParams,
        response: { 200: queueDetail },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const [paused, counts, ret, evictions] = await Promise.all([
        q.isPaused(),
        q.counts(),
        q.getRetention(),
        q.evictions(),
      ]);
      return { name: q.name, paused, counts, retention: ret, evictions };
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: QueueParams }>(
      `/queues/:queue/${action}`,
      {
        schema: {
          tags,
          summary:
            action === 'pause'
              ? 'Stop workers from claiming (jobs in flight finish)'
              : 'Let workers claim again',
          params: queueParams,
          response: { 200: pauseState },
        },
      },
      async (request) => {
        const q = queues.get(request.params.queue);
        await (action === 'pause' ? q.pause() : q.resume());
        return { name: q.name, paused: await q.isPaused() };
      },
    );
  }

  app.put<{ Params: QueueParams; Body: RetentionBody }>(
    '/queues/:queue/retention',
    {
      schema: {
        tags,
        summary: 'Set how many finished jobs to keep, and for how long',
        params: queueParams,
        body: retentionBody,
        response: { 200: { type: 'object', properties: { retention } } },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      await q.setRetention(resolveRetention(request.body, 'body'));
      return { retention: await q.getRetention() };
    },
  );

  const agingReply = {
    200: {
      type: 'object',
      properties: { agingMs: { type: 'integer', description: '0 = strict order between priorities' } },
    },
  };
  app.get<{ Params: QueueParams }>(
    '/queues/:queue/priority-aging',
    {
      schema: {
        tags,
        summary: 'How fast waiting jobs gain priority (ms per level; 0 = strict order)',
        params: queueParams,
        response: agingReply,
      },
    },
    async (request) => ({ agingMs: await queues.get(request.params.queue).getPriorityAging() }),
  );

  app.put<{ Params: QueueParams; Body: PriorityAgingBody }>(
    '/queues/:queue/priority-aging',
    {
      schema: {
        tags,
        summary: 'Set priority aging: a waiting job gains one level per agingMs waited (0 = strict order)',
        params: queueParams,
        body: priorityAgingBody,
        response: agingReply,
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      await q.setPriorityAging(request.body.agingMs);
      return { agingMs: await q.getPriorityAging() };
    },
  );
}
