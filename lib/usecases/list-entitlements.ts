/**
 * The entitlement listing: what this caller may use, request or break-glass.
 *
 * Primary course:
 * 1. Read every entitlement (a store failure is 503).
 * 2. Keep those the caller may use, request or break-glass, as their public view (never the
 *    ExternalId, never who else is entitled).
 */
import { type VisibleEntitlement, visibleEntitlements } from '../domain/entitlement';
import type { Caller } from '../domain/types';
import type { EntitlementStore } from '../ports';

/**
 * @example
 * ```ts
 * const list = listEntitlements({ entitlements: store });
 * await list(alice); // [{ id: 'prod-readonly', access: { use: true, … }, … }, …]
 * ```
 */
export function listEntitlements(deps: {
  entitlements: EntitlementStore;
}): (caller: Caller) => Promise<{ entitlements: VisibleEntitlement[] }> {
  return async (caller) => {
    const all = await deps.entitlements.list();
    const sorted = [...all].sort((a, b) => a.id.localeCompare(b.id));
    return { entitlements: visibleEntitlements(caller, sorted) };
  };
}
