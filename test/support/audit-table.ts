/**
 * Reading a DynamoDB table whole, for assertions about the audit trail: every page (a single Scan
 * stops at 1 MB, and a suite that misses records past it would pass for the wrong reason),
 * consistent reads, items unmarshalled.
 *
 * @example
 * const records = await scanTable(dynamodb);           // the stack's audit table
 * const issued = issuedKeys(records);                   // AccessKeyId → auditId of `issued` records
 */
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/** Every item of `table` (default: the stack's audit table), all pages, consistent reads. */
export async function scanTable(
  client: Pick<DynamoDBClient, 'send'>,
  table: string = process.env.VEND_AUDIT_TABLE ?? 'vend-dev-audit',
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    out.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return out;
}

/** AccessKeyId → auditId of every `issued` record: what "nothing issued without a record" checks against. */
export function issuedKeys(records: readonly Record<string, unknown>[]): Map<string, string> {
  const issued = new Map<string, string>();
  for (const r of records) {
    if (r.decision === 'issued' && typeof r.accessKeyId === 'string') {
      issued.set(r.accessKeyId, typeof r.auditId === 'string' ? r.auditId : '');
    }
  }
  return issued;
}
