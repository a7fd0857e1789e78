/**
 * The production signer and the production sealer run against the local KMS (issue 11): the local
 * AWS endpoint answers KMS `Sign`, `Verify`, `GetPublicKey` and `DescribeKey` for an
 * `ECC_NIST_P256` key with `ECDSA_SHA_256` (`MessageType` `DIGEST` and `RAW`) as AWS does, checked
 * with the real AWS CLI and the AWS SDK; lib/audit/kms-signer.ts signs and verifies through it;
 * and the packaged sealer (`npm run package`, functions/audit-sealer.mjs out of its zip) seals the
 * stack's trail in a Node process of its own, emits its lag metric, and reports a cut trail.
 */
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
  type SigningAlgorithmSpec,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGION } from '../../infra/local/stack';
import { KmsAuditSigner } from '../../lib/audit/kms-signer';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';
import { REPO, run, vend } from './cli/harness';

const stack = withStack();
const SLOW = 180_000;
const ALIAS = 'alias/vend-dev-audit-digests';
const exec = promisify(execFile);

let kms: KMSClient;
let dir: string;
beforeAll(async () => {
  kms = new KMSClient({
    region: REGION,
    endpoint: stack.awsUrl,
    credentials: stack.credentials('vend-broker'),
  });
  dir = await mkdtemp(join(tmpdir(), 'vend-kms-'));
});
afterAll(async () => {
  kms?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest();
const cli = (profile: string, ...args: string[]) =>
  run(['aws', 'kms', ...args, '--output', 'json'], { ...stack.env, AWS_PROFILE: profile });

/** The error an SDK call fails with (name and message), or a failure if it succeeds. */
async function refusal(call: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await call;
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to be refused');
}

describe('the local KMS, through the real AWS CLI', () => {
  it(
    '`aws kms get-public-key` answers the audit key: ECC_NIST_P256, SIGN_VERIFY, ECDSA_SHA_256, a P-256 SPKI',
    async () => {
      const r = await cli('vend-broker', 'get-public-key', '--key-id', ALIAS);

      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(out).toMatchObject({
        KeyId: stack.stack.auditKey.arn,
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        SigningAlgorithms: ['ECDSA_SHA_256'],
      });
      expect(stack.stack.auditKey.arn).toMatch(/^arn:aws:kms:us-east-1:222233334444:key\/[0-9a-f-]{36}$/);
      const key = createPublicKey({
        key: Buffer.from(String(out.PublicKey), 'base64'),
        format: 'der',
        type: 'spki',
      });
      expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    },
    SLOW,
  );

  it(
    '`aws kms sign --message-type DIGEST` makes a signature Node verifies over the message, and `aws kms verify` agrees',
    async () => {
      const message = Buffer.from('the audit digest of 10:00');
      await writeFile(join(dir, 'digest.bin'), sha256(message));

      const signed = await cli(
        'vend-broker',
        'sign',
        '--key-id',
        ALIAS,
        '--message',
        `fileb://${join(dir, 'digest.bin')}`,
        '--message-type',
        'DIGEST',
        '--signing-algorithm',
        'ECDSA_SHA_256',
      );
      expect(signed.code).toBe(0);
      const signature = Buffer.from(
        String((JSON.parse(signed.stdout) as { Signature: string }).Signature),
        'base64',
      );
      await writeFile(join(dir, 'sig.bin'), signature);
      const pub = JSON.parse((await cli('vend-broker', 'get-public-key', '--key-id', ALIAS)).stdout) as {
        PublicKey: string;
      };
      const publicKey = createPublicKey({
        key: Buffer.from(pub.PublicKey, 'base64'),
        format: 'der',
        type: 'spki',
      });
      expect(nodeVerify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);

      const verifyArgs = (file: string) => [
        'verify',
        '--key-id',
        ALIAS,
        '--message',
        `fileb://${file}`,
        '--message-type',
        'DIGEST',
        '--signature',
        `fileb://${join(dir, 'sig.bin')}`,
        '--signing-algorithm',
        'ECDSA_SHA_256',
      ];
      const good = await cli('vend-broker', ...verifyArgs(join(dir, 'digest.bin')));
      await writeFile(join(dir, 'other.bin'), sha256('another digest'));
      const bad = await cli('vend-broker', ...verifyArgs(join(dir, 'other.bin')));

      expect(good.code).toBe(0);
      expect(JSON.parse(good.stdout)).toMatchObject({
        SignatureValid: true,
        KeyId: stack.stack.auditKey.arn,
      });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/\(KMSInvalidSignatureException\) when calling the Verify operation/);
    },
    SLOW,
  );

  it(
    'refuses an unknown alias, and another account’s key, with KMS’s errors',
    async () => {
      const unknown = await cli('vend-broker', 'get-public-key', '--key-id', 'alias/nope');
      // The ci profile is in another account: the alias is looked up in its own account, and the
      // key's ARN names a key it has no policy for.
      const foreignAlias = await cli('ci', 'get-public-key', '--key-id', ALIAS);
      const foreignArn = await cli('ci', 'get-public-key', '--key-id', stack.stack.auditKey.arn);

      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain(
        '(NotFoundException) when calling the GetPublicKey operation: Alias arn:aws:kms:us-east-1:222233334444:alias/nope is not found.',
      );
      expect(foreignAlias.stderr).toContain(
        '(NotFoundException) when calling the GetPublicKey operation: Alias arn:aws:kms:us-east-1:111122223333:alias/vend-dev-audit-digests is not found.',
      );
      expect(foreignArn.stderr).toMatch(
        /\(AccessDeniedException\) when calling the GetPublicKey operation: User: arn:aws:sts::111122223333:assumed-role\/CICDDeployRole\/ci is not authorized to perform: kms:GetPublicKey on resource: arn:aws:kms:/,
      );
    },
    SLOW,
  );
});

describe('the local KMS, through the AWS SDK', () => {
  const sign = (Message: Uint8Array, MessageType: 'RAW' | 'DIGEST', SigningAlgorithm = 'ECDSA_SHA_256') =>
    kms.send(
      new SignCommand({
        KeyId: ALIAS,
        Message,
        MessageType,
        SigningAlgorithm: SigningAlgorithm as SigningAlgorithmSpec,
      }),
    );

  it('signs a RAW message as KMS does (SHA-256 inside), verifiable with the public key', async () => {
    const message = Buffer.from('a raw message, at most 4 KiB');
    const out = await sign(message, 'RAW');
    const pub = await kms.send(new GetPublicKeyCommand({ KeyId: ALIAS }));
    const key = createPublicKey({ key: Buffer.from(pub.PublicKey!), format: 'der', type: 'spki' });

    expect(out.KeyId).toBe(stack.stack.auditKey.arn);
    expect(out.SigningAlgorithm).toBe('ECDSA_SHA_256');
    expect(nodeVerify('sha256', message, { key, dsaEncoding: 'der' }, Buffer.from(out.Signature!))).toBe(
      true,
    );
    const valid = await kms.send(
      new VerifyCommand({
        KeyId: ALIAS,
        Message: sha256(message),
        MessageType: 'DIGEST',
        Signature: out.Signature,
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    expect(valid.SignatureValid).toBe(true);
  });

  it('describes the key as KMS does', async () => {
    const out = await kms.send(new DescribeKeyCommand({ KeyId: ALIAS }));
    expect(out.KeyMetadata).toMatchObject({
      Arn: stack.stack.auditKey.arn,
      AWSAccountId: '222233334444',
      KeyState: 'Enabled',
      KeyUsage: 'SIGN_VERIFY',
      KeySpec: 'ECC_NIST_P256',
      SigningAlgorithms: ['ECDSA_SHA_256'],
    });
    expect(out.KeyMetadata?.CreationDate).toBeInstanceOf(Date);
  });

  it('answers bad input with ValidationException, InvalidKeyUsageException and KMSInvalidSignatureException', async () => {
    expect(await refusal(sign(sha256('x').subarray(1), 'DIGEST'))).toEqual({
      name: 'ValidationException',
      message: 'Digest is invalid length for algorithm ECDSA_SHA_256.',
      status: 400,
    });
    expect(await refusal(sign(Buffer.alloc(4097, 1), 'RAW'))).toMatchObject({
      name: 'ValidationException',
      message:
        "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
    });
    expect(await refusal(sign(sha256('x'), 'DIGEST', 'NOT_AN_ALGORITHM'))).toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(
        /^1 validation error detected: Value 'NOT_AN_ALGORITHM' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: \[.*ECDSA_SHA_256.*\]$/,
      ),
    });
    expect(await refusal(sign(sha256('x'), 'DIGEST', 'RSASSA_PSS_SHA_256'))).toMatchObject({
      name: 'InvalidKeyUsageException',
    });
    const forged = await refusal(
      kms.send(
        new VerifyCommand({
          KeyId: ALIAS,
          Message: sha256('x'),
          MessageType: 'DIGEST',
          Signature: Buffer.from('3006020101020101', 'hex'),
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
    );
    expect(forged).toMatchObject({ name: 'KMSInvalidSignatureException', status: 400 });
    expect(await refusal(kms.send(new GetPublicKeyCommand({ KeyId: 'not-a-key' })))).toMatchObject({
      name: 'NotFoundException',
      message: "Invalid keyId 'not-a-key'",
    });
  });

  it('refuses a request signed with a key it does not know, as AWS does', async () => {
    const stranger = new KMSClient({
      region: REGION,
      endpoint: stack.awsUrl,
      credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x'.repeat(40) },
    });
    try {
      expect(await refusal(stranger.send(new GetPublicKeyCommand({ KeyId: ALIAS })))).toMatchObject({
        name: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      });
    } finally {
      stranger.destroy();
    }
  });
});

describe('the production signer (lib/audit/kms-signer.ts) against the local KMS', () => {
  it('resolves the alias to the key ARN, signs as DIGEST, and verifies with the public key', async () => {
    const signer = await KmsAuditSigner.create(kms, ALIAS);
    const message = new TextEncoder().encode('{"intervalStart":"2026-11-29T10:00:00.000Z"}'.repeat(200));

    const signature = await signer.sign(message);

    expect(message.length).toBeGreaterThan(4096);
    expect(signer.keyId).toBe(stack.stack.auditKey.arn);
    expect(await signer.verify(message, signature, signer.keyId)).toBe(true);
    expect(await signer.verify(new TextEncoder().encode('edited'), signature, signer.keyId)).toBe(false);
    // A key nobody has is a finding (false), not an outage.
    const missing = stack.stack.auditKey.arn.replace(/key\/.*/, 'key/00000000-0000-0000-0000-000000000000');
    expect(await signer.verify(message, signature, missing)).toBe(false);
  });
});

describe('the packaged sealer (npm run package) against the local stack', () => {
  let bundle = '';
  let dynamo: DynamoDBClient;
  beforeAll(async () => {
    const out = join(dir, 'package');
    await exec(process.execPath, ['--import', 'tsx', 'infra/package.ts', '--out', out], {
      cwd: REPO,
      env: { ...process.env, VEND_OIDC_ISSUER: 'https://login.example.com' },
    });
    await exec('unzip', ['-oq', join(out, 'auditSealer.zip'), '-d', join(dir, 'sealer')]);
    bundle = join(dir, 'sealer', 'functions', 'audit-sealer.mjs');
    dynamo = new DynamoDBClient({
      region: REGION,
      endpoint: stack.awsUrl,
      credentials: stack.credentials('vend-broker'),
    });
  }, SLOW);
  afterAll(() => dynamo?.destroy());

  /** Runs the bundle's handler once in a fresh Node process, as Lambda would, with the sealer's environment. */
  async function runSealer(): Promise<{
    result: { sealed: number; sealedUpTo?: string; cut?: unknown };
    stdout: string;
    stderr: string;
  }> {
    const broker = stack.credentials('vend-broker');
    const r = await run(
      [
        process.execPath,
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(bundle)}); const r = await m.handler({ time: new Date().toISOString() }); console.log('RESULT ' + JSON.stringify(r));`,
      ],
      {
        PATH: process.env.PATH ?? '',
        AWS_REGION: REGION,
        AWS_ENDPOINT_URL: stack.awsUrl,
        AWS_ACCESS_KEY_ID: broker.accessKeyId,
        AWS_SECRET_ACCESS_KEY: broker.secretAccessKey,
        AWS_SESSION_TOKEN: broker.sessionToken ?? '',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        // What serverless.yml gives the function (provider and its own environment).
        VEND_ENTITLEMENTS_TABLE: stack.env.VEND_ENTITLEMENTS_TABLE ?? '',
        VEND_AUDIT_TABLE: stack.env.VEND_AUDIT_TABLE ?? '',
        VEND_REQUESTS_TABLE: 'vend-dev-requests',
        VEND_LIMITS_TABLE: 'vend-dev-limits',
        VEND_AUDIT_SEALS_TABLE: stack.env.VEND_AUDIT_SEALS_TABLE ?? '',
        VEND_AUDIT_SIGNING_KEY_ID: ALIAS,
        VEND_AUDIT_TRAIL_START: stack.env.VEND_AUDIT_TRAIL_START ?? '',
        VEND_AUDIT_SEAL_INTERVAL_SECONDS: '1',
        VEND_AUDIT_SEAL_GRACE_SECONDS: '0',
        POWERTOOLS_SERVICE_NAME: 'vend',
        POWERTOOLS_METRICS_NAMESPACE: 'vend',
      },
      { timeoutMs: 120_000 },
    );
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, `${r.stdout}${r.stderr}`).toBeDefined();
    return { result: JSON.parse(line!.slice('RESULT '.length)), stdout: r.stdout, stderr: r.stderr };
  }

  /** The value of an EMF metric in the function's stdout (Powertools writes one JSON line per flush). */
  const metric = (stdout: string, name: string): number | undefined =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{') && l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((m) => name in m)?.[name] as number | undefined;

  it(
    'seals the stack’s trail with the local KMS key, emits its lag, and the trail verifies',
    async () => {
      const vended = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
        entitlement: 'prod-readonly',
      });
      expect(vended.status).toBe(200);
      await new Promise((r) => setTimeout(r, 1100));

      const { result, stdout, stderr } = await runSealer();

      expect(stderr).toBe('');
      expect(result.sealed).toBeGreaterThan(0);
      expect(metric(stdout, 'AuditSealLagSeconds')).toEqual(expect.any(Number));
      const digests = (await scanTable(dynamo, stack.env.VEND_AUDIT_TABLE)).filter(
        (i) => i.pk === 'AUDIT_DIGEST',
      );
      expect(new Set(digests.map((d) => d.keyId))).toEqual(new Set([stack.stack.auditKey.arn]));
      expect(digests.reduce((n, d) => n + Number(d.recordCount), 0)).toBe(2);

      const verify = await vend(['audit', 'verify', '--until', result.sealedUpTo ?? ''], {
        ...stack.env,
        AWS_PROFILE: 'vend-broker',
        VEND_AUDIT_SEAL_INTERVAL_SECONDS: '1',
        VEND_AUDIT_SEAL_GRACE_SECONDS: '0',
      });
      expect(verify.code).toBe(0);
      expect(verify.stdout).toMatch(/2 sealed records, no findings/);
    },
    SLOW,
  );

  it(
    'finds its newest digest deleted, does not seal it again, reports the cut and counts it',
    async () => {
      const table = stack.env.VEND_AUDIT_TABLE ?? '';
      const newest = (await scanTable(dynamo, table))
        .filter((i) => i.pk === 'AUDIT_DIGEST')
        .map((i) => String(i.sk))
        .sort()
        .at(-1);
      await dynamo.send(
        new DeleteItemCommand({
          TableName: table,
          Key: { pk: { S: 'AUDIT_DIGEST' }, sk: { S: String(newest) } },
        }),
      );

      const { result, stdout, stderr } = await runSealer();

      expect(result.cut).toMatchObject({ from: newest });
      expect(metric(stdout, 'AuditTrailCut')).toBe(1);
      expect(stderr).toMatch(/"level":"ERROR","message":"audit trail cut: the digests from /);
      const after = (await scanTable(dynamo, table))
        .filter((i) => i.pk === 'AUDIT_DIGEST')
        .map((i) => String(i.sk));
      expect(after).not.toContain(newest);
    },
    SLOW,
  );
});
