/**
 * The sealer's head (ports.ts `SealHead`) in its own DynamoDB table (serverless.yml
 * `AuditSealsTable`, `VEND_AUDIT_SEALS_TABLE`): one item, written only by the sealer's role.
 *
 * Why a table of its own: the head is the sealer's memory of how far it has sealed. Kept in the
 * audit table, it would be deleted (or restored to an earlier point in time) together with the tail
 * it is meant to protect, and the next sealer run would seal the cut as empty intervals. Here it
 * moves only forward: every write is a put conditional on the stored head ending earlier and
 * naming the same `trailStart` (so the start, once written, never changes; and the sealer's role
 * needs no UpdateItem anywhere).
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../dynamodb/keys';
import type { SealHead, SealHeadStore } from '../ports';
import { DigestStoreUnavailableError } from './dynamo-digest-store';

/**
 * {@link SealHeadStore} on the audit-seals table.
 *
 * @example
 * const heads = new DynamoSealHeadStore(documents, 'vend-prod-audit-seals');
 * (await heads.read())?.intervalEnd; // '2026-11-29T10:00:00.000Z'
 */
export class DynamoSealHeadStore implements SealHeadStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(): Promise<SealHead | undefined> {
    try {
      const out = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.auditSealHead(), ConsistentRead: true }),
      );
      if (!out.Item) return undefined;
      const { trailStart, intervalStart, intervalEnd, digestHash, updatedAt } = out.Item;
      return { trailStart, intervalStart, intervalEnd, digestHash, updatedAt } as SealHead;
    } catch (e) {
      throw new DigestStoreUnavailableError('the audit sealer head could not be read', { cause: e });
    }
  }

  async advance(head: SealHead): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.auditSealHead(), ...head },
          // Forward only, and the trail's start never changes once written.
          ConditionExpression: 'attribute_not_exists(pk) OR (intervalEnd < :e AND trailStart = :t)',
          ExpressionAttributeValues: { ':e': head.intervalEnd, ':t': head.trailStart },
        }),
      );
    } catch (e) {
      // Another sealer already moved the head as far or further: nothing to do.
      if (e instanceof Error && e.name === 'ConditionalCheckFailedException') return;
      throw new DigestStoreUnavailableError('the audit sealer head could not be written', { cause: e });
    }
  }
}
