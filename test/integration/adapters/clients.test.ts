import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalDynamo, startDynalite } from './harness';

// lib/wiring/clients.ts builds its clients at module load from the environment; this checks that the SDK
// itself honours AWS_ENDPOINT_URL (vend has no endpoint code) by pointing it at dynalite.
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await dynamo.close();
});

describe('lib/wiring/clients', () => {
  it('reaches the endpoint named by AWS_ENDPOINT_URL with the module-scope DynamoDB client', async () => {
    const table = await dynamo.createTable('audit');
    vi.stubEnv('AWS_ENDPOINT_URL', dynamo.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDLOCALTEST');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local-test-secret');
    vi.stubEnv('VEND_ENTITLEMENTS_TABLE', 'e');
    vi.stubEnv('VEND_AUDIT_TABLE', table);
    vi.stubEnv('VEND_REQUESTS_TABLE', 'r');
    vi.stubEnv('VEND_LIMITS_TABLE', 'l');
    vi.resetModules();

    const { dynamodb, sts } = await import('../../../lib/wiring/clients');
    const tables = await dynamodb.send(new ListTablesCommand({}));

    expect(tables.TableNames).toContain(table);
    expect(await sts.config.maxAttempts()).toBe(1);
  });
});
