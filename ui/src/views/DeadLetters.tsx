/**
 * Dead letters of one queue: groups by error fingerprint (count, first and last seen, a sample
 * error, the job names), and the dead jobs matching the URL's filter (a group's fingerprint,
 * reason, name, error code), which can be replayed (with a data patch, note and who) or purged,
 * each after a dry run and a confirmation. The source (Redis, the archive, or both) applies to the
 * groups and the list; archived rows carry an "archived" badge, and a replay of one restores it
 * from the archive first. Purge acts on what Redis holds only.
 */
import { api, enc, query } from '../api.js';
import { Badge, ErrorMessage, Loading } from '../components.js';
import { ago, formatTime } from '../format.js';
import { useLoad } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { paths } from '../routes.js';
import { JOB_SOURCES, type DeadGroup, type DeadSummary, type Page } from '../types.js';
import { DlqActions } from './DlqActions.js';

const FILTERS = ['fingerprint', 'reason', 'name', 'errorCode'] as const;
export type DlqFilter = Partial<Record<(typeof FILTERS)[number], string>>;
export type DlqSource = (typeof JOB_SOURCES)[number][0];

function sourceOf(v: string | null): DlqSource {
  return JOB_SOURCES.some(([s]) => s === v) ? (v as DlqSource) : 'live';
}

export function DeadLetters({ queue, params }: { queue: string; params: URLSearchParams }) {
  const filter: DlqFilter = {};
  for (const k of FILTERS) {
    const v = params.get(k);
    if (v) filter[k] = v;
  }
  const cursor = params.get('cursor') ?? undefined;
  const source = sourceOf(params.get('source'));
  // The default source (Redis) stays out of the URL and the requests.
  const src = source === 'live' ? {} : { source };
  const key = `${queue}?${params.toString()}`;
  const groups = useLoad(
    () => api<{ groups: DeadGroup[] }>('GET', `/queues/${enc(queue)}/dlq/groups${query(src)}`),
    `${queue}?${source}`,
  );
  const list = useLoad(
    () =>
      api<Page<DeadSummary>>(
        'GET',
        `/queues/${enc(queue)}/dlq${query({ ...filter, ...src, cursor, limit: 50 })}`,
      ),
    key,
  );
  const reload = () => {
    groups.reload();
    list.reload();
  };
  const now = Date.now();
  const group = groups.data?.groups.find((g) => g.fingerprint === filter.fingerprint);

  return (
    <section aria-labelledby="dlq-title">
      <div class="title-row">
        <h1 id="dlq-title">
          Dead letters of <Link href={paths.jobs(queue)}>{queue}</Link>
        </h1>
      </div>
      <h2>Groups by error fingerprint</h2>
      <ErrorMessage error={groups.error} action="Could not load the groups" />
      <Loading when={groups.loading && !groups.data} />
      {groups.data && groups.data.groups.length === 0 && <p>No dead jobs.</p>}
      {groups.data && groups.data.groups.length > 0 && (
        <div class="table-wrap">
          <table class="groups">
            <caption class="sr-only">Dead jobs grouped by error fingerprint, busiest first</caption>
            <thead>
              <tr>
                <th scope="col" class="num">
                  count
                </th>
                {source !== 'live' && (
                  <th scope="col" class="num">
                    archived
                  </th>
                )}
                <th scope="col">sample error</th>
                <th scope="col">job names</th>
                <th scope="col">first seen</th>
                <th scope="col">last seen</th>
                <th scope="col">fingerprint</th>
              </tr>
            </thead>
            <tbody>
              {groups.data.groups.map((g) => (
                <tr
                  key={g.fingerprint}
                  class={g.fingerprint === filter.fingerprint ? 'current' : ''}
                  data-fingerprint={g.fingerprint}
                >
                  <td class="num">{g.count}</td>
                  {source !== 'live' && <td class="num">{g.archived ?? 0}</td>}
                  <td class="clip">
                    {g.sample?.error
                      ? `${g.sample.error.name}${g.sample.error.code ? ` [${g.sample.error.code}]` : ''}: ${g.sample.error.message}`
                      : g.label}
                  </td>
                  <td>{(g.names ?? []).join(', ')}</td>
                  <td class="mono" title={formatTime(g.firstSeen)}>
                    {ago(g.firstSeen, now)}
                  </td>
                  <td class="mono" title={formatTime(g.lastSeen)}>
                    {ago(g.lastSeen, now)}
                  </td>
                  <td>
                    <Link
                      href={paths.dlq(queue, { fingerprint: g.fingerprint, ...src })}
                      class="mono"
                      aria-label={`Open group ${g.fingerprint} (${g.count} jobs)`}
                    >
                      {g.fingerprint}
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>{filter.fingerprint ? `Group ${filter.fingerprint}` : 'Dead jobs'}</h2>
      <form
        class="filters"
        aria-label="Dead job filters"
        key={key}
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          const next: Record<string, string> = {};
          for (const k of FILTERS) {
            const v = String(form.get(k) ?? '').trim();
            if (v !== '') next[k] = v;
          }
          const s = String(form.get('source') ?? 'live');
          if (s !== 'live') next.source = s;
          navigate(paths.dlq(queue, next));
        }}
      >
        <label>
          Fingerprint
          <input name="fingerprint" defaultValue={filter.fingerprint ?? ''} maxLength={64} />
        </label>
        <label>
          Reason
          <select name="reason">
            {['', 'exhausted', 'permanent', 'poison'].map((r) => (
              <option key={r} value={r} selected={r === (filter.reason ?? '')}>
                {r === '' ? 'any' : r}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input name="name" defaultValue={filter.name ?? ''} maxLength={128} />
        </label>
        <label>
          Error code
          <input name="errorCode" defaultValue={filter.errorCode ?? ''} maxLength={200} />
        </label>
        <label>
          Source
          <select name="source">
            {JOB_SOURCES.map(([v, label]) => (
              <option key={v} value={v} selected={v === source}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      {group?.sample?.error?.stack && (
        <details>
          <summary>Sample stack</summary>
          <pre>{group.sample.error.stack}</pre>
        </details>
      )}
      <ErrorMessage error={list.error} action="Could not list the dead jobs" />
      {list.data && (
        <div class="table-wrap">
          <table class="dead">
            <caption class="sr-only">Dead jobs matching the filter, most recent first</caption>
            <thead>
              <tr>
                <th scope="col">id</th>
                <th scope="col">name</th>
                <th scope="col">reason</th>
                <th scope="col">error code</th>
                <th scope="col">dead at</th>
              </tr>
            </thead>
            <tbody>
              {list.data.jobs.map((d) => (
                <tr key={d.id} data-job={d.id}>
                  <td>
                    <Link href={paths.job(queue, d.id)} class="mono">
                      {d.id}
                    </Link>
                  </td>
                  <td>
                    {d.name}
                    {d.archived && (
                      <>
                        {' '}
                        <Badge kind="archived">archived</Badge>
                      </>
                    )}
                  </td>
                  <td>{d.reason}</td>
                  <td>{d.errorCode ?? ''}</td>
                  <td class="mono">{formatTime(d.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.data.jobs.length === 0 && <p>No dead job matches.</p>}
          <nav class="pager" aria-label="Pages">
            {cursor !== undefined && <Link href={paths.dlq(queue, { ...filter, ...src })}>First page</Link>}
            {list.data.nextCursor && (
              <Link href={paths.dlq(queue, { ...filter, ...src, cursor: list.data.nextCursor })}>
                Next page
              </Link>
            )}
          </nav>
        </div>
      )}
      <DlqActions
        queue={queue}
        filter={filter}
        source={source}
        sampleId={list.data?.jobs[0]?.id}
        onDone={reload}
      />
    </section>
  );
}
