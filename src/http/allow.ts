/**
 * 405 Method Not Allowed: a request whose path names a route but whose method none of that path's
 * routes takes (TRACE, DELETE, PATCH, …) is answered 405 with an `Allow` header listing the methods
 * the path does take (RFC 9110 §15.5.6), instead of a 404 that says the path does not exist.
 * @module
 */
import type { FastifyInstance } from 'fastify';

interface KnownRoute {
  readonly method: string;
  readonly pattern: RegExp;
}

function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((seg) =>
      seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}

/**
 * Records every route the app registers from now on; returns the methods a path takes (sorted,
 * empty for a path no route has). Call before the routes are registered.
 */
export function trackRouteMethods(app: FastifyInstance): (path: string) => string[] {
  const routes: KnownRoute[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) {
      routes.push({ method, pattern: patternOf(r.url) });
    }
  });
  return (path) => [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))].sort();
}
