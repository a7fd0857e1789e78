/**
 * A real dynalite in this process on an ephemeral port, and tables created from
 * lib/dynamodb/tables.ts under names unique to the calling test file.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { createTableInput, type TableName } from '../../../lib/dynamodb/tables';

export interface LocalDynamo {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  documents: DynamoDBDocumentClient;
  /** Creates a table from its definition under a fresh unique name and returns the name. */
  createTable(table: TableName): Promise<string>;
  /** Stops dynalite; later calls fail as a DynamoDB outage would. */
  close(): Promise<void>;
}

export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
    // One attempt: an outage should surface at once, not after the SDK's backoff.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 500, requestTimeout: 2000 },
  });
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    documents,
    async createTable(table) {
      const name = `vend-${table}-${randomUUID().slice(0, 8)}`;
      await client.send(new CreateTableCommand(createTableInput(table, name)));
      return name;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections?.();
      }),
  };
}
