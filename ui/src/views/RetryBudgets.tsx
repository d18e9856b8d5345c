/**
 * Retry budgets of one queue (src/retry-budget.ts, GET / PUT / DELETE /queues/:queue/retry-budget):
 * each budget (the queue's and per job name) with how far ahead it books retries now, the
 * over-budget decisions counted live from the event stream (`budget` events), and a form to set,
 * change or remove one. Job names are rendered as text nodes only.
 */
import { useState } from 'preact/hooks';

import { api, ApiError, enc, query } from '../api.js';
import { ErrorMessage, LiveDot, Loading } from '../components.js';
import { formatDuration } from '../format.js';
import { useEvents, useLoad, useThrottled } from '../hooks.js';
import type { FeedEvent } from '../types.js';

export interface RetryBudgetStatus {
  readonly name: string | null;
  readonly ratio: number;
  readonly windowMs: number;
  readonly minPerSecond: number;
  readonly onExhausted: 'defer' | 'dead';
  readonly bookedUntil: number;
}

interface Counts {
  deferred: number;
  dead: number;
}

const scopeLabel = (name: string | null): string => (name === null ? 'queue-wide' : name);

function describeError(err: unknown): Error {
  if (err instanceof ApiError && err.field !== undefined) return new Error(`${err.field}: ${err.message}`);
  return err instanceof Error ? err : new Error(String(err));
}

function BudgetForm({
  queue,
  readOnly,
  onDone,
}: {
  queue: string;
  readOnly: boolean;
  onDone: (budgets: readonly RetryBudgetStatus[]) => void;
}) {
  const [name, setName] = useState('');
  const [ratio, setRatio] = useState('0.2');
  const [windowS, setWindowS] = useState('10');
  const [minPs, setMinPs] = useState('10');
  const [onExhausted, setOnExhausted] = useState<'defer' | 'dead'>('defer');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const run = async (remove: boolean) => {
    setError(undefined);
    setDone(undefined);
    setBusy(true);
    const n = name.trim();
    try {
      const path = `/queues/${enc(queue)}/retry-budget`;
      const res = remove
        ? await api<{ budgets: RetryBudgetStatus[] }>('DELETE', `${path}${query({ name: n })}`)
        : await api<{ budgets: RetryBudgetStatus[] }>('PUT', path, {
            ...(n !== '' ? { name: n } : {}),
            ratio: Number(ratio),
            windowSeconds: Number(windowS),
            minPerSecond: Number(minPs),
            onExhausted,
          });
      setDone(`${remove ? 'Removed' : 'Saved'} the ${n === '' ? 'queue-wide' : `"${n}"`} budget.`);
      onDone(res.budgets);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      aria-labelledby="budget-form-h"
      onSubmit={(e) => {
        e.preventDefault();
        void run(false);
      }}
    >
      <h2 id="budget-form-h">Set or remove a budget</h2>
      {readOnly && <p class="muted">This server is read-only: budgets cannot be changed here.</p>}
      <label for="budget-name">
        Job name (empty: the queue-wide budget)
        <input id="budget-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label for="budget-ratio">
        Ratio of first attempts (0.2 = 20 %)
        <input
          id="budget-ratio"
          inputMode="decimal"
          value={ratio}
          onInput={(e) => setRatio(e.currentTarget.value)}
        />
      </label>
      <label for="budget-window">
        Window (seconds)
        <input
          id="budget-window"
          inputMode="numeric"
          value={windowS}
          onInput={(e) => setWindowS(e.currentTarget.value)}
        />
      </label>
      <label for="budget-min">
        Minimum retries per second
        <input
          id="budget-min"
          inputMode="numeric"
          value={minPs}
          onInput={(e) => setMinPs(e.currentTarget.value)}
        />
      </label>
      <label for="budget-over">
        Over budget
        <select
          id="budget-over"
          value={onExhausted}
          onChange={(e) => setOnExhausted(e.currentTarget.value === 'dead' ? 'dead' : 'defer')}
        >
          <option value="defer">defer the retry</option>
          <option value="dead">dead-letter it</option>
        </select>
      </label>
      <button type="submit" disabled={busy || readOnly}>
        Save budget
      </button>{' '}
      <button type="button" disabled={busy || readOnly} onClick={() => void run(true)}>
        Remove budget
      </button>
      <ErrorMessage error={error} action="Refused" />
      {done && <p role="status">{done}</p>}
    </form>
  );
}

export function RetryBudgets({ queue }: { queue: string }) {
  const path = `/queues/${enc(queue)}/retry-budget`;
  const loaded = useLoad(() => api<{ budgets: RetryBudgetStatus[] }>('GET', path), path);
  const config = useLoad(() => api<{ readOnly: boolean }>('GET', '/config'), 'config');
  const [override, setOverride] = useState<readonly RetryBudgetStatus[] | undefined>();
  const [counts, setCounts] = useState<Readonly<Record<string, Counts>>>({});
  const reload = useThrottled(() => {
    setOverride(undefined);
    loaded.reload();
  }, 1000);
  const live = useEvents([queue], (e: FeedEvent) => {
    if (e.type !== 'budget') return;
    const scope = e.fields.scope ?? '';
    const dead = e.fields.dead === '1';
    setCounts((c) => {
      const was = c[scope] ?? { deferred: 0, dead: 0 };
      return {
        ...c,
        [scope]: dead ? { ...was, dead: was.dead + 1 } : { ...was, deferred: was.deferred + 1 },
      };
    });
    reload();
  });
  const budgets = override ?? loaded.data?.budgets;
  const now = Date.now();
  const total = Object.values(counts).reduce(
    (s, c) => ({ deferred: s.deferred + c.deferred, dead: s.dead + c.dead }),
    {
      deferred: 0,
      dead: 0,
    },
  );
  return (
    <section aria-labelledby="budgets-h">
      <h1 id="budgets-h">Retry budgets of {queue}</h1>
      <p class="muted">
        A budget caps retries at a share of the first attempts over a sliding window; over it, a retry is
        deferred (booked later) or dead-lettered. <LiveDot live={live} />
      </p>
      <Loading when={loaded.loading && budgets === undefined} />
      <ErrorMessage error={loaded.error} action="Could not read the budgets" />
      {budgets !== undefined && budgets.length === 0 && <p>No retry budget on this queue.</p>}
      {budgets !== undefined && budgets.length > 0 && (
        <table>
          <caption>Budgets and how far ahead each books retries now</caption>
          <thead>
            <tr>
              <th scope="col">Scope</th>
              <th scope="col">Ratio</th>
              <th scope="col">Window</th>
              <th scope="col">Minimum / s</th>
              <th scope="col">Over budget</th>
              <th scope="col">Booked ahead</th>
            </tr>
          </thead>
          <tbody>
            {budgets.map((b) => (
              <tr key={b.name ?? ''} data-budget={b.name ?? ''}>
                <th scope="row">{scopeLabel(b.name)}</th>
                <td>{`${Math.round(b.ratio * 1000) / 10} %`}</td>
                <td>{formatDuration(b.windowMs)}</td>
                <td>{b.minPerSecond.toLocaleString('en-US')}</td>
                <td>{b.onExhausted === 'dead' ? 'dead-letter' : 'defer'}</td>
                <td>{b.bookedUntil > now ? formatDuration(b.bookedUntil - now) : 'not booked ahead'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Over-budget decisions since this page opened</h2>
      <p aria-live="polite" data-testid="budget-counts">
        {`${total.deferred} deferred, ${total.dead} dead-lettered`}
      </p>
      {Object.keys(counts).length > 0 && (
        <ul>
          {Object.entries(counts).map(([scope, c]) => (
            <li key={scope}>
              {scope === '' ? 'queue-wide' : scope}: {`${c.deferred} deferred, ${c.dead} dead-lettered`}
            </li>
          ))}
        </ul>
      )}
      <BudgetForm queue={queue} readOnly={config.data?.readOnly === true} onDone={(b) => setOverride(b)} />
    </section>
  );
}
