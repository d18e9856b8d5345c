/**
 * Rate limits of one queue (GET …/rate-limits/state): the queue's bucket with a live token gauge
 * (read again every second), the default group limit, and the groups page by page (a cursor in the
 * URL), filtered (waiting, turns, parked, paused) or one group (`?group=`, where the job page's
 * "why isn't it running" links a job held by its group's limit). A group paused by a handler's
 * RateLimitError is highlighted with why: the job, its attempt and the error's message. Group keys
 * and messages are user data: rendered as text nodes only.
 */
import { useEffect } from 'preact/hooks';

import { api, enc, query } from '../api.js';
import { ErrorMessage, Loading } from '../components.js';
import { formatDuration, formatTime } from '../format.js';
import { useLoad } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { paths } from '../routes.js';
import type { BucketState, GroupFilter, GroupState, RateLimitPause, RateLimitStateView } from '../types.js';

const FILTERS: readonly { value: GroupFilter; label: string }[] = [
  { value: 'waiting', label: 'with waiting jobs (turn order, then parked)' },
  { value: 'turns', label: 'taking turns' },
  { value: 'parked', label: 'parked (bucket empty)' },
  { value: 'paused', label: 'paused by a handler' },
];

/** How often the view reads the state again: the gauge moves with the tokens. */
const REFRESH_MS = 1000;

/** `in 12 s` / `now`, from the server's clock of the read. */
function inTime(at: number | undefined, now: number): string {
  if (at === undefined) return '—';
  return at <= now ? 'now' : `in ${formatDuration(at - now)}`;
}

function Pause({ queue, pause, now }: { queue: string; pause: RateLimitPause; now: number }) {
  return (
    <span class="pause-why">
      paused until <time title={`${formatTime(pause.until)} UTC`}>{inTime(pause.until, now)}</time> by job{' '}
      <Link href={paths.job(queue, pause.jobId)}>{pause.jobId}</Link> (attempt {pause.attempt})
      {pause.message ? <>: {pause.message}</> : null}
    </span>
  );
}

/** The queue's bucket: limit, a gauge of its tokens, the next token, a handler's pause. */
function QueueBucket({ queue, b, now }: { queue: string; b: BucketState; now: number }) {
  if (!b.limit && b.tokens === null) {
    return <p data-bucket="queue">No limit on the whole queue.</p>;
  }
  const burst = b.limit?.burst ?? 1;
  const tokens = b.tokens ?? 0;
  return (
    <div class={b.pause ? 'bucket paused' : 'bucket'} data-bucket="queue">
      <p>
        {b.limit ? (
          <>
            Limit <strong>{b.limit.label}</strong>, burst {b.limit.burst}.
          </>
        ) : (
          'No limit, only a handler’s pause.'
        )}
      </p>
      <p class="gauge">
        <label for="queue-tokens">Tokens now</label>
        <meter id="queue-tokens" min={0} max={burst} low={1} optimum={burst} value={tokens}>
          {tokens} of {burst}
        </meter>
        <span data-tokens>
          {tokens} of {burst}
        </span>
        {b.nextTokenAt !== undefined && (
          <span class="muted">
            {' '}
            · next token <time title={`${formatTime(b.nextTokenAt)} UTC`}>{inTime(b.nextTokenAt, now)}</time>
          </span>
        )}
      </p>
      {b.pause && (
        <p role="status">
          The queue is <Pause queue={queue} pause={b.pause} now={now} />
        </p>
      )}
    </div>
  );
}

function stateOf(g: GroupState): { kind: string; text: string } {
  if (g.pause) return { kind: 'paused', text: 'paused' };
  if (g.parkedUntil !== undefined) return { kind: 'parked', text: 'parked (bucket empty)' };
  if (g.turn === 0) return { kind: 'next', text: 'served next' };
  if (g.turn !== undefined) return { kind: 'turns', text: 'taking turns' };
  return { kind: 'idle', text: 'no waiting job' };
}

function GroupRow({
  queue,
  g,
  now,
  current,
}: {
  queue: string;
  g: GroupState;
  now: number;
  current: boolean;
}) {
  const s = stateOf(g);
  const classes = [
    g.pause ? 'paused' : '',
    g.parkedUntil !== undefined ? 'parked' : '',
    current ? 'current' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <tr class={classes} data-group={g.group} data-state={s.kind}>
      <th scope="row" class="mono">
        {g.group === '' ? (
          <span class="muted">(jobs without a group)</span>
        ) : (
          <Link href={paths.rateLimits(queue, { group: g.group })}>{g.group}</Link>
        )}
      </th>
      <td class="num">{g.waiting}</td>
      <td>
        {g.limit ? g.limit.label : '—'}
        {g.ownLimit && <span class="muted"> (own)</span>}
      </td>
      <td class="num">{g.tokens === null ? '—' : `${g.tokens}${g.limit ? ` / ${g.limit.burst}` : ''}`}</td>
      <td>
        {g.nextTokenAt === undefined ? (
          '—'
        ) : (
          <time title={`${formatTime(g.nextTokenAt)} UTC`}>{inTime(g.nextTokenAt, now)}</time>
        )}
      </td>
      <td class="num">{g.turn === undefined ? '—' : g.turn}</td>
      <td class="clip">{g.pause ? <Pause queue={queue} pause={g.pause} now={now} /> : s.text}</td>
    </tr>
  );
}

export function RateLimits({ queue, params }: { queue: string; params: URLSearchParams }) {
  const raw = params.get('filter');
  const filter: GroupFilter = FILTERS.some((f) => f.value === raw) ? (raw as GroupFilter) : 'waiting';
  const cursor = params.get('cursor') ?? undefined;
  const group = params.get('group') ?? undefined;
  const key = `${queue}?${params.toString()}`;
  const state = useLoad(
    () =>
      api<RateLimitStateView>(
        'GET',
        `/queues/${enc(queue)}/rate-limits/state${query({ filter: filter === 'waiting' ? undefined : filter, cursor, group, limit: 50 })}`,
      ),
    key,
  );
  useEffect(() => {
    const t = setInterval(state.reload, REFRESH_MS);
    return () => clearInterval(t);
  }, [state.reload]);
  const s = state.data;
  const apply = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const f = String(form.get('filter') ?? 'waiting');
    const g = String(form.get('group') ?? '').trim();
    navigate(paths.rateLimits(queue, { filter: f === 'waiting' ? undefined : f, group: g || undefined }));
  };
  return (
    <section aria-labelledby="rl-title">
      <div class="title-row">
        <h1 id="rl-title">Rate limits of {queue}</h1>
        <Link href={paths.jobs(queue)}>Jobs of {queue}</Link>
      </div>
      <ErrorMessage error={state.error} action="Could not read the rate limits" />
      <Loading when={state.loading && !s} />
      {s && (
        <>
          <h2>The queue’s bucket</h2>
          <QueueBucket queue={queue} b={s.queue} now={s.at} />
          <h2>Groups</h2>
          <p>
            Each group:{' '}
            {s.groupLimit ? (
              <>
                <strong>{s.groupLimit.label}</strong>, burst {s.groupLimit.burst}
              </>
            ) : (
              'no limit'
            )}
            ; {s.ownLimits} with a limit of their own. Now: {s.counts.turns} taking turns, {s.counts.parked}{' '}
            parked, {s.counts.paused} paused by a handler.
          </p>
          <form class="filters" onSubmit={apply} aria-label="Group filters" key={key}>
            <label>
              Show groups
              <select name="filter">
                {FILTERS.map((f) => (
                  <option key={f.value} value={f.value} selected={f.value === filter}>
                    {f.label}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Group
              <input name="group" defaultValue={group ?? ''} maxLength={128} placeholder="tenant-42" />
            </label>
            <button type="submit">Show</button>
          </form>
          {group !== undefined && (
            <p>
              Group <span class="mono">{group}</span> only.{' '}
              <Link href={paths.rateLimits(queue, { filter: filter === 'waiting' ? undefined : filter })}>
                All groups
              </Link>
            </p>
          )}
          {s.groups.length === 0 ? (
            <p role="status">No {filter === 'waiting' ? 'group with waiting jobs' : `${filter} group`}.</p>
          ) : (
            <div class="table-wrap">
              <table class="rate-groups">
                <caption class="sr-only">
                  Groups of {queue}: waiting jobs, limit, tokens, next token, turn, state
                </caption>
                <thead>
                  <tr>
                    <th scope="col">group</th>
                    <th scope="col" class="num">
                      waiting
                    </th>
                    <th scope="col">limit</th>
                    <th scope="col" class="num">
                      tokens
                    </th>
                    <th scope="col">next token</th>
                    <th scope="col" class="num">
                      turn
                    </th>
                    <th scope="col">state</th>
                  </tr>
                </thead>
                <tbody>
                  {s.groups.map((g) => (
                    <GroupRow key={g.group} queue={queue} g={g} now={s.at} current={g.group === group} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label="Group pages">
            {cursor !== undefined && (
              <Link href={paths.rateLimits(queue, { filter: filter === 'waiting' ? undefined : filter })}>
                First page
              </Link>
            )}
            {s.nextCursor !== undefined && (
              <Link
                href={paths.rateLimits(queue, {
                  filter: filter === 'waiting' ? undefined : filter,
                  cursor: s.nextCursor,
                })}
              >
                Next page
              </Link>
            )}
          </nav>
          <p class="muted">
            Turn 0 is served next; groups take one job per turn. A parked group has waiting jobs but an empty
            bucket: claims skip it until its next token. The ring moves as jobs are claimed, so a later page
            may show a group again or skip one. Read every {REFRESH_MS / 1000} s, by the server’s clock.
          </p>
        </>
      )}
    </section>
  );
}
