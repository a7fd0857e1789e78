/**
 * Identifier formats of fact sheet §3: 20-character access key ids (`AKIA`/`ASIA` + 16 uppercase
 * letters and digits), 40-character secrets, long opaque base64 session tokens.
 */
import { randomBytes } from 'node:crypto';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function randomFrom(alphabet: string, length: number): string {
  // Alphabets of 32 or 64 characters divide 256, so `byte % n` is unbiased.
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

export function newAccessKeyId(prefix: 'AKIA' | 'ASIA'): string {
  return prefix + randomFrom(KEY_ALPHABET, 16);
}

export function newSecretAccessKey(): string {
  return randomFrom(SECRET_ALPHABET, 40);
}

/**
 * An opaque session token shaped like STS v2 tokens (`IQoJb3JpZ2luX2Vj…`, several hundred base64
 * characters). It carries no information: the store compares it exactly.
 */
export function newSessionToken(): string {
  return `IQoJb3JpZ2luX2VjE${randomBytes(420).toString('base64')}`;
}
