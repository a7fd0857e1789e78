/**
 * The vend path end to end against the local stack: real gateway (SigV4 and JWT authorizers), real
 * handlers, real dynalite, the local STS, and the real AWS CLI using what vend returned.
 *
 * Faults are injected with SDK middleware on vend's own clients (lib/wiring/clients.ts, the same module
 * instances the in-process handlers use): no real part can fail on cue.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scanTable } from '../support/audit-table';
import { leakCanary } from '../support/leak-canary';
import { withStack } from '../support/stack';

const run = promisify(execFile);
const stack = withStack();

const AUDIT_TABLE = 'vend-dev-audit';
const EXTERNAL_IDS = [
  'prod-readonly-ext-7f3a',
  'prod-deploy-external-id-abc123',
  'prod-s3-ext-19c2',
  'prod-breakglass-ext-5d8e',
  'staging-deploy-ext-2b71',
];

async function auditRecords(): Promise<Record<string, unknown>[]> {
  return scanTable(dynamodb, AUDIT_TABLE);
}

const canary = leakCanary({
  lateTexts: async () => ({ 'audit table': JSON.stringify(await auditRecords()) }),
});
for (const id of EXTERNAL_IDS) canary.secret(id);

// vend's own clients, imported once the stack has set the handlers' environment (lib/wiring/clients.ts
// reads it at load, as a Lambda does at cold start).
let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
let sts: typeof import('../../lib/wiring/clients').sts;

// Count vend's AssumeRole calls by observing its real STS client.
let stsCalls = 0;
beforeAll(async () => {
  ({ dynamodb, sts } = await import('../../lib/wiring/clients'));
  sts.middlewareStack.add(
    (next) => async (args) => {
      stsCalls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countStsCalls' },
  );
});
afterEach(() => {
  for (const name of ['failSts', 'failDynamo']) {
    sts.middlewareStack.remove(name);
    dynamodb.middlewareStack.remove(name);
  }
});

const S3_PREFIX_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::my-prod-data-bucket/reports/*',
    },
  ],
};

async function simulate(accessKeyId: string, action: string, resource: string): Promise<string> {
  const res = await fetch(`${stack.awsUrl}/_local/iam/simulate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId, action, resource }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { decision: string }).decision;
}

async function vendAsCi(body: unknown, headers: Record<string, string> = {}) {
  const res = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', body as object, headers);
  const text = await res.text();
  return { res, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function vendAsPerson(token: string, body: unknown) {
  const res = await fetch(`${stack.apiUrl}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { res, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

interface Issued {
  credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string };
  assumedRoleArn: string;
  auditId: string;
  durationSeconds: number;
  sourceIdentity: string;
}

function remember(body: Record<string, unknown>): Issued {
  const issued = body as unknown as Issued;
  canary.secret(issued.credentials.SecretAccessKey);
  canary.secret(issued.credentials.SessionToken);
  return issued;
}

describe('a service vends scoped credentials', () => {
  it('CICDDeployRole gets prod-s3-read narrowed to one prefix; the AWS CLI and the permission check agree', async () => {
    const { res, json } = await vendAsCi({
      entitlement: 'prod-s3-read',
      durationSeconds: 900,
      policy: S3_PREFIX_POLICY,
      reason: 'nightly report export',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    const issued = remember(json);
    expect(issued.durationSeconds).toBe(900);
    expect(issued.sourceIdentity).toBe('CICDDeployRole@111122223333');
    expect(JSON.stringify(json)).not.toContain('prod-s3-ext-19c2');

    const { stdout } = await run('aws', ['sts', 'get-caller-identity', '--output', 'json'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AWS_ENDPOINT_URL: stack.awsUrl,
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: issued.credentials.AccessKeyId,
        AWS_SECRET_ACCESS_KEY: issued.credentials.SecretAccessKey,
        AWS_SESSION_TOKEN: issued.credentials.SessionToken,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    expect(JSON.parse(stdout).Arn).toBe(issued.assumedRoleArn);
    expect(issued.assumedRoleArn).toMatch(/^arn:aws:sts::444455556666:assumed-role\/S3ReadAll\/vend-/);

    const key = issued.credentials.AccessKeyId;
    expect(await simulate(key, 's3:GetObject', 'arn:aws:s3:::my-prod-data-bucket/reports/2026.csv')).toBe(
      'Allow',
    );
    expect(await simulate(key, 's3:GetObject', 'arn:aws:s3:::my-prod-data-bucket/private/x')).not.toBe(
      'Allow',
    );
    expect(await simulate(key, 's3:GetObject', 'arn:aws:s3:::other-bucket/reports/x')).not.toBe('Allow');
    expect(await simulate(key, 's3:PutObject', 'arn:aws:s3:::my-prod-data-bucket/reports/x')).not.toBe(
      'Allow',
    );

    const records = (await auditRecords()).filter((r) => r.auditId === issued.auditId);
    expect(records.map((r) => r.decision).sort()).toEqual(['intent', 'issued']);
    const issuedRecord = records.find((r) => r.decision === 'issued')!;
    expect(issuedRecord).toMatchObject({
      accessKeyId: key,
      entitlement: 'prod-s3-read',
      roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
      durationSeconds: 900,
      sourceIdentity: 'CICDDeployRole@111122223333',
      reason: 'nightly report export',
    });
    expect(issuedRecord.sessionPolicyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(issuedRecord.sourceIp).toBeTruthy();
    expect(issuedRecord.requestId).toBeTruthy();
  });

  it('without a policy the ceiling is the session policy', async () => {
    const { res, json } = await vendAsCi({ entitlement: 'prod-s3-read' });
    expect(res.status).toBe(200);
    const key = remember(json).credentials.AccessKeyId;
    expect(await simulate(key, 's3:GetObject', 'arn:aws:s3:::my-prod-data-bucket/any/x')).toBe('Allow');
    expect(await simulate(key, 's3:GetObject', 'arn:aws:s3:::other-bucket/x')).not.toBe('Allow');
  });

  it('lists the entitlements the service may use', async () => {
    const res = await stack.signedFetch('ci', 'GET', '/v1/service/entitlements');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { entitlements: { id: string }[] };
    expect(body.entitlements.map((e) => e.id)).toEqual([
      'prod-deploy',
      'prod-readonly',
      'prod-s3-read',
      'staging-deploy',
    ]);
    expect(JSON.stringify(body)).not.toMatch(/ext-|external/i);
  });
});

describe('a person vends with an OIDC token', () => {
  it('alice (sre) gets prod-readonly', async () => {
    const { res, json } = await vendAsPerson(await stack.token('alice'), { entitlement: 'prod-readonly' });
    expect(res.status).toBe(200);
    const issued = remember(json);
    expect(issued.sourceIdentity).toBe('alice@example.com');
    expect(issued.assumedRoleArn).toMatch(/assumed-role\/ProdReadOnly\/vend-alice-/);
  });

  it('mallory gets 403 not_entitled, audited', async () => {
    const before = stsCalls;
    const { res, json } = await vendAsPerson(await stack.token('mallory'), { entitlement: 'prod-readonly' });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(json).toMatchObject({ status: 403, code: 'not_entitled' });
    expect(stsCalls).toBe(before);
    const denied = (await auditRecords()).filter(
      (r) => r.decision === 'denied' && (r.caller as { label?: string })?.label?.includes('mallory'),
    );
    expect(denied.length).toBeGreaterThan(0);
  });

  it('alice listing shows prod-admin as requestable, not usable', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/entitlements`, {
      headers: { authorization: `Bearer ${await stack.token('alice')}` },
    });
    const body = (await res.json()) as {
      entitlements: { id: string; access: { use: boolean; request: boolean } }[];
    };
    const admin = body.entitlements.find((e) => e.id === 'prod-admin');
    expect(admin?.access).toMatchObject({ use: false, request: true });
  });
});

describe('refusals: the right status and code, no STS call, nothing secret in the body', () => {
  const policy = (statement: object) => ({ Version: '2012-10-17', Statement: [statement] });
  const cases: [string, unknown, number, string][] = [
    ['unknown entitlement', { entitlement: 'no-such-thing' }, 403, 'not_entitled'],
    ["another caller's entitlement", { entitlement: 'prod-admin' }, 403, 'not_entitled'],
    ['duration 899', { entitlement: 'prod-readonly', durationSeconds: 899 }, 400, 'duration_out_of_range'],
    ['duration 3601', { entitlement: 'prod-readonly', durationSeconds: 3601 }, 400, 'duration_out_of_range'],
    [
      'duration 43201',
      { entitlement: 'prod-readonly', durationSeconds: 43201 },
      400,
      'duration_out_of_range',
    ],
    ['duration -1', { entitlement: 'prod-readonly', durationSeconds: -1 }, 400, 'duration_out_of_range'],
    [
      'duration "3600" (a string)',
      { entitlement: 'prod-readonly', durationSeconds: '3600' },
      400,
      'duration_out_of_range',
    ],
    ['duration 1e9', { entitlement: 'prod-readonly', durationSeconds: 1e9 }, 400, 'duration_out_of_range'],
    [
      'policy wider than the ceiling',
      {
        entitlement: 'prod-s3-read',
        policy: policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::other/*' }),
      },
      403,
      'policy_exceeds_ceiling',
    ],
    [
      'Action "*"',
      { entitlement: 'prod-s3-read', policy: policy({ Effect: 'Allow', Action: '*', Resource: '*' }) },
      403,
      'policy_exceeds_ceiling',
    ],
    [
      'invalid JSON policy',
      { entitlement: 'prod-s3-read', policy: '{"Version": "2012-10-17", "Statement": [' },
      400,
      'invalid_request',
    ],
    [
      'policy over the size limit',
      {
        entitlement: 'prod-s3-read',
        policy: policy({
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: Array.from(
            { length: 60 },
            (_, i) => `arn:aws:s3:::my-prod-data-bucket/reports/${'x'.repeat(20)}${i}/*`,
          ),
        }),
      },
      400,
      'policy_too_large',
    ],
    [
      'body with roleArn',
      { entitlement: 'prod-readonly', roleArn: 'arn:aws:iam::444455556666:role/BreakGlassAdmin' },
      400,
      'invalid_request',
    ],
    ['body with externalId', { entitlement: 'prod-readonly', externalId: 'guess' }, 400, 'invalid_request'],
    ['body with sessionName', { entitlement: 'prod-readonly', sessionName: 'mine' }, 400, 'invalid_request'],
    [
      'body with sourceIdentity',
      { entitlement: 'prod-readonly', sourceIdentity: 'someone-else' },
      400,
      'invalid_request',
    ],
    [
      'body with tags',
      { entitlement: 'prod-readonly', tags: [{ Key: 'vend:caller', Value: 'x' }] },
      400,
      'invalid_request',
    ],
  ];

  it.each(cases)('%s → %i %s', async (_name, body, status, code) => {
    const before = stsCalls;
    const { res, json, text } = await vendAsCi(body);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(json).toMatchObject({ status, code });
    expect(json.type).toBeTruthy();
    expect(json.requestId).toBeTruthy();
    expect(stsCalls).toBe(before);
    canary.text(`refusal body (${_name})`, text);
    const denials = (await auditRecords()).filter(
      (r) => r.decision === 'denied' && r.requestId === res.headers.get('x-request-id'),
    );
    expect(denials).toHaveLength(1);
    expect(denials[0]?.reasonCode).toBe(code);
  });

  it('a 1 MB body → 413 payload_too_large, audited, no STS call', async () => {
    const before = stsCalls;
    const { res, json } = await vendAsCi({ entitlement: 'prod-readonly', reason: 'x'.repeat(1024 * 1024) });
    expect(res.status).toBe(413);
    expect(json.code).toBe('payload_too_large');
    expect(stsCalls).toBe(before);
    const denials = (await auditRecords()).filter((r) => r.requestId === res.headers.get('x-request-id'));
    expect(denials.map((r) => r.reasonCode)).toEqual(['payload_too_large']);
  });

  it('a body that is not JSON → 400 invalid_request', async () => {
    const { res, json } = await vendAsCi('{"entitlement": ', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(json.code).toBe('invalid_request');
  });
});

describe('authentication is refused before any function runs', () => {
  it('unsigned → 403', async () => {
    const before = stsCalls;
    const res = await fetch(`${stack.apiUrl}/v1/service/credentials`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entitlement: 'prod-readonly' }),
    });
    expect(res.status).toBe(403);
    expect(stsCalls).toBe(before);
  });

  it('bad signature → 403', async () => {
    const res = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
      entitlement: 'prod-readonly',
    });
    await res.text();
    // Re-sign one body and send another: the signature no longer matches.
    const signed = await stack.signedFetch(
      'ci',
      'POST',
      '/v1/service/credentials',
      { entitlement: 'prod-readonly' },
      {},
    );
    expect(signed.status).toBe(200);
    remember((await signed.json()) as Record<string, unknown>);
    const creds = stack.credentials('ci');
    // A well-scoped credential (today's date, the stack's region and service) so that only the
    // signature itself can be what is refused.
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const forged = await fetch(`${stack.apiUrl}/v1/service/credentials`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-amz-date': amzDate,
        'x-amz-security-token': creds.sessionToken ?? '',
        authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${amzDate.slice(0, 8)}/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
      body: JSON.stringify({ entitlement: 'prod-readonly' }),
    });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { message?: string }).message ?? '').toMatch(
      /signature we calculated does not match/i,
    );
  });

  it.each([
    ['expired', async () => stack.token('alice', { ttlSeconds: -120 })],
    ['wrong audience', async () => stack.token('alice', { audience: 'someone-else' })],
    [
      'alg none',
      async () => {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const real = (await stack.token('alice')).split('.')[1];
        return `${header}.${real}.`;
      },
    ],
    [
      'HS256 with a guessed key',
      async () =>
        new SignJWT({ sub: 'alice', groups: ['sre'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(stack.stack.oidc.issuer)
          .setAudience(stack.stack.oidc.audience)
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('guessed-secret')),
    ],
  ])('%s JWT → 401', async (_name, token) => {
    const before = stsCalls;
    const { res } = await vendAsPerson(await token(), { entitlement: 'prod-readonly' });
    expect(res.status).toBe(401);
    expect(stsCalls).toBe(before);
  });
});

describe('fail closed (faults injected on vend’s own clients)', () => {
  function failDynamo(match: (input: Record<string, unknown>) => boolean) {
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        if (match({ ...input, command: context.commandName })) {
          throw Object.assign(new Error('injected: service unavailable'), {
            name: 'InternalServerError',
            $fault: 'server',
            $metadata: { httpStatusCode: 500 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failDynamo' },
    );
  }
  const decisionOf = (input: Record<string, unknown>) => {
    const item = input.Item as Record<string, { S?: string } | string> | undefined;
    const d = item?.decision;
    return typeof d === 'string' ? d : d?.S;
  };

  it('entitlement read fails → 503, no STS call', async () => {
    failDynamo((i) => i.command === 'GetItemCommand' && String(i.TableName).endsWith('-entitlements'));
    const before = stsCalls;
    const { res, json } = await vendAsCi({ entitlement: 'prod-readonly' });
    expect(res.status).toBe(503);
    expect(json.code).toBe('upstream_unavailable');
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(stsCalls).toBe(before);
  });

  it('intent write fails → 503 audit_unavailable, no STS call', async () => {
    failDynamo((i) => i.command === 'PutItemCommand' && decisionOf(i) === 'intent');
    const before = stsCalls;
    const { res, json } = await vendAsCi({ entitlement: 'prod-readonly' });
    expect(res.status).toBe(503);
    expect(json.code).toBe('audit_unavailable');
    expect(stsCalls).toBe(before);
  });

  it('issued write fails → 503, no credentials in the body, the intent stays for reconciliation', async () => {
    failDynamo((i) => i.command === 'PutItemCommand' && decisionOf(i) === 'issued');
    const before = stsCalls;
    const { res, json, text } = await vendAsCi({ entitlement: 'prod-readonly' });
    expect(res.status).toBe(503);
    expect(json.code).toBe('audit_unavailable');
    expect(stsCalls).toBe(before + 1);
    expect(text).not.toMatch(/ASIA|SecretAccessKey|SessionToken/);
    const logged = canary.logs().join('\n');
    expect(logged).toMatch(/reconcile/);
  });

  it('STS throttling → retried, then 503 upstream_unavailable with Retry-After', async () => {
    let attempts = 0;
    sts.middlewareStack.add(
      () => async () => {
        attempts += 1;
        throw Object.assign(new Error('Rate exceeded'), {
          name: 'Throttling',
          Code: 'Throttling',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      },
      { step: 'initialize', name: 'failSts' },
    );
    const { res, json } = await vendAsCi({ entitlement: 'prod-readonly' });
    expect(res.status).toBe(503);
    expect(json.code).toBe('upstream_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(attempts).toBeGreaterThan(1);
  });
});
