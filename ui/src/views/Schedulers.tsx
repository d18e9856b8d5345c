/**
 * Schedulers of a queue: spec, next run, last tick, paused state (with pause/resume), and the tick
 * ledger of the one selected (`?id=`): planned and actual time of each tick, how late it was, the
 * job it created or why it was skipped. Reloads every 5 s.
 */
import { useEffect, useState } from 'preact/hooks';

import { api, enc, query } from '../api.js';
import { Badge, ErrorMessage, Loading } from '../components.js';
import { formatDuration, formatTime } from '../format.js';
import { useLoad } from '../hooks.js';
import { Link } from '../router.js';
import { paths } from '../routes.js';
import type { SchedulerDetailView, SchedulerView, TickView } from '../types.js';

export function specText(s: SchedulerView['spec']): string {
  if (s.every !== undefined) return `every ${formatDuration(s.every)}`;
  return `cron ${s.cron ?? ''} (${s.tz ?? 'UTC'})`;
}

export function tickOutcome(t: TickView): string {
  if (t.outcome === 'created') return 'created';
  const n = t.count !== undefined ? ` ${t.count}${t.more ? '+' : ''}` : '';
  return `skipped${n} (${t.reason ?? 'unknown'})`;
}

function Ledger({ queue, id }: { queue: string; id: string }) {
  const detail = useLoad(
    () =>
      api<SchedulerDetailView>('GET', `/queues/${enc(queue)}/schedulers/${enc(id)}${query({ ticks: 100 })}`),
    `${queue}/${id}`,
  );
  useEffect(() => {
    const t = setInterval(detail.reload, 5000);
    return () => clearInterval(t);
  }, [detail.reload]);
  const d = detail.data;
  return (
    <section aria-labelledby="ledger-title">
      <h2 id="ledger-title">Tick ledger of {id}</h2>
      <ErrorMessage error={detail.error} action="Could not read the scheduler" />
      <Loading when={detail.loading && !d} />
      {d && (
        <>
          <p>
            {specText(d.spec)}; missed ticks:{' '}
            {typeof d.missed === 'string' ? d.missed : `each (up to ${d.missed.each})`}; overlap: {d.overlap}.{' '}
            {d.upcoming.length > 0
              ? `Next runs (UTC): ${d.upcoming.map((t) => formatTime(t)).join(', ')}.`
              : 'Paused: no next run.'}
          </p>
          {d.ticks.length === 0 ? (
            <p class="muted">No tick yet.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Ticks of scheduler {id}, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">planned (UTC)</th>
                    <th scope="col">ran (UTC)</th>
                    <th scope="col" class="num">
                      late
                    </th>
                    <th scope="col">outcome</th>
                    <th scope="col">job</th>
                  </tr>
                </thead>
                <tbody>
                  {d.ticks.map((t, i) => (
                    <tr key={`${t.plannedAt}-${i}`} data-outcome={t.outcome}>
                      <td>
                        {formatTime(t.plannedAt)}
                        {t.lastPlannedAt !== undefined && t.lastPlannedAt !== t.plannedAt
                          ? ` … ${formatTime(t.lastPlannedAt)}`
                          : ''}
                      </td>
                      <td>{formatTime(t.at)}</td>
                      <td class="num">{formatDuration(Math.max(0, t.at - t.plannedAt))}</td>
                      <td>
                        <Badge kind={t.outcome === 'created' ? 'completed' : 'scheduled'}>
                          {tickOutcome(t)}
                        </Badge>
                      </td>
                      <td>{t.jobId ? <Link href={paths.job(queue, t.jobId)}>{t.jobId}</Link> : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}

export function Schedulers({ queue, params }: { queue: string; params: URLSearchParams }) {
  const selected = params.get('id') ?? undefined;
  const list = useLoad(
    () => api<{ schedulers: SchedulerView[] }>('GET', `/queues/${enc(queue)}/schedulers`),
    `schedulers/${queue}`,
  );
  const [actionError, setActionError] = useState<Error | undefined>();
  useEffect(() => {
    const t = setInterval(list.reload, 5000);
    return () => clearInterval(t);
  }, [list.reload]);
  const toggle = async (s: SchedulerView) => {
    setActionError(undefined);
    try {
      await api('POST', `/queues/${enc(queue)}/schedulers/${enc(s.id)}/${s.paused ? 'resume' : 'pause'}`, {});
      list.reload();
    } catch (e) {
      setActionError(e as Error);
    }
  };
  const rows = list.data?.schedulers ?? [];
  return (
    <section aria-labelledby="schedulers-title">
      <h1 id="schedulers-title">Schedulers of {queue}</h1>
      <ErrorMessage error={list.error} action="Could not list the schedulers" />
      <ErrorMessage error={actionError} action="Could not change the scheduler" />
      <Loading when={list.loading && !list.data} />
      {list.data && rows.length === 0 && (
        <p>
          No schedulers in {queue}. Create one with <code>queue.schedule(…)</code>,{' '}
          <code>PUT /queues/{queue}/schedulers/:id</code> or <code>retraced schedulers upsert</code>.
        </p>
      )}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Schedulers of {queue}, by next run</caption>
            <thead>
              <tr>
                <th scope="col">scheduler</th>
                <th scope="col">spec</th>
                <th scope="col">next run (UTC)</th>
                <th scope="col">last tick (UTC)</th>
                <th scope="col">job</th>
                <th scope="col">state</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.id} data-scheduler={s.id} aria-current={s.id === selected ? 'true' : undefined}>
                  <th scope="row">
                    <Link href={paths.schedulers(queue, s.id)} aria-label={`Tick ledger of ${s.id}`}>
                      {s.id}
                    </Link>
                  </th>
                  <td>{specText(s.spec)}</td>
                  <td>{s.paused ? '—' : formatTime(s.nextRunAt)}</td>
                  <td>
                    {s.lastTickAt !== undefined ? formatTime(s.lastTickAt) : 'never'}
                    {s.lastJobId && (
                      <div class="sub">
                        <Link href={paths.job(queue, s.lastJobId)}>{s.lastJobId}</Link>
                      </div>
                    )}
                  </td>
                  <td>
                    {s.name}
                    {s.priority ? ` (priority ${s.priority})` : ''}
                    {s.group !== undefined ? ` (group ${s.group})` : ''}
                  </td>
                  <td>
                    {s.paused ? <Badge kind="paused">paused</Badge> : <Badge kind="running">active</Badge>}{' '}
                    <button
                      type="button"
                      onClick={() => void toggle(s)}
                      aria-label={`${s.paused ? 'Resume' : 'Pause'} scheduler ${s.id}`}
                    >
                      {s.paused ? 'Resume' : 'Pause'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected !== undefined && <Ledger queue={queue} id={selected} />}
    </section>
  );
}
