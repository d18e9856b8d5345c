/**
 * Overview: every queue with its counts by state, its oldest waiting job (how long it has waited), paused state (with pause/resume), live rates of
 * completions, failed attempts, retries and dead letters over the last minute, and a sparkline of
 * the last 5 minutes. Counts reload on the event stream's activity and every 5 s.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';

import { api, enc } from '../api.js';
import { Badge, ErrorMessage, LiveDot, Loading } from '../components.js';
import { formatDuration, formatTime, perMinute } from '../format.js';
import { useEvents, useLoad, useThrottled } from '../hooks.js';
import { RateWindow } from '../rates.js';
import { Link } from '../router.js';
import { paths } from '../routes.js';
import { JOB_STATES, type QueueSummary } from '../types.js';
import { Sparkline } from './Sparkline.js';

const WINDOW_MS = 60_000;

export function Overview() {
  const queues = useLoad(() => api<{ queues: QueueSummary[] }>('GET', '/queues'), 'queues');
  const rates = useMemo(() => new RateWindow(), []);
  const [openedAt] = useState(Date.now);
  const [now, setNow] = useState(Date.now());
  const [actionError, setActionError] = useState<Error | undefined>();
  const reload = useThrottled(queues.reload, 1000);
  const live = useEvents(
    undefined,
    (e) => {
      rates.add(e.queue, e, Date.now());
      reload();
    },
    reload,
  );
  useEffect(() => {
    const t = setInterval(() => {
      setNow(Date.now());
      queues.reload();
    }, 5000);
    return () => clearInterval(t);
  }, [queues.reload]);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 2000);
    return () => clearInterval(t);
  }, []);

  const toggle = async (q: QueueSummary) => {
    setActionError(undefined);
    try {
      await api('POST', `/queues/${enc(q.name)}/${q.paused ? 'resume' : 'pause'}`, {});
      queues.reload();
    } catch (e) {
      setActionError(e as Error);
    }
  };

  const list = queues.data?.queues ?? [];
  return (
    <section aria-labelledby="overview-title">
      <div class="title-row">
        <h1 id="overview-title">Queues</h1>
        <LiveDot live={live} />
      </div>
      <ErrorMessage error={queues.error} action="Could not list the queues" />
      <ErrorMessage error={actionError} action="Could not change the queue" />
      <Loading when={queues.loading && !queues.data} />
      {queues.data && list.length === 0 && <p>No queues yet: add a job and its queue appears here.</p>}
      <div class="table-wrap">
        <table class="overview">
          <caption class="sr-only">Queues with their jobs by state and rates over the last minute</caption>
          <thead>
            <tr>
              <th scope="col">queue</th>
              {JOB_STATES.map((s) => (
                <th scope="col" key={s} class="num">
                  {s}
                </th>
              ))}
              <th scope="col" class="num" title="how long the job waiting longest has waited">
                oldest
              </th>
              <th
                scope="col"
                class="num"
                title="finished jobs evicted by retention so far; with an archive, evicted only once archived"
              >
                evicted
              </th>
              <th scope="col" class="num" title="completed per minute">
                done/min
              </th>
              <th scope="col" class="num" title="failed attempts per minute">
                failed/min
              </th>
              <th scope="col" class="num" title="retries (after a failure or a stall) per minute">
                retries/min
              </th>
              <th scope="col" class="num" title="dead-lettered per minute">
                dead/min
              </th>
              <th scope="col">last 5 min</th>
              <th scope="col">state</th>
            </tr>
          </thead>
          <tbody>
            {list.map((q) => {
              const t = rates.totals(q.name, now, WINDOW_MS);
              // Until a full window has passed, rates are over the time the page has been open.
              const span = Math.min(WINDOW_MS, Math.max(1000, now - openedAt));
              return (
                <tr key={q.name} data-queue={q.name}>
                  <th scope="row">
                    <Link href={paths.jobs(q.name)}>{q.name}</Link>
                    <div class="sub">
                      <Link href={paths.dlq(q.name)}>dead letters</Link> ·{' '}
                      <Link href={paths.schedulers(q.name)} aria-label={`Schedulers of ${q.name}`}>
                        schedulers
                      </Link>{' '}
                      ·{' '}
                      <Link href={paths.workers(q.name)} aria-label={`Workers of ${q.name}`}>
                        workers
                      </Link>
                    </div>
                  </th>
                  {JOB_STATES.map((s) => (
                    <td key={s} class="num">
                      <Link
                        href={paths.jobs(q.name, { state: s })}
                        aria-label={`${q.counts[s]} ${s} jobs in ${q.name}`}
                      >
                        {q.counts[s]}
                      </Link>
                    </td>
                  ))}
                  <td class="num">
                    {q.oldestWaiting ? (
                      <Link
                        href={paths.job(q.name, q.oldestWaiting.id)}
                        aria-label={`Oldest waiting job of ${q.name}: ${q.oldestWaiting.id}, waiting for ${formatDuration(q.oldestWaiting.waitedMs)}`}
                        title={`waiting since ${formatTime(q.oldestWaiting.since)} UTC (priority ${q.oldestWaiting.priority})`}
                      >
                        {formatDuration(q.oldestWaiting.waitedMs)}
                      </Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td class="num">
                    {q.evictions ? (
                      <span
                        title={`completed ${q.evictions.completed}, dead ${q.evictions.dead}, cancelled ${q.evictions.cancelled}`}
                      >
                        {q.evictions.completed + q.evictions.dead + q.evictions.cancelled}
                      </span>
                    ) : (
                      '—'
                    )}
                    {q.archive?.enabled && (
                      <div
                        class="sub"
                        data-archive-pending={q.archive.pending}
                        title={`archived in PostgreSQL: ${q.archive.pending} finished jobs not archived yet; retention holds ${q.archive.held.completed + q.archive.held.dead + q.archive.held.cancelled} until they are`}
                      >
                        {q.archive.pending} unarchived
                      </div>
                    )}
                  </td>
                  <td class="num">{perMinute(t.completed, span)}</td>
                  <td class="num">{perMinute(t.failed, span)}</td>
                  <td class="num">{perMinute(t.retried, span)}</td>
                  <td class="num">{perMinute(t.dead, span)}</td>
                  <td>
                    <Sparkline
                      data={rates.buckets(q.name, now, 10_000, 30, ['completed', 'failed'])}
                      label={`${q.name}: completed and failed attempts per 10 s over the last 5 minutes`}
                    />
                  </td>
                  <td>
                    {q.paused ? <Badge kind="paused">paused</Badge> : <Badge kind="running">running</Badge>}{' '}
                    <button
                      type="button"
                      onClick={() => void toggle(q)}
                      aria-label={`${q.paused ? 'Resume' : 'Pause'} ${q.name}`}
                    >
                      {q.paused ? 'Resume' : 'Pause'}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p class="muted">
        Rates are per minute over the last minute (or since this page opened, if that is shorter), counted
        from the live event stream.
      </p>
    </section>
  );
}
