/**
 * Break-glass review items in the requests table (`keys.review`): one per break-glass request, with
 * the same id as the request, so "the review of request X" is a GetItem. The reviews in one status
 * are one Query on gsi2 (`REVIEW_STATUS#open`, `REVIEW_STATUS#signed-off`). Sign-off is one conditional update (`status = open AND version =
 * :v`), so two reviewers signing at once produce one sign-off and one ConflictError.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ReviewItem } from '../domain/break-glass';
import { ConflictError } from '../domain/errors';
import type { ReviewStore } from '../ports';
import { INDEX, keys } from './keys';
import { RequestStoreUnavailableError } from './request-store';

const NOT_REVIEW_FIELDS = new Set(['pk', 'sk', 'gsi2pk', 'gsi2sk']);

/**
 * {@link ReviewStore} on the requests table.
 * @example
 * ```ts
 * const reviews = new DynamoReviewStore(dynamoDocuments, config().tables.requests);
 * await reviews.open(openReview({ id: bg.id, request: bg, now }));
 * ```
 */
export class DynamoReviewStore implements ReviewStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async open(review: ReviewItem): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...review, ...keys.review(review) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (isConditionalCheckFailed(e)) {
        throw new ConflictError(`review ${review.id} already exists`, { cause: e });
      }
      throw new RequestStoreUnavailableError({ cause: e });
    }
  }

  async get(id: string): Promise<ReviewItem | undefined> {
    try {
      const out = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.reviewItem(id), ConsistentRead: true }),
      );
      return out.Item === undefined ? undefined : fromItem(out.Item);
    } catch (e) {
      throw new RequestStoreUnavailableError({ cause: e });
    }
  }

  async forRequest(requestId: string): Promise<ReviewItem | undefined> {
    // A review takes its request's id (see the use case), so this is a GetItem.
    const review = await this.get(requestId);
    return review?.requestId === requestId ? review : undefined;
  }

  async listOpen(options: { limit?: number } = {}): Promise<ReviewItem[]> {
    return this.listByStatus('open', options);
  }

  async listByStatus(status: ReviewItem['status'], options: { limit?: number } = {}): Promise<ReviewItem[]> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX.gsi2,
          KeyConditionExpression: 'gsi2pk = :v',
          ExpressionAttributeValues: { ':v': keys.reviewStatus(status) },
          // Open ones longest-waiting first; signed-off ones most recent first (the history grows).
          ScanIndexForward: status === 'open',
          Limit: options.limit ?? 100,
        }),
      );
      return (out.Items ?? []).map(fromItem);
    } catch (e) {
      throw new RequestStoreUnavailableError({ cause: e });
    }
  }

  async signOff(next: ReviewItem): Promise<void> {
    if (next.status !== 'signed-off' || next.signedOffBy === undefined || next.at === undefined) {
      throw new Error('signOff: next must be a signed-off review');
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.reviewItem(next.id),
          UpdateExpression:
            'SET #status = :next, signedOffBy = :by, #at = :at, #version = :version, gsi2pk = :gsi2pk',
          ConditionExpression: '#status = :open AND #version = :expected',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version', '#at': 'at' },
          ExpressionAttributeValues: {
            ':next': next.status,
            ':by': next.signedOffBy,
            ':at': next.at,
            ':version': next.version,
            ':expected': next.version - 1,
            ':open': 'open',
            ':gsi2pk': keys.reviewStatus(next.status),
          },
        }),
      );
    } catch (e) {
      if (isConditionalCheckFailed(e)) {
        throw new ConflictError(`the review of break-glass request ${next.requestId} is already signed off`, {
          cause: e,
        });
      }
      throw new RequestStoreUnavailableError({ cause: e });
    }
  }
}

function fromItem(item: Record<string, unknown>): ReviewItem {
  const review = Object.fromEntries(
    Object.entries(item).filter(([k]) => !NOT_REVIEW_FIELDS.has(k)),
  ) as unknown as ReviewItem;
  if (
    typeof review.id !== 'string' ||
    typeof review.requestId !== 'string' ||
    typeof review.version !== 'number'
  ) {
    throw new Error('malformed review item in the requests table');
  }
  return review;
}

function isConditionalCheckFailed(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}
