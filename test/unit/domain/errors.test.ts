import { describe, expect, it } from 'vitest';
import {
  ApprovalRequiredError,
  AuditUnavailableError,
  ConflictError,
  DurationOutOfRangeError,
  EntitlementConfigError,
  InvalidRequestError,
  NotEntitledError,
  NotFoundError,
  PayloadTooLargeError,
  PolicyExceedsCeilingError,
  PolicyTooLargeError,
  PROBLEM_STATUS,
  RateLimitedError,
  SelfApprovalError,
  UnauthenticatedError,
  UpstreamUnavailableError,
  VendError,
} from '../../../lib/domain/errors';

describe('VendError subclasses carry the CONTRACT §4 code and status', () => {
  const cases: [VendError, string, number][] = [
    [new InvalidRequestError('x'), 'invalid_request', 400],
    [new DurationOutOfRangeError('x'), 'duration_out_of_range', 400],
    [new PolicyTooLargeError('x'), 'policy_too_large', 400],
    [new UnauthenticatedError('x'), 'unauthenticated', 401],
    [new NotEntitledError('prod-admin'), 'not_entitled', 403],
    [new ApprovalRequiredError('prod-admin'), 'approval_required', 403],
    [new PolicyExceedsCeilingError('x', { statement: 0 }), 'policy_exceeds_ceiling', 403],
    [new SelfApprovalError('x'), 'self_approval', 403],
    [new NotFoundError('x'), 'not_found', 404],
    [new ConflictError('x'), 'conflict', 409],
    [new PayloadTooLargeError('x'), 'payload_too_large', 413],
    [new RateLimitedError('x', 7), 'rate_limited', 429],
    [new UpstreamUnavailableError('x', 5), 'upstream_unavailable', 503],
    [new AuditUnavailableError('x'), 'audit_unavailable', 503],
  ];

  it.each(cases)('%s → %s %i', (error, code, status) => {
    expect(error).toBeInstanceOf(VendError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.name).toBe(error.constructor.name);
    expect(error.title.length).toBeGreaterThan(0);
  });

  it('covers every code of the contract exactly once', () => {
    expect(new Set(cases.map(([e]) => e.code))).toEqual(new Set(Object.keys(PROBLEM_STATUS)));
  });
});

describe('error details', () => {
  it('keeps the cause', () => {
    const cause = new Error('sdk');
    expect(new UpstreamUnavailableError('STS is throttling', 5, { cause }).cause).toBe(cause);
  });

  it('carries Retry-After seconds for rate_limited and upstream_unavailable', () => {
    expect(new RateLimitedError('slow down', 30).retryAfterSeconds).toBe(30);
    expect(new UpstreamUnavailableError('STS down', 5).retryAfterSeconds).toBe(5);
  });

  it('answers unknown and not-yours entitlements with one message shape that names the id', () => {
    const err = new NotEntitledError('prod-admin');
    expect(err.detail).toBe('you are not entitled to "prod-admin", or it does not exist');
  });

  it('does not echo a non-id string sent as an entitlement id', () => {
    const err = new NotEntitledError('AKIA/secret+value=');
    expect(err.detail).not.toContain('secret');
    expect(err.entitlement).toBe('(invalid id)');
  });

  it('EntitlementConfigError names entitlement and field and is not a caller error', () => {
    const err = new EntitlementConfigError('prod-admin', 'maxDurationSeconds', 'must be at most 3600');
    expect(err.message).toBe('entitlement "prod-admin": maxDurationSeconds must be at most 3600');
    expect(err.field).toBe('maxDurationSeconds');
    expect(err).not.toBeInstanceOf(VendError);
  });
});
