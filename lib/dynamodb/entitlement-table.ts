/**
 * The entitlements table as `vend entitlements sync` writes it (lib/usecases/sync-entitlements.ts),
 * under the operator's credentials: the service's runtime role may only read it. Reads and writes go
 * through the service's own store (./entitlement-store.ts), so what sync writes is exactly what the
 * service will read back.
 */
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Entitlement } from '../domain/types';
import type { EntitlementTable } from '../ports';
import { DynamoEntitlementStore } from './entitlement-store';
import { keys } from './keys';

/**
 * {@link EntitlementTable} on the DynamoDB entitlements table, through the service's own store
 * (so what is written is what the service will read).
 *
 * @example const table = new DynamoEntitlementTable(documentClient, 'vend-prod-entitlements');
 */
export class DynamoEntitlementTable implements EntitlementTable {
  private readonly store: DynamoEntitlementStore;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.store = new DynamoEntitlementStore(client, tableName);
  }

  list(): Promise<Entitlement[]> {
    return this.store.list();
  }

  put(entitlement: Entitlement): Promise<void> {
    return this.store.put(entitlement);
  }

  async delete(id: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.entitlement(id),
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
  }
}
