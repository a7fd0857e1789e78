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

  it('gives the broker only sts:AssumeRole, TagSession and SetSourceIdentity on vend-managed roles', () => {
    const sts = brokerStatements().filter((s) => s.Action.some((a) => a.startsWith('sts:')));
    expect(sts).toHaveLength(1);
    expect([...sts[0]!.Action].sort()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession']);
    expect(sts[0]!.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/vend:managed': 'true' } });
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
    expect(tables).toHaveLength(3);
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
