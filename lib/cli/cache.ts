/**
 * The `credential-process` cache. The AWS CLI and SDKs run `credential_process` on every new
 * client, so without a cache each `aws …` call would vend (and audit) again. Credentials are kept
 * per (VEND_URL, identity, entitlement, duration, policy hash) in one owner-only file each under
 * `${XDG_CACHE_HOME:-~/.cache}/vend/` and reused until 5 minutes before they expire. A file that
 * cannot be read or parsed is ignored (and overwritten by the next vend), never an error.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from './files';
import type { VendResponse } from './types';

/** Reuse cached credentials until this long before they expire. */
export const CACHE_REFRESH_WINDOW_MS = 5 * 60 * 1000;

/** What a cached entry is for. */
export interface CacheKey {
  vendUrl: string;
  /** Who vended: `aws:<AccessKeyId>` or `oidc:<iss>#<sub>`. Not a secret. */
  identity: string;
  entitlement: string;
  durationSeconds?: number;
  /** SHA-256 of the session policy text, if one was sent. */
  policyHash?: string;
}

/** The file name for a key: a hash, so names reveal nothing and need no escaping. */
export function cacheFileName(key: CacheKey): string {
  const canonical = JSON.stringify([
    key.vendUrl.replace(/\/+$/, ''),
    key.identity,
    key.entitlement,
    key.durationSeconds ?? null,
    key.policyHash ?? null,
  ]);
  return `${createHash('sha256').update(canonical).digest('hex').slice(0, 40)}.json`;
}

/** SHA-256 hex of a policy text (for the key). */
export const policyHash = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A directory of cached vend responses. */
export class CredentialCache {
  constructor(
    private readonly dir: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * The cached response for `key` if it is still good for more than the refresh window.
   * @example await cache.get(key) // VendResponse | undefined
   */
  async get(key: CacheKey): Promise<VendResponse | undefined> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(join(this.dir, cacheFileName(key)), 'utf8'));
    } catch {
      return undefined; // missing or corrupt: vend again
    }
    const body = (parsed as { key?: unknown; response?: VendResponse } | null)?.response;
    const stored = (parsed as { key?: unknown } | null)?.key;
    if (JSON.stringify(stored) !== JSON.stringify(normalise(key))) return undefined; // hash collision or tampering
    const c = body?.credentials;
    if (
      !c ||
      typeof c.AccessKeyId !== 'string' ||
      typeof c.SecretAccessKey !== 'string' ||
      typeof c.SessionToken !== 'string'
    ) {
      return undefined;
    }
    const expires = Date.parse(c.Expiration);
    if (!Number.isFinite(expires) || expires - CACHE_REFRESH_WINDOW_MS <= this.now().getTime())
      return undefined;
    return body;
  }

  /** Stores `response` for `key` (0600, atomically). */
  async put(key: CacheKey, response: VendResponse): Promise<void> {
    await ensurePrivateDir(this.dir);
    await writeFileAtomic(
      join(this.dir, cacheFileName(key)),
      JSON.stringify({ key: normalise(key), response }),
    );
  }
}

function normalise(key: CacheKey): CacheKey {
  return {
    vendUrl: key.vendUrl.replace(/\/+$/, ''),
    identity: key.identity,
    entitlement: key.entitlement,
    ...(key.durationSeconds !== undefined ? { durationSeconds: key.durationSeconds } : {}),
    ...(key.policyHash !== undefined ? { policyHash: key.policyHash } : {}),
  };
}
