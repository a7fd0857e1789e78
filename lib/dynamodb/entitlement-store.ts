/**
 * Entitlement definitions in DynamoDB.
 *
 * One item per entitlement under `keys.entitlement(id)`. The item holds the definition's fields as
 * plain attributes (role ARN, ExternalId, durations, principals, gates) except the ceiling, which is
 * stored as a JSON string: an IAM policy document is data we never query into, and a string keeps
 * DynamoDB's type mapping (numbers, empty maps) from changing it on the way through.
 *
 * Every read goes through the domain's `parseEntitlement`, so a malformed record fails closed: `get`
 * throws (a deployment fault, answered as a generic 500, never as a grant), and `list` leaves the
 * record out and logs which one.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { parseEntitlement } from '../domain/entitlement';
import { EntitlementConfigError, UpstreamUnavailableError } from '../domain/errors';
import type { Entitlement } from '../domain/types';
import { log as defaultLog, type VendLog } from '../log';
import type { EntitlementStore } from '../ports';
import { keys } from './keys';

/** The entitlements table could not be read or written (503 `upstream_unavailable`). */
export class EntitlementStoreUnavailableError extends UpstreamUnavailableError {
  constructor(options?: { cause?: unknown }) {
    super('the entitlement store is unavailable; retry shortly', 1, options);
    this.name = 'EntitlementStoreUnavailableError';
  }
}

/** Options of {@link DynamoEntitlementStore}. */
export interface EntitlementStoreOptions {
  /**
   * Cold-path optimisation: keep reads for `ttlMs` so a warm Lambda serving a burst does not read the
   * same item on every request. 0 (default) disables it, so a revoked entitlement stops working on
   * the next request; with a TTL, a change takes up to `ttlMs` to be seen by warm containers.
   */
  cacheTtlMs?: number;
  /** Milliseconds clock for the cache (tests pass their own). */
  now?: () => number;
  log?: VendLog;
}

interface Cached<T> {
  value: T;
  expiresAt: number;
}

/**
 * {@link EntitlementStore} on a DynamoDB table (see ./tables.ts `entitlements`).
 *
 * @example
 * const store = new DynamoEntitlementStore(dynamoDocuments, config().tables.entitlements);
 * const ent = await store.get('prod-readonly');
 */
export class DynamoEntitlementStore implements EntitlementStore {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly log: VendLog;
  private readonly byId = new Map<string, Cached<Entitlement | undefined>>();
  private all: Cached<Entitlement[]> | undefined;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: EntitlementStoreOptions = {},
  ) {
    this.ttlMs = options.cacheTtlMs ?? 0;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? defaultLog;
  }

  async get(id: string): Promise<Entitlement | undefined> {
    const hit = this.fresh(this.byId.get(id));
    if (hit) return hit.value;
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.entitlement(id), ConsistentRead: true }),
      );
      item = out.Item;
    } catch (e) {
      throw new EntitlementStoreUnavailableError({ cause: e });
    }
    const value = item === undefined ? undefined : fromItem(item);
    this.remember(this.byId, id, value);
    return value;
  }

  async list(): Promise<Entitlement[]> {
    const hit = this.fresh(this.all);
    if (hit) return hit.value;
    const items: Record<string, unknown>[] = [];
    try {
      // A scan is right here: the table holds a few dozen small definitions and nothing else.
      let start: Record<string, unknown> | undefined;
      do {
        const out = await this.client.send(
          new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (e) {
      throw new EntitlementStoreUnavailableError({ cause: e });
    }
    const entitlements: Entitlement[] = [];
    for (const item of items) {
      if (!keys.isEntitlement(item)) continue;
      try {
        entitlements.push(fromItem(item));
      } catch (e) {
        if (!(e instanceof EntitlementConfigError)) throw e;
        this.log.error('malformed entitlement record skipped', {
          entitlement: e.entitlement,
          errorName: e.name,
          errorMessage: e.message,
        });
      }
    }
    entitlements.sort((a, b) => a.id.localeCompare(b.id));
    if (this.ttlMs > 0) this.all = { value: entitlements, expiresAt: this.now() + this.ttlMs };
    return entitlements;
  }

  async put(entitlement: Entitlement): Promise<void> {
    // Validate before writing so the store never holds what it would refuse to read.
    const valid = parseEntitlement(entitlement);
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: toItem(valid) }));
    } catch (e) {
      throw new EntitlementStoreUnavailableError({ cause: e });
    }
    this.byId.delete(valid.id);
    this.all = undefined;
  }

  private fresh<T>(entry: Cached<T> | undefined): Cached<T> | undefined {
    return entry && this.ttlMs > 0 && entry.expiresAt > this.now() ? entry : undefined;
  }

  private remember<T>(map: Map<string, Cached<T>>, key: string, value: T): void {
    if (this.ttlMs > 0) map.set(key, { value, expiresAt: this.now() + this.ttlMs });
  }
}

/** The stored item for an entitlement. Exported for seeding tools that write items directly. */
export function toItem(ent: Entitlement): Record<string, unknown> {
  const { ceiling, ...rest } = ent;
  return {
    ...keys.entitlement(ent.id),
    ...rest,
    ...(ceiling === undefined ? {} : { ceiling: JSON.stringify(ceiling) }),
  };
}

/** Parses a stored item; throws EntitlementConfigError for anything malformed. */
export function fromItem(item: Record<string, unknown>): Entitlement {
  const { pk: _pk, sk: _sk, ceiling, ...rest } = item;
  const id = typeof rest.id === 'string' ? rest.id : '(unnamed)';
  let parsedCeiling: unknown;
  if (ceiling !== undefined) {
    if (typeof ceiling !== 'string') {
      throw new EntitlementConfigError(id, 'ceiling', 'must be stored as a JSON string');
    }
    try {
      parsedCeiling = JSON.parse(ceiling);
    } catch (e) {
      throw new EntitlementConfigError(id, 'ceiling', 'is not valid JSON', { cause: e });
    }
  }
  const entitlement = parseEntitlement({
    ...rest,
    ...(parsedCeiling === undefined ? {} : { ceiling: parsedCeiling }),
  });
  // The key must agree with the body, or a copied item could answer for the wrong id.
  if (typeof item.pk === 'string' && item.pk !== keys.entitlement(entitlement.id).pk) {
    throw new EntitlementConfigError(entitlement.id, 'id', 'does not match the item key');
  }
  return entitlement;
}
