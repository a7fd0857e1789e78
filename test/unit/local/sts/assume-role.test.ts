import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IamStore } from '../../../../infra/local/iam/store';
import { createStsHandler } from '../../../../infra/local/sts/handler';
import type { KeyRecord, RawResponse } from '../../../../infra/local/types';
import {
  EXTERNAL_IDS,
  form,
  openStore,
  parseXml,
  ROLES,
  signedRequest,
  stsError,
  TestClock,
} from './support';

/** A same-account chain target, an IAM user with long-term keys, and one without permissions. */
const EXTRA_WORLD = `
roles:
  - arn: arn:aws:iam::444455556666:role/ChainTarget
    maxSessionDuration: 7200
    trustPolicy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal:
            AWS:
              - arn:aws:iam::444455556666:role/ProdReadOnly
              - arn:aws:iam::444455556666:root
          Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]
        - Effect: Deny
          Principal: { AWS: "*" }
          Action: sts:AssumeRole
          Condition:
            StringEquals:
              sts:RoleSessionName: forbidden
    policies:
      - name: Read
        document:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: s3:GetObject
              Resource: "*"
users:
  - arn: arn:aws:iam::444455556666:user/ops-admin
    policies:
      - name: AssumeAnything
        document:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]
              Resource: "*"
  - arn: arn:aws:iam::444455556666:user/ops-reader
`;

const T0 = new Date('2026-11-29T10:00:00Z');
const CHAIN_TARGET = 'arn:aws:iam::444455556666:role/ChainTarget';

describe('STS AssumeRole and GetCallerIdentity (Query protocol)', () => {
  const clock = new TestClock(T0);
  let store: IamStore;
  let sts: ReturnType<typeof createStsHandler>;
  let broker: KeyRecord;
  let ci: KeyRecord;
  let opsAdmin: KeyRecord;
  let opsReader: KeyRecord;

  beforeAll(async () => {
    store = await openStore({ clock, extra: { 'extra.yaml': EXTRA_WORLD } });
    sts = createStsHandler(store);
    broker = store.mintBaseSession('vend-broker');
    ci = store.mintBaseSession('ci');
    opsAdmin = store.mintUserKey('arn:aws:iam::444455556666:user/ops-admin');
    opsReader = store.mintUserKey('arn:aws:iam::444455556666:user/ops-reader');
  });

  async function call(key: KeyRecord, params: Record<string, string>): Promise<RawResponse> {
    const body = form({ Version: '2011-06-15', ...params });
    return sts(await signedRequest({ key, body, signingDate: clock.now() }));
  }

  const assume = (key: KeyRecord, params: Record<string, string>) =>
    call(key, { Action: 'AssumeRole', ...params });

  const prodReadOnly = (extra: Record<string, string> = {}) => ({
    RoleArn: ROLES.prodReadOnly,
    RoleSessionName: 'alice',
    ExternalId: EXTERNAL_IDS.prodReadOnly,
    SourceIdentity: 'alice',
    ...extra,
  });

  function credentialsOf(res: RawResponse): KeyRecord {
    const r = (
      parseXml(res.body) as {
        AssumeRoleResponse: { AssumeRoleResult: { Credentials: Record<string, string> } };
      }
    ).AssumeRoleResponse.AssumeRoleResult.Credentials;
    const key = store.lookupAccessKey(r.AccessKeyId!);
    if (!key) throw new Error('issued key unknown to the store');
    return key;
  }

  async function expectError(
    res: Promise<RawResponse>,
    status: number,
    code: string,
    message?: string | RegExp,
  ) {
    const r = await res;
    const e = stsError(r.body);
    expect({ status: r.status, code: e.code, type: e.type }).toEqual({ status, code, type: 'Sender' });
    expect(r.headers['content-type']).toBe('text/xml');
    expect(r.headers['x-amzn-requestid']).toBe(e.requestId);
    expect(r.headers.date).toBe(T0.toUTCString());
    if (typeof message === 'string') expect(e.message).toBe(message);
    else if (message) expect(e.message).toMatch(message);
    return e;
  }

  describe('success', () => {
    it('GetCallerIdentity returns the assumed-role ARN, AROA user id and account of a base session', async () => {
      const res = await call(ci, { Action: 'GetCallerIdentity' });
      const doc = parseXml(res.body) as {
        GetCallerIdentityResponse: {
          '@_xmlns': string;
          GetCallerIdentityResult: { Arn: string; UserId: string; Account: string };
          ResponseMetadata: { RequestId: string };
        };
      };
      const r = doc.GetCallerIdentityResponse;
      expect(res.status).toBe(200);
      expect(r['@_xmlns']).toBe('https://sts.amazonaws.com/doc/2011-06-15/');
      expect(r.GetCallerIdentityResult.Arn).toBe('arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci');
      expect(r.GetCallerIdentityResult.UserId).toMatch(/^AROA[A-Z2-7]{17}:ci$/);
      expect(r.GetCallerIdentityResult.Account).toBe('111122223333');
      expect(res.headers['x-amzn-requestid']).toBe(r.ResponseMetadata.RequestId);
    });

    it('AssumeRole as the broker returns ASIA credentials, the assumed-role user and SourceIdentity', async () => {
      const res = await assume(broker, prodReadOnly({ DurationSeconds: '900' }));
      const r = (
        parseXml(res.body) as {
          AssumeRoleResponse: {
            AssumeRoleResult: {
              SourceIdentity: string;
              Credentials: Record<string, string>;
              AssumedRoleUser: { Arn: string; AssumedRoleId: string };
            };
            ResponseMetadata: { RequestId: string };
          };
        }
      ).AssumeRoleResponse;
      expect(res.status).toBe(200);
      expect(res.headers['x-amzn-requestid']).toBe(r.ResponseMetadata.RequestId);
      const c = r.AssumeRoleResult.Credentials;
      expect(c.AccessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
      expect(c.SecretAccessKey).toHaveLength(40);
      expect(c.SessionToken!.length).toBeGreaterThan(300);
      expect(c.Expiration).toBe('2026-11-29T10:15:00Z');
      expect(r.AssumeRoleResult.AssumedRoleUser.Arn).toBe(
        'arn:aws:sts::444455556666:assumed-role/ProdReadOnly/alice',
      );
      expect(r.AssumeRoleResult.AssumedRoleUser.AssumedRoleId).toMatch(/^AROA[A-Z2-7]{17}:alice$/);
      expect(r.AssumeRoleResult.SourceIdentity).toBe('alice');
    });

    it('issues real credentials: they sign GetCallerIdentity as the assumed role', async () => {
      const key = credentialsOf(await assume(broker, prodReadOnly()));
      const res = await call(key, { Action: 'GetCallerIdentity' });
      expect(res.status).toBe(200);
      expect(res.body).toContain('<Arn>arn:aws:sts::444455556666:assumed-role/ProdReadOnly/alice</Arn>');
    });

    it('reports PackedPolicySize when a session policy is passed', async () => {
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::my-prod-data-bucket/*' },
        ],
      });
      const res = await assume(broker, {
        RoleArn: ROLES.s3ReadAll,
        RoleSessionName: 'alice',
        ExternalId: EXTERNAL_IDS.s3ReadAll,
        SourceIdentity: 'alice',
        Policy: policy,
      });
      const size = Number(
        (parseXml(res.body) as { AssumeRoleResponse: { AssumeRoleResult: { PackedPolicySize: string } } })
          .AssumeRoleResponse.AssumeRoleResult.PackedPolicySize,
      );
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThan(20);
    });

    it('carries SourceIdentity and transitive tags into a chained session; the trust may name the role alone (same account)', async () => {
      const first = credentialsOf(
        await assume(
          broker,
          prodReadOnly({
            'Tags.member.1.Key': 'vend:caller',
            'Tags.member.1.Value': 'alice',
            'TransitiveTagKeys.member.1': 'vend:caller',
          }),
        ),
      );
      const res = await assume(first, { RoleArn: CHAIN_TARGET, RoleSessionName: 'hop' });
      expect(res.status).toBe(200);
      const chained = credentialsOf(res);
      expect(chained.principal).toMatchObject({
        sourceIdentity: 'alice',
        sessionTags: { 'vend:caller': 'alice' },
        transitiveTagKeys: ['vend:caller'],
        chained: true,
      });
    });

    it('lets an IAM user with long-term keys exceed one hour up to the role MaxSessionDuration', async () => {
      const res = await assume(opsAdmin, {
        RoleArn: CHAIN_TARGET,
        RoleSessionName: 'ops',
        DurationSeconds: '7200',
      });
      expect(res.status).toBe(200);
      expect(credentialsOf(res).expiration).toBe('2026-11-29T12:00:00Z');
    });
  });

  describe('ValidationError (400)', () => {
    it('names the member and the constraint in the Coral format', async () => {
      await expectError(
        assume(broker, prodReadOnly({ RoleSessionName: 'has space' })),
        400,
        'ValidationError',
        "1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
      );
    });

    it('lists several errors joined by "; "', async () => {
      await expectError(
        assume(broker, prodReadOnly({ RoleSessionName: 'x'.repeat(65), DurationSeconds: '43201' })),
        400,
        'ValidationError',
        `2 validation errors detected: Value '${'x'.repeat(65)}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64; Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`,
      );
    });

    it('rejects DurationSeconds below 900', async () => {
      await expectError(
        assume(broker, prodReadOnly({ DurationSeconds: '899' })),
        400,
        'ValidationError',
        /at 'durationSeconds'.*greater than or equal to 900$/,
      );
    });

    it('rejects a missing RoleArn as null', async () => {
      await expectError(
        assume(broker, { RoleSessionName: 'alice' }),
        400,
        'ValidationError',
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
      );
    });

    it('never echoes the ExternalId in a validation message', async () => {
      const e = await expectError(
        assume(broker, prodReadOnly({ ExternalId: 'secret value!' })),
        400,
        'ValidationError',
      );
      expect(e.message).not.toContain('secret value!');
      expect(e.message).toContain("at 'externalId'");
    });

    it('rejects an inline policy over the 2048-character plaintext limit', async () => {
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'b'.repeat(2100)}/*` },
        ],
      });
      await expectError(
        assume(broker, prodReadOnly({ Policy: policy })),
        400,
        'ValidationError',
        /at 'policy'.*less than or equal to 2048$/,
      );
    });

    it('rejects more than 10 PolicyArns', async () => {
      const arns = Object.fromEntries(
        Array.from({ length: 11 }, (_, i) => [
          `PolicyArns.member.${i + 1}.arn`,
          'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
        ]),
      );
      await expectError(
        assume(broker, prodReadOnly(arns)),
        400,
        'ValidationError',
        /at 'policyArns'.*less than or equal to 10$/,
      );
    });

    it('caps a chained session at one hour with the role-chaining message', async () => {
      await expectError(
        assume(broker, prodReadOnly({ DurationSeconds: '7200' })),
        400,
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    });

    it("caps a session at the role's MaxSessionDuration", async () => {
      await expectError(
        assume(opsAdmin, { RoleArn: CHAIN_TARGET, RoleSessionName: 'ops', DurationSeconds: '7201' }),
        400,
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    });
  });

  describe('AccessDenied (403)', () => {
    const denied = (caller: string, role: string, action = 'sts:AssumeRole') =>
      `User: ${caller} is not authorized to perform: ${action} on resource: ${role}`;
    const brokerArn = 'arn:aws:sts::222233334444:assumed-role/vend-broker/vend-broker';

    it('denies a wrong ExternalId', async () => {
      await expectError(
        assume(broker, prodReadOnly({ ExternalId: 'wrong-id' })),
        403,
        'AccessDenied',
        denied(brokerArn, ROLES.prodReadOnly),
      );
    });

    it('denies a missing ExternalId', async () => {
      const { ExternalId: _omit, ...params } = prodReadOnly();
      await expectError(assume(broker, params), 403, 'AccessDenied', denied(brokerArn, ROLES.prodReadOnly));
    });

    it("denies another role's ExternalId", async () => {
      await expectError(
        assume(broker, prodReadOnly({ ExternalId: EXTERNAL_IDS.s3ReadAll })),
        403,
        'AccessDenied',
      );
    });

    it('denies a call without SourceIdentity (the trust policy requires one)', async () => {
      const { SourceIdentity: _omit, ...params } = prodReadOnly();
      await expectError(assume(broker, params), 403, 'AccessDenied', denied(brokerArn, ROLES.prodReadOnly));
    });

    it('denies CICDDeployRole straight into prod (no trust path), even with the right ExternalId', async () => {
      await expectError(
        assume(ci, prodReadOnly()),
        403,
        'AccessDenied',
        denied('arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci', ROLES.prodReadOnly),
      );
    });

    it('denies a role that does not exist, with the same message (existence is not revealed)', async () => {
      const missing = 'arn:aws:iam::444455556666:role/NoSuchRole';
      await expectError(
        assume(broker, prodReadOnly({ RoleArn: missing })),
        403,
        'AccessDenied',
        denied(brokerArn, missing),
      );
    });

    it('denies session tags outside vend:* as sts:TagSession', async () => {
      await expectError(
        assume(broker, prodReadOnly({ 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'x' })),
        403,
        'AccessDenied',
        denied(brokerArn, ROLES.prodReadOnly, 'sts:TagSession'),
      );
    });

    it('denies when the trust policy only names the account and the caller has no identity permission', async () => {
      await expectError(
        assume(opsReader, { RoleArn: CHAIN_TARGET, RoleSessionName: 'ops' }),
        403,
        'AccessDenied',
        denied('arn:aws:iam::444455556666:user/ops-reader', CHAIN_TARGET),
      );
    });

    it('lets an explicit Deny in the trust policy win over the Allow', async () => {
      await expectError(
        assume(opsAdmin, { RoleArn: CHAIN_TARGET, RoleSessionName: 'forbidden' }),
        403,
        'AccessDenied',
      );
    });

    it('refuses to change the SourceIdentity of a chained session (sts:SetSourceIdentity)', async () => {
      const first = credentialsOf(await assume(broker, prodReadOnly()));
      await expectError(
        assume(first, { RoleArn: CHAIN_TARGET, RoleSessionName: 'hop', SourceIdentity: 'mallory' }),
        403,
        'AccessDenied',
        denied(
          'arn:aws:sts::444455556666:assumed-role/ProdReadOnly/alice',
          CHAIN_TARGET,
          'sts:SetSourceIdentity',
        ),
      );
    });
  });

  describe('session tags and policies (400)', () => {
    it('rejects duplicate tag keys case-insensitively as InvalidParameterValue', async () => {
      await expectError(
        assume(
          broker,
          prodReadOnly({
            'Tags.member.1.Key': 'vend:a',
            'Tags.member.1.Value': '1',
            'Tags.member.2.Key': 'VEND:A',
            'Tags.member.2.Value': '2',
          }),
        ),
        400,
        'InvalidParameterValue',
        'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
      );
    });

    it('rejects a transitive key that is not among the tags', async () => {
      await expectError(
        assume(
          broker,
          prodReadOnly({
            'Tags.member.1.Key': 'vend:a',
            'Tags.member.1.Value': '1',
            'TransitiveTagKeys.member.1': 'vend:b',
          }),
        ),
        400,
        'InvalidParameterValue',
      );
    });

    it('rejects the reserved aws: prefix', async () => {
      await expectError(
        assume(broker, prodReadOnly({ 'Tags.member.1.Key': 'aws:x', 'Tags.member.1.Value': '1' })),
        400,
        'InvalidParameterValue',
      );
    });

    it('rejects overriding an inherited transitive tag', async () => {
      const first = credentialsOf(
        await assume(
          broker,
          prodReadOnly({
            'Tags.member.1.Key': 'vend:caller',
            'Tags.member.1.Value': 'alice',
            'TransitiveTagKeys.member.1': 'vend:caller',
          }),
        ),
      );
      await expectError(
        assume(first, {
          RoleArn: CHAIN_TARGET,
          RoleSessionName: 'hop',
          'Tags.member.1.Key': 'Vend:Caller',
          'Tags.member.1.Value': 'bob',
        }),
        400,
        'InvalidParameterValue',
        "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
      );
    });

    it('rejects a session policy that is not JSON as MalformedPolicyDocument', async () => {
      await expectError(
        assume(broker, prodReadOnly({ Policy: '{not json' })),
        400,
        'MalformedPolicyDocument',
      );
    });

    it('rejects a session policy that is JSON but not a valid policy as MalformedPolicyDocument', async () => {
      await expectError(
        assume(broker, prodReadOnly({ Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}' })),
        400,
        'MalformedPolicyDocument',
      );
    });

    it('rejects a PolicyArn the world does not define', async () => {
      await expectError(
        assume(broker, prodReadOnly({ 'PolicyArns.member.1.arn': 'arn:aws:iam::444455556666:policy/Nope' })),
        400,
        'InvalidParameterValue',
      );
    });

    it('rejects tags whose packed size exceeds the budget as PackedPolicyTooLarge', async () => {
      const tags: Record<string, string> = {};
      for (let i = 1; i <= 50; i++) {
        tags[`Tags.member.${i}.Key`] = `vend:${randomBytes(40).toString('hex')}`;
        tags[`Tags.member.${i}.Value`] = randomBytes(100)
          .toString('base64')
          .replace(/[^A-Za-z0-9]/g, 'x');
      }
      await expectError(
        assume(broker, prodReadOnly(tags)),
        400,
        'PackedPolicyTooLarge',
        /^Packed size of session tags consumes \d{3,}% of allotted space\.$/,
      );
    });
  });

  describe('protocol errors', () => {
    it('answers an unknown action with InvalidAction 400', async () => {
      await expectError(
        call(broker, { Action: 'GetSessionToken' }),
        400,
        'InvalidAction',
        'Could not find operation GetSessionToken for version 2011-06-15',
      );
    });

    it('answers an unsigned request with MissingAuthenticationToken 403', async () => {
      await expectError(
        sts({
          method: 'POST',
          path: '/',
          query: '',
          headers: {},
          body: Buffer.from('Action=GetCallerIdentity'),
          sourceIp: '127.0.0.1',
        }),
        403,
        'MissingAuthenticationToken',
      );
    });

    it('answers a malformed Authorization header with IncompleteSignature 400', async () => {
      const req = await signedRequest({
        key: broker,
        body: form({ Action: 'GetCallerIdentity' }),
        signingDate: T0,
      });
      req.headers.authorization = 'AWS4-HMAC-SHA256 Credential=garbage';
      await expectError(sts(req), 400, 'IncompleteSignature');
    });

    it('answers an unknown key with InvalidClientTokenId 403', async () => {
      const fake = { ...broker, accessKeyId: 'ASIAAAAAAAAAAAAAAAAA' };
      await expectError(
        call(fake, { Action: 'GetCallerIdentity' }),
        403,
        'InvalidClientTokenId',
        'The security token included in the request is invalid.',
      );
    });

    it('answers a bad signature with SignatureDoesNotMatch 403', async () => {
      await expectError(
        call({ ...broker, secretAccessKey: 'A'.repeat(40) }, { Action: 'GetCallerIdentity' }),
        403,
        'SignatureDoesNotMatch',
      );
    });

    it('answers an expired session with ExpiredToken 403', async () => {
      const key = credentialsOf(await assume(broker, prodReadOnly({ DurationSeconds: '900' })));
      const laterClock = new TestClock(new Date(T0.getTime() + 901_000));
      const laterSts = createStsHandler(store, { now: laterClock.now });
      const res = await laterSts(
        await signedRequest({
          key,
          body: form({ Action: 'GetCallerIdentity', Version: '2011-06-15' }),
          signingDate: laterClock.now(),
        }),
      );
      expect(res.status).toBe(403);
      expect(stsError(res.body).code).toBe('ExpiredToken');
    });
  });
});
