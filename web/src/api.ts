/**
 * The API client: same-origin `fetch` to `/v1/*` with the person's bearer token, JSON in and out,
 * RFC 9457 problems turned into {@link ApiError}. Paths are built with {@link path} so that an id
 * can never add a segment or a query. A 401 (or a token past its expiry) signs the person out:
 * they sign in again; nothing retries with a stale token.
 */
import type { Problem } from './api-types';
import type { Session } from './auth';

/** The API refused: `problem` is what it said (its `detail` is safe to show). */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `the API answered ${problem.status}`);
    this.name = 'ApiError';
  }
  get status(): number {
    return this.problem.status;
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

/** The sign-in has ended (expired, or the API said 401); the app shows the sign-in page. */
export class SignedOutError extends Error {
  constructor() {
    super('your sign-in has expired; sign in again');
    this.name = 'SignedOutError';
  }
}

/**
 * A path with each parameter percent-encoded as one segment.
 *
 * @example path`/v1/requests/${id}/approve`
 */
export function path(strings: TemplateStringsArray, ...values: string[]): string {
  return strings.reduce(
    (out, s, i) => out + s + (i < values.length ? encodeURIComponent(values[i]!) : ''),
    '',
  );
}

export interface Api {
  get<T>(route: string, query?: Record<string, string | undefined>): Promise<T>;
  post<T>(route: string, body?: unknown): Promise<T>;
}

/**
 * @example
 * const api = createApi(() => session, () => signOut('expired'));
 * const { entitlements } = await api.get<{ entitlements: Entitlement[] }>('/v1/entitlements');
 */
export function createApi(session: () => Session | undefined, signedOut: () => void): Api {
  const call = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const s = session();
    if (!s || Date.now() >= s.expiresAt) {
      signedOut();
      throw new SignedOutError();
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${s.accessToken}`,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(route, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        redirect: 'error',
      });
    } catch {
      throw new ApiError({
        status: 0,
        title: 'network error',
        detail: 'vend could not be reached; try again',
      });
    }
    if (res.status === 401) {
      signedOut();
      throw new SignedOutError();
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const p = (parsed ?? {}) as Partial<Problem> & { message?: string };
      throw new ApiError({
        status: res.status,
        title: typeof p.title === 'string' ? p.title : undefined,
        detail:
          typeof p.detail === 'string' ? p.detail : typeof p.message === 'string' ? p.message : undefined,
        code: typeof p.code === 'string' ? p.code : undefined,
        requestId: typeof p.requestId === 'string' ? p.requestId : undefined,
      });
    }
    return parsed as T;
  };
  return {
    get: (route, query) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') q.set(k, v);
      const qs = q.toString();
      return call('GET', qs ? `${route}?${qs}` : route);
    },
    post: (route, body) => call('POST', route, body ?? {}),
  };
}
