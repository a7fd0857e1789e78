import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalAuditSigner } from '../../../lib/audit/local-signer';
import { ConfigurationError, loadAuditConfig, requireAuditSigning } from '../../../lib/config';
import { emitSealMetrics, sealLagSeconds } from '../../../lib/usecases/seal-metrics';

describe('audit configuration', () => {
  it('defaults to the auditors group, hourly intervals and a 60 s grace, with no signing key', () => {
    expect(loadAuditConfig({})).toEqual({
      auditorsGroup: 'auditors',
      sealIntervalSeconds: 3600,
      sealGraceSeconds: 60,
      signing: undefined,
    });
    expect(() => requireAuditSigning(loadAuditConfig({}))).toThrow(/VEND_AUDIT_SIGNING_KEY_ID/);
  });

  it('takes a KMS key or a local key file, never both, and refuses malformed numbers', () => {
    expect(loadAuditConfig({ VEND_AUDIT_SIGNING_KEY_ID: 'alias/x' }).signing).toEqual({
      kind: 'kms',
      keyId: 'alias/x',
    });
    expect(loadAuditConfig({ VEND_AUDIT_SIGNING_KEY_FILE: '/k.pem' }).signing).toEqual({
      kind: 'file',
      file: '/k.pem',
    });
    expect(() =>
      loadAuditConfig({ VEND_AUDIT_SIGNING_KEY_ID: 'a', VEND_AUDIT_SIGNING_KEY_FILE: 'b' }),
    ).toThrow(ConfigurationError);
    expect(() => loadAuditConfig({ VEND_AUDIT_SEAL_INTERVAL_SECONDS: '1h' })).toThrow(
      /VEND_AUDIT_SEAL_INTERVAL_SECONDS/,
    );
    expect(() => loadAuditConfig({ VEND_AUDIT_SEAL_INTERVAL_SECONDS: '0' })).toThrow(/between 1 and 86400/);
  });
});

describe('the trail start and the seals table', () => {
  it('takes an ISO 8601 trail start and a seals table name, and refuses a start that is not a time', () => {
    const cfg = loadAuditConfig({
      VEND_AUDIT_TRAIL_START: '2026-11-01T00:00:00Z',
      VEND_AUDIT_SEALS_TABLE: 'vend-prod-audit-seals',
    });
    expect(cfg.trailStart).toEqual(new Date('2026-11-01T00:00:00Z'));
    expect(cfg.sealsTable).toBe('vend-prod-audit-seals');
    expect(loadAuditConfig({ VEND_AUDIT_TRAIL_START: '', VEND_AUDIT_SEALS_TABLE: ' ' })).toMatchObject({
      trailStart: undefined,
      sealsTable: undefined,
    });
    for (const bad of ['yesterday', '1700000000', '2026-13-45T00:00:00Z'])
      expect(() => loadAuditConfig({ VEND_AUDIT_TRAIL_START: bad }), bad).toThrow(/VEND_AUDIT_TRAIL_START/);
  });
});

describe('the sealer metrics', () => {
  it('reports the lag from the end of the latest digest, and a cut once', () => {
    const seen: [string, number?][] = [];
    const sink = {
      gauge: (m: string, v: number) => seen.push([m, v]),
      count: (m: string) => seen.push([m]),
    };
    const now = new Date('2026-11-29T10:02:00Z');

    emitSealMetrics({ sealed: [], alreadySealed: 0, sealedUpTo: '2026-11-29T10:00:00.000Z' }, now, sink);
    emitSealMetrics(
      {
        sealed: [],
        alreadySealed: 0,
        sealedUpTo: '2026-11-29T07:00:00.000Z',
        cut: { from: '2026-11-29T07:00:00.000Z', to: '2026-11-29T10:00:00.000Z' },
      },
      now,
      sink,
    );

    expect(seen).toEqual([
      ['AuditSealLagSeconds', 120],
      ['AuditSealLagSeconds', 3 * 3600 + 120],
      ['AuditTrailCut'],
    ]);
    expect(sealLagSeconds({}, now)).toBe(0);
  });
});

describe('the local signing key', () => {
  it('is made once, owner-only, and the same key is loaded again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vend-audit-key-'));
    try {
      const file = join(dir, 'audit', 'signing-key.pem');
      const first = await LocalAuditSigner.open(file);
      const again = await LocalAuditSigner.open(file);

      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(again.keyId).toBe(first.keyId);
      const message = new TextEncoder().encode('digest');
      expect(await again.verify(message, await first.sign(message), first.keyId)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
