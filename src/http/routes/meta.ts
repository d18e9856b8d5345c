/**
 * About the API itself: Prometheus metrics, the OpenAPI document and its HTML rendering.
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { renderDocs } from '../docs.js';
import type { RouteContext } from './context.js';

const config = {
  type: 'object',
  required: ['version', 'readOnly', 'auth'],
  additionalProperties: false,
  properties: {
    version: { type: 'string', description: 'The server package version' },
    readOnly: {
      type: 'boolean',
      description: 'Every change is refused (403 RETRACED_ERR_READ_ONLY); reads and dry runs work',
    },
    auth: {
      type: 'string',
      enum: ['bearer', 'none'],
      description:
        'bearer: every route but /healthz, /readyz and /config needs Authorization: Bearer <token>',
    },
  },
} as const;

export function registerMetaRoutes(app: FastifyInstance, { metrics, server }: RouteContext): void {
  app.get(
    '/config',
    {
      // Public: a client (the dashboard) learns here whether to ask for a token.
      config: { public: true },
      schema: {
        tags: ['meta'],
        summary: 'How the server was started: read-only or not, and the authentication it wants',
        security: [],
        response: { 200: config },
      },
    },
    async () => server,
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['meta'],
        summary: 'Prometheus metrics (text format 0.0.4)',
        produces: ['text/plain'],
        response: { 200: { description: 'Prometheus text exposition', type: 'string' } },
      },
    },
    async (_request, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.contentType).send(text);
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('application/json').send(app.swagger()),
  );

  app.get('/docs', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      // The page is static HTML: no script, no remote asset.
      .header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
      )
      .send(renderDocs(app.swagger())),
  );
}
