/**
 * The local IAM enforces a target role's revocation deny list (its permissions boundary,
 * docs/revocation.md) on every decision about that role's sessions, the moment a new default
 * version is written: the effective-permission check answers ExplicitDeny, AssumeRole from the
 * session is refused, and the federation endpoint will not sign it in. Only the revoked session
 * (by audit id), or the revoked caller's sessions issued before the revocation (by SourceIdentity
 * and aws:TokenIssueTime), are touched: another audit id, another caller, and a session issued
 * after the revocation still allow. Sessions come from the local STS through the JS SDK, as the
 * broker makes them (SourceIdentity, transitive vend:* session tags).
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Creds } from './deny-list';
import { writeDenyList } from './deny-list';
import { type LocalAws, startLocalAws, WORLD_DIR } from './harness';

const PROD = '444455556666';
const PROD_READONLY = `arn:aws:iam::${PROD}:role/ProdReadOnly`;
const CHAIN_TARGET = `arn:aws:iam::${PROD}:role/ChainTarget`;
const OBJECT = 'arn:aws:s3:::my-prod-data-bucket/report.csv';

// The demo world plus one role that ProdReadOnly's own (untagged) sessions may chain into, so that
// AssumeRole from a revoked session is refused by the boundary and by nothing else.
const CHAIN_WORLD = `
roles:
  - arn: ${CHAIN_TARGET}
    maxSessionDuration: 3600
    trustPolicy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal:
            AWS: ${PROD_READONLY}
          Action:
            - sts:AssumeRole
            - sts:SetSourceIdentity
    policies:
      - name: Nothing
        document:
          Version: "2012-10-17"
          Statement:
            - Effect: Deny
              Action: "*"
              Resource: "*"
`;

interface Session extends Required<Creds> {
  auditId?: string;
}

describe('revocation, enforced by the local IAM', () => {
  let aws: LocalAws;
  let worldDir: string;
  let offsetMs = 0;
  const broker = () => {
    const k = aws.profiles['vend-broker']!;
    return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, sessionToken: k.sessionToken! };
  };
  const sts = (credentials: Creds) =>
    new STSClient({ region: 'us-east-1', endpoint: aws.endpoint.url, credentials, maxAttempts: 1 });

  /** A session of `roleArn` as the broker vends it (tags only when an audit id is given). */
  const assume = async (
    caller: Creds,
    roleArn: string,
    sourceIdentity: string,
    auditId?: string,
  ): Promise<Session> => {
    const client = sts(caller);
    try {
      const tags = auditId
        ? [
            { Key: 'vend:entitlement', Value: 'prod-readonly' },
            { Key: 'vend:audit-id', Value: auditId },
          ]
        : undefined;
      const out = await client.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: `vend-test-${auditId ?? sourceIdentity.replace(/@.*/, '')}`,
          DurationSeconds: 900,
          SourceIdentity: sourceIdentity,
          ...(roleArn === PROD_READONLY && { ExternalId: 'prod-readonly-ext-7f3a' }),
          ...(tags && { Tags: tags, TransitiveTagKeys: tags.map((t) => t.Key) }),
        }),
      );
      return {
        accessKeyId: out.Credentials!.AccessKeyId!,
        secretAccessKey: out.Credentials!.SecretAccessKey!,
        sessionToken: out.Credentials!.SessionToken!,
        ...(auditId && { auditId }),
      };
    } finally {
      client.destroy();
    }
  };
  const vend = (sourceIdentity: string, auditId?: string) =>
    assume(broker(), PROD_READONLY, sourceIdentity, auditId);

  const simulate = async (s: Session, action = 's3:GetObject', resource = OBJECT) => {
    const res = await fetch(`${aws.endpoint.url}/_local/iam/simulate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessKeyId: s.accessKeyId, action, resource }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { decision: string; decidedBy: string; matched: { sid?: string }[] };
  };
  const signinStatus = async (s: Session) => {
    const session = JSON.stringify({
      sessionId: s.accessKeyId,
      sessionKey: s.secretAccessKey,
      sessionToken: s.sessionToken,
    });
    const res = await fetch(
      `${aws.endpoint.url}/federation?Action=getSigninToken&Session=${encodeURIComponent(session)}`,
    );
    await res.text();
    return res.status;
  };
  const revoke = (list: Parameters<typeof writeDenyList>[4]) =>
    writeDenyList(aws.endpoint.url, broker(), PROD, 'ProdReadOnly', list);

  beforeAll(async () => {
    worldDir = mkdtempSync(join(tmpdir(), 'vend-revocation-world-'));
    copyFileSync(join(WORLD_DIR, 'world.yaml'), join(worldDir, 'world.yaml'));
    writeFileSync(join(worldDir, 'zz-chain.yaml'), CHAIN_WORLD);
    // A clock the test can move a few seconds ahead (well inside SigV4's 15-minute skew).
    aws = await startLocalAws({ worldDir, now: () => new Date(Date.now() + offsetMs) });
  });
  afterAll(async () => {
    await aws?.close();
    if (worldDir) rmSync(worldDir, { recursive: true, force: true });
  });

  it('one revoked audit id: that session turns to ExplicitDeny at once, the others still allow', async () => {
    const revoked = await vend('alice@example.com', '01KBREVOKED0000000000000001');
    const sameCaller = await vend('alice@example.com', '01KBKEPT00000000000000000002');
    const otherCaller = await vend('carol@example.com', '01KBKEPT00000000000000000003');
    for (const s of [revoked, sameCaller, otherCaller]) expect((await simulate(s)).decision).toBe('Allow');
    expect(await signinStatus(revoked)).toBe(200);

    await revoke({ sessions: [{ until: new Date(Date.now() + 3600_000), auditIds: [revoked.auditId!] }] });

    const denied = await simulate(revoked);
    expect(denied.decision).toBe('ExplicitDeny');
    expect(denied.decidedBy).toBe('boundary');
    expect(denied.matched[0]?.sid).toMatch(/^VendRevokedSessionsUntil\d{12}$/);
    // Every action, not only the ones the role grants.
    expect((await simulate(revoked, 'sts:GetSessionToken', '*')).decision).toBe('ExplicitDeny');
    expect((await simulate(sameCaller)).decision).toBe('Allow');
    expect((await simulate(otherCaller)).decision).toBe('Allow');
    expect(await signinStatus(revoked)).toBe(400);
    expect(await signinStatus(otherCaller)).toBe(200);
  });

  it("a revoked caller: that caller's earlier sessions are denied, a session issued afterwards allows", async () => {
    const before = await vend('dave@example.com', '01KBDAVE00000000000000000001');
    const untagged = await vend('dave@example.com');
    const bystander = await vend('erin@example.com', '01KBERIN00000000000000000001');

    await revoke({
      callers: [{ sourceIdentity: 'dave@example.com', before: new Date(Date.now() + offsetMs) }],
    });
    expect((await simulate(before)).decision).toBe('ExplicitDeny');
    expect((await simulate(untagged)).decision).toBe('ExplicitDeny');
    expect((await simulate(bystander)).decision).toBe('Allow');

    // The revocation time is rounded up to the whole second; a session issued after it allows.
    offsetMs += 1500;
    const after = await vend('dave@example.com', '01KBDAVE00000000000000000002');
    expect((await simulate(after)).decision).toBe('Allow');
    expect(await signinStatus(after)).toBe(200);
    expect(await signinStatus(before)).toBe(400);
  });

  it('AssumeRole from a revoked session is refused; before the revocation the same call succeeded', async () => {
    const chainer = await vend('mallory@example.com');
    const first = await assume(chainer, CHAIN_TARGET, 'mallory@example.com');
    expect(first.accessKeyId).toMatch(/^ASIA/);

    await revoke({
      callers: [{ sourceIdentity: 'mallory@example.com', before: new Date(Date.now() + offsetMs) }],
    });
    await expect(assume(chainer, CHAIN_TARGET, 'mallory@example.com')).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `User: arn:aws:sts::${PROD}:assumed-role/ProdReadOnly/vend-test-mallory is not authorized to perform: sts:AssumeRole on resource: ${CHAIN_TARGET}`,
    });
  });

  it('a revocation never disables the role as a whole: the role ARN (no session) still allows', async () => {
    const res = await fetch(`${aws.endpoint.url}/_local/iam/simulate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ principalArn: PROD_READONLY, action: 's3:GetObject', resource: OBJECT }),
    });
    expect(((await res.json()) as { decision: string }).decision).toBe('Allow');
  });
});
