import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditStore } from '../../../lib/audit/dynamo-audit-store';
import {
  type AuditRecord,
  deniedRecord,
  intentRecord,
  issuedRecord,
  type VendFacts,
} from '../../../lib/domain/audit';
import { AuditSecretLeakError, AuditUnavailableError, ConflictError } from '../../../lib/domain/errors';
import type { Caller } from '../../../lib/domain/types';
import { INDEX, keys } from '../../../lib/dynamodb/keys';
import { toProblem } from '../../../lib/http/problem';
import { createLog, type LogTarget } from '../../../lib/log';
import { type LocalDynamo, startDynalite } from './harness';

const ci: Caller = {
  kind: 'service',
  roleArn: 'arn:aws:iam::111122223333:role/CICDDeployRole',
  account: '111122223333',
  principalArn: 'arn:aws:sts::111122223333:assumed-role/CICDDeployRole/ci',
  userId: 'AROAEXAMPLECICD00001:ci',
  accessKeyId: 'ASIAEXAMPLECALLER001',
};

const alice: Caller = {
  kind: 'person',
  issuer: 'http://127.0.0.1:4566/oidc',
  subject: 'alice',
  email: 'alice@example.com',
  groups: ['sre'],
};

function facts(caller: Caller, entitlement: string): VendFacts {
  return {
    caller,
    entitlement,
    roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
    durationSeconds: 900,
    sessionName: 'vend-test-session',
    sourceIdentity: 'CICDDeployRole',
  };
}

function baseKey(record: AuditRecord): { pk: string; sk: string } {
  const { pk, sk } = keys.audit(record);
  return { pk, sk };
}

function at(iso: string): Date {
  return new Date(iso);
}

function recorder() {
  const lines: { message: string; fields: Record<string, unknown> }[] = [];
  const push = (message: string, fields: Record<string, unknown>) => lines.push({ message, fields });
  return { lines, log: createLog({ info: push, warn: push, error: push } as unknown as LogTarget) };
}

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.close();
});

async function seeded(): Promise<{ table: string; records: AuditRecord[] }> {
  const table = await dynamo.createTable('audit');
  const store = new DynamoAuditStore(dynamo.documents, table);
  const records = [
    intentRecord({
      id: 'r1',
      time: at('2026-11-28T23:59:59.000Z'),
      auditId: 'a1',
      ...facts(ci, 'prod-s3-read'),
    }),
    issuedRecord({
      id: 'r2',
      time: at('2026-11-29T00:00:01.000Z'),
      auditId: 'a1',
      ...facts(ci, 'prod-s3-read'),
      accessKeyId: 'ASIAEXAMPLEISSUED001',
      expiration: '2026-11-29T00:15:01Z',
    }),
    deniedRecord({
      id: 'r3',
      time: at('2026-11-29T09:00:00.000Z'),
      auditId: 'a2',
      caller: alice,
      entitlement: 'prod-admin',
      reasonCode: 'approval_required',
    }),
    intentRecord({
      id: 'r4',
      time: at('2026-11-29T10:00:00.000Z'),
      auditId: 'a3',
      ...facts(alice, 'prod-s3-read'),
    }),
  ];
  for (const r of records) await store.append(r);
  return { table, records };
}

describe('DynamoAuditStore: append and the queries its keys serve', () => {
  it('stores the record as given, next to its keys', async () => {
    const { table, records } = await seeded();
    const r2 = records[1] as AuditRecord;

    const got = await dynamo.documents.send(new GetCommand({ TableName: table, Key: baseKey(r2) }));

    expect(got.Item).toEqual({ ...r2, ...keys.audit(r2) });
  });

  it('reads one UTC day newest first without a scan', async () => {
    const { table } = await seeded();

    const out = await dynamo.documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :day',
        ExpressionAttributeValues: { ':day': keys.auditDay('2026-11-29') },
        ScanIndexForward: false,
      }),
    );

    expect(out.Items?.map((i) => i.id)).toEqual(['r4', 'r3', 'r2']);
  });

  it('reads a time range inside a day', async () => {
    const { table } = await seeded();

    const out = await dynamo.documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :day AND sk BETWEEN :since AND :until',
        ExpressionAttributeValues: {
          ':day': keys.auditDay('2026-11-29'),
          ':since': keys.timeBound('2026-11-29T00:00:01.000Z'),
          ':until': keys.timeBound('2026-11-29T09:00:00.000Z', true),
        },
        ScanIndexForward: false,
      }),
    );

    expect(out.Items?.map((i) => i.id)).toEqual(['r3', 'r2']);
  });

  it('reads one caller newest first across days (gsi1)', async () => {
    const { table } = await seeded();

    const out = await dynamo.documents.send(
      new QueryCommand({
        TableName: table,
        IndexName: INDEX.gsi1,
        KeyConditionExpression: 'gsi1pk = :caller',
        ExpressionAttributeValues: { ':caller': keys.auditCaller(ci.kind === 'service' ? ci.roleArn : '') },
        ScanIndexForward: false,
      }),
    );

    expect(out.Items?.map((i) => i.id)).toEqual(['r2', 'r1']);
  });

  it('reads one entitlement newest first across callers (gsi2)', async () => {
    const { table } = await seeded();

    const out = await dynamo.documents.send(
      new QueryCommand({
        TableName: table,
        IndexName: INDEX.gsi2,
        KeyConditionExpression: 'gsi2pk = :ent',
        ExpressionAttributeValues: { ':ent': keys.auditEntitlement('prod-s3-read') },
        ScanIndexForward: false,
      }),
    );

    expect(out.Items?.map((i) => i.id)).toEqual(['r4', 'r2', 'r1']);
  });
});

describe('DynamoAuditStore: append-only', () => {
  it('refuses a second append with the same id as a conflict and keeps the first', async () => {
    const table = await dynamo.createTable('audit');
    const store = new DynamoAuditStore(dynamo.documents, table);
    const first = intentRecord({
      id: 'r1',
      time: at('2026-11-29T10:00:00.000Z'),
      auditId: 'a1',
      ...facts(ci, 'prod-s3-read'),
    });
    await store.append(first);
    const rewrite = { ...first, decision: 'issued' as const, accessKeyId: 'ASIAEXAMPLEREWRITE01' };

    const e = await store.append(rewrite).catch((err: unknown) => err);

    expect(e).toBeInstanceOf(ConflictError);
    expect(toProblem(e, 'r')).toMatchObject({ status: 409, code: 'conflict' });
    const got = await dynamo.documents.send(new GetCommand({ TableName: table, Key: baseKey(first) }));
    expect(got.Item?.decision).toBe('intent');
    expect(got.Item?.accessKeyId).toBeUndefined();
  });

  it('refuses a record holding a secret-looking value and writes nothing', async () => {
    const table = await dynamo.createTable('audit');
    const store = new DynamoAuditStore(dynamo.documents, table);
    const leaky = {
      ...intentRecord({
        id: 'r1',
        time: at('2026-11-29T10:00:00.000Z'),
        auditId: 'a1',
        ...facts(ci, 'prod-s3-read'),
      }),
      userAgent: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    };

    await expect(store.append(leaky)).rejects.toBeInstanceOf(AuditSecretLeakError);
    const got = await dynamo.documents.send(new GetCommand({ TableName: table, Key: baseKey(leaky) }));
    expect(got.Item).toBeUndefined();
  });
});

describe('DynamoAuditStore: outage', () => {
  it('answers 503 audit_unavailable when DynamoDB is unreachable', async () => {
    const own = await startDynalite();
    const table = await own.createTable('audit');
    const store = new DynamoAuditStore(own.documents, table, { log: recorder().log });
    await own.close();

    const e = await store
      .append(
        intentRecord({
          id: 'r1',
          time: at('2026-11-29T10:00:00.000Z'),
          auditId: 'a1',
          ...facts(ci, 'prod-s3-read'),
        }),
      )
      .catch((err: unknown) => err);

    expect(e).toBeInstanceOf(AuditUnavailableError);
    expect(toProblem(e, 'r')).toMatchObject({ status: 503, code: 'audit_unavailable' });
  });

  it('logs the AccessKeyId (never a secret) when an issued record cannot be written', async () => {
    const own = await startDynalite();
    const table = await own.createTable('audit');
    const { lines, log } = recorder();
    const store = new DynamoAuditStore(own.documents, table, { log });
    await own.close();

    const e = await store
      .append(
        issuedRecord({
          id: 'r2',
          time: at('2026-11-29T10:00:01.000Z'),
          auditId: 'a1',
          ...facts(ci, 'prod-s3-read'),
          accessKeyId: 'ASIAEXAMPLEISSUED001',
        }),
      )
      .catch((err: unknown) => err);

    expect(e).toBeInstanceOf(AuditUnavailableError);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toMatchObject({
      auditId: 'a1',
      accessKeyId: 'ASIAEXAMPLEISSUED001',
      entitlement: 'prod-s3-read',
      callerId: 'arn:aws:iam::111122223333:role/CICDDeployRole',
    });
  });
});
