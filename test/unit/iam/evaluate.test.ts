// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal ${…} text, not templates
import { describe, expect, it } from 'vitest';
import type { PrincipalInfo } from '../../../lib/iam';
import { authorize, evaluatePolicySet, principalMatches } from '../../../lib/iam';
import { brokerSession, PROD, policy, prodSession, prodUser, request, SHARED } from './helpers';

describe('evaluatePolicySet', () => {
  const identity = policy(
    'identity',
    [
      { Sid: 'Read', Effect: 'Allow', Action: ['s3:Get*', 's3:List?ucket'], Resource: 'arn:aws:s3:::data/*' },
      { Sid: 'NoSecrets', Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::data/secret/*' },
    ],
    'reader',
  );

  it('allows a matching action case-insensitively', () => {
    const result = evaluatePolicySet([identity], request('S3:getobject', 'arn:aws:s3:::data/a.csv'));

    expect(result).toEqual({
      decision: 'Allow',
      matched: [{ policy: 'reader', index: 0, sid: 'Read', effect: 'Allow' }],
      decidedBy: 'policy',
    });
  });

  it('matches resources case-sensitively', () => {
    expect(evaluatePolicySet([identity], request('s3:GetObject', 'arn:aws:s3:::DATA/a.csv')).decision).toBe(
      'ImplicitDeny',
    );
  });

  it('lets an explicit Deny win and lists denies first', () => {
    const result = evaluatePolicySet([identity], request('s3:GetObject', 'arn:aws:s3:::data/secret/k'));

    expect(result.decision).toBe('ExplicitDeny');
    expect(result.matched.map((m) => m.sid)).toEqual(['NoSecrets', 'Read']);
  });

  it('returns ImplicitDeny with nothing matched when no statement applies', () => {
    expect(evaluatePolicySet([identity], request('s3:PutObject', 'arn:aws:s3:::data/k'))).toEqual({
      decision: 'ImplicitDeny',
      matched: [],
      decidedBy: 'policy',
    });
    expect(evaluatePolicySet([], request('s3:GetObject', '*')).decision).toBe('ImplicitDeny');
  });

  it('supports ? in actions', () => {
    expect(evaluatePolicySet([identity], request('s3:ListBucket', 'arn:aws:s3:::data/x')).decision).toBe(
      'Allow',
    );
    expect(evaluatePolicySet([identity], request('s3:ListBuckets', 'arn:aws:s3:::data/x')).decision).toBe(
      'ImplicitDeny',
    );
  });

  it('NotAction allows everything except the listed actions', () => {
    const p = policy('identity', [{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }]);

    expect(evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::b/k')).decision).toBe('Allow');
    expect(evaluatePolicySet([p], request('IAM:CreateUser', '*')).decision).toBe('ImplicitDeny');
  });

  it('NotResource applies to every resource except the listed ones', () => {
    const p = policy('identity', [
      { Effect: 'Deny', Action: 's3:*', NotResource: ['arn:aws:s3:::ok', 'arn:aws:s3:::ok/*'] },
    ]);

    expect(evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::other/k')).decision).toBe(
      'ExplicitDeny',
    );
    expect(evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::ok/k')).decision).toBe(
      'ImplicitDeny',
    );
  });

  it('substitutes policy variables in Resource', () => {
    const p = policy('identity', [
      { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}/*' },
    ]);
    const ctx = { 'aws:username': 'dave' };

    expect(
      evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::home/dave/x', { context: ctx })).decision,
    ).toBe('Allow');
    expect(
      evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::home/erin/x', { context: ctx })).decision,
    ).toBe('ImplicitDeny');
  });

  it('makes a Resource with a missing variable match nothing, and a default fill in', () => {
    const p = policy('identity', [
      { Effect: 'Allow', Action: 's3:*', Resource: ['arn:aws:s3:::home/${aws:username}/*'] },
      {
        Effect: 'Allow',
        Action: 's3:*',
        Resource: ["arn:aws:s3:::team/${aws:PrincipalTag/team, 'shared'}/*"],
      },
    ]);

    expect(evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::home//x')).decision).toBe(
      'ImplicitDeny',
    );
    expect(
      evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::home/${aws:username}/x')).decision,
    ).toBe('ImplicitDeny');
    expect(evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::team/shared/x')).decision).toBe(
      'Allow',
    );
  });

  it('keeps a substituted value literal: a username of * does not become a wildcard', () => {
    const p = policy('identity', [
      { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}' },
    ]);
    const req = request('s3:GetObject', 'arn:aws:s3:::home/anyone', { context: { 'aws:username': '*' } });

    expect(evaluatePolicySet([p], req).decision).toBe('ImplicitDeny');
  });

  it('does not substitute in a 2008-10-17 policy', () => {
    const p = policy(
      'identity',
      [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}' }],
      'old',
      '2008-10-17',
    );
    const ctx = { 'aws:username': 'dave' };

    expect(
      evaluatePolicySet([p], request('s3:GetObject', 'arn:aws:s3:::home/dave', { context: ctx })).decision,
    ).toBe('ImplicitDeny');
  });

  it('applies a trust policy only to the principals it names', () => {
    const trust = policy('trust', [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${SHARED}:role/vend-broker` },
        Action: 'sts:AssumeRole',
      },
    ]);
    const req = request('sts:AssumeRole', `arn:aws:iam::${PROD}:role/ProdReadOnly`);

    expect(evaluatePolicySet([trust], { ...req, principal: brokerSession }).decision).toBe('Allow');
    expect(evaluatePolicySet([trust], { ...req, principal: prodUser }).decision).toBe('ImplicitDeny');
    expect(evaluatePolicySet([trust], req).decision).toBe('ImplicitDeny');
  });

  it('NotPrincipal Deny applies to everyone but the named principals', () => {
    const p = policy('resource', [
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Deny', NotPrincipal: { AWS: prodUser.arn }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
    ]);
    const req = request('s3:GetObject', 'arn:aws:s3:::b/k');

    expect(evaluatePolicySet([p], { ...req, principal: prodUser }).decision).toBe('Allow');
    expect(evaluatePolicySet([p], { ...req, principal: prodSession }).decision).toBe('ExplicitDeny');
    // Without a caller a NotPrincipal Deny still applies.
    expect(evaluatePolicySet([p], req).decision).toBe('ExplicitDeny');
  });
});

describe('principalMatches', () => {
  const service: PrincipalInfo = {
    type: 'service',
    arn: 'lambda.amazonaws.com',
    account: '',
    service: 'lambda.amazonaws.com',
  };
  const anonymous: PrincipalInfo = { type: 'anonymous', arn: '*', account: '' };

  it('"*" matches everyone', () => {
    for (const p of [brokerSession, prodUser, service, anonymous])
      expect(principalMatches({ AWS: ['*'] }, p)).toBe(true);
  });

  it('an account ID or root ARN delegates to every principal of that account', () => {
    expect(principalMatches({ AWS: [SHARED] }, brokerSession)).toBe(true);
    expect(principalMatches({ AWS: [`arn:aws:iam::${SHARED}:root`] }, brokerSession)).toBe(true);
    expect(principalMatches({ AWS: [`arn:aws:iam::${PROD}:root`] }, brokerSession)).toBe(false);
    expect(principalMatches({ AWS: [PROD] }, prodUser)).toBe(true);
  });

  it('a role ARN matches sessions of that role (path included), not other roles', () => {
    expect(principalMatches({ AWS: [`arn:aws:iam::${PROD}:role/ci/Deployer`] }, prodSession)).toBe(true);
    expect(principalMatches({ AWS: [`arn:aws:iam::${PROD}:role/Deployer`] }, prodSession)).toBe(false);
    expect(principalMatches({ AWS: [`arn:aws:iam::${SHARED}:role/vend-broker`] }, prodSession)).toBe(false);
  });

  it('a session ARN matches exactly that session', () => {
    expect(principalMatches({ AWS: [prodSession.arn] }, prodSession)).toBe(true);
    expect(principalMatches({ AWS: [`arn:aws:sts::${PROD}:assumed-role/Deployer/other`] }, prodSession)).toBe(
      false,
    );
  });

  it('a user ARN matches that user only', () => {
    expect(principalMatches({ AWS: [prodUser.arn] }, prodUser)).toBe(true);
    expect(principalMatches({ AWS: [`arn:aws:iam::${PROD}:user/ops/erin`] }, prodUser)).toBe(false);
  });

  it('Service matches service principals, and an account does not match a service', () => {
    expect(principalMatches({ Service: ['lambda.amazonaws.com'] }, service)).toBe(true);
    expect(principalMatches({ Service: ['ec2.amazonaws.com'] }, service)).toBe(false);
    expect(principalMatches({ Service: ['lambda.amazonaws.com'] }, prodUser)).toBe(false);
    expect(principalMatches({ AWS: [PROD] }, { ...service, account: PROD })).toBe(false);
  });

  it('Federated and CanonicalUser compare to the matching PrincipalInfo fields', () => {
    const oidc: PrincipalInfo = {
      ...anonymous,
      type: 'user',
      federated: 'token.actions.githubusercontent.com',
    };
    expect(principalMatches({ Federated: ['token.actions.githubusercontent.com'] }, oidc)).toBe(true);
    expect(principalMatches({ Federated: ['accounts.google.com'] }, oidc)).toBe(false);
    expect(principalMatches({ CanonicalUser: ['abc'] }, { ...prodUser, canonicalUser: 'abc' })).toBe(true);
    expect(principalMatches({ CanonicalUser: ['abc'] }, prodUser)).toBe(false);
  });
});

describe('authorize', () => {
  const bucket = 'arn:aws:s3:::prod-artifacts/build.zip';
  const get = request('s3:GetObject', bucket, { principal: prodSession });
  const allowS3 = policy('identity', [{ Sid: 'S3', Effect: 'Allow', Action: 's3:*', Resource: '*' }], 'id');
  const allowGet = (kind: 'session' | 'identity' | 'scp', name: string = kind) =>
    policy(kind, [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }], name);
  const denyGet = (kind: 'session' | 'identity' | 'scp', name: string = kind) =>
    policy(kind, [{ Sid: 'No', Effect: 'Deny', Action: 's3:GetObject', Resource: '*' }], name);

  it('allows through identity policies when nothing else is given', () => {
    const result = authorize({ identityPolicies: [allowS3] }, get);

    expect(result).toEqual({
      decision: 'Allow',
      matched: [{ policy: 'id', index: 0, sid: 'S3', effect: 'Allow' }],
      decidedBy: 'identity',
    });
  });

  it('denies implicitly without an identity Allow', () => {
    expect(authorize({ identityPolicies: [] }, get)).toEqual({
      decision: 'ImplicitDeny',
      matched: [],
      decidedBy: 'identity',
    });
  });

  it('lets an explicit deny in a session policy win over every Allow', () => {
    const result = authorize(
      { identityPolicies: [allowS3], sessionPolicies: [allowGet('session'), denyGet('session', 'sp2')] },
      get,
    );

    expect(result.decision).toBe('ExplicitDeny');
    expect(result.decidedBy).toBe('session');
    expect(result.matched).toEqual([{ policy: 'sp2', index: 0, sid: 'No', effect: 'Deny' }]);
  });

  it('reports the first layer holding an explicit deny, in AWS order', () => {
    const result = authorize(
      {
        identityPolicies: [allowS3, denyGet('identity', 'id-deny')],
        scps: [denyGet('scp')],
        sessionPolicies: [denyGet('session')],
      },
      get,
    );

    expect(result.decidedBy).toBe('scp');
    expect(result.matched.map((m) => m.policy)).toEqual(['scp', 'id-deny', 'session']);
  });

  it('denies when SCPs are present but none allows', () => {
    const scp = policy('scp', [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }]);

    expect(authorize({ identityPolicies: [allowS3], scps: [scp] }, get)).toMatchObject({
      decision: 'ImplicitDeny',
      decidedBy: 'scp',
    });
    expect(authorize({ identityPolicies: [allowS3], scps: [allowGet('scp')] }, get).decision).toBe('Allow');
    expect(authorize({ identityPolicies: [allowS3], scps: [] }, get).decision).toBe('Allow');
  });

  it('intersects identity with the permissions boundary', () => {
    const boundary = policy('identity', [{ Effect: 'Allow', Action: 's3:List*', Resource: '*' }], 'pb');

    expect(authorize({ identityPolicies: [allowS3], permissionsBoundary: [boundary] }, get)).toMatchObject({
      decision: 'ImplicitDeny',
      decidedBy: 'boundary',
    });
    expect(
      authorize({ identityPolicies: [allowS3], permissionsBoundary: [allowGet('identity')] }, get).decision,
    ).toBe('Allow');
  });

  it('treats undefined session policies as none and [] as allowing nothing', () => {
    expect(authorize({ identityPolicies: [allowS3] }, get).decision).toBe('Allow');
    expect(authorize({ identityPolicies: [allowS3], sessionPolicies: [] }, get)).toMatchObject({
      decision: 'ImplicitDeny',
      decidedBy: 'session',
    });
  });

  it('lets any one of several session policies allow (they combine as one set)', () => {
    const other = policy('session', [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }], 'ec2');

    expect(
      authorize({ identityPolicies: [allowS3], sessionPolicies: [other, allowGet('session')] }, get).decision,
    ).toBe('Allow');
  });

  describe('resource policies, same account', () => {
    const bucketPolicy = (principal: unknown) =>
      policy(
        'resource',
        [{ Sid: 'Grant', Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: bucket }],
        'bp',
      );

    it('allow on their own when they name the exact caller (user or session ARN)', () => {
      const result = authorize(
        {
          identityPolicies: [],
          sessionPolicies: [],
          resourcePolicy: bucketPolicy({ AWS: prodSession.arn }),
          sameAccount: true,
        },
        get,
      );

      expect(result).toEqual({
        decision: 'Allow',
        matched: [{ policy: 'bp', index: 0, sid: 'Grant', effect: 'Allow' }],
        decidedBy: 'resource',
      });
    });

    it('are still limited by boundary and session policy when they name the role ARN', () => {
      const rp = bucketPolicy({ AWS: prodSession.roleArn });
      const boundary = policy('identity', [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }], 'pb');

      expect(authorize({ identityPolicies: [], resourcePolicy: rp, sameAccount: true }, get)).toMatchObject({
        decision: 'Allow',
        decidedBy: 'resource',
      });
      expect(
        authorize({ identityPolicies: [], resourcePolicy: rp, sameAccount: true, sessionPolicies: [] }, get),
      ).toMatchObject({
        decision: 'ImplicitDeny',
        decidedBy: 'session',
      });
      expect(
        authorize(
          { identityPolicies: [], resourcePolicy: rp, sameAccount: true, permissionsBoundary: [boundary] },
          get,
        ),
      ).toMatchObject({ decision: 'ImplicitDeny', decidedBy: 'boundary' });
    });

    it('only delegate to identity policies when they name the account', () => {
      const rp = bucketPolicy({ AWS: PROD });

      expect(authorize({ identityPolicies: [], resourcePolicy: rp, sameAccount: true }, get)).toMatchObject({
        decision: 'ImplicitDeny',
        decidedBy: 'identity',
      });
      expect(
        authorize({ identityPolicies: [allowS3], resourcePolicy: rp, sameAccount: true }, get).decision,
      ).toBe('Allow');
    });

    it('are not needed when the identity policy allows (for non-trust resource policies)', () => {
      const rp = bucketPolicy({ AWS: `arn:aws:iam::${PROD}:user/someone-else` });

      expect(
        authorize({ identityPolicies: [allowS3], resourcePolicy: rp, sameAccount: true }, get).decision,
      ).toBe('Allow');
    });

    it('an explicit Deny in the resource policy wins', () => {
      const rp = policy('resource', [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: bucket }]);

      expect(
        authorize({ identityPolicies: [allowS3], resourcePolicy: rp, sameAccount: true }, get),
      ).toMatchObject({
        decision: 'ExplicitDeny',
        decidedBy: 'resource',
      });
    });
  });

  describe('resource policies, cross account', () => {
    const trust = policy('trust', [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${SHARED}:role/vend-broker` },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': 'prod-readonly-ext-7f3a' } },
      },
    ]);
    const brokerIdentity = policy('identity', [
      { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${PROD}:role/*` },
    ]);
    const assume = request('sts:AssumeRole', `arn:aws:iam::${PROD}:role/ProdReadOnly`, {
      principal: brokerSession,
      context: { 'sts:ExternalId': 'prod-readonly-ext-7f3a' },
    });

    it('need both the trust policy and the identity policy', () => {
      expect(authorize({ identityPolicies: [brokerIdentity], resourcePolicy: trust }, assume)).toMatchObject({
        decision: 'Allow',
        decidedBy: 'identity',
      });
      expect(authorize({ identityPolicies: [], resourcePolicy: trust }, assume)).toMatchObject({
        decision: 'ImplicitDeny',
        decidedBy: 'identity',
      });
    });

    it('deny when the trust policy does not allow (wrong ExternalId)', () => {
      const wrong = { ...assume, context: { 'sts:ExternalId': 'guess' } };

      expect(authorize({ identityPolicies: [brokerIdentity], resourcePolicy: trust }, wrong)).toMatchObject({
        decision: 'ImplicitDeny',
        decidedBy: 'resource',
      });
    });
  });

  describe('trust policies, same account', () => {
    const role = `arn:aws:iam::${PROD}:role/Target`;
    const assume = request('sts:AssumeRole', role, { principal: prodUser });
    const identity = policy('identity', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: role }]);

    it('allow without identity policy when naming the caller ARN', () => {
      const trust = policy('trust', [
        { Effect: 'Allow', Principal: { AWS: prodUser.arn }, Action: 'sts:AssumeRole' },
      ]);

      expect(
        authorize({ identityPolicies: [], resourcePolicy: trust, sameAccount: true }, assume).decision,
      ).toBe('Allow');
    });

    it('need an identity Allow when trusting the account', () => {
      const trust = policy('trust', [
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PROD}:root` }, Action: 'sts:AssumeRole' },
      ]);

      expect(
        authorize({ identityPolicies: [], resourcePolicy: trust, sameAccount: true }, assume).decision,
      ).toBe('ImplicitDeny');
      expect(
        authorize({ identityPolicies: [identity], resourcePolicy: trust, sameAccount: true }, assume)
          .decision,
      ).toBe('Allow');
    });

    it('must allow even when the identity policy does', () => {
      const trust = policy('trust', [
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);

      expect(
        authorize({ identityPolicies: [identity], resourcePolicy: trust, sameAccount: true }, assume),
      ).toMatchObject({
        decision: 'ImplicitDeny',
        decidedBy: 'resource',
      });
    });
  });
});
