/**
 * Following an event stream, free of the page's globals (the fetch is given): read the events,
 * reconnect after a pause when the stream ends or fails, and resume as EventSource would, with
 * `Last-Event-ID` = the id of the last event seen, so the server replays what was missed.
 *
 * The server resumes one queue per reconnection (the one the id names) and says `event: resync`
 * when it cannot; then, and after any reconnection that cannot have been resumed whole (a stream
 * of several queues, or no event seen yet), `onResync` tells the view to read its state again.
 */
import { parseSse } from './sse-parse.js';
import type { FeedEvent } from './types.js';

export interface StreamHandlers {
  readonly onEvent: (e: FeedEvent) => void;
  /** Whether the stream is live. */
  readonly onStatus?: (live: boolean) => void;
  /** Events may have been missed: read the state again. */
  readonly onResync?: () => void;
}

export interface FollowOptions extends StreamHandlers {
  /** Opens the stream, sending `lastEventId` as the Last-Event-ID header when given. */
  readonly open: (lastEventId: string | undefined, signal: AbortSignal) => Promise<Response>;
  /** A stream that one Last-Event-ID resumes whole (a stream of one queue). */
  readonly resumable: boolean;
  /** The server answered 401: stop. */
  readonly onUnauthorised: () => void;
  /** Wait before reconnecting (the server's `retry:` says 2 s too). @default 2000 */
  readonly reconnectMs?: number;
}

/** Follows until the returned function is called. */
export function follow(o: FollowOptions): () => void {
  const { onEvent, onStatus = () => {}, onResync = () => {}, resumable } = o;
  const abort = new AbortController();
  let lastId: string | undefined;
  let opened = false;
  const run = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        const res = await o.open(lastId || undefined, abort.signal);
        if (res.status === 401) {
          o.onUnauthorised();
          return;
        }
        if (res.ok && res.body) {
          onStatus(true);
          if (opened && (!resumable || !lastId)) onResync();
          opened = true;
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            const parsed = parseSse(buffer + value);
            buffer = parsed.rest;
            for (const m of parsed.events) {
              if (m.id !== undefined) lastId = m.id;
              if (m.event === 'resync') onResync();
              else onEvent(JSON.parse(m.data) as FeedEvent);
            }
          }
        }
      } catch {
        // dropped: wait and reconnect
      }
      onStatus(false);
      if (abort.signal.aborted) return;
      await new Promise((r) => setTimeout(r, o.reconnectMs ?? 2000));
    }
  };
  void run();
  return () => abort.abort();
}
