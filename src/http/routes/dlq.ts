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
import { deadGroup, deadSummary, page, purgeResult, replayResult } from '../responses.js';
import {
  dlqGroupsQuery,
  dlqListQuery,
  purgeBody,
  queueParams,
  replayBody,
  type DlqGroupsQuery,
  type DlqListQuery,
  type PurgeBody,
  type QueueParams,
  type ReplayBody,
} from '../schemas.js';
import type { RouteContext } from './context.js';

const tags = ['dlq'];

/** The query's filter, checked by the library's one converter with the query's field names. */
function queryFilter(q: DlqGroupsQuery): DeadFilter {
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
          'Dead jobs, most recently dead first, filtered by reason, error code, name, fingerprint and time; from Redis, the archive or both',
        params: queueParams,
        querystring: dlqListQuery,
        response: { 200: page(deadSummary) },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const { source, cursor, limit } = request.query;
      const filter = queryFilter(request.query);
      const r = await withFieldPrefix('querystring.', () => q.dlq.page(filter, { source, cursor, limit }));
      return { jobs: r.jobs, nextCursor: r.next ?? null };
    },
  );

  app.get<{ Params: QueueParams; Querystring: DlqGroupsQuery }>(
    '/queues/:queue/dlq/groups',
    {
      schema: {
        tags,
        summary:
          'Dead jobs grouped by error fingerprint, with counts, first/last seen, job names and a sample error; busiest first; filtered as the list, over Redis, the archive or both',
        params: queueParams,
        querystring: dlqGroupsQuery,
        response: { 200: { type: 'object', properties: { groups: { type: 'array', items: deadGroup } } } },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const filter = queryFilter(request.query);
      return { groups: await detailedGroups(q, filter, request.query.source) };
    },
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
