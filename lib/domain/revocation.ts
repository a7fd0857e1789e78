/**
 * The revocation deny list of one target role (docs/revocation.md): which entries it holds, when an
 * entry may be pruned, and the exact policy document built from them. Pure: the ledger that holds
 * the entries (DynamoDB) and the publisher that writes the document (IAM, through the account's
 * vend-revoker role) are ports.
 *
 * An entry is immutable once written, and its key says what it is, so two writers never change
 * the same entry and pruning an expired one can never remove a live revocation:
 * - `S#<auditId>`: the session with that `vend:audit-id`, until it expires;
 * - `C#<16 hex of SHA-256(SourceIdentity)>#<before>`: every session of that SourceIdentity issued
 *   before `before` (a later revocation of the same caller is a new entry; the document keeps the
 *   latest time per caller, which covers the earlier ones).
 */
import { createHash } from 'node:crypto';
import { roleNameOf } from './caller';
import { UpstreamUnavailableError } from './errors';
import { ROLE_CHAINING_MAX_SECONDS } from './limits';

/** One revoked session, by audit id. */
export interface SessionEntry {
  kind: 'session';
  auditId: string;
  /** The session's Expiration (ISO 8601). */
  expiresAt: string;
}

/** Every session of one caller issued before a time. */
export interface CallerEntry {
  kind: 'caller';
  sourceIdentity: string;
  /** ISO 8601, whole seconds (the revocation time rounded up). */
  before: string;
}

/** An entry of a deny list. */
export type RevocationEntry = SessionEntry | CallerEntry;

/** IAM's limit on a managed policy document, counted without whitespace. */
export const POLICY_MAX_CHARS = 6144;

/** Sessions by audit id are grouped by expiry rounded up to this many minutes (docs/revocation.md). */
const BUCKET_MINUTES = 15;
const BUCKET_MS = BUCKET_MINUTES * 60_000;

/**
 * The deny list would be too big for IAM's 6,144 characters: the revocation is refused loudly,
 * never dropped (503 `upstream_unavailable`: not the caller's fault, and it passes as entries
 * expire).
 * @example `throw new DenyListFullError('arn:aws:iam::444455556666:role/ProdReadOnly')`
 */
export class DenyListFullError extends UpstreamUnavailableError {
  readonly roleArn: string;
  constructor(roleArn: string) {
    super(
      `the deny list of ${roleArn} would exceed IAM's ${POLICY_MAX_CHARS} characters; revoke the caller instead, or retry once older revocations expire`,
      60,
    );
    this.roleArn = roleArn;
  }
}

/**
 * The deny list kept changing under vend's publication for longer than it waits: the revocation
 * is recorded and the next publication carries it, but it is not confirmed (503; a retry confirms it).
 * @example `throw new DenyListBusyError('arn:aws:iam::444455556666:role/ProdReadOnly')`
 */
export class DenyListBusyError extends UpstreamUnavailableError {
  constructor(roleArn: string) {
    super(`the deny list of ${roleArn} is changing too fast to confirm the revocation; retry shortly`, 1);
  }
}

/**
 * The ledger key of an entry (stable, and unique per revocation).
 * @example `entryKey({ kind: 'session', auditId: '01KB…', expiresAt }) // 'S#01KB…'`
 */
export function entryKey(entry: RevocationEntry): string {
  return entry.kind === 'session'
    ? `S#${entry.auditId}`
    : `C#${callerHash(entry.sourceIdentity)}#${entry.before}`;
}

/**
 * When an entry has done its job and may be pruned: a session entry when its bucket has passed
 * (every session in it has expired), a caller entry an hour after its time (vend's sessions last
 * at most an hour, console sessions included).
 * @example `entryPrunableAt({ kind: 'caller', sourceIdentity: 'a@x', before: '2026-11-29T10:00:00Z' }) // 11:00:00Z`
 */
export function entryPrunableAt(entry: RevocationEntry): Date {
  return entry.kind === 'session'
    ? bucketEnd(entry.expiresAt)
    : new Date(Date.parse(entry.before) + ROLE_CHAINING_MAX_SECONDS * 1000);
}

/** Is the entry still needed at `now`? */
export function entryLive(entry: RevocationEntry, now: Date): boolean {
  return entryPrunableAt(entry).getTime() > now.getTime();
}

/**
 * A revocation time as the caller statement holds it: rounded UP to the whole second, so a session
 * issued earlier in that second is denied too (fail closed); one issued after it is not.
 * @example `ceilSecond(new Date('2026-11-29T10:15:00.120Z')) // '2026-11-29T10:15:01Z'`
 */
export function ceilSecond(time: Date): string {
  return new Date(Math.ceil(time.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The deny list's managed policy: `arn:aws:iam::<account>:policy/vend/vend-revocations-<RoleName>`.
 * @example `denyListArn('arn:aws:iam::444455556666:role/ProdReadOnly') // 'arn:aws:iam::444455556666:policy/vend/vend-revocations-ProdReadOnly'`
 */
export function denyListArn(roleArn: string): string {
  return `arn:aws:iam::${accountOf(roleArn)}:policy/vend/vend-revocations-${roleNameOf(roleArn)}`;
}

/**
 * The account's revoker role, which the broker assumes to version the deny lists.
 * @example `revokerRoleArn('444455556666') // 'arn:aws:iam::444455556666:role/vend/vend-revoker'`
 */
export function revokerRoleArn(account: string): string {
  return `arn:aws:iam::${account}:role/vend/vend-revoker`;
}

/**
 * The account of an IAM ARN (its fifth field).
 * @example `accountOf('arn:aws:iam::444455556666:role/ProdReadOnly') // '444455556666'`
 */
export function accountOf(arn: string): string {
  return arn.split(':')[4] ?? '';
}

/**
 * The deny-list document for the live entries at `now` (expired ones are left out), exactly as
 * docs/revocation.md specifies: `VendBoundary` first, then one statement per expiry bucket of
 * revoked audit ids (oldest first), then one per revoked caller (the latest time of each).
 *
 * @throws DenyListFullError the document would be over 6,144 characters
 * @example
 * ```ts
 * denyListDocument('arn:aws:iam::444455556666:role/ProdReadOnly', entries, now);
 * // '{"Version":"2012-10-17","Statement":[{"Sid":"VendBoundary",…},{"Sid":"VendRevokedSessionsUntil202611291115",…}]}'
 * ```
 */
export function denyListDocument(roleArn: string, entries: readonly RevocationEntry[], now: Date): string {
  const live = entries.filter((e) => entryLive(e, now));
  const buckets = new Map<string, Set<string>>();
  const callers = new Map<string, string>();
  for (const e of live) {
    if (e.kind === 'session') {
      const stamp = minuteStamp(bucketEnd(e.expiresAt));
      const ids = buckets.get(stamp) ?? new Set<string>();
      ids.add(e.auditId);
      buckets.set(stamp, ids);
    } else {
      const prior = callers.get(e.sourceIdentity);
      if (prior === undefined || Date.parse(e.before) > Date.parse(prior))
        callers.set(e.sourceIdentity, e.before);
    }
  }
  const statements: object[] = [{ Sid: 'VendBoundary', Effect: 'Allow', Action: '*', Resource: '*' }];
  for (const stamp of [...buckets.keys()].sort()) {
    statements.push({
      Sid: `VendRevokedSessionsUntil${stamp}`,
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:PrincipalTag/vend:audit-id': [...(buckets.get(stamp) ?? [])].sort() },
      },
    });
  }
  for (const [sourceIdentity, before] of [...callers.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    statements.push({
      Sid: `VendRevokedCaller${callerHash(sourceIdentity)}`,
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:SourceIdentity': sourceIdentity },
        DateLessThan: { 'aws:TokenIssueTime': before },
      },
    });
  }
  const document = JSON.stringify({ Version: '2012-10-17', Statement: statements });
  if (document.length > POLICY_MAX_CHARS) throw new DenyListFullError(roleArn);
  return document;
}

/** `C#<this>`: the first 16 hex of SHA-256 of the SourceIdentity, upper case (a Sid is alphanumeric). */
function callerHash(sourceIdentity: string): string {
  return createHash('sha256').update(sourceIdentity, 'utf8').digest('hex').slice(0, 16).toUpperCase();
}

/** The end of an expiry's bucket: the time rounded UP to the quarter hour. */
function bucketEnd(iso: string): Date {
  const ms = Date.parse(iso);
  return new Date(Math.ceil(ms / BUCKET_MS) * BUCKET_MS);
}

/** `202611291115`: UTC to the minute (Sids are alphanumeric). */
function minuteStamp(d: Date): string {
  return d.toISOString().slice(0, 16).replace(/[-:T]/g, '');
}
