/**
 * The dashboard: the built single-page app (`dist/ui/`, made by `npm run build:ui`) served on the
 * API's origin. `/` and every path under `/ui/` answer the app's `index.html` (the app routes in
 * the browser), `/ui/assets/…` the hashed files; API paths are never answered with the page. The
 * files are read once, on first use. Every answer is public (the login form must load
 * without the token; the data it shows needs it) and carries a strict Content-Security-Policy:
 * scripts and styles only from files of this origin, nothing inline.
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { FastifyInstance, FastifyReply } from 'fastify';

/** The dashboard's CSP: same-origin files only, no inline script or style, no framing. */
export const UI_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

export const NOT_BUILT =
  'The ReTraced dashboard is not built.\n\n' +
  'Build it with `npm run build:ui` (or `npm run build`) in the repository, then restart the server.\n' +
  '`npm start` builds it for you when it is missing or out of date.\n\n' +
  'The API is served all the same: see /docs.\n';

interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

/** Where the built dashboard is: `dist/ui/` next to `dist/http/`, or the repo's `dist/ui/` from source. */
export function defaultUiDir(): string {
  const candidates = [new URL('../ui/', import.meta.url), new URL('../../dist/ui/', import.meta.url)];
  const found = candidates.find((u) => existsSync(new URL('index.html', u)));
  return fileURLToPath(found ?? candidates[candidates.length - 1]!);
}

/**
 * Every file under `dir` by its URL path below it (`assets/index-1a2b.js`), or undefined if the
 * dashboard is not built there (or is being rebuilt right now).
 */
export function loadUi(dir: string): Map<string, Asset> | undefined {
  const files = new Map<string, Asset>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const type = TYPES[extname(name)] ?? 'application/octet-stream';
        files.set(relative(dir, path).split(sep).join('/'), { body: readFileSync(path), type });
      }
    }
  };
  try {
    if (!existsSync(join(dir, 'index.html'))) return undefined;
    walk(dir);
  } catch {
    return undefined;
  }
  return files.has('index.html') ? files : undefined;
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', UI_CSP)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer');
}

/** Serves the dashboard from `dir` (or, when it is not built there, a text saying how to build it). */
export function registerUiRoutes(app: FastifyInstance, dir: string): void {
  // Read on first use (building the API touches no file), and again until found: a dashboard
  // built while the server runs is served from the next request on.
  let files: Map<string, Asset> | undefined;
  const load = () => (files ??= loadUi(dir));
  const page = async (_request: unknown, reply: FastifyReply) => {
    const index = load()?.get('index.html');
    if (!index) {
      return secure(reply).code(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
    }
    return secure(reply).header('cache-control', 'no-cache').type(index.type).send(index.body);
  };
  const route = { config: { public: true }, schema: { hide: true } } as const;
  app.get('/', route, page);
  app.get<{ Params: { '*': string } }>('/ui/*', route, async (request, reply) => {
    const path = request.params['*'];
    if (!path.startsWith('assets/')) return page(request, reply);
    const asset = load()?.get(path);
    if (!asset) {
      return secure(reply).code(404).type('text/plain; charset=utf-8').send('no such dashboard file\n');
    }
    // Asset names carry a content hash: a new build means new names.
    return secure(reply)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .type(asset.type)
      .send(asset.body);
  });
}
