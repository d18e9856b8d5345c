/**
 * Loading data from the API into a view: the value, the error and a reload, with stale answers
 * (from an earlier key) ignored.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

import { subscribe } from './sse.js';
import type { FeedEvent } from './types.js';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
  readonly reload: () => void;
}

export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const loader = useRef(load);
  loader.current = load;
  const reload = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    loader.current().then(
      (data) => {
        if (mine === generation.current) setState({ data, loading: false });
      },
      (error: unknown) => {
        if (mine === generation.current) {
          setState((s) => ({
            ...s,
            error: error instanceof Error ? error : new Error(String(error)),
            loading: false,
          }));
        }
      },
    );
  }, []);
  useEffect(() => {
    setState({ loading: true });
    reload();
  }, [key, reload]);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/**
 * Follows the event stream of `queues` (every queue when undefined) while the view is shown.
 * `onResync` runs when events may have been missed (after a reconnection the server could not
 * resume whole): the view should read its state again.
 */
export function useEvents(
  queues: readonly string[] | undefined,
  onEvent: (e: FeedEvent) => void,
  onResync?: () => void,
): boolean {
  const [live, setLive] = useState(false);
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const resync = useRef(onResync);
  resync.current = onResync;
  const key = queues === undefined ? '*' : queues.join(',');
  useEffect(
    () =>
      subscribe(queues, {
        onEvent: (e) => handler.current(e),
        onStatus: setLive,
        onResync: () => resync.current?.(),
      }),
    [key],
  );
  return live;
}

/** Calls `fn` at most once per `ms` (trailing), for reloads driven by bursts of events. */
export function useThrottled(fn: () => void, ms: number): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current();
    }, ms);
  }, [ms]);
}
