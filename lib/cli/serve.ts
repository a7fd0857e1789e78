/**
 * `vend serve <entitlement>`: a container credential endpoint on 127.0.0.1, the one the AWS CLI and
 * SDKs read through `AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
 *
 * Only `GET /creds` with an `Authorization` header equal to the token (compared in constant time)
 * gets credentials: `{AccessKeyId, SecretAccessKey, Token, Expiration}` (the container provider's
 * field names: `Token`, not `SessionToken`). Missing header → 401, wrong token → 403, both as
 * `{Code, Message}`. Credentials are fetched at start (so a refusal shows at once) and again when a
 * request comes within 5 minutes of their expiry; concurrent requests share one vend.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CACHE_REFRESH_WINDOW_MS } from './cache';
import type { Credentials } from './types';

/** Options of {@link startCredentialServer}. */
export interface CredentialServerOptions {
  /** Vends fresh credentials (the CLI calls the vend API). */
  vend: () => Promise<Credentials>;
  /** Default 0: the system picks a free port. */
  port?: number;
  /** Default a random 32-byte base64url value. */
  token?: string;
  now?: () => Date;
  /** Told (one line, no secrets) when a vend for a request fails. */
  onError?: (error: unknown) => void;
}

/** A running endpoint. */
export interface CredentialServer {
  /** `http://127.0.0.1:PORT/creds` */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time equality of two strings of any length (compared as SHA-256 digests). */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * Starts the endpoint; resolves once it listens and the first credentials are in hand.
 *
 * @example
 * const server = await startCredentialServer({ vend: async () => (await client.vend({ entitlement })).credentials });
 * console.log(`export AWS_CONTAINER_CREDENTIALS_FULL_URI=${server.url}`);
 */
export async function startCredentialServer(opts: CredentialServerOptions): Promise<CredentialServer> {
  const now = opts.now ?? (() => new Date());
  const token = opts.token ?? randomBytes(32).toString('base64url');
  let current = await opts.vend();
  let inFlight: Promise<Credentials> | undefined;

  const fresh = async (): Promise<Credentials> => {
    if (Date.parse(current.Expiration) - CACHE_REFRESH_WINDOW_MS > now().getTime()) return current;
    inFlight ??= opts.vend().finally(() => {
      inFlight = undefined;
    });
    current = await inFlight;
    return current;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/creds')
      return send(res, 404, { Code: 'NotFound', Message: 'the credentials are at /creds' });
    if (req.method !== 'GET') return send(res, 405, { Code: 'MethodNotAllowed', Message: 'use GET' });
    const given = req.headers.authorization;
    if (given === undefined || given === '') {
      return send(res, 401, { Code: 'Unauthorized', Message: 'the Authorization header is missing' });
    }
    if (!tokensEqual(given, token))
      return send(res, 403, {
        Code: 'AccessDenied',
        Message: "the Authorization token is not this server's",
      });
    try {
      const c = await fresh();
      send(res, 200, {
        AccessKeyId: c.AccessKeyId,
        SecretAccessKey: c.SecretAccessKey,
        Token: c.SessionToken,
        Expiration: c.Expiration,
      });
    } catch (error) {
      opts.onError?.(error);
      send(res, 503, {
        Code: 'ServiceUnavailable',
        Message: 'vend could not vend fresh credentials; see the vend serve output',
      });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { Code: 'InternalError', Message: 'unexpected error' }));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/creds`,
    port,
    token,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
