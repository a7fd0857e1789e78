/**
 * The AWS {@link AuditSigner}: a KMS asymmetric key (`ECC_NIST_P256`, `SIGN_VERIFY`), algorithm
 * `ECDSA_SHA_256`. The message is hashed here and sent as `MessageType: DIGEST`, because KMS takes
 * at most 4 KiB of raw message and a digest listing an hour's records is larger; the signature is
 * the same one KMS would make over the raw message. Verification uses the public key
 * (`GetPublicKey`, cached per key), so checking the trail needs only `kms:GetPublicKey` — or the
 * exported public key and no AWS access at all.
 *
 * A digest names the key that signed it, but the digest lives in a table the attacker in view can
 * write: a digest naming any key other than this signer's own (the configured key, its alias
 * resolved) does not verify. Otherwise anyone able to make a KMS key of their own could re-seal a
 * doctored chain and have it pass (test/e2e/attacks-audit-signing.test.ts).
 */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { DescribeKeyCommand, GetPublicKeyCommand, type KMSClient, SignCommand } from '@aws-sdk/client-kms';
import type { AuditSigner } from '../ports';

/** KMS refused or failed a signing-key operation. Names the operation, never key material. */
export class AuditSigningError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditSigningError';
  }
}

/**
 * @example
 * const signer = await KmsAuditSigner.create(new KMSClient({}), 'alias/vend-prod-audit-digests');
 * signer.keyId; // 'arn:aws:kms:us-east-1:222233334444:key/…' (the alias resolved once)
 */
export class KmsAuditSigner implements AuditSigner {
  private readonly publicKeys = new Map<string, Promise<KeyObject | undefined>>();

  private constructor(
    private readonly kms: KMSClient,
    readonly keyId: string,
  ) {}

  /**
   * Resolves `keyIdOrAlias` to the key ARN (DescribeKey), so each digest names the key that signed
   * it even after the alias moves to a new key.
   */
  static async create(kms: KMSClient, keyIdOrAlias: string): Promise<KmsAuditSigner> {
    try {
      const out = await kms.send(new DescribeKeyCommand({ KeyId: keyIdOrAlias }));
      const arn = out.KeyMetadata?.Arn;
      if (!arn) throw new AuditSigningError('KMS DescribeKey returned no key ARN');
      return new KmsAuditSigner(kms, arn);
    } catch (e) {
      if (e instanceof AuditSigningError) throw e;
      throw new AuditSigningError('KMS DescribeKey failed for the audit signing key', { cause: e });
    }
  }

  /** A signer for verification only, with a known key id (no DescribeKey call). */
  static forVerification(kms: KMSClient, keyId: string): KmsAuditSigner {
    return new KmsAuditSigner(kms, keyId);
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    try {
      const out = await this.kms.send(
        new SignCommand({
          KeyId: this.keyId,
          Message: createHash('sha256').update(message).digest(),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
      if (!out.Signature) throw new AuditSigningError('KMS Sign returned no signature');
      return out.Signature;
    } catch (e) {
      if (e instanceof AuditSigningError) throw e;
      throw new AuditSigningError('KMS Sign failed for the audit signing key', { cause: e });
    }
  }

  async verify(message: Uint8Array, signature: Uint8Array, keyId: string): Promise<boolean> {
    if (keyId !== this.keyId) return false;
    const key = await this.publicKey(keyId);
    if (!key) return false;
    try {
      return verify('sha256', message, { key, dsaEncoding: 'der' }, signature);
    } catch {
      return false;
    }
  }

  private publicKey(keyId: string): Promise<KeyObject | undefined> {
    let entry = this.publicKeys.get(keyId);
    if (!entry) {
      entry = this.kms.send(new GetPublicKeyCommand({ KeyId: keyId })).then(
        (out) =>
          out.PublicKey
            ? createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' })
            : undefined,
        (e: unknown) => {
          this.publicKeys.delete(keyId);
          // An unknown or foreign key is a finding (false), not an outage.
          if (e instanceof Error && /NotFound|InvalidArn|AccessDenied|KMSInvalidState/.test(e.name))
            return undefined;
          throw new AuditSigningError('KMS GetPublicKey failed for an audit digest key', { cause: e });
        },
      );
      this.publicKeys.set(keyId, entry);
    }
    return entry;
  }
}
