/**
 * The CLI's HTTP transport (lib/cli/http.ts) against real loopback servers: it must answer as the
 * `fetch` it replaces would, for everything the client reads: status, headers, body, redirects
 * (method, body and `authorization` across origins), timeouts and refused connections.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkReason } from '../../../lib/cli/errors';
import { httpSend } from '../../../lib/cli/http';

interface Seen {
  method?: string;
  url?: string;
  body: string;
  authorization?: string;
  contentType?: string;
}

const seen: Seen[] = [];
let main: Server;
let other: Server;
let base: string;
let otherBase: string;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

async function record(req: IncomingMessage): Promise<Seen> {
  let body = '';
  for await (const chunk of req) body += chunk;
  const s: Seen = {
    method: req.method,
    url: req.url,
    body,
    authorization: req.headers.authorization,
    contentType: req.headers['content-type'],
  };
  seen.push(s);
  return s;
}

beforeAll(async () => {
  other = createServer(async (req, res) => {
    await record(req);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"at":"other"}');
  });
  otherBase = await listen(other);
  main = createServer(async (req, res) => {
    await record(req);
    const path = req.url ?? '';
    if (path === '/ok') return res.writeHead(201, { 'retry-after': '7', 'x-two': ['a', 'b'] }).end('héllo');
    if (path === '/slow') return setTimeout(() => res.writeHead(200).end('late'), 2_000);
    const redirect = /^\/r(\d{3})(-away)?$/.exec(path);
    if (redirect) {
      const to = redirect[2] ? `${otherBase}/landed` : '/landed';
      return res.writeHead(Number(redirect[1]), { location: to }).end();
    }
    if (path === '/loop') return res.writeHead(302, { location: '/loop' }).end();
    res.writeHead(404).end('{"code":"nope"}');
  });
  base = await listen(main);
});
afterAll(async () => {
  await new Promise((r) => main.close(r));
  await new Promise((r) => other.close(r));
});

const post = (path: string, extra: Record<string, string> = {}) =>
  httpSend(new URL(path, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer t0k', ...extra },
    body: '{"a":"é"}',
  });

describe('httpSend', () => {
  it('sends method, headers and body; reads status, headers and the whole body', async () => {
    seen.length = 0;
    const res = await post('/ok');

    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.headers.get('Retry-After')).toBe('7');
    expect(res.headers.get('x-two')).toBe('a, b');
    expect(res.headers.get('x-missing')).toBeNull();
    expect(await res.text()).toBe('héllo');
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/ok',
        body: '{"a":"é"}',
        authorization: 'Bearer t0k',
        contentType: 'application/json',
      },
    ]);
  });

  it('a non-2xx answer is an answer, not an error', async () => {
    const res = await httpSend(new URL('/missing', base), {});

    expect(res.ok).toBe(false);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('{"code":"nope"}');
  });

  it('307 and 308 repeat the POST with its body; 303, and 301/302 after a POST, become a GET without one', async () => {
    const landed: Record<string, Seen | undefined> = {};
    for (const code of ['307', '308', '303', '301', '302']) {
      seen.length = 0;
      const res = await post(`/r${code}`);
      expect(res.status).toBe(404); // /landed is not a route: the final answer is returned
      landed[code] = seen.at(-1);
    }

    for (const code of ['307', '308'])
      expect(landed[code]).toMatchObject({ method: 'POST', body: '{"a":"é"}' });
    for (const code of ['303', '301', '302']) {
      expect(landed[code]).toMatchObject({ method: 'GET', body: '', url: '/landed' });
      expect(landed[code]?.contentType).toBeUndefined();
    }
  });

  it('keeps authorization on a same-origin redirect and drops it when the redirect leaves the origin', async () => {
    seen.length = 0;
    await post('/r307');
    const same = seen.at(-1);
    seen.length = 0;
    const away = await post('/r307-away');

    expect(same?.authorization).toBe('Bearer t0k');
    expect(await away.text()).toBe('{"at":"other"}');
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/landed', authorization: undefined });
  });

  it('gives up after 20 redirects', async () => {
    const error = await httpSend(new URL('/loop', base), {}).catch((e: unknown) => e);

    expect(networkReason(error)).toBe('redirect count exceeded');
  });

  it('a timeout rejects with the signal’s TimeoutError ("timed out"); a closed port with ECONNREFUSED', async () => {
    const timeout = await httpSend(new URL('/slow', base), { signal: AbortSignal.timeout(50) }).catch(
      (e: unknown) => e,
    );
    const probe = createServer();
    const closed = await listen(probe);
    await new Promise((r) => probe.close(r));
    const refused = await httpSend(new URL('/', closed), {}).catch((e: unknown) => e);

    expect((timeout as Error).name).toBe('TimeoutError');
    expect(networkReason(timeout)).toBe('timed out');
    expect(networkReason(refused)).toBe('connection refused');
  });
});
