/**
 * The vend request body (CONTRACT §4): `{ entitlement, durationSeconds?, policy?, reason? }` and
 * nothing else. Everything STS would otherwise take from a caller (role, ExternalId, session name,
 * SourceIdentity, tags, managed policy ARNs, account) is set by vend; a body that tries to set one
 * is refused with a message naming the field, never silently ignored, so the caller learns that
 * their intent was not honoured.
 */

import { parseRequestedDuration } from './duration';
import { InvalidRequestError } from './errors';
import { ENTITLEMENT_ID } from './limits';

/** A validated vend request. */
export interface VendRequest {
  entitlement: string;
  durationSeconds?: number;
  policy?: string | object;
  reason?: string;
}

/** The longest `reason` accepted. */
export const REASON_MAX_CHARS = 512;

const ALLOWED = new Set(['entitlement', 'durationSeconds', 'policy', 'reason']);

// Keys (lower-cased, so `RoleArn` as STS spells it is caught too) that vend sets itself.
const SET_BY_VEND: Record<string, string> = {
  rolearn: 'roleArn',
  externalid: 'externalId',
  sessionname: 'sessionName',
  rolesessionname: 'roleSessionName',
  sourceidentity: 'sourceIdentity',
  tags: 'tags',
  transitivetagkeys: 'transitiveTagKeys',
  account: 'account',
  accountid: 'accountId',
  policyarns: 'policyArns',
};

/**
 * Validate a vend request body (already JSON-parsed).
 *
 * @throws InvalidRequestError not an object; a field vend sets itself ("roleArn is set by vend, not by
 *   the caller"); an unknown field; a missing or malformed entitlement; a policy that is neither
 *   string nor object; a reason that is not a string of at most 512 characters.
 * @throws DurationOutOfRangeError a durationSeconds that is not a whole number in [900, 3600] (a
 *   string such as "3600" included; lib/domain/duration.ts)
 * @example
 * ```ts
 * parseVendRequest({ entitlement: 'prod-s3-read', durationSeconds: 900 });
 * // { entitlement: 'prod-s3-read', durationSeconds: 900 }
 * parseVendRequest({ entitlement: 'prod-s3-read', roleArn: 'arn:…' }); // throws InvalidRequestError
 * ```
 */
export function parseVendRequest(body: unknown): VendRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequestError('the body must be a JSON object: { "entitlement": "<id>", … }');
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    // Own keys only: a body's `__proto__` or `constructor` must not find Object.prototype's.
    const lower = key.toLowerCase();
    const reserved = Object.hasOwn(SET_BY_VEND, lower) ? SET_BY_VEND[lower] : undefined;
    if (reserved !== undefined) {
      throw new InvalidRequestError(`${reserved} is set by vend, not by the caller`);
    }
  }
  for (const key of Object.keys(b)) {
    if (!ALLOWED.has(key)) {
      throw new InvalidRequestError(
        `unknown field "${printable(key)}"; allowed: entitlement, durationSeconds, policy, reason`,
      );
    }
  }

  if (typeof b.entitlement !== 'string' || b.entitlement === '') {
    throw new InvalidRequestError('entitlement is required: the id of an entitlement, e.g. "prod-readonly"');
  }
  if (!ENTITLEMENT_ID.test(b.entitlement)) {
    throw new InvalidRequestError('entitlement must be an entitlement id: [a-z0-9][a-z0-9-]{1,62}');
  }
  const out: VendRequest = { entitlement: b.entitlement };

  // A string ("3600") is refused rather than coerced (coercion hides client bugs), and so is
  // anything outside [900, 3600]; the entitlement's own maximum is checked once it is read.
  const duration = parseRequestedDuration(b.durationSeconds);
  if (duration !== undefined) out.durationSeconds = duration;

  if (b.policy !== undefined) {
    const p = b.policy;
    if (typeof p !== 'string' && (p === null || typeof p !== 'object' || Array.isArray(p))) {
      throw new InvalidRequestError('policy must be an IAM policy document (an object, or a JSON string)');
    }
    out.policy = p;
  }

  if (b.reason !== undefined) {
    if (typeof b.reason !== 'string' || b.reason.length > REASON_MAX_CHARS) {
      throw new InvalidRequestError(`reason must be a string of at most ${REASON_MAX_CHARS} characters`);
    }
    out.reason = b.reason;
  }
  return out;
}

// Echo an unknown key only in a short, printable form.
function printable(key: string): string {
  const cleaned = key.replace(/[^\x20-\x7E]/g, '?');
  return cleaned.length > 64 ? `${cleaned.slice(0, 64)}…` : cleaned;
}
