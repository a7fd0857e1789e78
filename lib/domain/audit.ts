/**
 * Audit records of the vend path. Every vend writes an `intent` record **before** calling STS and an
 * `issued` record after (same `auditId`), so a credential can never exist without a trace; every
 * refusal writes a `denied` record with its problem code.
 *
 * What a record never holds: SecretAccessKey, SessionToken, ExternalId. The session policy is stored
 * as its SHA-256 only. {@link assertNoSecrets} checks this again just before a write: the builders
 * cannot receive those values by type, but an adapter could still put one in a free-text field
 * (a user agent, a reason), and an audit trail is kept for years and read by many.
 */
import { callerId, callerLabel } from './caller';
import type { ProblemCode } from './errors';
import { AuditSecretLeakError } from './errors';
import type { Caller } from './types';

/** What happened: a vend ({@link VendAuditDecision}) or a step of an access request ({@link RequestAuditDecision}). */
export type AuditDecision =
  | VendAuditDecision
  | RequestAuditDecision
  | EntitlementAuditDecision
  | SessionAuditDecision;

/**
 * `revoked`: a live session was revoked (docs/revocation.md). One record per session, under the
 * session's own audit id, so the session's trail reads intent, issued, revoked.
 */
export type SessionAuditDecision = 'revoked';

/** Changes made by `vend entitlements sync --apply`, one record per entitlement changed. */
export type EntitlementAuditDecision = 'entitlement-created' | 'entitlement-updated' | 'entitlement-deleted';

/** The decisions of the vend path. */
export type VendAuditDecision = 'intent' | 'issued' | 'denied';

/**
 * The decisions of the request path: one per vote and one per transition, so the trail shows who
 * asked, who voted how, and what the request became.
 * - `requested`: a request was opened (pending);
 * - `approved-vote` / `denied-vote`: one approver's vote;
 * - `approved` / `denied` / `cancelled` / `expired`: the request's transition;
 * - `break-glass`: an emergency grant (approved at creation, review opened);
 * - `review-signed-off`: someone else signed off a break-glass review.
 */
export type RequestAuditDecision =
  | 'requested'
  | 'approved-vote'
  | 'denied-vote'
  | 'approved'
  | 'denied'
  | 'cancelled'
  | 'expired'
  | 'break-glass'
  | 'review-signed-off';

/** Facts about the HTTP request, from the API Gateway event. */
export interface AuditRequestContext {
  sourceIp?: string;
  userAgent?: string;
  /** API Gateway's `requestContext.requestId`. */
  requestId?: string;
}

/** One audit record. Optional fields are absent when they do not apply or are not known yet. */
export interface AuditRecord {
  /** This record's own id. */
  id: string;
  /** ISO 8601 time of the record. */
  time: string;
  decision: AuditDecision;
  /** Links the intent, issued and denied records of one vend. */
  auditId: string;
  /** For `denied`: the problem code (e.g. `not_entitled`). */
  reasonCode?: ProblemCode;
  /** For `denied`: the caller-safe detail. */
  reasonDetail?: string;
  caller?: { id: string; kind: Caller['kind']; label: string };
  entitlement?: string;
  roleArn?: string;
  durationSeconds?: number;
  sessionName?: string;
  sourceIdentity?: string;
  /** SHA-256 hex of the session policy sent to STS (absent when none was sent). */
  sessionPolicyHash?: string;
  /** Only on `issued`: the AccessKeyId of the vended credentials (not a secret; it finds them in CloudTrail). */
  accessKeyId?: string;
  /** Only on `issued`: when the credentials expire (ISO 8601). */
  expiration?: string;
  /** The caller's free-text reason, if they gave one. */
  reason?: string;
  sourceIp?: string;
  userAgent?: string;
  requestId?: string;
  /** On request-path records: the access request's id (the record's `auditId` is the same id). */
  accessRequestId?: string;
  /** On request-path records: the request's status after this step. */
  requestStatus?: string;
  /** On request-path records: the ticket the request names. */
  ticket?: string;
  /** On votes: the approver's comment. */
  comment?: string;
  /** On transitions to approved (and break-glass): the end of the grant window (ISO 8601). */
  grantEnd?: string;
  /** On vend records: how the session reaches the caller, `keys` or `console` (a sign-in URL). */
  delivery?: 'keys' | 'console';
  /**
   * On `revoked`: whose session it was (the record's `caller` is who revoked it), and whether the
   * revocation named this session (`session`) or every session of its caller (`caller`).
   */
  revokedCaller?: { id: string; kind: Caller['kind']; label: string };
  revocationScope?: 'session' | 'caller';
}

/** Common input of the builders: ids and time are passed in (no clock, no id generator here). */
export interface AuditBase {
  id: string;
  time: Date;
  auditId: string;
  request?: AuditRequestContext;
}

/** What is known about a vend once it has been authorised and prepared. */
export interface VendFacts {
  caller: Caller;
  entitlement: string;
  roleArn: string;
  durationSeconds: number;
  sessionName: string;
  sourceIdentity: string;
  sessionPolicyHash?: string;
  reason?: string;
  /** `keys` or `console`. */
  delivery?: 'keys' | 'console';
}

/**
 * The record written before AssumeRole is called.
 * @example
 * ```ts
 * intentRecord({ id: 'r1', time: now(), auditId: 'a1', request: { requestId: 'req-1' }, caller, entitlement: 'prod-readonly',
 *   roleArn, durationSeconds: 900, sessionName, sourceIdentity });
 * ```
 */
export function intentRecord(input: AuditBase & VendFacts): AuditRecord {
  return compact({ ...base(input, 'intent'), ...facts(input) });
}

/**
 * The record written once STS returned credentials: the intent's facts plus AccessKeyId and expiry.
 * @example `issuedRecord({ ...intentInput, id: 'r2', time: now(), accessKeyId: 'ASIA…', expiration: '2026-11-29T10:15:00Z' })`
 */
export function issuedRecord(
  input: AuditBase & VendFacts & { accessKeyId: string; expiration?: string },
): AuditRecord {
  return compact({
    ...base(input, 'issued'),
    ...facts(input),
    accessKeyId: input.accessKeyId,
    expiration: input.expiration,
  });
}

/**
 * The record written when a vend is refused, with the problem code as reason. Whatever was known at
 * the point of refusal is included (the caller, usually; the entitlement id the caller asked for).
 * @example `deniedRecord({ id: 'r3', time: now(), auditId: 'a1', reasonCode: 'not_entitled', caller, entitlement: 'prod-admin' })`
 */
export function deniedRecord(
  input: AuditBase & Partial<VendFacts> & { reasonCode: ProblemCode; reasonDetail?: string },
): AuditRecord {
  const record: AuditRecord = {
    ...base(input, 'denied'),
    reasonCode: input.reasonCode,
    reasonDetail: input.reasonDetail,
    caller: input.caller ? callerSummary(input.caller) : undefined,
    entitlement: input.entitlement,
    roleArn: input.roleArn,
    durationSeconds: input.durationSeconds,
    sessionName: input.sessionName,
    sourceIdentity: input.sourceIdentity,
    sessionPolicyHash: input.sessionPolicyHash,
    reason: input.reason,
    delivery: input.delivery,
  };
  return compact(record);
}

/** What {@link requestAuditRecord} records about a request step. */
export interface RequestAuditFacts {
  decision: RequestAuditDecision;
  /** Who acted: the requester, an approver, a reviewer; absent for the clock (`expired`). */
  caller?: Caller;
  /** The access request as it is after the step. */
  accessRequest: {
    id: string;
    entitlement: string;
    status: string;
    durationSeconds: number;
    reason: string;
    ticket?: string;
    grantEnd?: string;
  };
  comment?: string;
}

/**
 * A record of one step of an access request: opened, a vote, a transition, break-glass, a review
 * sign-off. The `auditId` is the request id, so one request's records are found together.
 *
 * @example
 * ```ts
 * requestAuditRecord({ id: 'r9', time: now, decision: 'approved-vote', caller: bob, accessRequest: next });
 * ```
 */
export function requestAuditRecord(input: Omit<AuditBase, 'auditId'> & RequestAuditFacts): AuditRecord {
  const r = input.accessRequest;
  return compact({
    ...base({ ...input, auditId: r.id }, 'intent'),
    decision: input.decision,
    caller: input.caller ? callerSummary(input.caller) : undefined,
    entitlement: r.entitlement,
    durationSeconds: r.durationSeconds,
    reason: r.reason,
    accessRequestId: r.id,
    requestStatus: r.status,
    ticket: r.ticket,
    comment: input.comment,
    grantEnd: r.grantEnd,
  });
}

// AWS secret access keys are 40 characters of base64; real ones mix cases and digits, which tells
// them apart from 40-character hex digests.
const SECRET_KEY = /^[A-Za-z0-9/+]{40}$/;
// Session tokens are long base64 blobs (hundreds of characters).
const SESSION_TOKEN = /^[A-Za-z0-9/+=]{100,}$/;
const SECRET_FIELD_NAMES = /^(secretaccesskey|sessiontoken|externalid|token|secret)$/i;

/**
 * Defence in depth before an audit write: throws if a field is named like a secret, or a value looks
 * like a SecretAccessKey or SessionToken, or equals one of the given ExternalIds. The error names the
 * field, never the value.
 *
 * @throws AuditSecretLeakError
 * @example
 * ```ts
 * assertNoSecrets(record, { externalIds: [entitlement.externalId] }); // returns, or throws before the write
 * ```
 */
export function assertNoSecrets(
  record: AuditRecord,
  options: { externalIds?: readonly (string | undefined)[] } = {},
): void {
  const externalIds = (options.externalIds ?? []).filter(
    (x): x is string => typeof x === 'string' && x !== '',
  );
  const visit = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      if (externalIds.includes(value)) throw new AuditSecretLeakError(path, 'equals an ExternalId');
      if (SECRET_KEY.test(value) && /[A-Z]/.test(value) && /[a-z]/.test(value) && /[0-9]/.test(value)) {
        throw new AuditSecretLeakError(path, 'looks like a SecretAccessKey');
      }
      if (SESSION_TOKEN.test(value)) throw new AuditSecretLeakError(path, 'looks like a SessionToken');
      if (externalIds.some((x) => value.includes(x)))
        throw new AuditSecretLeakError(path, 'contains an ExternalId');
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const p = path === '' ? k : `${path}.${k}`;
        if (SECRET_FIELD_NAMES.test(k)) throw new AuditSecretLeakError(p, 'is a secret field');
        visit(v, p);
      }
    }
  };
  visit(record, '');
}

function base(input: AuditBase, decision: AuditDecision): AuditRecord {
  return {
    id: input.id,
    time: input.time.toISOString(),
    decision,
    auditId: input.auditId,
    sourceIp: input.request?.sourceIp,
    userAgent: input.request?.userAgent,
    requestId: input.request?.requestId,
  };
}

function facts(input: VendFacts): Partial<AuditRecord> {
  return {
    caller: callerSummary(input.caller),
    entitlement: input.entitlement,
    roleArn: input.roleArn,
    durationSeconds: input.durationSeconds,
    sessionName: input.sessionName,
    sourceIdentity: input.sourceIdentity,
    sessionPolicyHash: input.sessionPolicyHash,
    reason: input.reason,
    delivery: input.delivery,
  };
}

/** What {@link revokedRecord} records about one revocation of one session. */
export interface RevocationFacts {
  /** Who revoked it. */
  caller: Caller;
  /** The session's owner, as its records name them. */
  revokedCaller: { id: string; kind: Caller['kind']; label: string };
  entitlement: string;
  roleArn: string;
  sourceIdentity: string;
  reason: string;
  scope: 'session' | 'caller';
}

/**
 * The record of a revoked session, under the session's own audit id (the revoker is the record's
 * `caller`, the session's owner its `revokedCaller`).
 * @example `revokedRecord({ id: 'r4', time: now, auditId: session.auditId, caller: bob, revokedCaller: session.caller, entitlement, roleArn, sourceIdentity, reason: 'laptop lost', scope: 'session' })`
 */
export function revokedRecord(input: AuditBase & RevocationFacts): AuditRecord {
  return compact({
    ...base(input, 'revoked'),
    caller: callerSummary(input.caller),
    entitlement: input.entitlement,
    roleArn: input.roleArn,
    sourceIdentity: input.sourceIdentity,
    reason: input.reason,
    revokedCaller: input.revokedCaller,
    revocationScope: input.scope,
  });
}

function callerSummary(caller: Caller): AuditRecord['caller'] {
  return { id: callerId(caller), kind: caller.kind, label: callerLabel(caller) };
}

// Drop undefined fields so stored records (DynamoDB) and their JSON stay minimal and stable.
function compact<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
