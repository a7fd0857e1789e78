/**
 * The local OIDC issuer, mounted at `/oidc` on the local AWS endpoint (CONTRACT §2).
 *
 * Serves discovery and JWKS (what API Gateway's JWT authorizer and jose's createRemoteJWKSet read),
 * the authorization-code grant with PKCE for registered public clients (./authorization-code.ts,
 * what the web console signs in with), the OAuth 2.0 device authorization grant (RFC 8628, what
 * `vend login` uses) and the refresh_token grant. Device codes live in memory; refresh tokens are
 * JWTs signed with the issuer key, so they survive a restart as long as the key file does.
 * Local-only extras: `POST /oidc/device/approve` and `POST /oidc/device/deny` complete a pending
 * device code without a browser.
 *
 * CORS: discovery, JWKS and the token endpoint answer browsers only from the origins of registered
 * redirect URIs (the web console at the gateway calls them cross-origin); other origins get no
 * `Access-Control-Allow-Origin`, so the browser keeps the answer from the page.
 */
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import type { RawRequest, RawResponse } from '../types';
import { createAuthorizationCodeFlow, SUPPORTED_SCOPES } from './authorization-code';
import { ClientRegistry, type PublicClient } from './clients';
import { loadOrCreateSigningKey, SIGNING_ALG } from './keys';
import { LOGIN_CSS } from './login-page';
import { demoPeople, type Person } from './people';
import { DEFAULT_AUDIENCE, type MintOptions, mintPersonToken, UnknownUserError } from './tokens';

export { type PublicClient, WEB_CONSOLE_CLIENT_ID, webConsoleClient } from './clients';
export { UnknownUserError } from './tokens';

/** Options of {@link createOidcIssuer}. */
export interface OidcIssuerOptions {
  /** The issuer URL, which is also where the handler is mounted: `http://127.0.0.1:4566/oidc`. */
  issuerUrl: string;
  /** Where to keep the signing key (private JWK, mode 0600). Without it the key lives in memory. */
  keyFile?: string;
  /** Audience of access tokens; default `vend`. */
  audience?: string;
  people?: Person[];
  now?: () => Date;
  /** Device grant: polling interval (default 5 s) and code lifetime (default 600 s). */
  device?: { intervalSeconds?: number; expiresInSeconds?: number };
  /** Lifetime of refresh tokens; default 30 days. */
  refreshTtlSeconds?: number;
  /** Public clients of the authorization-code flow (more with {@link OidcIssuer.registerClient}). */
  clients?: PublicClient[];
}

/** A running local issuer. */
export interface OidcIssuer {
  issuer: string;
  audience: string;
  /** The public keys, as served at `/oidc/jwks.json`. */
  jwks: JSONWebKeySet;
  people: Person[];
  /** Serves every `/oidc/*` path. */
  handler(req: RawRequest): Promise<RawResponse>;
  /** Mints an access token for a demo person; throws {@link UnknownUserError} for anyone else. */
  mintToken(user: string, opts?: MintOptions): Promise<string>;
  /**
   * Registers (or replaces) a public client of the authorization-code flow: its exact redirect URIs,
   * whose origins may then call the token endpoint from a browser. The stack registers the web
   * console once the gateway listens (its URL is known only then).
   *
   * @throws ClientRegistrationError for a malformed client id or redirect URI.
   */
  registerClient(client: PublicClient): void;
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §6.1: consonants only, so codes spell no words and survive being read aloud. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

interface DeviceCode {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scope: string;
  expiresAt: number;
  intervalSeconds: number;
  lastPollAt?: number;
  approvedBy?: Person;
  denied?: boolean;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): RawResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** The endpoints a browser app calls cross-origin, with the methods it may use. */
const CORS_PATHS: Record<string, string> = {
  '/.well-known/openid-configuration': 'GET',
  '/jwks.json': 'GET',
  '/token': 'POST',
};

/** RFC 6749 §5.2 error response. */
function oauthError(error: string, description: string, status = 400): RawResponse {
  return json(status, { error, error_description: description });
}

/** Reads a form-encoded or JSON body into string fields. */
function fields(req: RawRequest): Record<string, string> {
  const text = req.body.toString('utf8');
  if (/^application\/json/i.test(req.headers['content-type'] ?? '')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (!parsed || typeof parsed !== 'object') return {};
      return Object.fromEntries(
        Object.entries(parsed)
          .filter(([, v]) => typeof v === 'string' || typeof v === 'boolean')
          .map(([k, v]) => [k, String(v)]),
      );
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function userCode(): string {
  const bytes = randomBytes(8);
  const chars = [...bytes].map((b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}

const normaliseUserCode = (code: string): string => code.toUpperCase().replace(/[^A-Z]/g, '');

/**
 * Starts a local issuer (loads or makes its key).
 *
 * @example
 * const oidc = await createOidcIssuer({ issuerUrl: 'http://127.0.0.1:4566/oidc', keyFile: '.vend/oidc/signing-key.json' });
 * const token = await oidc.mintToken('alice');
 */
export async function createOidcIssuer(opts: OidcIssuerOptions): Promise<OidcIssuer> {
  const issuer = opts.issuerUrl.replace(/\/+$/, '');
  const basePath = new URL(issuer).pathname.replace(/\/+$/, '');
  const audience = opts.audience ?? DEFAULT_AUDIENCE;
  const people = opts.people ?? demoPeople();
  const now = opts.now ?? (() => new Date());
  const key = await loadOrCreateSigningKey(opts.keyFile);
  const jwks: JSONWebKeySet = { keys: [key.publicJwk] };
  const ownKeys = createLocalJWKSet(jwks);
  const intervalSeconds = opts.device?.intervalSeconds ?? 5;
  const expiresInSeconds = opts.device?.expiresInSeconds ?? 600;
  const refreshTtlSeconds = opts.refreshTtlSeconds ?? 30 * 24 * 3600;
  const byUser = new Map(people.map((p) => [p.username, p]));
  const bySub = new Map(people.map((p) => [p.sub, p]));
  const deviceCodes = new Map<string, DeviceCode>();
  const byUserCode = new Map<string, DeviceCode>();
  const clients = new ClientRegistry(opts.clients);

  const person = (user: string): Person => {
    const found = byUser.get(user);
    if (!found) throw new UnknownUserError(user, [...byUser.keys()]);
    return found;
  };

  const mintToken = async (user: string, options?: MintOptions): Promise<string> =>
    mintPersonToken({ key, issuer, person: person(user), now: now(), defaultAudience: audience, options });

  const tokenResponse = async (
    who: Person,
    clientId: string,
    scope: string,
    opts: { refresh?: boolean; idTokenClaims?: Record<string, unknown> } = {},
  ): Promise<RawResponse> => {
    const ttl = 3600;
    const at = now();
    const refresh =
      opts.refresh === false
        ? undefined
        : await mintPersonToken({
            key,
            issuer,
            person: who,
            now: at,
            options: {
              audience: issuer,
              ttlSeconds: refreshTtlSeconds,
              // A refresh token carries only what is needed to mint the next access token.
              extraClaims: {
                token_use: 'refresh',
                client_id: clientId,
                scope,
                email: undefined,
                email_verified: undefined,
                name: undefined,
                groups: undefined,
              },
            },
          });
    return json(
      200,
      {
        access_token: await mintPersonToken({
          key,
          issuer,
          person: who,
          now: at,
          defaultAudience: audience,
          options: { ttlSeconds: ttl },
        }),
        token_type: 'Bearer',
        expires_in: ttl,
        id_token: await mintPersonToken({
          key,
          issuer,
          person: who,
          now: at,
          options: { audience: clientId, ttlSeconds: ttl, extraClaims: opts.idTokenClaims },
        }),
        ...(refresh !== undefined && { refresh_token: refresh }),
        scope,
      },
      { pragma: 'no-cache' },
    );
  };

  const codeFlow = createAuthorizationCodeFlow({
    issuer,
    issuerPath: basePath,
    clients,
    people,
    now,
    // The browser client keeps tokens in memory and signs in again: no refresh token.
    issueTokens: ({ person: who, clientId, scope, idTokenClaims }) =>
      tokenResponse(who, clientId, scope, { refresh: false, idTokenClaims }),
  });

  const discovery = (): RawResponse =>
    json(200, {
      issuer,
      jwks_uri: `${issuer}/jwks.json`,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      device_authorization_endpoint: `${issuer}/device_authorization`,
      grant_types_supported: ['authorization_code', DEVICE_GRANT, 'refresh_token'],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [SIGNING_ALG],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: [...SUPPORTED_SCOPES],
      claims_supported: [
        'iss',
        'sub',
        'aud',
        'exp',
        'iat',
        'nbf',
        'auth_time',
        'nonce',
        'email',
        'email_verified',
        'name',
        'preferred_username',
        'groups',
      ],
    });

  const deviceAuthorization = (req: RawRequest): RawResponse => {
    const f = fields(req);
    const clientId = f.client_id;
    if (!clientId) return oauthError('invalid_request', 'client_id is required');
    const code: DeviceCode = {
      deviceCode: randomBytes(24).toString('base64url'),
      userCode: userCode(),
      clientId,
      scope: f.scope ?? 'openid profile email groups',
      expiresAt: now().getTime() + expiresInSeconds * 1000,
      intervalSeconds,
    };
    deviceCodes.set(code.deviceCode, code);
    byUserCode.set(normaliseUserCode(code.userCode), code);
    return json(200, {
      device_code: code.deviceCode,
      user_code: code.userCode,
      verification_uri: `${issuer}/device`,
      verification_uri_complete: `${issuer}/device?user_code=${code.userCode}`,
      expires_in: expiresInSeconds,
      interval: intervalSeconds,
    });
  };

  const decide = (req: RawRequest, approve: boolean): RawResponse => {
    const f = fields(req);
    const code = byUserCode.get(normaliseUserCode(f.user_code ?? ''));
    if (!code || code.expiresAt <= now().getTime()) {
      return json(404, {
        error: 'invalid_user_code',
        error_description: 'no pending device code has that user_code',
      });
    }
    if (code.approvedBy || code.denied) {
      return json(409, {
        error: 'already_decided',
        error_description: 'that device code was already approved or denied',
      });
    }
    if (approve) {
      const who = byUser.get(f.user ?? '');
      if (!who)
        return json(400, { error: 'unknown_user', error_description: `unknown user '${f.user ?? ''}'` });
      code.approvedBy = who;
    } else {
      code.denied = true;
    }
    return json(200, {
      ok: true,
      user_code: code.userCode,
      ...(approve ? { user: f.user } : { denied: true }),
    });
  };

  const deviceToken = async (f: Record<string, string>): Promise<RawResponse> => {
    const code = deviceCodes.get(f.device_code ?? '');
    if (!code) return oauthError('invalid_grant', 'unknown device_code');
    if (f.client_id && f.client_id !== code.clientId)
      return oauthError('invalid_grant', 'device_code was issued to another client');
    const at = now().getTime();
    if (code.expiresAt <= at) {
      deviceCodes.delete(code.deviceCode);
      byUserCode.delete(normaliseUserCode(code.userCode));
      return oauthError('expired_token', 'the device_code has expired; start again');
    }
    if (code.denied) {
      deviceCodes.delete(code.deviceCode);
      return oauthError('access_denied', 'the user denied the request');
    }
    if (!code.approvedBy) {
      const tooSoon = code.lastPollAt !== undefined && at - code.lastPollAt < code.intervalSeconds * 1000;
      code.lastPollAt = at;
      if (tooSoon) {
        code.intervalSeconds += 5; // RFC 8628 §3.5: every slow_down adds 5 seconds
        return oauthError('slow_down', `poll at most every ${code.intervalSeconds} seconds`);
      }
      return oauthError('authorization_pending', 'the user has not approved the request yet');
    }
    // One use only (RFC 8628 §3.5 lets the server refuse replays).
    deviceCodes.delete(code.deviceCode);
    byUserCode.delete(normaliseUserCode(code.userCode));
    return tokenResponse(code.approvedBy, code.clientId, code.scope);
  };

  const refreshToken = async (f: Record<string, string>): Promise<RawResponse> => {
    try {
      const { payload } = await jwtVerify(f.refresh_token ?? '', ownKeys, {
        issuer,
        audience: issuer,
        algorithms: [SIGNING_ALG],
        currentDate: now(),
      });
      const who = bySub.get(String(payload.sub));
      if (payload.token_use !== 'refresh' || !who) throw new Error('not a refresh token');
      return tokenResponse(
        who,
        String(payload.client_id ?? f.client_id ?? 'vend-cli'),
        String(payload.scope ?? ''),
      );
    } catch {
      return oauthError('invalid_grant', 'the refresh token is invalid or expired');
    }
  };

  /** Adds CORS headers for an allowed browser origin; none for any other (fail closed). */
  const withCors = (req: RawRequest, path: string, res: RawResponse): RawResponse => {
    if (!(path in CORS_PATHS)) return res;
    const origin = req.headers.origin;
    const headers: Record<string, string> = { ...res.headers, vary: 'origin' };
    if (origin && clients.allowsOrigin(origin)) headers['access-control-allow-origin'] = origin;
    return { ...res, headers };
  };

  const preflight = (req: RawRequest, path: string): RawResponse => {
    const origin = req.headers.origin;
    const methods = CORS_PATHS[path];
    if (!methods || !origin || !clients.allowsOrigin(origin))
      return json(403, {
        error: 'origin_not_allowed',
        error_description: 'this origin may not call the issuer',
      });
    return {
      status: 204,
      headers: {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': methods,
        'access-control-allow-headers': 'accept, content-type',
        'access-control-max-age': '600',
        vary: 'origin',
      },
      body: '',
    };
  };

  const devicePage = (): RawResponse => ({
    status: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    body: `vend local issuer: device codes are approved without a browser, with\n  curl -X POST ${issuer}/device/approve -H 'content-type: application/json' -d '{"user_code":"XXXX-XXXX","user":"alice"}'\n`,
  });

  const handler = async (req: RawRequest): Promise<RawResponse> => {
    if (!req.path.startsWith(basePath)) return json(404, { error: 'not_found' });
    const path = req.path.slice(basePath.length) || '/';
    if (req.method === 'OPTIONS') return preflight(req, path);
    return withCors(req, path, await route(req, path));
  };

  const route = async (req: RawRequest, path: string): Promise<RawResponse> => {
    const route = `${req.method} ${path}`;
    switch (route) {
      case 'GET /.well-known/openid-configuration':
        return discovery();
      case 'GET /jwks.json':
        return json(200, jwks, { 'cache-control': 'max-age=300' });
      case 'POST /device_authorization':
        return deviceAuthorization(req);
      case 'GET /device':
        return devicePage();
      case 'POST /device/approve':
        return decide(req, true);
      case 'POST /device/deny':
        return decide(req, false);
      case 'GET /authorize':
      case 'POST /authorize':
        return codeFlow.authorize(req);
      case 'POST /login':
        return codeFlow.login(req);
      case 'GET /login.css':
        return {
          status: 200,
          headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' },
          body: LOGIN_CSS,
        };
      case 'POST /token': {
        const f = fields(req);
        if (f.grant_type === 'authorization_code') {
          // RFC 6749 §4.1.3: form-encoded, as every OAuth client library sends it.
          if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? ''))
            return oauthError(
              'invalid_request',
              'send the token request as application/x-www-form-urlencoded',
            );
          return codeFlow.exchange(new URLSearchParams(req.body.toString('utf8')), req);
        }
        if (f.grant_type === DEVICE_GRANT) return deviceToken(f);
        if (f.grant_type === 'refresh_token') return refreshToken(f);
        if (!f.grant_type) return oauthError('invalid_request', 'grant_type is required');
        return oauthError(
          'unsupported_grant_type',
          `grant_type must be authorization_code, ${DEVICE_GRANT} or refresh_token`,
        );
      }
      default:
        return json(404, { error: 'not_found', error_description: `no such endpoint: ${route}` });
    }
  };

  return {
    issuer,
    audience,
    jwks,
    people,
    handler,
    mintToken,
    registerClient: (client) => clients.register(client),
  };
}
