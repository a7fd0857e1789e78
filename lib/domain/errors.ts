/**
 * The failures vend answers with, one class per failure. Each carries the stable problem `code` and
 * HTTP `status` of CONTRACT §4 and a `detail` that is safe to show the caller: it never contains a
 * SecretAccessKey, SessionToken, ExternalId or signing secret. The HTTP layer (lib/http) turns these
 * into RFC 9457 problem+json in one place; anything that is not a VendError becomes a generic 500.
 */

/** Every stable problem code of CONTRACT §4, with its HTTP status. */
export const PROBLEM_STATUS = {
  invalid_request: 400,
  duration_out_of_range: 400,
  policy_too_large: 400,
  unauthenticated: 401,
  not_entitled: 403,
  approval_required: 403,
  policy_exceeds_ceiling: 403,
  self_approval: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  upstream_unavailable: 503,
  audit_unavailable: 503,
} as const;

/** A stable problem code, e.g. `not_entitled`. */
export type ProblemCode = keyof typeof PROBLEM_STATUS;

/** Short human titles per code, for the problem document's `title`. */
export const PROBLEM_TITLE: Record<ProblemCode, string> = {
  invalid_request: 'Invalid request',
  duration_out_of_range: 'Duration out of range',
  policy_too_large: 'Session policy too large',
  unauthenticated: 'Unauthenticated',
  not_entitled: 'Not entitled',
  approval_required: 'Approval required',
  policy_exceeds_ceiling: 'Session policy exceeds the ceiling',
  self_approval: 'Self-approval is not allowed',
  not_found: 'Not found',
  conflict: 'Conflict',
  payload_too_large: 'Payload too large',
  rate_limited: 'Rate limited',
  upstream_unavailable: 'Upstream unavailable',
  audit_unavailable: 'Audit unavailable',
};

/**
 * Base of every failure vend reports to a caller.
 *
 * @example
 * ```ts
 * try { resolveDuration({ requested: 3601, entitlement }); }
 * catch (e) { if (e instanceof VendError) console.log(e.status, e.code, e.detail); } // 400 duration_out_of_range …
 * ```
 */
export abstract class VendError extends Error {
  /** The stable problem code (CONTRACT §4). */
  abstract readonly code: ProblemCode;
  /** A caller-safe explanation. Never a secret. */
  readonly detail: string;

  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.detail = detail;
    this.name = new.target.name;
  }

  /** The HTTP status for `code`. */
  get status(): number {
    return PROBLEM_STATUS[this.code];
  }

  /** The problem document's `title`. */
  get title(): string {
    return PROBLEM_TITLE[this.code];
  }
}

/**
 * The body or a parameter is malformed (400 `invalid_request`).
 * @example `throw new InvalidRequestError('roleArn is set by vend, not by the caller')`
 */
export class InvalidRequestError extends VendError {
  readonly code = 'invalid_request';
}

/**
 * The requested duration is outside what the entitlement allows (400 `duration_out_of_range`).
 * @example `throw new DurationOutOfRangeError('durationSeconds must be between 900 and 3600 (got 3601)')`
 */
export class DurationOutOfRangeError extends VendError {
  readonly code = 'duration_out_of_range';
}

/**
 * The session policy exceeds STS's 2,048-character plaintext limit (400 `policy_too_large`).
 * @example `throw new PolicyTooLargeError('the session policy is 2300 characters; the limit is 2048')`
 */
export class PolicyTooLargeError extends VendError {
  readonly code = 'policy_too_large';
}

/**
 * No identity vend accepts could be read from the request (401 `unauthenticated`).
 * @example `throw new UnauthenticatedError('no IAM or JWT authorizer context on the request')`
 */
export class UnauthenticatedError extends VendError {
  readonly code = 'unauthenticated';
}

/**
 * The caller may not use this entitlement, or it does not exist: both answer the same so that
 * callers cannot probe which entitlements exist (403 `not_entitled`).
 * @example `throw new NotEntitledError('prod-admin')`
 */
export class NotEntitledError extends VendError {
  readonly code = 'not_entitled';
  readonly entitlement: string;
  constructor(entitlement: string, options?: { cause?: unknown }) {
    super(`you are not entitled to "${safeId(entitlement)}", or it does not exist`, options);
    this.entitlement = safeId(entitlement);
  }
}

/**
 * The caller may only reach this entitlement through an approved request or break-glass
 * (403 `approval_required`).
 * @example `throw new ApprovalRequiredError('prod-admin')`
 */
export class ApprovalRequiredError extends VendError {
  readonly code = 'approval_required';
  readonly entitlement: string;
  constructor(entitlement: string, options?: { cause?: unknown }) {
    super(
      `"${safeId(entitlement)}" needs an approved request: POST /v1/requests, then POST /v1/requests/{id}/credentials`,
      options,
    );
    this.entitlement = safeId(entitlement);
  }
}

// Entitlement ids come from callers here; echo one only when it has the shape of an id, so a detail
// never repeats arbitrary caller text (or a secret pasted into the wrong field).
function safeId(id: string): string {
  return /^[a-z0-9][a-z0-9-]{0,63}$/.test(id) ? id : '(invalid id)';
}

/** Where a requested session policy falls outside the ceiling. */
export interface CeilingViolation {
  statement: number;
  sid?: string;
  action?: string;
  resource?: string;
}

/**
 * The requested session policy allows something the entitlement's ceiling does not
 * (403 `policy_exceeds_ceiling`). `violation` names the first statement, action or resource.
 * @example `throw new PolicyExceedsCeilingError('Statement[0] allows s3:PutObject …', { statement: 0, action: 's3:PutObject' })`
 */
export class PolicyExceedsCeilingError extends VendError {
  readonly code = 'policy_exceeds_ceiling';
  readonly violation: CeilingViolation;
  constructor(detail: string, violation: CeilingViolation, options?: { cause?: unknown }) {
    super(detail, options);
    this.violation = violation;
  }
}

/**
 * An approver tried to decide their own request (403 `self_approval`).
 * @example `throw new SelfApprovalError('you cannot approve your own request')`
 */
export class SelfApprovalError extends VendError {
  readonly code = 'self_approval';
}

/**
 * The addressed resource (e.g. a request id) does not exist or is not visible (404 `not_found`).
 * @example `throw new NotFoundError('request 01J… not found')`
 */
export class NotFoundError extends VendError {
  readonly code = 'not_found';
}

/**
 * A conditional state change lost a race or the state forbids it (409 `conflict`).
 * @example `throw new ConflictError('request 01J… is already approved')`
 */
export class ConflictError extends VendError {
  readonly code = 'conflict';
}

/**
 * The request body is larger than vend accepts (413 `payload_too_large`).
 * @example `throw new PayloadTooLargeError('the body is 70000 bytes; the limit is 65536')`
 */
export class PayloadTooLargeError extends VendError {
  readonly code = 'payload_too_large';
}

/**
 * The caller exceeded its rate limit (429 `rate_limited`, with `Retry-After`).
 * @example `throw new RateLimitedError('too many vends; retry later', 30)`
 */
export class RateLimitedError extends VendError {
  readonly code = 'rate_limited';
  readonly retryAfterSeconds: number;
  constructor(detail: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(detail, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * STS (or another upstream) is throttling or failing (503 `upstream_unavailable`, with `Retry-After`).
 * The detail must not repeat the upstream message verbatim if it could echo request parameters.
 * @example `throw new UpstreamUnavailableError('STS is throttling; retry later', 5, { cause: err })`
 */
export class UpstreamUnavailableError extends VendError {
  readonly code = 'upstream_unavailable';
  readonly retryAfterSeconds: number;
  constructor(detail: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(detail, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The audit record could not be written, so no credentials are issued (503 `audit_unavailable`):
 * vend never hands out credentials it has not recorded an intent for.
 * @example `throw new AuditUnavailableError('the audit log could not be written', { cause: err })`
 */
export class AuditUnavailableError extends VendError {
  readonly code = 'audit_unavailable';
}

/**
 * An entitlement definition is invalid. Raised at load (a deployment fault, never a caller's), so it
 * is not a VendError: the HTTP layer answers it as a generic 500. The message names the entitlement
 * and the field, and never includes an ExternalId.
 *
 * @example
 * ```ts
 * new EntitlementConfigError('prod-admin', 'maxDurationSeconds', 'must be ≤ 3600 …').message
 * // 'entitlement "prod-admin": maxDurationSeconds must be ≤ 3600 …'
 * ```
 */
export class EntitlementConfigError extends Error {
  readonly entitlement: string;
  readonly field: string;
  constructor(entitlement: string, field: string, problem: string, options?: { cause?: unknown }) {
    super(`entitlement "${entitlement}": ${field} ${problem}`, options);
    this.name = 'EntitlementConfigError';
    this.entitlement = entitlement;
    this.field = field;
  }
}

/**
 * An audit record about to be written contains something that looks like a secret. A programming
 * fault, never a caller's: it is not a VendError. The message names the field, never the value.
 * @example `new AuditSecretLeakError('userAgent', 'looks like a SecretAccessKey')`
 */
export class AuditSecretLeakError extends Error {
  readonly field: string;
  constructor(field: string, why: string, options?: { cause?: unknown }) {
    super(`audit record field ${field} ${why}; refusing to write it`, options);
    this.name = 'AuditSecretLeakError';
    this.field = field;
  }
}

/**
 * An audit id handed to the session-name builder cannot make a valid, unique STS session name.
 * A programming fault (ids are generated by vend), not a caller's.
 * @example `new InvalidAuditIdError('audit id must be 1–40 characters of [A-Za-z0-9_+=,.@-]')`
 */
export class InvalidAuditIdError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidAuditIdError';
  }
}

/**
 * The caller may not decide this request: they are not in the entitlement's approver groups (403
 * `not_entitled`, with a detail that says so rather than the generic "not entitled or does not
 * exist": the caller already knows the request exists, having its id or its Slack message).
 * @example `throw new NotApproverError('prod-admin')`
 */
export class NotApproverError extends VendError {
  readonly code = 'not_entitled';
  readonly entitlement: string;
  constructor(entitlement: string, options?: { cause?: unknown }) {
    super(
      `you are not an approver of "${safeId(entitlement)}"; only its approver groups may decide`,
      options,
    );
    this.entitlement = safeId(entitlement);
  }
}
