import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalDynamo, startDynalite } from './harness';

// lib/wiring/clients.ts builds its clients at module load from the environment; this checks that the SDK
// itself honours AWS_ENDPOINT_URL (vend has no endpoint code) by pointing it at dynalite.
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.close();
});

afterEach(() => {
  vi.unstubAllEnvs();
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

  it('takes credentials from the environment only, never from a profile file (as in Lambda)', async () => {
    const table = await dynamo.createTable('audit');
    const dir = await mkdtemp(join(tmpdir(), 'vend-clients-'));
    try {
      // A valid profile the default chain would use; the clients must not look at it.
      const file = join(dir, 'credentials');
      await writeFile(
        file,
        '[default]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = from-file\n',
      );
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', file);
      vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
      vi.stubEnv('AWS_PROFILE', 'default');
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
      vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);
      vi.stubEnv('AWS_SESSION_TOKEN', undefined);
      vi.stubEnv('AWS_ENDPOINT_URL', dynamo.endpoint);
      vi.stubEnv('AWS_REGION', 'us-east-1');
      vi.stubEnv('VEND_ENTITLEMENTS_TABLE', 'e');
      vi.stubEnv('VEND_AUDIT_TABLE', table);
      vi.stubEnv('VEND_REQUESTS_TABLE', 'r');
      vi.stubEnv('VEND_LIMITS_TABLE', 'l');
      vi.resetModules();

      const { dynamodb } = await import('../../../lib/wiring/clients');

      await expect(dynamodb.send(new ListTablesCommand({}))).rejects.toMatchObject({
        name: 'CredentialsProviderError',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
