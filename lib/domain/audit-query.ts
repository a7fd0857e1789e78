/**
 * Reading the audit trail (`GET /v1/audit`), as pure rules: which filters are valid, which index and
 * partitions answer them without a scan, and the opaque pagination cursor.
 *
 * Plan (see lib/audit/dynamo-audit-store.ts for the key design):
 * - `caller` given: GSI1 `AUDIT_CALLER#<caller>`, one partition, sort key BETWEEN the time bounds;
 *   `entitlement`, `decision`, `requestId` become filter expressions.
 * - else `entitlement` given: GSI2 `AUDIT_ENT#<entitlement>`, the same way.
 * - else the base table: one partition per UTC day, newest day first, each BETWEEN the bounds.
 * Every path reads newest first (`ScanIndexForward: false`).
 *
 * The cursor is base64url JSON carrying the resolved filters, the partition being read and
 * DynamoDB's LastEvaluatedKey, plus a checksum. It is opaque to clients and validated on the way
 * back in: the checksum must match, and the key must lie inside the partition and time bounds the
 * filters imply, so an edited cursor is a 400 and can never widen a query beyond what the same
 * caller could ask for directly. (No server secret is involved: an auditor may read every record,
 * so the cursor protects correctness, not confidentiality; see docs/audit.md.)
 */
import { createHash } from 'node:crypto';
import { INDEX, keys } from '../dynamodb/keys';
import { InvalidRequestError } from './errors';
import { ENTITLEMENT_ID } from './limits';

/** Default page size and its ceiling. */
export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 500;
/** The longest `since`..`until` span one query may cover (the base path reads one partition per day). */
export const AUDIT_MAX_RANGE_DAYS = 366;
/** The span read when `since` is not given. */
export const AUDIT_DEFAULT_RANGE_DAYS = 7;

const DAY_MS = 86_400_000;
const FILTER_NAMES = ['since', 'until', 'caller', 'entitlement', 'decision', 'requestId'] as const;
const ALLOWED = new Set<string>([...FILTER_NAMES, 'cursor', 'limit']);
// Decisions are an open set (intent, issued, denied, and request-lifecycle ones): shape only.
const DECISION = /^[a-z][a-z_-]{0,31}$/;
const REQUEST_ID = /^[A-Za-z0-9._:=-]{1,128}$/;
// Caller ids are role ARNs or `<issuer>#<subject>`: printable ASCII, bounded.
const CALLER_ID = /^[\x21-\x7e]{1,512}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const SORT_KEY = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z)#[\x21-\x7e]{1,128}$/;

/** Resolved filters of one audit query. */
export interface AuditFilters {
  /** Inclusive lower bound (ISO 8601 UTC, milliseconds). */
  since: string;
  /** Inclusive upper bound. */
  until: string;
  caller?: string;
  entitlement?: string;
  decision?: string;
  requestId?: string;
}

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

/** Where to resume: partition index in the plan, and DynamoDB's ExclusiveStartKey (if mid-partition). */
export interface AuditPosition {
  partition: number;
  startKey?: Record<string, string>;
}

/** A parsed `GET /v1/audit` query. */
export interface AuditQuery {
  filters: AuditFilters;
  limit: number;
  position: AuditPosition;
}

/**
 * Parses and validates the query string of `GET /v1/audit`.
 *
 * @throws InvalidRequestError (400) on an unknown parameter, a malformed value, `since` after
 *   `until`, a span over {@link AUDIT_MAX_RANGE_DAYS} days, or a cursor that was altered or belongs
 *   to other filters
 * @example
 * parseAuditQuery({ since: '2026-11-29T00:00:00Z', decision: 'denied' }, new Date())
 * // { filters: { since: '2026-11-29T00:00:00.000Z', until: <now>, decision: 'denied' }, limit: 100, position: { partition: 0 } }
 */
export function parseAuditQuery(params: Readonly<Record<string, string | undefined>>, now: Date): AuditQuery {
  for (const name of Object.keys(params)) {
    if (!ALLOWED.has(name)) {
      throw new InvalidRequestError(
        `unknown query parameter "${name.slice(0, 32)}"; use ${[...ALLOWED].join(', ')}`,
      );
    }
  }
  const limit = parseLimit(params.limit);
  const given = explicitFilters(params);
  if (params.cursor !== undefined) {
    const cursor = decodeCursor(params.cursor);
    for (const name of FILTER_NAMES) {
      const value = given[name];
      if (value !== undefined && value !== cursor.filters[name]) {
        throw new InvalidRequestError(`the cursor belongs to another query (${name} differs)`);
      }
    }
    validatePosition(planAuditQuery(cursor.filters), cursor.position);
    return { filters: cursor.filters, limit, position: cursor.position };
  }
  const until = given.until ?? now.toISOString();
  const since = given.since ?? new Date(Date.parse(until) - AUDIT_DEFAULT_RANGE_DAYS * DAY_MS).toISOString();
  if (since > until) throw new InvalidRequestError('since must not be after until');
  if (Date.parse(until) - Date.parse(since) > AUDIT_MAX_RANGE_DAYS * DAY_MS) {
    throw new InvalidRequestError(`since..until may span at most ${AUDIT_MAX_RANGE_DAYS} days`);
  }
  const filters: AuditFilters = { ...given, since, until };
  return { filters: compact(filters), limit, position: { partition: 0 } };
}

function explicitFilters(params: Readonly<Record<string, string | undefined>>): Partial<AuditFilters> {
  const out: Partial<AuditFilters> = {};
  if (params.since !== undefined) out.since = parseTime(params.since, 'since');
  if (params.until !== undefined) out.until = parseTime(params.until, 'until');
  if (params.caller !== undefined) out.caller = match(params.caller, CALLER_ID, 'caller');
  if (params.entitlement !== undefined)
    out.entitlement = match(params.entitlement, ENTITLEMENT_ID, 'entitlement');
  if (params.decision !== undefined) out.decision = match(params.decision, DECISION, 'decision');
  if (params.requestId !== undefined) out.requestId = match(params.requestId, REQUEST_ID, 'requestId');
  return out;
}

function parseTime(value: string, name: string): string {
  const ms = ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new InvalidRequestError(`${name} must be an ISO 8601 time such as 2026-11-29T10:00:00Z`);
  }
  return new Date(ms).toISOString();
}

function match(value: string, pattern: RegExp, name: string): string {
  if (!pattern.test(value)) throw new InvalidRequestError(`${name} is malformed`);
  return value;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return AUDIT_PAGE_DEFAULT;
  const n = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= AUDIT_PAGE_MAX)) {
    throw new InvalidRequestError(`limit must be a whole number from 1 to ${AUDIT_PAGE_MAX}`);
  }
  return n;
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
 * The UTC days from `until` back to `since`, newest first (`yyyy-mm-dd`).
 *
 * @example auditDays('2026-11-28T23:00:00.000Z', '2026-11-29T01:00:00.000Z') // ['2026-11-29', '2026-11-28']
 */
export function auditDays(since: string, until: string): string[] {
  const days: string[] = [];
  const first = Date.parse(`${since.slice(0, 10)}T00:00:00.000Z`);
  for (let t = Date.parse(`${until.slice(0, 10)}T00:00:00.000Z`); t >= first; t -= DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

interface CursorPayload {
  v: 1;
  f: AuditFilters;
  p: number;
  k?: Record<string, string>;
}

/**
 * Encodes where the next page starts.
 *
 * @example encodeCursor(filters, { partition: 2, startKey: { pk: 'AUDIT#2026-11-27', sk: '…' } }) // 'eyJ2Ijox…'
 */
export function encodeCursor(filters: AuditFilters, position: AuditPosition): string {
  const payload: CursorPayload = { v: 1, f: filters, p: position.partition };
  if (position.startKey) payload.k = position.startKey;
  const body = JSON.stringify(payload);
  return Buffer.from(JSON.stringify({ b: body, c: checksum(body) })).toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor}; anything else (edited, truncated, foreign) is a 400.
 * The position is checked against the filters by {@link parseAuditQuery}.
 */
export function decodeCursor(cursor: string): { filters: AuditFilters; position: AuditPosition } {
  const bad = (why: string) =>
    new InvalidRequestError(`the cursor is not valid (${why}); start again without it`);
  if (cursor.length === 0 || cursor.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad('format');
  let outer: unknown;
  try {
    outer = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('format');
  }
  const { b, c } = (outer ?? {}) as { b?: unknown; c?: unknown };
  if (typeof b !== 'string' || typeof c !== 'string' || checksum(b) !== c) throw bad('checksum');
  let payload: CursorPayload;
  try {
    payload = JSON.parse(b) as CursorPayload;
  } catch {
    throw bad('format');
  }
  if (payload?.v !== 1 || typeof payload.f !== 'object' || payload.f === null) throw bad('version');
  if (!Number.isInteger(payload.p) || payload.p < 0) throw bad('position');
  // The filters are re-validated exactly as if they had been given as parameters.
  const raw = payload.f as unknown as Record<string, unknown>;
  if (
    Object.entries(raw).some(
      ([k, v]) => !(FILTER_NAMES as readonly string[]).includes(k) || typeof v !== 'string',
    )
  ) {
    throw bad('filters');
  }
  let filters: AuditFilters;
  try {
    const f = explicitFilters(raw as Record<string, string>);
    if (f.since === undefined || f.until === undefined || f.since > f.until) throw bad('filters');
    filters = compact({ ...f, since: f.since, until: f.until });
  } catch {
    throw bad('filters');
  }
  const position: AuditPosition = { partition: payload.p };
  if (payload.k !== undefined) {
    if (
      typeof payload.k !== 'object' ||
      payload.k === null ||
      Object.values(payload.k).some((v) => typeof v !== 'string')
    ) {
      throw bad('key');
    }
    position.startKey = payload.k;
  }
  return { filters, position };
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

function checksum(body: string): string {
  return createHash('sha256').update(`vend-audit-cursor:${body}`).digest('base64url').slice(0, 22);
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
