/**
 * The revocation ledger in DynamoDB (the requests table; one item per target role under
 * `keys.revocations(roleArn)`): the source of truth of each role's deny list (docs/revocation.md).
 *
 * The item holds `entries`, a map from entry key (lib/domain/revocation.ts `entryKey`) to the
 * entry, a `generation` number and the highest `published` generation. A revocation is ONE
 * UpdateItem:
 *
 * ```
 * SET entries.#new = :entry … REMOVE entries.#expired … ADD generation :one     (ReturnValues ALL_NEW)
 * ```
 *
 * DynamoDB applies updates to one item one at a time, and entries are immutable under unique keys,
 * so concurrent revocations each add their own entry and none is lost, without a read-modify-write
 * race to retry; pruning removes only entries that have expired, which no writer changes again.
 * The first revocation of a role creates the item with a conditional put.
 *
 * The publication lease is an attribute of the same item, `lease: {owner, until}`, taken with
 * `attribute_not_exists(lease) OR lease.until < :now` and given back on condition that the owner
 * still holds it: one publisher per role at a time (lib/usecases/sessions.ts).
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { UpstreamUnavailableError } from '../domain/errors';
import { entryKey, type RevocationEntry } from '../domain/revocation';
import type { LedgerState, RevocationLedger } from '../ports';
import { keys } from './keys';

/** The ledger could not be read or written (503 `upstream_unavailable`). */
export class RevocationLedgerUnavailableError extends UpstreamUnavailableError {
  constructor(options?: { cause?: unknown }) {
    super('the revocation ledger is unavailable; retry shortly', 1, options);
    this.name = 'RevocationLedgerUnavailableError';
  }
}

/** At most this many expired entries are pruned by one write (the rest by the next ones). */
const PRUNE_PER_WRITE = 50;

/**
 * {@link RevocationLedger} on the requests table.
 * @example
 * ```ts
 * const ledger = new DynamoRevocationLedger(dynamoDocuments, config().tables.requests);
 * const state = await ledger.record(roleArn, [{ kind: 'session', auditId, expiresAt }]);
 * ```
 */
export class DynamoRevocationLedger implements RevocationLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(roleArn: string): Promise<LedgerState> {
    try {
      const out = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.revocations(roleArn), ConsistentRead: true }),
      );
      return stateOf(roleArn, out.Item);
    } catch (e) {
      throw new RevocationLedgerUnavailableError({ cause: e });
    }
  }

  async record(
    roleArn: string,
    add: readonly RevocationEntry[],
    options: { prune?: readonly RevocationEntry[] } = {},
  ): Promise<LedgerState> {
    const adding = new Map(add.map((e) => [entryKey(e), e]));
    const pruning = [...new Set((options.prune ?? []).map(entryKey))]
      .filter((k) => !adding.has(k))
      .slice(0, PRUNE_PER_WRITE);
    // Created on first use; a creation race is lost at most once, then the update applies.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await this.update(roleArn, adding, pruning);
      } catch (e) {
        if (!isConditionalCheckFailed(e)) throw new RevocationLedgerUnavailableError({ cause: e });
      }
      try {
        const item = {
          ...keys.revocations(roleArn),
          roleArn,
          entries: Object.fromEntries(adding),
          generation: 1,
          published: 0,
        };
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return stateOf(roleArn, item);
      } catch (e) {
        if (!isConditionalCheckFailed(e)) throw new RevocationLedgerUnavailableError({ cause: e });
      }
    }
    throw new RevocationLedgerUnavailableError();
  }

  async markPublished(roleArn: string, generation: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.revocations(roleArn),
          UpdateExpression: 'SET published = :g',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(published) OR published < :g)',
          ExpressionAttributeValues: { ':g': generation },
        }),
      );
    } catch (e) {
      // Someone recorded a later publication first: nothing to do.
      if (isConditionalCheckFailed(e)) return;
      throw new RevocationLedgerUnavailableError({ cause: e });
    }
  }

  async acquire(roleArn: string, owner: string, until: Date, now: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.revocations(roleArn),
          UpdateExpression: 'SET #l = :lease',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#l) OR #l.#u < :now)',
          ExpressionAttributeNames: { '#l': 'lease', '#u': 'until' },
          ExpressionAttributeValues: {
            ':lease': { owner, until: until.toISOString() },
            ':now': now.toISOString(),
          },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionalCheckFailed(e)) return false;
      throw new RevocationLedgerUnavailableError({ cause: e });
    }
  }

  async release(roleArn: string, owner: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.revocations(roleArn),
          UpdateExpression: 'REMOVE #l',
          ConditionExpression: '#l.#o = :owner',
          ExpressionAttributeNames: { '#l': 'lease', '#o': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (e) {
      // Lapsed and taken by someone else: theirs now.
      if (isConditionalCheckFailed(e)) return;
      throw new RevocationLedgerUnavailableError({ cause: e });
    }
  }

  private async update(
    roleArn: string,
    adding: ReadonlyMap<string, RevocationEntry>,
    pruning: readonly string[],
  ): Promise<LedgerState> {
    const names: Record<string, string> = { '#e': 'entries', '#g': 'generation' };
    const values: Record<string, unknown> = { ':one': 1 };
    const sets: string[] = [];
    let i = 0;
    for (const [key, entry] of adding) {
      names[`#a${i}`] = key;
      values[`:a${i}`] = entry;
      sets.push(`#e.#a${i} = :a${i}`);
      i++;
    }
    const removes = pruning.map((key, j) => {
      names[`#p${j}`] = key;
      return `#e.#p${j}`;
    });
    const expression = [
      sets.length > 0 ? `SET ${sets.join(', ')}` : '',
      removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
      'ADD #g :one',
    ]
      .filter(Boolean)
      .join(' ');
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.revocations(roleArn),
        UpdateExpression: expression,
        ConditionExpression: 'attribute_exists(#e)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return stateOf(roleArn, out.Attributes);
  }
}

function stateOf(roleArn: string, item: Record<string, unknown> | undefined): LedgerState {
  if (item === undefined) return { roleArn, generation: 0, published: 0, entries: [] };
  const entries = item.entries;
  return {
    roleArn,
    generation: typeof item.generation === 'number' ? item.generation : 0,
    published: typeof item.published === 'number' ? item.published : 0,
    entries:
      entries !== null && typeof entries === 'object'
        ? (Object.values(entries as Record<string, unknown>).filter(isEntry) as RevocationEntry[])
        : [],
  };
}

function isEntry(v: unknown): v is RevocationEntry {
  if (v === null || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return (
    (e.kind === 'session' && typeof e.auditId === 'string' && typeof e.expiresAt === 'string') ||
    (e.kind === 'caller' && typeof e.sourceIdentity === 'string' && typeof e.before === 'string')
  );
}

function isConditionalCheckFailed(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}
