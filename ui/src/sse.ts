/**
 * The event stream (`GET /events`) read with fetch rather than EventSource, so the bearer token
 * goes in a header (EventSource cannot send one, and a token never goes in a URL). It reconnects
 * and resumes with Last-Event-ID as EventSource would, and says when to resync (sse-follow.ts).
 */
import { authHeaders, notifyUnauthorised } from './api.js';
import { follow, type StreamHandlers } from './sse-follow.js';

export type { StreamHandlers } from './sse-follow.js';

/** Follows the events of `queues` (every queue when undefined). Returns the function that stops. */
export function subscribe(queues: readonly string[] | undefined, handlers: StreamHandlers): () => void {
  const list = queues?.slice(0, 50);
  const url = list === undefined ? '/events' : `/events?queue=${encodeURIComponent(list.join(','))}`;
  return follow({
    ...handlers,
    resumable: list !== undefined && list.length === 1,
    onUnauthorised: notifyUnauthorised,
    open: (lastEventId, signal) => {
      const headers = authHeaders();
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      return fetch(url, { headers, signal, cache: 'no-store' });
    },
  });
}
