/**
 * Access requests in DynamoDB (the requests table, lib/dynamodb/tables.ts).
 *
 * One item per request under `keys.request(...)`: the {@link AccessRequest} fields as attributes,
 * plus `requesterId` and `voterIds` at the top level so the vote condition can name them, the
 * approval message's channel and ts, and `ttl` for cleanup. Every state change is ONE UpdateItem
 * whose ConditionExpression is built from the domain's {@link TransitionCondition} /
 * {@link VoteCondition}:
 *
 * ```
 * #status = :expectedStatus AND #version = :expectedVersion
 *   [AND expiresAt > :now]
 *   [AND NOT contains(voterIds, :approver) AND requesterId <> :approver]   -- votes
 * ```
 *
 * so two approvers clicking at the same moment produce exactly one transition: the second write
 * finds the version moved on. A failed condition is re-read (consistently) and reported as a
 * {@link RequestConflictError} whose reason says what happened (already voted, already decided,
 * expired, or only `stale`, which the use case retries). Expiry is decided in code: `ttl` only lets
 * DynamoDB delete old items eventually (a month after the request could last matter).
 *
 * Break-glass uses live in the same table under `keys.breakGlassUse(person, time, request)`.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { UpstreamUnavailableError } from '../domain/errors';
import {
  type AccessRequest,
  effectiveStatus,
  type RequestStatus,
  type TransitionCondition,
  type VoteCondition,
  voterIds,
} from '../domain/request';
import { type MessageRef, RequestConflictError, type RequestStore, type StoredRequest } from '../ports';
import { INDEX, keys } from './keys';

/** The requests table could not be read or written (503 `upstream_unavailable`). */
export class RequestStoreUnavailableError extends UpstreamUnavailableError {
  constructor(options?: { cause?: unknown }) {
    super('the request store is unavailable; retry shortly', 1, options);
    this.name = 'RequestStoreUnavailableError';
  }
}

/** How long after its last relevant instant an item may be cleaned up by TTL (30 days). */
const CLEANUP_AFTER_SECONDS = 30 * 86_400;

// The AccessRequest fields a transition may change; everything else is fixed at creation.
const MUTABLE = ['status', 'votes', 'version', 'decidedAt', 'grantStart', 'grantEnd'] as const;

/**
 * {@link RequestStore} on the requests table.
 *
 * @example
 * ```ts
 * const store = new DynamoRequestStore(dynamoDocuments, config().tables.requests, { now: () => new Date() });
 * await store.create(req);
 * const { next, condition } = castVote(req, { approver: bob, decision: 'approve', now, entitlement });
 * await store.applyTransition(next, condition); // or RequestConflictError
 * ```
 */
export class DynamoRequestStore implements RequestStore {
  private readonly now: () => Date;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async create(request: AccessRequest): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(request),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (isConditionalCheckFailed(e)) {
        throw new RequestConflictError(`request ${request.id} already exists`, 'exists', { cause: e });
      }
      throw new RequestStoreUnavailableError({ cause: e });
    }
  }

  async get(id: string): Promise<StoredRequest | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.requestItem(id), ConsistentRead: true }),
      );
      item = out.Item;
    } catch (e) {
      throw new RequestStoreUnavailableError({ cause: e });
    }
    return item === undefined ? undefined : fromItem(item);
  }

  async listByRequester(requesterId: string, options: { limit?: number } = {}): Promise<AccessRequest[]> {
    return this.query(INDEX.gsi1, 'gsi1pk', keys.requester(requesterId), options.limit);
  }

  async listByStatus(status: RequestStatus, options: { limit?: number } = {}): Promise<AccessRequest[]> {
    return this.query(INDEX.gsi2, 'gsi2pk', keys.requestStatus(status), options.limit);
  }

  async applyTransition(next: AccessRequest, condition: TransitionCondition | VoteCondition): Promise<void> {
    if (next.id !== condition.requestId || next.version !== condition.expectedVersion + 1) {
      throw new Error('applyTransition: next must be the condition request, one version on');
    }
    const names: Record<string, string> = { '#status': 'status', '#version': 'version' };
    const values: Record<string, unknown> = {
      ':expectedStatus': condition.expectedStatus,
      ':expectedVersion': condition.expectedVersion,
    };
    const sets: string[] = [];
    for (const field of MUTABLE) {
      const value = next[field];
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    values[':voterIds'] = voterIds(next);
    values[':gsi2pk'] = keys.requestStatus(next.status);
    values[':ttl'] = ttlOf(next);
    sets.push('voterIds = :voterIds', 'gsi2pk = :gsi2pk', '#ttl = :ttl');
    names['#ttl'] = 'ttl';

    const conditions = ['#status = :expectedStatus', '#version = :expectedVersion'];
    if (condition.notExpiredAt !== undefined) {
      names['#expiresAt'] = 'expiresAt';
      values[':now'] = condition.notExpiredAt;
      conditions.push('#expiresAt > :now');
    }
    if ('approverId' in condition) {
      values[':approver'] = condition.approverId;
      conditions.push('NOT contains(voterIds, :approver)', 'requesterId <> :approver');
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.requestItem(next.id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw new RequestStoreUnavailableError({ cause: e });
      throw await this.explain(condition, e);
    }
  }

  async setApprovalMessage(id: string, ref: MessageRef): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.requestItem(id),
          UpdateExpression: 'SET slackChannel = :c, slackTs = :t',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':c': ref.channel, ':t': ref.ts },
        }),
      );
    } catch (e) {
      if (isConditionalCheckFailed(e)) {
        throw new RequestConflictError(`request ${id} not found`, 'missing', { cause: e });
      }
      throw new RequestStoreUnavailableError({ cause: e });
    }
  }

  async recordBreakGlassUse(personId: string, at: Date, requestId: string): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.breakGlassUse(personId, at.toISOString(), requestId),
            at: at.toISOString(),
            requestId,
            ttl: Math.floor(at.getTime() / 1000) + CLEANUP_AFTER_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (isConditionalCheckFailed(e)) {
        throw new RequestConflictError(`break-glass use of ${requestId} already recorded`, 'exists', {
          cause: e,
        });
      }
      throw new RequestStoreUnavailableError({ cause: e });
    }
  }

  async breakGlassUsesSince(personId: string, since: Date): Promise<Date[]> {
    const uses: Date[] = [];
    try {
      let start: Record<string, unknown> | undefined;
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND sk >= :since',
            ExpressionAttributeValues: {
              ':pk': keys.breakGlassUses(personId),
              ':since': keys.timeBound(since.toISOString()),
            },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) {
          if (typeof item.at === 'string') uses.push(new Date(item.at));
        }
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (e) {
      throw new RequestStoreUnavailableError({ cause: e });
    }
    return uses;
  }

  private async query(index: string, attr: string, value: string, limit = 100): Promise<AccessRequest[]> {
    const out: AccessRequest[] = [];
    try {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index,
            KeyConditionExpression: `${attr} = :v`,
            ExpressionAttributeValues: { ':v': value },
            ScanIndexForward: false,
            Limit: limit - out.length,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) out.push(fromItem(item).request);
        start = page.LastEvaluatedKey;
      } while (start && out.length < limit);
    } catch (e) {
      if (e instanceof RequestStoreUnavailableError) throw e;
      throw new RequestStoreUnavailableError({ cause: e });
    }
    return out;
  }

  /** Re-read after a failed condition and say precisely why it failed. */
  private async explain(
    condition: TransitionCondition | VoteCondition,
    cause: unknown,
  ): Promise<RequestConflictError> {
    const id = condition.requestId;
    const stored = (await this.get(id))?.request;
    if (stored === undefined)
      return new RequestConflictError(`request ${id} not found`, 'missing', { cause });
    if ('approverId' in condition) {
      if (stored.requester.id === condition.approverId) {
        return new RequestConflictError(`you cannot vote on your own request ${id}`, 'self-approval', {
          cause,
        });
      }
      if (voterIds(stored).includes(condition.approverId)) {
        return new RequestConflictError(
          `you have already voted on request ${id}; one vote per person`,
          'already-voted',
          { cause },
        );
      }
    }
    const now = condition.notExpiredAt ? new Date(condition.notExpiredAt) : this.now();
    const status = effectiveStatus(stored, now);
    if (stored.status !== condition.expectedStatus) {
      return new RequestConflictError(`request ${id} is already ${status}`, 'decided', { cause });
    }
    if (condition.notExpiredAt !== undefined && !(stored.expiresAt > condition.notExpiredAt)) {
      return new RequestConflictError(`request ${id} expired unanswered at ${stored.expiresAt}`, 'expired', {
        cause,
      });
    }
    return new RequestConflictError(`request ${id} changed while you acted on it; retry`, 'stale', { cause });
  }
}

/** The stored item of a request. */
export function toItem(req: AccessRequest, ref?: MessageRef): Record<string, unknown> {
  return {
    ...req,
    ...keys.request({
      id: req.id,
      createdAt: req.createdAt,
      requesterId: req.requester.id,
      status: req.status,
    }),
    requesterId: req.requester.id,
    voterIds: voterIds(req),
    ttl: ttlOf(req),
    ...(ref ? { slackChannel: ref.channel, slackTs: ref.ts } : {}),
  };
}

const NOT_REQUEST_FIELDS = new Set([
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  'requesterId',
  'voterIds',
  'ttl',
  'slackChannel',
  'slackTs',
]);

/** Reads a stored item back; a malformed one throws (fails closed) rather than being half-read. */
export function fromItem(item: Record<string, unknown>): StoredRequest {
  const request = Object.fromEntries(
    Object.entries(item).filter(([k]) => !NOT_REQUEST_FIELDS.has(k)),
  ) as unknown as AccessRequest;
  if (
    typeof request.id !== 'string' ||
    typeof request.status !== 'string' ||
    typeof request.version !== 'number' ||
    !Array.isArray(request.votes) ||
    typeof request.requester?.id !== 'string'
  ) {
    throw new Error('malformed request item in the requests table');
  }
  const out: StoredRequest = { request };
  if (typeof item.slackChannel === 'string' && typeof item.slackTs === 'string') {
    out.approvalMessage = { channel: item.slackChannel, ts: item.slackTs };
  }
  return out;
}

function ttlOf(req: AccessRequest): number {
  const last = Math.max(Date.parse(req.expiresAt), req.grantEnd ? Date.parse(req.grantEnd) : 0);
  return Math.floor(last / 1000) + CLEANUP_AFTER_SECONDS;
}

function isConditionalCheckFailed(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}
