// biome-ignore-all lint/suspicious/noExplicitAny: the tests read arbitrary JSON answers
/** The local OIDC issuer (mounted at /oidc): tokens, key persistence, device and refresh grants. */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { createOidcIssuer, UnknownUserError } from '../../../../infra/local/oidc/issuer';
import type { RawRequest } from '../../../../infra/local/types';

const ISSUER = 'http://127.0.0.1:4566/oidc';
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A clock tests move by hand. */
const clock = (start = '2026-11-29T10:00:00Z') => {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (s: number) => (t += s * 1000) };
};

const req = (method: string, path: string, fields?: Record<string, string>, json = false): RawRequest => ({
  method,
  path,
  query: '',
  headers: fields ? { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' } : {},
  body: Buffer.from(fields ? (json ? JSON.stringify(fields) : new URLSearchParams(fields).toString()) : ''),
  sourceIp: '127.0.0.1',
});
const body = (r: { body: string | Buffer }) => JSON.parse(r.body.toString()) as Record<string, any>;

describe('tokens', () => {
  it('mints RS256 tokens with the person claims, verifiable with the published JWKS', async () => {
    const c = clock();
    const oidc = await createOidcIssuer({ issuerUrl: ISSUER, now: c.now });

    const token = await oidc.mintToken('alice');
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(oidc.jwks), {
      issuer: ISSUER,
      audience: 'vend',
      currentDate: c.now(),
    });

    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: oidc.jwks.keys[0]!.kid });
    expect(payload).toMatchObject({
      email: 'alice@example.com',
      preferred_username: 'alice',
      groups: ['sre'],
      iat: Date.parse('2026-11-29T10:00:00Z') / 1000,
      nbf: Date.parse('2026-11-29T10:00:00Z') / 1000,
      exp: Date.parse('2026-11-29T11:00:00Z') / 1000,
    });
    expect(payload.sub).toMatch(/^00u\w+$/);
    expect(oidc.jwks.keys[0]).not.toHaveProperty('d');
  });

  it('gives everyone a distinct stable subject and mallory no groups', async () => {
    const oidc = await createOidcIssuer({ issuerUrl: ISSUER });
    const subs = await Promise.all(
      oidc.people.map(async (p) => decodeJwt(await oidc.mintToken(p.username)).sub),
    );

    expect(new Set(subs).size).toBe(6);
    expect(decodeJwt(await oidc.mintToken('mallory')).groups).toEqual([]);
    expect(decodeJwt(await oidc.mintToken('bob', { audience: 'x', ttlSeconds: 60 }))).toMatchObject({
      aud: 'x',
    });
  });

  it('refuses an unknown user', async () => {
    const oidc = await createOidcIssuer({ issuerUrl: ISSUER });

    await expect(oidc.mintToken('zoe')).rejects.toThrow(UnknownUserError);
  });

  it('keeps its key in keyFile (mode 0600) and reuses it on the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vend-oidc-'));
    dirs.push(dir);
    const keyFile = join(dir, 'oidc', 'signing-key.json');

    const first = await createOidcIssuer({ issuerUrl: ISSUER, keyFile });
    const second = await createOidcIssuer({ issuerUrl: ISSUER, keyFile });

    expect(second.jwks.keys[0]!.kid).toBe(first.jwks.keys[0]!.kid);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  });
});

describe('endpoints', () => {
  it('serves discovery naming the JWKS, token and device endpoints', async () => {
    const oidc = await createOidcIssuer({ issuerUrl: ISSUER });

    const doc = body(await oidc.handler(req('GET', '/oidc/.well-known/openid-configuration')));

    expect(doc).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/jwks.json`,
      token_endpoint: `${ISSUER}/token`,
      device_authorization_endpoint: `${ISSUER}/device_authorization`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
    expect(body(await oidc.handler(req('GET', '/oidc/jwks.json')))).toEqual(oidc.jwks);
  });
});

describe('device authorization grant (RFC 8628)', () => {
  const grant = (device_code: string) => ({
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    device_code,
    client_id: 'vend-cli',
  });

  it('is pending, then slow_down when polled too fast, then issues tokens once approved, once', async () => {
    const c = clock();
    const oidc = await createOidcIssuer({ issuerUrl: ISSUER, now: c.now });
    const start = body(
      await oidc.handler(req('POST', '/oidc/device_authorization', { client_id: 'vend-cli' })),
    );

    const pending = await oidc.handler(req('POST', '/oidc/token', grant(start.device_code)));
    c.advance(1);
    const slow = await oidc.handler(req('POST', '/oidc/token', grant(start.device_code)));
    const approve = await oidc.handler(
      req('POST', '/oidc/device/approve', { user_code: start.user_code.toLowerCase(), user: 'carol' }, true),
    );
    c.advance(11);
    const issued = await oidc.handler(req('POST', '/oidc/token', grant(start.device_code)));
    const replay = await oidc.handler(req('POST', '/oidc/token', grant(start.device_code)));

    expect(start).toMatchObject({ interval: 5, expires_in: 600, verification_uri: `${ISSUER}/device` });
    expect(start.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect([pending.status, body(pending).error]).toEqual([400, 'authorization_pending']);
    expect([slow.status, body(slow).error]).toEqual([400, 'slow_down']);
    expect(approve.status).toBe(200);
    expect(issued.status).toBe(200);
    expect(decodeJwt(body(issued).access_token)).toMatchObject({ preferred_username: 'carol', aud: 'vend' });
    expect(decodeJwt(body(issued).id_token)).toMatchObject({ aud: 'vend-cli' });
    expect(body(replay).error).toBe('invalid_grant');
  });

  it('answers expired_token after the code expires', async () => {
    const c = clock();
    const oidc = await createOidcIssuer({ issuerUrl: ISSUER, now: c.now });
    const start = body(
      await oidc.handler(req('POST', '/oidc/device_authorization', { client_id: 'vend-cli' })),
    );

    c.advance(601);
    const expired = await oidc.handler(req('POST', '/oidc/token', grant(start.device_code)));

    expect(body(expired).error).toBe('expired_token');
  });

  it('answers access_denied when the user denies', async () => {
    const oidc = await createOidcIssuer({ issuerUrl: ISSUER });
    const start = body(
      await oidc.handler(req('POST', '/oidc/device_authorization', { client_id: 'vend-cli' })),
    );

    await oidc.handler(req('POST', '/oidc/device/deny', { user_code: start.user_code }));
    const denied = await oidc.handler(req('POST', '/oidc/token', grant(start.device_code)));

    expect(body(denied).error).toBe('access_denied');
  });

  it('refuses to approve for an unknown person', async () => {
    const oidc = await createOidcIssuer({ issuerUrl: ISSUER });
    const start = body(
      await oidc.handler(req('POST', '/oidc/device_authorization', { client_id: 'vend-cli' })),
    );

    const r = await oidc.handler(
      req('POST', '/oidc/device/approve', { user_code: start.user_code, user: 'zoe' }),
    );

    expect(r.status).toBe(400);
  });
});

describe('refresh_token grant', () => {
  it('exchanges a refresh token for new tokens, and refuses an access token in its place', async () => {
    const c = clock();
    const oidc = await createOidcIssuer({ issuerUrl: ISSUER, now: c.now, device: { intervalSeconds: 0 } });
    const start = body(
      await oidc.handler(req('POST', '/oidc/device_authorization', { client_id: 'vend-cli' })),
    );
    await oidc.handler(req('POST', '/oidc/device/approve', { user_code: start.user_code, user: 'dave' }));
    const first = body(
      await oidc.handler(
        req('POST', '/oidc/token', {
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: start.device_code,
        }),
      ),
    );

    c.advance(7200);
    const refreshed = await oidc.handler(
      req('POST', '/oidc/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token }),
    );
    const wrong = await oidc.handler(
      req('POST', '/oidc/token', { grant_type: 'refresh_token', refresh_token: first.access_token }),
    );

    expect(refreshed.status).toBe(200);
    expect(decodeJwt(body(refreshed).access_token)).toMatchObject({
      preferred_username: 'dave',
      iat: Math.floor(c.now().getTime() / 1000),
    });
    expect(body(wrong).error).toBe('invalid_grant');
  });
});
