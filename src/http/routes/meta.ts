/**
 * About the API itself: Prometheus metrics, the OpenAPI document and its HTML rendering.
 * @module
 */
import type { FastifyInstance } from 'fastify';

import { renderDocs } from '../docs.js';
import type { RouteContext } from './context.js';

export function registerMetaRoutes(app: FastifyInstance, { metrics, sse }: RouteContext): void {
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
      const clients = `# HELP retraced_sse_clients Event-stream clients connected now.\n# TYPE retraced_sse_clients gauge\nretraced_sse_clients ${sse.size}\n`;
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text + clients);
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
