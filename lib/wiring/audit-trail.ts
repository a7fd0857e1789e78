/**
 * Builds the sealer/verifier dependencies from parts, without touching ./clients.ts (which reads
 * the service's whole configuration at load): the Lambda wiring (./audit.ts), the CLI
 * (./audit-cli.ts), the local stack and tests all come through here.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditStore } from '../audit/dynamo-audit-store';
import { DynamoDigestStore } from '../audit/dynamo-digest-store';
import { DynamoSealHeadStore } from '../audit/dynamo-seal-head';
import { KmsAuditSigner } from '../audit/kms-signer';
import { LocalAuditSigner } from '../audit/local-signer';
import { type AuditConfig, requireAuditSigning } from '../config';
import type { AuditSigner } from '../ports';
import type { AuditTrailDeps } from '../usecases/audit-trail';

/**
 * Builds {@link AuditTrailDeps} from parts: the Lambda wiring, the CLI, the local stack and tests.
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
  /** The sealer head's table; default `audit.sealsTable` (VEND_AUDIT_SEALS_TABLE). */
  sealsTableName?: string;
  now?: () => Date;
}): Promise<AuditTrailDeps> {
  const store = new DynamoAuditStore(parts.documents, parts.tableName);
  const sealsTable = parts.sealsTableName ?? parts.audit.sealsTable;
  return {
    records: store,
    digests: new DynamoDigestStore(parts.documents, parts.tableName),
    signer: parts.signer ?? (await signerFor(parts.audit, parts.region)),
    ...(sealsTable ? { head: new DynamoSealHeadStore(parts.documents, sealsTable) } : {}),
    ...(parts.audit.trailStart ? { trailStart: parts.audit.trailStart } : {}),
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
