// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal ${…} text, not templates
import { describe, expect, it } from 'vitest';
import { PolicyValidationError, parsePolicy, validatePolicy } from '../../../lib/iam';

const allowGet = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };
const doc = (statement: unknown, extra: Record<string, unknown> = {}) => ({
  Version: '2012-10-17',
  Statement: structuredClone(statement),
  ...extra,
});
const paths = (input: unknown, kind: Parameters<typeof validatePolicy>[1] = 'identity') =>
  validatePolicy(input, kind).map((i) => i.path);

describe('parsePolicy', () => {
  it('normalises single values to arrays and numbers statements', () => {
    const p = parsePolicy(doc([allowGet, { ...allowGet, Sid: 'Two', Effect: 'Deny' }]), 'identity', 'mine');

    expect(p).toMatchObject({ name: 'mine', version: '2012-10-17', kind: 'identity' });
    expect(p.statements).toEqual([
      { index: 0, effect: 'Allow', action: ['s3:GetObject'], resource: ['arn:aws:s3:::b/*'] },
      { index: 1, sid: 'Two', effect: 'Deny', action: ['s3:GetObject'], resource: ['arn:aws:s3:::b/*'] },
    ]);
  });

  it('accepts a JSON string and a single statement object', () => {
    const p = parsePolicy(JSON.stringify(doc(allowGet)), 'session');

    expect(p.statements).toHaveLength(1);
    expect(p.name).toBe('session');
  });

  it('treats a missing Version as 2008-10-17 and names the policy after its Id', () => {
    const p = parsePolicy({ Id: 'Ceiling', Statement: allowGet }, 'session');

    expect(p.version).toBe('2008-10-17');
    expect(p.name).toBe('Ceiling');
  });

  it('normalises condition values to strings and Principal "*" to AWS ["*"]', () => {
    const p = parsePolicy(
      doc({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::b/*',
        Condition: {
          Bool: { 'aws:MultiFactorAuthPresent': true },
          NumericLessThan: { 'aws:MultiFactorAuthAge': [3600, '60'] },
        },
      }),
      'resource',
    );

    expect(p.statements[0]?.principal).toEqual({ AWS: ['*'] });
    expect(p.statements[0]?.condition).toEqual({
      Bool: { 'aws:MultiFactorAuthPresent': ['true'] },
      NumericLessThan: { 'aws:MultiFactorAuthAge': ['3600', '60'] },
    });
  });

  it('throws PolicyValidationError with every issue and a message naming the first', () => {
    const err = (() => {
      try {
        parsePolicy(
          doc([{ Effect: 'Permit', Action: 's3:GetObject', Resource: '*' }, { Effect: 'Allow' }]),
          'identity',
        );
      } catch (e) {
        return e;
      }
    })();

    expect(err).toBeInstanceOf(PolicyValidationError);
    const e = err as PolicyValidationError;
    expect(e.name).toBe('PolicyValidationError');
    expect(e.issues.map((i) => i.path)).toEqual(['Statement[0].Effect', 'Statement[1]', 'Statement[1]']);
    expect(e.message).toContain('Statement[0].Effect: must be "Allow" or "Deny"');
  });
});

describe('validatePolicy', () => {
  it('accepts a valid document', () => {
    expect(validatePolicy(doc(allowGet), 'identity')).toEqual([]);
  });

  it.each([
    ['not JSON', '{"Version":', ''],
    ['an array', [], ''],
    ['null', null, ''],
    ['an unknown top-level key', { ...doc(allowGet), Extra: 1 }, 'Extra'],
    ['a bad Version', doc(allowGet, { Version: '2020-01-01' }), 'Version'],
    ['a missing Statement', { Version: '2012-10-17' }, 'Statement'],
    ['an empty Statement array', doc([]), 'Statement'],
    ['a non-string Id', doc(allowGet, { Id: 3 }), 'Id'],
  ])('refuses %s', (_label, input, path) => {
    expect(paths(input)).toContain(path);
  });

  it.each([
    ['unknown statement key', { ...allowGet, Principle: '*' }, 'Statement[0].Principle'],
    ['missing Effect', { Action: 's3:GetObject', Resource: '*' }, 'Statement[0].Effect'],
    ['lower-case Effect', { ...allowGet, Effect: 'allow' }, 'Statement[0].Effect'],
    ['both Action and NotAction', { ...allowGet, NotAction: 's3:PutObject' }, 'Statement[0]'],
    ['neither Action nor NotAction', { Effect: 'Allow', Resource: '*' }, 'Statement[0]'],
    ['neither Resource nor NotResource', { Effect: 'Allow', Action: '*' }, 'Statement[0]'],
    ['both Resource and NotResource', { ...allowGet, NotResource: '*' }, 'Statement[0]'],
    [
      'an action without service',
      { ...allowGet, Action: ['s3:GetObject', 'GetObject'] },
      'Statement[0].Action[1]',
    ],
    ['a wildcard in the service prefix', { ...allowGet, Action: 's*:GetObject' }, 'Statement[0].Action'],
    ['an empty action list', { ...allowGet, Action: [] }, 'Statement[0].Action'],
    ['a non-string action', { ...allowGet, Action: ['s3:GetObject', 7] }, 'Statement[0].Action[1]'],
    ['a resource that is not an ARN', { ...allowGet, Resource: 'my-bucket' }, 'Statement[0].Resource'],
    [
      'a wildcard in the resource service',
      { ...allowGet, Resource: 'arn:aws:s*:::b' },
      'Statement[0].Resource',
    ],
    ['a Principal in an identity policy', { ...allowGet, Principal: '*' }, 'Statement[0]'],
    ['a non-alphanumeric Sid', { ...allowGet, Sid: 'read all' }, 'Statement[0].Sid'],
    [
      'an unknown condition operator',
      { ...allowGet, Condition: { StringEqualz: { 'aws:x': 'y' } } },
      'Statement[0].Condition.StringEqualz',
    ],
    [
      'Null with IfExists',
      { ...allowGet, Condition: { NullIfExists: { 'aws:x': 'true' } } },
      'Statement[0].Condition.NullIfExists',
    ],
    [
      'an object condition value',
      { ...allowGet, Condition: { StringEquals: { 'aws:x': { a: 1 } } } },
      'Statement[0].Condition.StringEquals.aws:x',
    ],
    [
      'a non-numeric Numeric value',
      { ...allowGet, Condition: { NumericLessThan: { 'aws:x': ['1', 'ten'] } } },
      'Statement[0].Condition.NumericLessThan.aws:x[1]',
    ],
    [
      'a bad date',
      { ...allowGet, Condition: { DateLessThan: { 'aws:CurrentTime': 'tomorrow' } } },
      'Statement[0].Condition.DateLessThan.aws:CurrentTime',
    ],
    [
      'a bad CIDR',
      { ...allowGet, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } },
      'Statement[0].Condition.IpAddress.aws:SourceIp',
    ],
    [
      'a bad Bool',
      { ...allowGet, Condition: { Bool: { 'aws:SecureTransport': 'yes' } } },
      'Statement[0].Condition.Bool.aws:SecureTransport',
    ],
    [
      'an empty condition operator',
      { ...allowGet, Condition: { StringEquals: {} } },
      'Statement[0].Condition.StringEquals',
    ],
  ])('refuses %s at its path', (_label, statement, path) => {
    expect(paths(doc([statement]))).toContain(path);
  });

  it('reports a single statement object at path "Statement"', () => {
    expect(paths(doc({ ...allowGet, Action: 'GetObject' }))).toEqual(['Statement.Action']);
  });

  it('refuses duplicate Sids', () => {
    const issues = validatePolicy(
      doc([
        { ...allowGet, Sid: 'A' },
        { ...allowGet, Sid: 'A' },
      ]),
      'identity',
    );

    expect(issues).toEqual([
      {
        path: 'Statement[1].Sid',
        message: 'duplicate Sid "A" (also Statement[0])',
        iam: 'Statement IDs (SID) in a single policy must be unique.',
      },
    ]);
  });

  it('accepts known operators with ForAllValues/ForAnyValue prefixes and IfExists suffixes', () => {
    const condition = {
      'ForAllValues:StringLike': { 'aws:TagKeys': ['team', 'env*'] },
      'ForAnyValue:StringEqualsIfExists': { 'sts:TransitiveTagKeys': 'team' },
      ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:sns:*:*:topic' },
      Null: { 'sts:ExternalId': 'false' },
      BinaryEquals: { 'aws:x': 'QmluYXJ5' },
      IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] },
      DateGreaterThan: { 'aws:CurrentTime': ['2026-01-01T00:00:00Z', '1767225600'] },
    };

    expect(validatePolicy(doc({ ...allowGet, Condition: condition }), 'identity')).toEqual([]);
  });

  it('leaves values holding policy variables to request time', () => {
    const condition = {
      StringEquals: { 'aws:x': '${aws:y}' },
      ArnLike: { 'aws:z': 'arn:aws:s3:::${aws:y}/*' },
    };

    expect(validatePolicy(doc({ ...allowGet, Condition: condition }), 'identity')).toEqual([]);
  });

  describe('per policy kind', () => {
    const trust = {
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::222233334444:role/vend-broker' },
      Action: 'sts:AssumeRole',
    };

    it('requires a Principal in trust and resource policies', () => {
      expect(paths(doc({ Effect: 'Allow', Action: 'sts:AssumeRole' }), 'trust')).toEqual(['Statement']);
      expect(paths(doc(allowGet), 'resource')).toEqual(['Statement']);
    });

    it('refuses Resource in a trust policy', () => {
      expect(paths(doc({ ...trust, Resource: '*' }), 'trust')).toEqual(['Statement']);
      expect(validatePolicy(doc(trust), 'trust')).toEqual([]);
    });

    it.each(['session', 'scp', 'identity'] as const)(
      'refuses Principal and NotPrincipal in %s policies',
      (kind) => {
        expect(paths(doc([{ ...allowGet, NotPrincipal: { AWS: '111122223333' } }]), kind)).toEqual([
          'Statement[0]',
        ]);
      },
    );

    it('allows spaces in resource-policy Sids', () => {
      expect(validatePolicy(doc({ ...allowGet, Sid: 'Public read', Principal: '*' }), 'resource')).toEqual(
        [],
      );
    });
  });

  describe('principal forms', () => {
    const withPrincipal = (principal: unknown) =>
      doc({ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' });

    it.each([
      { AWS: '*' },
      { AWS: '111122223333' },
      { AWS: 'arn:aws:iam::111122223333:root' },
      { AWS: ['arn:aws:iam::111122223333:role/path/CICDDeployRole', 'arn:aws:iam::111122223333:user/dave'] },
      { AWS: 'arn:aws:sts::111122223333:assumed-role/R/S' },
      { Service: 'lambda.amazonaws.com' },
      { Federated: 'arn:aws:iam::111122223333:saml-provider/Okta' },
      { Federated: 'accounts.google.com' },
    ])('accepts %j', (principal) => {
      expect(validatePolicy(withPrincipal(principal), 'trust')).toEqual([]);
    });

    it.each([
      [{ AWS: 'arn:aws:iam::111122223333:role/Deploy*' }, 'Principal.AWS'],
      [{ AWS: 'arn:aws:sts::111122223333:assumed-role/R/*' }, 'Principal.AWS'],
      [{ AWS: '1111*' }, 'Principal.AWS'],
      [{ AWS: 'arn:aws:s3:::bucket' }, 'Principal.AWS'],
      [{ AWS: 'alice' }, 'Principal.AWS'],
      [{ AWS: ['111122223333', 'arn:aws:iam::111122223333:group/admins'] }, 'Principal.AWS[1]'],
      [{ Service: '*' }, 'Principal.Service'],
      [{ Users: 'x' }, 'Principal.Users'],
      [{}, 'Principal'],
      ['everyone', 'Principal'],
    ])('refuses %j', (principal, path) => {
      expect(paths(withPrincipal(principal), 'trust')).toEqual([`Statement.${path}`]);
    });
  });
});
