/**
 * Composition root of the operator's entitlement commands (`vend entitlements sync`,
 * lib/cli/entitlements.ts): the adapters they use, on the operator's own AWS credentials and region,
 * never the service's. The CLI reads its options and environment (table names, `AWS_ENDPOINT_URL_*`)
 * and passes them in; nothing here reads the environment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import { DynamoAuditStore } from '../audit/dynamo-audit-store';
import { DynamoEntitlementTable } from '../dynamodb/entitlement-table';
import type { AuditSink, EntitlementTable } from '../ports';
import { ssmParameterReader } from '../ssm/parameter-reader';

/** The operator's AWS: a region, credentials, and per-service endpoints (the local stack's, or none). */
export interface OperatorAws {
  region: string;
  credentials: () => Promise<AwsCredentialIdentity>;
  /** The endpoint URL of a service (`SSM`, `DYNAMODB`, `STS`), or undefined for AWS's own. */
  endpoint(service: 'SSM' | 'DYNAMODB' | 'STS'): string | undefined;
}

/**
 * Reads SSM parameters (SecureString decrypted), for `{ ssm: … }` ExternalIds.
 * @example const desired = await resolveExternalIds(file.entitlements, { env, ssm: ssmReader(aws) });
 */
export function ssmReader(aws: OperatorAws): (name: string) => Promise<string> {
  return ssmParameterReader({
    region: aws.region,
    credentials: aws.credentials,
    endpoint: aws.endpoint('SSM'),
  });
}

/** What `vend entitlements sync` writes to, and who is writing. {@link close} when done. */
export interface SyncAdapters {
  table: EntitlementTable;
  audit: AuditSink;
  /** The operator's AWS principal (sts:GetCallerIdentity), for the audit records. */
  callerArn(): Promise<string>;
  /** Releases the SDK clients' sockets. */
  close(): void;
}

/**
 * The entitlements table and the audit table, on the operator's credentials.
 *
 * @example
 * const aws = syncAdapters(operatorAws, { entitlements: 'vend-prod-entitlements', audit: 'vend-prod-audit' });
 * try { await syncEntitlements(desired, aws.table, { audit: aws.audit, … }); } finally { aws.close(); }
 */
export function syncAdapters(
  aws: OperatorAws,
  tables: { entitlements: string; audit: string },
): SyncAdapters {
  const { region, credentials } = aws;
  const dynamo = new DynamoDBClient({ region, credentials, endpoint: aws.endpoint('DYNAMODB') });
  const sts = new STSClient({ region, credentials, endpoint: aws.endpoint('STS') });
  const documents = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  return {
    table: new DynamoEntitlementTable(documents, tables.entitlements),
    audit: new DynamoAuditStore(documents, tables.audit),
    callerArn: async () => (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'unknown',
    close: () => {
      dynamo.destroy();
      sts.destroy();
    },
  };
}
