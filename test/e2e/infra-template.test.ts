/**
 * The target-role template (infra/templates/vend-target-role.yaml), evaluated by the local STS: the
 * template is rendered with parameters into a temporary world, and AssumeRole runs through the
 * emulator's own code (infra/local/sts/assume-role.ts: trust policy, caller permissions, tags,
 * SourceIdentity). Also: the demo world's target roles have exactly the template's shape, and the
 * SCP documents of infra/scp parse as SCPs and deny what their README says.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseServerlessYaml } from '../../infra/local/gateway/serverless';
import { IamStore } from '../../infra/local/iam/store';
import { loadWorld } from '../../infra/local/iam/world';
import { assumeRole } from '../../infra/local/sts/assume-role';
import { StsFaultError } from '../../infra/local/sts/errors';
import { authorize, evaluatePolicySet, parsePolicy } from '../../lib/iam';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BROKER = 'arn:aws:iam::222233334444:role/vend-broker';
const TARGET = 'arn:aws:iam::444455556666:role/TemplateRole';
const EXTERNAL_ID = 'template-external-id-0123456789';

type Json = unknown;

/** Renders a CloudFormation template's Ref / Fn::If / Fn::Not / Fn::Equals / Fn::Join with parameters. */
function render(template: Record<string, Json>, params: Record<string, Json>): Record<string, Json> {
  const conditions = (template.Conditions ?? {}) as Record<string, Json>;
  const NO_VALUE = Symbol('NoValue');
  const value = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(value).filter((v) => v !== NO_VALUE);
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Record<string, Json>;
    if ('Ref' in obj) {
      if (obj.Ref === 'AWS::NoValue') return NO_VALUE;
      if (!(String(obj.Ref) in params)) throw new Error(`no parameter ${String(obj.Ref)}`);
      return params[String(obj.Ref)];
    }
    if ('Fn::If' in obj) {
      const [cond, yes, no] = obj['Fn::If'] as [string, Json, Json];
      return value(value(conditions[cond]) === true ? yes : no);
    }
    if ('Fn::Not' in obj) return !(value((obj['Fn::Not'] as Json[])[0]) as boolean);
    if ('Fn::Equals' in obj) {
      const [a, b] = (obj['Fn::Equals'] as Json[]).map(value);
      return JSON.stringify(a) === JSON.stringify(b);
    }
    if ('Fn::Join' in obj) {
      const [sep, parts] = obj['Fn::Join'] as [string, Json];
      return (value(parts) as Json[]).join(sep);
    }
    return Object.fromEntries(
      Object.entries(obj)
        .map(([k, v]) => [k, value(v)] as const)
        .filter(([, v]) => v !== NO_VALUE),
    );
  };
  return value(template.Resources) as Record<string, Json>;
}

async function templateResources(params: Record<string, Json>) {
  const text = await readFile(join(ROOT, 'infra/templates/vend-target-role.yaml'), 'utf8');
  const roleName = String(params.RoleName ?? 'TemplateRole');
  return render(parseServerlessYaml(text), {
    RoleName: roleName,
    RolePath: '/',
    RoleDescription: 'x',
    ManagedPolicyArns: [''],
    InlinePolicy: '',
    // `Ref` of the template's own deny-list policy is its ARN.
    RevocationList: `arn:aws:iam::444455556666:policy/vend/vend-revocations-${roleName}`,
    ...params,
  });
}

async function templateRole(params: Record<string, Json>) {
  return ((await templateResources(params)).Role as { Properties: Record<string, Json> }).Properties;
}

let dir: string;
let store: IamStore;

beforeAll(async () => {
  const role = await templateRole({ BrokerRoleArn: BROKER, ExternalId: EXTERNAL_ID });
  dir = await mkdtemp(join(tmpdir(), 'vend-template-world-'));
  const world = {
    accounts: { '111122223333': 'ci', '222233334444': 'shared-services', '444455556666': 'prod' },
    roles: [
      {
        arn: BROKER,
        tags: { 'vend:component': 'broker' },
        trustPolicy: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        policies: [
          {
            name: 'AssumeVendManagedRoles',
            document: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
                  Resource: 'arn:aws:iam::*:role/*',
                  Condition: { StringEquals: { 'aws:ResourceTag/vend:managed': 'true' } },
                },
              ],
            },
          },
        ],
      },
      {
        // Another principal with every permission of its own: only the target's trust can stop it.
        arn: 'arn:aws:iam::111122223333:role/CICDDeployRole',
        trustPolicy: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        policies: [
          {
            name: 'All',
            document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
          },
        ],
      },
      {
        arn: TARGET,
        maxSessionDuration: role.MaxSessionDuration,
        permissionsBoundary: role.PermissionsBoundary,
        tags: Object.fromEntries(
          (role.Tags as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]),
        ),
        trustPolicy: role.AssumeRolePolicyDocument,
        policies: (role.Policies as { PolicyName: string; PolicyDocument: Json }[]).map((p) => ({
          name: p.PolicyName,
          document: p.PolicyDocument,
        })),
      },
    ],
    profiles: {
      'vend-broker': { role: BROKER, sessionName: 'vend-broker' },
      ci: { role: 'arn:aws:iam::111122223333:role/CICDDeployRole', sessionName: 'ci' },
    },
  };
  const list = (await templateResources({ BrokerRoleArn: BROKER, ExternalId: EXTERNAL_ID }))
    .RevocationList as {
    Properties: { PolicyDocument: Json };
  };
  await writeFile(
    join(dir, 'world.yaml'),
    stringify({
      ...world,
      managedPolicies: [{ arn: role.PermissionsBoundary, document: list.Properties.PolicyDocument }],
    }),
  );
  store = await IamStore.open({ worldDir: dir });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const vendTags = [
  { key: 'vend:entitlement', value: 'prod-readonly' },
  { key: 'vend:audit-id', value: '01KB0000000000000000000000' },
];

function attempt(profile: string, params: Partial<Parameters<typeof assumeRole>[2]>) {
  const caller = store.mintBaseSession(profile);
  return () =>
    assumeRole(
      store,
      caller,
      { roleArn: TARGET, roleSessionName: 'vend-test', durationSeconds: 900, ...params },
      { now: new Date(), sourceIp: '10.0.0.1' },
    );
}

describe('the target-role template, evaluated by the local STS', () => {
  it('lets the broker in with the ExternalId and a SourceIdentity (and vend:* session tags)', () => {
    const out = attempt('vend-broker', {
      externalId: EXTERNAL_ID,
      sourceIdentity: 'CICDDeployRole',
      tags: vendTags,
    })();
    expect(out.key.principal.arn).toBe('arn:aws:sts::444455556666:assumed-role/TemplateRole/vend-test');
    expect(out.key.principal.sourceIdentity).toBe('CICDDeployRole');
  });

  it('denies the broker without a SourceIdentity', () => {
    expect(attempt('vend-broker', { externalId: EXTERNAL_ID })).toThrow(
      /not authorized to perform: sts:AssumeRole/,
    );
  });

  it('denies the broker with a wrong or missing ExternalId', () => {
    expect(attempt('vend-broker', { externalId: 'guessed-external-id-000', sourceIdentity: 'x1' })).toThrow(
      StsFaultError,
    );
    expect(attempt('vend-broker', { sourceIdentity: 'x1' })).toThrow(
      /not authorized to perform: sts:AssumeRole/,
    );
  });

  it('denies session tags outside vend:', () => {
    expect(
      attempt('vend-broker', {
        externalId: EXTERNAL_ID,
        sourceIdentity: 'x1',
        tags: [{ key: 'team', value: 'admins' }],
      }),
    ).toThrow(/not authorized to perform: sts:TagSession/);
  });

  it('denies any other principal, even with the ExternalId, a SourceIdentity and full permissions of its own', () => {
    expect(attempt('ci', { externalId: EXTERNAL_ID, sourceIdentity: 'ci' })).toThrow(
      /not authorized to perform: sts:AssumeRole/,
    );
  });

  it('caps sessions at 3600 s, tags the role vend-managed, and keeps its sessions from chaining', async () => {
    const role = store.getRole(TARGET)!;
    expect(role.maxSessionDuration).toBe(3600);
    expect(role.tags).toEqual({ 'vend:managed': 'true' });
    const chain = evaluatePolicySet(role.identityPolicies, {
      action: 'sts:AssumeRole',
      resource: 'arn:aws:iam::444455556666:role/Anything',
      context: { 'aws:PrincipalTag/vend:audit-id': '01KB0000000000000000000000' },
    });
    expect(chain.decision).toBe('ExplicitDeny');
  });

  it('attaches the permission parameters: managed ARNs and an inline JSON document', async () => {
    const role = await templateRole({
      BrokerRoleArn: BROKER,
      ExternalId: EXTERNAL_ID,
      ManagedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      InlinePolicy:
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
    });
    expect(role.ManagedPolicyArns).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
    expect((role.Policies as { PolicyName: string }[]).map((p) => p.PolicyName)).toEqual([
      'VendNoRoleChaining',
      'VendPermissions',
    ]);
  });
});

describe("the demo world's target roles", () => {
  it('have exactly the template shape (trust, cap, tag, no-chaining policy, deny-list boundary), with their own ExternalId', async () => {
    const world = await loadWorld(join(ROOT, 'infra/local/world'));
    const targets = [...world.roles.values()].filter((r) => r.tags['vend:managed'] === 'true');
    expect(targets).toHaveLength(5);
    for (const r of targets) {
      const ext = r.trustPolicy.statements[0]?.condition?.StringEquals?.['sts:ExternalId']?.[0] ?? '';
      const expected = await templateRole({ BrokerRoleArn: BROKER, ExternalId: ext, RoleName: r.name });
      const trust = parsePolicy(expected.AssumeRolePolicyDocument, 'trust', `${r.name}-trust`);
      expect(r.trustPolicy.statements, r.arn).toEqual(trust.statements);
      expect(r.maxSessionDuration, r.arn).toBe(expected.MaxSessionDuration);
      expect(r.tags, r.arn).toEqual({ 'vend:managed': 'true' });
      const fixed = (expected.Policies as { PolicyDocument: Json }[])[0]!.PolicyDocument;
      expect(r.identityPolicies[0]?.statements, r.arn).toEqual(parsePolicy(fixed, 'identity').statements);
      // The boundary is the role's own deny list, as the template creates it (docs/revocation.md).
      const resources = await templateResources({ BrokerRoleArn: BROKER, ExternalId: ext, RoleName: r.name });
      const list = resources.RevocationList as { Properties: { PolicyDocument: Json } };
      expect(r.permissionsBoundaryArn, r.arn).toBe(
        `arn:aws:iam::${r.account}:policy/vend/vend-revocations-${r.name}`,
      );
      expect(world.managedPolicies.get(r.permissionsBoundaryArn!)?.policy.statements, r.arn).toEqual(
        parsePolicy(list.Properties.PolicyDocument, 'identity').statements,
      );
    }
  });
});

describe('the SCPs of infra/scp', () => {
  const scp = async (file: string) =>
    parsePolicy(
      JSON.parse(await readFile(join(ROOT, 'infra/scp', file), 'utf8')),
      file.endsWith('.rcp.json') ? 'resource' : 'scp',
      file,
    );
  const allowAll = parsePolicy(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    'scp',
    'FullAWSAccess',
  );
  const decide = async (
    file: string,
    action: string,
    resource: string,
    context: Record<string, string | string[]>,
  ) =>
    authorize(
      { identityPolicies: [allowAll], scps: [allowAll, await scp(file)] },
      { action, resource, context },
    ).decision;

  it('all parse as their policy kind', async () => {
    const files = (await readdir(join(ROOT, 'infra/scp'))).filter((f) => f.endsWith('.json'));
    expect(files.length).toBe(4);
    for (const f of files) await expect(scp(f)).resolves.toBeDefined();
  });

  it('only the broker assumes vend-managed roles', async () => {
    const managed = { 'aws:ResourceTag/vend:managed': 'true' };
    const file = 'only-broker-assumes-vend-managed-roles.json';
    expect(await decide(file, 'sts:AssumeRole', TARGET, { ...managed, 'aws:PrincipalArn': BROKER })).toBe(
      'Allow',
    );
    expect(
      await decide(file, 'sts:AssumeRole', TARGET, {
        ...managed,
        'aws:PrincipalArn': 'arn:aws:iam::444455556666:role/Admin',
      }),
    ).toBe('ExplicitDeny');
    expect(
      await decide(file, 'sts:AssumeRole', TARGET, {
        'aws:PrincipalArn': 'arn:aws:iam::444455556666:role/Admin',
      }),
    ).toBe('Allow');
  });

  it('only the deployment changes their trust or any vend: tag', async () => {
    const file = 'protect-vend-managed-roles.json';
    const managed = { 'aws:ResourceTag/vend:managed': 'true' };
    const admin = { 'aws:PrincipalArn': 'arn:aws:iam::444455556666:role/Admin' };
    const stackset = { 'aws:PrincipalArn': 'arn:aws:iam::444455556666:role/stacksets-exec-0123abcd' };
    expect(await decide(file, 'iam:UpdateAssumeRolePolicy', TARGET, { ...managed, ...admin })).toBe(
      'ExplicitDeny',
    );
    expect(await decide(file, 'iam:UpdateAssumeRolePolicy', TARGET, { ...managed, ...stackset })).toBe(
      'Allow',
    );
    expect(
      await decide(file, 'iam:TagRole', 'arn:aws:iam::444455556666:role/Mine', {
        ...admin,
        'aws:TagKeys': ['vend:managed'],
      }),
    ).toBe('ExplicitDeny');
    expect(
      await decide(file, 'iam:TagRole', 'arn:aws:iam::444455556666:role/Mine', {
        ...admin,
        'aws:TagKeys': ['team'],
      }),
    ).toBe('Allow');
  });

  it('vended sessions (principal tag vend:audit-id) cannot chain; other sessions can', async () => {
    const file = 'no-chaining-from-vended-sessions.json';
    expect(await decide(file, 'sts:AssumeRole', TARGET, { 'aws:PrincipalTag/vend:audit-id': '01KB' })).toBe(
      'ExplicitDeny',
    );
    expect(await decide(file, 'sts:AssumeRole', TARGET, { 'aws:PrincipalTag/team': 'x' })).toBe('Allow');
  });
});
