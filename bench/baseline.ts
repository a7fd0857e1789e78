/**
 * The baseline a vend is compared with: the backend calls one vend makes, made directly on vend's
 * own SDK clients (lib/wiring/clients.ts), with nothing of vend around them. Kept apart from ./ops.ts
 * (which drives the in-process local stack) so the handler benchmark (./handler-process.ts) can run
 * it in a process that holds the handler and its clients and nothing of the emulators.
 */
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { intentRecord, issuedRecord } from '../lib/domain/audit';
import { callerFromEvent, callerId } from '../lib/domain/caller';
import { vendLimits, windowOf } from '../lib/domain/rate-limit';
import { sessionName, sessionTags, sourceIdentity, transitiveTagKeys } from '../lib/domain/session';
import { buildSessionPolicy } from '../lib/domain/session-policy';
import { actorOf } from '../lib/domain/sessions';
import type { Caller, Entitlement } from '../lib/domain/types';
import { DynamoEntitlementStore } from '../lib/dynamodb/entitlement-store';
import { keys } from '../lib/dynamodb/keys';
import { takeInput } from '../lib/dynamodb/rate-limit-store';
import { DynamoSessionStore } from '../lib/dynamodb/session-store';
import { ulid } from '../lib/ids';
import type { Operation } from './load';

/** The vend every sample makes (the e2e suite's service vend). */
export const VEND_BODY = { entitlement: 'prod-readonly', durationSeconds: 900 } as const;
export const VEND_PATH = '/v1/service/credentials';
export const USER_AGENT = 'vend-bench/1';

/**
 * The benchmark vends thousands of times a minute as one caller: the stack runs with rate limits no
 * series can reach, so every vend pays the limiter's writes and none is refused (a refusal would be
 * an error sample). The limiter's cost is measured, not its refusals.
 */
export const BENCH_RATE_LIMITS = {
  VEND_RATE_LIMIT_PER_CALLER: '1000000',
  VEND_RATE_LIMIT_PER_ENTITLEMENT: '1000000',
} as const;

/** A vend or baseline call did not succeed. Carries a status or an error name, never a body. */
export class BenchCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchCallError';
  }
}

/** An IAM principal as the gateway's IAM authorizer reports it. */
export interface IamPrincipal {
  arn: string;
  account: string;
  userId: string;
}

/** The `requestContext.authorizer.iam` API Gateway gives a SigV4-signed request of this principal. */
export function iamAuthorizer(principal: IamPrincipal, accessKeyId: string) {
  return {
    iam: {
      accessKey: accessKeyId,
      accountId: principal.account,
      callerId: principal.userId,
      cognitoIdentity: null,
      principalOrgId: null,
      userArn: principal.arn,
      userId: principal.userId,
    },
  };
}

/** The caller vend derives from that authorizer context. */
export function iamCaller(principal: IamPrincipal, accessKeyId: string): Caller {
  return callerFromEvent({
    requestContext: { authorizer: iamAuthorizer(principal, accessKeyId) },
  } as unknown as Parameters<typeof callerFromEvent>[0]);
}

/**
 * The baseline: vend's backend calls on vend's own clients, in vend's order and with vend's
 * concurrency: entitlement GetItem; the caller's and the entitlement's rate-limit counters, one
 * conditional UpdateItem each, sent together as the limiter sends them (one round trip); audit
 * intent PutItem; AssumeRole; audit issued PutItem; the live-session PutItem. Parameters are built by the same domain
 * functions vend uses, so items and the AssumeRole input have the same size and shape (ExternalId,
 * SourceIdentity, the four `vend:*` transitive tags, and a session policy exactly when vend would
 * send one: prod-readonly has no ceiling, so none); the counter writes are the store's own
 * `takeInput`. Call it once the handler environment is in process.env: lib/wiring/clients.ts reads it.
 *
 * @example const baseline = await baselineOperation(iamCaller(principal, accessKeyId)); await baseline();
 */
export async function baselineOperation(caller: Caller): Promise<Operation> {
  // Imported only now: lib/wiring/clients.ts reads the handler environment, as a cold start does.
  const { dynamoDocuments, sts } = await import('../lib/wiring/clients');
  const { config } = await import('../lib/config');
  const tables = config().tables;
  const entitlement: Entitlement | undefined = await new DynamoEntitlementStore(
    dynamoDocuments,
    tables.entitlements,
  ).get(VEND_BODY.entitlement);
  if (!entitlement) throw new BenchCallError(`entitlement ${VEND_BODY.entitlement} is not seeded`);
  const policy = buildSessionPolicy({ requested: undefined, ceiling: entitlement.ceiling });
  const identity = sourceIdentity(caller);
  const limits = vendLimits(callerId(caller), entitlement, config().rateLimits);
  const sessionStore = new DynamoSessionStore(dynamoDocuments, tables.requests);
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
    await Promise.all(
      limits.map((limit) =>
        dynamoDocuments.send(
          new UpdateCommand(
            takeInput(tables.limits, { ...limit, window: windowOf(now, limit.windowSeconds) }),
          ),
        ),
      ),
    );
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
    // The live-session record revocation works from (issue 15): vend cannot hand credentials out
    // without it, so it is one of the calls a vend cannot avoid. Written by the store itself, so
    // the item has vend's shape and condition.
    await sessionStore.put({
      auditId,
      caller: actorOf(caller),
      entitlement: entitlement.id,
      roleArn: entitlement.roleArn,
      assumedRoleArn: out.AssumedRoleUser?.Arn ?? '',
      sourceIdentity: identity,
      accessKeyId,
      issuedAt: new Date().toISOString(),
      expiresAt: out.Credentials?.Expiration?.toISOString() ?? new Date().toISOString(),
      delivery: 'keys',
    });
  };
}
