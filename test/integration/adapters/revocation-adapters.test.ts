/**
 * The adapters that reach outside for revocation and console sign-in, against the local AWS
 * endpoint (real STS, IAM API and federation endpoint): the deny-list publisher assumes the
 * account's vend-revoker as the broker and versions the role's list (never more than five versions
 * kept), and every failure is a 503 that says what to fix; the federation client gets a sign-in
 * token for a live session and a 503 for one the endpoint refuses, never carrying the credentials
 * in an error.
 */
import { IAMClient, ListPolicyVersionsCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamUnavailableError } from '../../../lib/domain/errors';
import { denyListArn, denyListDocument } from '../../../lib/domain/revocation';
import { FederationSigninClient } from '../../../lib/federation/signin';
import { IamDenyListPublisher } from '../../../lib/revocation/iam-deny-list';
import { StsCredentialIssuer } from '../../../lib/sts/issuer';
import { assumeRevoker } from '../local-aws/deny-list';
import { type LocalAws, startLocalAws } from '../local-aws/harness';

const ROLE = 'arn:aws:iam::444455556666:role/ProdReadOnly';
let aws: LocalAws;
let sts: STSClient;
let publisher: IamDenyListPublisher;

const broker = () => {
  const k = aws.profiles['vend-broker']!;
  return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, sessionToken: k.sessionToken! };
};

beforeAll(async () => {
  aws = await startLocalAws();
  sts = new STSClient({
    region: 'us-east-1',
    endpoint: aws.endpoint.url,
    maxAttempts: 1,
    credentials: broker(),
  });
  publisher = new IamDenyListPublisher(new StsCredentialIssuer(sts, { deadlineMs: 3000, baseDelayMs: 10 }), {
    iamClient: (c) =>
      new IAMClient({ region: 'us-east-1', endpoint: aws.endpoint.url, maxAttempts: 1, credentials: c }),
  });
});
afterAll(async () => {
  sts?.destroy();
  await aws?.close();
});

const session = (i: number) => ({
  kind: 'session' as const,
  auditId: `01KF${String(i).padStart(22, '0')}`,
  expiresAt: new Date(Date.now() + 900_000).toISOString(),
});

async function rejection(p: Promise<unknown>): Promise<UpstreamUnavailableError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UpstreamUnavailableError);
  return e as UpstreamUnavailableError;
}

describe('IamDenyListPublisher', () => {
  it('writes the list as the revoker: the new document is the default at once', async () => {
    const document = denyListDocument(ROLE, [session(1)], new Date());
    await publisher.publish({ roleArn: ROLE, document, revokedBy: 'bob@example.com' });
    expect(aws.store.getManagedPolicy(denyListArn(ROLE))?.json).toBe(document);
  });

  it('keeps at most five versions: the oldest non-default is deleted first, every time', async () => {
    for (let i = 2; i <= 9; i++) {
      const document = denyListDocument(ROLE, [session(i)], new Date());
      await publisher.publish({ roleArn: ROLE, document, revokedBy: 'bob@example.com' });
      expect(aws.store.getManagedPolicy(denyListArn(ROLE))?.json).toBe(document);
    }
    const iam = new IAMClient({
      region: 'us-east-1',
      endpoint: aws.endpoint.url,
      credentials: await assumeRevoker(aws.endpoint.url, broker(), '444455556666', 'bob@example.com'),
    });
    const { Versions = [] } = await iam.send(new ListPolicyVersionsCommand({ PolicyArn: denyListArn(ROLE) }));
    iam.destroy();
    expect(Versions.length).toBe(5);
    expect(Versions.filter((v) => v.IsDefaultVersion)).toHaveLength(1);
  });

  it('a role without a deny list (an old template) is 503 naming the fix', async () => {
    const e = await rejection(
      publisher.publish({
        roleArn: 'arn:aws:iam::444455556666:role/NotDeployedWithTheList',
        document: denyListDocument(ROLE, [], new Date()),
        revokedBy: 'bob@example.com',
      }),
    );
    expect(e.detail).toMatch(/no revocation deny list/);
  });

  it('an account without a revoker role (the broker may not assume one) is 503', async () => {
    const e = await rejection(
      publisher.publish({
        roleArn: 'arn:aws:iam::111122223333:role/CICDDeployRole',
        document: denyListDocument(ROLE, [], new Date()),
        revokedBy: 'bob@example.com',
      }),
    );
    expect(e.detail).toMatch(/could not assume the revoker role of account 111122223333/);
  });
});

describe('FederationSigninClient', () => {
  async function liveSession() {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: ROLE,
        RoleSessionName: 'vend-signin-test',
        ExternalId: 'prod-readonly-ext-7f3a',
        SourceIdentity: 'alice@example.com',
        DurationSeconds: 900,
      }),
    );
    const c = out.Credentials!;
    return {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    };
  }

  it('gets a sign-in token for a live session', async () => {
    const client = new FederationSigninClient({ federationUrl: `${aws.endpoint.url}/federation` });
    expect(await client.getSigninToken(await liveSession())).toMatch(/^[A-Za-z0-9_-]{40,}$/);
  });

  it('a session the endpoint refuses, or an endpoint that is down, is 503 without the credentials anywhere', async () => {
    const s = await liveSession();
    const client = new FederationSigninClient({ federationUrl: `${aws.endpoint.url}/federation` });
    const refused = await rejection(
      client.getSigninToken({ ...s, secretAccessKey: `${s.secretAccessKey}x` }),
    );
    const down = await rejection(
      new FederationSigninClient({
        federationUrl: 'http://127.0.0.1:9/federation',
        timeoutMs: 500,
      }).getSigninToken(s),
    );
    for (const e of [refused, down]) {
      const text = JSON.stringify({ message: e.message, detail: e.detail, cause: String(e.cause) });
      expect(text).not.toContain(s.secretAccessKey);
      expect(text).not.toContain(s.sessionToken);
    }
  });
});
