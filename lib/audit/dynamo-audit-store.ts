/**
 * The audit trail in DynamoDB: append-only.
 *
 * Key design (built by `keys.audit`, table in lib/dynamodb/tables.ts):
 * - base table: pk `AUDIT#<yyyy-mm-dd>` (UTC day of the record), sk `<ISO time>#<record id>`.
 *   "Newest first between since and until" is a Query per day partition, newest day first, with
 *   `ScanIndexForward: false` and `sk BETWEEN`; no Scan. One partition per day also spreads a long
 *   history and keeps any one partition's size bounded.
 * - gsi1: `AUDIT_CALLER#<caller id>` / same sk: one caller's records, newest first.
 * - gsi2: `AUDIT_ENT#<entitlement>` / same sk: one entitlement's records, newest first.
 *
 * Every write is `PutItem` with `attribute_not_exists(pk)`: a record id can be written once and never
 * replaced, so a bug or a replay cannot rewrite history. There is no update and no delete here.
 *
 * Reconciliation: a vend writes `intent` before STS and `issued` after (same auditId). If the
 * `issued` write fails, this store logs the AccessKeyId (an identifier, not a secret) with the
 * auditId before throwing, so an operator can always tie the credentials to the intent; intents
 * without an `issued` record or a settling denial are the ones to reconcile (`listOrphans`).
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type AuditRecord, assertNoSecrets } from '../domain/audit';
import { recordHash, type StoredAuditRecord } from '../domain/audit-chain';
import { type AuditFilters, type AuditPosition, auditDays } from '../domain/audit-query';
import { AuditUnavailableError, ConflictError } from '../domain/errors';
import { keys } from '../dynamodb/keys';
import { log as defaultLog, type VendLog } from '../log';
import type { AuditPage, AuditReader, AuditSink } from '../ports';
import { planAuditQuery, validatePosition } from './dynamo-audit-query';

/**
 * {@link AuditSink} on a DynamoDB table (see lib/dynamodb/tables.ts `audit`).
 *
 * @example
 * const audit = new DynamoAuditStore(dynamoDocuments, config().tables.audit);
 * await audit.append(intentRecord({ … }));
 */
export class DynamoAuditStore implements AuditSink, AuditReader {
  private readonly log: VendLog;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: { log?: VendLog } = {},
  ) {
    this.log = options.log ?? defaultLog;
  }

  /**
   * Appends one record.
   *
   * @throws ConflictError when a record with the same id and time already exists (never overwritten)
   * @throws AuditUnavailableError when the table cannot be written
   * @throws AuditSecretLeakError (from the domain) when the record holds something secret-looking
   */
  async append(record: AuditRecord): Promise<void> {
    // Defence in depth: the builders cannot carry secrets by type, but free text could.
    assertNoSecrets(record);
    const item = { ...record, ...keys.audit(record) };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (isConditionalCheckFailed(e)) {
        // The SDK retries a put whose answer was lost (a timeout after DynamoDB wrote it); the retry
        // then fails its condition. The same record already stored is that first attempt: written.
        if (await this.stored(item)) return;
        throw new ConflictError(`audit record ${record.id} already exists and is never overwritten`, {
          cause: e,
        });
      }
      if (record.decision === 'issued') {
        // Credentials exist that the trail does not show: leave the operator a way to find them.
        this.log.error('audit issued record not written; reconcile from this line', {
          auditId: record.auditId,
          accessKeyId: record.accessKeyId,
          entitlement: record.entitlement,
          callerId: record.caller?.id,
          requestId: record.requestId,
          errorName: e instanceof Error ? e.name : typeof e,
        });
      }
      throw new AuditUnavailableError('the audit log could not be written; retry shortly', {
        cause: e,
      });
    }
  }

  /**
   * One page of a query, newest first, planned by ./dynamo-audit-query.ts: reads the plan's
   * partitions in order from `position`, each `sortKey BETWEEN lower AND upper` with the plan's
   * equality filters, until `limit` records are found or the partitions run out. DynamoDB's `Limit`
   * counts items before the filter, and each Query asks for no more than the page still needs, so a
   * page never overshoots and the returned position is exact.
   *
   * @throws InvalidRequestError when `position` is not a position of this plan (an altered cursor)
   * @throws AuditUnavailableError when the table cannot be read
   * @example
   * const page = await store.page(query.filters, { partition: 0 }, 100);
   */
  async page(filters: AuditFilters, position: AuditPosition, limit: number): Promise<AuditPage> {
    const plan = planAuditQuery(filters);
    validatePosition(plan, position);
    const records: AuditRecord[] = [];
    let at: AuditPosition = position;
    while (records.length < limit && at.partition < plan.partitions.length) {
      const names: Record<string, string> = { '#p': plan.partitionAttribute, '#s': plan.sortAttribute };
      const values: Record<string, string> = {
        ':p': plan.partitions[at.partition]!,
        ':lo': plan.lower,
        ':hi': plan.upper,
      };
      const conditions: string[] = [];
      for (const [name, value] of Object.entries(plan.where)) {
        names[`#f_${name}`] = name;
        values[`:f_${name}`] = value;
        conditions.push(`#f_${name} = :f_${name}`);
      }
      const out = await this.query({
        TableName: this.tableName,
        ...(plan.index === 'base' ? {} : { IndexName: plan.index }),
        KeyConditionExpression: '#p = :p AND #s BETWEEN :lo AND :hi',
        ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {}),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: limit - records.length,
        ...(at.startKey ? { ExclusiveStartKey: at.startKey } : {}),
      });
      for (const item of out.Items ?? [])
        records.push(keys.storedAudit(item).content as unknown as AuditRecord);
      at = out.LastEvaluatedKey
        ? { partition: at.partition, startKey: stringKey(out.LastEvaluatedKey) }
        : { partition: at.partition + 1 };
    }
    return at.partition < plan.partitions.length ? { records, next: at } : { records };
  }

  /**
   * Every stored record whose sort key lies in `[since, until)`, oldest first: its content, and the
   * placement its keys name (the verifier checks both; `keys.storedAudit`). Reads one day partition
   * after another; never scans.
   *
   * @throws AuditUnavailableError when the table cannot be read
   */
  async itemsBetween(since: string, until: string): Promise<StoredAuditRecord[]> {
    if (until <= since) return [];
    const lastIncluded = new Date(Date.parse(until) - 1).toISOString();
    const items: StoredAuditRecord[] = [];
    for (const day of auditDays(since, lastIncluded).reverse()) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await this.query({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :p AND sk BETWEEN :lo AND :hi',
          ExpressionAttributeValues: {
            ':p': keys.auditDay(day),
            ':lo': keys.timeBound(since),
            // `<until>#` sorts before every record stamped exactly `until`: the bound is exclusive.
            ':hi': keys.timeBound(until),
          },
          ScanIndexForward: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        });
        items.push(...(out.Items ?? []).map((item) => keys.storedAudit(item)));
        startKey = out.LastEvaluatedKey;
      } while (startKey);
    }
    return items;
  }

  /**
   * The time of the oldest record in the given UTC days (`yyyy-mm-dd`), or undefined if all are
   * empty. One `Limit: 1` Query per day, a few days at a time; the sealer uses it once, to find
   * where the chain of digests starts.
   */
  async earliestTime(days: readonly string[]): Promise<string | undefined> {
    const sorted = [...days].sort();
    const batch = 16;
    for (let i = 0; i < sorted.length; i += batch) {
      const found = await Promise.all(
        sorted.slice(i, i + batch).map(async (day) => {
          const out = await this.query({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': keys.auditDay(day) },
            ScanIndexForward: true,
            Limit: 1,
          });
          const t = out.Items?.[0]?.time;
          return typeof t === 'string' ? t : undefined;
        }),
      );
      const first = found.find((t) => t !== undefined);
      if (first !== undefined) return first;
    }
    return undefined;
  }

  /** Whether exactly this item (same content under the same key) is already in the table. */
  private async stored(item: Record<string, unknown>): Promise<boolean> {
    try {
      const out = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: item.pk, sk: item.sk },
          ConsistentRead: true,
        }),
      );
      const written = JSON.parse(JSON.stringify(item)) as Record<string, unknown>;
      return (
        out.Item !== undefined &&
        recordHash(keys.storedAudit(out.Item).content) === recordHash(keys.storedAudit(written).content)
      );
    } catch {
      return false;
    }
  }

  private async query(input: QueryCommandInput) {
    try {
      return await this.client.send(new QueryCommand(input));
    } catch (e) {
      throw new AuditUnavailableError('the audit log could not be read; retry shortly', { cause: e });
    }
  }
}

function stringKey(key: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(key).map(([k, v]) => [k, String(v)]));
}

function isConditionalCheckFailed(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}
