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
}
