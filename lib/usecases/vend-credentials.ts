/**
 * The vend use case: one authenticated caller asks for credentials for one entitlement.
 *
 * Primary course:
 * 1. Validate the body: only `{entitlement, durationSeconds?, policy?, reason?}`.
 * 2. Read the entitlement (a store failure is 503, nothing else happens).
 * 3. Decide: deny by default; the caller must be entitled to use it directly (approval-gated
 *    entitlements answer `approval_required` here).
 * 4. Shape the session: duration within [900, min(max, 3600)], session policy that only narrows the
 *    ceiling, server-set session name, SourceIdentity and `vend:*` tags.
 * 5. Take one use of the caller's limit on this entitlement, then of the entitlement's limit across
 *    callers (lib/usecases/rate-limit.ts). A full window is 429 `rate_limited` with `Retry-After`; a
 *    limiter that cannot answer is 503. Either way: no intent, no STS call. Only a vend that passed
 *    every check counts, so invalid or unentitled calls never use up a caller's budget.
 * 6. Write the `intent` audit record. If it cannot be written: 503 `audit_unavailable`, no STS call.
 * 7. AssumeRole on the target role with its ExternalId.
 * 8. Write the `issued` audit record. If it cannot be written, the credentials are withheld (503);
 *    the intent and the store's log line carry the AccessKeyId for reconciliation.
 * 9. Deliver: keys as they are, or (lib/usecases/console.ts) a console sign-in URL, for which the
 *    federation endpoint is asked for a sign-in token; the keys then never leave vend. A delivery
 *    that fails is a refusal like any other (503, audited `denied` with its code and detail).
 * 10. Record the live session (lib/domain/sessions.ts): who, which entitlement and role, the
 *    assumed-role ARN, SourceIdentity, AccessKeyId, issue and expiry times, `keys` or `console`.
 *    If it cannot be recorded the session is withheld (503 `upstream_unavailable`, audited
 *    `denied` after the `issued` record): a session vend cannot list is one nobody could find and
 *    revoke by its audit id, so it must not be in anyone's hands. The credentials then expire
 *    unused; the `issued` record and the denial carry the same audit id.
 * 11. Answer: the credentials (or the sign-in URL) with the audit id.
 *
 * Every refusal after the caller is known writes a `denied` record with its problem code. A denial
 * whose record cannot be written still answers with the denial (nothing is released, and the caller
 * learns the real reason); the failed write is logged.
 */

import { type AuditRequestContext, deniedRecord, intentRecord, issuedRecord } from '../domain/audit';
import { callerId } from '../domain/caller';
import { resolveDuration } from '../domain/duration';
import { resolveEntitlement } from '../domain/entitlement';
import { RateLimitedError, VendError } from '../domain/errors';
import { ENTITLEMENT_ID } from '../domain/limits';
import { type RateLimitSettings, vendLimits } from '../domain/rate-limit';
import { sessionName, sessionTags, sourceIdentity, transitiveTagKeys } from '../domain/session';
import { buildSessionPolicy } from '../domain/session-policy';
import { actorOf, type Delivery } from '../domain/sessions';
import type { Caller, Entitlement } from '../domain/types';
import { parseVendRequest, type VendRequest } from '../domain/vend-request';
import type { IdGenerator } from '../ids';
import type { VendLog } from '../log';
import type { MetricsSink } from '../metrics';
import {
  type AuditSink,
  type CredentialIssuer,
  type EntitlementStore,
  type IssuedCredentials,
  type RateLimitStore,
  type SessionStore,
  StsUnavailableError,
} from '../ports';
import { enforceRateLimits } from './rate-limit';

/** The body vend returns (CONTRACT §4). */
export interface VendResponse {
  credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string };
  entitlement: string;
  roleArn: string;
  assumedRoleArn: string;
  sourceIdentity: string;
  durationSeconds: number;
  auditId: string;
}

/** The ports and services the use case needs; functions/ wire real ones, tests wire their own. */
export interface VendDeps {
  entitlements: EntitlementStore;
  audit: AuditSink;
  issuer: CredentialIssuer;
  /** Rate-limit counters; every vend takes a use of its caller's and its entitlement's limit. */
  limiter: RateLimitStore;
  /** Live sessions: every session handed out is recorded here (step 10), or withheld. */
  sessions: SessionStore;
  /** The deployment's rate-limit defaults (an entitlement's `rateLimit` overrides them). */
  rateLimits: RateLimitSettings;
  now: () => Date;
  newId: IdGenerator;
  log: Pick<VendLog, 'error'>;
  /** CloudWatch metrics (VendIssued, VendDenied, RateLimited, StsThrottled); none when absent. */
  metrics?: MetricsSink;
}

/** One vend as the handler hands it over: who, what (raw body), and the request facts for audit. */
export interface VendInput {
  caller: Caller;
  body: unknown;
  request: AuditRequestContext;
  /**
   * Extra limits from the approval path (a grant's remaining window); absent on direct vends.
   * @internal used by the request use cases
   */
  grant?: { capSeconds: number; entitlement: Entitlement; reason?: string; requestId?: string };
}

/** A session STS issued and the audit trail recorded, before it is delivered. */
export interface IssuedSession {
  /** Secret parts included: they go to the delivery and nowhere else. */
  credentials: IssuedCredentials;
  /** The Expiration as vend answers it (ISO 8601, whole seconds). */
  expiration: string;
  entitlement: Entitlement;
  sourceIdentity: string;
  durationSeconds: number;
  auditId: string;
}

/**
 * How a session reaches the caller: `keys` (the credentials themselves) or `console` (a sign-in
 * URL). `hand` runs after the `issued` record and before the session is recorded; what it answers
 * is what the caller gets.
 */
export interface SessionDelivery<T> {
  kind: Delivery;
  hand(issued: IssuedSession): Promise<T>;
}

/**
 * Vends credentials, or throws the VendError that says why not.
 *
 * @example
 * ```ts
 * const vend = vendCredentials(deps);
 * const out = await vend({ caller, body: { entitlement: 'prod-readonly' }, request: { requestId } });
 * out.credentials.AccessKeyId; // 'ASIA…'
 * ```
 */
export function vendCredentials(deps: VendDeps): (input: VendInput) => Promise<VendResponse> {
  return vendSession(deps, keysDelivery);
}

/** Keys: the credentials themselves, with what vend did (CONTRACT §4 vend response). */
const keysDelivery: SessionDelivery<VendResponse> = {
  kind: 'keys',
  hand: async (s) => ({
    credentials: {
      AccessKeyId: s.credentials.accessKeyId,
      SecretAccessKey: s.credentials.secretAccessKey,
      SessionToken: s.credentials.sessionToken,
      Expiration: s.expiration,
    },
    entitlement: s.entitlement.id,
    roleArn: s.entitlement.roleArn,
    assumedRoleArn: s.credentials.assumedRoleArn,
    sourceIdentity: s.sourceIdentity,
    durationSeconds: s.durationSeconds,
    auditId: s.auditId,
  }),
};

/**
 * The vend use case with a chosen delivery (keys, or a console sign-in URL): every rule, limit and
 * audit record of {@link vendCredentials}, and the delivery's own answer.
 *
 * @example
 * ```ts
 * const vend = vendSession(deps, { kind: 'console', hand: async (s) => ({ url: await signIn(s) }) });
 * ```
 */
export function vendSession<T>(
  deps: VendDeps,
  delivery: SessionDelivery<T>,
): (input: VendInput) => Promise<T> {
  return async (input) => {
    const auditId = deps.newId(deps.now());
    let body: VendRequest | undefined;
    let entitlement: Entitlement | undefined;
    try {
      body = parseVendRequest(input.body);
      entitlement = input.grant?.entitlement ?? (await lookup(deps, input.caller, body.entitlement));
      const out = await issue(deps, input, auditId, body, entitlement, delivery);
      deps.metrics?.count('VendIssued');
      return out;
    } catch (e) {
      if (e instanceof VendError) {
        if (e.status < 500) deps.metrics?.count(e instanceof RateLimitedError ? 'RateLimited' : 'VendDenied');
        else if (e instanceof StsUnavailableError && e.throttled) deps.metrics?.count('StsThrottled');
        await recordDenial(deps, {
          ...input,
          auditId,
          error: e,
          body: body ?? input.body,
          entitlement,
          delivery: delivery.kind,
        });
      }
      throw e;
    }
  };
}

async function lookup(deps: VendDeps, caller: Caller, id: string): Promise<Entitlement> {
  return resolveEntitlement(caller, id, await deps.entitlements.get(id));
}

async function issue<T>(
  deps: VendDeps,
  input: VendInput,
  auditId: string,
  body: VendRequest,
  ent: Entitlement,
  delivery: SessionDelivery<T>,
): Promise<T> {
  const { caller } = input;
  const durationSeconds = resolveDuration({
    requested: body.durationSeconds,
    entitlement: ent,
    capSeconds: input.grant?.capSeconds,
  });
  const policy = buildSessionPolicy({ requested: body.policy, ceiling: ent.ceiling });
  const facts = {
    caller,
    entitlement: ent.id,
    roleArn: ent.roleArn,
    durationSeconds,
    sessionName: sessionName({ caller, auditId }),
    sourceIdentity: sourceIdentity(caller),
    sessionPolicyHash: policy.hash,
    reason: body.reason ?? input.grant?.reason,
    delivery: delivery.kind,
  };
  const tags = sessionTags({ caller, entitlement: ent, auditId });

  // 5. Rate limits last among the checks, so only a vend that would reach STS counts.
  await enforceRateLimits(deps, vendLimits(callerId(caller), ent, deps.rateLimits));

  // 6. No intent record, no STS call.
  await deps.audit.append(
    intentRecord({ id: deps.newId(deps.now()), time: deps.now(), auditId, request: input.request, ...facts }),
  );

  // 7. From here on, failures are audited as denials by the caller of issue().
  const creds = await deps.issuer.assume({
    roleArn: ent.roleArn,
    roleSessionName: facts.sessionName,
    externalId: ent.externalId,
    durationSeconds,
    policy: policy.policy,
    sourceIdentity: facts.sourceIdentity,
    tags: Object.fromEntries(tags.map((t) => [t.Key, t.Value])),
    transitiveTagKeys: transitiveTagKeys(tags),
  });
  const expiration = creds.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z');

  // 8. No issued record, no credentials: an error here propagates and the credentials are dropped.
  // The audit store logs the AccessKeyId when this write fails, next to the intent's audit id.
  const issuedAt = deps.now();
  await deps.audit.append(
    issuedRecord({
      id: deps.newId(issuedAt),
      time: issuedAt,
      auditId,
      request: input.request,
      ...facts,
      accessKeyId: creds.accessKeyId,
      expiration,
    }),
  );

  // 9. Deliver (a console sign-in asks the federation endpoint); a failure drops the session.
  const out = await delivery.hand({
    credentials: creds,
    expiration,
    entitlement: ent,
    sourceIdentity: facts.sourceIdentity,
    durationSeconds,
    auditId,
  });

  // 10. No session record, no session: one vend cannot list is one nobody could revoke by id.
  await deps.sessions.put({
    auditId,
    caller: actorOf(caller),
    entitlement: ent.id,
    roleArn: ent.roleArn,
    assumedRoleArn: creds.assumedRoleArn,
    sourceIdentity: facts.sourceIdentity,
    accessKeyId: creds.accessKeyId,
    issuedAt: issuedAt.toISOString(),
    expiresAt: expiration,
    delivery: delivery.kind,
    ...(input.grant?.requestId !== undefined ? { accessRequestId: input.grant.requestId } : {}),
  });
  return out;
}

/**
 * Audits a refusal of a vend: the use case calls it for its own refusals, and the function calls it
 * for refusals the HTTP chain made before the use case ran (body too large, not JSON).
 *
 * @example
 * ```ts
 * await recordVendRefusal(deps)({ caller, error, request: { requestId } });
 * ```
 */
export function recordVendRefusal(
  deps: Pick<VendDeps, 'audit' | 'now' | 'newId' | 'log'>,
): (input: RefusalInput) => Promise<void> {
  return (input) => recordDenial(deps, { ...input, auditId: input.auditId ?? deps.newId(deps.now()) });
}

/** What {@link recordVendRefusal} needs to know about a refusal. */
export interface RefusalInput {
  caller: Caller;
  error: VendError;
  request: AuditRequestContext;
  /** The raw body, if one was parsed (its entitlement id is recorded when it looks like one). */
  body?: unknown;
  auditId?: string;
  /** `console` when the refused call asked for a console sign-in. */
  delivery?: Delivery;
}

async function recordDenial(
  deps: Pick<VendDeps, 'audit' | 'now' | 'newId' | 'log'>,
  input: {
    caller: Caller;
    request: AuditRequestContext;
    auditId: string;
    error: VendError;
    body?: unknown;
    entitlement?: Entitlement;
    delivery?: Delivery;
  },
): Promise<void> {
  const { error, entitlement: ent } = input;
  // An audit outage is not a caller's decision to record; the intent path already refused.
  if (error.code === 'audit_unavailable') return;
  const parsed = input.body as Partial<VendRequest> | undefined;
  try {
    await deps.audit.append(
      deniedRecord({
        id: deps.newId(deps.now()),
        time: deps.now(),
        auditId: input.auditId,
        request: input.request,
        caller: input.caller,
        entitlement: ent?.id ?? safeEntitlementId(parsed),
        roleArn: ent?.roleArn,
        reasonCode: error.code,
        reasonDetail: error.detail,
        reason: typeof parsed?.reason === 'string' ? parsed.reason.slice(0, 512) : undefined,
        delivery: input.delivery,
      }),
    );
  } catch (e) {
    deps.log.error('audit denied record not written', {
      auditId: input.auditId,
      callerId: callerId(input.caller),
      code: error.code,
      errorName: e instanceof Error ? e.name : typeof e,
    });
  }
}

/** The entitlement id from a body that failed validation, if it looks like one (for the denial record). */
function safeEntitlementId(body: unknown): string | undefined {
  const id = (body as { entitlement?: unknown } | null)?.entitlement;
  return typeof id === 'string' && ENTITLEMENT_ID.test(id) ? id : undefined;
}
