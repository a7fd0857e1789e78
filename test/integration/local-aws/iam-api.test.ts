/**
 * The IAM Query API of the local AWS endpoint (infra/local/iam-api), driven by real clients through
 * `AWS_ENDPOINT_URL` only: the AWS CLI (botocore decodes the URL-encoded documents) and
 * @aws-sdk/client-iam (the client vend's revocation adapter uses). What is shown: the account's
 * vend-revoker role may read and version that account's deny lists and nothing else; the broker
 * cannot reach another account's policies at all (IAM has no resource-based policies); IAM's
 * limits and refusals (five versions, default version, malformed documents, unknown entities)
 * come back with IAM's codes and statuses.
 */
import {
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  IAMClient,
  IAMServiceException,
  ListPolicyVersionsCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, run, startLocalAws } from './harness';

const PROD = '444455556666';
const DENY_LIST = `arn:aws:iam::${PROD}:policy/vend/vend-revocations-ProdReadOnly`;
const S3_DENY_LIST = `arn:aws:iam::${PROD}:policy/vend/vend-revocations-S3ReadAll`;
const STAGING_DENY_LIST = 'arn:aws:iam::555566667777:policy/vend/vend-revocations-DeployRole';
const REVOKER = `arn:aws:iam::${PROD}:role/vend/vend-revoker`;

const doc = (...statements: object[]) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'VendBoundary', Effect: 'Allow', Action: '*', Resource: '*' }, ...statements],
  });

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken: string };

describe('the local IAM API', () => {
  let aws: LocalAws;
  let revoker: Creds;
  const broker = (): Creds => {
    const k = aws.profiles['vend-broker']!;
    return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, sessionToken: k.sessionToken! };
  };
  const iam = (credentials: Creds) =>
    new IAMClient({ region: 'us-east-1', endpoint: aws.endpoint.url, credentials, maxAttempts: 1 });
  const cliAs = (c: Creds, ...args: string[]) =>
    run('aws', args, {
      ...aws.env,
      AWS_ACCESS_KEY_ID: c.accessKeyId,
      AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
      AWS_SESSION_TOKEN: c.sessionToken,
    });
  /** The SDK's view of a refusal: IAM's wire codes become its modeled exception names. */
  const failure = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IAMServiceException);
    const e = err as IAMServiceException;
    return { name: e.name, status: e.$metadata.httpStatusCode, message: e.message };
  };

  beforeAll(async () => {
    aws = await startLocalAws();
    // The broker assumes the account's revoker, naming who revokes (as the service will).
    const sts = new STSClient({ region: 'us-east-1', endpoint: aws.endpoint.url, credentials: broker() });
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: REVOKER,
        RoleSessionName: 'vend-revoke',
        SourceIdentity: 'bob',
        DurationSeconds: 900,
      }),
    );
    sts.destroy();
    revoker = {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    };
  });
  afterAll(async () => {
    await aws?.close();
  });

  it('`aws iam get-policy-version` as the revoker prints the deny list, decoded by botocore', async () => {
    const r = await cliAs(
      revoker,
      'iam',
      'get-policy-version',
      '--policy-arn',
      DENY_LIST,
      '--version-id',
      'v1',
    );
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout).PolicyVersion;
    expect(v).toMatchObject({ VersionId: 'v1', IsDefaultVersion: true });
    expect(v.Document).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'VendBoundary', Effect: 'Allow', Action: '*', Resource: '*' }],
    });
  });

  it('`aws iam get-policy` names the policy, its path and its use as a permissions boundary', async () => {
    const r = await cliAs(revoker, 'iam', 'get-policy', '--policy-arn', DENY_LIST);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).Policy).toMatchObject({
      PolicyName: 'vend-revocations-ProdReadOnly',
      Path: '/vend/',
      Arn: DENY_LIST,
      DefaultVersionId: 'v1',
      AttachmentCount: 0,
      PermissionsBoundaryUsageCount: 1,
      IsAttachable: true,
    });
    expect(JSON.parse(r.stdout).Policy.PolicyId).toMatch(/^ANPA[A-Z2-7]{17}$/);
  });

  it('the vend-broker profile cannot read another account`s deny list: AccessDenied, exit 255', async () => {
    const r = await run(
      'aws',
      [
        'iam',
        'get-policy-version',
        '--policy-arn',
        DENY_LIST,
        '--version-id',
        'v1',
        '--profile',
        'vend-broker',
      ],
      aws.env,
    );
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('(AccessDenied) when calling the GetPolicyVersion operation');
    expect(r.stderr).toContain(
      `User: arn:aws:sts::222233334444:assumed-role/vend-broker/vend-broker is not authorized to perform: iam:GetPolicyVersion on resource: policy ${DENY_LIST} because no resource-based policy allows`,
    );
  });

  it('the SDK: create a version as default, read it back URL-encoded, list, delete the old one', async () => {
    const client = iam(revoker);
    const document = doc({
      Sid: 'VendRevokedSessions',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalTag/vend:audit-id': ['01KB0000000000000000000001'] } },
    });
    const created = await client.send(
      new CreatePolicyVersionCommand({
        PolicyArn: S3_DENY_LIST,
        PolicyDocument: document,
        SetAsDefault: true,
      }),
    );
    expect(created.PolicyVersion).toMatchObject({ VersionId: 'v2', IsDefaultVersion: true });
    expect(created.PolicyVersion?.Document).toBeUndefined();

    const got = await client.send(new GetPolicyVersionCommand({ PolicyArn: S3_DENY_LIST, VersionId: 'v2' }));
    // IAM answers documents URL-encoded (RFC 3986); the JS SDK hands them over as they are.
    expect(got.PolicyVersion?.Document).toMatch(/^%7B%22Version%22%3A%222012-10-17%22/);
    expect(decodeURIComponent(got.PolicyVersion!.Document!)).toBe(document);

    const policy = await client.send(new GetPolicyCommand({ PolicyArn: S3_DENY_LIST }));
    expect(policy.Policy?.DefaultVersionId).toBe('v2');
    const listed = await client.send(new ListPolicyVersionsCommand({ PolicyArn: S3_DENY_LIST }));
    expect(listed.Versions?.map((v) => [v.VersionId, v.IsDefaultVersion])).toEqual([
      ['v2', true],
      ['v1', false],
    ]);
    expect(listed.IsTruncated).toBe(false);

    await client.send(new DeletePolicyVersionCommand({ PolicyArn: S3_DENY_LIST, VersionId: 'v1' }));
    const after = await client.send(new ListPolicyVersionsCommand({ PolicyArn: S3_DENY_LIST }));
    expect(after.Versions?.map((v) => v.VersionId)).toEqual(['v2']);
    client.destroy();
  });

  it('five versions at most (LimitExceeded 409); ids are never reused; the default cannot be deleted', async () => {
    const client = iam(revoker);
    const versions: string[] = [];
    for (let i = 0; i < 4; i++) {
      const out = await client.send(
        new CreatePolicyVersionCommand({
          PolicyArn: DENY_LIST,
          PolicyDocument: doc(),
          SetAsDefault: i === 3,
        }),
      );
      versions.push(out.PolicyVersion!.VersionId!);
    }
    expect(versions).toEqual(['v2', 'v3', 'v4', 'v5']);
    expect(
      await failure(
        client.send(new CreatePolicyVersionCommand({ PolicyArn: DENY_LIST, PolicyDocument: doc() })),
      ),
    ).toEqual({
      name: 'LimitExceededException',
      status: 409,
      message:
        'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.',
    });
    expect(
      await failure(client.send(new DeletePolicyVersionCommand({ PolicyArn: DENY_LIST, VersionId: 'v5' }))),
    ).toEqual({
      name: 'DeleteConflictException',
      status: 409,
      message: 'Cannot delete the default version of a policy.',
    });
    await client.send(new DeletePolicyVersionCommand({ PolicyArn: DENY_LIST, VersionId: 'v2' }));
    const next = await client.send(
      new CreatePolicyVersionCommand({ PolicyArn: DENY_LIST, PolicyDocument: doc() }),
    );
    expect(next.PolicyVersion?.VersionId).toBe('v6');
    client.destroy();
  });

  it('refuses malformed and oversized documents, unknown policies and versions, as IAM does', async () => {
    const client = iam(revoker);
    const create = (PolicyDocument: string, PolicyArn = DENY_LIST) =>
      failure(client.send(new CreatePolicyVersionCommand({ PolicyArn, PolicyDocument })));
    expect(await create('{"Version": "2012-10-17", "Statement": [')).toMatchObject({
      name: 'MalformedPolicyDocumentException',
      status: 400,
      message: 'This policy contains invalid Json',
    });
    expect(
      await create(
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
        }),
      ),
    ).toMatchObject({
      name: 'MalformedPolicyDocumentException',
      message: 'Policy document should not specify a principal.',
    });
    expect(
      await create(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe' }] })),
    ).toMatchObject({ name: 'MalformedPolicyDocumentException', status: 400 });
    const ids = Array.from({ length: 300 }, (_, i) => `01KB${String(i).padStart(22, '0')}`);
    expect(
      await create(
        doc({
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalTag/vend:audit-id': ids } },
        }),
      ),
    ).toEqual({
      name: 'LimitExceededException',
      status: 409,
      message: 'Cannot exceed quota for PolicySize: 6144',
    });

    const missing = `arn:aws:iam::${PROD}:policy/vend/vend-revocations-Nobody`;
    expect(await failure(client.send(new GetPolicyCommand({ PolicyArn: missing })))).toEqual({
      name: 'NoSuchEntityException',
      status: 404,
      message: `Policy ${missing} was not found.`,
    });
    expect(
      await failure(client.send(new GetPolicyVersionCommand({ PolicyArn: DENY_LIST, VersionId: 'v99' }))),
    ).toEqual({
      name: 'NoSuchEntityException',
      status: 404,
      message: `Policy ${DENY_LIST} version v99 does not exist or is not attachable.`,
    });
    expect(
      await failure(client.send(new GetPolicyCommand({ PolicyArn: 'arn:aws:iam::444455556666:polic/x' }))),
    ).toMatchObject({ name: 'InvalidInputException', status: 400 });
    client.destroy();
  });

  it("the revoker may touch nothing but its own account's deny lists (AccessDenied 403, IAM's wording)", async () => {
    const client = iam(revoker);
    // Another account's list: no resource-based policy can let it in.
    expect(await failure(client.send(new GetPolicyCommand({ PolicyArn: STAGING_DENY_LIST })))).toEqual({
      name: 'AccessDenied',
      status: 403,
      message: `User: arn:aws:sts::${PROD}:assumed-role/vend-revoker/vend-revoke is not authorized to perform: iam:GetPolicy on resource: policy ${STAGING_DENY_LIST} because no resource-based policy allows the iam:GetPolicy action`,
    });
    // Its own account, another policy: its identity policy does not allow it. Denied before the
    // policy's existence is revealed.
    for (const arn of [
      `arn:aws:iam::${PROD}:policy/ProdArtifactsRead`,
      `arn:aws:iam::${PROD}:policy/vend/other`,
    ]) {
      expect(
        await failure(client.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: doc() }))),
      ).toEqual({
        name: 'AccessDenied',
        status: 403,
        message: `User: arn:aws:sts::${PROD}:assumed-role/vend-revoker/vend-revoke is not authorized to perform: iam:CreatePolicyVersion on resource: policy ${arn} because no identity-based policy allows the iam:CreatePolicyVersion action`,
      });
    }
    client.destroy();
  });

  it('CI, with sts:AssumeRole on * of its own, cannot become the revoker (its trust names only the broker)', async () => {
    const r = await run(
      'aws',
      [
        'sts',
        'assume-role',
        '--profile',
        'ci',
        '--role-arn',
        REVOKER,
        '--role-session-name',
        'x1',
        '--source-identity',
        'ci',
      ],
      aws.env,
    );
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('AccessDenied');
  });

  it('an unknown action or API version is InvalidAction; unsigned is MissingAuthenticationToken', async () => {
    const r = await cliAs(revoker, 'iam', 'list-roles');
    expect(r.code).toBe(255);
    expect(r.stderr).toContain(
      '(InvalidAction) when calling the ListRoles operation: Could not find operation ListRoles for version 2010-05-08',
    );
    const unsigned = await run(
      'aws',
      ['iam', 'get-policy', '--policy-arn', DENY_LIST, '--no-sign-request'],
      aws.env,
    );
    expect(unsigned.code).toBe(255);
    expect(unsigned.stderr).toContain('MissingAuthenticationToken');
  });
});
