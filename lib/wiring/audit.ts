/**
 * Composition root of the audit functions (functions/audit.ts `GET /v1/audit`,
 * functions/audit-sealer.ts): their adapters, built once per process on first use over
 * ./clients.ts. Kept apart from ./vend.ts so the KMS client is bundled only into the functions that
 * sign.
 */

import { DynamoAuditStore } from '../audit/dynamo-audit-store';
import { DynamoDigestStore } from '../audit/dynamo-digest-store';
import { powertoolsSealMetrics } from '../audit/seal-metrics';
import { auditConfig, config } from '../config';
import type { SealMetricsSink } from '../ports';
import type { AuditQueryDeps } from '../usecases/audit-query';
import type { AuditTrailDeps } from '../usecases/audit-trail';
import { buildAuditTrailDeps } from './audit-trail';
import { dynamoDocuments } from './clients';

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

let sealSink: SealMetricsSink | undefined;

/** Where the sealer's metrics go: CloudWatch (EMF through Powertools), made on first use. */
export function sealMetrics(): SealMetricsSink {
  sealSink ??= powertoolsSealMetrics();
  return sealSink;
}
