/**
 * The event stream (`GET /events`) read with fetch rather than EventSource, so the bearer token
 * goes in a header (EventSource cannot send one, and a token never goes in a URL). Reconnects
 * after 2 s when the stream ends or fails, until unsubscribed.
 */
import { authHeaders, notifyUnauthorised } from './api.js';
import { parseSse } from './sse-parse.js';
import type { FeedEvent } from './types.js';

/**
 * Follows the events of `queues` (every queue when undefined). Returns the function that stops.
 * `onStatus` hears whether the stream is live.
 */
export function subscribe(
  queues: readonly string[] | undefined,
  onEvent: (e: FeedEvent) => void,
  onStatus: (live: boolean) => void = () => {},
): () => void {
  const abort = new AbortController();
  const url =
    queues === undefined ? '/events' : `/events?queue=${encodeURIComponent(queues.slice(0, 50).join(','))}`;
  const run = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        const res = await fetch(url, { headers: authHeaders(), signal: abort.signal, cache: 'no-store' });
        if (res.status === 401) {
          notifyUnauthorised();
          return;
        }
        if (res.ok && res.body) {
          onStatus(true);
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            const parsed = parseSse(buffer + value);
            buffer = parsed.rest;
            for (const data of parsed.events) onEvent(JSON.parse(data) as FeedEvent);
          }
        }
      } catch {
        // dropped: wait and reconnect
      }
      onStatus(false);
      if (abort.signal.aborted) return;
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void run();
  return () => abort.abort();
}
