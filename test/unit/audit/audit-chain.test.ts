import { describe, expect, it } from 'vitest';
import { LocalAuditSigner } from '../../../lib/audit/local-signer';
import {
  buildDigestBody,
  canonicalJson,
  checkChain,
  digestBytes,
  digestHash,
  intervalFloor,
  recordHash,
} from '../../../lib/domain/audit-chain';
import { keys } from '../../../lib/dynamodb/keys';
import { type AuditTrailDeps, sealAuditTrail, verifyAuditTrail } from '../../../lib/usecases/audit-trail';
import { MemoryDigests, MemoryHead, MemoryRecords } from './fakes';

const T0 = Date.parse('2026-11-29T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function record(id: string, seconds: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    time: at(seconds),
    decision: 'intent',
    auditId: `a-${id}`,
    caller: { id: 'arn:aws:iam::111122223333:role/CICDDeployRole', kind: 'service', label: 'CICDDeployRole' },
    entitlement: 'prod-readonly',
    ...extra,
  };
}

/** Three 60-second intervals with records, sealed at T0+200 s. */
async function sealedTrail() {
  const records = new MemoryRecords();
  const digests = new MemoryDigests();
  const head = new MemoryHead();
  let now = new Date(T0 + 200_000);
  const deps: AuditTrailDeps = {
    records,
    digests,
    head,
    signer: LocalAuditSigner.generate(),
    now: () => now,
    intervalSeconds: 60,
    graceSeconds: 5,
  };
  records.add(record('r1', 1));
  records.add(record('r2', 30, { decision: 'issued', accessKeyId: 'ASIAEXAMPLE0000001' }));
  records.add(record('r3', 61));
  records.add(record('r4', 150, { decision: 'denied', reasonCode: 'not_entitled' }));
  const sealed = await sealAuditTrail(deps);
  return { records, digests, head, deps, sealed, setNow: (d: Date) => (now = d) };
}

const kinds = (findings: { kind: string }[]) => findings.map((f) => f.kind).sort();

describe('canonical form and hashes', () => {
  it('orders object keys and drops undefined members, so attribute order never changes a hash', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 1, y: 2 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"d":{"y":2,"z":1}}',
    );
    expect(recordHash({ id: 'r', time: at(0), decision: 'intent' })).toBe(
      recordHash({ decision: 'intent', time: at(0), id: 'r' }),
    );
  });

  it('ignores storage keys but not content', () => {
    const r = record('r1', 1);
    expect(recordHash(keys.storedAudit({ ...r, ...keys.audit(r) }).content)).toBe(recordHash(r));
    expect(recordHash({ ...r, entitlement: 'prod-admin' })).not.toBe(recordHash(r));
  });

  it('aligns intervals to the epoch', () => {
    expect(intervalFloor(new Date('2026-11-29T10:42:13.500Z'), 3600).toISOString()).toBe(
      '2026-11-29T10:00:00.000Z',
    );
  });

  it('a digest lists its interval’s records in sort-key order and chains to the previous one', () => {
    const body = buildDigestBody({
      intervalStart: new Date(T0),
      intervalEnd: new Date(T0 + 60_000),
      records: [record('b', 5), record('a', 5), record('z', 1), record('late', 60)],
      previous: { digestHash: 'f'.repeat(64), intervalStart: at(-60) },
      sealedAt: new Date(T0 + 70_000),
      keyId: 'local:test',
    });
    expect(body.records.map((r) => r.id)).toEqual(['z', 'a', 'b']);
    expect(body.recordCount).toBe(3);
    expect(body.previousDigestHash).toBe('f'.repeat(64));
    expect(digestHash(body)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('sealing', () => {
  it('seals each closed interval once, empty ones included, chained from the oldest record', async () => {
    const { digests, sealed } = await sealedTrail();

    // closed end = floor(200 - 5, 60) = 180 s: intervals [0,60), [60,120), [120,180)
    expect(sealed.sealed.map((s) => [s.intervalStart, s.recordCount])).toEqual([
      [at(0), 2],
      [at(60), 1],
      [at(120), 1],
    ]);
    const chain = await digests.between(at(0), at(1000));
    expect(chain[0]?.previousDigestHash).toBeNull();
    expect(chain[1]?.previousDigestHash).toBe(chain[0]?.digestHash);
    expect(chain[2]?.previousDigestHash).toBe(chain[1]?.digestHash);
  });

  it('is idempotent: sealing again adds no digest', async () => {
    const { digests, deps } = await sealedTrail();
    const before = digests.byStart.size;

    const again = await sealAuditTrail(deps);

    expect(again.sealed).toEqual([]);
    expect(digests.byStart.size).toBe(before);
  });

  it('continues from a digest another sealer wrote first', async () => {
    const { digests, deps, records, head } = await sealedTrail();
    records.add(record('r5', 190));
    const upTo = new Date(T0 + 250_000);
    const headBefore = await head.read();
    await sealAuditTrail(deps, { upTo }); // the other sealer seals [180,240)
    const count = digests.byStart.size;
    // This sealer read the head and the latest digest before the other one wrote: it still
    // believes [120,180) is the latest.
    const stale = Object.assign(Object.create(digests), { latest: async () => digests.get(at(120)) });
    const staleHead = { read: async () => headBefore, advance: head.advance.bind(head) };

    const result = await sealAuditTrail({ ...deps, digests: stale, head: staleHead }, { upTo });

    expect(result.sealed).toEqual([]);
    expect(result.alreadySealed).toBe(1);
    expect(digests.byStart.size).toBe(count);
  });
});

describe('verification', () => {
  it('passes on an untouched trail', async () => {
    const { deps } = await sealedTrail();
    const report = await verifyAuditTrail(deps, { since: new Date(T0), until: new Date(T0 + 180_000) });
    expect(report).toMatchObject({ ok: true, digests: 3, records: 4, findings: [] });
  });

  it('names a deleted record', async () => {
    const { deps, records } = await sealedTrail();
    records.items.splice(
      records.items.findIndex((i) => i.id === 'r2'),
      1,
    );
    const report = await verifyAuditTrail(deps, { since: new Date(T0), until: new Date(T0 + 180_000) });
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual([{ kind: 'deleted', recordId: 'r2', time: at(30), interval: at(0) }]);
  });

  it('names a modified record, whether its content or its keys changed', async () => {
    const { deps, records } = await sealedTrail();
    const r3 = records.items.find((i) => i.id === 'r3')!;
    r3.entitlement = 'prod-admin';
    const r1 = records.items.find((i) => i.id === 'r1')!;
    r1.gsi1pk = keys.auditCaller('someone-else');
    const report = await verifyAuditTrail(deps, { since: new Date(T0), until: new Date(T0 + 180_000) });
    expect(report.findings.map((f) => [f.kind, 'recordId' in f ? f.recordId : ''])).toEqual([
      ['modified', 'r1'],
      ['modified', 'r3'],
    ]);
  });

  it('names an inserted record', async () => {
    const { deps, records } = await sealedTrail();
    records.add(record('forged', 100, { decision: 'issued' }));
    const report = await verifyAuditTrail(deps, { since: new Date(T0), until: new Date(T0 + 180_000) });
    expect(report.findings).toEqual([
      { kind: 'inserted', recordId: 'forged', time: at(100), interval: at(60) },
    ]);
  });

  it('reports a removed digest as a gap, a broken link and the records it left unsealed', async () => {
    const { deps, digests } = await sealedTrail();
    digests.byStart.delete(at(60));
    const report = await verifyAuditTrail(deps, { since: new Date(T0), until: new Date(T0 + 180_000) });
    expect(kinds(report.findings)).toEqual(['broken_link', 'missing_digest', 'unsealed']);
    expect(report.findings.find((f) => f.kind === 'missing_digest')).toMatchObject({ interval: at(60) });
    expect(report.findings.find((f) => f.kind === 'unsealed')).toMatchObject({ recordId: 'r3' });
  });

  it('reports a digest whose content or signature was altered', async () => {
    const { deps, digests } = await sealedTrail();
    const d = digests.byStart.get(at(120))!;
    // Re-hashed after the edit, so only the signature can tell.
    d.records = [];
    d.recordCount = 0;
    const { records: _r, ...rest } = d;
    const forged = buildDigestBody({
      intervalStart: new Date(d.intervalStart),
      intervalEnd: new Date(d.intervalEnd),
      records: [],
      previous: { digestHash: d.previousDigestHash!, intervalStart: d.previousIntervalStart! },
      sealedAt: new Date(d.sealedAt),
      keyId: rest.keyId,
    });
    digests.byStart.set(at(120), { ...forged, digestHash: digestHash(forged), signature: d.signature });

    const report = await verifyAuditTrail(deps, { since: new Date(T0), until: new Date(T0 + 180_000) });

    // The sealer's head also names the digest it wrote there, with the original hash.
    expect(kinds(report.findings)).toEqual(['bad_signature', 'broken_link', 'inserted']);
    expect(report.findings.find((f) => f.kind === 'inserted')).toMatchObject({ recordId: 'r4' });
  });

  it('reports a digest signed by another key', async () => {
    const { deps } = await sealedTrail();
    const report = await verifyAuditTrail(
      { ...deps, signer: LocalAuditSigner.generate() },
      { since: new Date(T0), until: new Date(T0 + 180_000) },
    );
    expect(kinds(report.findings)).toEqual(['bad_signature', 'bad_signature', 'bad_signature']);
  });

  it('reports a previous-digest link that does not match', async () => {
    const { digests } = await sealedTrail();
    const chain = await digests.between(at(0), at(1000));
    const tampered = chain.map((d) => ({ ...d }));
    tampered[2]!.previousDigestHash = '0'.repeat(64);
    expect(checkChain(tampered)).toEqual([
      expect.objectContaining({ kind: 'broken_link', interval: at(120) }),
    ]);
  });

  it('signatures are over the canonical bytes: the local signer verifies its own and refuses others', async () => {
    const signer = LocalAuditSigner.generate();
    const body = buildDigestBody({
      intervalStart: new Date(T0),
      intervalEnd: new Date(T0 + 60_000),
      records: [],
      previous: undefined,
      sealedAt: new Date(T0),
      keyId: signer.keyId,
    });
    const sig = await signer.sign(digestBytes(body));
    expect(await signer.verify(digestBytes(body), sig, signer.keyId)).toBe(true);
    expect(await signer.verify(digestBytes({ ...body, recordCount: 1 }), sig, signer.keyId)).toBe(false);
    expect(await signer.verify(digestBytes(body), sig, 'local:other')).toBe(false);
  });
});
