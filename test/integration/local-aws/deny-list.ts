/**
 * Test helper: writes a target role's revocation deny list the way docs/revocation.md specifies it
 * for vend's revocation adapter, through real clients only: the broker assumes the account's
 * `vend/vend-revoker` role (SourceIdentity = who revokes), then @aws-sdk/client-iam deletes the
 * oldest non-default version when five are stored and creates the new one as the default.
 */
import { createHash } from 'node:crypto';
import {
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  IAMClient,
  ListPolicyVersionsCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface DenyList {
  /** Revoked sessions by audit id, grouped by the time every listed session has expired. */
  sessions?: Array<{ until: Date; auditIds: string[] }>;
  /** Revoked callers: sessions with this SourceIdentity issued before `before`. */
  callers?: Array<{ sourceIdentity: string; before: Date }>;
}

export const denyListArn = (account: string, roleName: string) =>
  `arn:aws:iam::${account}:policy/vend/vend-revocations-${roleName}`;

/** `202611291115`: the bucket's end, UTC to the minute (Sids are alphanumeric). */
const minuteStamp = (d: Date) => d.toISOString().slice(0, 16).replace(/[-:T]/g, '');
/** ISO 8601 rounded UP to the whole second: a session issued earlier in that second is denied too. */
export const ceilSecond = (d: Date) =>
  new Date(Math.ceil(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The deny-list document (docs/revocation.md, "The document"). */
export function denyListDocument(list: DenyList): string {
  const statements: object[] = [{ Sid: 'VendBoundary', Effect: 'Allow', Action: '*', Resource: '*' }];
  for (const s of list.sessions ?? []) {
    statements.push({
      Sid: `VendRevokedSessionsUntil${minuteStamp(s.until)}`,
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalTag/vend:audit-id': s.auditIds } },
    });
  }
  for (const c of list.callers ?? []) {
    const hash = createHash('sha256').update(c.sourceIdentity).digest('hex').slice(0, 16).toUpperCase();
    statements.push({
      Sid: `VendRevokedCaller${hash}`,
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:SourceIdentity': c.sourceIdentity },
        DateLessThan: { 'aws:TokenIssueTime': ceilSecond(c.before) },
      },
    });
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** Assumes `arn:aws:iam::<account>:role/vend/vend-revoker` as the broker. */
export async function assumeRevoker(
  endpoint: string,
  broker: Creds,
  account: string,
  revokedBy: string,
): Promise<Required<Creds>> {
  const sts = new STSClient({ region: 'us-east-1', endpoint, credentials: broker, maxAttempts: 1 });
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${account}:role/vend/vend-revoker`,
        RoleSessionName: 'vend-revoke',
        SourceIdentity: revokedBy,
        DurationSeconds: 900,
      }),
    );
    return {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    };
  } finally {
    sts.destroy();
  }
}

/** Publishes `list` as the role's deny list (new default version). */
export async function writeDenyList(
  endpoint: string,
  broker: Creds,
  account: string,
  roleName: string,
  list: DenyList,
  revokedBy = 'bob@example.com',
): Promise<void> {
  const credentials = await assumeRevoker(endpoint, broker, account, revokedBy);
  const iam = new IAMClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
  const PolicyArn = denyListArn(account, roleName);
  try {
    const { Versions = [] } = await iam.send(new ListPolicyVersionsCommand({ PolicyArn }));
    if (Versions.length >= 5) {
      const oldest = Versions.filter((v) => !v.IsDefaultVersion).sort(
        (a, b) => Number(a.VersionId!.slice(1)) - Number(b.VersionId!.slice(1)),
      )[0]!;
      await iam.send(new DeletePolicyVersionCommand({ PolicyArn, VersionId: oldest.VersionId }));
    }
    await iam.send(
      new CreatePolicyVersionCommand({
        PolicyArn,
        PolicyDocument: denyListDocument(list),
        SetAsDefault: true,
      }),
    );
  } finally {
    iam.destroy();
  }
}
