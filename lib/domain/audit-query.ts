/**
 * Reading the audit trail (`GET /v1/audit`), as pure rules: which filters are valid, the page size,
 * the days a range covers, and the opaque pagination cursor. Which index and partitions answer a
 * query is the store's business (lib/audit/dynamo-audit-query.ts plans it from these filters).
 *
 * The cursor is base64url JSON carrying the resolved filters, the partition being read and the
 * store's position in it (DynamoDB's LastEvaluatedKey), plus a checksum. It is opaque to clients and
 * validated on the way back in: the checksum must match and the filters must be the same as given
 * (here), and the position must lie inside the partitions and time bounds those filters imply (the
 * store, before it reads), so an edited cursor is a 400 and can never widen a query beyond what
 * the same caller could ask for directly. (No server secret is involved: an auditor may read every
 * record, so the cursor protects correctness, not confidentiality; see docs/audit.md.)
 */
import { createHash } from 'node:crypto';
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

/**
 * Where to resume: the index of the partition in the store's plan, and the store's position inside
 * it (DynamoDB's ExclusiveStartKey, if mid-partition), opaque here.
 */
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
 *   to other filters (the position inside it is checked by the store)
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
    // Where the cursor resumes (a key of the store's) is checked by the store against the plan it
    // makes of these filters (AuditReader.page): the domain does not know the store's keys.
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
 * The position is checked against the filters by the store (lib/audit/dynamo-audit-query.ts).
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

function checksum(body: string): string {
  return createHash('sha256').update(`vend-audit-cursor:${body}`).digest('base64url').slice(0, 22);
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
