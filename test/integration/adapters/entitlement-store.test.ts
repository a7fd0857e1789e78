import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEntitlement } from '../../../lib/domain/entitlement';
import { EntitlementConfigError, UpstreamUnavailableError } from '../../../lib/domain/errors';
import type { Entitlement } from '../../../lib/domain/types';
import {
  DynamoEntitlementStore,
  EntitlementStoreUnavailableError,
} from '../../../lib/dynamodb/entitlement-store';
import { keys } from '../../../lib/dynamodb/keys';
import { toProblem } from '../../../lib/http/problem';
import { createLog, type LogTarget } from '../../../lib/log';
import { type LocalDynamo, startDynalite } from './harness';

const prodS3Read: Entitlement = parseEntitlement({
  id: 'prod-s3-read',
  roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
  externalId: 'prod-s3-ext-19c2',
  maxDurationSeconds: 3600,
  defaultDurationSeconds: 900,
  ceiling: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:ListBucket'],
        Resource: ['arn:aws:s3:::my-prod-data-bucket', 'arn:aws:s3:::my-prod-data-bucket/*'],
      },
    ],
  },
  principals: { roles: ['arn:aws:iam::111122223333:role/CICDDeployRole'], groups: ['sre'] },
});

const prodAdmin: Entitlement = parseEntitlement({
  id: 'prod-admin',
  roleArn: 'arn:aws:iam::444455556666:role/BreakGlassAdmin',
  externalId: 'prod-breakglass-ext-5d8e',
  principals: { roles: [], groups: [] },
  requesterGroups: ['sre', 'oncall'],
  approval: { approvals: 2, approverGroups: ['security-approvers'] },
  breakGlass: { groups: ['oncall'], maxDurationSeconds: 3600 },
});

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.close();
});

function recorder() {
  const lines: { message: string; fields: Record<string, unknown> }[] = [];
  const push = (message: string, fields: Record<string, unknown>) => lines.push({ message, fields });
  return { lines, log: createLog({ info: push, warn: push, error: push } as unknown as LogTarget) };
}

describe('DynamoEntitlementStore', () => {
  it('round-trips an entitlement, ceiling and gates included', async () => {
    const table = await dynamo.createTable('entitlements');
    const store = new DynamoEntitlementStore(dynamo.documents, table);

    await store.put(prodS3Read);
    await store.put(prodAdmin);

    expect(await store.get('prod-s3-read')).toEqual(prodS3Read);
    expect(await store.get('prod-admin')).toEqual(prodAdmin);
  });

  it('stores the ceiling as a JSON string under the entitlement key', async () => {
    const table = await dynamo.createTable('entitlements');
    const store = new DynamoEntitlementStore(dynamo.documents, table);

    await store.put(prodS3Read);

    const raw = await dynamo.documents.send(
      new GetCommand({ TableName: table, Key: keys.entitlement('prod-s3-read') }),
    );
    expect(typeof raw.Item?.ceiling).toBe('string');
    expect(JSON.parse(raw.Item?.ceiling as string)).toEqual(prodS3Read.ceiling);
  });

  it('answers undefined for an unknown id', async () => {
    const table = await dynamo.createTable('entitlements');
    const store = new DynamoEntitlementStore(dynamo.documents, table);

    expect(await store.get('no-such-thing')).toBeUndefined();
  });

  it('lists every entitlement sorted by id', async () => {
    const table = await dynamo.createTable('entitlements');
    const store = new DynamoEntitlementStore(dynamo.documents, table);
    await store.put(prodS3Read);
    await store.put(prodAdmin);

    const all = await store.list();

    expect(all.map((e) => e.id)).toEqual(['prod-admin', 'prod-s3-read']);
  });

  it('refuses to write an invalid definition', async () => {
    const table = await dynamo.createTable('entitlements');
    const store = new DynamoEntitlementStore(dynamo.documents, table);

    await expect(store.put({ ...prodS3Read, maxDurationSeconds: 7200 })).rejects.toBeInstanceOf(
      EntitlementConfigError,
    );
    expect(await store.get('prod-s3-read')).toBeUndefined();
  });
});

describe('DynamoEntitlementStore: a malformed record fails closed', () => {
  it.each([
    ['a duration over the chaining limit', { maxDurationSeconds: 43200 }],
    ['a ceiling that is not JSON', { ceiling: '{"Version": "2012-10-17", ' }],
    ['a role ARN that is not a role', { roleArn: 'arn:aws:sts::444455556666:assumed-role/S3ReadAll/x' }],
    ['an unknown field', { grantEveryone: true }],
  ])('get throws for %s, and list leaves it out', async (_label, damage) => {
    const table = await dynamo.createTable('entitlements');
    const { lines, log } = recorder();
    const store = new DynamoEntitlementStore(dynamo.documents, table, { log });
    await store.put(prodAdmin);
    const good = await dynamo.documents.send(
      new GetCommand({ TableName: table, Key: keys.entitlement('prod-admin') }),
    );
    await dynamo.documents.send(
      new PutCommand({
        TableName: table,
        Item: { ...good.Item, ...keys.entitlement('prod-s3-read'), id: 'prod-s3-read', ...damage },
      }),
    );

    const e = await store.get('prod-s3-read').catch((err: unknown) => err);
    const listed = await store.list();

    expect(e).toBeInstanceOf(EntitlementConfigError);
    expect(toProblem(e, 'r').status).toBe(500);
    expect(listed.map((x) => x.id)).toEqual(['prod-admin']);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields.entitlement).toBe('prod-s3-read');
    expect(JSON.stringify(lines)).not.toContain('prod-breakglass-ext-5d8e');
  });

  it('get throws when the item key and its id disagree', async () => {
    const table = await dynamo.createTable('entitlements');
    const store = new DynamoEntitlementStore(dynamo.documents, table);
    await store.put(prodAdmin);
    const good = await dynamo.documents.send(
      new GetCommand({ TableName: table, Key: keys.entitlement('prod-admin') }),
    );
    await dynamo.documents.send(
      new PutCommand({ TableName: table, Item: { ...good.Item, ...keys.entitlement('prod-readonly') } }),
    );

    await expect(store.get('prod-readonly')).rejects.toBeInstanceOf(EntitlementConfigError);
  });
});

describe('DynamoEntitlementStore: cache', () => {
  it('serves reads from the cache until the TTL passes', async () => {
    const table = await dynamo.createTable('entitlements');
    let clock = 1_000;
    const store = new DynamoEntitlementStore(dynamo.documents, table, {
      cacheTtlMs: 30_000,
      now: () => clock,
    });
    const writer = new DynamoEntitlementStore(dynamo.documents, table);
    await writer.put(prodS3Read);
    expect((await store.get('prod-s3-read'))?.defaultDurationSeconds).toBe(900);

    await writer.put({ ...prodS3Read, defaultDurationSeconds: 1800 });
    const cached = await store.get('prod-s3-read');
    clock += 30_001;
    const fresh = await store.get('prod-s3-read');

    expect(cached?.defaultDurationSeconds).toBe(900);
    expect(fresh?.defaultDurationSeconds).toBe(1800);
  });

  it('reads through on every call when the TTL is 0 (the default)', async () => {
    const table = await dynamo.createTable('entitlements');
    const store = new DynamoEntitlementStore(dynamo.documents, table);
    await store.put(prodS3Read);
    await store.get('prod-s3-read');

    await new DynamoEntitlementStore(dynamo.documents, table).put({
      ...prodS3Read,
      defaultDurationSeconds: 1800,
    });

    expect((await store.get('prod-s3-read'))?.defaultDurationSeconds).toBe(1800);
  });
});

describe('DynamoEntitlementStore: outage', () => {
  it('answers 503 upstream_unavailable when DynamoDB is unreachable', async () => {
    const own = await startDynalite();
    const table = await own.createTable('entitlements');
    const store = new DynamoEntitlementStore(own.documents, table);
    await own.close();

    const getError = await store.get('prod-s3-read').catch((e: unknown) => e);
    const listError = await store.list().catch((e: unknown) => e);

    expect(getError).toBeInstanceOf(EntitlementStoreUnavailableError);
    expect(getError).toBeInstanceOf(UpstreamUnavailableError);
    expect(toProblem(getError, 'r')).toMatchObject({ status: 503, code: 'upstream_unavailable' });
    expect(listError).toBeInstanceOf(EntitlementStoreUnavailableError);
  });
});
