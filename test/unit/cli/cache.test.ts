import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CacheKey, CredentialCache, cacheFileName } from '../../../lib/cli/cache';
import { vendBody } from './fake-api';

const key: CacheKey = {
  vendUrl: 'http://127.0.0.1:4000',
  identity: 'aws:ASIACI',
  entitlement: 'prod-readonly',
  durationSeconds: 900,
};
const expiration = '2026-11-29T10:15:00.000Z';
const at = (iso: string) => () => new Date(iso);

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'vend-cache-')), 'nested', 'vend');
});
afterEach(async () => {
  await rm(join(dir, '..', '..'), { recursive: true, force: true });
});

describe('CredentialCache', () => {
  it('returns what was stored while more than 5 minutes remain', async () => {
    const cache = new CredentialCache(dir, at('2026-11-29T10:09:59Z'));
    const body = vendBody({ expiration });

    await cache.put(key, body);

    expect(await cache.get(key)).toEqual(body);
  });

  it('stops reusing at exactly 5 minutes before expiry', async () => {
    await new CredentialCache(dir, at('2026-11-29T10:00:00Z')).put(key, vendBody({ expiration }));

    expect(await new CredentialCache(dir, at('2026-11-29T10:10:00Z')).get(key)).toBeUndefined();
    expect(await new CredentialCache(dir, at('2026-11-29T10:20:00Z')).get(key)).toBeUndefined();
  });

  it('keeps entries apart by identity, entitlement, duration, policy and URL', async () => {
    const cache = new CredentialCache(dir, at('2026-11-29T10:00:00Z'));
    await cache.put(key, vendBody({ expiration }));

    for (const other of [
      { ...key, identity: 'oidc:iss#alice' },
      { ...key, entitlement: 'prod-deploy' },
      { ...key, durationSeconds: 1800 },
      { ...key, policyHash: 'abc' },
      { ...key, vendUrl: 'https://vend.example.com' },
    ]) {
      expect(await cache.get(other)).toBeUndefined();
    }
    expect(await cache.get({ ...key, vendUrl: 'http://127.0.0.1:4000/' })).toBeDefined();
  });

  it('writes owner-only files in an owner-only directory, leaving no temp files', async () => {
    await new CredentialCache(dir, at('2026-11-29T10:00:00Z')).put(key, vendBody({ expiration }));

    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, cacheFileName(key)))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([cacheFileName(key)]);
  });

  it.each(['not json', '{}', 'null', '{"key":{},"response":{}}'])(
    'ignores a corrupt entry %j',
    async (text) => {
      const cache = new CredentialCache(dir, at('2026-11-29T10:00:00Z'));
      await cache.put(key, vendBody({ expiration }));
      await writeFile(join(dir, cacheFileName(key)), text);

      expect(await cache.get(key)).toBeUndefined();
    },
  );
});
