/**
 * How the DynamoDB audit store answers `GET /v1/audit` (lib/domain/audit-query.ts parses the
 * filters): which table or index, which partitions, which sort-key bounds; and whether a cursor's
 * position is one of this plan's keys. Pure; the store (./dynamo-audit-store.ts) runs the plan.
 *
 * Plan (key design in ./dynamo-audit-store.ts and lib/dynamodb/keys.ts):
 * - `caller` given: GSI1 `AUDIT_CALLER#<caller>`, one partition, sort key BETWEEN the time bounds;
 *   `entitlement`, `decision`, `requestId` become filter expressions.
 * - else `entitlement` given: GSI2 `AUDIT_ENT#<entitlement>`, the same way.
 * - else the base table: one partition per UTC day, newest day first, each BETWEEN the bounds.
 * Every path reads newest first (`ScanIndexForward: false`).
 */
import { type AuditFilters, type AuditPosition, auditDays } from '../domain/audit-query';
import { InvalidRequestError } from '../domain/errors';
import { INDEX, keys } from '../dynamodb/keys';

const SORT_KEY = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z)#[\x21-\x7e]{1,128}$/;

/** Which table or index answers a query, and its partitions (newest first) and sort-key bounds. */
export interface AuditQueryPlan {
  index: 'base' | typeof INDEX.gsi1 | typeof INDEX.gsi2;
  /** Partition key attribute name on that index. */
  partitionAttribute: 'pk' | 'gsi1pk' | 'gsi2pk';
  sortAttribute: 'sk' | 'gsi1sk' | 'gsi2sk';
  partitions: string[];
  lower: string;
  upper: string;
  /** Equality filters applied as a FilterExpression (attribute name → value). */
  where: Partial<Record<'entitlement' | 'decision' | 'requestId', string>>;
}

/**
 * The index, partitions (newest first) and bounds that answer these filters without a scan.
 *
 * @example planAuditQuery({ since, until, caller: 'arn:aws:iam::111122223333:role/CICDDeployRole' }).index // 'gsi1'
 */
export function planAuditQuery(filters: AuditFilters): AuditQueryPlan {
  const lower = keys.timeBound(filters.since);
  const upper = keys.timeBound(filters.until, true);
  const where: AuditQueryPlan['where'] = compact({
    decision: filters.decision,
    requestId: filters.requestId,
  });
  if (filters.caller !== undefined) {
    if (filters.entitlement !== undefined) where.entitlement = filters.entitlement;
    return {
      index: INDEX.gsi1,
      partitionAttribute: 'gsi1pk',
      sortAttribute: 'gsi1sk',
      partitions: [keys.auditCaller(filters.caller)],
      lower,
      upper,
      where,
    };
  }
  if (filters.entitlement !== undefined) {
    return {
      index: INDEX.gsi2,
      partitionAttribute: 'gsi2pk',
      sortAttribute: 'gsi2sk',
      partitions: [keys.auditEntitlement(filters.entitlement)],
      lower,
      upper,
      where,
    };
  }
  return {
    index: 'base',
    partitionAttribute: 'pk',
    sortAttribute: 'sk',
    partitions: auditDays(filters.since, filters.until).map((d) => keys.auditDay(d)),
    lower,
    upper,
    where,
  };
}

/**
 * Checks that a resume position lies inside the plan: a real partition of it, and a start key with
 * exactly the key attributes of that index, in that partition, within the time bounds, consistent
 * with the base-table key.
 *
 * @throws InvalidRequestError otherwise
 */
export function validatePosition(plan: AuditQueryPlan, position: AuditPosition): void {
  const bad = () => new InvalidRequestError('the cursor is not valid (key); start again without it');
  if (position.partition >= plan.partitions.length) throw bad();
  const key = position.startKey;
  if (key === undefined) return;
  const expected =
    plan.index === 'base' ? ['pk', 'sk'] : ['pk', 'sk', plan.partitionAttribute, plan.sortAttribute];
  const names = Object.keys(key).sort();
  if (names.length !== expected.length || ![...expected].sort().every((n, i) => n === names[i])) throw bad();
  const sk = key.sk ?? '';
  const m = SORT_KEY.exec(sk);
  if (!m) throw bad();
  if (key.pk !== keys.auditDay(sk.slice(0, 10))) throw bad();
  if (key[plan.partitionAttribute] !== plan.partitions[position.partition]) throw bad();
  if (key[plan.sortAttribute] !== sk) throw bad();
  if (sk < plan.lower || sk > plan.upper) throw bad();
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
