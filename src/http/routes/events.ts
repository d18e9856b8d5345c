/**
 * `GET /events`: a Server-Sent Events stream of job transitions, for some queues or all.
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { toProblem } from '../error-map.js';
import { eventsQuery, type EventsQuery } from '../schemas.js';
import { rawHeaders } from '../sse.js';
import type { RouteContext } from './context.js';

export function registerEventRoutes(app: FastifyInstance, { sse }: RouteContext): void {
  app.get<{ Querystring: EventsQuery }>(
    '/events',
    {
      // A HEAD request would get the headers of a stream that never ends.
      exposeHeadRoute: false,
      schema: {
        tags: ['events'],
        summary:
          'Server-Sent Events: every transition from now on (event: <type>, id: <queue>:<seq>, data: JSON)',
        description:
          'data is {queue, type, jobId, at, fields}. A comment line every 15 s keeps idle streams open. Without `queue`, every queue (new ones within 5 s). A client starts from now; with `Last-Event-ID: <queue>:<seq>` (what browsers send when they reconnect) it first gets what it missed on that queue, up to 1,000 events, or else `event: resync` (data {queue, reason}): read the state again.',
        querystring: eventsQuery,
        response: {
          200: {
            description: 'text/event-stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (request, reply) => {
      const queues =
        request.query.queue === undefined ? undefined : [...new Set(request.query.queue.split(','))];
      reply.hijack();
      const res = reply.raw;
      try {
        const lastEventId = request.headers['last-event-id'];
        await sse.serve(
          res,
          rawHeaders(reply.getHeaders()),
          queues,
          typeof lastEventId === 'string' ? lastEventId : undefined,
        );
      } catch (e) {
        // The stream never started: answer like any other route would.
        if (res.headersSent || res.writableEnded) return;
        const p = toProblem(e);
        if (p.status >= 500) request.log.error({ err: e }, 'event stream failed');
        res
          .writeHead(p.status, {
            ...rawHeaders(reply.getHeaders()),
            'content-type': 'application/problem+json',
          })
          .end(JSON.stringify(p));
      }
    },
  );
}
