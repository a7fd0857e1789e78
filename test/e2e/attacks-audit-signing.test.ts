/**
 * Outside review of the audit trail's signatures (issue 11 §1): docs/audit.md promises that a
 * digest "re-signed with another key is named". A digest names the key that signed it (`keyId`), and
 * the table it lives in is writable by the attacker in view. So the verifier must not take the
 * digest's word for which key to check it with: an attacker who can make a KMS key of their own (in
 * the account, or in one of theirs with `kms:GetPublicKey` open to everyone) could otherwise delete
 * a record, re-seal the chain with their key, and have `vend audit verify` pass.
 *
 * Attacks, against the local stack, with the CLI an operator runs (KMS signer on the local KMS):
 * - delete one sealed record, rebuild its digest and every later one, sign them with a second KMS
 *   key and put them in place of the sealer's: each is `bad_signature`, with and without the
 *   sealer's head;
 * - put such a digest for an interval the sealer has not sealed yet: the sealer does not chain onto
 *   it (it did not sign it), and says so.
 */
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGION } from '../../infra/local/stack';
import { DynamoDigestStore } from '../../lib/audit/dynamo-digest-store';
import { KmsAuditSigner } from '../../lib/audit/kms-signer';
import {
  type AuditDigest,
  buildDigestBody,
  digestBytes,
  digestHash,
  intervalEndAfter,
} from '../../lib/domain/audit-chain';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';
import { vend } from './cli/harness';

const stack = withStack();
const SLOW = 120_000;
const BROKER_ACCOUNT = '222233334444';

let dynamo: DynamoDBClient;
let kms: KMSClient;
let forger: KmsAuditSigner;
beforeAll(async () => {
  const credentials = stack.credentials('vend-broker');
  dynamo = new DynamoDBClient({ region: REGION, endpoint: stack.awsUrl, credentials });
  kms = new KMSClient({ region: REGION, endpoint: stack.awsUrl, credentials });
  // The attacker's own key: a P-256 signing key like the real one, any key but the audit key.
  await stack.stack.kms.ensureKey(BROKER_ACCOUNT, 'alias/not-the-audit-key', 'made by the attacker');
  forger = await KmsAuditSigner.create(kms, 'alias/not-the-audit-key');
});
afterAll(() => {
  dynamo?.destroy();
  kms?.destroy();
});

function operatorEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...stack.env,
    AWS_PROFILE: 'vend-broker',
    VEND_AUDIT_SEAL_INTERVAL_SECONDS: '1',
    VEND_AUDIT_SEAL_GRACE_SECONDS: '0',
    ...extra,
  };
}
const auditTable = () => stack.env.VEND_AUDIT_TABLE ?? 'vend-dev-audit';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const digestStore = () => new DynamoDigestStore(DynamoDBDocumentClient.from(dynamo), auditTable());

async function items(): Promise<Record<string, unknown>[]> {
  return scanTable(dynamo, auditTable());
}
const records = async () => (await items()).filter((i) => String(i.pk).startsWith('AUDIT#'));
async function digests(): Promise<AuditDigest[]> {
  const starts = (await items())
    .filter((i) => i.pk === 'AUDIT_DIGEST')
    .map((i) => String(i.intervalStart))
    .sort();
  const store = digestStore();
  return Promise.all(starts.map(async (s) => (await store.get(s)) as AuditDigest));
}
async function remove(item: Record<string, unknown>): Promise<void> {
  await dynamo.send(
    new DeleteItemCommand({
      TableName: auditTable(),
      Key: { pk: { S: String(item.pk) }, sk: { S: String(item.sk) } },
    }),
  );
}

/** A digest of `[start, end)` over `recs`, chained to `previous`, signed with the attacker's key. */
async function forge(
  start: Date,
  end: Date,
  recs: Record<string, unknown>[],
  previous: Pick<AuditDigest, 'digestHash' | 'intervalStart'> | undefined,
): Promise<AuditDigest> {
  const body = buildDigestBody({
    intervalStart: start,
    intervalEnd: end,
    records: recs,
    previous,
    sealedAt: new Date(),
    keyId: forger.keyId,
  });
  const signature = await forger.sign(digestBytes(body));
  return { ...body, digestHash: digestHash(body), signature: Buffer.from(signature).toString('base64') };
}

const badSignatures = (stdout: string) =>
  [...stdout.matchAll(/^bad_signature\s+digest (\S+)\s/gm)].map((m) => m[1]);

describe('a digest signed with a key other than the audit key', () => {
  let sealedUpTo = '';
  let forged: string[] = [];

  it(
    'a record deleted and its chain re-sealed with another key is named bad_signature',
    async () => {
      for (let i = 0; i < 2; i++) {
        const res = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
          entitlement: 'prod-readonly',
        });
        expect(res.status).toBe(200);
        await sleep(1100);
      }
      const sealed = await vend(['audit', 'seal', '--json'], operatorEnv());
      expect(sealed.code).toBe(0);
      sealedUpTo = (JSON.parse(sealed.stdout) as { sealedUpTo: string }).sealedUpTo;
      const clean = await vend(['audit', 'verify', '--until', sealedUpTo], operatorEnv());
      expect(clean.code).toBe(0);

      // Delete the oldest sealed record, then re-seal its interval and every later one.
      const all = await digests();
      const victim = all.findIndex((d) => d.recordCount > 0);
      expect(victim).toBeGreaterThanOrEqual(0);
      const doomed = all[victim]!.records[0]!;
      const gone = (await records()).find((r) => r.id === doomed.id)!;
      await remove(gone);
      const left = await records();
      let previous: AuditDigest | undefined = all[victim - 1];
      forged = [];
      for (const d of all.slice(victim)) {
        const fake = await forge(new Date(d.intervalStart), new Date(d.intervalEnd), left, previous);
        await remove(
          (await items()).find((i) => i.pk === 'AUDIT_DIGEST' && i.intervalStart === d.intervalStart)!,
        );
        expect(await digestStore().put(fake)).toBe('written');
        forged.push(d.intervalStart);
        previous = fake;
      }

      // Without the sealer's head (the trail start alone, a documented way to verify) …
      const noHead = await vend(
        ['audit', 'verify', '--until', sealedUpTo],
        operatorEnv({ VEND_AUDIT_SEALS_TABLE: '' }),
      );
      expect(noHead.code).toBe(1);
      expect(badSignatures(noHead.stdout)).toEqual(forged);

      // … and with it.
      const withHead = await vend(['audit', 'verify', '--until', sealedUpTo], operatorEnv());
      expect(withHead.code).toBe(1);
      expect(badSignatures(withHead.stdout)).toEqual(forged);
    },
    SLOW,
  );

  it(
    'the sealer does not chain onto a digest put ahead of it with another key',
    async () => {
      // Put a correctly chained digest, signed with the attacker's key, for the next interval.
      const latest = (await digests()).at(-1)!;
      const start = new Date(latest.intervalEnd);
      const ahead = await forge(start, intervalEndAfter(start, 1), [], latest);
      // The chain under it is already forged by the spec above; start from a clean sealer's view:
      // whatever the sealer finds at the top of the table, it must have signed it itself.
      expect(await digestStore().put(ahead)).toBe('written');
      await sleep(1100);

      const r = await vend(['audit', 'seal', '--json'], operatorEnv());

      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/does not verify|did not sign/);
      const after = await digests();
      expect(after.filter((d) => d.keyId !== forger.keyId && d.intervalStart > ahead.intervalStart)).toEqual(
        [],
      );
    },
    SLOW,
  );
});
