/**
 * The local AWS endpoint (CONTRACT §2): one HTTP server that real clients reach through
 * `AWS_ENDPOINT_URL`. Routing, in order:
 *  1. `X-Amz-Target: DynamoDB_20120810.*` → dynalite, after SigV4 (`dynamodb`);
 *     `X-Amz-Target: TrentService.*` → the local KMS (../kms), after SigV4 (`kms`);
 *  2. a mount prefix (`/oidc`, `/slack`, …) → that mount's handler;
 *  3. `POST /_local/iam/simulate`, `GET /_local/iam/roles`, `GET /_local/health` → local-only
 *     endpoints;
 *  4. a request signed for `iam` → the IAM Query API (infra/local/iam-api);
 *  5. any other POST, or a GET with `Action=` → STS (Query protocol, SigV4 `sts`).
 * Every AWS request is verified by one verifier whose expected scope is the endpoint's region and
 * the service the request is routed to (`signingNameOf`), so a signature for another region or
 * service is refused as AWS refuses it. IAM is global: its scope must name `us-east-1` and `iam`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Policy } from '../../../lib/iam/types';
import type { IamStore } from '../iam/store';
import { UnknownPrincipalError } from '../iam/store';
import { createIamHandler, isIamRequest } from '../iam-api/handler';
import { createKmsHandler, isKmsRequest } from '../kms/handler';
import { LocalKms } from '../kms/keyring';
import { endpointVerifier } from '../sigv4/verify';
import { createStsHandler } from '../sts/handler';
import type { RawRequest, RawResponse } from '../types';
import { startDynamo } from './dynamodb';
import { createDynamoFaults, registerDynamoFaults } from './faults';

export type Mount = (req: RawRequest) => Promise<RawResponse>;

export interface AwsEndpointOptions {
  port: number;
  host?: string;
  /** dynalite's LevelDB directory; undefined keeps DynamoDB in memory. */
  dataDir?: string;
  store: IamStore;
  /** Path prefix (e.g. `/oidc`) → handler. The handler sees the full path. */
  mounts?: Record<string, Mount>;
  now?: () => Date;
  /** The region every signature must be scoped to (default `us-east-1`, the stack's region). */
  region?: string;
  /** The local KMS keyring; default an empty one in memory (us-east-1). */
  kms?: LocalKms;
}

export interface AwsEndpoint {
  url: string;
  port: number;
  /** Test hook: take the DynamoDB backend down and bring it back (see {@link DynamoOutage}). */
  dynamo: DynamoOutage;
  close(): Promise<void>;
}

/**
 * Test hook for the reliability suites (test/faults): `stop()` makes the endpoint drop every
 * DynamoDB connection as a killed process would (the client sees a reset socket, never an answer),
 * `start()` serves again. dynalite itself keeps running, so its data (in memory or on disk) is
 * exactly what it was: a restart loses nothing, as DynamoDB's durability promises.
 */
export interface DynamoOutage {
  stop(): void;
  start(): void;
  readonly running: boolean;
}

// Endpoints by URL, so a test that only holds the stack's awsUrl can reach the hook
// (the stack does not expose its endpoint object).
const outages = new Map<string, DynamoOutage>();

/**
 * The DynamoDB outage hook of the endpoint listening at `url` in this process.
 *
 * @example
 * const dynamo = dynamoOutageFor(stack.awsUrl);
 * dynamo?.stop(); // … requests fail with 503 …
 * dynamo?.start();
 */
export function dynamoOutageFor(url: string): DynamoOutage | undefined {
  return outages.get(url.replace(/\/+$/, ''));
}

/** The requested port is taken; the message names the port. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(`port ${port} is already in use`, options);
    this.name = 'PortInUseError';
  }
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Headers lowercased; repeats joined with ',' as SigV4 canonicalisation expects. */
function rawHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    out[name] = name in out ? `${out[name]},${value}` : value;
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(status: number, body: unknown, now: Date): RawResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', date: now.toUTCString() },
    body: JSON.stringify(body),
  };
}

function send(res: ServerResponse, out: RawResponse): void {
  const body = typeof out.body === 'string' ? Buffer.from(out.body, 'utf8') : out.body;
  const headers: Record<string, string> = { ...out.headers, 'content-length': String(body.length) };
  res.writeHead(out.status, headers);
  res.end(body);
}

/**
 * Starts the endpoint. Port 0 picks a free port (tests).
 *
 * @example
 * const aws = await startAwsEndpoint({ port: 4566, store, dataDir: '.vend/dynamodb' });
 * // AWS_ENDPOINT_URL=aws.url aws sts get-caller-identity
 * await aws.close();
 * @throws PortInUseError when the port is taken.
 */
export async function startAwsEndpoint(opts: AwsEndpointOptions): Promise<AwsEndpoint> {
  const clock = opts.now ?? opts.store.now;
  const host = opts.host ?? '127.0.0.1';
  const verify = endpointVerifier({
    region: opts.region ?? 'us-east-1',
    lookup: (id) => opts.store.lookupAccessKey(id),
  });
  const sts = createStsHandler(opts.store, { now: clock, verify });
  const iam = createIamHandler(opts.store, { now: clock });
  const kms = createKmsHandler(opts.kms ?? (await LocalKms.open({ region: 'us-east-1' })), opts.store, {
    now: clock,
    verify,
  });
  const dynamo = await startDynamo(opts.dataDir, verify);
  const mounts = Object.entries(opts.mounts ?? {}).sort((a, b) => b[0].length - a[0].length);
  // Test hook (./faults.ts): DynamoDB errors answered over the wire, behind the client's retries.
  const dynamoFaults = createDynamoFaults();

  const route = async (raw: RawRequest): Promise<RawResponse> => {
    const now = clock();
    if ((raw.headers['x-amz-target'] ?? '').startsWith('DynamoDB_'))
      return dynamoFaults.answer(raw, now) ?? dynamo.handle(raw, now);
    if (isKmsRequest(raw)) return kms(raw);
    for (const [prefix, handler] of mounts) {
      const p = prefix.replace(/\/$/, '');
      if (raw.path === p || raw.path.startsWith(`${p}/`)) return handler(raw);
    }
    if (raw.path === '/_local/health' && raw.method === 'GET') return json(200, { status: 'ok' }, now);
    if (raw.path === '/_local/iam/roles') {
      if (raw.method !== 'GET') return json(405, { message: 'use GET' }, now);
      return json(200, worldRoles(opts.store), now);
    }
    if (raw.path === '/_local/iam/simulate') {
      if (raw.method !== 'POST') return json(405, { message: 'use POST' }, now);
      return simulate(opts.store, raw, now);
    }
    if (isIamRequest(raw)) return iam(raw);
    if (raw.method === 'POST' || /(^|&)Action=/.test(raw.query)) return sts(raw);
    return json(404, { message: `nothing at ${raw.method} ${raw.path}` }, now);
  };

  let dynamoRunning = true;
  const server = createServer((req, res) => {
    if (!dynamoRunning && String(req.headers['x-amz-target'] ?? '').startsWith('DynamoDB_')) {
      req.socket.destroy();
      return;
    }
    readBody(req)
      .then((body) => {
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        return route({
          method: req.method ?? 'GET',
          path: q === -1 ? url : url.slice(0, q),
          query: q === -1 ? '' : url.slice(q + 1),
          headers: rawHeaders(req),
          body,
          sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        });
      })
      .then((out) => send(res, out))
      .catch(() => {
        // Never echo internals (they may hold request data); the client sees a plain 500.
        if (!res.headersSent)
          send(res, json(500, { message: 'internal error in the local AWS endpoint' }, clock()));
        else res.destroy();
      });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await dynamo.close().catch(() => undefined);
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new PortInUseError(opts.port, { cause: err });
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  const outage: DynamoOutage = {
    stop: () => {
      dynamoRunning = false;
    },
    start: () => {
      dynamoRunning = true;
    },
    get running() {
      return dynamoRunning;
    },
  };
  outages.set(url, outage);
  registerDynamoFaults(url, dynamoFaults);
  return {
    url,
    port,
    dynamo: outage,
    close: async () => {
      outages.delete(url);
      registerDynamoFaults(url, undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dynamo.close();
    },
  };
}

/** `POST /_local/iam/simulate`: the effective-permission check (local only). */
function simulate(store: IamStore, raw: RawRequest, now: Date): RawResponse {
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(raw.body.toString('utf8'));
  } catch {
    return json(400, { message: 'body must be JSON' }, now);
  }
  if (input === null || typeof input !== 'object')
    return json(400, { message: 'body must be a JSON object' }, now);
  const { accessKeyId, principalArn, action, resource, context } = input;
  if (typeof action !== 'string' || typeof resource !== 'string') {
    return json(400, { message: 'action and resource are required strings' }, now);
  }
  if (typeof accessKeyId !== 'string' && typeof principalArn !== 'string') {
    return json(400, { message: 'accessKeyId or principalArn is required' }, now);
  }
  try {
    const r = store.simulate({
      ...(typeof accessKeyId === 'string' && { accessKeyId }),
      ...(typeof principalArn === 'string' && { principalArn }),
      action,
      resource,
      ...(context !== null && typeof context === 'object' && { context: context as Record<string, string> }),
    });
    return json(
      200,
      { decision: r.decision, matched: r.matched, principal: r.principal, decidedBy: r.decidedBy },
      now,
    );
  } catch (err) {
    if (err instanceof UnknownPrincipalError) return json(404, { message: err.message }, now);
    throw err;
  }
}

/** A parsed policy back as a JSON policy document (every value an array, as normalised). */
function policyDocument(policy: Policy): Record<string, unknown> {
  return {
    Version: policy.version,
    Statement: policy.statements.map((st) => ({
      ...(st.sid !== undefined && { Sid: st.sid }),
      Effect: st.effect,
      ...(st.principal && { Principal: st.principal }),
      ...(st.notPrincipal && { NotPrincipal: st.notPrincipal }),
      ...(st.action && { Action: st.action }),
      ...(st.notAction && { NotAction: st.notAction }),
      ...(st.resource && { Resource: st.resource }),
      ...(st.notResource && { NotResource: st.notResource }),
      ...(st.condition && { Condition: st.condition }),
    })),
  };
}

/**
 * `GET /_local/iam/roles`: the world's roles in the world layout (docs/local-aws.md), for
 * `vend lint-trust --endpoint`. Local only; holds no secrets beyond the demo ExternalIds that the
 * world file itself publishes.
 */
function worldRoles(store: IamStore): Record<string, unknown> {
  return {
    roles: [...store.world.roles.values()].map((r) => ({
      arn: r.arn,
      maxSessionDuration: r.maxSessionDuration,
      tags: r.tags,
      trustPolicy: policyDocument(r.trustPolicy),
      policies: r.identityPolicies.map((p) => ({ name: p.name, document: policyDocument(p) })),
    })),
  };
}
