/**
 * THE key builder: every DynamoDB key vend writes or queries is built here, so prefixes such as
 * `ENT#` live in exactly one file (Common Fate's `keys.*` pattern).
 *
 * All tables use the same generic attribute names, `pk`/`sk` for the base table and
 * `gsi1pk`/`gsi1sk`, `gsi2pk`/`gsi2sk` for up to two global secondary indexes, so an item's meaning
 * lives in its key values, not in per-table attribute names (see ./tables.ts).
 *
 * Sort keys that order by time are `<ISO-8601 UTC time>#<id>`: ISO strings with a fixed `Z` suffix
 * sort lexically in time order, and the id suffix keeps two records in the same millisecond apart.
 */
import { auditPlacement, type StoredAuditRecord } from '../domain/audit-chain';
import type { LimitScope } from '../domain/rate-limit';

/** A base-table key. */
export interface Key {
  pk: string;
  sk: string;
}

/** The key attributes an audit record carries: base key plus both index keys. */
export interface AuditKeys extends Key {
  gsi1pk: string;
  gsi1sk: string;
  gsi2pk: string;
  gsi2sk: string;
}

/** The key attributes a session item carries. */
export interface SessionKeys extends Key {
  gsi1pk: string;
  gsi1sk: string;
  gsi2pk: string;
  gsi2sk: string;
}

/** The key attributes a request item carries. */
export interface RequestKeys extends Key {
  gsi1pk: string;
  gsi1sk: string;
  gsi2pk: string;
  gsi2sk: string;
}

/** Index names, shared by the table definitions and the queries. */
export const INDEX = {
  /** Audit: by caller. Requests: by requester. */
  gsi1: 'gsi1',
  /** Audit: by entitlement. Requests: by status. */
  gsi2: 'gsi2',
} as const;

const ENTITLEMENT_PREFIX = 'ENT#';
const ENTITLEMENT_SK = 'ENTITLEMENT';
const AUDIT_DAY_PREFIX = 'AUDIT#';
const AUDIT_CALLER_PREFIX = 'AUDIT_CALLER#';
const AUDIT_ENTITLEMENT_PREFIX = 'AUDIT_ENT#';
const AUDIT_DIGEST_PARTITION = 'AUDIT_DIGEST';
const REQUEST_PREFIX = 'REQ#';
const REQUEST_SK = 'REQUEST';
const REQUESTER_PREFIX = 'REQUESTER#';
const REQUEST_STATUS_PREFIX = 'REQ_STATUS#';
const REVIEW_PREFIX = 'REVIEW#';
const REVIEW_SK = 'REVIEW';
const REVIEW_STATUS_PREFIX = 'REVIEW_STATUS#';
const BREAK_GLASS_USE_PREFIX = 'BREAKGLASS#';
const SLACK_BINDING_PREFIX = 'SLACK_BINDING#';
const SLACK_PERSON_PREFIX = 'SLACK_PERSON#';
const SLACK_PERSON_SK = 'SLACK_PERSON';
const SLACK_REPLAY_PREFIX = 'SLACK_REPLAY#';
const SLACK_REPLAY_SK = 'REPLAY';
const RATE_CALLER_PREFIX = 'RATE_CALLER#';
const RATE_ENTITLEMENT_PREFIX = 'RATE_ENT#';
const RATE_REQUESTER_PREFIX = 'RATE_REQUESTER#';
const SESSION_PREFIX = 'SESSION#';
const SESSION_SK = 'SESSION';
const SESSION_CALLER_PREFIX = 'SESSION_CALLER#';
const SESSION_ENTITLEMENT_PREFIX = 'SESSION_ENT#';
const REVOCATIONS_PREFIX = 'REVOCATIONS#';
const REVOCATIONS_SK = 'REVOCATIONS';

/** `2026-11-29T10:15:00.000Z` → `2026-11-29`. Throws on anything that is not a UTC ISO time. */
function utcDay(isoTime: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(isoTime)) {
    throw new Error(`keys: expected an ISO-8601 UTC time ending in Z, got "${isoTime.slice(0, 40)}"`);
  }
  return isoTime.slice(0, 10);
}

function timeOrdered(isoTime: string, id: string): string {
  utcDay(isoTime);
  return `${isoTime}#${id}`;
}

/**
 * Key builders.
 *
 * @example
 * keys.entitlement('prod-readonly');          // { pk: 'ENT#prod-readonly', sk: 'ENTITLEMENT' }
 * keys.auditDay('2026-11-29');               // 'AUDIT#2026-11-29' (the partition to Query newest-first)
 */
export const keys = {
  /** The one item holding an entitlement definition. */
  entitlement(id: string): Key {
    return { pk: ENTITLEMENT_PREFIX + id, sk: ENTITLEMENT_SK };
  },
  /** Whether a base-table key belongs to an entitlement item (for the list scan). */
  isEntitlement(key: Partial<Key>): boolean {
    return key.sk === ENTITLEMENT_SK && typeof key.pk === 'string' && key.pk.startsWith(ENTITLEMENT_PREFIX);
  },

  /**
   * All keys of one audit record: its placement in the trail (lib/domain/audit-chain.ts
   * `auditPlacement`) as table keys. Base table: one partition per UTC day, newest-first by sort
   * key. GSI1: by caller id. GSI2: by entitlement (records without one go under `-`).
   */
  audit(record: { id: string; time: string; caller?: { id: string }; entitlement?: string }): AuditKeys {
    utcDay(record.time);
    const placement = auditPlacement(record);
    return {
      pk: keys.auditDay(placement.day),
      sk: placement.order,
      gsi1pk: keys.auditCaller(placement.caller),
      gsi1sk: placement.order,
      gsi2pk: keys.auditEntitlement(placement.entitlement),
      gsi2sk: placement.order,
    };
  },
  /**
   * The reverse of {@link keys.audit}, for an item read back: its content without the key
   * attributes, and the placement its keys name (`undefined` unless all six are strings with the
   * right prefixes and the three sort keys agree). The verifier compares that placement with the
   * one the content implies.
   *
   * @example keys.storedAudit({ ...record, ...keys.audit(record) }) // { content: record, filedAt: auditPlacement(record) }
   */
  storedAudit(item: Record<string, unknown>): StoredAuditRecord {
    const content = Object.fromEntries(Object.entries(item).filter(([k]) => !KEY_ATTRIBUTE_SET.has(k)));
    const { pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk } = item;
    const filed =
      typeof pk === 'string' &&
      typeof sk === 'string' &&
      typeof gsi1pk === 'string' &&
      typeof gsi2pk === 'string' &&
      gsi1sk === sk &&
      gsi2sk === sk &&
      pk.startsWith(AUDIT_DAY_PREFIX) &&
      gsi1pk.startsWith(AUDIT_CALLER_PREFIX) &&
      gsi2pk.startsWith(AUDIT_ENTITLEMENT_PREFIX);
    return {
      content,
      filedAt: filed
        ? {
            day: pk.slice(AUDIT_DAY_PREFIX.length),
            caller: gsi1pk.slice(AUDIT_CALLER_PREFIX.length),
            entitlement: gsi2pk.slice(AUDIT_ENTITLEMENT_PREFIX.length),
            order: sk,
          }
        : undefined,
    };
  },
  /** Partition key of one UTC day of audit records (`yyyy-mm-dd`). */
  auditDay(day: string): string {
    return AUDIT_DAY_PREFIX + day;
  },
  /** GSI1 partition key of one caller's audit records. */
  auditCaller(callerId: string): string {
    return AUDIT_CALLER_PREFIX + callerId;
  },
  /** GSI2 partition key of one entitlement's audit records. */
  auditEntitlement(entitlement: string): string {
    return AUDIT_ENTITLEMENT_PREFIX + entitlement;
  },
  /**
   * Sort-key bound for time-range queries: `sk BETWEEN timeBound(since) AND timeBound(until, true)`.
   * `#` sorts before every id character and `~` after, so the bounds are inclusive of that instant.
   */
  timeBound(isoTime: string, upper = false): string {
    utcDay(isoTime);
    return `${isoTime}#${upper ? '~' : ''}`;
  },

  /**
   * The key of one audit digest (lib/domain/audit-chain.ts), stored in the audit table under a
   * partition of its own: `AUDIT_DIGEST` / `<interval start>`. One partition holds the whole chain
   * (hourly: 8,760 items a year), so "the latest digest" and "the digests between two times" are
   * single Queries. `AUDIT_DIGEST` does not start with `AUDIT#`, so day-partition reads never see a
   * digest, and digests carry no gsi attributes, so they stay out of both (sparse) indexes.
   */
  auditDigest(intervalStart: string): Key {
    utcDay(intervalStart);
    return { pk: AUDIT_DIGEST_PARTITION, sk: intervalStart };
  },
  /** The partition key holding every audit digest. */
  auditDigestPartition(): string {
    return AUDIT_DIGEST_PARTITION;
  },
  /**
   * The sealer's head (lib/ports/audit.ts `SealHead`): one item in the audit-seals table, not in
   * the audit table, so that deleting from (or restoring) the audit table cannot roll it back.
   */
  auditSealHead(): Key {
    return { pk: 'AUDIT_SEALER', sk: 'HEAD' };
  },

  /**
   * All keys of one access request. GSI1: by requester, newest first. GSI2: by status, newest first
   * (status changes rewrite gsi2pk in the same conditional update that changes the status).
   */
  request(req: { id: string; createdAt: string; requesterId: string; status: string }): RequestKeys {
    const sk = timeOrdered(req.createdAt, req.id);
    return {
      ...keys.requestItem(req.id),
      gsi1pk: REQUESTER_PREFIX + req.requesterId,
      gsi1sk: sk,
      gsi2pk: keys.requestStatus(req.status),
      gsi2sk: sk,
    };
  },
  /** The base-table key of a request, for Get/Update by id. */
  requestItem(id: string): Key {
    return { pk: REQUEST_PREFIX + id, sk: REQUEST_SK };
  },
  /** GSI1 partition key of one requester's requests. */
  requester(requesterId: string): string {
    return REQUESTER_PREFIX + requesterId;
  },
  /** GSI2 partition key of the requests in one status. */
  requestStatus(status: string): string {
    return REQUEST_STATUS_PREFIX + status;
  },

  /**
   * All keys of one break-glass review item (requests table). GSI2: by review status, oldest first,
   * so `open` reviews are one Query.
   */
  review(item: { id: string; openedAt: string; status: string }): Key & { gsi2pk: string; gsi2sk: string } {
    return {
      ...keys.reviewItem(item.id),
      gsi2pk: keys.reviewStatus(item.status),
      gsi2sk: timeOrdered(item.openedAt, item.id),
    };
  },
  /** The base-table key of a review item. */
  reviewItem(id: string): Key {
    return { pk: REVIEW_PREFIX + id, sk: REVIEW_SK };
  },
  /** GSI2 partition key of the review items in one status (`open`, `signed-off`). */
  reviewStatus(status: string): string {
    return REVIEW_STATUS_PREFIX + status;
  },
  /**
   * One break-glass use by one person (requests table): the partition is the person, the sort key
   * the time, so "uses in the last day" is one Query with `sk >= timeBound(since)`.
   */
  breakGlassUse(personId: string, at: string, requestId: string): Key {
    return { pk: keys.breakGlassUses(personId), sk: timeOrdered(at, requestId) };
  },
  /** Partition key of one person's break-glass uses. */
  breakGlassUses(personId: string): string {
    return BREAK_GLASS_USE_PREFIX + personId;
  },
  /** A Slack user's binding to a person (requests table), by workspace and Slack user id. */
  slackBinding(teamId: string, slackUserId: string): Key {
    return { pk: `${SLACK_BINDING_PREFIX}${teamId}`, sk: slackUserId };
  },
  /** The reverse of {@link keys.slackBinding}: where a person is told things in Slack. */
  slackPerson(personId: string): Key {
    return { pk: SLACK_PERSON_PREFIX + personId, sk: SLACK_PERSON_SK };
  },
  /** A Slack request already handled (replay guard); the key is already a hash. */
  slackReplay(replayKey: string): Key {
    return { pk: SLACK_REPLAY_PREFIX + replayKey, sk: SLACK_REPLAY_SK };
  },

  /**
   * One rate-limit counter (limits table): the partition is what is counted, the sort key the start
   * of its fixed window (lib/domain/rate-limit.ts), so each window is its own item and an old
   * window's item is never read again (TTL deletes it later; nothing depends on when).
   * - `RATE_CALLER#<entitlement>#<caller id>`: one caller's vends of one entitlement;
   * - `RATE_ENT#<entitlement>`: every caller's vends of one entitlement;
   * - `RATE_REQUESTER#<caller id>`: access requests one person opened.
   * The entitlement id comes first in the caller key: ids never contain `#`, caller ids may.
   *
   * @example keys.rateCounter({ kind: 'entitlement', entitlement: 'prod-readonly' }, '2026-11-29T10:00:00.000Z')
   * // { pk: 'RATE_ENT#prod-readonly', sk: '2026-11-29T10:00:00.000Z' }
   */
  rateCounter(scope: LimitScope, windowStart: string): Key {
    utcDay(windowStart);
    const pk =
      scope.kind === 'caller'
        ? `${RATE_CALLER_PREFIX}${scope.entitlement}#${scope.callerId}`
        : scope.kind === 'entitlement'
          ? RATE_ENTITLEMENT_PREFIX + scope.entitlement
          : RATE_REQUESTER_PREFIX + scope.callerId;
    return { pk, sk: windowStart };
  },

  /**
   * All keys of one session vend handed out (requests table; lib/dynamodb/session-store.ts). The
   * index sort keys order by expiry, so "live sessions" is one Query with `gsi?sk > timeBound(now, true)`:
   * - GSI1 `SESSION_CALLER#<caller id>`: one caller's sessions (`GET /v1/sessions`, `--caller`);
   * - GSI2 `SESSION_ENT#<entitlement>`: one entitlement's (`all=true` for its approvers).
   *
   * @example keys.session({ auditId: '01KB…', callerId: 'http://…/oidc#alice', entitlement: 'prod-readonly', expiresAt: '2026-11-29T10:15:00Z' })
   * // { pk: 'SESSION#01KB…', sk: 'SESSION', gsi1pk: 'SESSION_CALLER#http://…/oidc#alice', gsi1sk: '2026-11-29T10:15:00.000Z#01KB…', … }
   */
  session(s: { auditId: string; callerId: string; entitlement: string; expiresAt: string }): SessionKeys {
    const sk = timeOrdered(new Date(s.expiresAt).toISOString(), s.auditId);
    return {
      ...keys.sessionItem(s.auditId),
      gsi1pk: keys.sessionsOfCaller(s.callerId),
      gsi1sk: sk,
      gsi2pk: keys.sessionsOfEntitlement(s.entitlement),
      gsi2sk: sk,
    };
  },
  /** The base-table key of a session, by audit id. */
  sessionItem(auditId: string): Key {
    return { pk: SESSION_PREFIX + auditId, sk: SESSION_SK };
  },
  /** GSI1 partition key of one caller's sessions. */
  sessionsOfCaller(callerId: string): string {
    return SESSION_CALLER_PREFIX + callerId;
  },
  /** GSI2 partition key of one entitlement's sessions. */
  sessionsOfEntitlement(entitlement: string): string {
    return SESSION_ENTITLEMENT_PREFIX + entitlement;
  },
  /**
   * The revocation ledger of one target role (requests table; lib/dynamodb/revocation-ledger.ts):
   * the live deny-list entries and the generation number, one item per role.
   * @example keys.revocations('arn:aws:iam::444455556666:role/ProdReadOnly') // { pk: 'REVOCATIONS#arn:aws:iam::444455556666:role/ProdReadOnly', sk: 'REVOCATIONS' }
   */
  revocations(roleArn: string): Key {
    return { pk: REVOCATIONS_PREFIX + roleArn, sk: REVOCATIONS_SK };
  },
} as const;

/** Names of the key attributes, for condition expressions (`attribute_not_exists(pk)`). */
export const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'] as const;

const KEY_ATTRIBUTE_SET: ReadonlySet<string> = new Set(KEY_ATTRIBUTES);
