/**
 * The local issuer's signing key: one RS256 key pair (RSA because API Gateway's JWT authorizer
 * verifies RSA signatures), made on first use and kept (as a private JWK,
 * file mode 0600) under the data directory so tokens stay valid across restarts and `vend dev token`
 * can mint offline. Local-only: a real IdP keeps its keys in an HSM and rotates them.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';

/** The one algorithm the local issuer signs with (the gateway pins it). */
export const SIGNING_ALG = 'RS256';

/** A loaded signing key. */
export interface SigningKey {
  kid: string;
  alg: typeof SIGNING_ALG;
  privateKey: CryptoKey;
  /** The public half as published in the JWKS (`kid`, `alg`, `use` set). */
  publicJwk: JWK;
}

/** The key file exists but cannot be used. */
export class SigningKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SigningKeyError';
  }
}

async function fromPrivateJwk(jwk: JWK): Promise<SigningKey> {
  // The public half: everything but the private RSA parameters.
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  const kid = await calculateJwkThumbprint(pub);
  const privateKey = (await importJWK(jwk, SIGNING_ALG)) as CryptoKey;
  return { kid, alg: SIGNING_ALG, privateKey, publicJwk: { ...pub, kid, alg: SIGNING_ALG, use: 'sig' } };
}

/** Reads the key from `keyFile`, or undefined when the file does not exist. */
export async function readSigningKey(keyFile: string): Promise<SigningKey | undefined> {
  let text: string;
  try {
    text = await readFile(keyFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SigningKeyError(`cannot read the signing key file ${keyFile}`, { cause: error });
  }
  try {
    const jwk = JSON.parse(text) as JWK;
    if (jwk.kty !== 'RSA' || !jwk.d) throw new Error('not a private RSA JWK');
    return await fromPrivateJwk(jwk);
  } catch (error) {
    throw new SigningKeyError(
      `the signing key file ${keyFile} is not a private RSA JWK; delete it to make a new one`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Loads the key from `keyFile`, or makes a new one (and writes it there when a file is given).
 *
 * @example const key = await loadOrCreateSigningKey('.vend/oidc/signing-key.json');
 */
export async function loadOrCreateSigningKey(keyFile?: string): Promise<SigningKey> {
  if (keyFile) {
    const existing = await readSigningKey(keyFile);
    if (existing) return existing;
  }
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  if (keyFile) {
    await mkdir(dirname(keyFile), { recursive: true });
    await writeFile(keyFile, `${JSON.stringify(jwk)}\n`, { mode: 0o600 });
  }
  return fromPrivateJwk(jwk);
}
