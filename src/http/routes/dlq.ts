/**
 * The dead-letter queue: list and filter, groups by error fingerprint, replay and purge (by ids or
 * a filter, each with a dry run).
 * @module
 */
import type { FastifyInstance } from 'fastify';

import type { DeadFilter } from '../../backend.js';
import { resolveDlqFilter } from '../../dlq-filter.js';
import { purgeDead, replayDead } from '../dlq-actions.js';
import { detailedGroups } from '../dlq-groups.js';
import { withFieldPrefix } from '../error-map.js';
import { decodeCursor, encodeCursor } from '../inputs.js';
import { deadGroup, deadSummary, page, purgeResult, replayResult } from '../responses.js';
import {
  dlqListQuery,
  purgeBody,
  queueParams,
  replayBody,
  type DlqListQuery,
  type PurgeBody,
  type QueueParams,
  type ReplayBody,
} from '../schemas.js';
import type { RouteContext } from './context.js';

const tags = ['dlq'];

/** The query's filter, checked by the library's one converter with the query's field names. */
function queryFilter(q: DlqListQuery): DeadFilter {
  const { reason, errorCode, name, fingerprint, from, to } = q;
  return resolveDlqFilter({ reason, errorCode, name, fingerprint, from, to }, (k) => `querystring.${k}`);
}

export function registerDlqRoutes(app: FastifyInstance, { queues }: RouteContext): void {
  app.get<{ Params: QueueParams; Querystring: DlqListQuery }>(
    '/queues/:queue/dlq',
    {
      schema: {
        tags,
        summary:
          'Dead jobs, most recently dead first, filtered by reason, error code, name, fingerprint and time',
        params: queueParams,
        querystring: dlqListQuery,
        response: { 200: page(deadSummary) },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const offset = decodeCursor(request.query.cursor, 'querystring.cursor');
      const limit = request.query.limit;
      const found = await q.dlq.list(queryFilter(request.query), { offset, limit: limit + 1 });
      const jobs = found.slice(0, limit);
      return { jobs, nextCursor: found.length > limit ? encodeCursor(offset + limit) : null };
    },
  );

  app.get<{ Params: QueueParams }>(
    '/queues/:queue/dlq/groups',
    {
      schema: {
        tags,
        summary:
          'Dead jobs grouped by error fingerprint, with counts, first/last seen, job names and a sample error; busiest first',
        params: queueParams,
        response: { 200: { type: 'object', properties: { groups: { type: 'array', items: deadGroup } } } },
      },
    },
    async (request) => ({ groups: await detailedGroups(queues.get(request.params.queue)) }),
  );

  app.post<{ Params: QueueParams; Body: ReplayBody }>(
    '/queues/:queue/dlq/replay',
    {
      config: { dryRunnable: true },
      schema: {
        tags,
        summary:
          'Replay dead jobs by ids or filter (each recorded as a manual attempt); dryRun changes nothing',
        params: queueParams,
        body: replayBody,
        response: { 200: replayResult },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      return withFieldPrefix('body.', () => replayDead(q, request.body));
    },
  );

  app.post<{ Params: QueueParams; Body: PurgeBody }>(
    '/queues/:queue/dlq/purge',
    {
      config: { dryRunnable: true },
      schema: {
        tags,
        summary: 'Delete dead jobs by ids or filter; dryRun lists what would be deleted',
        params: queueParams,
        body: purgeBody,
        response: { 200: purgeResult },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      return withFieldPrefix('body.', () => purgeDead(q, request.body));
    },
  );
}
