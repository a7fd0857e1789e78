/**
 * Rate-limit counters in DynamoDB (limits table, `keys.rateCounter`): one item per (scope, window
 * start). Taking a use is ONE conditional UpdateItem, `ADD count 1` under
 * `attribute_not_exists(count) OR count < max`, so counting and checking cannot be split by a
 * concurrent vend (no read-then-write race, no transaction: dynalite has none). A full window is a
 * `ConditionalCheckFailedException`, and nothing is counted, so refused calls do not push a caller's
 * window further out.
 *
 * The window is in the key, computed from the use case's clock, so expiry is decided in code; the
 * `ttl` attribute (window end + {@link TTL_GRACE_SECONDS}) only lets DynamoDB delete old windows
 * (dynalite has no TTL; AWS deletes late, and nothing reads an old window anyway).
 *
 * Fails closed: any other error is {@link RateLimitStoreUnavailableError} (503 `upstream_unavailable`
 * with `Retry-After`), and the vend stops before the intent record and before STS.
 */
import { type DynamoDBDocumentClient, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { UpstreamUnavailableError } from '../domain/errors';
import type { RateCounter } from '../domain/rate-limit';
import type { RateLimitStore } from '../ports';
import { keys } from './keys';

/** How long after its window ends a counter item stays, for operators to look at (TTL then deletes it). */
export const TTL_GRACE_SECONDS = 3600;

/** The limits table could not be read or written (503 `upstream_unavailable`): nothing is vended. */
export class RateLimitStoreUnavailableError extends UpstreamUnavailableError {
  constructor(options?: { cause?: unknown }) {
    super('the rate limiter is unavailable; retry shortly', 1, options);
    this.name = 'RateLimitStoreUnavailableError';
  }
}

/**
 * The UpdateItem that takes one use of a counter. Exported so the benchmark's baseline makes exactly
 * the call a vend makes (bench/ops.ts).
 *
 * @example await client.send(new UpdateCommand(takeInput('vend-dev-limits', counter)));
 */
export function takeInput(tableName: string, counter: RateCounter): UpdateCommandInput {
  return {
    TableName: tableName,
    Key: keys.rateCounter(counter.scope, counter.window.start.toISOString()),
    UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
    ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
    ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
    ExpressionAttributeValues: {
      ':one': 1,
      ':max': counter.max,
      ':ttl': Math.ceil(counter.window.end.getTime() / 1000) + TTL_GRACE_SECONDS,
    },
  };
}

/**
 * {@link RateLimitStore} on the limits table.
 *
 * @example
 * ```ts
 * const limits = new DynamoRateLimitStore(dynamoDocuments, config().tables.limits);
 * if (!(await limits.take(counter))) throw rateLimitedError(counter, now);
 * ```
 */
export class DynamoRateLimitStore implements RateLimitStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async take(counter: RateCounter): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand(takeInput(this.tableName, counter)));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw new RateLimitStoreUnavailableError({ cause: e });
    }
  }

  async release(counter: RateCounter): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.rateCounter(counter.scope, counter.window.start.toISOString()),
          UpdateExpression: 'ADD #count :minusOne',
          ConditionExpression: '#count > :zero',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        }),
      );
    } catch (e) {
      // Nothing to give back (already zero, or the item is gone): the count is already right.
      if (isConditionFailure(e)) return;
      throw new RateLimitStoreUnavailableError({ cause: e });
    }
  }
}

function isConditionFailure(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}
