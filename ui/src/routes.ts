/**
 * The dashboard's URLs: `/` and paths under `/ui/` (the server answers them all with the app; API
 * paths stay the API's). Every filter lives in the query string, so a link can be shared.
 * Pure: parsed and built here, followed by router.tsx.
 */
export type Route =
  | { readonly view: 'overview' }
  | { readonly view: 'jobs'; readonly queue: string; readonly query: URLSearchParams }
  | { readonly view: 'job'; readonly queue: string; readonly id: string }
  | { readonly view: 'dlq'; readonly queue: string; readonly query: URLSearchParams }
  | { readonly view: 'analytics'; readonly queue: string; readonly query: URLSearchParams }
  | { readonly view: 'schedulers'; readonly queue: string; readonly query: URLSearchParams }
  | { readonly view: 'workers'; readonly queue: string }
  | { readonly view: 'rate-limits'; readonly queue: string; readonly query: URLSearchParams }
  | { readonly view: 'retries'; readonly queue: string }
  | { readonly view: 'budgets'; readonly queue: string }
  | { readonly view: 'plan'; readonly query: URLSearchParams }
  | { readonly view: 'missing'; readonly path: string };

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function parseRoute(pathname: string, search: string): Route {
  const query = new URLSearchParams(search);
  if (pathname === '/' || pathname === '/ui' || pathname === '/ui/') return { view: 'overview' };
  if (pathname === '/ui/retry-plan') return { view: 'plan', query };
  const parts = pathname.split('/').map(decode);
  // ['', 'ui', 'queues', q, 'jobs' | 'dlq' | 'analytics', id?]
  const [empty, ui, queues, queue, section, id, ...more] = parts;
  if (empty === '' && ui === 'ui' && queues === 'queues' && queue && more.length === 0) {
    if (section === 'jobs' && id === undefined) return { view: 'jobs', queue, query };
    if (section === 'jobs' && id) return { view: 'job', queue, id };
    if (section === 'dlq' && id === undefined) return { view: 'dlq', queue, query };
    if (section === 'analytics' && id === undefined) return { view: 'analytics', queue, query };
    if (section === 'schedulers' && id === undefined) return { view: 'schedulers', queue, query };
    if (section === 'workers' && id === undefined) return { view: 'workers', queue };
    if (section === 'rate-limits' && id === undefined) return { view: 'rate-limits', queue, query };
    if (section === 'retries' && id === undefined) return { view: 'retries', queue };
    if (section === 'retry-budgets' && id === undefined) return { view: 'budgets', queue };
  }
  return { view: 'missing', path: pathname };
}

const e = encodeURIComponent;

function withQuery(path: string, params: Readonly<Record<string, string | undefined>> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s === '' ? path : `${path}?${s}`;
}

export const paths = {
  overview: () => '/',
  jobs: (queue: string, filters?: Readonly<Record<string, string | undefined>>) =>
    withQuery(`/ui/queues/${e(queue)}/jobs`, filters),
  job: (queue: string, id: string) => `/ui/queues/${e(queue)}/jobs/${e(id)}`,
  dlq: (queue: string, filters?: Readonly<Record<string, string | undefined>>) =>
    withQuery(`/ui/queues/${e(queue)}/dlq`, filters),
  analytics: (queue: string, params?: Readonly<Record<string, string | undefined>>) =>
    withQuery(`/ui/queues/${e(queue)}/analytics`, params),
  schedulers: (queue: string, id?: string) => withQuery(`/ui/queues/${e(queue)}/schedulers`, { id }),
  workers: (queue: string) => `/ui/queues/${e(queue)}/workers`,
  /** `filter`, `cursor` (a page), `group` (one group's row). */
  rateLimits: (queue: string, params?: Readonly<Record<string, string | undefined>>) =>
    withQuery(`/ui/queues/${e(queue)}/rate-limits`, params),
  retries: (queue: string) => `/ui/queues/${e(queue)}/retries`,
  budgets: (queue: string) => `/ui/queues/${e(queue)}/retry-budgets`,
  plan: (policy?: string) => withQuery('/ui/retry-plan', { policy }),
};
