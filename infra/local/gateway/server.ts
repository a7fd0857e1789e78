/**
 * The local API Gateway: an HTTP server that takes its routes and authorizers from serverless.yml,
 * authorizes like API Gateway (./authorizers), builds payload-2.0 events (./event), runs the real
 * handlers in-process (./invoke) and maps their results (./result).
 *
 * Outside `/v1/`, GET and HEAD that match no route get the web console (./static.ts), as CloudFront
 * serves it beside the API in AWS.
 *
 * Gateway-generated answers: unknown route 404 `{"message":"Not Found"}`; body over 10 MB 413
 * `{"message":"Request Entity Too Large"}`; handler error, timeout or unmappable result 500
 * `{"message":"Internal Server Error"}`. Every response carries `apigw-requestid`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { RawRequest } from '../types';
import {
  type AuthOutcome,
  authorizeIam,
  authorizeJwt,
  type GatewayKeyStore,
  type JwksSource,
  keyResolver,
} from './authorizers';
import { buildEvent, lambdaContext, newRequestId } from './event';
import { FunctionRunner } from './invoke';
import { type GatewayResponse, gatewayError, mapResult } from './result';
import { compileRoutes, matchRoute } from './routes';
import { loadServerless, ServerlessConfigError, type ServiceDef } from './serverless';
import { createWebApp } from './static';

/** HTTP API's payload limit. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** The port is taken. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(`port ${port} is in use`, options);
    this.name = 'PortInUseError';
  }
}

export interface GatewayOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  serverlessFile: string;
  /** The local IAM store: SigV4 keys and `execute-api:Invoke` decisions. */
  store: GatewayKeyStore;
  /**
   * Keys for JWT authorizers. Issuer and audience come from serverless.yml; when given here they
   * must agree with it (a mismatch fails at start instead of 401ing every request).
   */
  jwt: { jwks: JwksSource; issuer?: string; audience?: string };
  /** Handler environment (merged over serverless.yml's) and `${env:…}` values. */
  env: Record<string, string>;
  now?: () => Date;
  /** One line per request (`GET /v1/health 200 3ms`); silent by default. */
  log?: (line: string) => void;
  stage?: string;
  accountId?: string;
  /**
   * The web console's built files (default `<serverless.yml's dir>/dist/web`), served at `/`; `false`
   * serves none. It signs in at the issuer of serverless.yml's JWT authorizer.
   */
  webDir?: string | false;
}

export interface Gateway {
  url: string;
  port: number;
  service: ServiceDef;
  apiId: string;
  close(): Promise<void>;
}

/** 10 lowercase base-32 characters derived from the service and stage, stable across restarts. */
export function apiIdFor(service: string, stage: string): string {
  const digest = createHash('sha256').update(`${service}/${stage}`).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return [...digest.subarray(0, 10)].map((b) => alphabet[b % 32]).join('');
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    out[name] = name in out ? `${out[name]},${value}` : value;
  }
  return out;
}

/** Reads the body, or returns undefined once it passes the limit (and stops reading). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: GatewayResponse, requestId: string): void {
  res.statusCode = response.status;
  for (const [k, v] of Object.entries(response.headers)) res.setHeader(k, v);
  res.setHeader('apigw-requestid', requestId);
  res.setHeader('content-length', response.body.length);
  res.end(response.body);
}

/**
 * Starts the gateway.
 *
 * @example
 * const gw = await startGateway({ port: 4000, serverlessFile: 'serverless.yml', store, jwt: { jwks: oidc.jwks }, env });
 * await fetch(`${gw.url}/v1/health`);
 */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const now = opts.now ?? (() => new Date());
  const host = opts.host ?? '127.0.0.1';
  const env = { ...(process.env as Record<string, string | undefined>), ...opts.env };
  const service = loadServerless(opts.serverlessFile, { env, stage: opts.stage, accountId: opts.accountId });
  for (const a of service.authorizers.values()) {
    if (opts.jwt.issuer !== undefined && a.issuer !== opts.jwt.issuer) {
      throw new ServerlessConfigError(
        `serverless.yml authorizer ${a.name}: issuerUrl is ${a.issuer} but the local issuer is ${opts.jwt.issuer}`,
      );
    }
    if (opts.jwt.audience !== undefined && !a.audience.includes(opts.jwt.audience)) {
      throw new ServerlessConfigError(
        `serverless.yml authorizer ${a.name}: audience ${a.audience.join(',')} does not include ${opts.jwt.audience}`,
      );
    }
  }
  const apiId = apiIdFor(service.service, service.stage);
  const routes = compileRoutes(service.routes);
  const keys = keyResolver(opts.jwt.jwks);
  const runner = new FunctionRunner(service.rootDir);
  // Handlers read their configuration from process.env (Lambda's model). One process hosts all of
  // them, so the environment is shared; vend's functions take theirs from provider.environment.
  // Every function's environment is applied at start too, so code that shares the process with the
  // handlers (the test suites' fault injectors on lib/wiring/clients.ts) sees the same configuration a
  // cold-started function would.
  for (const fn of service.functions.values()) {
    Object.assign(fn.environment, opts.env);
    Object.assign(process.env, fn.environment);
  }
  Object.assign(process.env, opts.env);
  const log = opts.log ?? (() => {});
  const issuer = [...service.authorizers.values()][0]?.issuer;
  const web =
    opts.webDir === false || !issuer
      ? undefined
      : createWebApp({
          dir: opts.webDir ?? join(service.rootDir, 'dist', 'web'),
          issuer,
          auditorsGroup: service.functions.get('audit')?.environment.VEND_AUDITORS_GROUP || undefined,
        });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const requestId = newRequestId();
    const at = now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const method = (req.method ?? 'GET').toUpperCase();
    let detail = '';
    const finish = (response: GatewayResponse): void => {
      send(res, response, requestId);
      log(`${method} ${path} ${response.status} ${Date.now() - started}ms${detail ? ` ${detail}` : ''}`);
    };

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      res.setHeader('connection', 'close');
      finish(gatewayError(413, 'Request Entity Too Large'));
      req.resume();
      return;
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    if (!body) {
      res.setHeader('connection', 'close');
      finish(gatewayError(413, 'Request Entity Too Large'));
      return;
    }
    const match = matchRoute(routes, method, path);
    if (!match) {
      finish((await web?.(method, path)) ?? gatewayError(404, 'Not Found'));
      return;
    }
    const route = match.route;
    const raw: RawRequest = {
      method,
      path,
      query,
      headers: headersOf(req),
      body,
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
    };
    let outcome: AuthOutcome = { ok: true };
    if (route.auth.type === 'aws_iam') {
      outcome = authorizeIam(raw, {
        store: opts.store,
        now: at,
        region: service.region,
        accountId: service.accountId,
        apiId,
      });
    } else if (route.auth.type === 'jwt') {
      outcome = await authorizeJwt(raw, route.auth, { keys, now: at });
    }
    detail = outcome.detail ?? '';
    if (!outcome.ok) {
      finish(outcome.response);
      return;
    }
    const fn = service.functions.get(route.functionKey)!;
    const event = buildEvent({
      ...raw,
      port: req.socket.localPort ?? 0,
      routeKey: route.routeKey,
      pathParameters: match.pathParameters,
      authorizer: outcome.authorizer,
      apiId,
      accountId: service.accountId,
      requestId,
      now: at,
    });
    try {
      const context = lambdaContext(fn, {
        region: service.region,
        accountId: service.accountId,
        nowMs: () => now().getTime(),
      });
      const result = await runner.invoke(fn, event, context);
      finish(mapResult(result));
    } catch (error) {
      // What API Gateway shows when the function fails; the cause goes to the local log only.
      detail = `${fn.key}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      finish(gatewayError(500, 'Internal Server Error'));
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, gatewayError(500, 'Internal Server Error'), newRequestId());
      log(`gateway error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(opts.port, { cause: error }) : error),
    );
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    service,
    apiId,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
