import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalAuditSigner } from '../../../lib/audit/local-signer';
import { ConfigurationError, loadAuditConfig, requireAuditSigning } from '../../../lib/config';

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
