/**
 * The rate-limit store against a real dynalite: one conditional write decides each use, so a burst
 * of concurrent takes admits exactly `max`; refused takes count nothing; windows are separate items;
 * `ttl` only cleans up; a give-back never goes below zero; an unreachable table fails closed. And an
 * entitlement's `rateLimit` survives the entitlement table.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEntitlement } from '../../../lib/domain/entitlement';
import { type LimitScope, type RateCounter, windowOf } from '../../../lib/domain/rate-limit';
import { DynamoEntitlementStore } from '../../../lib/dynamodb/entitlement-store';
import { keys } from '../../../lib/dynamodb/keys';
import {
  DynamoRateLimitStore,
  RateLimitStoreUnavailableError,
  TTL_GRACE_SECONDS,
} from '../../../lib/dynamodb/rate-limit-store';
import { type LocalDynamo, startDynalite } from './harness';

const T0 = new Date('2026-11-29T10:00:05.000Z');
let dynamo: LocalDynamo;
let table: string;
let store: DynamoRateLimitStore;
let n = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable('limits');
  store = new DynamoRateLimitStore(dynamo.documents, table);
});
afterAll(async () => {
  await dynamo.close();
});

/** A counter of its own per test, so specs do not share counts. */
function counter(max: number, at: Date = T0, scope?: LimitScope): RateCounter {
  n += 1;
  return {
    scope: scope ?? {
      kind: 'caller',
      callerId: `arn:aws:iam::111122223333:role/Spec${n}`,
      entitlement: 'prod-readonly',
    },
    max,
    windowSeconds: 60,
    window: windowOf(at, 60),
  };
}

async function item(c: RateCounter): Promise<Record<string, unknown> | undefined> {
  const out = await dynamo.documents.send(
    new GetCommand({
      TableName: table,
      Key: keys.rateCounter(c.scope, c.window.start.toISOString()),
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

describe('DynamoRateLimitStore.take', () => {
  it('admits up to max, then refuses without counting the refusals', async () => {
    const c = counter(3);

    const results = [];
    for (let i = 0; i < 5; i++) results.push(await store.take(c));

    expect(results).toEqual([true, true, true, false, false]);
    expect((await item(c))?.count).toBe(3);
  });

  it('admits exactly max of a concurrent burst (one conditional write per use, no read-then-write race)', async () => {
    const c = counter(10);

    const results = await Promise.all(Array.from({ length: 40 }, () => store.take(c)));

    expect(results.filter(Boolean)).toHaveLength(10);
    expect((await item(c))?.count).toBe(10);
  });

  it('keeps each window in its own item, so a new window starts from zero', async () => {
    const first = counter(1);
    const next = { ...first, window: windowOf(new Date(first.window.end.getTime()), 60) };

    expect(await store.take(first)).toBe(true);
    expect(await store.take(first)).toBe(false);
    expect(await store.take(next)).toBe(true);
  });

  it('keys the counter by scope and window start, with a ttl past the window end for cleanup only', async () => {
    const c = counter(5, T0, { kind: 'entitlement', entitlement: 'spec-ttl' });

    await store.take(c);

    const stored = await item(c);
    expect(stored).toMatchObject({ pk: 'RATE_ENT#spec-ttl', sk: '2026-11-29T10:00:00.000Z', count: 1 });
    expect(stored?.ttl).toBe(Date.parse('2026-11-29T10:01:00.000Z') / 1000 + TTL_GRACE_SECONDS);
  });

  it('keeps callers apart, and the same caller apart per entitlement', async () => {
    const callerId = 'arn:aws:iam::111122223333:role/Apart';
    const a = counter(1, T0, { kind: 'caller', callerId, entitlement: 'prod-readonly' });
    const b = counter(1, T0, { kind: 'caller', callerId, entitlement: 'prod-s3-read' });
    const c = counter(1, T0, { kind: 'caller', callerId: `${callerId}2`, entitlement: 'prod-readonly' });

    expect([await store.take(a), await store.take(b), await store.take(c)]).toEqual([true, true, true]);
  });
});

describe('DynamoRateLimitStore.release', () => {
  it('gives one use back, and never goes below zero', async () => {
    const c = counter(2);
    await store.take(c);
    await store.take(c);
    expect(await store.take(c)).toBe(false);

    await store.release(c);
    expect(await store.take(c)).toBe(true);
    await store.release(c);
    await store.release(c);
    await store.release(c);

    expect((await item(c))?.count).toBe(0);
  });

  it('is a no-op on a counter that was never taken', async () => {
    const c = counter(2);
    await store.release(c);
    expect(await item(c)).toBeUndefined();
  });
});

describe('entitlement rateLimit in the entitlement table', () => {
  it('round-trips through put and get', async () => {
    const entTable = await dynamo.createTable('entitlements');
    const ents = new DynamoEntitlementStore(dynamo.documents, entTable);
    const ent = parseEntitlement({
      id: 'staging-deploy',
      roleArn: 'arn:aws:iam::555566667777:role/DeployRole',
      rateLimit: { perCaller: 4, perEntitlement: 40 },
    });

    await ents.put(ent);

    expect((await ents.get('staging-deploy'))?.rateLimit).toEqual({ perCaller: 4, perEntitlement: 40 });
  });
});

describe('an unreachable table', () => {
  it('fails closed: take and release throw the 503 error, never answer', async () => {
    const missing = new DynamoRateLimitStore(dynamo.documents, 'vend-limits-does-not-exist');
    const c = counter(5);

    const e = await missing.take(c).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RateLimitStoreUnavailableError);
    expect((e as RateLimitStoreUnavailableError).status).toBe(503);
    expect((e as RateLimitStoreUnavailableError).code).toBe('upstream_unavailable');
    await expect(missing.release(c)).rejects.toBeInstanceOf(RateLimitStoreUnavailableError);
  });
});
