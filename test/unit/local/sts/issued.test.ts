/**
 * The local STS's own record of the sessions it issued (infra/local/sts/issued.ts): one entry per
 * AssumeRole it answered with credentials, with the facts CloudTrail's AssumeRole event would show
 * (tags included, so a session can be tied to vend's `vend:audit-id`), none for a refusal, and no
 * secret in it.
 */
import { describe, expect, it } from 'vitest';
import { createStsHandler } from '../../../../infra/local/sts/handler';
import { issuedSessionsOf } from '../../../../infra/local/sts/issued';
import { EXTERNAL_IDS, form, openStore, ROLES, signedRequest, TestClock } from './support';

const T0 = new Date('2026-11-29T10:00:00Z');

describe('the issued-session record', () => {
  it('records each session STS issued, with its tags and never a secret; refusals add nothing', async () => {
    // Arrange
    const clock = new TestClock(T0);
    const store = await openStore({ clock });
    const sts = createStsHandler(store);
    const broker = store.mintBaseSession('vend-broker');
    const assume = async (externalId: string) =>
      sts(
        await signedRequest({
          key: broker,
          signingDate: clock.now(),
          body: form({
            Action: 'AssumeRole',
            Version: '2011-06-15',
            RoleArn: ROLES.prodReadOnly,
            RoleSessionName: 'vend-CICDDeployRole-01J0000000000000000000AUDT',
            ExternalId: externalId,
            SourceIdentity: 'CICDDeployRole@111122223333',
            'Tags.member.1.Key': 'vend:audit-id',
            'Tags.member.1.Value': '01J0000000000000000000AUDT',
          }),
        }),
      );

    // Act
    const ok = await assume(EXTERNAL_IDS.prodReadOnly);
    const refused = await assume('wrong-external-id');

    // Assert
    expect([ok.status, refused.status]).toEqual([200, 403]);
    const sessions = issuedSessionsOf(store).list();
    expect(sessions).toHaveLength(1);
    const key = /<AccessKeyId>(ASIA\w+)<\/AccessKeyId>/.exec(String(ok.body))![1];
    expect(sessions[0]).toEqual({
      accessKeyId: key,
      roleArn: ROLES.prodReadOnly,
      assumedRoleArn: `arn:aws:sts::444455556666:assumed-role/ProdReadOnly/vend-CICDDeployRole-01J0000000000000000000AUDT`,
      roleSessionName: 'vend-CICDDeployRole-01J0000000000000000000AUDT',
      sourceIdentity: 'CICDDeployRole@111122223333',
      sessionTags: { 'vend:audit-id': '01J0000000000000000000AUDT' },
      callerArn: broker.principal.arn,
      issuedAt: T0.toISOString(),
      expiration: expect.stringMatching(/^2026-11-29T11:00:00/),
    });
    const secret = /<SecretAccessKey>([^<]+)</.exec(String(ok.body))![1]!;
    expect(JSON.stringify(sessions)).not.toContain(secret);
    // Another store's STS keeps its own record.
    expect(issuedSessionsOf(await openStore({ clock })).list()).toEqual([]);
  });
});
