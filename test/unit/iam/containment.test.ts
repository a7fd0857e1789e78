// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal ${…} text, not templates
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkContainment, evaluatePolicySet } from '../../../lib/iam';
import { policy, request } from './helpers';

const demoCeiling = policy(
  'session',
  [
    {
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:ListBucket'],
      Resource: ['arn:aws:s3:::my-prod-data-bucket', 'arn:aws:s3:::my-prod-data-bucket/*'],
    },
  ],
  'ceiling',
);
const requested = (statements: unknown[], version?: string) =>
  policy('session', statements, 'requested', version);

describe('checkContainment: the prod-s3-read demo ceiling', () => {
  it('contains GetObject on a prefix of the bucket', () => {
    const req = requested([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::my-prod-data-bucket/reports/*' },
    ]);

    expect(checkContainment(req, demoCeiling)).toEqual({ ok: true });
  });

  it('contains the ceiling itself and any subset of it, actions in any case', () => {
    const req = requested([
      { Effect: 'Allow', Action: ['S3:LISTBUCKET'], Resource: 'arn:aws:s3:::my-prod-data-bucket' },
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:ListBucket'],
        Resource: ['arn:aws:s3:::my-prod-data-bucket/*'],
      },
    ]);

    expect(checkContainment(req, demoCeiling)).toEqual({ ok: true });
  });

  it.each([
    ['s3:*', 'arn:aws:s3:::my-prod-data-bucket/*'],
    ['*', 'arn:aws:s3:::my-prod-data-bucket/*'],
    ['s3:PutObject', 'arn:aws:s3:::my-prod-data-bucket/*'],
    ['s3:Get*', 'arn:aws:s3:::my-prod-data-bucket/*'],
  ])('refuses action %s', (action, resource) => {
    const req = requested([
      { Sid: 'ReadAll', Effect: 'Allow', Action: ['s3:GetObject', action], Resource: resource },
    ]);

    expect(checkContainment(req, demoCeiling)).toEqual({
      ok: false,
      statement: 0,
      sid: 'ReadAll',
      action,
      message: `Statement[0] (Sid "ReadAll"): action ${action} is outside the entitlement's ceiling`,
    });
  });

  it.each([
    'arn:aws:s3:::other-bucket/*',
    'arn:aws:s3:::my-prod-data-bucket*',
    '*',
    'arn:aws:s3:::my-prod-data-bucket-2/x',
  ])('refuses resource %s', (resource) => {
    const req = requested([
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::my-prod-data-bucket' },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: resource },
    ]);

    expect(checkContainment(req, demoCeiling)).toEqual({
      ok: false,
      statement: 1,
      resource,
      message: `Statement[1]: resource ${resource} is outside the entitlement's ceiling`,
    });
  });

  it('refuses NotAction and NotResource in a requested Allow', () => {
    const notAction = requested([
      { Effect: 'Allow', NotAction: 's3:PutObject', Resource: 'arn:aws:s3:::my-prod-data-bucket/*' },
    ]);
    const notResource = requested([
      { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::other/*' },
    ]);

    expect(checkContainment(notAction, demoCeiling)).toMatchObject({
      ok: false,
      message: expect.stringContaining('NotAction'),
    });
    expect(checkContainment(notResource, demoCeiling)).toMatchObject({
      ok: false,
      message: expect.stringContaining('NotResource'),
    });
  });

  it('accepts any requested Deny, even one wider than the ceiling', () => {
    const req = requested([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::my-prod-data-bucket/*' },
      { Effect: 'Deny', Action: '*', NotResource: 'arn:aws:s3:::my-prod-data-bucket/public/*' },
    ]);

    expect(checkContainment(req, demoCeiling)).toEqual({ ok: true });
  });
});

describe('checkContainment: pairing and wider ceilings', () => {
  it('needs one ceiling statement to cover both the action and the resource of each pair', () => {
    const ceiling = policy('session', [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::a/*' },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' },
    ]);
    const crossed = requested([{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::a/x' }]);

    expect(checkContainment(crossed, ceiling)).toMatchObject({
      ok: false,
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::a/x',
      message:
        "Statement[0]: action s3:PutObject on resource arn:aws:s3:::a/x is outside the entitlement's ceiling",
    });
  });

  it('lets an action be covered by one ceiling statement and another pair by another', () => {
    const ceiling = policy('session', [
      {
        Effect: 'Allow',
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: 'arn:aws:ecr:*:444455556666:repository/*',
      },
      { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::prod-artifacts/*' },
    ]);
    const req = requested([
      {
        Effect: 'Allow',
        Action: 'ecr:BatchGetImage',
        Resource: 'arn:aws:ecr:eu-west-1:444455556666:repository/app',
      },
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:Put*'], Resource: 'arn:aws:s3:::prod-artifacts/app/*' },
    ]);

    expect(checkContainment(req, ceiling)).toEqual({ ok: true });
  });

  it('lets an Allow of * on * contain everything, NotAction included', () => {
    const admin = policy('session', [{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    const req = requested([{ Effect: 'Allow', NotAction: 'iam:*', NotResource: 'arn:aws:s3:::x' }]);

    expect(checkContainment(req, admin)).toEqual({ ok: true });
  });

  it('never uses ceiling NotAction/NotResource statements to cover (conservative)', () => {
    const ceiling = policy('session', [{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }]);
    const req = requested([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]);

    expect(checkContainment(req, ceiling)).toMatchObject({ ok: false, action: 's3:GetObject' });
  });

  it('ignores ceiling Deny statements (vend keeps them in the policy it sends)', () => {
    const ceiling = policy('session', [
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' },
    ]);
    const req = requested([{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }]);

    expect(checkContainment(req, ceiling)).toEqual({ ok: true });
  });
});

describe('checkContainment: conditions and variables', () => {
  const conditional = policy('session', [
    {
      Effect: 'Allow',
      Action: 's3:*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': ['eu-west-1', 'eu-central-1'] } },
    },
  ]);

  it('lets a conditional ceiling statement cover only requests carrying the same condition', () => {
    const same = requested([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: '*',
        Condition: {
          StringEquals: { 'AWS:RequestedRegion': ['eu-central-1', 'eu-west-1'] },
          Bool: { 'aws:SecureTransport': 'true' },
        },
      },
    ]);
    const without = requested([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]);
    const different = requested([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } },
      },
    ]);

    expect(checkContainment(same, conditional)).toEqual({ ok: true });
    expect(checkContainment(without, conditional)).toMatchObject({
      ok: false,
      message: expect.stringContaining('under a Condition the requested statement lacks'),
    });
    expect(checkContainment(different, conditional).ok).toBe(false);
  });

  it('widens requested variables to * and refuses ceiling variables unless identical', () => {
    const perUser = policy('session', [
      { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}/*' },
    ]);
    const identical = requested([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${aws:username}/*' },
    ]);
    const concrete = requested([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/dave/*' },
    ]);
    const wide = policy('session', [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/*' }]);
    const escaped = requested([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${*}/x' },
    ]);

    expect(checkContainment(identical, perUser)).toEqual({ ok: true });
    expect(checkContainment(concrete, perUser).ok).toBe(false);
    expect(checkContainment(identical, wide)).toEqual({ ok: true });
    expect(
      checkContainment(
        requested([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::${aws:x}' }]),
        wide,
      ).ok,
    ).toBe(false);
    expect(checkContainment(escaped, wide)).toEqual({ ok: true });
  });
});

describe('checkContainment property: contained means every concrete request allowed by requested is allowed by the ceiling', () => {
  const actionPattern = fc.constantFrom(
    's3:GetObject',
    's3:Get*',
    's3:*',
    '*',
    's3:PutObject',
    's3:?etObject',
    'ec2:*',
    's3:List*',
  );
  const resourcePattern = fc.constantFrom(
    '*',
    'arn:aws:s3:::b',
    'arn:aws:s3:::b/*',
    'arn:aws:s3:::b/a/*',
    'arn:aws:s3:::b/a/?',
    'arn:aws:s3:::c/*',
    'arn:aws:s3:::*',
    'arn:aws:s3:::b*',
  );
  const statement = fc.record({
    Effect: fc.constant('Allow'),
    Action: fc.array(actionPattern, { minLength: 1, maxLength: 3 }),
    Resource: fc.array(resourcePattern, { minLength: 1, maxLength: 3 }),
  });
  const statements = fc.array(statement, { minLength: 1, maxLength: 3 });
  const concreteAction = fc.constantFrom(
    's3:GetObject',
    's3:PutObject',
    's3:ListBucket',
    'ec2:RunInstances',
    's3:SetObject',
    'iam:PassRole',
  );
  const concreteResource = fc.constantFrom(
    'arn:aws:s3:::b',
    'arn:aws:s3:::b/a/x',
    'arn:aws:s3:::b/a/xy',
    'arn:aws:s3:::b/z',
    'arn:aws:s3:::bb/a/x',
    'arn:aws:s3:::c/k',
    'arn:aws:ec2:eu-west-1:1:instance/i-1',
  );

  it('holds on random policies', () => {
    let contained = 0;
    fc.assert(
      fc.property(statements, statements, concreteAction, concreteResource, (req, ceil, action, resource) => {
        const r = requested(req);
        const c = policy('session', ceil, 'ceil');
        if (!checkContainment(r, c).ok) return;
        contained++;
        const ask = request(action, resource);
        if (evaluatePolicySet([r], ask).decision === 'Allow') {
          expect(evaluatePolicySet([c], ask).decision).toBe('Allow');
        }
      }),
      { numRuns: 3000 },
    );
    // The property is only meaningful if containment holds often enough.
    expect(contained).toBeGreaterThan(100);
  });
});
