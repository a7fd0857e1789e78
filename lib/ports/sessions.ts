/**
 * The ports of live sessions, revocation and console sign-in (lib/usecases/sessions.ts,
 * lib/usecases/console.ts, and the vend path, which records every session it hands out). Adapters:
 * lib/dynamodb/session-store.ts and revocation-ledger.ts (the requests table),
 * lib/revocation/iam-deny-list.ts (IAM through the account's vend-revoker role) and
 * lib/federation/signin.ts (the AWS federation endpoint). Nothing here does I/O.
 */
import type { RevocationEntry } from '../domain/revocation';
import type { SessionRecord, SessionRevocation } from '../domain/sessions';

/**
 * Where vend remembers the sessions it handed out.
 *
 * @example
 * await sessions.put(record); // once per vend, after the `issued` audit record
 * const mine = await sessions.listByCaller(callerId(alice), now);
 */
export interface SessionStore {
  /** Stores a new session; an existing audit id is a ConflictError. Failures are 503. */
  put(record: SessionRecord): Promise<void>;
  get(auditId: string): Promise<SessionRecord | undefined>;
  /** One caller's sessions that expire after `now`, soonest expiry first. */
  listByCaller(callerId: string, now: Date): Promise<SessionRecord[]>;
  /** One entitlement's sessions that expire after `now`, soonest expiry first. */
  listByEntitlement(entitlement: string, now: Date): Promise<SessionRecord[]>;
  /**
   * Marks a session revoked, on condition that it is not already.
   * @throws ConflictError already revoked (or unknown)
   */
  markRevoked(auditId: string, revocation: SessionRevocation): Promise<void>;
}

/** A target role's deny list as the ledger holds it. */
export interface LedgerState {
  roleArn: string;
  /** Bumped by every recorded revocation. */
  generation: number;
  /** The highest generation known to be published (0 when none). */
  published: number;
  entries: RevocationEntry[];
}

/**
 * The source of truth of every target role's deny list (docs/revocation.md, "Concurrent
 * revocations"): one item per role, changed only by atomic single-item writes, so concurrent
 * revocations never lose one. IAM is a projection of it, written by one publisher at a time per
 * role (the lease), so a stale document never lands over a newer one.
 *
 * @example
 * const state = await ledger.record(roleArn, [entry], { prune: expiredEntries });
 * if (await ledger.acquire(roleArn, me, leaseEnd, now)) { … publish …; await ledger.release(roleArn, me); }
 */
export interface RevocationLedger {
  /** The role's state; `generation` 0 and no entries when nothing was ever revoked. */
  read(roleArn: string): Promise<LedgerState>;
  /**
   * Adds entries and removes pruned ones in ONE atomic write that bumps the generation; answers
   * the state right after that write.
   */
  record(
    roleArn: string,
    add: readonly RevocationEntry[],
    options?: { prune?: readonly RevocationEntry[] },
  ): Promise<LedgerState>;
  /** Remembers that `generation` is published (never lowers it). */
  markPublished(roleArn: string, generation: number): Promise<void>;
  /**
   * Takes the role's publication lease until `until`, when it is free or has lapsed at `now`
   * (one conditional write); `false` when someone else holds it.
   */
  acquire(roleArn: string, owner: string, until: Date, now: Date): Promise<boolean>;
  /** Gives the lease back if `owner` still holds it. */
  release(roleArn: string, owner: string): Promise<void>;
}

/**
 * Writes a target role's deny list in its account (a new default version of the role's
 * `vend/vend-revocations-<RoleName>` policy), as `revokedBy` (the revoker's SourceIdentity).
 *
 * @example await publisher.publish({ roleArn, document, revokedBy: 'bob@example.com' });
 */
export interface DenyListPublisher {
  /** Throws a 503 VendError (`upstream_unavailable`) when STS or IAM fails or refuses. */
  publish(input: { roleArn: string; document: string; revokedBy: string }): Promise<void>;
}

/** A session's temporary credentials, as the federation endpoint takes them. Secret: never logged. */
export interface SigninSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/**
 * The AWS federation endpoint's `getSigninToken` (never with `SessionDuration`: vend's sessions are
 * role-chained, docs/revocation.md "Timing").
 *
 * @example const token = await signin.getSigninToken(session);
 */
export interface SigninTokenIssuer {
  /** The federation endpoint's URL (the login URL is built on it). */
  readonly federationUrl: string;
  /** Throws a 503 VendError (`upstream_unavailable`) when the endpoint fails or refuses. */
  getSigninToken(session: SigninSession): Promise<string>;
}
