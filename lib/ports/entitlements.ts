/**
 * The port of entitlements as code (lib/usecases/sync-entitlements.ts, `vend entitlements sync`):
 * the entitlements table as an operator's sync writes it. The service itself only reads the table,
 * through `EntitlementStore` (./vend.ts). Adapter: lib/dynamodb/entitlement-table.ts; the specs pass
 * an in-memory one.
 */
import type { Entitlement } from '../domain/types';

/** The table as sync needs it. */
export interface EntitlementTable {
  list(): Promise<Entitlement[]>;
  put(entitlement: Entitlement): Promise<void>;
  /** Deletes one definition; it must exist (a concurrent delete is an error, not a no-op). */
  delete(id: string): Promise<void>;
}
