/**
 * Entitlements as code and lint-trust against the running local stack, through the real CLI (a
 * child process, as an operator runs it): sync's dry run prints the diff and changes nothing; an
 * apply with a pending deletion is refused whole; `--apply --prune` applies and writes one audit
 * record per change; lint-trust reads the local IAM and finds no path around the broker.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGION } from '../../infra/local/stack';
import { DynamoEntitlementStore } from '../../lib/dynamodb/entitlement-store';
import { INDEX, keys } from '../../lib/dynamodb/keys';
import { withStack } from '../support/stack';
import { REPO, vend } from './cli/harness';

const stack = withStack();
const NEW_EXTERNAL_ID = 'e2e-new-external-id-4242';
let dir: string;
let file: string;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vend-infra-e2e-'));
  file = join(dir, 'entitlements.yaml');
  // The demo file with three edits: prod-readonly shortened, prod-new added (ExternalId from the
  // environment), staging-deploy removed.
  const demo = await readFile(join(REPO, 'infra/local/entitlements.yaml'), 'utf8');
  const [head, rest] = demo.split('  - id: staging-deploy');
  const afterStaging = rest!.slice(rest!.indexOf('  - id: prod-admin'));
  const edited = `${head!.replace(/(id: prod-readonly[\s\S]*?maxDurationSeconds: )3600\n(\s+defaultDurationSeconds: )3600/, '$11800\n$21800')}${afterStaging}
  - id: prod-new
    roleArn: arn:aws:iam::444455556666:role/ProdReadOnly
    externalId: { env: VEND_E2E_NEW_EXTERNAL_ID }
    principals:
      groups: [sre]
`;
  await writeFile(file, edited);
  const broker = stack.credentials('vend-broker');
  documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: REGION,
      endpoint: stack.awsUrl,
      credentials: {
        accessKeyId: broker.accessKeyId,
        secretAccessKey: broker.secretAccessKey,
        sessionToken: broker.sessionToken,
      },
    }),
  );
});

afterAll(async () => {
  documents?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const table = () => new DynamoEntitlementStore(documents, 'vend-dev-entitlements');
const sync = (...args: string[]) =>
  vend(['entitlements', 'sync', file, '--aws-profile', 'vend-broker', ...args], {
    ...stack.env,
    VEND_E2E_NEW_EXTERNAL_ID: NEW_EXTERNAL_ID,
  });

describe('vend entitlements sync against the local stack', () => {
  it('dry run: prints the diff, hides the ExternalId, changes nothing', async () => {
    const before = await table().list();
    const { code, stdout, stderr } = await sync();
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('+ prod-new');
    expect(stdout).toMatch(/~ prod-readonly\n\s+maxDurationSeconds: 3600 → 1800/);
    expect(stdout).toMatch(/- staging-deploy .*\[kept: deleting needs --prune\]/);
    expect(stdout).toContain('1 to create, 1 to update, 1 to delete');
    expect(`${stdout}${stderr}`).not.toContain(NEW_EXTERNAL_ID);
    expect(stderr).toMatch(/dry run: nothing changed/);
    expect(await table().list()).toEqual(before);
  });

  it('refuses an apply with a pending deletion, applying nothing', async () => {
    const before = await table().list();
    const { code, stderr } = await sync('--apply');
    expect(code).toBe(1);
    expect(stderr).toMatch(/not in the file \(staging-deploy\); nothing was applied.*--prune/);
    expect(await table().list()).toEqual(before);
  });

  it('applies with --apply --prune and writes one audit record per change', async () => {
    const { code, stderr } = await sync('--apply', '--prune');
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/applied 3 change\(s\) to vend-dev-entitlements/);
    const now = await table().list();
    expect(now.map((e) => e.id)).not.toContain('staging-deploy');
    expect(now.find((e) => e.id === 'prod-new')?.externalId).toBe(NEW_EXTERNAL_ID);
    expect(now.find((e) => e.id === 'prod-readonly')?.maxDurationSeconds).toBe(1800);

    const records = [];
    for (const id of ['prod-new', 'prod-readonly', 'staging-deploy']) {
      const out = await documents.send(
        new QueryCommand({
          TableName: 'vend-dev-audit',
          IndexName: INDEX.gsi2,
          KeyConditionExpression: 'gsi2pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.auditEntitlement(id) },
        }),
      );
      records.push(...(out.Items ?? []));
    }
    expect(records.map((r) => [r.entitlement, r.decision]).sort()).toEqual([
      ['prod-new', 'entitlement-created'],
      ['prod-readonly', 'entitlement-updated'],
      ['staging-deploy', 'entitlement-deleted'],
    ]);
    expect(new Set(records.map((r) => r.caller?.id))).toEqual(
      new Set(['arn:aws:iam::222233334444:role/vend-broker']),
    );
    expect(JSON.stringify(records)).not.toContain(NEW_EXTERNAL_ID);

    const again = await sync();
    expect(again.stdout).toBe('no changes: the table matches the file\n');
  });
});

describe('vend lint-trust against the local IAM', () => {
  it('finds no path around the broker in the demo world (exit 0, JSON)', async () => {
    const { code, stdout, stderr } = await vend(
      ['lint-trust', '--endpoint', stack.awsUrl, '--json'],
      stack.env,
    );
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as { ok: boolean; roles: unknown[]; findings: unknown[] };
    expect(report.ok).toBe(true);
    expect(report.roles).toHaveLength(7); // five target roles and the two accounts' vend-revoker roles
    expect(report.findings).toEqual([]);
  });
});
