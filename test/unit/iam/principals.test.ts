/**
 * Class 3 of issue 12: every documented principal form, how each matches, and what IAM rejects.
 *
 * Forms: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 * (account and root, IAM role, assumed-role session, IAM user, STS federated user session
 * `arn:aws:sts::A:federated-user/N`, service, web identity / SAML providers, canonical user, `*`).
 * Rejections: the same page ("You cannot use a wildcard to match part of a principal name or ARN",
 * no user groups), reference_policies_elements_notprincipal.html (no NotPrincipal in a role trust
 * policy) and IAM Access Analyzer's checks (Role trust policy unsupported wildcard in principal,
 * Invalid service principal format, Federated principal not supported).
 */
import { describe, expect, it } from 'vitest';
import type { PrincipalInfo } from '../../../lib/iam';
import { authorize, principalMatches, validatePolicy } from '../../../lib/iam';
import { PROD, policy, prodSession, prodUser, request } from './helpers';

const trustDoc = (principal: unknown) => ({
  Version: '2012-10-17',
  Statement: { Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' },
});
const resourceDoc = (principal: unknown) => ({
  Version: '2012-10-17',
  Statement: { Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
});

const federatedUser: PrincipalInfo = {
  type: 'federated-user',
  arn: `arn:aws:sts::${PROD}:federated-user/bob`,
  account: PROD,
  userArn: `arn:aws:iam::${PROD}:user/ops/dave`,
};

describe('accepted forms', () => {
  it.each([
    ['account ID', { AWS: PROD }],
    ['account root ARN', { AWS: `arn:aws:iam::${PROD}:root` }],
    ['IAM role (with a path)', { AWS: `arn:aws:iam::${PROD}:role/ci/Deployer` }],
    ['assumed-role session', { AWS: `arn:aws:sts::${PROD}:assumed-role/Deployer/build-42` }],
    ['IAM user (with a path)', { AWS: `arn:aws:iam::${PROD}:user/ops/dave` }],
    ['STS federated user session', { AWS: `arn:aws:sts::${PROD}:federated-user/bob` }],
    ['another partition', { AWS: 'arn:aws-us-gov:iam::111122223333:role/R' }],
    ['everyone, as {"AWS": "*"}', { AWS: '*' }],
    ['service', { Service: 'lambda.amazonaws.com' }],
    ['regional service', { Service: 'logs.eu-west-1.amazonaws.com' }],
    ['China partition service', { Service: 'ec2.amazonaws.com.cn' }],
    ['several services', { Service: ['ecs.amazonaws.com', 'elasticloadbalancing.amazonaws.com'] }],
    ['SAML provider', { Federated: `arn:aws:iam::${PROD}:saml-provider/Okta` }],
    [
      'OIDC provider',
      { Federated: `arn:aws:iam::${PROD}:oidc-provider/token.actions.githubusercontent.com` },
    ],
    [
      'OIDC provider with a path',
      { Federated: `arn:aws:iam::${PROD}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123` },
    ],
    ['web identity provider host', { Federated: 'cognito-identity.amazonaws.com' }],
  ])('a role trust policy accepts %s', (_what, principal) => {
    expect(validatePolicy(trustDoc(principal), 'trust')).toEqual([]);
  });

  it.each([
    ['"*"', '*'],
    [
      'a canonical user',
      { CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' },
    ],
    [
      'an account and a canonical user together',
      { AWS: [PROD, `arn:aws:iam::${PROD}:root`], CanonicalUser: 'a'.repeat(64) },
    ],
  ])('a resource policy accepts %s', (_what, principal) => {
    expect(validatePolicy(resourceDoc(principal), 'resource')).toEqual([]);
  });
});

describe('what IAM rejects, with its message', () => {
  const refusal = (doc: unknown, kind: 'trust' | 'resource') => {
    const issues = validatePolicy(doc, kind);
    expect(issues).toHaveLength(1);
    return issues[0]!.iam;
  };

  it.each([
    [
      'a partial wildcard in a role ARN',
      { AWS: `arn:aws:iam::${PROD}:role/Deploy*` },
      `Invalid principal in policy: "AWS":"arn:aws:iam::${PROD}:role/Deploy*"`,
    ],
    [
      'all sessions of a role',
      { AWS: `arn:aws:sts::${PROD}:assumed-role/R/*` },
      `Invalid principal in policy: "AWS":"arn:aws:sts::${PROD}:assumed-role/R/*"`,
    ],
    [
      'a user group',
      { AWS: `arn:aws:iam::${PROD}:group/admins` },
      `Invalid principal in policy: "AWS":"arn:aws:iam::${PROD}:group/admins"`,
    ],
    [
      'a federated user under iam instead of sts',
      { AWS: `arn:aws:iam::${PROD}:federated-user/bob` },
      `Invalid principal in policy: "AWS":"arn:aws:iam::${PROD}:federated-user/bob"`,
    ],
    [
      'a role ARN with a region',
      { AWS: `arn:aws:iam:eu-west-1:${PROD}:role/R` },
      `Invalid principal in policy: "AWS":"arn:aws:iam:eu-west-1:${PROD}:role/R"`,
    ],
    ['a name that is no ARN', { AWS: 'alice' }, 'Invalid principal in policy: "AWS":"alice"'],
    ['a service wildcard', { Service: '*' }, 'Invalid principal in policy: "Service":"*"'],
    [
      'a service without its domain',
      { Service: 'lambda' },
      'Invalid principal in policy: "Service":"lambda"',
    ],
    [
      'a canonical user in a role trust policy',
      { CanonicalUser: 'a'.repeat(64) },
      `Invalid principal in policy: "CanonicalUser":"${'a'.repeat(64)}"`,
    ],
    [
      '"Principal": "*" in a role trust policy',
      '*',
      'AssumeRolepolicy contained an invalid principal: "STAR":"*"',
    ],
    [
      'an empty principal',
      {},
      'Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!',
    ],
    ['an unknown principal type', { Users: 'x' }, 'Invalid principal in policy: "Users"'],
  ])('a role trust policy refuses %s', (_what, principal, iam) => {
    expect(refusal(trustDoc(principal), 'trust')).toBe(iam);
  });

  it('a role trust policy refuses NotPrincipal', () => {
    const doc = {
      Version: '2012-10-17',
      Statement: {
        Effect: 'Deny',
        NotPrincipal: { AWS: PROD },
        Principal: { AWS: '*' },
        Action: 'sts:AssumeRole',
      },
    };
    expect(refusal(doc, 'trust')).toBe('Has prohibited field NotPrincipal');
  });

  it('a resource policy refuses a Federated principal (only role trust policies take one)', () => {
    expect(refusal(resourceDoc({ Federated: 'accounts.google.com' }), 'resource')).toBe(
      'The policy type does not support a federated identity provider in the principal element. Use a supported principal.',
    );
  });

  it('a canonical user is 64 hexadecimal characters', () => {
    expect(refusal(resourceDoc({ CanonicalUser: 'not-hex' }), 'resource')).toBe(
      'Invalid principal in policy: "CanonicalUser":"not-hex"',
    );
  });
});

describe('how each form matches', () => {
  it.each([
    ['the exact session ARN', { AWS: [federatedUser.arn] }, true],
    ['the IAM user who federated', { AWS: [federatedUser.userArn!] }, true],
    ['the account', { AWS: [PROD] }, true],
    ['another federated user', { AWS: [`arn:aws:sts::${PROD}:federated-user/eve`] }, false],
    ['the assumed-role form of the same name', { AWS: [`arn:aws:sts::${PROD}:assumed-role/bob/bob`] }, false],
  ])('a federated user session is named by %s: %s', (_what, block, expected) => {
    expect(principalMatches(block, federatedUser)).toBe(expected);
  });

  it('a role ARN names its sessions, a session ARN only itself, a user ARN only that user', () => {
    expect(principalMatches({ AWS: [prodSession.roleArn!] }, prodSession)).toBe(true);
    expect(principalMatches({ AWS: [prodSession.arn] }, prodSession)).toBe(true);
    expect(principalMatches({ AWS: [`arn:aws:sts::${PROD}:assumed-role/Deployer/other`] }, prodSession)).toBe(
      false,
    );
    expect(principalMatches({ AWS: [prodUser.arn] }, prodUser)).toBe(true);
    expect(principalMatches({ AWS: [prodUser.arn] }, prodSession)).toBe(false);
  });

  it('an account names its users and sessions but not services or anonymous callers', () => {
    const service: PrincipalInfo = {
      type: 'service',
      arn: 'lambda.amazonaws.com',
      account: PROD,
      service: 'lambda.amazonaws.com',
    };
    expect(principalMatches({ AWS: [PROD] }, prodUser)).toBe(true);
    expect(principalMatches({ AWS: [PROD] }, service)).toBe(false);
    expect(principalMatches({ Service: ['LAMBDA.amazonaws.com'] }, service)).toBe(true);
    expect(principalMatches({ AWS: ['*'] }, service)).toBe(true);
  });

  it('same account: a resource policy naming the federated session allows on its own; naming its user is held by the session policy', () => {
    const bucket = 'arn:aws:s3:::b/k';
    const allowSession = policy('resource', [
      { Effect: 'Allow', Principal: { AWS: federatedUser.arn }, Action: 's3:GetObject', Resource: bucket },
    ]);
    const allowUser = policy('resource', [
      {
        Effect: 'Allow',
        Principal: { AWS: federatedUser.userArn },
        Action: 's3:GetObject',
        Resource: bucket,
      },
    ]);
    const req = request('s3:GetObject', bucket, { principal: federatedUser });
    const nothing = { identityPolicies: [], sessionPolicies: [], sameAccount: true };
    expect(authorize({ ...nothing, resourcePolicy: allowSession }, req).decision).toBe('Allow');
    expect(authorize({ ...nothing, resourcePolicy: allowUser }, req)).toMatchObject({
      decision: 'ImplicitDeny',
      decidedBy: 'session',
    });
  });
});
