/**
 * `npm run package` builds what would be deployed (offline, osls + serverless-esbuild); these specs
 * read the generated CloudFormation template and the bundles: runtime, least privilege, routes and
 * their authorizers, table protections, and bundles that load in a fresh Node process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: unknown;
  Condition?: unknown;
}

let out: string;
let resources: Record<string, Resource>;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'vend-package-'));
  await run(process.execPath, ['--import', 'tsx', 'infra/package.ts', '--out', out], {
    cwd: ROOT,
    env: { ...process.env, VEND_OIDC_ISSUER: 'https://login.example.com', VEND_STAGE: 'test' },
  });
  const template = JSON.parse(await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
  resources = template.Resources;
}, 120_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

function brokerStatements(): Statement[] {
  const role = resources.IamRoleLambdaExecution!;
  const policies = role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

const mentions = (resource: unknown, logicalId: string) =>
  JSON.stringify(resource).includes(`"${logicalId}"`);

describe('the packaged service', () => {
  it('runs every function on nodejs22.x or newer', () => {
    const fns = ofType('AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThanOrEqual(3);
    for (const [, fn] of fns) expect(fn.Properties.Runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
  });

  it('gives the broker only sts:AssumeRole, TagSession and SetSourceIdentity on vend-managed roles, and the revokers', () => {
    const sts = brokerStatements().filter((s) => s.Action.some((a) => a.startsWith('sts:')));
    expect(sts).toHaveLength(2);
    expect([...sts[0]!.Action].sort()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession']);
    expect(sts[0]!.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/vend:managed': 'true' } });
    // docs/revocation.md: the account's vend-revoker versions the deny lists; no session tags there.
    expect([...sts[1]!.Action].sort()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity']);
    expect(sts[1]!.Resource).toBe('arn:aws:iam::*:role/vend/vend-revoker');
  });

  it('keeps the audit table append-only for the runtime role', () => {
    const onAudit = brokerStatements().filter((s) => mentions(s.Resource, 'AuditTable'));
    expect(onAudit.length).toBeGreaterThan(0);
    const actions = onAudit.flatMap((s) => s.Action);
    expect(actions).toContain('dynamodb:PutItem');
    for (const forbidden of [
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:*',
    ]) {
      expect(actions).not.toContain(forbidden);
    }
    expect(brokerStatements().some((s) => s.Action.includes('*') || s.Action.includes('dynamodb:*'))).toBe(
      false,
    );
  });

  it('lets the runtime role only UpdateItem the rate-limit counters (no read, no delete)', () => {
    const onLimits = brokerStatements().filter((s) => mentions(s.Resource, 'LimitsTable'));
    expect(onLimits.flatMap((s) => s.Action)).toEqual(['dynamodb:UpdateItem']);
    expect(resources.LimitsTable?.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'ttl',
      Enabled: true,
    });
  });

  it('puts the IAM authorizer on service routes, the JWT authorizer on person routes, none on health', () => {
    const routes = Object.fromEntries(
      ofType('AWS::ApiGatewayV2::Route').map(([, r]) => [
        r.Properties.RouteKey,
        r.Properties.AuthorizationType ?? 'NONE',
      ]),
    );
    expect(routes['GET /v1/health']).toBe('NONE');
    for (const [key, auth] of Object.entries(routes)) {
      if (key.includes('/v1/service/')) expect(auth, key).toBe('AWS_IAM');
      else if (key.startsWith('POST /v1/slack/') || key === 'GET /v1/health') expect(auth, key).toBe('NONE');
      else expect(auth, key).toBe('JWT');
    }
  });

  it('creates on-demand tables with point-in-time recovery, encryption and deletion protection', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables.map(([id]) => id).sort()).toEqual([
      'AuditSealsTable',
      'AuditTable',
      'EntitlementsTable',
      'LimitsTable',
      'RequestsTable',
    ]);
    for (const [id, t] of tables) {
      expect(t.Properties.BillingMode, id).toBe('PAY_PER_REQUEST');
      expect(t.Properties.PointInTimeRecoverySpecification, id).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(t.Properties.SSESpecification, id).toEqual({ SSEEnabled: true });
      expect(t.Properties.DeletionProtectionEnabled, id).toBe(true);
    }
  });

  it('ships one ESM bundle per function that loads in a fresh Node process, without AGPL code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vend-bundle-'));
    try {
      await run('unzip', ['-oq', join(out, 'credentials.zip'), '-d', dir]);
      const bundle = join(dir, 'functions', 'credentials.mjs');
      const text = await readFile(bundle, 'utf8');
      expect(text).not.toMatch(/@cloud-copilot|iam-simulate/);
      const { stdout } = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(bundle)}); console.log(typeof m.handler);`,
        ],
        {
          env: {
            PATH: process.env.PATH ?? '',
            AWS_REGION: 'us-east-1',
            VEND_ENTITLEMENTS_TABLE: 'e',
            VEND_AUDIT_TABLE: 'a',
            VEND_REQUESTS_TABLE: 'r',
            VEND_LIMITS_TABLE: 'l',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
        },
      );
      expect(stdout.trim()).toBe('function');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The broker's policy read by vend's own policy evaluator (lib/iam), with the template's
 * CloudFormation references resolved to concrete example ARNs, so these specs prove what AWS would
 * decide rather than what the YAML looks like.
 */
describe('the packaged broker policy, evaluated', () => {
  const ACCOUNT = '222233334444';
  const REGION = 'us-east-1';

  function resolveCfn(node: unknown): unknown {
    if (Array.isArray(node)) return node.map(resolveCfn);
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    if ('Fn::GetAtt' in obj) {
      const [id, attr] = obj['Fn::GetAtt'] as [string, string];
      const res = resources[id];
      if (attr !== 'Arn' || res?.Type !== 'AWS::DynamoDB::Table')
        throw new Error(`cannot resolve GetAtt ${id}.${attr}`);
      return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${String(res.Properties.TableName)}`;
    }
    if ('Fn::Join' in obj) {
      const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
      return (resolveCfn(parts) as string[]).join(sep);
    }
    if ('Fn::Sub' in obj && typeof obj['Fn::Sub'] === 'string') {
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': REGION,
        'AWS::AccountId': ACCOUNT,
      };
      return (obj['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        const value = pseudo[name];
        if (value === undefined) throw new Error(`cannot resolve \${${name}} in Fn::Sub`);
        return value;
      });
    }
    if ('Ref' in obj) throw new Error(`unexpected Ref ${String(obj.Ref)} in the broker policy`);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolveCfn(v)]));
  }

  const brokerPolicies = async () => {
    const { parsePolicy } = await import('../../lib/iam');
    const role = resources.IamRoleLambdaExecution!;
    const policies = role.Properties.Policies as { PolicyName: unknown; PolicyDocument: unknown }[];
    return policies.map((p, i) => parsePolicy(resolveCfn(p.PolicyDocument), 'identity', `broker-${i}`));
  };
  const tableArn = (logicalId: string) =>
    `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${String(resources[logicalId]!.Properties.TableName)}`;
  const decide = async (action: string, resource: string, context: Record<string, string> = {}) => {
    const { evaluatePolicySet } = await import('../../lib/iam');
    return evaluatePolicySet(await brokerPolicies(), { action, resource, context }).decision;
  };

  it('may sts:AssumeRole only on roles tagged vend:managed=true', async () => {
    const role = 'arn:aws:iam::444455556666:role/ProdReadOnly';
    for (const action of ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']) {
      expect(await decide(action, role, { 'aws:ResourceTag/vend:managed': 'true' }), action).toBe('Allow');
      expect(await decide(action, role, {}), action).toBe('ImplicitDeny');
      expect(await decide(action, role, { 'aws:ResourceTag/vend:managed': 'false' }), action).toBe(
        'ImplicitDeny',
      );
    }
  });

  it('may assume the revoker roles, without session tags, and no other untagged role', async () => {
    const revoker = 'arn:aws:iam::444455556666:role/vend/vend-revoker';
    expect(await decide('sts:AssumeRole', revoker)).toBe('Allow');
    expect(await decide('sts:SetSourceIdentity', revoker)).toBe('Allow');
    expect(await decide('sts:TagSession', revoker)).toBe('ImplicitDeny');
    for (const other of [
      'arn:aws:iam::444455556666:role/vend/other',
      'arn:aws:iam::444455556666:role/vend-revoker',
    ])
      expect(await decide('sts:AssumeRole', other), other).toBe('ImplicitDeny');
  });

  it('may not call IAM at all (the deny lists are written as the revoker)', async () => {
    for (const action of [
      'iam:CreateRole',
      'iam:PassRole',
      'iam:UpdateAssumeRolePolicy',
      'iam:AttachRolePolicy',
      'iam:TagRole',
      'iam:CreateAccessKey',
      'iam:GetRole',
      'iam:CreatePolicyVersion',
      'iam:SetDefaultPolicyVersion',
      'iam:PutRolePermissionsBoundary',
    ]) {
      for (const resource of [
        '*',
        'arn:aws:iam::444455556666:role/ProdReadOnly',
        'arn:aws:iam::444455556666:policy/vend/vend-revocations-ProdReadOnly',
      ]) {
        expect(await decide(action, resource, { 'aws:ResourceTag/vend:managed': 'true' }), action).not.toBe(
          'Allow',
        );
      }
    }
  });

  it('may append to and read the audit table, never update or delete in it', async () => {
    const audit = tableArn('AuditTable');
    expect(await decide('dynamodb:PutItem', audit, { 'dynamodb:LeadingKeys': 'AUDIT#2026-11-29' })).toBe(
      'Allow',
    );
    // Never into the sealer's digest partition, and never without a partition key in the request.
    expect(await decide('dynamodb:PutItem', audit, { 'dynamodb:LeadingKeys': 'AUDIT_DIGEST' })).not.toBe(
      'Allow',
    );
    expect(await decide('dynamodb:PutItem', audit)).not.toBe('Allow');
    expect(await decide('dynamodb:Query', `${audit}/index/gsi1`)).toBe('Allow');
    for (const action of [
      'dynamodb:DeleteItem',
      'dynamodb:UpdateItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteTable',
    ]) {
      expect(await decide(action, audit), action).not.toBe('Allow');
    }
  });

  it('may only read the entitlements table (sync writes it under deployment credentials)', async () => {
    const table = tableArn('EntitlementsTable');
    expect(await decide('dynamodb:GetItem', table)).toBe('Allow');
    for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']) {
      expect(await decide(action, table), action).not.toBe('Allow');
    }
  });
});

describe('the packaged production settings', () => {
  it('throttles the stage and, tighter, every route that calls STS', () => {
    const stage = resources.HttpApiStage!.Properties as {
      DefaultRouteSettings: Record<string, number>;
      RouteSettings: Record<string, Record<string, number>>;
    };
    expect(stage.DefaultRouteSettings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(stage.DefaultRouteSettings.ThrottlingBurstLimit).toBeGreaterThan(0);
    const routeKeys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => String(r.Properties.RouteKey));
    for (const key of [
      'POST /v1/service/credentials',
      'POST /v1/credentials',
      'POST /v1/requests/{id}/credentials',
    ]) {
      expect(routeKeys, key).toContain(key);
      expect(stage.RouteSettings[key]?.ThrottlingRateLimit, key).toBeLessThan(
        stage.DefaultRouteSettings.ThrottlingRateLimit!,
      );
    }
    for (const key of Object.keys(stage.RouteSettings)) expect(routeKeys, key).toContain(key);
  });

  it('keeps every function log group for a bounded time', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(ofType('AWS::Lambda::Function').length);
    for (const [id, g] of groups) expect(g.Properties.RetentionInDays, id).toEqual(expect.any(Number));
  });

  it('alarms on 5xx, audit_unavailable, STS throttling and every break-glass use, to the alarm topic', () => {
    const alarms = Object.fromEntries(
      ofType('AWS::CloudWatch::Alarm').map(([, a]) => [String(a.Properties.MetricName), a.Properties]),
    );
    expect(Object.keys(alarms).sort()).toEqual([
      '5xx',
      'AuditSealLagSeconds',
      'AuditTrailCut',
      'AuditUnavailable',
      'BreakGlassUsed',
      'Errors',
      'StsThrottled',
    ]);
    expect(alarms.BreakGlassUsed?.Threshold).toBe(1);
    for (const a of Object.values(alarms)) expect(a.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    const filters = ofType('AWS::Logs::MetricFilter').map(([, f]) => f.Properties);
    for (const f of filters) {
      const group = (f.LogGroupName as { Ref: string }).Ref;
      expect(resources[group]?.Type, group).toBe('AWS::Logs::LogGroup');
    }
    expect(filters.map((f) => f.FilterPattern)).toContain('{ $.code = "audit_unavailable" }');
  });
});

describe('the packaged audit sealer (issue 8)', () => {
  const sealerStatements = (): Statement[] => {
    const role = resources.AuditSealerRole!;
    const policies = role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
    return policies.flatMap((p) => p.PolicyDocument.Statement);
  };

  it('runs every hour, just after the interval closes, under its own role, not the runtime role', () => {
    const fn = resources.AuditSealerLambdaFunction!;
    expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': ['AuditSealerRole', 'Arn'] });
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => mentions(r, 'AuditSealerLambdaFunction'));
    expect(rules.map(([, r]) => r.Properties.ScheduleExpression)).toEqual(['cron(2 * * * ? *)']);
    const env = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
    expect(env.VEND_AUDIT_SEALS_TABLE).toBe(resources.AuditSealsTable!.Properties.TableName);
  });

  it('keeps its head in a table only it may write, which the runtime role cannot touch', () => {
    const onSeals = sealerStatements().filter((s) => mentions(s.Resource, 'AuditSealsTable'));
    expect(onSeals.flatMap((s) => s.Action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(onSeals[0]!.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['AUDIT_SEALER'] },
    });
    expect(brokerStatements().some((s) => mentions(s.Resource, 'AuditSealsTable'))).toBe(false);
  });

  it('alarms when the sealer falls behind or does not run, fails, or finds its digests deleted', () => {
    const alarm = (metric: string) =>
      ofType('AWS::CloudWatch::Alarm').find(([, a]) => a.Properties.MetricName === metric)?.[1].Properties;
    expect(alarm('AuditSealLagSeconds')).toMatchObject({
      Namespace: 'vend',
      TreatMissingData: 'breaching',
      Threshold: 7200,
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(alarm('Errors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'AuditSealerLambdaFunction' } }],
      Threshold: 1,
    });
    expect(alarm('AuditTrailCut')).toMatchObject({ Namespace: 'vend', Threshold: 1 });
  });

  it('may read audit records and put digests only into the AUDIT_DIGEST partition, never update or delete', () => {
    const statements = sealerStatements();
    const onAudit = statements.filter((s) => mentions(s.Resource, 'AuditTable'));
    const actions = onAudit.flatMap((s) => s.Action).sort();
    expect(onAudit.some((s) => mentions(s.Resource, 'AuditSealsTable'))).toBe(false);
    expect(actions).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    const puts = onAudit.filter((s) => s.Action.includes('dynamodb:PutItem'));
    expect(puts).toHaveLength(1);
    expect(puts[0]!.Action).toEqual(['dynamodb:PutItem']);
    expect(puts[0]!.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['AUDIT_DIGEST'] },
    });
    const all = statements.flatMap((s) => s.Action);
    for (const forbidden of [
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:*',
      '*',
    ]) {
      expect(all).not.toContain(forbidden);
    }
    expect(all.some((a) => a.startsWith('sts:'))).toBe(false);
  });

  it('signs with an ECC P-256 KMS key that only the sealer role is granted, and the runtime role cannot sign', () => {
    const key = resources.AuditSigningKey!;
    expect(key.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const kms = sealerStatements().filter((s) => s.Action.some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect([...kms[0]!.Action].sort()).toEqual(['kms:DescribeKey', 'kms:GetPublicKey', 'kms:Sign']);
    expect(kms[0]!.Resource).toEqual([{ 'Fn::GetAtt': ['AuditSigningKey', 'Arn'] }]);
    expect(brokerStatements().some((s) => s.Action.some((a) => a.startsWith('kms:')))).toBe(false);
  });

  it('serves GET /v1/audit behind the JWT authorizer', () => {
    const route = ofType('AWS::ApiGatewayV2::Route').find(
      ([, r]) => r.Properties.RouteKey === 'GET /v1/audit',
    );
    expect(route?.[1].Properties.AuthorizationType).toBe('JWT');
  });
});
