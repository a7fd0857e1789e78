/**
 * `vend serve`: the container credential endpoint's token check, answer shape and refresh, and the
 * command's export lines, against an in-process fake vend API.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/main';
import { startCredentialServer, tokensEqual } from '../../../lib/cli/serve';
import type { Credentials } from '../../../lib/cli/types';
import { type FakeApi, fakeJwt, startFakeApi, vendBody } from './fake-api';

const creds = (id: string, expiration: string): Credentials => ({
  AccessKeyId: id,
  SecretAccessKey: 'sk',
  SessionToken: 'st',
  Expiration: expiration,
});

describe('startCredentialServer', () => {
  it('answers only the exact token: missing → 401, wrong → 403, right → 200 with Token', async () => {
    const server = await startCredentialServer({
      vend: async () => creds('ASIA1', '2026-11-29T11:00:00Z'),
      token: 'tok-123',
      now: () => new Date('2026-11-29T10:00:00Z'),
    });
    try {
      const missing = await fetch(server.url);
      const wrong = await fetch(server.url, { headers: { authorization: 'tok-12' } });
      const bearer = await fetch(server.url, { headers: { authorization: 'Bearer tok-123' } });
      const right = await fetch(server.url, { headers: { authorization: 'tok-123' } });

      expect(missing.status).toBe(401);
      expect(await missing.json()).toEqual({ Code: 'Unauthorized', Message: expect.any(String) });
      expect(wrong.status).toBe(403);
      expect(((await wrong.json()) as { Code: string }).Code).toBe('AccessDenied');
      expect(bearer.status).toBe(403);
      expect(right.status).toBe(200);
      expect(await right.json()).toEqual({
        AccessKeyId: 'ASIA1',
        SecretAccessKey: 'sk',
        Token: 'st',
        Expiration: '2026-11-29T11:00:00Z',
      });
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/creds$/);
    } finally {
      await server.close();
    }
  });

  it('serves nothing but GET /creds', async () => {
    const server = await startCredentialServer({
      vend: async () => creds('A', '2026-11-29T11:00:00Z'),
      token: 't',
    });
    try {
      expect(
        (await fetch(server.url.replace('/creds', '/other'), { headers: { authorization: 't' } })).status,
      ).toBe(404);
      expect((await fetch(server.url, { method: 'POST', headers: { authorization: 't' } })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('vends again once within 5 minutes of expiry, and not before', async () => {
    let clock = new Date('2026-11-29T10:00:00Z');
    let n = 0;
    const server = await startCredentialServer({
      vend: async () => creds(`ASIA${++n}`, '2026-11-29T10:15:00Z'),
      token: 't',
      now: () => clock,
    });
    const get = async () =>
      (
        (await (await fetch(server.url, { headers: { authorization: 't' } })).json()) as {
          AccessKeyId: string;
        }
      ).AccessKeyId;
    try {
      clock = new Date('2026-11-29T10:09:59Z');
      expect(await get()).toBe('ASIA1');
      clock = new Date('2026-11-29T10:10:00Z');
      expect(await get()).toBe('ASIA2');
      expect(n).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('generates a 32-byte base64url token when none is given', async () => {
    const server = await startCredentialServer({ vend: async () => creds('A', '2026-11-29T11:00:00Z') });
    await server.close();

    expect(Buffer.from(server.token, 'base64url')).toHaveLength(32);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('compares tokens of any length', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abcd')).toBe(false);
    expect(tokensEqual('', 'abc')).toBe(false);
  });
});

describe('vend serve', () => {
  let api: FakeApi;
  let home: string;
  beforeAll(async () => {
    api = await startFakeApi();
    home = await mkdtemp(join(tmpdir(), 'vend-serve-'));
  });
  afterAll(async () => {
    await api.close();
    await rm(home, { recursive: true, force: true });
  });

  it('prints the two export lines, serves until interrupted, then exits 0', async () => {
    api.on('POST /v1/credentials', { body: vendBody({ expiration: '2099-01-01T00:00:00Z' }) });
    const out: string[] = [];
    const stop = new AbortController();
    let served: { url: string; token: string } | undefined;
    const running = main(['serve', 'prod-readonly', '--duration', '1h'], {
      stdout: (s) => out.push(s),
      stderr: () => undefined,
      env: { VEND_URL: api.url, VEND_TOKEN: fakeJwt({ sub: 'alice' }), VEND_CONFIG_DIR: home },
      cwd: home,
      signal: stop.signal,
      onServe: (info) => {
        served = info;
      },
    });
    await expect.poll(() => served).toBeDefined();

    const res = await fetch(served!.url, { headers: { authorization: served!.token } });
    stop.abort();

    expect(res.status).toBe(200);
    expect(((await res.json()) as { Token: string }).Token).toBe('session-token-value');
    expect(await running).toBe(0);
    expect(out.join('')).toBe(
      `export AWS_CONTAINER_CREDENTIALS_FULL_URI=${served!.url}\nexport AWS_CONTAINER_AUTHORIZATION_TOKEN=${served!.token}\n`,
    );
    expect(JSON.parse(api.seen[0]?.body ?? '')).toEqual({
      entitlement: 'prod-readonly',
      durationSeconds: 3600,
    });
  });

  it("fails at start, with the API's refusal, when the entitlement is refused", async () => {
    api.on('POST /v1/credentials', {
      status: 403,
      body: { code: 'not_entitled', detail: 'no rule matches', status: 403 },
    });
    const err: string[] = [];

    const code = await main(['serve', 'prod-deploy'], {
      stdout: () => undefined,
      stderr: (s) => err.push(s),
      env: { VEND_URL: api.url, VEND_TOKEN: fakeJwt({ sub: 'alice' }), VEND_CONFIG_DIR: home },
      cwd: home,
      signal: new AbortController().signal,
    });

    expect(code).toBe(1);
    expect(err.join('')).toMatch(/^vend: not entitled to prod-deploy: no rule matches/);
  });
});
