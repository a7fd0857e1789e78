/**
 * Audit digests in DynamoDB: the audit table's `AUDIT_DIGEST` partition (keys.auditDigest), one item
 * per sealed interval, written once with `attribute_not_exists(pk)`. Only the sealer's role may
 * write there (serverless.yml: `dynamodb:LeadingKeys` = `AUDIT_DIGEST`).
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AuditDigest } from '../domain/audit-chain';
import { keys } from '../dynamodb/keys';
import type { DigestStore } from '../ports';

/** The digest store could not be read or written. */
export class DigestStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DigestStoreUnavailableError';
  }
}

/**
 * {@link DigestStore} on the audit table.
 *
 * @example
 * const digests = new DynamoDigestStore(dynamoDocuments, config().tables.audit);
 * const head = await digests.latest();
 */
export class DynamoDigestStore implements DigestStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(digest: AuditDigest): Promise<'written' | 'exists'> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...digest, ...keys.auditDigest(digest.intervalStart) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'written';
    } catch (e) {
      if (e instanceof Error && e.name === 'ConditionalCheckFailedException') return 'exists';
      throw new DigestStoreUnavailableError('the audit digest could not be written', { cause: e });
    }
  }

  async get(intervalStart: string): Promise<AuditDigest | undefined> {
    try {
      const out = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: keys.auditDigest(intervalStart),
          ConsistentRead: true,
        }),
      );
      return out.Item ? toDigest(out.Item) : undefined;
    } catch (e) {
      throw new DigestStoreUnavailableError('the audit digests could not be read', { cause: e });
    }
  }

  async latest(): Promise<AuditDigest | undefined> {
    const [d] = await this.query({ ScanIndexForward: false, Limit: 1 });
    return d;
  }

  async earliest(): Promise<AuditDigest | undefined> {
    const [d] = await this.query({ ScanIndexForward: true, Limit: 1 });
    return d;
  }

  async before(intervalStart: string): Promise<AuditDigest | undefined> {
    const [d] = await this.query({
      KeyConditionExpression: 'pk = :p AND sk < :s',
      ExpressionAttributeValues: { ':p': keys.auditDigestPartition(), ':s': intervalStart },
      ScanIndexForward: false,
      Limit: 1,
    });
    return d;
  }

  async between(from: string, to: string): Promise<AuditDigest[]> {
    return this.query(
      {
        KeyConditionExpression: 'pk = :p AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':p': keys.auditDigestPartition(), ':lo': from, ':hi': to },
        ScanIndexForward: true,
      },
      true,
    );
  }

  private async query(input: Partial<QueryCommandInput>, all = false): Promise<AuditDigest[]> {
    const out: AuditDigest[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': keys.auditDigestPartition() },
            ConsistentRead: true,
            ...input,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        out.push(...(page.Items ?? []).map(toDigest));
        startKey = all ? page.LastEvaluatedKey : undefined;
      } while (startKey);
    } catch (e) {
      throw new DigestStoreUnavailableError('the audit digests could not be read', { cause: e });
    }
    return out;
  }
}

function toDigest(item: Record<string, unknown>): AuditDigest {
  const { pk: _pk, sk: _sk, ...digest } = item;
  return digest as unknown as AuditDigest;
}
