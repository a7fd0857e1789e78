/**
 * ECDSA on NIST P-256 over a message digest, for the local KMS's `MessageType: DIGEST`.
 *
 * Why it exists: Node's crypto signs and verifies messages (it hashes them itself); it has no call
 * that signs a digest someone else computed, which is exactly what KMS `Sign` with `DIGEST` does.
 * So the ECDSA equations are written out here, for the local stack only: signing takes its nonce
 * point k·G from OpenSSL (ECDH public key of k), verifying does the curve arithmetic itself
 * (Jacobian points, BigInt; not constant-time, and it never holds a real key). Every signature
 * it makes is checked by Node's own `crypto.verify` in the tests, and every signature Node makes
 * is checked by it.
 * Signatures are DER-encoded (X9.62 / RFC 3279), as KMS returns them.
 */
import { createECDH, type KeyObject, randomBytes } from 'node:crypto';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const G: Point = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};

interface Point {
  x: bigint;
  y: bigint;
}

const mod = (a: bigint, m: bigint): bigint => {
  const r = a % m;
  return r >= 0n ? r : r + m;
};

/** Modular inverse by the extended Euclidean algorithm (m prime, a not 0 mod m). */
function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

/** Jacobian coordinates (x = X/Z², y = Y/Z³): no inversion per step, one at the end. */
interface Jacobian {
  X: bigint;
  Y: bigint;
  Z: bigint;
}
const INFINITY: Jacobian = { X: 1n, Y: 1n, Z: 0n };

function double(p: Jacobian): Jacobian {
  if (p.Z === 0n || p.Y === 0n) return INFINITY;
  // dbl-2001-b (a = -3)
  const delta = mod(p.Z * p.Z, P);
  const gamma = mod(p.Y * p.Y, P);
  const beta = mod(p.X * gamma, P);
  const alpha = mod(3n * (p.X - delta) * (p.X + delta), P);
  const X = mod(alpha * alpha - 8n * beta, P);
  const Z = mod((p.Y + p.Z) * (p.Y + p.Z) - gamma - delta, P);
  const Y = mod(alpha * (4n * beta - X) - 8n * gamma * gamma, P);
  return { X, Y, Z };
}

function add(p: Jacobian, q: Jacobian): Jacobian {
  if (p.Z === 0n) return q;
  if (q.Z === 0n) return p;
  // add-2007-bl
  const z1z1 = mod(p.Z * p.Z, P);
  const z2z2 = mod(q.Z * q.Z, P);
  const u1 = mod(p.X * z2z2, P);
  const u2 = mod(q.X * z1z1, P);
  const s1 = mod(p.Y * q.Z * z2z2, P);
  const s2 = mod(q.Y * p.Z * z1z1, P);
  const h = mod(u2 - u1, P);
  const r = mod(2n * (s2 - s1), P);
  if (h === 0n) return r === 0n ? double(p) : INFINITY;
  const i = mod(4n * h * h, P);
  const j = mod(h * i, P);
  const v = mod(u1 * i, P);
  const X = mod(r * r - j - 2n * v, P);
  const Y = mod(r * (v - X) - 2n * s1 * j, P);
  const Z = mod(((p.Z + q.Z) * (p.Z + q.Z) - z1z1 - z2z2) * h, P);
  return { X, Y, Z };
}

function multiply(k: bigint, point: Point): Jacobian {
  let result = INFINITY;
  let addend: Jacobian = { X: point.x, Y: point.y, Z: 1n };
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = double(addend);
  }
  return result;
}

function affineX(p: Jacobian): bigint | null {
  if (p.Z === 0n) return null;
  const zi = inverse(p.Z, P);
  return mod(p.X * zi * zi, P);
}

const toBigInt = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);

/** The digest as an integer (leftmost 256 bits; a P-256 digest is SHA-256, exactly 256). */
const digestInt = (digest: Uint8Array): bigint => toBigInt(digest.subarray(0, 32));

function derInteger(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** `SEQUENCE { INTEGER r, INTEGER s }` (always short-form lengths for P-256). */
function derSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** Parses a DER signature; undefined for anything malformed. */
function parseDer(sig: Uint8Array): { r: bigint; s: bigint } | undefined {
  const b = Buffer.from(sig);
  if (b.length < 8 || b[0] !== 0x30 || b[1] !== b.length - 2) return undefined;
  let at = 2;
  const int = (): bigint | undefined => {
    if (b[at] !== 0x02) return undefined;
    const len = b[at + 1] ?? 0;
    if (len === 0 || at + 2 + len > b.length) return undefined;
    const v = toBigInt(b.subarray(at + 2, at + 2 + len));
    at += 2 + len;
    return v;
  };
  const r = int();
  const s = int();
  if (r === undefined || s === undefined || at !== b.length) return undefined;
  return { r, s };
}

function scalarOf(key: KeyObject): bigint {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.d) throw new TypeError('not a P-256 private key');
  return toBigInt(Buffer.from(jwk.d, 'base64url'));
}

function pointOf(key: KeyObject): Point {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new TypeError('not a P-256 key');
  return { x: toBigInt(Buffer.from(jwk.x, 'base64url')), y: toBigInt(Buffer.from(jwk.y, 'base64url')) };
}

/**
 * Signs a 32-byte digest with a P-256 private key; DER signature.
 *
 * @example signDigest(privateKey, createHash('sha256').update(message).digest())
 */
export function signDigest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const d = scalarOf(privateKey);
  const z = digestInt(digest);
  for (;;) {
    const kBytes = randomBytes(32);
    const k = toBigInt(kBytes);
    if (k === 0n || k >= N) continue;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(kBytes);
    // Uncompressed point: 0x04 || x || y.
    const r = mod(toBigInt(ecdh.getPublicKey().subarray(1, 33)), N);
    if (r === 0n) continue;
    const s = mod(inverse(k, N) * (z + r * d), N);
    if (s === 0n) continue;
    return derSignature(r, s);
  }
}

/**
 * Verifies a DER signature over a 32-byte digest with a P-256 public (or private) key.
 *
 * @example verifyDigest(publicKey, digest, signature) // true
 */
export function verifyDigest(key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const parsed = parseDer(signature);
  if (!parsed) return false;
  const { r, s } = parsed;
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false;
  const w = inverse(s, N);
  const x = affineX(add(multiply(mod(digestInt(digest) * w, N), G), multiply(mod(r * w, N), pointOf(key))));
  return x !== null && mod(x, N) === r;
}
