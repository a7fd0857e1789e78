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
 * without an `issued` or `denied` record are the ones to reconcile.
 */
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type AuditRecord, assertNoSecrets } from '../domain/audit';
import { AuditUnavailableError, ConflictError } from '../domain/errors';
import { keys } from '../dynamodb/keys';
import { log as defaultLog, type VendLog } from '../log';
import type { AuditSink } from '../ports';

/**
 * {@link AuditSink} on a DynamoDB table (see lib/dynamodb/tables.ts `audit`).
 *
 * @example
 * const audit = new DynamoAuditStore(dynamoDocuments, config().tables.audit);
 * await audit.append(intentRecord({ … }));
 */
export class DynamoAuditStore implements AuditSink {
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
}

function isConditionalCheckFailed(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}
