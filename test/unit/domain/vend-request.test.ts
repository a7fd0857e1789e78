import { describe, expect, it } from 'vitest';
import { DurationOutOfRangeError, InvalidRequestError } from '../../../lib/domain/errors';
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

  it("any duration in [900, 3600] (the entitlement's own maximum is checked by resolveDuration)", () => {
    expect(parseVendRequest({ entitlement: 'prod-readonly', durationSeconds: 900 }).durationSeconds).toBe(
      900,
    );
    expect(parseVendRequest({ entitlement: 'prod-readonly', durationSeconds: 3600 }).durationSeconds).toBe(
      3600,
    );
  });
});

describe('parseVendRequest refuses every malformed or out-of-range duration with 400 duration_out_of_range', () => {
  it.each([
    ['7200 (over the one-hour cap)', 7200],
    ['3601', 3601],
    ['899', 899],
    ['0', 0],
    ['-900', -900],
    ['a fraction', 900.5],
    ['a huge number', 1e308],
    ['Number.MAX_SAFE_INTEGER + 2', Number.MAX_SAFE_INTEGER + 2],
    ['Infinity (JSON 1e999)', Number.POSITIVE_INFINITY],
    ['NaN', Number.NaN],
    ['a string', '3600'],
    ['an empty string', ''],
    ['null', null],
    ['a boolean', true],
    ['an object', { seconds: 900 }],
  ])('%s', (_what, durationSeconds) => {
    let err: unknown;
    try {
      parseVendRequest({ entitlement: 'prod-readonly', durationSeconds });
    } catch (e) {
      err = e;
    }

    expect(err).toBeInstanceOf(DurationOutOfRangeError);
    expect((err as DurationOutOfRangeError).status).toBe(400);
    expect((err as DurationOutOfRangeError).detail).toContain('between 900 and 3600 seconds');
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
    expect(() => parseVendRequest({ entitlement: 'prod-readonly', durationSeconds: '3600' })).toThrow(
      /JSON number/,
    );
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
