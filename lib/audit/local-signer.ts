/**
 * The local stack's {@link AuditSigner}: an ECDSA P-256 key pair in a PEM file (mode 0600) under the
 * stack's data directory, made on first use. Same algorithm and signature encoding as KMS
 * `ECDSA_SHA_256` (DER), so the verifier treats both alike.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditSigner } from '../ports';

/** The local signing key file exists but is not an EC P-256 private key. */
export class LocalSigningKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalSigningKeyError';
  }
}

/**
 * @example
 * const signer = await LocalAuditSigner.open('.vend/audit/signing-key.pem');
 * signer.keyId; // 'local:3f9c…'
 */
export class LocalAuditSigner implements AuditSigner {
  readonly keyId: string;
  private readonly publicKey: KeyObject;

  private constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
    const spki = this.publicKey.export({ type: 'spki', format: 'der' });
    this.keyId = `local:${createHash('sha256').update(spki).digest('hex').slice(0, 32)}`;
  }

  /** Loads the key from `file`, or makes one there (directory 0700, file 0600) if none exists. */
  static async open(file: string): Promise<LocalAuditSigner> {
    let pem: string | undefined;
    try {
      pem = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (pem === undefined) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      // `wx`: two processes racing to create the key must not overwrite each other's.
      try {
        await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        pem = await readFile(file, 'utf8');
      }
      await chmod(file, 0o600);
    }
    return LocalAuditSigner.fromPem(pem);
  }

  /** A signer over an in-memory PEM (tests). */
  static fromPem(pem: string): LocalAuditSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (e) {
      throw new LocalSigningKeyError('the local audit signing key file is not a PEM private key', {
        cause: e,
      });
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new LocalSigningKeyError('the local audit signing key must be an EC P-256 key');
    }
    return new LocalAuditSigner(key);
  }

  /** A fresh in-memory key (tests). */
  static generate(): LocalAuditSigner {
    return new LocalAuditSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return sign('sha256', message, { key: this.privateKey, dsaEncoding: 'der' });
  }

  async verify(message: Uint8Array, signature: Uint8Array, keyId: string): Promise<boolean> {
    if (keyId !== this.keyId) return false;
    try {
      return verify('sha256', message, { key: this.publicKey, dsaEncoding: 'der' }, signature);
    } catch {
      return false;
    }
  }
}
