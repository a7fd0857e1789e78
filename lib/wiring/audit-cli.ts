/**
 * The composition root of the operator's audit commands (`vend audit seal|verify|orphans`): the
 * audit trail's use cases, built from the environment the CLI passes in (read by lib/config.ts) with
 * the ambient AWS credentials: the operator's own, not the service's. lib/cli/audit.ts loads this
 * module with a dynamic import, only when such a command runs. Needs `VEND_AUDIT_TABLE`, a region
 * (`AWS_REGION` or `AWS_DEFAULT_REGION`), for seal/verify `VEND_AUDIT_SIGNING_KEY_ID` (KMS) or
 * `VEND_AUDIT_SIGNING_KEY_FILE`, for seal `VEND_AUDIT_SEALS_TABLE` (the sealer's head), and for
 * verify the trail's start (`VEND_AUDIT_TRAIL_START`, or the head's through `VEND_AUDIT_SEALS_TABLE`).
 * `AWS_ENDPOINT_URL` points the clients at the local stack, as everywhere else.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditStore } from '../audit/dynamo-audit-store';
import { loadAuditConfig, loadAuditTableConfig } from '../config';
import {
  type AuditTrailDeps,
  listOrphans,
  type OrphanedIntent,
  type SealResult,
  sealAuditTrail,
  type VerifyReport,
  verifyAuditTrail,
} from '../usecases/audit-trail';
import { buildAuditTrailDeps } from './audit-trail';

type Env = Readonly<Record<string, string | undefined>>;

function clientFrom(env: Env): { documents: DynamoDBDocumentClient; tableName: string; region: string } {
  const { tableName, region } = loadAuditTableConfig(env);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region, maxAttempts: 3 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { documents, tableName, region };
}

/** Sealer/verifier dependencies from an environment (the CLI's). */
export async function auditTrailFromEnv(env: Env): Promise<AuditTrailDeps> {
  const { documents, tableName, region } = clientFrom(env);
  return buildAuditTrailDeps({ documents, tableName, region, audit: loadAuditConfig(env) });
}

/**
 * `vend audit seal`: seals every closed interval.
 * @example const r = await sealFromEnv({}, env); console.log(`${r.sealed.length} intervals sealed up to ${r.sealedUpTo}`);
 */
export async function sealFromEnv(options: { upTo?: Date }, env: Env): Promise<SealResult> {
  // Not bound by a Lambda timeout: catch up on every missed interval in one go.
  return sealAuditTrail(await auditTrailFromEnv(env), { maxIntervals: Number.MAX_SAFE_INTEGER, ...options });
}

/**
 * `vend audit verify [--since] [--until]`: exit non-zero when `report.ok` is false.
 * @example const report = await verifyFromEnv({ since }, env); process.exitCode = report.ok ? 0 : 1;
 */
export async function verifyFromEnv(
  options: { since?: Date; until?: Date },
  env: Env,
): Promise<VerifyReport> {
  return verifyAuditTrail(await auditTrailFromEnv(env), options);
}

/**
 * `vend audit orphans [--since] [--until]`: needs no signing key.
 * @example for (const o of await orphansFromEnv({ since }, env)) console.log(o.auditId, o.sessionName, o.roleArn);
 */
export async function orphansFromEnv(
  options: { since?: Date; until?: Date },
  env: Env,
): Promise<OrphanedIntent[]> {
  const { documents, tableName } = clientFrom(env);
  return listOrphans({ records: new DynamoAuditStore(documents, tableName), now: () => new Date() }, options);
}
