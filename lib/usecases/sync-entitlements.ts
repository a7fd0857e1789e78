/**
 * `vend entitlements sync`: make the entitlements table match the file, visibly and on the record.
 *
 * Primary course of {@link syncEntitlements}:
 * 1. read the table; diff it against the file (lib/domain/entitlement-diff.ts);
 * 2. without `apply`, stop: the diff is the answer (a dry run changes nothing);
 * 3. with deletions pending and no `prune`, refuse the whole apply ({@link PruneRequiredError}):
 *    an entitlement missing from the file is more often a merge accident than a decision;
 * 4. per change, in id order: append an audit record (who, which entitlement, which fields; never
 *    the ExternalId), then write the table. The record comes first, as on the vend path, so a
 *    change never exists without a trace; a record whose write then failed is visible as a change
 *    the next dry run still shows.
 *
 * Writes run under the operator's (deployment) credentials: the runtime role may only read the
 * entitlements table (serverless.yml `ReadEntitlements`). The CLI (lib/cli/entitlements.ts) gets
 * the table and the audit sink from lib/wiring/operator.ts; the specs pass fakes.
 */
import type { AuditRecord, EntitlementAuditDecision } from '../domain/audit';
import { type Change, diffEntitlements } from '../domain/entitlement-diff';
import type { Entitlement } from '../domain/types';
import type { AuditSink, EntitlementTable } from '../ports';

/** Deletions are pending and `prune` was not given; nothing was applied. */
export class PruneRequiredError extends Error {
  constructor(readonly ids: readonly string[]) {
    super(
      `${ids.length} entitlement(s) in the table are not in the file (${ids.join(', ')}); nothing was applied: add them back, or pass --prune to delete them`,
    );
    this.name = 'PruneRequiredError';
  }
}

/** Who is syncing, as the audit trail names them (the operator's AWS principal). */
export interface SyncActor {
  id: string;
  label: string;
}

/** Options of {@link syncEntitlements}. */
export interface SyncOptions {
  apply: boolean;
  prune: boolean;
  audit: AuditSink;
  actor: SyncActor;
  now: () => Date;
  newId: () => string;
  /** The file synced, for the audit records' reason. */
  file?: string;
}

/** What sync found and did. */
export interface SyncResult {
  changes: Change[];
  applied: Change[];
  /** Links the audit records of one sync run. */
  auditId?: string;
}

const DECISION: Record<Change['kind'], EntitlementAuditDecision> = {
  create: 'entitlement-created',
  update: 'entitlement-updated',
  delete: 'entitlement-deleted',
};

/**
 * The audit record of one entitlement change: who, which entitlement and role, which fields.
 * Never a field value (the ExternalId is one of them).
 *
 * @example entitlementChangeRecord(change, { id: 'r1', time, auditId: 'sync-1', actor, file: 'entitlements.yaml' })
 */
export function entitlementChangeRecord(
  change: Change,
  input: { id: string; time: Date; auditId: string; actor: SyncActor; file?: string },
): AuditRecord {
  const roleArn = change.kind === 'delete' ? change.before.roleArn : change.after.roleArn;
  const what =
    change.kind === 'update'
      ? `fields: ${change.fields.join(', ')}`
      : change.kind === 'create'
        ? 'created'
        : 'deleted';
  return {
    id: input.id,
    time: input.time.toISOString(),
    decision: DECISION[change.kind],
    auditId: input.auditId,
    caller: { id: input.actor.id, kind: 'service', label: input.actor.label },
    entitlement: change.id,
    roleArn,
    reason: `vend entitlements sync${input.file ? ` ${input.file}` : ''}: ${what}`,
  };
}

/**
 * Diffs and, with `apply`, applies.
 *
 * @throws PruneRequiredError deletions pending without `prune` (with `apply` only)
 * @example
 * const { changes } = await syncEntitlements(desired, table, { apply: false, prune: false, audit, actor, now, newId });
 */
export async function syncEntitlements(
  desired: readonly Entitlement[],
  table: EntitlementTable,
  opts: SyncOptions,
): Promise<SyncResult> {
  const changes = diffEntitlements(desired, await table.list());
  if (!opts.apply || changes.length === 0) return { changes, applied: [] };
  const deletes = changes.filter((c) => c.kind === 'delete');
  if (deletes.length > 0 && !opts.prune) throw new PruneRequiredError(deletes.map((c) => c.id));
  const auditId = opts.newId();
  const applied: Change[] = [];
  for (const change of changes) {
    await opts.audit.append(
      entitlementChangeRecord(change, {
        id: opts.newId(),
        time: opts.now(),
        auditId,
        actor: opts.actor,
        ...(opts.file !== undefined && { file: opts.file }),
      }),
    );
    if (change.kind === 'delete') await table.delete(change.id);
    else await table.put(change.after);
    applied.push(change);
  }
  return { changes, applied, auditId };
}
