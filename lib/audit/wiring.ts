/**
 * Real adapters for the audit functions (`GET /v1/audit`, the sealer), built once per process on
 * first use. Kept apart from lib/wiring.ts so the KMS client is bundled only into the functions
 * that sign.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDocuments } from '../clients';
import { type AuditConfig, auditConfig, config, requireAuditSigning } from '../config';
import type { AuditQueryDeps } from '../usecases/audit-query';
import type { AuditTrailDeps } from '../usecases/audit-trail';
import { DynamoAuditStore } from './dynamo-audit-store';
import { DynamoDigestStore } from './dynamo-digest-store';
import { KmsAuditSigner } from './kms-signer';
import { LocalAuditSigner } from './local-signer';
import type { AuditSigner } from './ports';

let reader: DynamoAuditStore | undefined;
let trail: Promise<AuditTrailDeps> | undefined;

/** What `GET /v1/audit` needs, over the configured audit table. */
export function auditQueryDeps(): AuditQueryDeps {
  reader ??= new DynamoAuditStore(dynamoDocuments, config().tables.audit);
  return { reader, now: () => new Date(), auditorsGroup: auditConfig().auditorsGroup };
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

/**
 * Builds {@link AuditTrailDeps} from parts: the Lambda wiring above, the CLI (lib/audit/from-env.ts)
 * and tests use it.
 *
 * @example
 * const deps = await buildAuditTrailDeps({ documents, tableName: 'vend-dev-audit', audit: loadAuditConfig(process.env), region: 'us-east-1' });
 */
export async function buildAuditTrailDeps(parts: {
  documents: DynamoDBDocumentClient;
  tableName: string;
  audit: AuditConfig;
  region: string;
  signer?: AuditSigner;
  now?: () => Date;
}): Promise<AuditTrailDeps> {
  const store = new DynamoAuditStore(parts.documents, parts.tableName);
  return {
    records: store,
    digests: new DynamoDigestStore(parts.documents, parts.tableName),
    signer: parts.signer ?? (await signerFor(parts.audit, parts.region)),
    now: parts.now ?? (() => new Date()),
    intervalSeconds: parts.audit.sealIntervalSeconds,
    graceSeconds: parts.audit.sealGraceSeconds,
  };
}

/** The configured signer: KMS in AWS, the local key file in the local stack. */
export async function signerFor(audit: AuditConfig, region: string): Promise<AuditSigner> {
  const signing = requireAuditSigning(audit);
  if (signing.kind === 'file') return LocalAuditSigner.open(signing.file);
  return KmsAuditSigner.create(new KMSClient({ region, maxAttempts: 3 }), signing.keyId);
}
