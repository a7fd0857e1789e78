// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal ${…} text, not templates
import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../../lib/iam';
import { evaluatePolicySet } from '../../../lib/iam';
import { policy, request } from './helpers';

/** True when an Allow statement with this Condition applies to a request with this context. */
function holds(condition: Record<string, unknown>, context: RequestContext, version = '2012-10-17'): boolean {
  const p = policy(
    'identity',
    [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: condition }],
    'p',
    version,
  );
  return (
    evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::b/k', { context })).decision === 'Allow'
  );
}

describe('string operators', () => {
  it('StringEquals is case-sensitive and ORs values', () => {
    const c = { StringEquals: { 'sts:ExternalId': ['abc', 'def'] } };
    expect(holds(c, { 'sts:ExternalId': 'def' })).toBe(true);
    expect(holds(c, { 'sts:ExternalId': 'ABC' })).toBe(false);
    expect(holds(c, {})).toBe(false);
  });

  it('matches context keys case-insensitively, tag keys included', () => {
    const c = { StringEquals: { 'aws:PrincipalTag/Team': 'sre' } };
    expect(holds(c, { 'AWS:principaltag/team': 'sre' })).toBe(true);
  });

  it('StringNotEquals ANDs its values and is true when the key is missing', () => {
    const c = { StringNotEquals: { 'aws:PrincipalTag/team': ['a', 'b'] } };
    expect(holds(c, { 'aws:PrincipalTag/team': 'c' })).toBe(true);
    expect(holds(c, { 'aws:PrincipalTag/team': 'b' })).toBe(false);
    expect(holds(c, {})).toBe(true);
  });

  it('StringEqualsIgnoreCase and StringNotEqualsIgnoreCase ignore case', () => {
    expect(holds({ StringEqualsIgnoreCase: { k: 'Alice' } }, { k: 'ALICE' })).toBe(true);
    expect(holds({ StringNotEqualsIgnoreCase: { k: 'Alice' } }, { k: 'alice' })).toBe(false);
    expect(holds({ StringNotEqualsIgnoreCase: { k: 'Alice' } }, { k: 'bob' })).toBe(true);
  });

  it('StringLike and StringNotLike use * and ?', () => {
    expect(holds({ StringLike: { 's3:prefix': ['home/*', 'tmp/?'] } }, { 's3:prefix': 'tmp/x' })).toBe(true);
    expect(holds({ StringLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'Home/x' })).toBe(false);
    expect(holds({ StringNotLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'home/x' })).toBe(false);
    expect(holds({ StringNotLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'etc' })).toBe(true);
  });

  it('ANDs operators and keys', () => {
    const c = { StringEquals: { a: '1', b: '2' }, StringLike: { c: 'x*' } };
    expect(holds(c, { a: '1', b: '2', c: 'xy' })).toBe(true);
    expect(holds(c, { a: '1', b: '3', c: 'xy' })).toBe(false);
    expect(holds(c, { a: '1', b: '2' })).toBe(false);
  });

  it('applies a single-valued operator to a multi-valued key as "any value matches"', () => {
    expect(holds({ StringEquals: { k: 'b' } }, { k: ['a', 'b'] })).toBe(true);
    expect(holds({ StringNotEquals: { k: 'b' } }, { k: ['a', 'b'] })).toBe(false);
    expect(holds({ StringNotEquals: { k: 'z' } }, { k: ['a', 'b'] })).toBe(true);
  });

  it('treats an empty array like a missing key', () => {
    expect(holds({ StringEquals: { k: 'a' } }, { k: [] })).toBe(false);
    expect(holds({ StringNotEquals: { k: 'a' } }, { k: [] })).toBe(true);
  });
});

describe('IfExists', () => {
  it('is true when the key is missing and behaves as the base operator otherwise', () => {
    const c = { StringEqualsIfExists: { 'sts:ExternalId': 'abc' } };
    expect(holds(c, {})).toBe(true);
    expect(holds(c, { 'sts:ExternalId': 'abc' })).toBe(true);
    expect(holds(c, { 'sts:ExternalId': 'xyz' })).toBe(false);
  });

  it('works with Bool for keys present only for temporary credentials', () => {
    const c = { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } };
    expect(holds(c, {})).toBe(true);
    expect(holds(c, { 'aws:MultiFactorAuthPresent': 'true' })).toBe(false);
  });
});

describe('ForAllValues / ForAnyValue', () => {
  it('ForAllValues is true when every value matches, and when the key is missing or empty', () => {
    const c = { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } };
    expect(holds(c, { 'aws:TagKeys': ['team', 'env'] })).toBe(true);
    expect(holds(c, { 'aws:TagKeys': ['team', 'owner'] })).toBe(false);
    expect(holds(c, {})).toBe(true);
    expect(holds(c, { 'aws:TagKeys': [] })).toBe(true);
  });

  it('ForAnyValue is true when some value matches, false when the key is missing or empty', () => {
    const c = { 'ForAnyValue:StringLike': { 'aws:TagKeys': 'team*' } };
    expect(holds(c, { 'aws:TagKeys': ['env', 'teamname'] })).toBe(true);
    expect(holds(c, { 'aws:TagKeys': ['env'] })).toBe(false);
    expect(holds(c, {})).toBe(false);
    expect(holds(c, { 'aws:TagKeys': [] })).toBe(false);
  });

  it('ForAnyValue…IfExists is true when the key is missing', () => {
    expect(holds({ 'ForAnyValue:StringEqualsIfExists': { k: 'a' } }, {})).toBe(true);
  });

  it('negated set operators apply the negation per context value', () => {
    const all = { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['admin'] } };
    const any = { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['admin'] } };
    expect(holds(all, { 'aws:TagKeys': ['team', 'env'] })).toBe(true);
    expect(holds(all, { 'aws:TagKeys': ['team', 'admin'] })).toBe(false);
    expect(holds(any, { 'aws:TagKeys': ['team', 'admin'] })).toBe(true);
    expect(holds(any, { 'aws:TagKeys': ['admin'] })).toBe(false);
  });

  it('treats a single string value as a one-element set', () => {
    expect(holds({ 'ForAllValues:StringEquals': { k: ['a', 'b'] } }, { k: 'a' })).toBe(true);
  });
});

describe('Null', () => {
  it('Null true means "absent", Null false means "present"', () => {
    expect(holds({ Null: { 'sts:ExternalId': 'true' } }, {})).toBe(true);
    expect(holds({ Null: { 'sts:ExternalId': 'true' } }, { 'sts:ExternalId': 'x' })).toBe(false);
    expect(holds({ Null: { 'sts:ExternalId': false } }, { 'sts:ExternalId': 'x' })).toBe(true);
    expect(holds({ Null: { 'sts:ExternalId': false } }, {})).toBe(false);
  });

  it('counts an empty multi-valued key as absent', () => {
    expect(holds({ Null: { 'aws:TagKeys': 'true' } }, { 'aws:TagKeys': [] })).toBe(true);
  });
});

describe('numeric operators', () => {
  it.each([
    ['NumericEquals', '10', '10.0', true],
    ['NumericEquals', '10', '11', false],
    ['NumericNotEquals', '10', '11', true],
    ['NumericNotEquals', '10', '10', false],
    ['NumericLessThan', '10', '9', true],
    ['NumericLessThan', '10', '10', false],
    ['NumericLessThanEquals', '10', '10', true],
    ['NumericGreaterThan', '10', '10', false],
    ['NumericGreaterThan', '10', '11', true],
    ['NumericGreaterThanEquals', '10', '10', true],
    ['NumericGreaterThanEquals', '10', '9.5', false],
    ['NumericLessThan', '10', 'abc', false],
  ])('%s %s with context %s is %s', (op, policyValue, contextValue, expected) => {
    expect(holds({ [op]: { 's3:max-keys': policyValue } }, { 's3:max-keys': contextValue })).toBe(expected);
  });

  it('accepts numbers in the policy document', () => {
    expect(
      holds(
        { NumericLessThanEquals: { 'aws:MultiFactorAuthAge': 3600 } },
        { 'aws:MultiFactorAuthAge': '120' },
      ),
    ).toBe(true);
  });
});

describe('date operators', () => {
  const now = '2026-11-29T10:00:00Z';
  it.each([
    ['DateLessThan', '2026-12-01T00:00:00Z', now, true],
    ['DateLessThan', '2026-11-01T00:00:00Z', now, false],
    ['DateGreaterThan', '2026-11-01', now, true],
    ['DateEquals', '2026-11-29T10:00:00Z', '2026-11-29T11:00:00+01:00', true],
    ['DateNotEquals', '2026-11-29T10:00:00Z', now, false],
    ['DateLessThanEquals', now, now, true],
    ['DateGreaterThanEquals', now, now, true],
    // Epoch seconds on either side.
    ['DateEquals', String(Date.parse(now) / 1000), now, true],
    ['DateGreaterThan', '2026-01-01T00:00:00Z', String(Date.parse(now) / 1000), true],
    ['DateLessThan', '2026-12-01T00:00:00Z', 'not a date', false],
  ])('%s %s with context %s is %s', (op, policyValue, contextValue, expected) => {
    expect(holds({ [op]: { 'aws:CurrentTime': policyValue } }, { 'aws:CurrentTime': contextValue })).toBe(
      expected,
    );
  });
});

describe('Bool and BinaryEquals', () => {
  it('Bool compares true/false case-insensitively', () => {
    expect(holds({ Bool: { 'aws:SecureTransport': true } }, { 'aws:SecureTransport': 'TRUE' })).toBe(true);
    expect(holds({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'false' })).toBe(
      false,
    );
    expect(holds({ Bool: { 'aws:SecureTransport': 'true' } }, {})).toBe(false);
  });

  it('BinaryEquals compares the base64 text exactly', () => {
    expect(holds({ BinaryEquals: { k: 'QmluYXJ5' } }, { k: 'QmluYXJ5' })).toBe(true);
    expect(holds({ BinaryEquals: { k: 'QmluYXJ5' } }, { k: 'qmluyxj5' })).toBe(false);
  });
});

describe('IpAddress / NotIpAddress', () => {
  it.each([
    ['10.0.0.0/8', '10.200.3.4', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['192.0.2.7', '192.0.2.7', true],
    ['192.0.2.0/32', '192.0.2.1', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['2001:db8::/32', '2001:db8:1234::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['::1/128', '0:0:0:0:0:0:0:1', true],
    ['::ffff:192.0.2.0/120', '::ffff:192.0.2.99', true],
    ['2001:db8::/32', '10.0.0.1', false],
    ['10.0.0.0/8', '2001:db8::1', false],
    ['10.0.0.0/8', 'garbage', false],
  ])('IpAddress %s contains %s: %s', (cidr, ip, expected) => {
    expect(holds({ IpAddress: { 'aws:SourceIp': cidr } }, { 'aws:SourceIp': ip })).toBe(expected);
  });

  it('NotIpAddress is true outside every listed block and when the key is missing', () => {
    const c = { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } };
    expect(holds(c, { 'aws:SourceIp': '192.0.2.1' })).toBe(true);
    expect(holds(c, { 'aws:SourceIp': '2001:db8::5' })).toBe(false);
    expect(holds(c, {})).toBe(true);
  });
});

describe('ARN operators', () => {
  it('ArnLike and ArnEquals compare part by part with wildcards', () => {
    const ctx = { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/CICDDeployRole' };
    expect(holds({ ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/CICD*' } }, ctx)).toBe(true);
    expect(
      holds({ ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/CICDDeployRole' } }, ctx),
    ).toBe(true);
    expect(holds({ ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/*' } }, ctx)).toBe(false);
  });

  it('ArnNotLike / ArnNotEquals are negated and true when the key is missing', () => {
    const ctx = { 'aws:SourceArn': 'arn:aws:sns:eu-west-1:111122223333:topic' };
    expect(holds({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:topic' } }, ctx)).toBe(false);
    expect(holds({ ArnNotEquals: { 'aws:SourceArn': 'arn:aws:sns:*:*:other' } }, ctx)).toBe(true);
    expect(holds({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:topic' } }, {})).toBe(true);
  });
});

describe('policy variables in condition values', () => {
  it('substitutes context keys, case-insensitively', () => {
    const c = { StringEquals: { 's3:prefix': 'home/${aws:username}' } };
    expect(holds(c, { 'aws:username': 'dave', 's3:prefix': 'home/dave' })).toBe(true);
    expect(holds(c, { 'AWS:UserName': 'dave', 's3:prefix': 'home/erin' })).toBe(false);
  });

  it('uses the default when the key is missing', () => {
    const c = { StringEquals: { 'aws:RequestTag/team': "${aws:PrincipalTag/team, 'none'}" } };
    expect(holds(c, { 'aws:RequestTag/team': 'none' })).toBe(true);
    expect(holds(c, { 'aws:RequestTag/team': 'none', 'aws:PrincipalTag/team': 'sre' })).toBe(false);
  });

  it('makes a value match nothing when the variable is missing without default', () => {
    expect(holds({ StringEquals: { k: '${aws:username}' } }, { k: '' })).toBe(false);
    expect(holds({ StringEquals: { k: ['${aws:username}', 'x'] } }, { k: 'x' })).toBe(true);
  });

  it('makes a negated condition true when its variable has no value (nothing equals "null")', () => {
    expect(holds({ StringNotEquals: { k: '${aws:username}' } }, { k: 'x' })).toBe(true);
    expect(holds({ StringNotEquals: { k: ['${aws:username}', 'x'] } }, { k: 'x' })).toBe(false);
  });

  it('keeps substituted values literal in StringLike, and escapes ${*} ${?} ${$} as literals', () => {
    expect(holds({ StringLike: { k: 'a-${aws:username}' } }, { 'aws:username': '*', k: 'a-anything' })).toBe(
      false,
    );
    expect(holds({ StringLike: { k: 'a${*}b*' } }, { k: 'a*bzzz' })).toBe(true);
    expect(holds({ StringLike: { k: 'a${*}b*' } }, { k: 'axbzzz' })).toBe(false);
    expect(holds({ StringEquals: { k: 'p${$}q${?}' } }, { k: 'p$q?' })).toBe(true);
  });

  it('does not substitute in 2008-10-17 policies', () => {
    const c = { StringEquals: { k: '${aws:username}' } };
    expect(holds(c, { 'aws:username': 'dave', k: 'dave' }, '2008-10-17')).toBe(false);
    expect(holds(c, { 'aws:username': 'dave', k: '${aws:username}' }, '2008-10-17')).toBe(true);
  });
});
