/**
 * Retry intelligence over HTTP: the what-if (a simulation over recorded history: a POST because it
 * takes a policy and a code table, but it changes nothing and a read-only server serves it), the
 * self-audit and the storm radar (reads).
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { withFieldPrefix } from '../error-map.js';
import { parseTime } from '../inputs.js';
import { auditReport, radarReport, whatIfReport } from '../responses.js';
import {
  auditQuery,
  queueParams,
  radarQuery,
  whatIfBody,
  type AuditQuery,
  type QueueParams,
  type RadarQuery,
  type WhatIfBody,
} from '../schemas.js';
import type { RouteContext } from './context.js';

const tags = ['retry-intelligence'];

export function registerRetryIntelligenceRoutes(app: FastifyInstance, { queues }: RouteContext): void {
  app.post<{ Params: QueueParams; Body: WhatIfBody }>(
    '/queues/:queue/whatif',
    {
      // A simulation: changes nothing, so a read-only server serves it.
      config: { readOnlySafe: true },
      schema: {
        tags,
        summary:
          'What-if (changes nothing): recorded jobs replayed under another retry policy and/or code table, side by side with what happened',
        description:
          'Reads the most recently finished jobs (completed and dead; at most limit, default 10,000) and replays each attempt by attempt through the same decision code as the worker. Attempts the record does not have are unknown: the alternative is reported as optimistic and pessimistic bounds. Jitter draws come from the reported seed (recorded draws are reused). Nothing is written.',
        params: queueParams,
        body: whatIfBody,
        response: { 200: whatIfReport },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const b = request.body;
      return withFieldPrefix('body.', async () =>
        q.whatIf({
          retry: b.retry,
          attempts: b.attempts,
          classify: b.classify,
          filter: b.filter,
          window:
            b.window === undefined
              ? undefined
              : { from: parseTime(b.window.from, 'window.from'), to: parseTime(b.window.to, 'window.to') },
          limit: b.limit,
          seed: b.seed,
          draws: b.draws,
          source: b.source,
        }),
      );
    },
  );

  app.get<{ Params: QueueParams; Querystring: AuditQuery }>(
    '/queues/:queue/audit',
    {
      schema: {
        tags,
        summary:
          'Self-audit: each recorded retry against the delay its stored policy gives, its due time and its real start',
        description:
          'Findings: delay (recorded delay off the policy by more than toleranceMs), decision, due, early, retry-after (started before the delay the handler asked for), drift (outliers), attempts (more than the policy allows).',
        params: queueParams,
        querystring: auditQuery,
        response: { 200: auditReport },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      const s = request.query;
      return withFieldPrefix('querystring.', async () => {
        const from = parseTime(s.from, 'from');
        const to = parseTime(s.to, 'to');
        return q.audit({
          window: { from, to },
          filter: { name: s.name },
          limit: s.limit,
          toleranceMs: s.toleranceMs,
          driftMs: s.driftMs,
          maxFindings: s.maxFindings,
          source: s.source,
        });
      });
    },
  );

  app.get<{ Params: QueueParams; Querystring: RadarQuery }>(
    '/queues/:queue/radar',
    {
      schema: {
        tags,
        summary:
          'Storm radar: retries due per second for the next minutes, bursts, and policies without jitter',
        description:
          'A second is hot when at least max(burstMin, burstFactor × the mean per second over the horizon) retries fall due in it; consecutive hot seconds are one burst. Read by the backend clock.',
        params: queueParams,
        querystring: radarQuery,
        response: { 200: radarReport },
      },
    },
    async (request) => {
      const q = queues.get(request.params.queue);
      return withFieldPrefix('querystring.', async () => q.radar(request.query));
    },
  );
}
