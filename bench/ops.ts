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
import { Sha256 } from '@aws-crypto/sha256-js';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { authorizeIam } from '../infra/local/gateway/authorizers';
import { apiIdFor } from '../infra/local/gateway/server';
import { REGION, type Stack } from '../infra/local/stack';
import type { RawRequest } from '../infra/local/types';
import { intentRecord, issuedRecord } from '../lib/domain/audit';
import { callerFromEvent, callerId } from '../lib/domain/caller';
import { vendLimits, windowOf } from '../lib/domain/rate-limit';
import { sessionName, sessionTags, sourceIdentity, transitiveTagKeys } from '../lib/domain/session';
import { buildSessionPolicy } from '../lib/domain/session-policy';
import type { Caller, Entitlement } from '../lib/domain/types';
import { DynamoEntitlementStore } from '../lib/dynamodb/entitlement-store';
import { keys } from '../lib/dynamodb/keys';
import { DynamoRateLimitStore, takeInput } from '../lib/dynamodb/rate-limit-store';
import { ulid } from '../lib/ids';
import { enforceRateLimits } from '../lib/usecases/rate-limit';
import type { Operation } from './load';

/** The vend every sample makes (the e2e suite's service vend). */
export const VEND_BODY = { entitlement: 'prod-readonly', durationSeconds: 900 } as const;
export const VEND_PATH = '/v1/service/credentials';
const PROFILE = 'ci';
const USER_AGENT = 'vend-bench/1';

/** A vend or baseline call did not succeed. Carries a status or an error name, never a body. */
export class BenchCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchCallError';
  }
}

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

/** One vend end to end; succeeds only on 200 with credentials in the body. */
export function vendOperation(stack: Stack): Operation {
  const sign = vendSigner(stack);
  return async () => {
    const { url, headers, body } = await sign();
    const res = await fetch(url, { method: 'POST', headers, body });
    const text = await res.text();
    if (res.status !== 200) throw new BenchCallError(`vend answered ${res.status}`);
    if (!text.includes('"SessionToken"')) throw new BenchCallError('vend answered 200 without credentials');
  };
}

/** `GET /v1/health` through the gateway: the HTTP hop plus the smallest handler, no backend call. */
export function healthOperation(stack: Stack): Operation {
  const url = new URL('/v1/health', stack.apiUrl);
  return async () => {
    const res = await fetch(url);
    await res.arrayBuffer();
    if (res.status !== 200) throw new BenchCallError(`health answered ${res.status}`);
  };
}

/** The `ci` caller as the handler derives it from the IAM authorizer's context. */
function ciCaller(stack: Stack): Caller {
  const { key } = profileCredentials(stack);
  return callerFromEvent({
    requestContext: {
      authorizer: {
        iam: {
          userArn: key.principal.arn,
          accountId: key.principal.account,
          userId: key.principal.userId,
          accessKey: key.accessKeyId,
        },
      },
    },
  } as Parameters<typeof callerFromEvent>[0]);
}

/**
 * The baseline: vend's six backend calls, one after another, on vend's own clients. Parameters are
 * built by the same domain functions vend uses, so items and the AssumeRole input have the same
 * size and shape (ExternalId, SourceIdentity, the four `vend:*` transitive tags, and a session
 * policy exactly when vend would send one: prod-readonly has no ceiling, so none), and the counter
 * writes are the store's own `takeInput` on the same two counters a vend takes.
 */
export async function baselineOperation(stack: Stack): Promise<Operation> {
  // Imported only now: lib/wiring/clients.ts reads the handler environment the stack set, as a cold start does.
  const { dynamoDocuments, sts } = await import('../lib/wiring/clients');
  const { config } = await import('../lib/config');
  const tables = config().tables;
  const entitlement: Entitlement | undefined = await new DynamoEntitlementStore(
    dynamoDocuments,
    tables.entitlements,
  ).get(VEND_BODY.entitlement);
  if (!entitlement) throw new BenchCallError(`entitlement ${VEND_BODY.entitlement} is not seeded`);
  const caller = ciCaller(stack);
  const policy = buildSessionPolicy({ requested: undefined, ceiling: entitlement.ceiling });
  const identity = sourceIdentity(caller);
  const limits = vendLimits(callerId(caller), entitlement, config().rateLimits);
  let n = 0;
  return async () => {
    n += 1;
    const auditId = ulid(new Date());
    const request = { requestId: `bench-${n}`, sourceIp: '127.0.0.1', userAgent: USER_AGENT };
    const facts = {
      caller,
      entitlement: entitlement.id,
      roleArn: entitlement.roleArn,
      durationSeconds: VEND_BODY.durationSeconds,
      sessionName: sessionName({ caller, auditId }),
      sourceIdentity: identity,
      sessionPolicyHash: policy.hash,
    };
    const tags = sessionTags({ caller, entitlement, auditId });

    await dynamoDocuments.send(
      new GetCommand({
        TableName: tables.entitlements,
        Key: keys.entitlement(entitlement.id),
        ConsistentRead: true,
      }),
    );
    const now = new Date();
    for (const limit of limits) {
      const counter = { ...limit, window: windowOf(now, limit.windowSeconds) };
      await dynamoDocuments.send(new UpdateCommand(takeInput(tables.limits, counter)));
    }
    const intent = intentRecord({ id: ulid(new Date()), time: new Date(), auditId, request, ...facts });
    await dynamoDocuments.send(
      new PutCommand({
        TableName: tables.audit,
        Item: { ...intent, ...keys.audit(intent) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: entitlement.roleArn,
        RoleSessionName: facts.sessionName,
        ExternalId: entitlement.externalId,
        DurationSeconds: VEND_BODY.durationSeconds,
        Policy: policy.policy,
        SourceIdentity: identity,
        Tags: tags,
        TransitiveTagKeys: transitiveTagKeys(tags),
      }),
    );
    const accessKeyId = out.Credentials?.AccessKeyId;
    if (!accessKeyId) throw new BenchCallError('AssumeRole returned no credentials');
    const issued = issuedRecord({
      id: ulid(new Date()),
      time: new Date(),
      auditId,
      request,
      ...facts,
      accessKeyId,
      expiration: out.Credentials?.Expiration?.toISOString(),
    });
    await dynamoDocuments.send(
      new PutCommand({
        TableName: tables.audit,
        Item: { ...issued, ...keys.audit(issued) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  };
}

/**
 * The rate limiter alone, as a vend runs it: `enforceRateLimits` with the real counter store on the
 * two counters of a `ci` vend of prod-readonly (its own limit, then the entitlement's). The stack
 * runs with limits no sample can reach, so every sample is two admitted conditional writes.
 */
export async function limiterOperation(stack: Stack): Promise<Operation> {
  const { dynamoDocuments } = await import('../lib/wiring/clients');
  const { config } = await import('../lib/config');
  const cfg = config();
  const entitlement = await new DynamoEntitlementStore(dynamoDocuments, cfg.tables.entitlements).get(
    VEND_BODY.entitlement,
  );
  if (!entitlement) throw new BenchCallError(`entitlement ${VEND_BODY.entitlement} is not seeded`);
  const limits = vendLimits(callerId(ciCaller(stack)), entitlement, cfg.rateLimits);
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
