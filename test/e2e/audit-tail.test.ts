/**
 * A cut tail of the audit trail is caught (issue 11, item 1), against the local stack, the way an
 * attacker with delete rights on the audit table would cut it and the way an operator would look:
 * real vends through the gateway, `node bin/vend.js audit seal|verify` as child processes with the
 * stack's client environment, deletions done directly in dynalite.
 *
 * - the newest digests deleted together with their records: `vend audit verify` exits 1 and names
 *   each missing interval; the sealer, run again later, does not seal the cut over, so it is still
 *   named (with the broken link) afterwards;
 * - the newest digests deleted without their records: missing intervals and unsealed records;
 * - everything deleted, the sealer's head too: verify still fails, from the trail's start;
 * - an idle hour still gets its (empty) digest, and a sealer that was down catches up.
 *
 * One-second intervals and no grace (VEND_AUDIT_SEAL_*), so the test never waits for an hour; the
 * idle-hour spec uses hourly intervals on tables of its own with a trail start three hours back.
 */
import { CreateTableCommand, DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGION } from '../../infra/local/stack';
import { DynamoAuditStore } from '../../lib/audit/dynamo-audit-store';
import { intentRecord } from '../../lib/domain/audit';
import { intervalFloor } from '../../lib/domain/audit-chain';
import { createTableInput } from '../../lib/dynamodb/tables';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';
import { vend } from './cli/harness';

const stack = withStack();
const SLOW = 120_000;
const CI_ROLE = 'arn:aws:iam::111122223333:role/CICDDeployRole';

let dynamo: DynamoDBClient;
beforeAll(() => {
  dynamo = new DynamoDBClient({
    region: REGION,
    endpoint: stack.awsUrl,
    credentials: stack.credentials('vend-broker'),
  });
});
afterAll(() => dynamo?.destroy());

/** An operator with table access, as docs/audit.md says: the stack's environment and the broker's profile. */
function operatorEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...stack.env,
    AWS_PROFILE: 'vend-broker',
    VEND_AUDIT_SEAL_INTERVAL_SECONDS: '1',
    VEND_AUDIT_SEAL_GRACE_SECONDS: '0',
    ...extra,
  };
}

const auditTable = () => stack.env.VEND_AUDIT_TABLE ?? 'VEND_AUDIT_TABLE missing from the stack env';
const sealsTable = () =>
  stack.env.VEND_AUDIT_SEALS_TABLE ?? 'VEND_AUDIT_SEALS_TABLE missing from the stack env';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function items(): Promise<Record<string, unknown>[]> {
  return scanTable(dynamo, auditTable());
}
const records = async () => (await items()).filter((i) => String(i.pk).startsWith('AUDIT#'));
const digests = async () =>
  (await items())
    .filter((i) => i.pk === 'AUDIT_DIGEST')
    .sort((a, b) => (String(a.sk) < String(b.sk) ? -1 : 1)) as {
    pk: string;
    sk: string;
    intervalStart: string;
    intervalEnd: string;
    recordCount: number;
  }[];

async function remove(table: string, item: Record<string, unknown>): Promise<void> {
  await dynamo.send(
    new DeleteItemCommand({
      TableName: table,
      Key: { pk: { S: String(item.pk) }, sk: { S: String(item.sk) } },
    }),
  );
}

/** Seals (`vend audit seal --json`) until every record of the table is under a digest. */
async function sealAll(env = operatorEnv()): Promise<string> {
  const newest =
    (await records())
      .map((r) => String(r.time))
      .sort()
      .at(-1) ?? '';
  let upTo = '';
  for (let i = 0; i < 10 && upTo <= newest; i++) {
    const r = await vend(['audit', 'seal', '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    upTo = (JSON.parse(r.stdout) as { sealedUpTo: string }).sealedUpTo;
    if (upTo <= newest) await sleep(300);
  }
  expect(upTo > newest).toBe(true);
  return upTo;
}

/** The `missing_digest` rows of verify's table: the interval each one names. */
const missingNamed = (stdout: string) =>
  [...stdout.matchAll(/^missing_digest\s+digest (\S+)\s/gm)].map((m) => m[1]);

async function vendAsCi(): Promise<void> {
  const res = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
    entitlement: 'prod-readonly',
  });
  expect(res.status).toBe(200);
}

describe('a cut tail of the audit trail', () => {
  let sealedUpTo = '';
  let cutFrom = '';
  let cutDigests: string[] = [];

  it(
    'verifies clean before the cut',
    async () => {
      // Vends a little more than a second apart: their records land in different intervals.
      for (let i = 0; i < 3; i++) {
        await vendAsCi();
        await sleep(1100);
      }
      sealedUpTo = await sealAll();

      const r = await vend(['audit', 'verify', '--until', sealedUpTo], operatorEnv());

      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /^audit trail verified from \S+ to \S+: \d+ digests, 6 sealed records, no findings\n/,
      );
      expect(r.stdout).toContain(`the trail is sealed through ${sealedUpTo} (due through `);
    },
    SLOW,
  );

  it(
    'the newest digests deleted with their records: verify exits 1 naming each missing interval',
    async () => {
      // Cut from the interval of the last vend: its records and every digest from there on.
      const last =
        (await records())
          .map((r) => String(r.time))
          .sort()
          .at(-1) ?? '';
      cutFrom = intervalFloor(new Date(last), 1).toISOString();
      const doomed = (await digests()).filter((d) => d.intervalStart >= cutFrom);
      cutDigests = doomed.map((d) => d.intervalStart);
      expect(cutDigests.length).toBeGreaterThan(0);
      for (const r of await records()) if (String(r.time) >= cutFrom) await remove(auditTable(), r);
      for (const d of doomed) await remove(auditTable(), d);

      const r = await vend(['audit', 'verify', '--until', sealedUpTo], operatorEnv());

      expect(r.code).toBe(1);
      expect(missingNamed(r.stdout)).toEqual(cutDigests);
      expect(r.stdout).toMatch(
        new RegExp(
          `audit trail verification FAILED from \\S+ to \\S+: ${cutDigests.length} findings? \\(${cutDigests.length} missing_digest\\)`,
        ),
      );
      expect(r.stdout).toContain(`the trail is sealed through ${cutFrom} (due through `);
      expect(r.stdout).toContain(`the sealer's head says ${sealedUpTo})`);
    },
    SLOW,
  );

  it(
    'is still named after the sealer runs again: it does not seal the cut over',
    async () => {
      const again = await vend(['audit', 'seal', '--json'], operatorEnv());
      const result = JSON.parse(again.stdout) as { sealedUpTo: string; cut?: { from: string; to: string } };

      expect(again.code).toBe(1);
      expect(result.cut).toEqual({ from: cutFrom, to: sealedUpTo });
      expect(again.stderr).toContain(
        `the audit digests from ${cutFrom} to ${sealedUpTo} were deleted after they were sealed`,
      );
      expect(
        (await digests()).filter((d) => d.intervalStart >= cutFrom && d.intervalStart < sealedUpTo),
      ).toEqual([]);

      const r = await vend(['audit', 'verify', '--until', result.sealedUpTo], operatorEnv());

      expect(r.code).toBe(1);
      expect(missingNamed(r.stdout)).toEqual(cutDigests);
      expect(r.stdout).toMatch(
        new RegExp(`^broken_link\\s+digest ${sealedUpTo.replace(/\./g, '\\.')}\\s`, 'm'),
      );
      sealedUpTo = result.sealedUpTo;
    },
    SLOW,
  );

  it(
    'the newest digests deleted without their records: missing intervals, and their records unsealed',
    async () => {
      const since = sealedUpTo;
      await vendAsCi();
      const upTo = await sealAll();
      const theirRecords = (await records()).filter((r) => String(r.time) >= since);
      expect(theirRecords.length).toBe(2);
      const doomed = (await digests()).filter((d) => d.intervalStart >= since);
      for (const d of doomed) await remove(auditTable(), d);
      // Wait until every deleted interval is due (one interval after it closed), so the
      // expectation comes from the clock alone, not from the sealer's head.
      await sleep(2100);

      const r = await vend(
        ['audit', 'verify', '--since', since, '--until', upTo],
        operatorEnv({ VEND_AUDIT_SEALS_TABLE: '' }),
      );

      expect(r.code).toBe(1);
      expect(missingNamed(r.stdout)).toEqual(doomed.map((d) => d.intervalStart));
      const unsealed = [...r.stdout.matchAll(/^unsealed\s+record (\S+)\s/gm)].map((m) => m[1]).sort();
      expect(unsealed).toEqual(theirRecords.map((x) => String(x.id)).sort());
    },
    SLOW,
  );

  it(
    'everything deleted, the sealer head too, never verifies: digests are due from the trail start',
    async () => {
      for (const i of await items()) await remove(auditTable(), i);
      for (const i of await scanTable(dynamo, sealsTable())) await remove(sealsTable(), i);
      expect(await items()).toEqual([]);

      const r = await vend(['audit', 'verify'], operatorEnv());

      expect(r.code).toBe(1);
      const start = intervalFloor(new Date(stack.env.VEND_AUDIT_TRAIL_START ?? ''), 1).toISOString();
      expect(missingNamed(r.stdout)[0]).toBe(start);
      expect(r.stdout).toContain(`the trail is not sealed at all (no digest) (due through `);
      expect(r.stdout).toContain(`; it starts at ${start})`);

      // Without the configured start and without the head, verify refuses to answer (exit 2).
      const blind = await vend(['audit', 'verify'], operatorEnv({ VEND_AUDIT_TRAIL_START: '' }));
      expect(blind.code).toBe(2);
      expect(blind.stdout).toBe('');
      expect(blind.stderr).toMatch(
        /^vend: where the audit trail starts is unknown: set VEND_AUDIT_TRAIL_START/,
      );
    },
    SLOW,
  );
});

describe('every interval is sealed', () => {
  it(
    'an idle hour still gets its (empty) digest, and a sealer that was down catches up on every hour it missed',
    async () => {
      // Tables of their own (serverless.yml's definitions), hourly intervals, a trail that started
      // three hours ago with one vend in its first hour and nothing since.
      const suffix = Date.now().toString(36);
      const table = `vend-idle-audit-${suffix}`;
      const seals = `vend-idle-seals-${suffix}`;
      await dynamo.send(new CreateTableCommand(createTableInput('audit', table)));
      await dynamo.send(
        new CreateTableCommand({
          TableName: seals,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      );
      const start = new Date(intervalFloor(new Date(), 3600).getTime() - 3 * 3600_000);
      await new DynamoAuditStore(DynamoDBDocumentClient.from(dynamo), table).append(
        intentRecord({
          id: '01IDLEHOURINTENT0000000000',
          time: new Date(start.getTime() + 600_000),
          auditId: '01IDLEHOURAUDIT00000000000',
          request: { requestId: 'req-idle' },
          caller: {
            kind: 'service',
            roleArn: CI_ROLE,
            account: '111122223333',
            principalArn: 'arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci',
            userId: 'AROAEXAMPLE:ci',
            accessKeyId: 'ASIACIEXAMPLE0000000',
          },
          entitlement: 'prod-readonly',
          roleArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
          durationSeconds: 900,
          sessionName: 'vend-CICDDeployRole-01IDLEHOURAUDIT',
          sourceIdentity: 'CICDDeployRole@111122223333',
        }),
      );
      const env = operatorEnv({
        VEND_AUDIT_TABLE: table,
        VEND_AUDIT_SEALS_TABLE: seals,
        VEND_AUDIT_TRAIL_START: start.toISOString(),
        VEND_AUDIT_SEAL_INTERVAL_SECONDS: '3600',
        VEND_AUDIT_SEAL_GRACE_SECONDS: '60',
      });

      const sealed = await vend(['audit', 'seal', '--json'], env);
      const verify = await vend(['audit', 'verify', '--since', start.toISOString()], env);

      expect(sealed.code).toBe(0);
      const result = JSON.parse(sealed.stdout) as {
        sealed: { intervalStart: string; recordCount: number }[];
      };
      const hour = (n: number) => new Date(start.getTime() + n * 3600_000).toISOString();
      // Two or three closed hours, depending on whether this hour's grace minute has passed.
      expect(result.sealed.length).toBeGreaterThanOrEqual(2);
      expect(result.sealed.map((s) => [s.intervalStart, s.recordCount])).toEqual(
        result.sealed.map((_, n) => [hour(n), n === 0 ? 1 : 0]),
      );
      expect(verify.stderr).toBe('');
      expect(verify.code).toBe(0);
      expect(verify.stdout).toMatch(/no findings/);
    },
    SLOW,
  );
});
