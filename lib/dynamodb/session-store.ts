/**
 * Live sessions in DynamoDB (the requests table; keys from `keys.session`).
 *
 * One item per session vend handed out, written once (`attribute_not_exists(pk)`) right after the
 * `issued` audit record, and changed once at most: the revocation, a conditional update
 * (`attribute_not_exists(revocation)`), so two people revoking the same session at once produce one
 * revocation and one 409. Listing is a Query on an index whose sort key is the expiry, from now on:
 * no scan, and expired sessions are never read. `ttl` (a week after expiry) only cleans up; expiry
 * is always decided in code.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, UpstreamUnavailableError } from '../domain/errors';
import type { SessionRecord, SessionRevocation } from '../domain/sessions';
import type { SessionStore } from '../ports';
import { INDEX, keys } from './keys';

/** The session store could not be read or written (503 `upstream_unavailable`). */
export class SessionStoreUnavailableError extends UpstreamUnavailableError {
  constructor(options?: { cause?: unknown }) {
    super('the session store is unavailable; retry shortly', 1, options);
    this.name = 'SessionStoreUnavailableError';
  }
}

/** How long after expiry a session item may be deleted by TTL (a week: `vend sessions` never shows it). */
const CLEANUP_AFTER_SECONDS = 7 * 86_400;

/**
 * The most sessions one listing reads (per caller or per entitlement). A listing is of live
 * sessions only, which the rate limits keep far below this (docs/rate-limits.md).
 */
export const LIST_MAX = 1000;

const NOT_RECORD_FIELDS = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'ttl', 'callerId']);

/**
 * {@link SessionStore} on the requests table.
 * @example
 * ```ts
 * const sessions = new DynamoSessionStore(dynamoDocuments, config().tables.requests);
 * await sessions.put(record);
 * ```
 */
export class DynamoSessionStore implements SessionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(record: SessionRecord): Promise<void> {
    const item = {
      ...record,
      ...keys.session({
        auditId: record.auditId,
        callerId: record.caller.id,
        entitlement: record.entitlement,
        expiresAt: record.expiresAt,
      }),
      ttl: Math.floor(Date.parse(record.expiresAt) / 1000) + CLEANUP_AFTER_SECONDS,
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (isConditionalCheckFailed(e)) {
        throw new ConflictError(`session ${record.auditId} already exists`, { cause: e });
      }
      throw new SessionStoreUnavailableError({ cause: e });
    }
  }

  async get(auditId: string): Promise<SessionRecord | undefined> {
    try {
      const out = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.sessionItem(auditId), ConsistentRead: true }),
      );
      return out.Item === undefined ? undefined : fromItem(out.Item);
    } catch (e) {
      throw new SessionStoreUnavailableError({ cause: e });
    }
  }

  listByCaller(callerId: string, now: Date): Promise<SessionRecord[]> {
    return this.live(INDEX.gsi1, 'gsi1', keys.sessionsOfCaller(callerId), now);
  }

  listByEntitlement(entitlement: string, now: Date): Promise<SessionRecord[]> {
    return this.live(INDEX.gsi2, 'gsi2', keys.sessionsOfEntitlement(entitlement), now);
  }

  async markRevoked(auditId: string, revocation: SessionRevocation): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.sessionItem(auditId),
          UpdateExpression: 'SET revocation = :r',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revocation)',
          ExpressionAttributeValues: { ':r': revocation },
        }),
      );
    } catch (e) {
      if (isConditionalCheckFailed(e)) {
        throw new ConflictError(`session ${auditId} is already revoked`, { cause: e });
      }
      throw new SessionStoreUnavailableError({ cause: e });
    }
  }

  private async live(
    index: string,
    prefix: 'gsi1' | 'gsi2',
    pk: string,
    now: Date,
  ): Promise<SessionRecord[]> {
    const found: SessionRecord[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index,
            KeyConditionExpression: `${prefix}pk = :pk AND ${prefix}sk > :now`,
            ExpressionAttributeValues: { ':pk': pk, ':now': keys.timeBound(now.toISOString(), true) },
            ...(start ? { ExclusiveStartKey: start } : {}),
            Limit: Math.min(200, LIST_MAX - found.length),
          }),
        );
        for (const item of out.Items ?? []) found.push(fromItem(item));
        start = out.LastEvaluatedKey;
      } while (start !== undefined && found.length < LIST_MAX);
    } catch (e) {
      throw new SessionStoreUnavailableError({ cause: e });
    }
    // The key bound already leaves expired sessions out; the clock decides, whatever the index says.
    return found.filter((s) => Date.parse(s.expiresAt) > now.getTime());
  }
}

function fromItem(item: Record<string, unknown>): SessionRecord {
  return Object.fromEntries(
    Object.entries(item).filter(([k]) => !NOT_RECORD_FIELDS.has(k)),
  ) as unknown as SessionRecord;
}

function isConditionalCheckFailed(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}
