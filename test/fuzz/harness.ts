/**
 * The fuzz harness: sends one generated request to a route of the local stack either through the
 * real gateway over HTTP keep-alive (authorizers included) or by invoking the same in-process
 * handler module with the event the gateway would build (infra/local/gateway/event.ts, the
 * authorizer block the gateway's authorizers produce for the same caller). Both answer the same
 * {@link Outcome}, which the properties judge.
 *
 * Why two doors: the gateway costs a SigV4 or JWT verification and an HTTP round trip per case;
 * running every case through it would take minutes on the 2-core CI machine. The first
 * `FUZZ_GATEWAY_RUNS` cases of each route go through the gateway (so the HTTP layer, header joining
 * and the base64 decision of the gateway are fuzzed too), the rest are invoked directly, where the
 * event can also be mutated beyond what HTTP can carry (a wrong `isBase64Encoded` flag).
 */
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Context } from 'aws-lambda';
import { decodeJwt } from 'jose';
import { renderClaim } from '../../infra/local/gateway/authorizers';
import { buildEvent, type EventAuthorizer, newRequestId } from '../../infra/local/gateway/event';
import { mapResult } from '../../infra/local/gateway/result';
import { REGION } from '../../infra/local/stack';
import type { StackHandle } from '../support/stack';

/** How a route authenticates its caller. */
export type Auth =
  | { kind: 'sigv4'; profile: string }
  | { kind: 'jwt'; user: string }
  | { kind: 'slack' }
  | { kind: 'none' };

/** One route of serverless.yml and how to reach its handler directly. */
export interface Route {
  method: 'GET' | 'POST';
  /** The route key's path, e.g. `/v1/requests/{id}/approve`. */
  path: string;
  /** `functions/<module>.handler`. */
  module: 'health' | 'credentials' | 'entitlements' | 'requests' | 'audit' | 'slack' | 'sessions';
}

/** One generated request. */
export interface FuzzRequest {
  /** Path parameters (`id`), already chosen. */
  params?: Record<string, string>;
  /** Raw query string (without `?`). */
  query?: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body?: Buffer;
  /** Direct invocation only: flip the event's isBase64Encoded after it was built. */
  flipBase64?: boolean;
}

/** What came back. */
export interface Outcome {
  via: 'gateway' | 'direct';
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const context = (): Context =>
  ({
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'vend-dev-fuzz',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:222233334444:function:vend-dev-fuzz',
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/vend-dev-fuzz',
    logStreamName: 'fuzz',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

/** Builds the two doors for one stack; call inside tests (after the stack started). */
export async function fuzzHarness(stack: StackHandle) {
  const apiUrl = new URL(stack.apiUrl);
  // One keep-alive pool for the whole fuzz, as a client SDK would hold.
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const handlers = new Map<string, Handler>();
  const handlerOf = async (module: Route['module']): Promise<Handler> => {
    let h = handlers.get(module);
    if (!h) {
      const mod = (await import(`../../functions/${module}.ts`)) as { handler: Handler };
      h = mod.handler;
      handlers.set(module, h);
    }
    return h;
  };

  // The IAM authorizer block API Gateway builds for a profile: from the caller's own identity.
  const iamBlocks = new Map<string, EventAuthorizer>();
  const iamBlock = async (profile: string): Promise<EventAuthorizer> => {
    const known = iamBlocks.get(profile);
    if (known) return known;
    const creds = stack.credentials(profile);
    const client = new STSClient({ region: REGION, endpoint: stack.awsUrl, credentials: creds });
    const me = await client.send(new GetCallerIdentityCommand({}));
    client.destroy();
    const block = {
      iam: {
        accessKey: creds.accessKeyId,
        accountId: me.Account!,
        callerId: me.UserId!,
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: me.Arn!,
        userId: me.UserId!,
      },
    } as unknown as EventAuthorizer;
    iamBlocks.set(profile, block);
    return block;
  };

  const tokens = new Map<string, string>();
  const token = async (user: string): Promise<string> => {
    let t = tokens.get(user);
    if (!t) {
      t = await stack.token(user);
      tokens.set(user, t);
    }
    return t;
  };
  const jwtBlock = async (user: string): Promise<EventAuthorizer> => {
    const claims = Object.fromEntries(
      Object.entries(decodeJwt(await token(user))).map(([k, v]) => [k, renderClaim(v)]),
    );
    return { jwt: { claims, scopes: null } } as unknown as EventAuthorizer;
  };

  const pathOf = (route: Route, req: FuzzRequest): string =>
    route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(req.params?.[name] ?? 'x'));

  async function viaGateway(route: Route, auth: Auth, req: FuzzRequest): Promise<Outcome> {
    const path = pathOf(route, req);
    const url = new URL(`${path}${req.query ? `?${req.query}` : ''}`, apiUrl);
    let headers: Record<string, string> = { ...req.headers };
    if (auth.kind === 'jwt') headers.authorization = `Bearer ${await token(auth.user)}`;
    if (auth.kind === 'sigv4') {
      const signer = new SignatureV4({
        service: 'execute-api',
        region: REGION,
        credentials: stack.credentials(auth.profile),
        sha256: Sha256,
      });
      const query: Record<string, string | string[]> = {};
      for (const [k, v] of url.searchParams) {
        const prior = query[k];
        query[k] = prior === undefined ? v : [prior, v].flat();
      }
      const signed = await signer.sign({
        method: route.method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query,
        headers: { host: url.host, ...headers },
        body: req.body,
      });
      headers = signed.headers;
    }
    // node:http, not fetch: fetch refuses a GET with a body, which API Gateway accepts.
    return new Promise<Outcome>((resolve, reject) => {
      const out = httpRequest(
        url,
        {
          method: route.method,
          agent,
          headers: { ...headers, 'content-length': String(req.body?.length ?? 0) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = String(v);
            resolve({
              via: 'gateway',
              status: res.statusCode ?? 0,
              headers: h,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(req.body);
    });
  }

  async function direct(route: Route, auth: Auth, req: FuzzRequest): Promise<Outcome> {
    const path = pathOf(route, req);
    const authorizer =
      auth.kind === 'sigv4'
        ? await iamBlock(auth.profile)
        : auth.kind === 'jwt'
          ? await jwtBlock(auth.user)
          : undefined;
    const headers: Record<string, string> = { host: apiUrl.host, ...req.headers };
    if (auth.kind === 'jwt') headers.authorization = `Bearer ${await token(auth.user)}`;
    const event = buildEvent({
      method: route.method,
      path,
      query: req.query ?? '',
      headers,
      body: req.body ?? Buffer.alloc(0),
      sourceIp: '127.0.0.1',
      port: Number(apiUrl.port),
      routeKey: `${route.method} ${route.path}`,
      pathParameters: Object.fromEntries(
        [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, req.params?.[m[1]!] ?? 'x']),
      ),
      ...(authorizer ? { authorizer } : {}),
      apiId: 'fuzzapi',
      accountId: '222233334444',
      requestId: newRequestId(),
      now: new Date(),
    });
    if (req.flipBase64 && event.body !== undefined) event.isBase64Encoded = !event.isBase64Encoded;
    const result = await (await handlerOf(route.module))(event, context());
    const mapped = mapResult(result);
    return {
      via: 'direct',
      status: mapped.status,
      headers: Object.fromEntries(
        Object.entries(mapped.headers).map(([k, v]) => [k.toLowerCase(), String(v)]),
      ),
      body: mapped.body.toString('utf8'),
    };
  }

  return {
    /** Sends one request through the chosen door. */
    send: (door: 'gateway' | 'direct', route: Route, auth: Auth, req: FuzzRequest) =>
      door === 'gateway' ? viaGateway(route, auth, req) : direct(route, auth, req),
    /** The person token the harness uses for `user` (for secret checks). */
    token,
    close: () => agent.destroy(),
  };
}
