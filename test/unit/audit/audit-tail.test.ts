/**
 * The tail of the audit trail (issue 11, item 1), as specifications over in-memory ports: every
 * closed interval is sealed, empty ones included; a sealer that was down catches up; a cut tail
 * (the newest digests deleted, with or without their records, or everything deleted) is named
 * interval by interval, and stays named after the sealer runs again; an unknown trail start is an
 * error, never a pass.
 */
import { describe, expect, it } from 'vitest';
import { LocalAuditSigner } from '../../../lib/audit/local-signer';
import { buildDigestBody, digestHash, dueThrough, missingDigests } from '../../../lib/domain/audit-chain';
import {
  type AuditTrailDeps,
  SealChainError,
  SealHeadRequiredError,
  sealAuditTrail,
  TrailStartUnknownError,
  verifyAuditTrail,
} from '../../../lib/usecases/audit-trail';
import { MemoryDigests, MemoryHead, MemoryRecords } from './fakes';

const HOUR = 3600;
const T0 = Date.parse('2026-11-29T00:00:00.000Z');
const h = (hours: number) => new Date(T0 + hours * HOUR * 1000);
const iso = (hours: number) => h(hours).toISOString();

function record(id: string, hours: number) {
  return {
    id,
    time: iso(hours),
    decision: 'intent',
    auditId: `a-${id}`,
    caller: { id: 'arn:aws:iam::111122223333:role/CICDDeployRole', kind: 'service', label: 'CICDDeployRole' },
  };
}

/** Hourly intervals, a minute's grace, the trail starting at T0; the clock is the test's. */
function trail(startAt = 0) {
  const records = new MemoryRecords();
  const digests = new MemoryDigests();
  const head = new MemoryHead();
  let now = h(startAt);
  const deps: AuditTrailDeps = {
    records,
    digests,
    head,
    signer: LocalAuditSigner.generate(),
    now: () => now,
    intervalSeconds: HOUR,
    graceSeconds: 60,
    trailStart: h(0),
  };
  return {
    records,
    digests,
    head,
    deps,
    /** Moves the clock to `hours` (plus a few minutes, as an hourly schedule runs). */
    at: (hours: number) => {
      now = new Date(h(hours).getTime() + 2 * 60_000);
    },
  };
}

const named = (findings: { kind: string }[], kind: string) =>
  findings
    .filter((f) => f.kind === kind)
    .map((f) => ('recordId' in f ? f.recordId : (f as unknown as { interval: string }).interval));

describe('the due rule', () => {
  it('an interval must be sealed one interval after it closed', () => {
    expect(dueThrough(new Date('2026-11-29T11:01:00Z'), HOUR, 60).toISOString()).toBe(
      '2026-11-29T10:00:00.000Z',
    );
    expect(dueThrough(new Date('2026-11-29T11:00:59Z'), HOUR, 60).toISOString()).toBe(
      '2026-11-29T09:00:00.000Z',
    );
  });

  it('names every missing interval of a gap, and sums up a very long one', () => {
    const found = missingDigests([{ intervalStart: iso(1), intervalEnd: iso(2) }], h(0), h(4), HOUR);
    expect(found.map((f) => (f as { interval: string }).interval)).toEqual([iso(0), iso(2), iso(3)]);

    const long = missingDigests([], h(0), h(24 * 30), HOUR);
    expect(long).toHaveLength(101);
    expect(long.at(-1)).toMatchObject({
      interval: iso(100),
      detail: expect.stringMatching(/about 620 more intervals/),
    });
  });
});

describe('sealing every interval', () => {
  it('an idle hour still gets its (empty) digest, from the trail start on', async () => {
    const t = trail();
    t.records.add(record('r1', 0.5));
    t.at(3);

    const result = await sealAuditTrail(t.deps);

    expect(result.sealed.map((s) => [s.intervalStart, s.recordCount])).toEqual([
      [iso(0), 1],
      [iso(1), 0],
      [iso(2), 0],
    ]);
    expect(result.trailStart).toBe(iso(0));
    expect((await t.head.read())?.intervalEnd).toBe(iso(3));
  });

  it('a trail with no record at all is sealed from its configured start', async () => {
    const t = trail();
    t.at(2);

    const result = await sealAuditTrail(t.deps);

    expect(result.sealed.map((s) => s.intervalStart)).toEqual([iso(0), iso(1)]);
  });

  it('without a configured start, the trail starts at the first run (and the head keeps that start)', async () => {
    const t = trail();
    t.at(5);

    const result = await sealAuditTrail({ ...t.deps, trailStart: undefined });

    expect(result.sealed.map((s) => s.intervalStart)).toEqual([iso(4)]);
    expect((await t.head.read())?.trailStart).toBe(iso(4));
  });

  it('a sealer that was down catches up on every missed interval, and the trail verifies', async () => {
    const t = trail();
    t.at(1);
    await sealAuditTrail(t.deps);
    t.records.add(record('during-outage', 2.5));
    t.at(6);

    const caughtUp = await sealAuditTrail(t.deps);
    const report = await verifyAuditTrail(t.deps, { since: h(0) });

    expect(caughtUp.sealed.map((s) => s.intervalStart)).toEqual([iso(1), iso(2), iso(3), iso(4), iso(5)]);
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ ok: true, sealedThrough: iso(6), dueThrough: iso(5), trailStart: iso(0) });
  });

  it('refuses to seal without its head, and to chain onto a digest that does not verify', async () => {
    const t = trail();
    t.at(2);
    await expect(sealAuditTrail({ ...t.deps, head: undefined })).rejects.toBeInstanceOf(
      SealHeadRequiredError,
    );

    const body = buildDigestBody({
      intervalStart: h(0),
      intervalEnd: h(1),
      records: [],
      previous: undefined,
      sealedAt: h(1),
      keyId: t.deps.signer.keyId,
    });
    await t.digests.put({ ...body, digestHash: digestHash(body), signature: 'AAAA' });
    await expect(sealAuditTrail(t.deps)).rejects.toBeInstanceOf(SealChainError);
  });
});

describe('a cut tail', () => {
  /** Six sealed hours with a record in each, verified at hour 6 (due through hour 5). */
  async function sealedSixHours() {
    const t = trail();
    for (let i = 0; i < 6; i++) t.records.add(record(`r${i}`, i + 0.5));
    t.at(6);
    await sealAuditTrail(t.deps);
    return t;
  }
  const cut = (t: Awaited<ReturnType<typeof sealedSixHours>>, fromHour: number, withRecords: boolean) => {
    for (let i = fromHour; i < 6; i++) t.digests.byStart.delete(iso(i));
    if (withRecords)
      t.records.items.splice(
        0,
        t.records.items.length,
        ...t.records.items.filter((r) => String(r.time) < iso(fromHour)),
      );
  };

  it('the newest digests deleted with their records: each missing interval is named', async () => {
    const t = await sealedSixHours();
    cut(t, 3, true);

    const report = await verifyAuditTrail(t.deps, { since: h(0) });

    expect(report.ok).toBe(false);
    expect(named(report.findings, 'missing_digest')).toEqual([iso(3), iso(4), iso(5)]);
    expect(report.sealedThrough).toBe(iso(3));
    expect(report.sealerHead).toBe(iso(6));
  });

  it('the newest digests deleted without their records: missing intervals and their unsealed records', async () => {
    const t = await sealedSixHours();
    cut(t, 4, false);

    const report = await verifyAuditTrail(t.deps, { since: h(0) });

    expect(named(report.findings, 'missing_digest')).toEqual([iso(4), iso(5)]);
    expect(named(report.findings, 'unsealed')).toEqual(['r4']);
  });

  it('is still named hours later: the sealer does not seal the cut again, it continues from its head', async () => {
    const t = await sealedSixHours();
    cut(t, 3, true);
    t.at(9);

    const again = await sealAuditTrail(t.deps);
    const report = await verifyAuditTrail(t.deps, { since: h(0) });

    expect(again.cut).toEqual({ from: iso(3), to: iso(6) });
    expect(again.sealed.map((s) => s.intervalStart)).toEqual([iso(6), iso(7), iso(8)]);
    expect(named(report.findings, 'missing_digest')).toEqual([iso(3), iso(4), iso(5)]);
    expect(named(report.findings, 'broken_link')).toEqual([iso(6)]);
  });

  it('is named even without the head, once the deleted intervals are due', async () => {
    const t = await sealedSixHours();
    cut(t, 3, true);

    const report = await verifyAuditTrail({ ...t.deps, head: undefined }, { since: h(0) });

    // Due through hour 5 at hour 6: the digests of hours 3 and 4 are missing.
    expect(named(report.findings, 'missing_digest')).toEqual([iso(3), iso(4)]);
  });

  it('everything deleted never verifies: an empty trail where digests are due is a failure', async () => {
    const t = await sealedSixHours();
    cut(t, 0, true);

    const withHead = await verifyAuditTrail(t.deps, { since: h(0) });
    const configuredOnly = await verifyAuditTrail({ ...t.deps, head: undefined }, { since: h(0) });

    expect(withHead.ok).toBe(false);
    expect(named(withHead.findings, 'missing_digest')).toEqual([0, 1, 2, 3, 4, 5].map(iso));
    expect(withHead.sealedThrough).toBeNull();
    expect(named(configuredOnly.findings, 'missing_digest')).toEqual([0, 1, 2, 3, 4].map(iso));
  });

  it('without a configured start or a head, verify refuses to answer', async () => {
    const t = await sealedSixHours();
    await expect(
      verifyAuditTrail({ ...t.deps, head: undefined, trailStart: undefined }, { since: h(0) }),
    ).rejects.toBeInstanceOf(TrailStartUnknownError);
    // The head alone is enough: it recorded where the trail starts.
    const fromHead = await verifyAuditTrail({ ...t.deps, trailStart: undefined }, { since: h(0) });
    expect(fromHead).toMatchObject({ ok: true, trailStart: iso(0) });
  });

  it('a --since after the start expects the chain from there; before the start, from the start', async () => {
    const t = await sealedSixHours();
    cut(t, 0, true);

    const late = await verifyAuditTrail(t.deps, { since: h(4) });
    const early = await verifyAuditTrail(t.deps, { since: h(-3) });

    expect(named(late.findings, 'missing_digest')).toEqual([iso(4), iso(5)]);
    expect(named(early.findings, 'missing_digest')[0]).toBe(iso(0));
  });
});
