/**
 * Queues: list with counts, one queue's state and live workers, pause, resume, retention.
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { resolveRetention } from '../../options.js';
import type { OldestWaiting } from '../../types.js';
import { rateLimitsPublic, resolveRateLimitStateQuery, type RateLimitSettings } from '../../rate-limit.js';
import {
  pauseState,
  queueDetail,
  queueSummary,
  rateLimits,
  rateLimitState,
  retention,
  workerRegistry,
} from '../responses.js';
import {
  defaultPriorityBody,
  priorityAgingBody,
  queueParams,
  rateLimitBody,
  rateLimitStateQuery,
  type RateLimitStateQueryString,
  type RateLimitBody,
  retentionBody,
  type DefaultPriorityBody,
  type PriorityAgingBody,
  type QueueParams,
  type RetentionBody,
} from '../schemas.js';
import type { RouteContext } from './context.js';

const tags = ['queues'];

/** The oldest waiting job with how long it has waited by the backend's clock (never negative). */
function waited(o: OldestWaiting | null, now: number): (OldestWaiting & { waitedMs: number }) | null {
  return o === null ? null : { ...o, waitedMs: Math.max(0, now - o.since) };
}

export function registerQueueRoutes(app: FastifyInstance, { backend, queues }: RouteContext): void {
  app.get(
    '/queues',
    {
      schema: {
        tags,
        summary:
          'Every queue, with counts per state, its oldest waiting job, evictions by retention and its archive backlog',
        response: { 200: { type: 'object', properties: { queues: { type: 'array', items: queueSummary } } } },
      },
    },
    async () => {
      const [names, now] = await Promise.all([backend.listQueues(), backend.now()]);
      const list = await Promise.all(
        names.map(async (name) => {
          const [paused, counts, oldest, evictions, archive] = await Promise.all([
            backend.isPaused(name),
            backend.counts(name),
            backend.oldestWaiting(name),
            backend.evictions(name),
            backend.archiveStatus(name),
          ]);
          return { name, paused, counts, oldestWaiting: waited(oldest, now), evictions, archive };
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
        summary: 'One queue: counts, paused, retention, evictions and its archive backlog',
        params: queueParams,
        response: { 200: queueDetail },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const [paused, counts, oldest, now, ret, evictions, archive] = await Promise.all([
        q.isPaused(),
        q.counts(),
        q.oldestWaiting(),
        backend.now(),
        q.getRetention(),
        q.evictions(),
        backend.archiveStatus(q.name),
      ]);
      return {
        name: q.name,
        paused,
        counts,
        oldestWaiting: waited(oldest, now),
        retention: ret,
        evictions,
        archive,
      };
    },
  );

  app.get<{ Params: QueueParams }>(
    '/queues/:queue/workers',
    {
      schema: {
        tags,
        summary:
          'The live workers of a queue (id, host, pid, queues, concurrency, jobs in flight, last heartbeat, version), and when one was last seen',
        params: queueParams,
        response: { 200: workerRegistry },
      },
    },
    async (request) => queues.get(request.params.queue).workers(),
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

  const defaultPriorityReply = {
    200: {
      type: 'object',
      properties: {
        priority: { type: 'integer', description: 'The priority of jobs added without one (0 = none set)' },
      },
    },
  };
  app.get<{ Params: QueueParams }>(
    '/queues/:queue/default-priority',
    {
      schema: {
        tags,
        summary: 'The priority a job added without one gets (stored with the queue)',
        params: queueParams,
        response: defaultPriorityReply,
      },
    },
    async (request) => ({ priority: await queues.get(request.params.queue).getDefaultPriority() }),
  );

  app.put<{ Params: QueueParams; Body: DefaultPriorityBody }>(
    '/queues/:queue/default-priority',
    {
      schema: {
        tags,
        summary:
          'Set the priority of jobs added without one, for every producer (jobs already added keep theirs)',
        params: queueParams,
        body: defaultPriorityBody,
        response: defaultPriorityReply,
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      await q.setDefaultPriority(request.body.priority);
      return { priority: await q.getDefaultPriority() };
    },
  );

  app.get<{ Params: QueueParams }>(
    '/queues/:queue/rate-limits',
    {
      schema: {
        tags,
        summary:
          "The queue's rate limits (queue, default group, single groups) and when its bucket gives its next token",
        params: queueParams,
        response: { 200: rateLimits },
      },
    },
    async (request) => rateLimitsPublic(await queues.get(request.params.queue).getRateLimits()),
  );

  app.get<{ Params: QueueParams; Querystring: RateLimitStateQueryString }>(
    '/queues/:queue/rate-limits/state',
    {
      schema: {
        tags,
        summary:
          "The rate-limit view: the queue's bucket (limit, tokens now, next token, a handler's pause and why) and one page of groups (waiting jobs, tokens, next token, pause, turn)",
        description:
          'At most `limit` groups per call (a queue may have 100 000), read in one script by the server clock. The ring of turns moves as jobs are claimed: a later page may show a group again or skip one.',
        params: queueParams,
        querystring: rateLimitStateQuery,
        response: { 200: rateLimitState },
      },
    },
    async (request) => {
      const { filter, limit, cursor, group } = request.query;
      const query = {
        filter,
        limit,
        ...(cursor !== undefined ? { cursor } : {}),
        ...(group !== undefined ? { group } : {}),
      };
      // Refused with the field as the request names it (querystring.cursor).
      resolveRateLimitStateQuery(query, 'querystring');
      return queues.get(request.params.queue).rateLimitState(query);
    },
  );

  app.put<{ Params: QueueParams; Body: RateLimitBody }>(
    '/queues/:queue/rate-limits',
    {
      schema: {
        tags,
        summary:
          'Change rate limits: each limit given is set, those named in remove / removeGroups go, the rest stay; applies from the next claim',
        params: queueParams,
        body: rateLimitBody,
        response: { 200: rateLimits },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      await q.setRateLimits(rateLimitChange(request.body));
      return rateLimitsPublic(await q.getRateLimits());
    },
  );
}

/** The HTTP body of a rate-limit change → the library's settings (a removal is `null`). */
function rateLimitChange(b: RateLimitBody): RateLimitSettings {
  const groups: Record<string, { rate: number; per?: number; burst?: number } | null> = {};
  for (const g of b.removeGroups ?? []) groups[g] = null;
  for (const { group, ...limit } of b.groups ?? []) groups[group] = limit;
  const removes = new Set(b.remove ?? []);
  return {
    ...(b.queueLimit ? { queue: b.queueLimit } : removes.has('queueLimit') ? { queue: null } : {}),
    ...(b.groupLimit ? { group: b.groupLimit } : removes.has('groupLimit') ? { group: null } : {}),
    ...(Object.keys(groups).length > 0 ? { groups } : {}),
  };
}
