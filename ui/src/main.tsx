/**
 * The ReTraced dashboard: a shell (navigation, sign-in when the server wants a token) around five
 * views that talk only to the HTTP API.
 */
import './style.css';

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { ApiError, api, getToken, onUnauthorised, setToken } from './api.js';
import { Link, useRoute } from './router.js';
import { paths, type Route } from './routes.js';
import { Analytics } from './views/Analytics.js';
import { RateLimits } from './views/RateLimits.js';
import { RetryBudgets } from './views/RetryBudgets.js';
import { RetryIntelligence } from './views/RetryIntelligence.js';
import { DeadLetters } from './views/DeadLetters.js';
import { Job } from './views/Job.js';
import { Jobs } from './views/Jobs.js';
import { Overview } from './views/Overview.js';
import { RetryPlan } from './views/RetryPlan.js';
import { Schedulers } from './views/Schedulers.js';
import { Workers } from './views/Workers.js';

/**
 * The sections of the navigation. Later views (retry analytics, schedulers, workers) add an
 * entry here and a route in routes.ts.
 */
function navItems(route: Route): { href: string; label: string; current: boolean }[] {
  const queue = 'queue' in route ? route.queue : undefined;
  return [
    { href: paths.overview(), label: 'Queues', current: route.view === 'overview' },
    ...(queue !== undefined
      ? [
          {
            href: paths.jobs(queue),
            label: `Jobs (${queue})`,
            current: route.view === 'jobs' || route.view === 'job',
          },
          { href: paths.dlq(queue), label: `Dead letters (${queue})`, current: route.view === 'dlq' },
          {
            href: paths.analytics(queue),
            label: `Analytics (${queue})`,
            current: route.view === 'analytics',
          },
          {
            href: paths.schedulers(queue),
            label: `Schedulers (${queue})`,
            current: route.view === 'schedulers',
          },
          { href: paths.workers(queue), label: `Workers (${queue})`, current: route.view === 'workers' },
          {
            href: paths.rateLimits(queue),
            label: `Rate limits (${queue})`,
            current: route.view === 'rate-limits',
          },
          {
            href: paths.retries(queue),
            label: `What-if & audit (${queue})`,
            current: route.view === 'retries',
          },
          {
            href: paths.budgets(queue),
            label: `Retry budgets (${queue})`,
            current: route.view === 'budgets',
          },
        ]
      : []),
    { href: paths.plan(), label: 'Retry plan', current: route.view === 'plan' },
  ];
}

function View({ route }: { route: Route }) {
  switch (route.view) {
    case 'overview':
      return <Overview />;
    case 'jobs':
      return <Jobs queue={route.queue} params={route.query} />;
    case 'job':
      return <Job queue={route.queue} id={route.id} />;
    case 'dlq':
      return <DeadLetters queue={route.queue} params={route.query} />;
    case 'analytics':
      return <Analytics queue={route.queue} params={route.query} />;
    case 'schedulers':
      return <Schedulers queue={route.queue} params={route.query} />;
    case 'workers':
      return <Workers queue={route.queue} />;
    case 'rate-limits':
      return <RateLimits queue={route.queue} params={route.query} />;
    case 'retries':
      return <RetryIntelligence queue={route.queue} />;
    case 'budgets':
      return <RetryBudgets queue={route.queue} />;
    case 'plan':
      return <RetryPlan params={route.query} />;
    case 'missing':
      return (
        <section>
          <h1>Not found</h1>
          <p>
            The dashboard has no page at <code>{route.path}</code>.{' '}
            <Link href={paths.overview()}>Back to the queues</Link>.
          </p>
        </section>
      );
  }
}

function Login({ refused }: { refused: boolean }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | undefined>(
    refused && getToken() !== undefined ? 'The saved token was refused: enter it again.' : undefined,
  );
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api('GET', '/queues', undefined, value.trim());
      setToken(value.trim());
      location.reload();
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'The server refused this token (401): check the token the server was started with (--token or RETRACED_TOKEN).'
          : `Could not reach the server: ${(err as Error).message}`,
      );
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <h1>ReTraced</h1>
      <form onSubmit={(e) => void submit(e)} aria-label="Sign in">
        <p>
          This server needs its API token. It is kept for this browser tab only (sessionStorage) and sent as a
          bearer header.
        </p>
        <label for="token">
          API token
          <input
            id="token"
            type="password"
            autocomplete="current-password"
            required
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy || value.trim() === ''}>
          Sign in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

/** Says so when the server refuses every change (`--read-only`): reads and dry runs still work. */
function ReadOnlyNotice() {
  const [readOnly, setReadOnly] = useState(false);
  useEffect(() => {
    api<{ readOnly: boolean }>('GET', '/config').then(
      (c) => setReadOnly(c.readOnly),
      () => undefined,
    );
  }, []);
  if (!readOnly) return null;
  return (
    <p class="read-only" role="note">
      Read-only server: every change is refused; reads and dry runs work.
    </p>
  );
}

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<'checking' | 'ok' | 'needed'>('checking');
  useEffect(() => {
    const off = onUnauthorised(() => setAuth('needed'));
    api('GET', '/queues').then(
      () => setAuth('ok'),
      (e: unknown) => setAuth(e instanceof ApiError && e.status === 401 ? 'needed' : 'ok'),
    );
    return off;
  }, []);
  if (auth === 'checking') return <p class="muted">Connecting…</p>;
  if (auth === 'needed') return <Login refused />;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href={paths.overview()} class="brand">
          ReTraced
        </Link>
        <nav aria-label="Sections">
          <ul>
            {navItems(route).map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={n.current ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        {getToken() !== undefined && (
          <button
            type="button"
            class="signout"
            onClick={() => {
              setToken(undefined);
              location.reload();
            }}
          >
            Sign out
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        <ReadOnlyNotice />
        <View route={route} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
