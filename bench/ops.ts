/**
 * The operations the benchmark times, all against one running local stack:
 * - {@link vendOperation}: one vend end to end, SigV4-signed as the `ci` profile (the way the vend
 *   CLI signs), through the local API Gateway, its IAM authorizer and the real handler;
 * - {@link baselineOperation}: the backend calls one vend makes (entitlement GetItem, the two
 *   rate-limit counter UpdateItems, audit intent PutItem, AssumeRole, audit issued PutItem), made
 *   directly one after another with vend's own SDK clients (lib/wiring/clients.ts), with the same
 *   parameters' shapes;
 * - {@link limiterOperation}: what the rate limiter costs a vend, alone: the use case's own
 *   `enforceRateLimits` over the real counter store (two conditional UpdateItems);
 * - the parts of vend's overhead that the gateway adds, timed alone (client signing, the IAM
 *   authorizer, an HTTP round trip to `GET /v1/health`), to explain the ratio.
 */
import { Agent, request } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { authorizeIam } from '../infra/local/gateway/authorizers';
import { apiIdFor } from '../infra/local/gateway/server';
import { REGION, type Stack } from '../infra/local/stack';
import type { RawRequest } from '../infra/local/types';
import { callerId } from '../lib/domain/caller';
import { vendLimits } from '../lib/domain/rate-limit';
import type { Caller } from '../lib/domain/types';
import { DynamoEntitlementStore } from '../lib/dynamodb/entitlement-store';
import { DynamoRateLimitStore } from '../lib/dynamodb/rate-limit-store';
import { enforceRateLimits } from '../lib/usecases/rate-limit';
import { BenchCallError, iamCaller, USER_AGENT, VEND_BODY, VEND_PATH } from './baseline';
import type { Operation } from './load';

export { BenchCallError, baselineOperation, VEND_BODY, VEND_PATH } from './baseline';

const PROFILE = 'ci';

function profileCredentials(stack: Stack) {
  const key = stack.keys[PROFILE];
  if (!key) throw new BenchCallError(`the stack has no ${PROFILE} profile`);
  return {
    key,
    credentials: {
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      sessionToken: key.sessionToken,
    },
  };
}

/** Signs one vend request as the `ci` profile; returns the URL, headers and body to send. */
export function vendSigner(
  stack: Stack,
): () => Promise<{ url: URL; headers: Record<string, string>; body: string }> {
  const { credentials } = profileCredentials(stack);
  const url = new URL(VEND_PATH, stack.apiUrl);
  const body = JSON.stringify(VEND_BODY);
  const signer = new SignatureV4({ service: 'execute-api', region: REGION, credentials, sha256: Sha256 });
  return async () => {
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'content-type': 'application/json', 'user-agent': USER_AGENT },
      body,
    });
    return { url, headers: signed.headers, body };
  };
}

// The client's HTTP stack: node:http with keep-alive, the stack the SDK's own handler uses for the
// baseline's calls, so both sides pay the same client costs. (fetch, i.e. undici, costs ~1–2 ms more
// CPU per request here, and in one process a client's CPU is latency the server appears to add.)
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function send(
  url: URL,
  init: { method: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method, headers: init.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** One vend end to end; succeeds only on 200 with credentials in the body. */
export function vendOperation(stack: Stack): Operation {
  const sign = vendSigner(stack);
  return async () => {
    const { url, headers, body } = await sign();
    const res = await send(url, { method: 'POST', headers, body });
    if (res.status !== 200) throw new BenchCallError(`vend answered ${res.status}`);
    if (!res.text.includes('"SessionToken"'))
      throw new BenchCallError('vend answered 200 without credentials');
  };
}

/** `GET /v1/health` through the gateway: the HTTP hop plus the smallest handler, no backend call. */
export function healthOperation(stack: Stack): Operation {
  const url = new URL('/v1/health', stack.apiUrl);
  return async () => {
    const res = await send(url, { method: 'GET' });
    if (res.status !== 200) throw new BenchCallError(`health answered ${res.status}`);
  };
}

/** The `ci` caller as the handler derives it from the IAM authorizer's context. */
export function ciCaller(stack: Stack): Caller {
  const { key } = profileCredentials(stack);
  return iamCaller(key.principal, key.accessKeyId);
}

/**
 * The rate limiter alone, as a vend runs it: `enforceRateLimits` with the real counter store on the
 * two counters of a `ci` vend of prod-readonly (its own limit, then the entitlement's). The stack
 * runs with limits no sample can reach, so every sample is two admitted conditional writes.
 */
export async function limiterOperation(caller: Caller): Promise<Operation> {
  const { dynamoDocuments } = await import('../lib/wiring/clients');
  const { config } = await import('../lib/config');
  const cfg = config();
  const entitlement = await new DynamoEntitlementStore(dynamoDocuments, cfg.tables.entitlements).get(
    VEND_BODY.entitlement,
  );
  if (!entitlement) throw new BenchCallError(`entitlement ${VEND_BODY.entitlement} is not seeded`);
  const limits = vendLimits(callerId(caller), entitlement, cfg.rateLimits);
  const deps = {
    limiter: new DynamoRateLimitStore(dynamoDocuments, cfg.tables.limits),
    now: () => new Date(),
    log: {
      error: (message: string) => {
        throw new BenchCallError(message);
      },
    },
  };
  return async () => {
    await enforceRateLimits(deps, limits);
  };
}

/** Client-side SigV4 signing of one vend request alone (what the vend CLI spends before sending). */
export function signOperation(stack: Stack): Operation {
  const sign = vendSigner(stack);
  return async () => {
    await sign();
  };
}

/**
 * The local gateway's IAM authorizer alone (SigV4 verification and the `execute-api:Invoke`
 * decision) on a freshly signed vend request. In AWS this work is API Gateway's, not vend's, but
 * locally it shares the CPU with everything else.
 */
export async function authorizerOperation(stack: Stack): Promise<Operation> {
  // Signed once: the verifier has no replay cache, and a signature stays valid for minutes, so
  // the timed part is the authorizer alone.
  const { url, headers, body } = await vendSigner(stack)();
  const raw: RawRequest = {
    method: 'POST',
    path: url.pathname,
    query: '',
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    body: Buffer.from(body),
    sourceIp: '127.0.0.1',
  };
  const apiId = apiIdFor('vend', 'dev');
  return async () => {
    const outcome = authorizeIam(raw, {
      store: stack.store,
      now: new Date(),
      region: REGION,
      accountId: '222233334444',
      apiId,
    });
    if (!outcome.ok) throw new BenchCallError(`authorizer refused: ${outcome.detail}`);
  };
}
