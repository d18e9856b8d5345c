/**
 * Live workers of a queue (from its registry): id, host, pid, jobs in flight of its concurrency,
 * last heartbeat, uptime, version, queues; with none, since when none was seen. Reloads every 5 s.
 */
import { useEffect } from 'preact/hooks';

import { api, enc } from '../api.js';
import { ErrorMessage, Loading } from '../components.js';
import { ago, formatDuration, formatTime } from '../format.js';
import { useLoad } from '../hooks.js';
import type { WorkersView } from '../types.js';

export function Workers({ queue }: { queue: string }) {
  const reg = useLoad(() => api<WorkersView>('GET', `/queues/${enc(queue)}/workers`), `workers/${queue}`);
  useEffect(() => {
    const t = setInterval(reg.reload, 5000);
    return () => clearInterval(t);
  }, [reg.reload]);
  const r = reg.data;
  return (
    <section aria-labelledby="workers-title">
      <h1 id="workers-title">Workers of {queue}</h1>
      <ErrorMessage error={reg.error} action="Could not list the workers" />
      <Loading when={reg.loading && !r} />
      {r && r.workers.length === 0 && (
        <p role="status">
          {r.lastSeenAt === undefined
            ? `No worker has ever registered on ${queue}.`
            : `No live worker on ${queue}: the last one was seen ${ago(r.lastSeenAt, r.now)} (${formatTime(r.lastSeenAt)} UTC).`}
        </p>
      )}
      {r && r.workers.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Live workers of {queue}</caption>
            <thead>
              <tr>
                <th scope="col">worker</th>
                <th scope="col">host</th>
                <th scope="col" class="num">
                  pid
                </th>
                <th scope="col" class="num">
                  in flight
                </th>
                <th scope="col">last heartbeat</th>
                <th scope="col" class="num">
                  up
                </th>
                <th scope="col">version</th>
                <th scope="col">queues</th>
              </tr>
            </thead>
            <tbody>
              {r.workers.map((w) => (
                <tr key={w.id} data-worker={w.id}>
                  <th scope="row">{w.id}</th>
                  <td>{w.host}</td>
                  <td class="num">{w.pid}</td>
                  <td class="num">
                    {w.inFlight}/{w.concurrency}
                  </td>
                  <td title={`${formatTime(w.heartbeatAt)} UTC; expires ${formatTime(w.expiresAt)} UTC`}>
                    {ago(w.heartbeatAt, r.now)}
                  </td>
                  <td class="num">{formatDuration(Math.max(0, r.now - w.startedAt))}</td>
                  <td>{w.version}</td>
                  <td>{w.queues.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="muted">
        Each worker beats every few seconds (heartbeatMs, default 5 s); an entry expires after three missed
        beats and goes at once when its worker closes.
      </p>
    </section>
  );
}
