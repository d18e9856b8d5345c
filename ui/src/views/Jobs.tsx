/**
 * Jobs of one queue: filters (state, name, error class, rule, error code, fingerprint, trigger,
 * attempts made, time range, text in the data, source: Redis, the archive or both; archived jobs
 * carry an "archived" badge) and the page cursor all live in
 * the URL, so a link shows the same list. Rows can be selected for bulk actions; an id goes
 * straight to its job.
 */
import { useState } from 'preact/hooks';

import { api, enc, query } from '../api.js';
import { Badge, ErrorMessage, Loading } from '../components.js';
import { formatTime } from '../format.js';
import { useLoad } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { paths } from '../routes.js';
import { JOB_SOURCES, JOB_STATES, type JobSummary, type Page } from '../types.js';
import { BulkActions, type JobFilter } from './BulkActions.js';

const FILTERS = [
  'state',
  'name',
  'errorClass',
  'rule',
  'errorCode',
  'fingerprint',
  'trigger',
  'minAttempts',
  'maxAttempts',
  'from',
  'to',
  'text',
  'source',
] as const;
type Filters = Partial<Record<(typeof FILTERS)[number] | 'cursor', string>>;

export function filtersOf(q: URLSearchParams): Filters {
  const f: Filters = {};
  for (const k of [...FILTERS, 'cursor'] as const) {
    const v = q.get(k);
    if (v !== null && v !== '') f[k] = v;
  }
  return f;
}

/**
 * The filters as the bulk actions' body takes them: the state always, attempts as numbers; no
 * source (actions act on what Redis holds; archived jobs are history).
 */
export function bulkFilter(f: Filters): JobFilter {
  const out: Record<string, string | number> = { state: 'waiting' };
  for (const k of FILTERS) {
    const v = f[k];
    if (v === undefined || k === 'source') continue;
    out[k] = k === 'minAttempts' || k === 'maxAttempts' ? Number(v) : v;
  }
  return out;
}

export function Jobs({ queue, params }: { queue: string; params: URLSearchParams }) {
  const filters = filtersOf(params);
  const key = `${queue}?${params.toString()}`;
  const page = useLoad(
    () => api<Page<JobSummary>>('GET', `/queues/${enc(queue)}/jobs${query({ ...filters, limit: 50 })}`),
    key,
  );
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [goto, setGoto] = useState('');

  const apply = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const next: Record<string, string> = {};
    for (const k of FILTERS) {
      const v = String(form.get(k) ?? '').trim();
      // The default source (Redis) stays out of the URL, as the default state does not.
      if (v !== '' && !(k === 'source' && v === 'live')) next[k] = v;
    }
    setSelected(new Set());
    navigate(paths.jobs(queue, next));
  };
  const toggle = (id: string) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSelected(s);
  };
  const jobs = page.data?.jobs ?? [];
  const allOnPage = jobs.length > 0 && jobs.every((j) => selected.has(j.id));
  const withoutCursor: Filters = { ...filters };
  delete withoutCursor.cursor;

  return (
    <section aria-labelledby="jobs-title">
      <div class="title-row">
        <h1 id="jobs-title">
          Jobs in <span class="mono">{queue}</span>
        </h1>
        <Link href={paths.dlq(queue)}>Dead letters of {queue}</Link>
      </div>
      <form class="filters" onSubmit={apply} aria-label="Job filters" key={key}>
        <label>
          State
          <select name="state">
            {JOB_STATES.map((s) => (
              <option key={s} value={s} selected={s === (filters.state ?? 'waiting')}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input name="name" defaultValue={filters.name ?? ''} maxLength={128} />
        </label>
        <label>
          Error class
          <select name="errorClass">
            {['', 'temporary', 'permanent', 'poison'].map((c) => (
              <option key={c} value={c} selected={c === (filters.errorClass ?? '')}>
                {c === '' ? 'any' : c}
              </option>
            ))}
          </select>
        </label>
        <label>
          Rule
          <input
            name="rule"
            defaultValue={filters.rule ?? ''}
            maxLength={200}
            placeholder="code:ECONNRESET"
          />
        </label>
        <label>
          Error code
          <input name="errorCode" defaultValue={filters.errorCode ?? ''} maxLength={200} />
        </label>
        <label>
          Fingerprint
          <input name="fingerprint" defaultValue={filters.fingerprint ?? ''} maxLength={64} />
        </label>
        <label>
          Trigger
          <select name="trigger">
            {['', 'manual', 'stall'].map((t) => (
              <option key={t} value={t} selected={t === (filters.trigger ?? '')}>
                {t === '' ? 'any' : t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Attempts ≥
          <input name="minAttempts" type="number" min={0} defaultValue={filters.minAttempts ?? ''} />
        </label>
        <label>
          Attempts ≤
          <input name="maxAttempts" type="number" min={0} defaultValue={filters.maxAttempts ?? ''} />
        </label>
        <label>
          From
          <input name="from" defaultValue={filters.from ?? ''} placeholder="2026-01-31T12:00:00Z" />
        </label>
        <label>
          To
          <input name="to" defaultValue={filters.to ?? ''} placeholder="ms or ISO 8601" />
        </label>
        <label>
          Text in data
          <input
            name="text"
            defaultValue={filters.text ?? ''}
            maxLength={200}
            placeholder='"customer":"42"'
          />
        </label>
        <label>
          Source
          <select name="source">
            {JOB_SOURCES.map(([v, label]) => (
              <option key={v} value={v} selected={v === (filters.source ?? 'live')}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <form
        class="goto"
        aria-label="Open a job by id"
        onSubmit={(e) => {
          e.preventDefault();
          if (goto.trim() !== '') navigate(paths.job(queue, goto.trim()));
        }}
      >
        <label>
          Job id
          <input value={goto} onInput={(e) => setGoto(e.currentTarget.value)} maxLength={128} />
        </label>
        <button type="submit">Open</button>
      </form>
      <ErrorMessage error={page.error} action="Could not list the jobs" />
      <Loading when={page.loading && !page.data} />
      {page.data && (
        <div class="table-wrap">
          <table class="jobs">
            <caption class="sr-only">Jobs matching the filters</caption>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select every job on this page"
                    checked={allOnPage}
                    onChange={() => setSelected(allOnPage ? new Set() : new Set(jobs.map((j) => j.id)))}
                  />
                </th>
                <th scope="col">id</th>
                <th scope="col">name</th>
                <th scope="col">state</th>
                <th scope="col" class="num">
                  attempts
                </th>
                <th scope="col">last error</th>
                <th scope="col">created</th>
                <th scope="col">due / finished</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr key={j.id} data-job={j.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select job ${j.id}`}
                      disabled={j.archived === true}
                      checked={selected.has(j.id)}
                      onChange={() => toggle(j.id)}
                    />
                  </td>
                  <td>
                    <Link href={paths.job(queue, j.id)} class="mono">
                      {j.id}
                    </Link>
                  </td>
                  <td>{j.name}</td>
                  <td>
                    <Badge kind={j.state}>{j.state}</Badge>
                    {j.archived && (
                      <>
                        {' '}
                        <Badge kind="archived">archived</Badge>
                      </>
                    )}
                  </td>
                  <td class="num">{j.attempts}</td>
                  <td class="clip">
                    {j.lastError
                      ? `${j.lastError.name}${j.lastError.code ? ` [${j.lastError.code}]` : ''}: ${j.lastError.message}`
                      : ''}
                  </td>
                  <td class="mono">{formatTime(j.createdAt)}</td>
                  <td class="mono">{formatTime(j.finishedAt ?? j.dueAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {jobs.length === 0 && <p>No job matches on this page.</p>}
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {filters.cursor !== undefined && <Link href={paths.jobs(queue, withoutCursor)}>First page</Link>}
        {page.data?.nextCursor && (
          <Link href={paths.jobs(queue, { ...withoutCursor, cursor: page.data.nextCursor })}>Next page</Link>
        )}
      </nav>
      <BulkActions
        queue={queue}
        ids={[...selected]}
        filter={bulkFilter(withoutCursor)}
        onDone={() => {
          setSelected(new Set());
          page.reload();
        }}
      />
    </section>
  );
}
