/**
 * Entitlements as code: the file (read with positions, validated by the domain) and the diff
 * against the table. Guide: docs/entitlements.md. Sync itself is a use case
 * (lib/usecases/sync-entitlements.ts); the SSM reader that resolves `{ ssm: … }` ExternalIds is an
 * adapter (lib/ssm/parameter-reader.ts); the CLI gets both through lib/wiring/operator.ts.
 */

export type { EntitlementAuditDecision } from '../domain/audit';
export { type Change, diffEntitlements, formatChanges } from '../domain/entitlement-diff';
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
