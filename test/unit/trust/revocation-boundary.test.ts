/**
 * The guarantee behind vend's revocation deny lists (docs/revocation.md), proven with vend's own
 * evaluator (lib/iam `authorize`, which applies a permissions boundary as AWS does):
 *
 * 1. Whatever document lands in a target role's boundary, the role's sessions can do nothing they
 *    could not do without it: identity ∩ boundary ∩ session (and a same-account resource policy)
 *    never allows what identity ∩ session (and that resource policy) does not, and a boundary never
 *    lifts a Deny. fast-check writes the documents, Allow and Deny, with every kind of element.
 * 2. The only writer of those documents is the account's vend-revoker role (its packaged policy in
 *    infra/templates/vend-revoker-role.yaml): it may version `policy/vend/vend-revocations-*` of its
 *    own account and do nothing else in IAM. The broker (serverless.yml) may not call IAM at all;
 *    it may only assume the revoker.
 * 3. The SCPs (infra/scp) keep those policies boundaries: nobody attaches them as permission
 *    policies, only the revoker and the deployment version them, only the deployment changes the
 *    revoker, and only the broker assumes it.
 * So no write the broker can make through the revoker can widen a target role.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseServerlessYaml } from '../../../infra/local/gateway/serverless';
import { loadWorld } from '../../../infra/local/iam/world';
import {
  type AuthorizationInput,
  authorize,
  evaluatePolicySet,
  type Policy,
  type PrincipalInfo,
  parsePolicy,
  type RequestContext,
} from '../../../lib/iam';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PROD = '444455556666';
const DEPLOYER = `arn:aws:iam::${PROD}:role/stacksets-exec-0123456789abcdef`;
const REVOKER = `arn:aws:iam::${PROD}:role/vend/vend-revoker`;
const BROKER = 'arn:aws:iam::222233334444:role/vend-broker';

type Json = unknown;

/** Resolves the CloudFormation functions these templates use, for account `PROD`. */
function resolveCfn(node: Json, refs: Record<string, string>): Json {
  if (Array.isArray(node)) return node.map((n) => resolveCfn(n, refs));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Record<string, Json>;
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::AccountId': PROD,
    'AWS::Region': 'us-east-1',
    ...refs,
  };
  if ('Ref' in obj) {
    const value = pseudo[String(obj.Ref)];
    if (value === undefined) throw new Error(`cannot resolve Ref ${String(obj.Ref)}`);
    return value;
  }
  if ('Fn::Sub' in obj && typeof obj['Fn::Sub'] === 'string')
    return obj['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
      const value = pseudo[name];
      if (value === undefined) throw new Error(`cannot resolve \${${name}}`);
      return value;
    });
  if ('Fn::GetAtt' in obj) {
    const [id] = obj['Fn::GetAtt'] as [string];
    return `arn:aws:dynamodb:us-east-1:222233334444:table/${id}`;
  }
  if ('Fn::Join' in obj) {
    const [sep, parts] = obj['Fn::Join'] as [string, Json];
    return (resolveCfn(parts, refs) as string[]).join(sep);
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolveCfn(v, refs)]));
}

const template = (file: string) =>
  parseServerlessYaml(readFileSync(join(ROOT, 'infra/templates', file), 'utf8')) as {
    Resources: Record<string, { Properties: Record<string, Json> }>;
  };
const scp = (file: string) =>
  parsePolicy(JSON.parse(readFileSync(join(ROOT, 'infra/scp', file), 'utf8')), 'scp', file);

// ---------------------------------------------------------------------------------------------
// Generators: policy documents with every element the evaluator knows, over a small vocabulary so
// that statements and requests meet often.

const AUDIT_IDS = ['01KBAAAAAAAAAAAAAAAAAAAAAA', '01KBBBBBBBBBBBBBBBBBBBBBBB'];
const CALLERS = ['alice@example.com', 'CICDDeployRole@111122223333'];
const TIMES = ['2026-11-29T10:00:00Z', '2026-11-29T10:30:00Z', '2026-11-29T11:00:00Z'];
const ACTION_PATTERNS = [
  '*',
  's3:*',
  's3:Get*',
  's3:GetObject',
  's3:PutObject',
  'iam:*',
  'iam:Create*',
  'sts:AssumeRole',
  'ec2:Describe*',
  'ec2:RunInstances',
  'kms:Decrypt',
  'lambda:*',
  'secretsmanager:GetSecretValue',
];
const ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:DeleteBucket',
  'iam:CreateUser',
  'iam:AttachRolePolicy',
  'iam:CreatePolicyVersion',
  'sts:AssumeRole',
  'ec2:DescribeInstances',
  'ec2:RunInstances',
  'kms:Decrypt',
  'secretsmanager:GetSecretValue',
  'lambda:UpdateFunctionCode',
  'cloudformation:CreateStack',
  'ecr:PutImage',
  'organizations:LeaveOrganization',
];
const RESOURCE_PATTERNS = [
  '*',
  'arn:aws:s3:::prod-artifacts/*',
  'arn:aws:s3:::my-prod-data-bucket*',
  `arn:aws:iam::${PROD}:*`,
  `arn:aws:lambda:us-east-1:${PROD}:function:*`,
];
const RESOURCES = [
  'arn:aws:s3:::prod-artifacts/app.zip',
  'arn:aws:s3:::my-prod-data-bucket/report.csv',
  'arn:aws:s3:::other-bucket/x',
  `arn:aws:iam::${PROD}:user/eve`,
  `arn:aws:iam::${PROD}:role/BreakGlassAdmin`,
  `arn:aws:lambda:us-east-1:${PROD}:function:api`,
  '*',
];

const condition = fc.oneof(
  fc.record({
    StringEquals: fc.record({ 'aws:PrincipalTag/vend:audit-id': fc.subarray(AUDIT_IDS, { minLength: 1 }) }),
  }),
  fc.record({ StringEquals: fc.record({ 'aws:SourceIdentity': fc.constantFrom(...CALLERS) }) }),
  fc.record({
    StringEquals: fc.record({ 'aws:SourceIdentity': fc.constantFrom(...CALLERS) }),
    DateLessThan: fc.record({ 'aws:TokenIssueTime': fc.constantFrom(...TIMES) }),
  }),
  fc.record({
    StringNotEquals: fc.record({ 'aws:PrincipalTag/vend:audit-id': fc.constantFrom(...AUDIT_IDS) }),
  }),
  fc.record({ Null: fc.record({ 'aws:PrincipalTag/vend:audit-id': fc.constantFrom('true', 'false') }) }),
  fc.record({ Bool: fc.record({ 'aws:SecureTransport': fc.constantFrom('true', 'false') }) }),
  fc.record({
    'ForAnyValue:StringLike': fc.record({ 'aws:PrincipalTag/vend:audit-id': fc.constant(['01KBA*']) }),
  }),
);

const statement = fc
  .record(
    {
      Effect: fc.constantFrom('Allow', 'Deny'),
      actions: fc.subarray(ACTION_PATTERNS, { minLength: 1, maxLength: 3 }),
      notAction: fc.boolean(),
      resources: fc.subarray(RESOURCE_PATTERNS, { minLength: 1, maxLength: 2 }),
      notResource: fc.boolean(),
      Condition: condition,
    },
    { requiredKeys: ['Effect', 'actions', 'notAction', 'resources', 'notResource'] },
  )
  .map(({ Effect, actions, notAction, resources, notResource, Condition }) => ({
    Effect,
    [notAction ? 'NotAction' : 'Action']: actions,
    [notResource ? 'NotResource' : 'Resource']: resources,
    ...(Condition !== undefined && { Condition }),
  }));

const document = (kind: 'identity' | 'session', name: string) =>
  fc
    .array(statement, { minLength: 1, maxLength: 5 })
    .map((Statement) => parsePolicy({ Version: '2012-10-17', Statement }, kind, name));

const requestContext = fc
  .record({
    auditId: fc.option(fc.constantFrom(...AUDIT_IDS), { nil: undefined }),
    caller: fc.option(fc.constantFrom(...CALLERS), { nil: undefined }),
    issued: fc.constantFrom('2026-11-29T09:59:59Z', '2026-11-29T10:15:00Z', '2026-11-29T11:30:00Z'),
  })
  .map(
    ({ auditId, caller, issued }): RequestContext => ({
      'aws:PrincipalArn': `arn:aws:iam::${PROD}:role/Target`,
      'aws:PrincipalAccount': PROD,
      'aws:SecureTransport': 'true',
      'aws:TokenIssueTime': issued,
      ...(auditId && { 'aws:PrincipalTag/vend:audit-id': auditId }),
      ...(caller && { 'aws:SourceIdentity': caller }),
    }),
  );

const session: PrincipalInfo = {
  type: 'role-session',
  arn: `arn:aws:sts::${PROD}:assumed-role/Target/vend-alice-01KB`,
  account: PROD,
  roleArn: `arn:aws:iam::${PROD}:role/Target`,
};

/** A same-account resource policy naming the role, the session or the account. */
const resourcePolicy = fc
  .record({
    principal: fc.constantFrom(session.roleArn!, session.arn, `arn:aws:iam::${PROD}:root`),
    Effect: fc.constantFrom('Allow', 'Deny'),
    actions: fc.subarray(ACTION_PATTERNS, { minLength: 1, maxLength: 2 }),
  })
  .map(({ principal, Effect, actions }) =>
    parsePolicy(
      {
        Version: '2012-10-17',
        Statement: [{ Effect, Principal: { AWS: principal }, Action: actions, Resource: '*' }],
      },
      'resource',
      'bucket-policy',
    ),
  );

// ---------------------------------------------------------------------------------------------

describe('a revocation deny list is a permissions boundary: it never widens a target role', () => {
  let worldRoles: Policy[][];
  beforeAll(async () => {
    const world = await loadWorld(join(ROOT, 'infra/local/world'));
    worldRoles = [...world.roles.values()]
      .filter((r) => r.tags['vend:managed'] === 'true')
      .map((r) => r.identityPolicies);
    expect(worldRoles).toHaveLength(5);
  });

  it('identity ∩ boundary ∩ session never allows what identity ∩ session does not, for any boundary document', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 4 }).map((i) => worldRoles[i]!),
          document('identity', 'generated-identity').map((p) => [p]),
        ),
        document('identity', 'vend-revocations'),
        fc.option(document('session', 'session-policy'), { nil: undefined }),
        fc.option(resourcePolicy, { nil: undefined }),
        fc.constantFrom(...ACTIONS),
        fc.constantFrom(...RESOURCES),
        requestContext,
        (identityPolicies, boundary, sessionPolicy, resource, action, target, context) => {
          const base: AuthorizationInput = {
            identityPolicies,
            ...(sessionPolicy && { sessionPolicies: [sessionPolicy] }),
            ...(resource && { resourcePolicy: resource, sameAccount: true }),
          };
          const req = { action, resource: target, principal: session, context };
          const without = authorize(base, req).decision;
          const withBoundary = authorize({ ...base, permissionsBoundary: [boundary] }, req).decision;
          if (withBoundary === 'Allow') expect(without).toBe('Allow');
          if (without === 'ExplicitDeny') expect(withBoundary).toBe('ExplicitDeny');
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('the deny list as vend writes it: the revoked session is denied everything, the others keep exactly their rights', () => {
    const list = parsePolicy(
      {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'VendBoundary', Effect: 'Allow', Action: '*', Resource: '*' },
          {
            Sid: 'VendRevokedSessionsUntil202611291115',
            Effect: 'Deny',
            Action: '*',
            Resource: '*',
            Condition: { StringEquals: { 'aws:PrincipalTag/vend:audit-id': [AUDIT_IDS[0]] } },
          },
          {
            Sid: 'VendRevokedCaller0123456789ABCDEF',
            Effect: 'Deny',
            Action: '*',
            Resource: '*',
            Condition: {
              StringEquals: { 'aws:SourceIdentity': CALLERS[1] },
              DateLessThan: { 'aws:TokenIssueTime': TIMES[1] },
            },
          },
        ],
      },
      'identity',
      'vend-revocations',
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom(...ACTIONS),
        fc.constantFrom(...RESOURCES),
        requestContext,
        (i, action, target, context) => {
          const identityPolicies = worldRoles[i]!;
          const req = { action, resource: target, principal: session, context };
          const without = authorize({ identityPolicies }, req).decision;
          const withList = authorize({ identityPolicies, permissionsBoundary: [list] }, req);
          const revoked =
            context['aws:PrincipalTag/vend:audit-id'] === AUDIT_IDS[0] ||
            (context['aws:SourceIdentity'] === CALLERS[1] &&
              String(context['aws:TokenIssueTime']) < TIMES[1]!);
          if (revoked) {
            expect(withList.decision).toBe('ExplicitDeny');
            expect(withList.matched.some((m) => m.policy === 'vend-revocations' && m.effect === 'Deny')).toBe(
              true,
            );
          } else expect(withList.decision).toBe(without);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('only the revoker writes the deny lists, and it can do nothing else', () => {
  const revokerPolicy = () => {
    const role = template('vend-revoker-role.yaml').Resources.Revoker!.Properties;
    const [p] = role.Policies as { PolicyDocument: Json }[];
    return parsePolicy(resolveCfn(p!.PolicyDocument, {}), 'identity', 'VendRevocationLists');
  };
  const IAM_WRITES = [
    'iam:AttachRolePolicy',
    'iam:AttachUserPolicy',
    'iam:PutRolePolicy',
    'iam:PutRolePermissionsBoundary',
    'iam:DeleteRolePermissionsBoundary',
    'iam:UpdateAssumeRolePolicy',
    'iam:CreatePolicy',
    'iam:DeletePolicy',
    'iam:SetDefaultPolicyVersion',
    'iam:CreateRole',
    'iam:PassRole',
    'iam:CreateAccessKey',
    'iam:TagRole',
  ];
  const VERSIONING = [
    'iam:GetPolicy',
    'iam:GetPolicyVersion',
    'iam:ListPolicyVersions',
    'iam:CreatePolicyVersion',
    'iam:DeletePolicyVersion',
  ];

  it('the packaged revoker policy allows the five versioning actions on its own account`s deny lists only', () => {
    const policy = revokerPolicy();
    const names = [
      'vend/vend-revocations-ProdReadOnly',
      'vend/vend-revocations-X',
      'vend/other',
      'ProdArtifactsRead',
      'vend-revocations-ProdReadOnly',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...VERSIONING, ...IAM_WRITES, 'sts:AssumeRole', 's3:GetObject', '*'),
        fc.constantFrom(PROD, '555566667777', 'aws'),
        fc.constantFrom(...names),
        fc.constantFrom('policy', 'role'),
        (action, account, name, type) => {
          const resource = `arn:aws:iam::${account}:${type}/${name}`;
          const decision = evaluatePolicySet([policy], { action, resource, context: {} }).decision;
          const expected =
            VERSIONING.includes(action) &&
            account === PROD &&
            type === 'policy' &&
            name.startsWith('vend/vend-revocations-');
          expect(decision).toBe(expected ? 'Allow' : 'ImplicitDeny');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('its trust names only the broker and requires a SourceIdentity (who revoked is always named)', () => {
    const role = template('vend-revoker-role.yaml').Resources.Revoker!.Properties;
    const trust = parsePolicy(resolveCfn(role.AssumeRolePolicyDocument, { BrokerRoleArn: BROKER }), 'trust');
    const principal = (arn: string): PrincipalInfo => ({
      type: 'role-session',
      arn: `arn:aws:sts::${arn.split(':')[4]}:assumed-role/${arn.split('/').pop()}/s`,
      account: arn.split(':')[4]!,
      roleArn: arn,
    });
    const decide = (who: string, context: RequestContext) =>
      evaluatePolicySet([trust], {
        action: 'sts:AssumeRole',
        resource: REVOKER,
        principal: principal(who),
        context,
      }).decision;
    expect(decide(BROKER, { 'sts:SourceIdentity': 'bob@example.com' })).toBe('Allow');
    expect(decide(BROKER, {})).toBe('ImplicitDeny');
    expect(decide(`arn:aws:iam::${PROD}:role/Admin`, { 'sts:SourceIdentity': 'bob@example.com' })).toBe(
      'ImplicitDeny',
    );
    expect(role.RoleName).toBe('vend-revoker');
    expect(role.Path).toBe('/vend/');
  });

  it('the broker (serverless.yml) may not call IAM at all; it may assume the revokers and vend-managed roles only', () => {
    const doc = parseServerlessYaml(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
      provider: { iam: { role: { statements: Json[] } } };
    };
    const broker = parsePolicy(
      { Version: '2012-10-17', Statement: resolveCfn(doc.provider.iam.role.statements, {}) },
      'identity',
      'vend-broker',
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...VERSIONING, ...IAM_WRITES, 'iam:*', 'sts:AssumeRole', 'sts:TagSession'),
        fc.constantFrom(
          `arn:aws:iam::${PROD}:policy/vend/vend-revocations-ProdReadOnly`,
          `arn:aws:iam::${PROD}:role/ProdReadOnly`,
          REVOKER,
          `arn:aws:iam::${PROD}:role/vend/other`,
          '*',
        ),
        fc.boolean(),
        (action, resource, managed) => {
          const context = managed ? { 'aws:ResourceTag/vend:managed': 'true' } : {};
          const decision = evaluatePolicySet([broker], { action, resource, context }).decision;
          const assumeManaged =
            managed && resource.includes(':role/') && ['sts:AssumeRole', 'sts:TagSession'].includes(action);
          const assumeRevoker = resource === REVOKER && action === 'sts:AssumeRole';
          expect(decision).toBe(assumeManaged || assumeRevoker ? 'Allow' : 'ImplicitDeny');
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('the SCPs keep the deny lists boundaries and the revoker the broker`s', () => {
  const allowAll = parsePolicy(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    'scp',
    'FullAWSAccess',
  );
  const admin = parsePolicy(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    'identity',
    'AdministratorAccess',
  );
  const decide = (
    file: string,
    principalArn: string,
    action: string,
    resource: string,
    context: RequestContext = {},
  ) =>
    authorize(
      { identityPolicies: [admin], scps: [allowAll, scp(file)] },
      { action, resource, context: { 'aws:PrincipalArn': principalArn, ...context } },
    ).decision;
  const LIST = `arn:aws:iam::${PROD}:policy/vend/vend-revocations-ProdReadOnly`;
  const ADMIN = `arn:aws:iam::${PROD}:role/Admin`;
  const PROTECT = 'protect-vend-managed-roles.json';

  it('nobody, the deployment included, attaches a deny list as a permission policy', () => {
    for (const who of [ADMIN, DEPLOYER, REVOKER, BROKER])
      for (const action of ['iam:AttachRolePolicy', 'iam:AttachUserPolicy', 'iam:AttachGroupPolicy'])
        expect(
          decide(PROTECT, who, action, `arn:aws:iam::${PROD}:role/Mine`, { 'iam:PolicyARN': LIST }),
          `${who} ${action}`,
        ).toBe('ExplicitDeny');
    // Other policies attach as before.
    expect(
      decide(PROTECT, ADMIN, 'iam:AttachRolePolicy', `arn:aws:iam::${PROD}:role/Mine`, {
        'iam:PolicyARN': 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      }),
    ).toBe('Allow');
  });

  it('only the revoker and the deployment version a deny list; only the deployment creates, deletes or rolls one back', () => {
    for (const action of ['iam:CreatePolicyVersion', 'iam:DeletePolicyVersion']) {
      expect(decide(PROTECT, ADMIN, action, LIST), action).toBe('ExplicitDeny');
      expect(decide(PROTECT, REVOKER, action, LIST), action).toBe('Allow');
      expect(decide(PROTECT, DEPLOYER, action, LIST), action).toBe('Allow');
    }
    for (const action of [
      'iam:SetDefaultPolicyVersion',
      'iam:CreatePolicy',
      'iam:DeletePolicy',
      'iam:TagPolicy',
    ]) {
      expect(decide(PROTECT, ADMIN, action, LIST), action).toBe('ExplicitDeny');
      expect(decide(PROTECT, REVOKER, action, LIST), action).toBe('ExplicitDeny');
      expect(decide(PROTECT, DEPLOYER, action, LIST), action).toBe('Allow');
    }
  });

  it('only the deployment changes a vend-managed role`s boundary or the revoker role', () => {
    const managed = { 'aws:ResourceTag/vend:managed': 'true' };
    for (const action of ['iam:PutRolePermissionsBoundary', 'iam:DeleteRolePermissionsBoundary']) {
      expect(decide(PROTECT, ADMIN, action, `arn:aws:iam::${PROD}:role/ProdReadOnly`, managed)).toBe(
        'ExplicitDeny',
      );
      expect(decide(PROTECT, REVOKER, action, `arn:aws:iam::${PROD}:role/ProdReadOnly`, managed)).toBe(
        'ExplicitDeny',
      );
      expect(decide(PROTECT, DEPLOYER, action, `arn:aws:iam::${PROD}:role/ProdReadOnly`, managed)).toBe(
        'Allow',
      );
    }
    for (const action of [
      'iam:CreateRole',
      'iam:UpdateAssumeRolePolicy',
      'iam:PutRolePolicy',
      'iam:AttachRolePolicy',
      'iam:DeleteRole',
    ]) {
      expect(decide(PROTECT, ADMIN, action, REVOKER), action).toBe('ExplicitDeny');
      expect(decide(PROTECT, REVOKER, action, REVOKER), action).toBe('ExplicitDeny');
      expect(decide(PROTECT, DEPLOYER, action, REVOKER), action).toBe('Allow');
    }
  });

  it('only the broker assumes the revoker (SCP for the Organization, RCP for everyone else)', () => {
    for (const file of ['only-broker-assumes-vend-managed-roles.json']) {
      expect(decide(file, BROKER, 'sts:AssumeRole', REVOKER)).toBe('Allow');
      expect(decide(file, ADMIN, 'sts:AssumeRole', REVOKER)).toBe('ExplicitDeny');
    }
    const rcp = parsePolicy(
      JSON.parse(
        readFileSync(join(ROOT, 'infra/scp/only-broker-assumes-vend-managed-roles.rcp.json'), 'utf8'),
      ),
      'resource',
      'rcp',
    );
    const outsider: PrincipalInfo = {
      type: 'role-session',
      arn: 'arn:aws:sts::999988887777:assumed-role/X/s',
      account: '999988887777',
      roleArn: 'arn:aws:iam::999988887777:role/X',
    };
    const byRcp = (who: string, principal: PrincipalInfo) =>
      evaluatePolicySet([rcp], {
        action: 'sts:AssumeRole',
        resource: REVOKER,
        principal,
        context: { 'aws:PrincipalArn': who },
      }).decision;
    expect(byRcp(outsider.roleArn!, outsider)).toBe('ExplicitDeny');
    expect(byRcp(BROKER, { ...outsider, roleArn: BROKER, account: '222233334444' })).toBe('ImplicitDeny');
  });
});
