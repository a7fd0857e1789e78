/**
 * What vend tells STS about each session, all server-set: RoleSessionName, SourceIdentity and
 * session tags. Callers cannot influence any of it except through their authenticated identity.
 *
 * - RoleSessionName `vend-<label>-<auditId>`: readable in CloudTrail and in the assumed-role ARN, and
 *   unique per vend because it ends with the audit id.
 * - SourceIdentity: the caller. STS makes it immutable and carries it through role chaining, so
 *   whatever the vended session does downstream stays attributed to the person or workload.
 *   Services: `<role name>@<account>`. People: the email when it is a valid SourceIdentity as is
 *   (ASCII, ≤ 64), else the OIDC subject. Email is a display attribute here, not an identity: the
 *   audit record holds the unambiguous `issuer#subject`. Values outside STS's charset or length are
 *   sanitised and suffixed with a short hash of the original so distinct callers stay distinct.
 * - Session tags `vend:*`, all **transitive**: if the vended session assumes another role, the tags
 *   follow it and cannot be overridden there, so downstream ABAC and CloudTrail still see who vended.
 */
import { createHash } from 'node:crypto';
import { callerId, roleNameOf } from './caller';
import { InvalidAuditIdError } from './errors';
import { STS_NAME, STS_TAG_CHAR, STS_TAG_KEY_MAX, STS_TAG_VALUE_MAX } from './limits';
import type { Caller, Entitlement } from './types';

/** A session tag as STS takes it. */
export interface SessionTag {
  Key: string;
  Value: string;
}

const SESSION_NAME_PREFIX = 'vend-';
const AUDIT_ID = /^[A-Za-z0-9_+=,.@-]{1,40}$/;
const NAME_CHAR = /[A-Za-z0-9_+=,.@-]/;

/**
 * The RoleSessionName for one vend: `vend-<label>-<auditId>`, at most 64 characters of `[\w+=,.@-]`.
 * The label (role name, or the email's local part, or the subject) is sanitised and truncated; the
 * audit id is kept whole, which makes the name unique.
 *
 * @throws InvalidAuditIdError the audit id is not 1–40 characters of the STS charset (a vend bug)
 * @example
 * ```ts
 * sessionName({ caller: alice, auditId: '01JD5Z3Q9R8X7W6V5T4S3R2Q1P' }); // 'vend-alice-01JD5Z3Q9R8X7W6V5T4S3R2Q1P'
 * ```
 */
export function sessionName(input: { caller: Caller; auditId: string }): string {
  const { caller, auditId } = input;
  if (!AUDIT_ID.test(auditId)) {
    throw new InvalidAuditIdError(
      'audit id must be 1–40 characters of [A-Za-z0-9_+=,.@-] to fit a session name',
    );
  }
  const raw =
    caller.kind === 'service'
      ? roleNameOf(caller.roleArn)
      : caller.email !== undefined
        ? (caller.email.split('@')[0] ?? '')
        : caller.subject;
  const budget = 64 - SESSION_NAME_PREFIX.length - 1 - auditId.length;
  const label = sanitiseName(raw).slice(0, budget).replace(/-+$/, '');
  return label === '' ? `${SESSION_NAME_PREFIX}${auditId}` : `${SESSION_NAME_PREFIX}${label}-${auditId}`;
}

/**
 * The SourceIdentity for a caller: 2–64 characters of `[\w+=,.@-]` (so never the reserved `aws:`
 * prefix, as `:` is outside the charset).
 *
 * @example
 * ```ts
 * sourceIdentity(ciService); // 'CICDDeployRole@111122223333'
 * sourceIdentity(alice);     // 'alice@example.com'
 * ```
 */
export function sourceIdentity(caller: Caller): string {
  if (caller.kind === 'service') return stsName(`${roleNameOf(caller.roleArn)}@${caller.account}`);
  if (caller.email !== undefined && STS_NAME.test(caller.email)) return caller.email;
  return stsName(caller.subject);
}

/**
 * The session tags vend sets on every vend (keys ≤ 128, values sanitised to STS's tag charset, ≤ 256):
 * `vend:entitlement`, `vend:caller` (the caller id), `vend:caller-kind` (`service` | `person`),
 * `vend:audit-id`.
 *
 * @example
 * ```ts
 * sessionTags({ caller: ciService, entitlement: prodReadonly, auditId: 'a1' });
 * // [{ Key: 'vend:entitlement', Value: 'prod-readonly' }, { Key: 'vend:caller', Value: 'arn:aws:iam::111122223333:role/CICDDeployRole' }, …]
 * ```
 */
export function sessionTags(input: {
  caller: Caller;
  entitlement: Pick<Entitlement, 'id'>;
  auditId: string;
}): SessionTag[] {
  const tags: SessionTag[] = [
    { Key: 'vend:entitlement', Value: input.entitlement.id },
    { Key: 'vend:caller', Value: callerId(input.caller) },
    { Key: 'vend:caller-kind', Value: input.caller.kind },
    { Key: 'vend:audit-id', Value: input.auditId },
  ];
  return tags.map((t) => ({ Key: t.Key.slice(0, STS_TAG_KEY_MAX), Value: tagValue(t.Value) }));
}

/**
 * The keys to pass as TransitiveTagKeys: every `vend:*` tag (see the module comment for why).
 * @example `transitiveTagKeys(sessionTags({ caller, entitlement, auditId })) // ['vend:entitlement', …]`
 */
export function transitiveTagKeys(tags: readonly SessionTag[]): string[] {
  return tags.map((t) => t.Key).filter((k) => k.startsWith('vend:'));
}

function sanitiseName(value: string): string {
  return Array.from(value, (c) => (NAME_CHAR.test(c) ? c : '-'))
    .join('')
    .replace(/-{2,}/g, '-')
    .replace(/^-+/, '');
}

function shortHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 8);
}

// A valid STS name from any string: unchanged if already valid, else sanitised, truncated, and
// suffixed with a hash of the original so two different inputs do not collapse to one name.
function stsName(value: string): string {
  if (STS_NAME.test(value)) return value;
  const suffix = `-${shortHash(value)}`;
  const base = sanitiseName(value).slice(0, 64 - suffix.length);
  return `${base}${suffix}`;
}

function tagValue(value: string): string {
  const chars = Array.from(value, (c) => (STS_TAG_CHAR.test(c) ? c : '_'));
  const cleaned = chars.join('');
  if (chars.length <= STS_TAG_VALUE_MAX && cleaned === value) return value;
  const suffix = `-${shortHash(value)}`;
  // Truncate by code points so a surrogate pair is never split.
  return chars.slice(0, STS_TAG_VALUE_MAX - suffix.length).join('') + suffix;
}
