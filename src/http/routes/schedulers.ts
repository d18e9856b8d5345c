/**
 * Schedulers: list, one with its tick ledger and next runs, upsert by id (PUT), pause, resume,
 * remove. The library validates again (cron expressions and time zones only it can check); its
 * errors name the request's fields (`body.spec.cron`, `params.id`).
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { ValidationError } from '../../errors.js';
import { upcomingRuns } from '../../schedule.js';
import { RequestFieldError } from '../error-map.js';
import { scheduler, schedulerDetail, schedulerUpserted } from '../responses.js';
import {
  queueParams,
  schedulerBody,
  schedulerParams,
  schedulerQuery,
  type QueueParams,
  type SchedulerBody,
  type SchedulerParams,
  type SchedulerQuery,
} from '../schemas.js';
import type { RouteContext } from './context.js';

const tags = ['schedulers'];
/** How many upcoming runs `GET …/schedulers/:id` shows. */
const UPCOMING = 5;

/** The library's field names (`template.name`, `spec.cron`, `id`) as the request's. */
async function requestFields<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    const f = e.field;
    if (f === 'id') throw new RequestFieldError('params.', e);
    if (f.startsWith('template.')) {
      throw new RequestFieldError('', new ValidationError(`body.${f.slice(9)}`, e.rule));
    }
    throw new RequestFieldError('body.', e);
  }
}

export function registerSchedulerRoutes(app: FastifyInstance, { queues }: RouteContext): void {
  app.get<{ Params: QueueParams }>(
    '/queues/:queue/schedulers',
    {
      schema: {
        tags,
        summary: 'Every scheduler of a queue, by next run (paused ones last)',
        params: queueParams,
        response: {
          200: { type: 'object', properties: { schedulers: { type: 'array', items: scheduler } } },
        },
      },
    },
    async (request) => ({ schedulers: await queues.get(request.params.queue).schedulers() }),
  );

  app.get<{ Params: SchedulerParams; Querystring: SchedulerQuery }>(
    '/queues/:queue/schedulers/:id',
    {
      schema: {
        tags,
        summary: 'One scheduler, its tick ledger (newest first) and its next runs',
        params: schedulerParams,
        querystring: schedulerQuery,
        response: { 200: schedulerDetail },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const s = await q.getScheduler(request.params.id);
      const ticks = await q.schedulerTicks(s.id, request.query.ticks);
      return { ...s, ticks, upcoming: upcomingRuns(s, UPCOMING) };
    },
  );

  app.put<{ Params: SchedulerParams; Body: SchedulerBody }>(
    '/queues/:queue/schedulers/:id',
    {
      schema: {
        tags,
        summary:
          'Create or update a scheduler (201 created, 200 updated): idempotent, race-free; the same spec keeps its next run',
        params: schedulerParams,
        body: schedulerBody,
        response: { 200: schedulerUpserted, 201: schedulerUpserted },
      },
    },
    async (request, reply) => {
      const q = queues.get(request.params.queue);
      const { spec, name, data, options, missed, overlap } = request.body;
      const r = await requestFields(() =>
        q.schedule(request.params.id, spec, {
          name,
          data,
          ...(options ? { options } : {}),
          ...(missed !== undefined ? { missed } : {}),
          ...(overlap !== undefined ? { overlap } : {}),
        }),
      );
      return reply.code(r.created ? 201 : 200).send(r);
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: SchedulerParams }>(
      `/queues/:queue/schedulers/:id/${action}`,
      {
        schema: {
          tags,
          summary:
            action === 'pause'
              ? 'Stop a scheduler ticking (what it skips is recorded when it resumes)'
              : 'Resume a scheduler: the runs it skipped while paused go to its ledger; it runs next from now',
          params: schedulerParams,
          response: { 200: scheduler },
        },
      },
      async (request) => {
        const q = queues.get(request.params.queue);
        const id = request.params.id;
        return action === 'pause' ? q.pauseScheduler(id) : q.resumeScheduler(id);
      },
    );
  }

  app.delete<{ Params: SchedulerParams }>(
    '/queues/:queue/schedulers/:id',
    {
      schema: {
        tags,
        summary: 'Remove a scheduler and its ledger (the jobs it created stay)',
        params: schedulerParams,
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'string' }, removed: { type: 'boolean', enum: [true] } },
            additionalProperties: true,
          },
        },
      },
    },
    async (request) => {
      await queues.get(request.params.queue).removeScheduler(request.params.id);
      return { id: request.params.id, removed: true };
    },
  );
}
