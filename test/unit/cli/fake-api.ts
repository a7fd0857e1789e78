/**
 * An in-process stand-in for the vend API and OIDC issuer (node:http on 127.0.0.1:0) for the CLI's
 * unit tests: each test scripts the answers per `METHOD /path` and reads back what was sent.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Reply = { status?: number; body?: unknown; headers?: Record<string, string> };
export type Handler = (req: Seen) => Reply | Promise<Reply>;

export interface FakeApi {
  url: string;
  seen: Seen[];
  on(route: string, handler: Handler | Reply): void;
  close(): Promise<void>;
}

export async function startFakeApi(): Promise<FakeApi> {
  const routes = new Map<string, Handler>();
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const s: Seen = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    };
    seen.push(s);
    const h = routes.get(`${s.method} ${s.path}`);
    const reply = h ? await h(s) : { status: 404, body: { message: 'Not Found' } };
    const problem =
      (reply.status ?? 200) >= 400 && reply.body && typeof reply.body === 'object' && 'code' in reply.body;
    res.writeHead(reply.status ?? 200, {
      'content-type': problem ? 'application/problem+json' : 'application/json',
      ...reply.headers,
    });
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    on: (route, handler) => routes.set(route, typeof handler === 'function' ? handler : () => handler),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A vend response body with the given expiry. */
export function vendBody(opts: { entitlement?: string; accessKeyId?: string; expiration: string }) {
  return {
    credentials: {
      AccessKeyId: opts.accessKeyId ?? 'ASIAFAKEFAKEFAKE0001',
      SecretAccessKey: 'secret/with+chars=',
      SessionToken: 'session-token-value',
      Expiration: opts.expiration,
    },
    entitlement: opts.entitlement ?? 'prod-readonly',
    roleArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
    assumedRoleArn: 'arn:aws:sts::444455556666:assumed-role/ProdReadOnly/vend-x',
    sourceIdentity: 'alice',
    durationSeconds: 900,
    auditId: 'a-1',
  };
}

/** An unsigned JWT-shaped token with the given claims (the CLI only decodes, the server verifies). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64(claims)}.sig`;
}
