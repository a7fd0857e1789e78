/**
 * The Slack replay guard in DynamoDB (requests table, `keys.slackReplay`): a request is recorded by
 * a conditional put that succeeds only when the key is new or its remembered window has passed, so of
 * two concurrent deliveries of one request exactly one proceeds. `ttl` lets DynamoDB clean up; the
 * `until` check in the condition is what counts (TTL deletes late, and not at all locally).
 */
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ReplayGuard } from '../ports';
import { keys } from './keys';
import { RequestStoreUnavailableError } from './request-store';

/**
 * {@link ReplayGuard} on the requests table.
 * @example
 * ```ts
 * const guard = new DynamoReplayGuard(dynamoDocuments, config().tables.requests);
 * if (await guard.seen(verified.replayKey, REPLAY_TTL_SECONDS)) return refuse('replayed');
 * ```
 */
export class DynamoReplayGuard implements ReplayGuard {
  private readonly now: () => Date;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async seen(key: string, ttlSeconds: number): Promise<boolean> {
    const nowMs = this.now().getTime();
    const until = nowMs + ttlSeconds * 1000;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.slackReplay(key), until, ttl: Math.ceil(until / 1000) },
          ConditionExpression: 'attribute_not_exists(pk) OR #until <= :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      );
      return false;
    } catch (e) {
      if (e instanceof Error && e.name === 'ConditionalCheckFailedException') return true;
      // Fail closed: without the guard, a replay could not be told apart.
      throw new RequestStoreUnavailableError({ cause: e });
    }
  }
}
