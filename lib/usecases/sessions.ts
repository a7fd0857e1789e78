/**
 * Live sessions and their revocation (CONTRACT §4: `GET /v1/sessions`, `POST
 * /v1/sessions/{auditId}/revoke`; vend's own `POST /v1/sessions/revoke` for a caller; the Slack
 * Revoke button of a break-glass broadcast). The rules are lib/domain/sessions.ts (who may) and
 * lib/domain/revocation.ts (the deny list); the target-account design is docs/revocation.md.
 *
 * List: the caller's own live sessions; with `all=true`, also every live session of the
 * entitlements they approve, or every one for the security group (403 for anyone else).
 *
 * Revoke one session:
 * 1. Validate the reason (400); read the session (404 unknown) and its entitlement as it is now.
 * 2. Rights: its owner, the entitlement's approvers, the security group (403 for anyone else).
 * 3. State: expired or already revoked is 409.
 * 4. Record the revocation in the ledger of the session's role (one atomic write that also prunes
 *    expired entries; the document must stay under IAM's size or the revocation is refused, 503).
 * 5. Publish the deny list (the generation protocol below). Any STS or IAM failure is 503 and the
 *    session is NOT marked revoked (the ledger keeps the entry, so a retry, or the next revocation
 *    of that role, publishes it: it is never lost, only unconfirmed).
 * 6. Mark the session revoked (conditional: a concurrent revocation of the same session is 409);
 *    audit `revoked` (who, why, whose session). An audit failure after the deny list is in force
 *    does not undo it: it is logged with the audit id, and the session record holds who and why.
 *
 * Revoke a caller (`{caller, reason}`): the same, for every live session of that caller the
 * revoker may revoke, one ledger write and publication per target role. The security group (and
 * the caller themselves) get a SourceIdentity statement per role, which denies every session of
 * that caller issued before now (rounded up to the second), listed or not; an approver gets the
 * audit ids of the sessions of the entitlements they approve, and nothing of anyone else's.
 *
 * Publication, so that concurrent revocations never lose one (docs/revocation.md): every
 * revocation is first an atomic write to the role's ledger, which bumps its generation to g. Then
 * one publisher at a time per role (a lease in the ledger item): a revocation whose generation is
 * already published is done; otherwise it takes the lease when it is free, reads the ledger under
 * it (the latest generation, ≥ g), publishes that document, records its generation as published
 * and gives the lease back; or it waits for whoever holds the lease and checks again. Publications
 * never overlap, so a stale document never lands over a newer one, and whichever publication comes
 * last holds every entry recorded before it was read. Fifty concurrent revocations of one role make
 * a handful of publications, not fifty.
 */
import { revokedRecord } from '../domain/audit';
import { callerId } from '../domain/caller';
import { InvalidRequestError, NotFoundError, VendError } from '../domain/errors';
import {
  ceilSecond,
  DenyListBusyError,
  denyListDocument,
  entryKey,
  entryLive,
  type RevocationEntry,
} from '../domain/revocation';
import { sourceIdentity } from '../domain/session';
import {
  actorOf,
  assertRevocable,
  isApproverOf,
  isLive,
  isSecurity,
  listScope,
  mayRevoke,
  NotAllowedToRevokeError,
  parseRevokeBody,
  parseRevokeCallerBody,
  parseRevokeReason,
  type SessionRecord,
  type SessionRevocation,
  type SessionRights,
  type SessionView,
  sessionView,
} from '../domain/sessions';
import type { Caller, Entitlement } from '../domain/types';
import type { IdGenerator } from '../ids';
import type { VendLog } from '../log';
import type {
  AuditSink,
  DenyListPublisher,
  EntitlementStore,
  RevocationLedger,
  SessionStore,
} from '../ports';
import type { Acting } from './requests';

const DEFAULT_LEASE_MS = 15_000;
const DEFAULT_MAX_WAITS = 120;
/** Mean wait between checks on the publisher in front (jittered ±50 %). */
const WAIT_MS = 50;

/** The ports and settings of the session use cases. */
export interface SessionDeps {
  sessions: SessionStore;
  entitlements: EntitlementStore;
  ledger: RevocationLedger;
  publisher: DenyListPublisher;
  audit: AuditSink;
  rights: SessionRights;
  now: () => Date;
  newId: IdGenerator;
  log: Pick<VendLog, 'error' | 'warn'>;
  /**
   * How long a publisher holds a role's lease (default 15 s: longer than the function's timeout,
   * so a live publisher never loses it; a dead one's lapses).
   */
  leaseMs?: number;
  /** How many times a revocation waits for the publisher in front of it (default 120, about 6 s). */
  maxWaits?: number;
  /** Waits between those checks; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

/** `GET /v1/sessions` query. */
export interface ListSessionsQuery {
  /** `true`/`1`: every live session the caller answers for (approvers, security). */
  all?: string | boolean;
}

/**
 * The caller's live sessions, and with `all` those they answer for, newest first.
 *
 * @throws NotAllowedToListError `all` for someone neither in the security group nor an approver
 * @throws InvalidRequestError `all` that is not true or false
 * @example `await listSessions(deps)({ caller: alice, request: ctx }, {}) // { sessions: [{ auditId, status: 'live', … }] }`
 */
export function listSessions(
  deps: SessionDeps,
): (acting: Acting, query: ListSessionsQuery) => Promise<{ sessions: SessionView[] }> {
  return async ({ caller }, query) => {
    const all = parseAll(query.all);
    const now = deps.now();
    const found = new Map<string, SessionRecord>();
    for (const s of await deps.sessions.listByCaller(callerId(caller), now)) found.set(s.auditId, s);
    if (all) {
      const entitlements = await deps.entitlements.list();
      const scope = listScope(caller, entitlements, deps.rights);
      const ids = scope.kind === 'all' ? entitlements.map((e) => e.id) : scope.ids;
      for (const id of ids) {
        for (const s of await deps.sessions.listByEntitlement(id, now)) found.set(s.auditId, s);
      }
    }
    const sessions = [...found.values()]
      .map((s) => sessionView(s, now))
      .filter((s) => s.status !== 'expired')
      .sort((a, b) => (a.issuedAt < b.issuedAt ? 1 : a.issuedAt > b.issuedAt ? -1 : 0));
    return { sessions };
  };
}

/** Input of {@link revokeSession}. */
export interface RevokeSessionInput extends Acting {
  auditId: string;
  body: unknown;
}

/**
 * Revoke one live session at once (`POST /v1/sessions/{auditId}/revoke`).
 *
 * @throws InvalidRequestError no reason, or another field
 * @throws NotFoundError no session has that audit id
 * @throws NotAllowedToRevokeError not its owner, an approver of its entitlement or in the security group
 * @throws ConflictError expired or already revoked
 * @throws UpstreamUnavailableError the deny list could not be written (the session is not marked revoked)
 * @example `await revokeSession(deps)({ caller: bob, request: ctx, auditId, body: { reason: 'laptop lost' } }) // { status: 'revoked', … }`
 */
export function revokeSession(deps: SessionDeps): (input: RevokeSessionInput) => Promise<SessionView> {
  return async ({ caller, request, auditId, body }) => {
    const { reason } = parseRevokeBody(body);
    const session = await deps.sessions.get(auditId);
    if (session === undefined || session.auditId !== auditId) {
      throw new NotFoundError(`session ${auditId} not found`);
    }
    const entitlement = await deps.entitlements.get(session.entitlement);
    if (!mayRevoke(caller, session, entitlement, deps.rights)) throw new NotAllowedToRevokeError();
    const now = deps.now();
    assertRevocable(session, now);
    await revokeOnRole(deps, caller, session.roleArn, [
      { kind: 'session', auditId: session.auditId, expiresAt: session.expiresAt },
    ]);
    const [done] = await settle(deps, { caller, request }, [session], { reason, scope: 'session', now });
    if (done === undefined) throw new Error('revokeSession: the session was not settled');
    return done;
  };
}

/** Input of {@link revokeCaller}. */
export interface RevokeCallerInput extends Acting {
  body: unknown;
}

/** What {@link revokeCaller} answers. */
export interface RevokeCallerResult {
  caller: string;
  /** ISO 8601: sessions of that caller issued before this time are denied (where it applies). */
  before: string;
  revoked: SessionView[];
}

/**
 * Revoke every live session of one caller that the revoker answers for (`POST /v1/sessions/revoke`,
 * `vend revoke --caller ID`): all of them for the security group and the caller themselves,
 * those of the entitlements they approve for an approver.
 *
 * @throws InvalidRequestError no caller or reason, or another field
 * @throws NotAllowedToRevokeError neither in the security group, an approver of any entitlement,
 *   nor the caller
 * @throws NotFoundError no live, unrevoked session of that caller that the revoker answers for
 * @throws UpstreamUnavailableError a deny list could not be written
 * @example `await revokeCaller(deps)({ caller: bob, request: ctx, body: { caller: aliceId, reason: 'laptop lost' } })`
 */
export function revokeCaller(deps: SessionDeps): (input: RevokeCallerInput) => Promise<RevokeCallerResult> {
  return async ({ caller, request, body }) => {
    const { caller: target, reason } = parseRevokeCallerBody(body);
    const now = deps.now();
    const self = target === callerId(caller);
    const security = isSecurity(caller, deps.rights);
    const entitlements = new Map((await deps.entitlements.list()).map((e) => [e.id, e]));
    const approves = (e: Entitlement | undefined) => isApproverOf(caller, e);
    if (!self && !security && ![...entitlements.values()].some(approves)) {
      throw new NotAllowedToRevokeError(
        'you may not revoke a caller: only the security group, the approvers of an entitlement and the caller themselves may',
      );
    }
    const live = (await deps.sessions.listByCaller(target, now)).filter(
      (s) => s.caller.id === target && isLive(s, now) && s.revocation === undefined,
    );
    const allowed = live.filter((s) => self || security || approves(entitlements.get(s.entitlement)));
    if (allowed.length === 0) {
      throw new NotFoundError('that caller has no live session you may revoke');
    }
    const before = ceilSecond(now);
    const byRole = new Map<string, SessionRecord[]>();
    for (const s of allowed) byRole.set(s.roleArn, [...(byRole.get(s.roleArn) ?? []), s]);
    for (const [roleArn, sessions] of byRole) {
      const first = sessions[0] as SessionRecord;
      const entries: RevocationEntry[] =
        self || security
          ? [{ kind: 'caller', sourceIdentity: first.sourceIdentity, before }]
          : sessions.map((s) => ({ kind: 'session', auditId: s.auditId, expiresAt: s.expiresAt }));
      await revokeOnRole(deps, caller, roleArn, entries);
    }
    const revoked = await settle(deps, { caller, request }, allowed, { reason, scope: 'caller', now });
    return { caller: target, before, revoked };
  };
}

/** Input of {@link revokeRequestSessions}. */
export interface RevokeRequestInput extends Acting {
  /** The access request (a break-glass one, from Slack) whose sessions to revoke. */
  accessRequestId: string;
  /** Its requester (the sessions' owner), as a caller id. */
  requesterId: string;
  /** Its entitlement (whose approvers may revoke). */
  entitlement: string;
  reason: string;
}

/**
 * Revoke every live session vended under one access request (the Slack Revoke button of a
 * break-glass broadcast). Who may: the requester, the entitlement's approvers and the security
 * group, checked before anything about the sessions is told.
 *
 * @throws NotAllowedToRevokeError the caller may not revoke them
 * @throws NotFoundError no live, unrevoked session was vended under that request
 * @example `await revokeRequestSessions(deps)({ caller: bob, request: ctx, accessRequestId, requesterId, entitlement: 'prod-admin', reason: 'revoked from Slack' })`
 */
export function revokeRequestSessions(
  deps: SessionDeps,
): (input: RevokeRequestInput) => Promise<SessionView[]> {
  return async ({
    caller,
    request,
    accessRequestId,
    requesterId,
    entitlement: entitlementId,
    reason: rawReason,
  }) => {
    const reason = parseRevokeReason(rawReason);
    const entitlement = await deps.entitlements.get(entitlementId);
    const owner = { caller: { id: requesterId, kind: 'person' as const, label: '' } };
    if (!mayRevoke(caller, owner, entitlement, deps.rights)) throw new NotAllowedToRevokeError();
    const now = deps.now();
    const sessions = (await deps.sessions.listByCaller(requesterId, now)).filter(
      (s) => s.accessRequestId === accessRequestId && isLive(s, now) && s.revocation === undefined,
    );
    if (sessions.length === 0) throw new NotFoundError('no live session was vended under this request');
    const byRole = new Map<string, SessionRecord[]>();
    for (const s of sessions) byRole.set(s.roleArn, [...(byRole.get(s.roleArn) ?? []), s]);
    for (const [roleArn, list] of byRole) {
      await revokeOnRole(
        deps,
        caller,
        roleArn,
        list.map((s) => ({ kind: 'session', auditId: s.auditId, expiresAt: s.expiresAt })),
      );
    }
    return settle(deps, { caller, request }, sessions, { reason, scope: 'session', now });
  };
}

/**
 * Steps 4 and 5: record the entries in the role's ledger (pruning what has expired) and publish
 * the deny list until a publication holds them.
 */
async function revokeOnRole(
  deps: SessionDeps,
  caller: Caller,
  roleArn: string,
  entries: readonly RevocationEntry[],
): Promise<void> {
  const now = deps.now();
  const before = await deps.ledger.read(roleArn);
  const expired = before.entries.filter((e) => !entryLive(e, now));
  // Refuse before recording when the list cannot hold it (throws DenyListFullError, 503).
  const keysAdded = new Set(entries.map(entryKey));
  denyListDocument(roleArn, [...before.entries.filter((e) => !keysAdded.has(entryKey(e))), ...entries], now);
  const recorded = await deps.ledger.record(roleArn, entries, { prune: expired });
  await publish(deps, roleArn, recorded.generation, sourceIdentity(caller));
}

async function publish(
  deps: SessionDeps,
  roleArn: string,
  generation: number,
  revokedBy: string,
): Promise<void> {
  const owner = deps.newId(deps.now());
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const waits = deps.maxWaits ?? DEFAULT_MAX_WAITS;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let wait = 0; wait <= waits; wait++) {
    // Someone published a document that holds this revocation.
    if ((await deps.ledger.read(roleArn)).published >= generation) return;
    const now = deps.now();
    if (await deps.ledger.acquire(roleArn, owner, new Date(now.getTime() + leaseMs), now)) {
      try {
        // Read under the lease, after this revocation's own write: the latest state holds it.
        const latest = await deps.ledger.read(roleArn);
        if (latest.published < latest.generation) {
          const document = denyListDocument(roleArn, latest.entries, deps.now());
          await deps.publisher.publish({ roleArn, document, revokedBy });
          await deps.ledger.markPublished(roleArn, latest.generation);
        }
        return;
      } finally {
        await deps.ledger.release(roleArn, owner).catch((e: unknown) => {
          deps.log.warn('revocation lease not released; it lapses by itself', {
            errorName: e instanceof Error ? e.name : typeof e,
          });
        });
      }
    }
    if (wait < waits) await sleep(WAIT_MS / 2 + Math.random() * WAIT_MS);
  }
  throw new DenyListBusyError(roleArn);
}

/** Step 6: mark each session revoked and audit it; answers the sessions as they now stand. */
async function settle(
  deps: SessionDeps,
  acting: Acting,
  sessions: readonly SessionRecord[],
  how: { reason: string; scope: SessionRevocation['scope']; now: Date },
): Promise<SessionView[]> {
  const revocation: SessionRevocation = {
    at: how.now.toISOString(),
    by: actorOf(acting.caller),
    reason: how.reason,
    scope: how.scope,
  };
  const out: SessionView[] = [];
  for (const s of sessions) {
    // A concurrent revocation of the same session marks it first: 409 for one session, and for a
    // caller's sessions that one is simply already revoked.
    try {
      await deps.sessions.markRevoked(s.auditId, revocation);
    } catch (e) {
      if (sessions.length === 1 || !(e instanceof VendError) || e.status !== 409) throw e;
      continue;
    }
    await audit(deps, acting, s, revocation);
    out.push(sessionView({ ...s, revocation }, how.now));
  }
  return out;
}

async function audit(
  deps: SessionDeps,
  acting: Acting,
  s: SessionRecord,
  revocation: SessionRevocation,
): Promise<void> {
  try {
    await deps.audit.append(
      revokedRecord({
        id: deps.newId(deps.now()),
        time: deps.now(),
        auditId: s.auditId,
        request: acting.request,
        caller: acting.caller,
        revokedCaller: s.caller,
        entitlement: s.entitlement,
        roleArn: s.roleArn,
        sourceIdentity: s.sourceIdentity,
        reason: revocation.reason,
        scope: revocation.scope,
      }),
    );
  } catch (e) {
    // The deny list is in force; the session record holds who and why. Reconcile from it.
    deps.log.error('revoked audit record not written; the session record holds the revocation', {
      auditId: s.auditId,
      entitlement: s.entitlement,
      callerId: callerId(acting.caller),
      errorName: e instanceof Error ? e.name : typeof e,
    });
  }
}

function parseAll(value: string | boolean | undefined): boolean {
  if (value === undefined || value === '' || value === false || value === 'false' || value === '0')
    return false;
  if (value === true || value === 'true' || value === '1') return true;
  throw new InvalidRequestError('all must be true or false');
}
