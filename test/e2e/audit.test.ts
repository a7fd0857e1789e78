/**
 * The audit trail end to end against the local stack (issue 8): auditors read it through the real
 * gateway and JWT authorizer with every filter; sealing and verification run over the stack's
 * dynalite with its local signing key; tampering done directly in dynalite is reported by id; a
 * vend whose `issued` write fails is listed as an orphan; nothing secret is in a record or digest.
 *
 * Faults are injected with SDK middleware on vend's own DynamoDB client (lib/wiring/clients.ts), as in
 * vend-path.test.ts. Sealing uses 0.1-second intervals so the test never waits for an hour to close.
 */
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditDigest } from '../../lib/domain/audit-chain';
import { keys } from '../../lib/dynamodb/keys';
import { listOrphans, sealAuditTrail, verifyAuditTrail } from '../../lib/usecases/audit-trail';
import { scanTable } from '../support/audit-table';
import { leakCanary } from '../support/leak-canary';
import { withStack } from '../support/stack';

const stack = withStack();
const AUDIT_TABLE = 'vend-dev-audit';
const CI_ROLE = 'arn:aws:iam::111122223333:role/CICDDeployRole';
const EXTERNAL_IDS = [
  'prod-readonly-ext-7f3a',
  'prod-deploy-external-id-abc123',
  'prod-s3-ext-19c2',
  'prod-breakglass-ext-5d8e',
  'staging-deploy-ext-2b71',
];

let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
let raw: DynamoDBDocumentClient;

async function tableItems(): Promise<Record<string, unknown>[]> {
  return scanTable(dynamodb, AUDIT_TABLE);
}

const canary = leakCanary({
  lateTexts: async () => ({ 'audit table with digests': JSON.stringify(await tableItems()) }),
});
for (const id of EXTERNAL_IDS) canary.secret(id);

beforeAll(async () => {
  ({ dynamodb } = await import('../../lib/wiring/clients'));
  raw = DynamoDBDocumentClient.from(dynamodb);
});
afterEach(() => {
  dynamodb.middlewareStack.remove('failDynamo');
});

interface AuditItem {
  id: string;
  time: string;
  decision: string;
  auditId: string;
  entitlement?: string;
  requestId?: string;
  reasonCode?: string;
  caller?: { id: string; label: string };
}

async function readAudit(user: string, params: Record<string, string>) {
  const url = new URL('/v1/audit', stack.apiUrl);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url, { headers: { authorization: `Bearer ${await stack.token(user)}` } });
  const text = await res.text();
  canary.text(`GET /v1/audit ${url.search}`, text);
  return {
    res,
    body: JSON.parse(text) as {
      records?: AuditItem[];
      cursor?: string;
      code?: string;
      sealedThrough?: string | null;
    },
  };
}

/** Every page of a query, following the cursor. */
async function readAll(params: Record<string, string>): Promise<AuditItem[]> {
  const all: AuditItem[] = [];
  let cursor: string | undefined;
  do {
    const { res, body } = await readAudit('erin', { ...params, ...(cursor ? { cursor } : {}) });
    expect(res.status).toBe(200);
    all.push(...(body.records ?? []));
    cursor = body.cursor;
  } while (cursor);
  return all;
}

async function vend(as: 'ci' | string, entitlement: string) {
  const res =
    as === 'ci'
      ? await stack.signedFetch('ci', 'POST', '/v1/service/credentials', { entitlement })
      : await fetch(`${stack.apiUrl}/v1/credentials`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await stack.token(as)}`, 'content-type': 'application/json' },
          body: JSON.stringify({ entitlement }),
        });
  const body = (await res.json()) as {
    auditId?: string;
    credentials?: { SecretAccessKey: string; SessionToken: string };
  };
  canary.secret(body.credentials?.SecretAccessKey);
  canary.secret(body.credentials?.SessionToken);
  return { status: res.status, auditId: body.auditId, requestId: res.headers.get('x-request-id') ?? '' };
}

const run: {
  start: string;
  ci?: Awaited<ReturnType<typeof vend>>;
  alice?: Awaited<ReturnType<typeof vend>>;
  mallory?: Awaited<ReturnType<typeof vend>>;
  ciDenied?: Awaited<ReturnType<typeof vend>>;
  orphanRequestId?: string;
} = { start: '' };

describe('an auditor reads the trail of this run', () => {
  beforeAll(async () => {
    run.start = new Date().toISOString();
    run.ci = await vend('ci', 'prod-readonly');
    run.alice = await vend('alice', 'prod-readonly');
    run.mallory = await vend('mallory', 'prod-readonly');
    run.ciDenied = await vend('ci', 'prod-admin');
  });

  it('lists the vends (intent and issued) and the denials, newest first', async () => {
    expect([run.ci?.status, run.alice?.status, run.mallory?.status, run.ciDenied?.status]).toEqual([
      200, 200, 403, 403,
    ]);

    const records = await readAll({ since: run.start });

    const byAudit = (auditId?: string) =>
      records
        .filter((r) => r.auditId === auditId)
        .map((r) => r.decision)
        .sort();
    expect(byAudit(run.ci?.auditId)).toEqual(['intent', 'issued']);
    expect(byAudit(run.alice?.auditId)).toEqual(['intent', 'issued']);
    const denials = records.filter((r) => r.decision === 'denied');
    expect(denials.map((r) => r.requestId).sort()).toEqual(
      [run.mallory?.requestId, run.ciDenied?.requestId].sort(),
    );
    const times = records.map((r) => `${r.time}#${r.id}`);
    expect(times).toEqual([...times].sort().reverse());
  });

  it('filters by caller (gsi1)', async () => {
    const records = await readAll({ since: run.start, caller: CI_ROLE });
    expect(records.length).toBe(3);
    expect(new Set(records.map((r) => r.caller?.id))).toEqual(new Set([CI_ROLE]));
  });

  it('filters by entitlement (gsi2), and by caller and entitlement together', async () => {
    const readonly = await readAll({ since: run.start, entitlement: 'prod-readonly' });
    expect(readonly.map((r) => r.decision).sort()).toEqual([
      'denied',
      'intent',
      'intent',
      'issued',
      'issued',
    ]);
    const ciAdmin = await readAll({ since: run.start, caller: CI_ROLE, entitlement: 'prod-admin' });
    expect(ciAdmin.map((r) => [r.decision, r.reasonCode])).toEqual([['denied', 'not_entitled']]);
  });

  it('filters by decision and by request id', async () => {
    const denied = await readAll({ since: run.start, decision: 'denied' });
    expect(denied).toHaveLength(2);
    const one = await readAll({ since: run.start, requestId: run.mallory?.requestId ?? '' });
    expect(one.map((r) => [r.decision, r.caller?.label])).toEqual([['denied', 'mallory@example.com']]);
  });

  it('filters by time: nothing until the run started', async () => {
    const before = await readAll({
      since: '2026-01-01T00:00:00Z',
      until: run.start,
      entitlement: 'prod-readonly',
    });
    expect(before).toEqual([]);
  });

  it('pages with an opaque cursor: one record a page gives the same list', async () => {
    const whole = await readAll({ since: run.start });
    const paged = await readAll({ since: run.start, limit: '1' });
    expect(paged.map((r) => r.id)).toEqual(whole.map((r) => r.id));
  });

  it('refuses a bad filter and an altered cursor with 400 invalid_request', async () => {
    const bad = await readAudit('erin', { since: 'last tuesday' });
    expect([bad.res.status, bad.body.code]).toEqual([400, 'invalid_request']);
    const first = await readAudit('erin', { since: run.start, limit: '1' });
    const cursor = first.body.cursor ?? '';
    const altered = await readAudit('erin', {
      cursor: cursor.slice(0, 20) + (cursor[20] === 'x' ? 'y' : 'x') + cursor.slice(21),
    });
    expect([altered.res.status, altered.body.code]).toEqual([400, 'invalid_request']);
  });

  it('a non-auditor gets 403 not_entitled', async () => {
    const { res, body } = await readAudit('alice', { since: run.start });
    expect(res.status).toBe(403);
    expect(body.code).toBe('not_entitled');
    expect(body.records).toBeUndefined();
  });
});

describe('reconciliation', () => {
  it('a vend whose issued write fails is listed as an orphan with what CloudTrail needs', async () => {
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        // The document client may hand over plain or marshalled attributes at this step.
        const decision = (args.input as { Item?: Record<string, unknown> }).Item?.decision;
        const value = typeof decision === 'string' ? decision : (decision as { S?: string } | undefined)?.S;
        if (context.commandName === 'PutItemCommand' && value === 'issued') {
          throw Object.assign(new Error('injected: service unavailable'), {
            name: 'InternalServerError',
            $fault: 'server',
            $metadata: { httpStatusCode: 500 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failDynamo' },
    );
    const failed = await vend('ci', 'prod-s3-read');
    dynamodb.middlewareStack.remove('failDynamo');
    expect(failed.status).toBe(503);
    run.orphanRequestId = failed.requestId;

    const orphans = await listOrphans(await stack.stack.auditTrail(), {
      since: new Date(run.start),
      settleSeconds: 0,
    });

    expect(orphans).toHaveLength(1);
    expect(orphans[0]).toMatchObject({
      requestId: failed.requestId,
      entitlement: 'prod-s3-read',
      roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
      caller: { id: CI_ROLE },
      sourceIdentity: 'CICDDeployRole@111122223333',
      cloudTrail: { eventName: 'AssumeRole', account: '444455556666' },
    });
    expect(orphans[0]?.sessionName).toMatch(/^vend-/);
    expect(orphans[0]?.cloudTrail.roleSessionName).toBe(orphans[0]?.sessionName);
  });
});

describe('sealing and verification', () => {
  const since = () => new Date(Date.parse(run.start) - 1000);
  const deps = async () => ({
    // Tenth-of-a-second intervals: a fast run still spans many digests, some of them empty.
    ...(await stack.stack.auditTrail({ intervalSeconds: 0.1, graceSeconds: 0 })),
    genesisLookbackDays: 2,
  });
  let sealedUpTo: Date;

  it('after sealing, verification passes; sealing again adds nothing', async () => {
    const d = await deps();
    // Every write of this file has completed, so the interval holding this instant may be sealed too.
    const first = await sealAuditTrail(d, { upTo: new Date(Date.now() + 1000) });
    expect(first.sealed.length).toBeGreaterThan(0);
    const stored = (await tableItems()).filter((i) => String(i.pk).startsWith('AUDIT#')).length;
    // 2 vends × (intent, issued), 2 denials, 1 orphaned intent.
    expect(stored).toBe(7);
    expect(first.sealed.reduce((n, s) => n + s.recordCount, 0)).toBe(stored);
    sealedUpTo = new Date(first.sealedUpTo ?? 0);

    const again = await sealAuditTrail(d, { upTo: sealedUpTo });
    expect(again.sealed).toEqual([]);

    const report = await verifyAuditTrail(d, { since: since(), until: sealedUpTo });
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.records).toBe(stored);
  });

  it('GET /v1/audit says up to when the trail is sealed (the end of the latest digest)', async () => {
    const { res, body } = await readAudit('erin', { since: run.start, limit: '1' });

    expect(res.status).toBe(200);
    expect(body.sealedThrough).toBe(sealedUpTo.toISOString());
  });

  it('reports an edited, a deleted and an inserted record, and a removed digest, each by id', async () => {
    const d = await deps();
    const items = (await tableItems())
      .filter((i) => String(i.pk).startsWith('AUDIT#'))
      .sort((a, b) => (String(a.sk) < String(b.sk) ? -1 : 1));
    const digests = (await tableItems())
      .filter((i) => i.pk === keys.auditDigestPartition())
      .map((i) => i as unknown as AuditDigest)
      .sort((a, b) => (a.intervalStart < b.intervalStart ? -1 : 1));
    const edited = items.find((i) => i.decision === 'issued')!;
    const deleted = items.find((i) => i.decision === 'denied')!;
    const neighbour = items.find((i) => i.decision === 'intent')!;
    // A digest whose interval holds none of the records above, with digests on both sides.
    const touched = new Set([edited, deleted, neighbour].map((i) => String(i.time)));
    // (The chain starts when the stack started, before this run: pick one inside the verified range.)
    const inRange = digests.filter((g) => g.intervalStart >= since().toISOString());
    const removed = inRange
      .slice(1, -1)
      .find((g) => ![...touched].some((t) => t >= g.intervalStart && t < g.intervalEnd))!;
    expect(removed).toBeDefined();
    const forged = {
      ...neighbour,
      id: '01FORGEDRECORD000000000000',
      decision: 'issued',
      accessKeyId: 'ASIAFORGED0000000000',
    };

    await raw.send(
      new UpdateCommand({
        TableName: AUDIT_TABLE,
        Key: { pk: edited.pk, sk: edited.sk },
        UpdateExpression: 'SET accessKeyId = :k',
        ExpressionAttributeValues: { ':k': 'ASIAEDITED0000000000' },
      }),
    );
    await raw.send(new DeleteCommand({ TableName: AUDIT_TABLE, Key: { pk: deleted.pk, sk: deleted.sk } }));
    await raw.send(
      new PutCommand({
        TableName: AUDIT_TABLE,
        Item: { ...forged, ...keys.audit(forged as never) },
      }),
    );
    await raw.send(
      new DeleteCommand({ TableName: AUDIT_TABLE, Key: keys.auditDigest(removed.intervalStart) }),
    );

    const report = await verifyAuditTrail(d, { since: since(), until: sealedUpTo });

    expect(report.ok).toBe(false);
    const named = report.findings.map((f) => [f.kind, 'recordId' in f ? f.recordId : f.interval]);
    expect(named).toContainEqual(['modified', edited.id]);
    expect(named).toContainEqual(['deleted', deleted.id]);
    expect(named).toContainEqual(['inserted', forged.id]);
    expect(named).toContainEqual(['missing_digest', removed.intervalStart]);
    expect(named).toContainEqual(['broken_link', removed.intervalEnd]);
  });

  it('no audit record or digest holds a SecretAccessKey, SessionToken or ExternalId', async () => {
    const items = await tableItems();
    expect(items.some((i) => i.pk === keys.auditDigestPartition())).toBe(true);
    const text = JSON.stringify(items);
    expect(text).not.toMatch(/SecretAccessKey|SessionToken|ExternalId/i);
    for (const id of EXTERNAL_IDS) expect(text).not.toContain(id);
    canary.text('audit table after the run', text);
    canary.check();
  });
});
