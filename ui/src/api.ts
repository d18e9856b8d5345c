/**
 * The dashboard's only way to the server: JSON over the documented HTTP API. The bearer token (when
 * the server has one) lives in sessionStorage and travels in the Authorization header, never in a
 * URL. Every mutation sends a JSON body and a custom header, which no cross-site form can send
 * without a preflight.
 */
const TOKEN_KEY = 'retraced.token';

/** An answer that was not 2xx: the problem document's code, detail and field when it had one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly field: string | undefined;
  constructor(status: number, message: string, code?: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function getToken(): string | undefined {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function setToken(token: string | undefined): void {
  if (token === undefined) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

type Listener = () => void;
const unauthorised = new Set<Listener>();

/** Called whenever the server answers 401 (no token, or a wrong one). */
export function onUnauthorised(listener: Listener): () => void {
  unauthorised.add(listener);
  return () => unauthorised.delete(listener);
}

export function notifyUnauthorised(): void {
  for (const l of unauthorised) l();
}

/** Headers every request carries: the token if any, and the dashboard's marker. */
export function authHeaders(token = getToken()): Record<string, string> {
  return {
    'x-retraced-client': 'dashboard',
    ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
  };
}

interface Problem {
  detail?: string;
  title?: string;
  code?: string;
  field?: string;
}

async function failure(res: Response): Promise<ApiError> {
  let p: Problem = {};
  try {
    p = (await res.json()) as Problem;
  } catch {
    // not a problem document
  }
  const message = p.detail ?? p.title ?? `${res.status} ${res.statusText}`;
  return new ApiError(res.status, message, p.code, p.field);
}

/** Sends one request; resolves with the parsed JSON answer or rejects with an ApiError. */
export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  token = getToken(),
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(token) };
  const init: RequestInit = { method, headers, cache: 'no-store', credentials: 'same-origin' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  const res = await fetch(path, init);
  if (!res.ok) {
    const error = await failure(res);
    if (res.status === 401) notifyUnauthorised();
    throw error;
  }
  return (await res.json()) as T;
}

/** `?a=1&b=2` from the defined, non-empty entries. */
export function query(params: Readonly<Record<string, string | number | undefined>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

export const enc = encodeURIComponent;
