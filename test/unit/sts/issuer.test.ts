import {
  AssumeRoleCommand,
  MalformedPolicyDocumentException,
  PackedPolicyTooLargeException,
  STSClient,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DurationOutOfRangeError,
  InvalidRequestError,
  PolicyTooLargeError,
  UpstreamUnavailableError,
} from '../../../lib/domain/errors';
import { toProblem } from '../../../lib/http/problem';
import type { AssumeRoleParams } from '../../../lib/ports';
import {
  BrokerCredentialsError,
  StsUnavailableError,
  TargetRoleAccessDeniedError,
  UnexpectedStsError,
} from '../../../lib/ports';
import { StsCredentialIssuer } from '../../../lib/sts/issuer';

const EXTERNAL_ID = 'prod-s3-ext-19c2';

const params: AssumeRoleParams = {
  roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
  roleSessionName: 'vend-CICDDeployRole-01JTEST',
  externalId: EXTERNAL_ID,
  durationSeconds: 900,
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] },
  sourceIdentity: 'CICDDeployRole',
  tags: { 'vend:entitlement': 'prod-s3-read' },
  transitiveTagKeys: ['vend:entitlement'],
};

const success = {
  Credentials: {
    AccessKeyId: 'ASIAEXAMPLEKEYID0001',
    SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    SessionToken: 'IQoJb3JpZ2luX2VjEXAMPLETOKEN',
    Expiration: new Date('2026-11-29T10:15:00Z'),
  },
  AssumedRoleUser: {
    Arn: 'arn:aws:sts::444455556666:assumed-role/S3ReadAll/vend-CICDDeployRole-01JTEST',
    AssumedRoleId: 'AROAEXAMPLEROLEID0001:vend-CICDDeployRole-01JTEST',
  },
  PackedPolicySize: 6,
};

/** An STS error shaped as the SDK builds it from a Query-protocol error response. */
function stsError(code: string, status: number, message: string, fault: 'client' | 'server' = 'client') {
  return Object.assign(
    new STSServiceException({
      name: code,
      $fault: fault,
      $metadata: { httpStatusCode: status, requestId: 'rid-1' },
      message,
    }),
    { Code: code },
  );
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:4566`), { code });
}

const sts = mockClient(STSClient);

/** An issuer with a fake clock that advances only when it "sleeps", and a fixed jitter draw. */
function harness(opts: { deadlineMs?: number; baseDelayMs?: number; random?: number } = {}) {
  let clock = Date.parse('2026-11-29T10:00:00Z');
  const sleeps: number[] = [];
  const issuer = new StsCredentialIssuer(new STSClient({ region: 'us-east-1' }), {
    deadlineMs: opts.deadlineMs ?? 2000,
    baseDelayMs: opts.baseDelayMs ?? 100,
    maxDelayMs: 1000,
    random: () => opts.random ?? 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => new Date(clock),
  });
  return { issuer, sleeps };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** Everything about an error that could end up in a log or a response. */
function everything(e: unknown): string {
  const parts: string[] = [];
  let current: unknown = e;
  while (current instanceof Error) {
    parts.push(current.name, current.message, String(current.stack), JSON.stringify(current));
    parts.push(JSON.stringify(Object.fromEntries(Object.entries(current))));
    current = current.cause;
  }
  parts.push(JSON.stringify(toProblem(e, 'r')));
  return parts.join('\n');
}

beforeEach(() => {
  sts.reset();
});

describe('StsCredentialIssuer: success', () => {
  it('sends the AssumeRole parameters and returns the credentials', async () => {
    sts.on(AssumeRoleCommand).resolves(success);
    const { issuer } = harness();

    const creds = await issuer.assume(params);

    expect(creds).toEqual({
      accessKeyId: 'ASIAEXAMPLEKEYID0001',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLETOKEN',
      expiration: new Date('2026-11-29T10:15:00Z'),
      assumedRoleArn: 'arn:aws:sts::444455556666:assumed-role/S3ReadAll/vend-CICDDeployRole-01JTEST',
      assumedRoleId: 'AROAEXAMPLEROLEID0001:vend-CICDDeployRole-01JTEST',
      packedPolicySize: 6,
    });
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: params.roleArn,
      RoleSessionName: params.roleSessionName,
      ExternalId: EXTERNAL_ID,
      DurationSeconds: 900,
      Policy: JSON.stringify(params.policy),
      SourceIdentity: 'CICDDeployRole',
      Tags: [{ Key: 'vend:entitlement', Value: 'prod-s3-read' }],
      TransitiveTagKeys: ['vend:entitlement'],
    });
  });

  it('treats a response without credentials as unexpected (500), not as success', async () => {
    sts.on(AssumeRoleCommand).resolves({ AssumedRoleUser: success.AssumedRoleUser });
    const { issuer } = harness();

    const e = await caught(issuer.assume(params));

    expect(e).toBeInstanceOf(UnexpectedStsError);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  });
});

describe('StsCredentialIssuer: retries', () => {
  it('retries Throttling with full-jitter backoff and then succeeds', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(stsError('Throttling', 400, 'Rate exceeded'))
      .rejectsOnce(stsError('Throttling', 400, 'Rate exceeded'))
      .rejectsOnce(stsError('Throttling', 400, 'Rate exceeded'))
      .resolves(success);
    const { issuer, sleeps } = harness({ baseDelayMs: 100, random: 0.5 });

    const creds = await issuer.assume(params);

    expect(creds.accessKeyId).toBe('ASIAEXAMPLEKEYID0001');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(4);
    // random() × min(1000, 100 × 2^n) for n = 0, 1, 2
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it('caps each wait at maxDelayMs', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(stsError('Throttling', 400, 'Rate exceeded'))
      .rejectsOnce(stsError('Throttling', 400, 'Rate exceeded'))
      .rejectsOnce(stsError('Throttling', 400, 'Rate exceeded'))
      .resolves(success);
    const { issuer, sleeps } = harness({ baseDelayMs: 600, random: 0.99, deadlineMs: 10_000 });

    await issuer.assume(params);

    expect(sleeps).toEqual([594, 990, 990]);
  });

  it('gives up at the deadline with 503 upstream_unavailable and a Retry-After', async () => {
    sts.on(AssumeRoleCommand).rejects(stsError('Throttling', 400, 'Rate exceeded'));
    const { issuer, sleeps } = harness({ deadlineMs: 1000, baseDelayMs: 100, random: 0.9 });

    const e = await caught(issuer.assume(params));

    expect(e).toBeInstanceOf(StsUnavailableError);
    expect(e).toBeInstanceOf(UpstreamUnavailableError);
    const err = e as StsUnavailableError;
    expect(err.status).toBe(503);
    expect(err.code).toBe('upstream_unavailable');
    // Waits 0.9 × 100, 200, 400; the next (0.9 × 800 = 720) would end past 1000 ms, so it stops
    // instead of sleeping into the deadline, and suggests the last backoff cap (800 ms → 1 s).
    expect(sleeps).toEqual([90, 180, 360]);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(4);
    expect(err.retryAfterSeconds).toBe(1);
    expect(err.detail).toBe('STS is throttling vend; retry shortly');
  });

  it.each([
    ['a 5xx from STS', () => stsError('InternalFailure', 500, 'internal', 'server')],
    ['a refused connection', () => networkError('ECONNREFUSED')],
    ['a reset connection', () => networkError('ECONNRESET')],
  ])('retries %s and succeeds', async (_label, fault) => {
    sts.on(AssumeRoleCommand).rejectsOnce(fault()).resolves(success);
    const { issuer, sleeps } = harness();

    const creds = await issuer.assume(params);

    expect(creds.accessKeyId).toBe('ASIAEXAMPLEKEYID0001');
    expect(sleeps).toHaveLength(1);
  });

  it('answers a network outage that outlasts the deadline with upstream_unavailable', async () => {
    sts.on(AssumeRoleCommand).rejects(networkError('ECONNREFUSED'));
    const { issuer } = harness({ deadlineMs: 500 });

    const e = await caught(issuer.assume(params));

    expect(e).toBeInstanceOf(StsUnavailableError);
    expect((e as StsUnavailableError).detail).toBe('STS is unavailable; retry shortly');
    expect(((e as Error).cause as Error).message).toContain('ECONNREFUSED');
  });
});

describe('StsCredentialIssuer: final errors', () => {
  it.each([
    [
      'AccessDenied',
      () =>
        stsError(
          'AccessDenied',
          403,
          'User: arn:aws:sts::222233334444:assumed-role/vend-broker/x is not authorized to perform: sts:AssumeRole',
        ),
      TargetRoleAccessDeniedError,
      503,
      'upstream_unavailable',
    ],
    [
      'ExpiredToken',
      () => stsError('ExpiredToken', 403, 'The security token included in the request is expired'),
      BrokerCredentialsError,
      503,
      'upstream_unavailable',
    ],
    [
      'InvalidClientTokenId',
      () => stsError('InvalidClientTokenId', 403, 'The security token included in the request is invalid.'),
      BrokerCredentialsError,
      503,
      'upstream_unavailable',
    ],
    [
      'PackedPolicyTooLarge',
      () =>
        Object.assign(
          new PackedPolicyTooLargeException({
            $metadata: { httpStatusCode: 400 },
            message: 'Packed size 112%',
          }),
          { Code: 'PackedPolicyTooLarge' },
        ),
      PolicyTooLargeError,
      400,
      'policy_too_large',
    ],
    [
      'MalformedPolicyDocument',
      () =>
        Object.assign(
          new MalformedPolicyDocumentException({ $metadata: { httpStatusCode: 400 }, message: 'bad policy' }),
          { Code: 'MalformedPolicyDocument' },
        ),
      InvalidRequestError,
      400,
      'invalid_request',
    ],
    [
      'ValidationError on DurationSeconds',
      () =>
        stsError(
          'ValidationError',
          400,
          'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
        ),
      DurationOutOfRangeError,
      400,
      'duration_out_of_range',
    ],
    [
      'another ValidationError',
      () => stsError('ValidationError', 400, "Value 'x' at 'roleSessionName' failed to satisfy constraint"),
      InvalidRequestError,
      400,
      'invalid_request',
    ],
  ])('maps %s without retrying', async (_label, fault, type, status, code) => {
    sts.on(AssumeRoleCommand).rejects(fault());
    const { issuer, sleeps } = harness();

    const e = await caught(issuer.assume(params));

    expect(e).toBeInstanceOf(type);
    expect(toProblem(e, 'r')).toMatchObject({ status, code });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('keeps the target role on an AccessDenied for the operator', async () => {
    sts.on(AssumeRoleCommand).rejects(stsError('AccessDenied', 403, 'not authorized'));
    const { issuer } = harness();

    const e = (await caught(issuer.assume(params))) as TargetRoleAccessDeniedError;

    expect(e.roleArn).toBe(params.roleArn);
    expect(e.detail).not.toContain('444455556666');
  });

  it('turns an unknown STS error into a non-VendError (generic 500)', async () => {
    sts.on(AssumeRoleCommand).rejects(stsError('SomethingNew', 400, 'new failure'));
    const { issuer } = harness();

    const e = await caught(issuer.assume(params));

    expect(e).toBeInstanceOf(UnexpectedStsError);
    expect(toProblem(e, 'r').status).toBe(500);
  });
});

describe('StsCredentialIssuer: the ExternalId never leaks', () => {
  const echoing = `1 validation error detected: Value '${EXTERNAL_ID}' at 'externalId' failed to satisfy constraint`;

  it.each([
    ['a ValidationError quoting it', () => stsError('ValidationError', 400, echoing)],
    ['an AccessDenied quoting it', () => stsError('AccessDenied', 403, `denied for ${EXTERNAL_ID}`)],
    ['an unknown error quoting it', () => stsError('Weird', 400, `weird ${EXTERNAL_ID}`)],
    ['throttling until the deadline', () => stsError('Throttling', 400, `Rate exceeded ${EXTERNAL_ID}`)],
    ['a network error quoting it', () => networkError(`ECONNRESET ${EXTERNAL_ID}`)],
  ])('is absent from every message, cause and JSON after %s', async (_label, fault) => {
    sts.on(AssumeRoleCommand).rejects(fault());
    const { issuer } = harness({ deadlineMs: 300 });

    const e = await caught(issuer.assume(params));

    expect(e).toBeInstanceOf(Error);
    expect(everything(e)).not.toContain(EXTERNAL_ID);
  });
});
