/** JWT authorizer refusals, each answered 401 before any function runs. */
import { createHmac } from 'node:crypto';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { authorizeJwt, keyResolver, renderClaim } from '../../../../infra/local/gateway/authorizers';
import type { RawRequest } from '../../../../infra/local/types';

const ISSUER = 'http://127.0.0.1:4566/oidc';
const NOW = new Date('2026-11-29T10:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const auth = {
  type: 'jwt' as const,
  name: 'personJwt',
  issuer: ISSUER,
  audience: ['vend'],
  identitySource: 'authorization',
};

let privateKey: CryptoKey;
let publicJwk: JWK;
let publicPem: string;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' };
  publicPem = await exportSPKI(pair.publicKey);
});

const request = (authorization?: string): RawRequest => ({
  method: 'GET',
  path: '/v1/entitlements',
  query: '',
  headers: authorization === undefined ? {} : { authorization },
  body: Buffer.alloc(0),
  sourceIp: '127.0.0.1',
});

const claims = (over: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: 'vend',
  sub: '00u-alice',
  iat: NOW_S - 10,
  nbf: NOW_S - 10,
  exp: NOW_S + 600,
  groups: ['sre', 'oncall'],
  ...over,
});
const sign = (over: Record<string, unknown> = {}) =>
  new SignJWT(claims(over)).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const check = (authorization?: string) =>
  authorizeJwt(request(authorization), auth, { keys: keyResolver({ keys: [publicJwk] }), now: NOW });

describe('JWT authorizer', () => {
  it('accepts a valid token and renders claims as HTTP APIs do', async () => {
    const outcome = await check(`Bearer ${await sign({ scope: 'openid vend' })}`);

    expect(outcome).toMatchObject({
      ok: true,
      authorizer: {
        jwt: {
          claims: { sub: '00u-alice', groups: '[sre oncall]', exp: String(NOW_S + 600) },
          scopes: ['openid', 'vend'],
        },
      },
    });
  });

  it('accepts a token without the Bearer prefix', async () => {
    expect((await check(await sign())).ok).toBe(true);
  });

  it('accepts client_id in place of a missing aud', async () => {
    expect((await check(await sign({ aud: undefined, client_id: 'vend' }))).ok).toBe(true);
  });

  it.each([
    ['expired', { exp: NOW_S - 1 }, 'the token has expired'],
    ['not yet valid', { nbf: NOW_S + 60 }, 'the token is not valid yet'],
    ['issued in the future', { iat: NOW_S + 60, nbf: NOW_S - 1 }, 'the token was issued in the future'],
    ['for another audience', { aud: 'other' }, 'the token does not have a valid audience'],
    ['from another issuer', { iss: 'https://evil.example' }, 'the token does not have a valid issuer'],
    ['without exp', { exp: undefined }, 'the token has an invalid exp claim'],
  ])('refuses a token %s with 401', async (_label, over, description) => {
    const outcome = await check(`Bearer ${await sign(over)}`);

    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.response.status).toBe(401);
    expect(JSON.parse(outcome.response.body.toString())).toEqual({ message: 'Unauthorized' });
    expect(outcome.response.headers['www-authenticate']).toBe(
      `Bearer scope="" error="invalid_token" error_description="${description}"`,
    );
  });

  it('refuses a missing token with a bare Bearer challenge', async () => {
    const outcome = await check();

    expect(outcome).toMatchObject({
      ok: false,
      response: { status: 401, headers: { 'www-authenticate': 'Bearer' } },
    });
  });

  it('refuses alg:none', async () => {
    const outcome = await check(`Bearer ${b64({ alg: 'none' })}.${b64(claims())}.`);

    expect(outcome).toMatchObject({ ok: false, response: { status: 401 } });
  });

  it('refuses HS256 keyed with the public key (algorithm confusion)', async () => {
    const input = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64(claims())}`;
    const token = `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;

    expect(await check(`Bearer ${token}`)).toMatchObject({ ok: false, response: { status: 401 } });
  });

  it('refuses a token signed by another key', async () => {
    const other = await generateKeyPair('RS256');
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .sign(other.privateKey);

    expect(await check(token)).toMatchObject({ ok: false, response: { status: 401 } });
  });

  it('answers 403 insufficient_scope when the route needs a scope the token lacks', async () => {
    const outcome = await authorizeJwt(
      request(await sign({ scope: 'openid' })),
      { ...auth, scopes: ['vend:admin'] },
      {
        keys: keyResolver({ keys: [publicJwk] }),
        now: NOW,
      },
    );

    expect(outcome).toMatchObject({ ok: false, response: { status: 403 } });
  });
});

describe('claim rendering', () => {
  it.each([
    ['s', 's'],
    [42, '42'],
    [true, 'true'],
    [['a', 'b'], '[a b]'],
    [[], '[]'],
    [{ b: 1, a: 'x' }, 'map[a:x b:1]'],
  ])('renders %j as %s', (value, rendered) => {
    expect(renderClaim(value)).toBe(rendered);
  });
});
