import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../lib/domain/errors';
import { parseVendRequest, REASON_MAX_CHARS } from '../../../lib/domain/vend-request';

function refusal(body: unknown): InvalidRequestError {
  try {
    parseVendRequest(body);
  } catch (e) {
    if (e instanceof InvalidRequestError) return e;
    throw e;
  }
  throw new Error('expected parseVendRequest to refuse the body');
}

describe('parseVendRequest accepts', () => {
  it('an entitlement alone', () => {
    expect(parseVendRequest({ entitlement: 'prod-readonly' })).toEqual({ entitlement: 'prod-readonly' });
  });

  it('all four fields, policy as an object', () => {
    const policy = { Version: '2012-10-17', Statement: [] };

    const req = parseVendRequest({
      entitlement: 'prod-s3-read',
      durationSeconds: 900,
      policy,
      reason: 'report',
    });

    expect(req).toEqual({ entitlement: 'prod-s3-read', durationSeconds: 900, policy, reason: 'report' });
  });

  it('a policy given as a JSON string (parsed later by buildSessionPolicy)', () => {
    expect(parseVendRequest({ entitlement: 'prod-s3-read', policy: '{"Version":"2012-10-17"}' }).policy).toBe(
      '{"Version":"2012-10-17"}',
    );
  });

  it('an out-of-range whole duration (the range is checked by resolveDuration)', () => {
    expect(parseVendRequest({ entitlement: 'prod-readonly', durationSeconds: 1e9 }).durationSeconds).toBe(
      1e9,
    );
  });
});

describe('parseVendRequest refuses fields vend sets itself, naming the field', () => {
  it.each([
    ['roleArn', 'arn:aws:iam::444455556666:role/BreakGlassAdmin'],
    ['externalId', 'prod-breakglass-ext-5d8e'],
    ['sessionName', 'innocent'],
    ['roleSessionName', 'innocent'],
    ['sourceIdentity', 'someone-else'],
    ['tags', [{ Key: 'vend:caller', Value: 'x' }]],
    ['transitiveTagKeys', ['vend:caller']],
    ['account', '444455556666'],
    ['policyArns', [{ arn: 'arn:aws:iam::aws:policy/AdministratorAccess' }]],
  ])('%s', (field, value) => {
    const err = refusal({ entitlement: 'prod-readonly', [field]: value });

    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_request');
    expect(err.detail).toBe(`${field} is set by vend, not by the caller`);
  });

  it('also when spelled as STS spells it (RoleArn, ExternalId)', () => {
    expect(refusal({ entitlement: 'prod-readonly', RoleArn: 'x' }).detail).toBe(
      'roleArn is set by vend, not by the caller',
    );
    expect(refusal({ entitlement: 'prod-readonly', ExternalId: 'x' }).detail).toBe(
      'externalId is set by vend, not by the caller',
    );
  });

  it('never echoes the value sent', () => {
    const err = refusal({ entitlement: 'prod-readonly', externalId: 'prod-breakglass-ext-5d8e' });

    expect(err.detail).not.toContain('prod-breakglass-ext-5d8e');
  });
});

describe('parseVendRequest refuses malformed bodies', () => {
  it.each([
    ['null', null],
    ['an array', [{ entitlement: 'prod-readonly' }]],
    ['a string', 'prod-readonly'],
    ['a missing entitlement', { durationSeconds: 900 }],
    ['an empty entitlement', { entitlement: '' }],
    ['a non-string entitlement', { entitlement: 42 }],
    ['an entitlement that is not an id', { entitlement: 'Prod Readonly!' }],
    ['durationSeconds as a string', { entitlement: 'prod-readonly', durationSeconds: '3600' }],
    ['a fractional durationSeconds', { entitlement: 'prod-readonly', durationSeconds: 900.5 }],
    ['durationSeconds NaN', { entitlement: 'prod-readonly', durationSeconds: Number.NaN }],
    ['durationSeconds null', { entitlement: 'prod-readonly', durationSeconds: null }],
    ['a policy that is a number', { entitlement: 'prod-readonly', policy: 7 }],
    ['a policy that is an array', { entitlement: 'prod-readonly', policy: [] }],
    ['a policy that is null', { entitlement: 'prod-readonly', policy: null }],
    ['a non-string reason', { entitlement: 'prod-readonly', reason: ['x'] }],
    ['a reason over the limit', { entitlement: 'prod-readonly', reason: 'x'.repeat(REASON_MAX_CHARS + 1) }],
  ])('%s', (_what, body) => {
    const err = refusal(body);

    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_request');
  });

  it('"3600" (a string duration) with a detail saying a number is needed', () => {
    expect(refusal({ entitlement: 'prod-readonly', durationSeconds: '3600' }).detail).toMatch(/JSON number/);
  });

  it('an unknown field, naming it', () => {
    expect(refusal({ entitlement: 'prod-readonly', duration: 900 }).detail).toMatch(
      /unknown field "duration"/,
    );
  });

  it('accepts a reason of exactly the limit', () => {
    const reason = 'x'.repeat(REASON_MAX_CHARS);

    expect(parseVendRequest({ entitlement: 'prod-readonly', reason }).reason).toBe(reason);
  });
});
