/**
 * The session store and the revocation ledger against real dynalite, with tables made from
 * lib/dynamodb/tables.ts: what is stored, that listings read only live sessions through the
 * indexes, that a revocation marks a session once, that concurrent ledger writes lose nothing,
 * that pruning removes only what it names, and that the publication lease admits one holder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, UpstreamUnavailableError } from '../../../lib/domain/errors';
import type { RevocationEntry } from '../../../lib/domain/revocation';
import type { SessionRecord } from '../../../lib/domain/sessions';
import { DynamoRevocationLedger } from '../../../lib/dynamodb/revocation-ledger';
import { DynamoSessionStore } from '../../../lib/dynamodb/session-store';
import { type LocalDynamo, startDynalite } from './harness';

let db: LocalDynamo;
let store: DynamoSessionStore;
let ledger: DynamoRevocationLedger;

beforeAll(async () => {
  db = await startDynalite();
  const table = await db.createTable('requests');
  store = new DynamoSessionStore(db.documents, table);
  ledger = new DynamoRevocationLedger(db.documents, table);
});
afterAll(async () => {
  await db?.close();
});

const NOW = new Date('2026-11-29T10:00:00.000Z');
const ROLE = 'arn:aws:iam::444455556666:role/ProdReadOnly';
let n = 0;

function session(over: Partial<SessionRecord> = {}): SessionRecord {
  const auditId = `01KD${String(++n).padStart(22, '0')}`;
  return {
    auditId,
    caller: { id: 'http://127.0.0.1:4566/oidc#alice', kind: 'person', label: 'alice@example.com' },
    entitlement: 'prod-readonly',
    roleArn: ROLE,
    assumedRoleArn: `arn:aws:sts::444455556666:assumed-role/ProdReadOnly/vend-alice-${auditId}`,
    sourceIdentity: 'alice@example.com',
    accessKeyId: `ASIA${auditId.slice(-16)}`,
    issuedAt: '2026-11-29T09:50:00.000Z',
    expiresAt: '2026-11-29T10:05:00Z',
    delivery: 'console',
    ...over,
  };
}

describe('DynamoSessionStore', () => {
  it('stores a session once and reads it back as it was written', async () => {
    const s = session({ accessRequestId: '01KR0000000000000000000001' });
    await store.put(s);
    expect(await store.get(s.auditId)).toEqual(s);
    await expect(store.put(s)).rejects.toBeInstanceOf(ConflictError);
  });

  it('lists one caller’s and one entitlement’s live sessions, soonest expiry first, never an expired one', async () => {
    const caller = {
      id: 'arn:aws:iam::111122223333:role/Lister',
      kind: 'service' as const,
      label: 'Lister (111122223333)',
    };
    const later = session({ caller, entitlement: 'list-ent', expiresAt: '2026-11-29T10:30:00Z' });
    const sooner = session({ caller, entitlement: 'list-ent', expiresAt: '2026-11-29T10:00:01Z' });
    const expired = session({ caller, entitlement: 'list-ent', expiresAt: '2026-11-29T10:00:00Z' });
    for (const s of [later, sooner, expired]) await store.put(s);

    expect((await store.listByCaller(caller.id, NOW)).map((s) => s.auditId)).toEqual([
      sooner.auditId,
      later.auditId,
    ]);
    expect((await store.listByEntitlement('list-ent', NOW)).map((s) => s.auditId)).toEqual([
      sooner.auditId,
      later.auditId,
    ]);
  });

  it('marks a session revoked once; the second is a conflict', async () => {
    const s = session();
    await store.put(s);
    const revocation = {
      at: NOW.toISOString(),
      by: { id: 'x#bob', kind: 'person' as const, label: 'bob@example.com' },
      reason: 'lost',
      scope: 'session' as const,
    };
    await store.markRevoked(s.auditId, revocation);
    expect((await store.get(s.auditId))?.revocation).toEqual(revocation);
    await expect(store.markRevoked(s.auditId, { ...revocation, reason: 'again' })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect((await store.get(s.auditId))?.revocation?.reason).toBe('lost');
  });
});

describe('DynamoRevocationLedger', () => {
  const entry = (i: number): RevocationEntry => ({
    kind: 'session',
    auditId: `01KE${String(i).padStart(22, '0')}`,
    expiresAt: '2026-11-29T10:30:00Z',
  });

  it('fifty concurrent revocations: fifty generations, fifty entries, none lost', async () => {
    const role = 'arn:aws:iam::444455556666:role/Concurrent';
    const states = await Promise.all(Array.from({ length: 50 }, (_, i) => ledger.record(role, [entry(i)])));

    const final = await ledger.read(role);
    expect(final.generation).toBe(50);
    expect(final.entries).toHaveLength(50);
    expect(new Set(states.map((s) => s.generation)).size).toBe(50);
  });

  it('prunes only what it names, in the same write that adds', async () => {
    const role = 'arn:aws:iam::444455556666:role/Pruned';
    await ledger.record(role, [entry(1), entry(2)]);
    const state = await ledger.record(role, [entry(3)], { prune: [entry(1)] });
    expect(state.entries.map((e) => (e.kind === 'session' ? e.auditId : '')).sort()).toEqual(
      [entry(2), entry(3)].map((e) => (e.kind === 'session' ? e.auditId : '')),
    );
    expect(state.generation).toBe(2);
  });

  it('records a caller entry, and the published generation only ever rises', async () => {
    const role = 'arn:aws:iam::444455556666:role/Published';
    await ledger.record(role, [
      { kind: 'caller', sourceIdentity: 'alice@example.com', before: '2026-11-29T10:00:00Z' },
    ]);
    await ledger.markPublished(role, 3);
    await ledger.markPublished(role, 2);
    const state = await ledger.read(role);
    expect(state.published).toBe(3);
    expect(state.entries).toEqual([
      { kind: 'caller', sourceIdentity: 'alice@example.com', before: '2026-11-29T10:00:00Z' },
    ]);
  });

  it('the lease admits one holder until it is given back or lapses', async () => {
    const role = 'arn:aws:iam::444455556666:role/Leased';
    await ledger.record(role, [entry(9)]);
    const until = new Date(NOW.getTime() + 15_000);
    const takers = await Promise.all(['a', 'b', 'c', 'd'].map((o) => ledger.acquire(role, o, until, NOW)));
    expect(takers.filter(Boolean)).toHaveLength(1);
    const holder = ['a', 'b', 'c', 'd'][takers.indexOf(true)] as string;

    await ledger.release(role, 'not-the-holder');
    expect(await ledger.acquire(role, 'e', until, NOW)).toBe(false);
    const later = new Date(until.getTime() + 1);
    const laterUntil = new Date(later.getTime() + 15_000);
    expect(await ledger.acquire(role, 'e', laterUntil, later)).toBe(true);
    await ledger.release(role, holder); // lapsed and taken: the old holder cannot give it back
    expect(await ledger.acquire(role, 'f', laterUntil, later)).toBe(false);
    await ledger.release(role, 'e');
    expect(await ledger.acquire(role, 'f', laterUntil, later)).toBe(true);
  });

  it('an unreachable table is 503, never a silent empty list', async () => {
    const other = await startDynalite();
    const table = await other.createTable('requests');
    const gone = new DynamoRevocationLedger(other.documents, table);
    await other.close();
    await expect(gone.read(ROLE)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    await expect(
      new DynamoSessionStore(other.documents, table).listByCaller('x', NOW),
    ).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });
});
