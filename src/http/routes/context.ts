/**
 * What every route module gets: the backend, the queue registry, and the app's metrics collector
 * and event-stream hub.
 * @module
 */
import type { Backend } from '../../backend.js';
import type { MetricsCollector } from '../metrics.js';
import type { QueueRegistry } from '../queue-registry.js';
import type { SseHub } from '../sse.js';

export interface RouteContext {
  readonly backend: Backend;
  readonly queues: QueueRegistry;
  readonly metrics: MetricsCollector;
  readonly sse: SseHub;
  /** How the server was started, as `GET /config` tells clients (the dashboard). */
  readonly server: ServerConfig;
}

export interface ServerConfig {
  readonly version: string;
  /** Every change is refused (`--read-only`). */
  readonly readOnly: boolean;
  /** `bearer`: every route but /healthz, /readyz and /config needs `Authorization: Bearer <token>`. */
  readonly auth: 'bearer' | 'none';
}
