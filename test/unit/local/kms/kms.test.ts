/**
 * The local KMS's pieces as specifications: ECDSA over a digest agrees with Node's own ECDSA in
 * both directions; the keyring resolves key ids as KMS does and keeps its keys (0600) across runs.
 * The wire protocol, the AWS CLI and the SDK are in test/e2e/audit-kms.test.ts.
 */
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signDigest, verifyDigest } from '../../../../infra/local/kms/ecdsa-p256';
import { KmsError, LocalKms } from '../../../../infra/local/kms/keyring';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

describe('ECDSA P-256 over a digest', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('signs digests Node verifies over their messages, and verifies what Node signs', () => {
    for (let i = 0; i < 10; i++) {
      const message = `digest body ${i}`;
      const ours = signDigest(privateKey, sha256(message));
      const nodes = sign('sha256', Buffer.from(message), { key: privateKey, dsaEncoding: 'der' });

      expect(verify('sha256', Buffer.from(message), { key: publicKey, dsaEncoding: 'der' }, ours)).toBe(true);
      expect(verifyDigest(publicKey, sha256(message), nodes)).toBe(true);
      expect(verifyDigest(publicKey, sha256(`${message}!`), nodes)).toBe(false);
    }
  });

  it('refuses another key, a malformed signature and out-of-range values', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const sig = signDigest(privateKey, sha256('m'));
    expect(verifyDigest(other, sha256('m'), sig)).toBe(false);
    expect(verifyDigest(publicKey, sha256('m'), sig.subarray(0, sig.length - 1))).toBe(false);
    expect(verifyDigest(publicKey, sha256('m'), Buffer.from('3006020100020101', 'hex'))).toBe(false);
  });
});

describe('the keyring', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('makes a key once per alias and keeps it across runs in a 0600 file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vend-kms-'));
    dirs.push(dir);
    const file = join(dir, 'kms', 'keyring.json');
    const first = await LocalKms.open({ region: 'us-east-1', file });
    const key = await first.ensureKey('222233334444', 'alias/audit', 'test');
    expect(await first.ensureKey('222233334444', 'alias/audit', 'test')).toBe(key);

    const again = await LocalKms.open({ region: 'us-east-1', file });
    const reopened = again.resolve('222233334444', 'alias/audit', 'Sign', 'arn:aws:iam::222233334444:root');

    expect(reopened.arn).toBe(key.arn);
    expect(reopened.publicKey.export({ format: 'jwk' })).toEqual(key.publicKey.export({ format: 'jwk' }));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('resolves a key id, key ARN, alias name and alias ARN; anything else is NotFound; another account is denied', async () => {
    const kms = await LocalKms.open({ region: 'us-east-1' });
    const key = await kms.ensureKey('222233334444', 'alias/audit', 'test');
    const as = (account: string, id: string) =>
      kms.resolve(account, id, 'Sign', `arn:aws:sts::${account}:assumed-role/r/s`);
    const error = (f: () => unknown): [string, string | undefined] => {
      try {
        f();
      } catch (e) {
        if (e instanceof KmsError) return [e.type, e.kmsMessage];
        throw e;
      }
      return ['resolved', undefined];
    };

    for (const id of [key.keyId, key.arn, 'alias/audit', 'arn:aws:kms:us-east-1:222233334444:alias/audit'])
      expect(as('222233334444', id).arn, id).toBe(key.arn);
    expect(error(() => as('222233334444', 'alias/other'))).toEqual([
      'NotFoundException',
      'Alias arn:aws:kms:us-east-1:222233334444:alias/other is not found.',
    ]);
    expect(error(() => as('222233334444', 'garbage'))).toEqual([
      'NotFoundException',
      "Invalid keyId 'garbage'",
    ]);
    expect(error(() => as('222233334444', key.arn.replace('us-east-1', 'eu-west-1')))).toEqual([
      'NotFoundException',
      `Key '${key.arn.replace('us-east-1', 'eu-west-1')}' does not exist`,
    ]);
    expect(error(() => as('111122223333', 'alias/audit'))[0]).toBe('NotFoundException');
    expect(error(() => as('111122223333', key.arn))[0]).toBe('AccessDeniedException');
  });
});
