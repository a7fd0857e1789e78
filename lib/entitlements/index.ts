/**
 * Entitlements as code: the file (read with positions, validated by the domain), the diff against
 * the table, and sync with an audit record per change. Guide: docs/entitlements.md.
 */

export type { EntitlementAuditDecision } from '../domain/audit';
export { type Change, diffEntitlements, formatChanges } from './diff';
export {
  type EntitlementsFile,
  EntitlementsFileError,
  type ExternalIdRef,
  ExternalIdResolutionError,
  type ExternalIdResolver,
  type FileEntitlement,
  type Problem,
  type ReadOptions,
  readEntitlementsFile,
  readEntitlementsText,
  resolveExternalIds,
} from './file';
export { formatPosition, type Position } from './source';
export { SsmParameterError, ssmParameterReader } from './ssm';
export {
  DynamoEntitlementTable,
  type EntitlementTable,
  entitlementChangeRecord,
  PruneRequiredError,
  type SyncActor,
  type SyncOptions,
  type SyncResult,
  syncEntitlements,
} from './sync';
