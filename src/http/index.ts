/**
 * The HTTP API of ReTraced: `buildApp` gives a Fastify instance (never listening) to serve or to
 * test with `inject()`. Errors are `application/problem+json` with the stable codes of
 * {@link ERROR_TABLE}.
 * @module
 */
export { buildApp, type BuildAppOptions } from './app.js';
export { assertListenSecurity, isLoopbackHost } from './auth.js';
export { ERROR_TABLE, toProblem, type Problem } from './error-map.js';
export type { JobSummary } from '../summary.js';
