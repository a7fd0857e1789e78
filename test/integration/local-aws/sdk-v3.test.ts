import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortInUseError, startAwsEndpoint } from '../../../infra/local/aws/endpoint';
import { IamStore } from '../../../infra/local/iam/store';
import type { KeyRecord } from '../../../infra/local/types';
import { type LocalAws, startLocalAws, WORLD_DIR } from './harness';

const S3_CEILING = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:ListBucket'],
      Resource: ['arn:aws:s3:::my-prod-data-bucket', 'arn:aws:s3:::my-prod-data-bucket/*'],
    },
  ],
};

describe('AWS SDK for JavaScript v3 and the local-only endpoints', () => {
  let aws: LocalAws;
  const credentialsOf = (k: KeyRecord) => ({
    accessKeyId: k.accessKeyId,
    secretAccessKey: k.secretAccessKey,
    ...(k.sessionToken && { sessionToken: k.sessionToken }),
  });
  const client = <T>(Ctor: new (c: object) => T, key: KeyRecord) =>
    new Ctor({
      endpoint: aws.endpoint.url,
      region: 'us-east-1',
      credentials: credentialsOf(key),
      maxAttempts: 1,
    });

  beforeAll(async () => {
    aws = await startLocalAws({ persistent: true });
  });
  afterAll(async () => {
    await aws.close();
  });

  it('STSClient: GetCallerIdentity and AssumeRole, with $metadata.requestId from the header', async () => {
    const sts = client(STSClient, aws.profiles['vend-broker']!);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe('arn:aws:sts::222233334444:assumed-role/vend-broker/vend-broker');
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::555566667777:role/DeployRole',
        RoleSessionName: 'carol',
        ExternalId: 'staging-deploy-ext-2b71',
        SourceIdentity: 'carol',
        DurationSeconds: 1800,
      }),
    );
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::555566667777:assumed-role/DeployRole/carol');
    expect(out.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('STSClient surfaces AccessDenied as a typed service error with status 403', async () => {
    const sts = client(STSClient, aws.profiles.ci!);
    const err = await sts
      .send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::444455556666:role/BreakGlassAdmin',
          RoleSessionName: 'ci',
        }),
      )
      .catch((e: unknown) => e as { name: string; $metadata: { httpStatusCode: number } });
    expect(err).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  });

  it('DynamoDBClient: create a table, put and get an item', async () => {
    const ddb = client(DynamoDBClient, aws.profiles['vend-broker']!);
    await ddb.send(
      new CreateTableCommand({
        TableName: 'vend-test-items',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await ddb.send(
      new PutItemCommand({ TableName: 'vend-test-items', Item: { pk: { S: 'a' }, v: { N: '42' } } }),
    );
    const got = await ddb.send(new GetItemCommand({ TableName: 'vend-test-items', Key: { pk: { S: 'a' } } }));
    expect(got.Item).toEqual({ pk: { S: 'a' }, v: { N: '42' } });
    const tables = await ddb.send(new ListTablesCommand({}));
    expect(tables.TableNames).toContain('vend-test-items');
  });

  it('DynamoDBClient with a wrong secret fails as InvalidSignatureException', async () => {
    const key = { ...aws.profiles['vend-broker']!, secretAccessKey: 'B'.repeat(40) };
    const err: unknown = await client(DynamoDBClient, key)
      .send(new ListTablesCommand({}))
      .catch((e: unknown) => e);
    expect((err as { name?: string }).name).toBe('InvalidSignatureException');
  });

  describe('POST /_local/iam/simulate (effective permissions)', () => {
    const simulate = async (body: object) => {
      const res = await fetch(`${aws.endpoint.url}/_local/iam/simulate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as { decision: string; principal: string } };
    };

    it('an S3ReadAll session under the bucket session policy may read that bucket only', async () => {
      const sts = client(STSClient, aws.profiles['vend-broker']!);
      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
          RoleSessionName: 'alice',
          ExternalId: 'prod-s3-ext-19c2',
          SourceIdentity: 'alice',
          Policy: JSON.stringify(S3_CEILING),
        }),
      );
      const accessKeyId = out.Credentials!.AccessKeyId!;
      const inside = await simulate({
        accessKeyId,
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::my-prod-data-bucket/x',
      });
      const outside = await simulate({
        accessKeyId,
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::other-bucket/x',
      });
      expect(inside).toEqual({
        status: 200,
        json: expect.objectContaining({
          decision: 'Allow',
          principal: 'arn:aws:sts::444455556666:assumed-role/S3ReadAll/alice',
        }),
      });
      expect(outside.json.decision).toBe('ImplicitDeny');
    });

    it('without a session policy the same role reads every bucket', async () => {
      const r = await simulate({
        principalArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::other-bucket/x',
      });
      expect(r.json.decision).toBe('Allow');
    });

    it('an explicit Deny in the identity policy wins', async () => {
      const r = await simulate({
        principalArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
        action: 'secretsmanager:GetSecretValue',
        resource: '*',
      });
      expect(r.json.decision).toBe('ExplicitDeny');
    });

    it('answers 404 for an unknown key and 400 for a body without action', async () => {
      expect(
        (await simulate({ accessKeyId: 'ASIANOPENOPENOPENOPE', action: 's3:GetObject', resource: '*' }))
          .status,
      ).toBe(404);
      expect((await simulate({ accessKeyId: 'x' })).status).toBe(400);
    });
  });

  it('GET /_local/health answers ok', async () => {
    const res = await fetch(`${aws.endpoint.url}/_local/health`);
    expect([res.status, await res.json()]).toEqual([200, { status: 'ok' }]);
  });

  it('routes a mount prefix to its handler with the full path', async () => {
    const store = await IamStore.open({ worldDir: WORLD_DIR });
    const seen: string[] = [];
    const ep = await startAwsEndpoint({
      port: 0,
      store,
      mounts: {
        '/oidc': async (req) => {
          seen.push(`${req.method} ${req.path}?${req.query}`);
          return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"issuer":"x"}' };
        },
      },
    });
    try {
      const res = await fetch(`${ep.url}/oidc/.well-known/openid-configuration?a=1`);
      expect([res.status, await res.json(), seen]).toEqual([
        200,
        { issuer: 'x' },
        ['GET /oidc/.well-known/openid-configuration?a=1'],
      ]);
      const other = await fetch(`${ep.url}/oidcx`);
      expect(other.status).toBe(404);
    } finally {
      await ep.close();
    }
  });

  it('rejects a port already in use with an error naming the port', async () => {
    const err = await startAwsEndpoint({ port: aws.endpoint.port, store: aws.store }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as Error).message).toContain(String(aws.endpoint.port));
  });

  it('keeps issued sessions across a restart when a state file is used', async () => {
    const stateFile = `${aws.dir}/iam-state.json`;
    const reopened = await IamStore.open({ worldDir: WORLD_DIR, stateFile });
    const key = aws.profiles.ci!;
    expect(reopened.lookupAccessKey(key.accessKeyId)).toEqual(key);
    expect(reopened.getRole('arn:aws:iam::444455556666:role/ProdReadOnly')?.roleId).toBe(
      aws.store.getRole('arn:aws:iam::444455556666:role/ProdReadOnly')?.roleId,
    );
  });
});
