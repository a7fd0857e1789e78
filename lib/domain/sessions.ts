/**
 * Live sessions: what vend remembers about every session it handed out (keys or a console sign-in),
 * so that people can see theirs, approvers and security can see the ones they answer for, and any
 * of them can revoke one at once (docs/revocation.md, CONTRACT §4 `GET /v1/sessions`,
 * `POST /v1/sessions/{auditId}/revoke`).
 *
 * The rules here are pure: who may list which sessions, who may revoke one, and when a session can
 * still be revoked. Storage (lib/dynamodb/session-store.ts) and the deny list in the target account
 * (lib/domain/revocation.ts, lib/revocation/) are elsewhere.
 *
 * Who may revoke a session (as of the moment they ask, like approvals):
 * - its owner (the caller it was vended to), always;
 * - a member of the entitlement's approver groups (the people trusted to grant it);
 * - a member of the security group (`VEND_SECURITY_GROUP`, default `security-approvers`).
 * Anyone else is refused with 403 even though the session exists: the issue asks for it, and an
 * audit id is an unguessable ULID that only its owner, approvers, security and auditors ever see.
 */
import { callerId, callerLabel } from './caller';
import { ConflictError, InvalidRequestError, VendError } from './errors';
import type { Caller, Entitlement } from './types';

/** How a session's credentials reached the caller. */
export type Delivery = 'keys' | 'console';

/** Who acted, as records keep it (the same shape as an audit record's `caller`). */
export interface ActorSummary {
  id: string;
  kind: Caller['kind'];
  label: string;
}

/** Why a session is revoked, and by whom. */
export interface SessionRevocation {
  /** ISO 8601 time the deny list took effect (as vend saw it). */
  at: string;
  by: ActorSummary;
  reason: string;
  /** `session`: this audit id alone; `caller`: every session of its caller issued before `at`. */
  scope: 'session' | 'caller';
}

/** One session vend issued, as stored. No secret: never a SecretAccessKey or SessionToken. */
export interface SessionRecord {
  auditId: string;
  caller: ActorSummary;
  entitlement: string;
  roleArn: string;
  assumedRoleArn: string;
  sourceIdentity: string;
  /** The session's AccessKeyId: not a secret, it finds the session in CloudTrail. */
  accessKeyId: string;
  /** ISO 8601. */
  issuedAt: string;
  /** ISO 8601, the credentials' Expiration (a console session ends with them). */
  expiresAt: string;
  delivery: Delivery;
  /** The access request the session was vended under, if any. */
  accessRequestId?: string;
  revocation?: SessionRevocation;
}

/** A session as the API answers it (`GET /v1/sessions`, the revoke routes). */
export interface SessionView extends SessionRecord {
  /** `live`, `revoked` (and not yet expired) or `expired`. */
  status: 'live' | 'revoked' | 'expired';
  revoked: boolean;
}

/** The longest `reason` a revocation takes. */
export const REVOKE_REASON_MAX_CHARS = 512;

/** The longest caller id `POST /v1/sessions/revoke` takes (a role ARN or `issuer#subject`). */
export const CALLER_ID_MAX_CHARS = 512;

/**
 * The caller may not revoke this session (403 `not_entitled`). Said plainly: whoever asks already
 * holds the audit id.
 * @example `throw new NotAllowedToRevokeError()`
 */
export class NotAllowedToRevokeError extends VendError {
  readonly code = 'not_entitled';
  constructor(
    detail = 'you may not revoke this session: only its owner, the approvers of its entitlement and the security group may',
  ) {
    super(detail);
  }
}

/**
 * The caller may not list every live session (403 `not_entitled`).
 * @example `throw new NotAllowedToListError()`
 */
export class NotAllowedToListError extends VendError {
  readonly code = 'not_entitled';
  constructor() {
    super('all=true is for approvers and the security group; without it you see your own sessions');
  }
}

/**
 * The summary records keep of an actor.
 * @example `actorOf(alice) // { id: 'http://…/oidc#alice', kind: 'person', label: 'alice@example.com' }`
 */
export function actorOf(caller: Caller): ActorSummary {
  return { id: callerId(caller), kind: caller.kind, label: callerLabel(caller) };
}

/**
 * The session as of `now`.
 * @example `sessionView(record, now).status // 'live'`
 */
export function sessionView(record: SessionRecord, now: Date): SessionView {
  const expired = Date.parse(record.expiresAt) <= now.getTime();
  const revoked = record.revocation !== undefined;
  return { ...record, status: expired ? 'expired' : revoked ? 'revoked' : 'live', revoked };
}

/** Is the session's expiry still ahead? */
export function isLive(record: Pick<SessionRecord, 'expiresAt'>, now: Date): boolean {
  return Date.parse(record.expiresAt) > now.getTime();
}

/** Rights over sessions, from the caller's groups as they are now. */
export interface SessionRights {
  /** The security group's name (`VEND_SECURITY_GROUP`). */
  securityGroup: string;
}

function groupsOf(caller: Caller): readonly string[] {
  return caller.kind === 'person' ? caller.groups : [];
}

/** Is the caller in the security group? */
export function isSecurity(caller: Caller, rights: SessionRights): boolean {
  return groupsOf(caller).includes(rights.securityGroup);
}

/** Is the caller in one of the entitlement's approver groups (as it is now)? */
export function isApproverOf(caller: Caller, entitlement: Entitlement | undefined): boolean {
  const approvers = entitlement?.approval?.approverGroups ?? [];
  return groupsOf(caller).some((g) => approvers.includes(g));
}

/**
 * May `caller` see and revoke `session`? Its owner, an approver of its entitlement (as the
 * entitlement is now; a deleted entitlement has none), or the security group.
 *
 * @example `mayRevoke(bob, aliceSession, prodReadonly, { securityGroup: 'security-approvers' }) // true`
 */
export function mayRevoke(
  caller: Caller,
  session: Pick<SessionRecord, 'caller'>,
  entitlement: Entitlement | undefined,
  rights: SessionRights,
): boolean {
  return (
    session.caller.id === callerId(caller) || isSecurity(caller, rights) || isApproverOf(caller, entitlement)
  );
}

/**
 * Which sessions `all=true` lists: every one for the security group, those of the entitlements the
 * caller approves for approvers, nothing for anyone else (who is refused).
 *
 * @throws NotAllowedToListError neither in the security group nor an approver of any entitlement
 * @example `listScope(bob, entitlements, rights) // { kind: 'all' }`
 */
export function listScope(
  caller: Caller,
  entitlements: readonly Entitlement[],
  rights: SessionRights,
): { kind: 'all' } | { kind: 'entitlements'; ids: string[] } {
  if (isSecurity(caller, rights)) return { kind: 'all' };
  const ids = entitlements.filter((e) => isApproverOf(caller, e)).map((e) => e.id);
  if (ids.length === 0) throw new NotAllowedToListError();
  return { kind: 'entitlements', ids };
}

/**
 * A session that can still be revoked: not expired, not already revoked.
 * @throws ConflictError expired, or already revoked (409)
 * @example `assertRevocable(record, now)`
 */
export function assertRevocable(record: SessionRecord, now: Date): void {
  if (!isLive(record, now)) {
    throw new ConflictError(`session ${record.auditId} has expired; there is nothing to revoke`);
  }
  if (record.revocation !== undefined) {
    throw new ConflictError(`session ${record.auditId} is already revoked`);
  }
}

/**
 * The reason of a revocation: required, printable, at most 512 characters, trimmed.
 * @throws InvalidRequestError missing, blank, too long or with control characters
 * @example `parseRevokeReason('laptop lost') // 'laptop lost'`
 */
export function parseRevokeReason(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidRequestError('reason is required: why the session is revoked (for the audit trail)');
  }
  if (
    value.length > REVOKE_REASON_MAX_CHARS ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/.test(value)
  ) {
    throw new InvalidRequestError(
      `reason must be at most ${REVOKE_REASON_MAX_CHARS} characters without control characters`,
    );
  }
  return value.trim();
}

/**
 * The body of `POST /v1/sessions/{auditId}/revoke`: `{reason}` and nothing else.
 * @throws InvalidRequestError another field, or a bad reason
 * @example `parseRevokeBody({ reason: 'laptop lost' }) // { reason: 'laptop lost' }`
 */
export function parseRevokeBody(body: unknown): { reason: string } {
  const b = objectBody(body, '{ "reason": "why" }');
  refuseOthers(b, ['reason']);
  return { reason: parseRevokeReason(b.reason) };
}

/**
 * The body of `POST /v1/sessions/revoke`: `{caller, reason}`, the caller id as vend writes it
 * (a role ARN for services, `issuer#subject` for people; `vend sessions --all --json` shows it).
 * @throws InvalidRequestError another field, a caller id that is not printable ASCII of at most
 *   512 characters, or a bad reason
 * @example `parseRevokeCallerBody({ caller: 'http://…/oidc#alice', reason: 'laptop lost' })`
 */
export function parseRevokeCallerBody(body: unknown): { caller: string; reason: string } {
  const b = objectBody(body, '{ "caller": "<caller id>", "reason": "why" }');
  refuseOthers(b, ['caller', 'reason']);
  const caller = b.caller;
  if (typeof caller !== 'string' || !/^[\x21-\x7E]{1,512}$/.test(caller)) {
    throw new InvalidRequestError(
      `caller is required: a caller id (a role ARN, or issuer#subject), printable ASCII of at most ${CALLER_ID_MAX_CHARS} characters`,
    );
  }
  return { caller, reason: parseRevokeReason(b.reason) };
}

function objectBody(body: unknown, shape: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequestError(`the body must be a JSON object: ${shape}`);
  }
  return body as Record<string, unknown>;
}

function refuseOthers(b: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(b)) {
    if (!allowed.includes(key)) {
      const shown = key.replace(/[^\x20-\x7E]/g, '?').slice(0, 64);
      throw new InvalidRequestError(`unknown field "${shown}"; allowed: ${allowed.join(', ')}`);
    }
  }
}
