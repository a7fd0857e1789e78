/**
 * `vend audit` against the local stack, run as a user runs it (`node bin/vend.js`, issue 8):
 * an auditor lists this run's vends and denials with each filter and a non-auditor is refused;
 * `vend audit seal` then `vend audit verify` pass; a record deleted directly in dynalite is named
 * by `verify` with exit 1; an intent left without its issued record is listed by `vend audit orphans`.
 *
 * The trail commands run with the stack's client environment and the `vend-broker` profile, and
 * with one-second seal intervals and no grace (VEND_AUDIT_SEAL_*), so the test waits for a closed
 * interval by running `vend audit seal` again rather than for the stack's one-minute interval.
 * With one-second intervals an interval is due a second after it closes, and no sealer runs in the
 * background here, so verify is bounded with `--until` at what was sealed (test/e2e/audit-tail.test.ts
 * is where unsealed intervals are the point).
 */
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGION } from '../../../infra/local/stack';
import { DynamoAuditStore } from '../../../lib/audit/dynamo-audit-store';
import { intentRecord } from '../../../lib/domain/audit';
import { withStack } from '../../support/stack';
import { run as runCommand, VEND, vend } from './harness';

const stack = withStack();
const CI_ROLE = 'arn:aws:iam::111122223333:role/CICDDeployRole';
const SLOW = 180_000;

let dynamo: DynamoDBClient;
beforeAll(() => {
  const broker = stack.credentials('vend-broker');
  dynamo = new DynamoDBClient({ region: REGION, endpoint: stack.awsUrl, credentials: broker });
});
afterAll(() => {
  dynamo?.destroy();
});

const table = (): string => stack.env.VEND_AUDIT_TABLE ?? 'VEND_AUDIT_TABLE missing from the stack env';

/** A person running vend with a token from the local issuer. */
async function personEnv(user: string): Promise<Record<string, string>> {
  return {
    ...stack.env,
    VEND_TOKEN: await stack.token(user),
    VEND_CONFIG_DIR: `${stack.stack.dataDir}/cli-${user}`,
  };
}

/** An operator with table access: the broker's profile, one-second intervals, no grace. */
function operatorEnv(): Record<string, string> {
  return {
    ...stack.env,
    AWS_PROFILE: 'vend-broker',
    VEND_AUDIT_SEAL_INTERVAL_SECONDS: '1',
    VEND_AUDIT_SEAL_GRACE_SECONDS: '0',
  };
}

/**
 * `vend audit seal`: the first run seals every one-second interval since the trail started (a
 * hundred or so, a KMS signature and two writes each), so it gets more time than other commands.
 */
const seal = (args: string[], env: Record<string, string>) =>
  runCommand([...VEND, 'audit', 'seal', ...args], env, { timeoutMs: 150_000 });

async function tableItems(): Promise<Record<string, unknown>[]> {
  const out = await dynamo.send(new ScanCommand({ TableName: table() }));
  return (out.Items ?? []).map((i) => unmarshall(i));
}

interface Listed {
  id: string;
  time: string;
  decision: string;
  auditId: string;
  requestId?: string;
  entitlement?: string;
  caller?: { id: string; label: string };
}

const run: {
  start: string;
  orphan?: ReturnType<typeof intentRecord>;
  ci?: { auditId: string };
  alice?: { auditId: string };
  malloryRequestId?: string;
} = { start: '' };

beforeAll(async () => {
  run.start = new Date().toISOString();
  // An intent whose issued write never happened, two minutes old so that it is settled (orphans
  // leaves out intents younger than a minute, which may still be in flight).
  const documents = DynamoDBDocumentClient.from(dynamo);
  run.orphan = intentRecord({
    id: '01ORPHANINTENT000000000000',
    time: new Date(Date.now() - 120_000),
    auditId: '01ORPHANAUDIT0000000000000',
    request: { requestId: 'req-orphan-e2e' },
    caller: {
      kind: 'service',
      roleArn: CI_ROLE,
      account: '111122223333',
      principalArn: 'arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci',
      userId: 'AROAEXAMPLE:ci',
      accessKeyId: 'ASIACIEXAMPLE0000000',
    },
    entitlement: 'prod-s3-read',
    roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
    durationSeconds: 900,
    sessionName: 'vend-CICDDeployRole-01ORPHANAUDIT',
    sourceIdentity: 'CICDDeployRole@111122223333',
  });
  await new DynamoAuditStore(documents, table()).append(run.orphan);

  const ci = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
    entitlement: 'prod-readonly',
  });
  expect(ci.status).toBe(200);
  run.ci = (await ci.json()) as { auditId: string };
  const alice = await fetch(`${stack.apiUrl}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.token('alice')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ entitlement: 'prod-readonly' }),
  });
  expect(alice.status).toBe(200);
  run.alice = (await alice.json()) as { auditId: string };
  const mallory = await fetch(`${stack.apiUrl}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.token('mallory')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ entitlement: 'prod-readonly' }),
  });
  expect(mallory.status).toBe(403);
  run.malloryRequestId = mallory.headers.get('x-request-id') ?? '';
}, SLOW);

describe('vend audit (the listing, GET /v1/audit)', () => {
  it(
    'erin (auditors) lists the vends and the denial of this run, and each filter narrows it',
    async () => {
      const env = await personEnv('erin');
      const list = async (...filters: string[]): Promise<Listed[]> => {
        const r = await vend(['audit', '--since', run.start, ...filters, '--json'], env);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        return JSON.parse(r.stdout) as Listed[];
      };

      const all = await list();
      const byCaller = await list('--caller', CI_ROLE);
      const byEntitlement = await list('--entitlement', 'prod-readonly', '--decision', 'issued');
      const denied = await list('--decision', 'denied');
      const byRequest = await list('--request-id', run.malloryRequestId ?? '');

      const decisions = (auditId?: string) =>
        all
          .filter((r) => r.auditId === auditId)
          .map((r) => r.decision)
          .sort();
      expect(decisions(run.ci?.auditId)).toEqual(['intent', 'issued']);
      expect(decisions(run.alice?.auditId)).toEqual(['intent', 'issued']);
      expect(all.filter((r) => r.decision === 'denied')).toHaveLength(1);
      expect(all.map((r) => r.id)).not.toContain(run.orphan?.id);
      expect(byCaller.map((r) => [r.caller?.id, r.decision]).sort()).toEqual([
        [CI_ROLE, 'intent'],
        [CI_ROLE, 'issued'],
      ]);
      expect(byEntitlement.map((r) => r.auditId).sort()).toEqual(
        [run.ci?.auditId, run.alice?.auditId].sort(),
      );
      expect(denied.map((r) => r.caller?.label)).toEqual(['mallory@example.com']);
      expect(byRequest.map((r) => [r.decision, r.requestId])).toEqual([['denied', run.malloryRequestId]]);
    },
    SLOW,
  );

  it(
    'prints a table by default',
    async () => {
      const r = await vend(['audit', '--since', run.start, '--decision', 'denied'], await personEnv('erin'));

      expect(r.code).toBe(0);
      const [header, row, more] = r.stdout.split('\n');
      expect(header).toMatch(/^TIME\s+DECISION\s+CALLER\s+ENTITLEMENT\s+DETAIL\s+AUDIT ID$/);
      expect(row).toMatch(
        /^\d{4}-\d\d-\d\dT\S+Z\s+denied\s+mallory@example.com\s+prod-readonly\s+not_entitled\s+\S+$/,
      );
      expect(more).toBe('');
    },
    SLOW,
  );

  it(
    'alice (not an auditor) gets a one-line refusal and exit 1',
    async () => {
      const r = await vend(['audit', '--since', run.start], await personEnv('alice'));

      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^vend: not entitled: [^\n]+\n$/);
    },
    SLOW,
  );
});

describe('vend audit seal, verify and orphans (operators, over the table)', () => {
  let sealedRecords = 0;
  let sealedUpTo = '';

  it(
    'seal seals the run, then verify (and --verify) pass with exit 0',
    async () => {
      const env = operatorEnv();
      const newest = (await tableItems())
        .filter((i) => String(i.pk).startsWith('AUDIT#'))
        .map((i) => String(i.time))
        .sort()
        .at(-1);
      expect(newest).toBeDefined();

      // The interval holding the newest record closes within a second; each run seals what has.
      const first = await seal([], env);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(
        /^sealed \d+ intervals? \(\d+ records?\); the trail is sealed up to \S+Z\n$/,
      );
      sealedRecords = Number(/\((\d+) records?\)/.exec(first.stdout)?.[1]);
      let upTo = /sealed up to (\S+)\n/.exec(first.stdout)?.[1] ?? '';
      for (let i = 0; i < 10 && upTo <= (newest ?? ''); i++) {
        const again = await seal(['--json'], env);
        expect(again.code).toBe(0);
        const result = JSON.parse(again.stdout) as { sealed: { recordCount: number }[]; sealedUpTo: string };
        sealedRecords += result.sealed.reduce((n, s) => n + s.recordCount, 0);
        upTo = result.sealedUpTo;
      }
      expect(upTo > (newest ?? '')).toBe(true);
      // The orphaned intent, two vends × (intent, issued), one denial.
      expect(sealedRecords).toBe(6);

      sealedUpTo = upTo;
      const verify = await vend(['audit', 'verify', '--until', upTo], env);
      const alias = await vend(['audit', '--verify', '--until', upTo, '--json'], env);

      expect(verify.stderr).toBe('');
      expect(verify.code).toBe(0);
      expect(verify.stdout).toMatch(
        /^audit trail verified from \S+ to \S+: \d+ digests, 6 sealed records, no findings/,
      );
      expect(alias.code).toBe(0);
      expect(JSON.parse(alias.stdout)).toMatchObject({ ok: true, records: 6, findings: [] });
    },
    SLOW,
  );

  it(
    'orphans lists the intent left without an issued record, with what CloudTrail needs',
    async () => {
      const r = await vend(['audit', 'orphans', '--since', '10m'], operatorEnv());
      const json = await vend(['audit', 'orphans', '--since', '10m', '--json'], operatorEnv());

      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(`^intent ${run.orphan?.id} at ${run.orphan?.time} \\(audit id ${run.orphan?.auditId}\\)`),
      );
      expect(r.stdout).toMatch(/session name:\s+vend-CICDDeployRole-01ORPHANAUDIT\n/);
      expect(r.stdout).toMatch(/role ARN:\s+arn:aws:iam::444455556666:role\/S3ReadAll\n/);
      expect(r.stdout).toMatch(/\n {2}caller id: +arn:aws:iam::111122223333:role\/CICDDeployRole\n/);
      expect(r.stdout).toMatch(/AccessKeyId:\s+unknown \(not in the trail\): find it in CloudTrail\n/);
      expect(r.stdout).toMatch(
        /CloudTrail:\s+sts.amazonaws.com AssumeRole in account 444455556666, roleSessionName vend-CICDDeployRole-01ORPHANAUDIT, /,
      );
      expect(r.stderr).toMatch(/^1 orphaned intent from /);
      expect((JSON.parse(json.stdout) as { auditId: string }[]).map((o) => o.auditId)).toEqual([
        run.orphan?.auditId,
      ]);
    },
    SLOW,
  );

  it(
    'a record deleted directly in dynalite is named by verify, with exit 1',
    async () => {
      const denied = (await tableItems()).find(
        (i) => i.decision === 'denied' && String(i.pk).startsWith('AUDIT#'),
      );
      expect(denied).toBeDefined();
      await dynamo.send(
        new DeleteItemCommand({
          TableName: table(),
          Key: { pk: { S: String(denied?.pk) }, sk: { S: String(denied?.sk) } },
        }),
      );

      const r = await vend(['audit', 'verify', '--until', sealedUpTo], operatorEnv());

      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        new RegExp(
          `\\ndeleted\\s+record ${denied?.id}\\s+\\S+\\s+sealed in the digest of \\S+, no longer stored\\n`,
        ),
      );
      expect(r.stdout).toMatch(/\naudit trail verification FAILED from \S+ to \S+: 1 finding \(1 deleted\)/);
    },
    SLOW,
  );
});
