import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurationOutOfRangeError } from '../../../lib/domain/errors';
import { toProblem } from '../../../lib/http/problem';
import type { AssumeRoleParams } from '../../../lib/ports';
import { TargetRoleAccessDeniedError } from '../../../lib/ports';
import { StsCredentialIssuer } from '../../../lib/sts/issuer';
import { type LocalAws, startLocalAws } from '../local-aws/harness';

// The issuer against the local STS emulator, signed as the broker role: real wire format, real
// trust-policy evaluation, real error responses (no mocks).
let aws: LocalAws;
let issuer: StsCredentialIssuer;

beforeAll(async () => {
  aws = await startLocalAws();
  const broker = aws.profiles['vend-broker'];
  if (!broker) throw new Error('the demo world has no vend-broker profile');
  const client = new STSClient({
    region: 'us-east-1',
    endpoint: aws.endpoint.url,
    maxAttempts: 1,
    credentials: {
      accessKeyId: broker.accessKeyId,
      secretAccessKey: broker.secretAccessKey,
      sessionToken: broker.sessionToken,
    },
  });
  issuer = new StsCredentialIssuer(client, { deadlineMs: 5000, baseDelayMs: 10 });
});

afterAll(async () => {
  await aws.close();
});

const prodReadOnly: AssumeRoleParams = {
  roleArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
  roleSessionName: 'vend-CICDDeployRole-it0001',
  externalId: 'prod-readonly-ext-7f3a',
  durationSeconds: 900,
  sourceIdentity: 'CICDDeployRole',
  tags: { 'vend:entitlement': 'prod-readonly' },
  transitiveTagKeys: ['vend:entitlement'],
};

describe('StsCredentialIssuer against the local STS', () => {
  it('assumes the target role as the broker', async () => {
    const creds = await issuer.assume(prodReadOnly);

    expect(creds.accessKeyId).toMatch(/^ASIA/);
    expect(creds.assumedRoleArn).toBe(
      'arn:aws:sts::444455556666:assumed-role/ProdReadOnly/vend-CICDDeployRole-it0001',
    );
    expect(creds.expiration).toBeInstanceOf(Date);
    expect(creds.secretAccessKey.length).toBeGreaterThan(0);
    expect(creds.sessionToken.length).toBeGreaterThan(0);
  });

  it('answers a wrong ExternalId as vend misconfiguration (503) without repeating it', async () => {
    const wrong = 'not-the-right-external-id';

    const e = await issuer.assume({ ...prodReadOnly, externalId: wrong }).catch((err: unknown) => err);

    expect(e).toBeInstanceOf(TargetRoleAccessDeniedError);
    expect(toProblem(e, 'r')).toMatchObject({ status: 503, code: 'upstream_unavailable' });
    const text = JSON.stringify([
      String(e),
      (e as Error).cause && String((e as Error).cause),
      toProblem(e, 'r'),
    ]);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain('prod-readonly-ext-7f3a');
  });

  it('answers a duration over the role-chaining hour as duration_out_of_range', async () => {
    const e = await issuer.assume({ ...prodReadOnly, durationSeconds: 7200 }).catch((err: unknown) => err);

    expect(e).toBeInstanceOf(DurationOutOfRangeError);
    expect(toProblem(e, 'r')).toMatchObject({ status: 400, code: 'duration_out_of_range' });
  });
});
