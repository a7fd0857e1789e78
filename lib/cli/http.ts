/**
 * The vend API client's HTTP transport: one request over node:http / node:https, with the part of
 * `fetch` the client uses (method, headers, string body, abort signal, redirects; status, headers,
 * text). Why not `fetch`: in Node 20 the first `fetch` of a process compiles undici, ~20 ms of CPU
 * on this machine, which every `vend` call that talks to the API would pay (issue 14: a first
 * `credential-process` should cost little more than its round trip).
 *
 * Kept equivalent to `fetch` where the client could tell: redirects are followed (at most 20; 303,
 * and 301/302 after a POST, become a GET without body, as fetch does) and `authorization` is
 * dropped when a redirect leaves the origin; a timeout or abort rejects with the signal's reason
 * (a `TimeoutError`, which lib/cli/errors.ts words as "timed out"); a network failure rejects with
 * Node's error, whose `code` (ECONNREFUSED …) errors.ts reads. No response compression is asked
 * for, so none needs undoing.
 */
import type { IncomingMessage } from 'node:http';

/** What the client reads of an answer (a `Response` has all of it). */
export interface HttpAnswer {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** What the client sends. */
export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** The transport's shape; `fetch` fits it (tests may pass one). */
export type HttpSend = (url: URL, init: HttpInit) => Promise<HttpAnswer>;

const MAX_REDIRECTS = 20;

/**
 * Sends one request and reads the whole answer.
 *
 * @example const res = await httpSend(new URL('http://127.0.0.1:4000/v1/health'), { method: 'GET' });
 */
export const httpSend: HttpSend = async (url, init) => {
  let target = url;
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  let headers = { ...(init.headers ?? {}) };
  for (let hop = 0; ; hop++) {
    const res = await once(target, method, headers, body, init.signal);
    const location = res.headers.location;
    if (res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && location) {
      res.resume();
      if (hop >= MAX_REDIRECTS)
        throw new TypeError('fetch failed', { cause: new Error('redirect count exceeded') });
      const next = new URL(location, target);
      if (
        res.statusCode === 303 ||
        ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')
      ) {
        method = 'GET';
        body = undefined;
        headers = Object.fromEntries(
          Object.entries(headers).filter(
            ([k]) => !/^content-(type|length|encoding|language|location)$/i.test(k),
          ),
        );
      }
      if (next.origin !== target.origin)
        headers = Object.fromEntries(
          Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'),
        );
      target = next;
      continue;
    }
    const text = await readAll(res, init.signal);
    const status = res.statusCode ?? 0;
    return {
      ok: status >= 200 && status < 300,
      status,
      headers: {
        get: (name) => {
          const v = res.headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        },
      },
      text: async () => text,
    };
  }
};

async function once(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError('fetch failed', { cause: new Error(`unsupported scheme ${url.protocol}`) });
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const req = request(url, {
      method,
      headers: {
        ...headers,
        ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
      },
    });
    const onAbort = (): void => {
      req.destroy();
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(res);
    });
    req.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? signal.reason : error);
    });
    req.end(body);
  });
}

function readAll(res: IncomingMessage, signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onAbort = (): void => {
      res.destroy();
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? signal.reason : error);
    });
  });
}
