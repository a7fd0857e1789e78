/**
 * Real adapters for the audit functions (`GET /v1/audit`, the sealer), built once per process on
 * first use over lib/clients.ts. Kept apart from lib/wiring.ts so the KMS client is bundled only
 * into the functions that sign.
 */
import { dynamoDocuments } from '../clients';
import { auditConfig, config } from '../config';
import type { AuditQueryDeps } from '../usecases/audit-query';
import type { AuditTrailDeps } from '../usecases/audit-trail';
import { DynamoAuditStore } from './dynamo-audit-store';
import { DynamoDigestStore } from './dynamo-digest-store';
import { buildAuditTrailDeps } from './trail-deps';

let reader: DynamoAuditStore | undefined;
let digests: DynamoDigestStore | undefined;
let trail: Promise<AuditTrailDeps> | undefined;

/** What `GET /v1/audit` needs, over the configured audit table. */
export function auditQueryDeps(): AuditQueryDeps {
  reader ??= new DynamoAuditStore(dynamoDocuments, config().tables.audit);
  digests ??= new DynamoDigestStore(dynamoDocuments, config().tables.audit);
  return { reader, digests, now: () => new Date(), auditorsGroup: auditConfig().auditorsGroup };
}

/** What the sealer needs: the audit table's records and digests, and the configured signer. */
export function auditTrailDeps(): Promise<AuditTrailDeps> {
  trail ??= buildAuditTrailDeps({
    documents: dynamoDocuments,
    tableName: config().tables.audit,
    audit: auditConfig(),
    region: config().region,
  });
  return trail;
}
