/**
 * The local issuer's authorization-code flow with PKCE, driven as the web console drives it: with
 * oauth4webapi (the web app's OIDC library) for discovery, PKCE, the callback and the token
 * exchange, and plain HTTP for what the browser does (open the authorization URL, submit the login
 * form). Then the attacks a real provider refuses: a wrong verifier, a replayed or expired code,
 * another redirect URI or client, `plain` PKCE, a callback without its state, HTML in the login name,
 * and browser origins that are not the web console's.
 */
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { CODE_TTL_SECONDS } from '../../infra/local/oidc/authorization-code';
import { WEB_CONSOLE_CLIENT_ID } from '../../infra/local/oidc/clients';
import { withStack } from '../support/stack';

// A clock the expiry test moves; everything else runs at offset 0.
let offsetMs = 0;
const stack = withStack({ now: () => new Date(Date.now() + offsetMs) });

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const client: oauth.Client = { client_id: WEB_CONSOLE_CLIENT_ID };
const redirectUri = () => `${stack.apiUrl}/`;
const localhostRedirectUri = () => `${stack.apiUrl.replace('127.0.0.1', 'localhost')}/`;

async function discover(): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(stack.stack.oidc.issuer);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
}

/** One sign-in attempt's client-side secrets, as the web app keeps them (sessionStorage at most). */
interface Attempt {
  verifier: string;
  state: string;
  nonce: string;
  url: URL;
}

async function authorizationUrl(
  as: oauth.AuthorizationServer,
  overrides: Record<string, string | null> = {},
): Promise<Attempt> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  const params: Record<string, string | null> = {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri(),
    scope: 'openid profile email groups',
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...overrides,
  };
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
  return { verifier, state, nonce, url };
}

/** The login form as a browser reads it: where it posts and its hidden fields. */
function readForm(html: string, base: URL): { action: URL; hidden: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  if (!action) throw new Error(`no login form in:\n${html}`);
  const hidden = Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]),
  );
  return { action: new URL(action, base), hidden };
}

/** Opens the authorization URL and submits the login form as `login`; answers the issuer's last response. */
async function submitLogin(url: URL, login: string): Promise<Response> {
  const page = await fetch(url, { redirect: 'manual' });
  expect(page.status, await page.clone().text()).toBe(200);
  const { action, hidden } = readForm(await page.text(), url);
  return fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...hidden, login }),
  });
}

/** Signs in as `login` and answers the callback URL the browser lands on. */
async function callback(attempt: Attempt, login = 'alice'): Promise<URL> {
  const res = await submitLogin(attempt.url, login);
  expect(res.status).toBe(303);
  return new URL(res.headers.get('location')!);
}

/**
 * The token request oauth4webapi sends, with the code from a callback. (The state checks have their
 * own tests; here the callback is only taken apart as the library requires.)
 */
async function exchange(
  as: oauth.AuthorizationServer,
  landed: URL,
  verifier: string,
  opts: { redirect?: string; client?: oauth.Client } = {},
): Promise<Response> {
  return oauth.authorizationCodeGrantRequest(
    as,
    opts.client ?? client,
    oauth.None(),
    oauth.validateAuthResponse(as, client, landed, oauth.skipStateCheck),
    opts.redirect ?? redirectUri(),
    verifier,
    insecure,
  );
}

const oauthError = async (res: Response) => ({
  status: res.status,
  ...((await res.json()) as { error: string; error_description: string }),
});

const tokenForm = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields),
});

describe('authorization code with PKCE: the web console signs in', () => {
  it('discovery advertises the code flow, S256 only, and the iss response parameter', async () => {
    const as = await discover();

    expect(as).toMatchObject({
      issuer: stack.stack.oidc.issuer,
      authorization_endpoint: `${stack.stack.oidc.issuer}/authorize`,
      token_endpoint: `${stack.stack.oidc.issuer}/token`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      token_endpoint_auth_methods_supported: ['none'],
    });
    expect(as.response_types_supported).toContain('code');
    expect(as.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code']),
    );
  });

  it('alice signs in through the login form; her access token opens GET /v1/entitlements', async () => {
    const as = await discover();
    const attempt = await authorizationUrl(as);

    const landed = await callback(attempt, 'alice');
    const params = oauth.validateAuthResponse(as, client, landed, attempt.state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await exchange(as, landed, attempt.verifier),
      { expectedNonce: attempt.nonce, requireIdToken: true },
    );
    const api = await fetch(`${stack.apiUrl}/v1/entitlements`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });

    expect(`${landed.origin}${landed.pathname}`).toBe(redirectUri());
    expect(params.get('iss')).toBe(as.issuer);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeUndefined();
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({
      iss: as.issuer,
      aud: WEB_CONSOLE_CLIENT_ID,
      nonce: attempt.nonce,
      preferred_username: 'alice',
      groups: ['sre'],
    });
    expect(decodeJwt(tokens.access_token)).toMatchObject({
      iss: as.issuer,
      aud: 'vend',
      preferred_username: 'alice',
      email: 'alice@example.com',
      groups: ['sre'],
    });
    expect(api.status).toBe(200);
    const { entitlements } = (await api.json()) as { entitlements: { id: string }[] };
    expect(entitlements.map((e) => e.id)).toContain('prod-readonly');
  });

  it('accepts the localhost spelling of the console and mallory signs in with no groups', async () => {
    const as = await discover();
    const attempt = await authorizationUrl(as, { redirect_uri: localhostRedirectUri() });

    const landed = await callback(attempt, 'mallory');
    oauth.validateAuthResponse(as, client, landed, attempt.state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await exchange(as, landed, attempt.verifier, { redirect: localhostRedirectUri() }),
      { expectedNonce: attempt.nonce },
    );

    expect(`${landed.origin}${landed.pathname}`).toBe(localhostRedirectUri());
    expect(decodeJwt(tokens.access_token)).toMatchObject({ preferred_username: 'mallory', groups: [] });
  });

  it('a request without nonce gets an ID token without one', async () => {
    const as = await discover();
    const attempt = await authorizationUrl(as, { nonce: null });

    const landed = await callback(attempt);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await exchange(as, landed, attempt.verifier),
      { requireIdToken: true },
    );

    expect(oauth.getValidatedIdTokenClaims(tokens)).not.toHaveProperty('nonce');
  });
});

describe('the login page', () => {
  it('is an accessible form (lang, main, labelled input named login, submit button) under a strict CSP', async () => {
    const as = await discover();
    const { url } = await authorizationUrl(as);

    const page = await fetch(url, { redirect: 'manual' });
    const html = await page.text();
    const csp = page.headers.get('content-security-policy') ?? '';
    const css = await fetch(new URL('login.css', `${as.issuer}/`));

    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html).toMatch(/<html lang="en">/);
    expect(html).toMatch(/<main>[\s\S]*<\/main>/);
    expect(html).toMatch(/<label for="login">[^<]+<\/label>/);
    expect(html).toMatch(/<input id="login" name="login" type="text"[^>]*required/);
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);
    expect(html).not.toMatch(/<script|\sstyle=|\son\w+=/i);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`form-action 'self' ${new URL(redirectUri()).origin}`);
    expect(csp).not.toContain('unsafe');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('shows the form again, escaped, for an unknown name, and still signs in the right one after', async () => {
    const as = await discover();
    const attempt = await authorizationUrl(as);
    const page = await fetch(attempt.url, { redirect: 'manual' });
    const { action, hidden } = readForm(await page.text(), attempt.url);
    const post = (login: string) => fetch(action, { ...tokenForm({ ...hidden, login }), redirect: 'manual' });

    const injected = await post('<img src=x onerror=alert(1)>"><script>alert(2)</script>');
    const html = await injected.text();
    const retried = await post('alice');
    const again = await post('alice');

    expect(injected.status).toBe(400);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&gt;&lt;script&gt;');
    expect(html).not.toMatch(/<img|<script/i);
    expect(html).toMatch(/role="alert"/);
    expect(html).toMatch(/aria-invalid="true" aria-describedby="login-error"/);
    expect(retried.status).toBe(303);
    expect(new URL(retried.headers.get('location')!).searchParams.get('state')).toBe(attempt.state);
    // The form is single use: the transaction ended with the code.
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('expired or was already used');
  });
});

describe('what the issuer refuses at the authorization endpoint', () => {
  it('never redirects to an unregistered redirect_uri or for an unknown client (an error page instead)', async () => {
    const as = await discover();
    const cases: Record<string, string | null>[] = [
      { redirect_uri: 'http://evil.example/' },
      { redirect_uri: `${stack.apiUrl}/evil` },
      { redirect_uri: `${stack.apiUrl}` }, // no trailing slash: not the registered string
      { redirect_uri: `${stack.apiUrl}/?next=x` },
      { redirect_uri: null },
      { client_id: 'not-registered' },
      { client_id: null },
    ];

    for (const overrides of cases) {
      const { url } = await authorizationUrl(as, overrides);
      const res = await fetch(url, { redirect: 'manual' });

      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('Invalid sign-in request');
    }
  });

  it('refuses plain PKCE, a missing challenge and other bad requests with an error redirect carrying the state', async () => {
    const as = await discover();
    const cases: [Record<string, string | null>, string][] = [
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge_method: null }, 'invalid_request'], // absent means plain (RFC 7636 §4.3)
      [{ code_challenge: null }, 'invalid_request'],
      [{ code_challenge: 'short' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ response_type: null }, 'invalid_request'],
      [{ scope: 'profile' }, 'invalid_scope'],
      [{ scope: 'openid admin' }, 'invalid_scope'],
      [{ prompt: 'none' }, 'login_required'],
      [{ request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported'],
    ];

    for (const [overrides, error] of cases) {
      const attempt = await authorizationUrl(as, overrides);
      const res = await fetch(attempt.url, { redirect: 'manual' });
      const landed = new URL(res.headers.get('location') ?? 'about:blank');

      expect(res.status, JSON.stringify(overrides)).toBe(303);
      expect(`${landed.origin}${landed.pathname}`).toBe(redirectUri());
      expect(Object.fromEntries(landed.searchParams)).toMatchObject({
        error,
        state: attempt.state,
        iss: as.issuer,
      });
      expect(() => oauth.validateAuthResponse(as, client, landed, attempt.state)).toThrow(
        oauth.AuthorizationResponseError,
      );
    }
  });

  it('refuses a repeated parameter', async () => {
    const as = await discover();
    const attempt = await authorizationUrl(as);
    attempt.url.searchParams.append('scope', 'openid');

    const res = await fetch(attempt.url, { redirect: 'manual' });

    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });
});

describe('state', () => {
  it('comes back verbatim, however it is spelled', async () => {
    const as = await discover();
    const state = 'a b&c=d/é?#%';
    const attempt = await authorizationUrl(as, { state });

    const landed = await callback(attempt);

    expect(landed.searchParams.get('state')).toBe(state);
    expect(() => oauth.validateAuthResponse(as, client, landed, state)).not.toThrow();
  });

  it('a callback that lost its state, or carries another, is refused by the client (login CSRF)', async () => {
    const as = await discover();
    const attempt = await authorizationUrl(as);
    const landed = await callback(attempt);
    const stripped = new URL(landed);
    stripped.searchParams.delete('state');
    const swapped = new URL(landed);
    swapped.searchParams.set('state', oauth.generateRandomState());

    expect(() => oauth.validateAuthResponse(as, client, stripped, attempt.state)).toThrow(/"state" missing/);
    expect(() => oauth.validateAuthResponse(as, client, swapped, attempt.state)).toThrow(
      /unexpected "state"/,
    );
  });

  it('a request without state gets a callback without state', async () => {
    const as = await discover();
    const attempt = await authorizationUrl(as, { state: null });

    const landed = await callback(attempt);

    expect(landed.searchParams.has('state')).toBe(false);
    expect(landed.searchParams.get('code')).toBeTruthy();
    expect(() => oauth.validateAuthResponse(as, client, landed, oauth.expectNoState)).not.toThrow();
  });
});

describe('what the token endpoint refuses (RFC 6749 §5.2)', () => {
  it('a wrong code_verifier is invalid_grant, and spends the code', async () => {
    const as = await discover();
    const attempt = await authorizationUrl(as);
    const landed = await callback(attempt);

    const wrong = await exchange(as, landed, oauth.generateRandomCodeVerifier());
    const right = await exchange(as, landed, attempt.verifier);

    expect(await oauthError(wrong)).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(await oauthError(right)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('a code is single use', async () => {
    const as = await discover();
    const attempt = await authorizationUrl(as);
    const landed = await callback(attempt);

    const first = await exchange(as, landed, attempt.verifier);
    const replay = await exchange(as, landed, attempt.verifier);

    expect(first.status).toBe(200);
    expect(await oauthError(replay)).toMatchObject({
      error: 'invalid_grant',
      error_description: 'the authorization code was already used',
    });
    await expect(
      oauth.processAuthorizationCodeResponse(as, client, await exchange(as, landed, attempt.verifier)),
    ).rejects.toThrow(oauth.ResponseBodyError);
  });

  it(`a code expires ${CODE_TTL_SECONDS} s after it was issued`, async () => {
    const as = await discover();
    const late = await authorizationUrl(as);
    const lateLanded = await callback(late);
    const inTime = await authorizationUrl(as);
    const inTimeLanded = await callback(inTime);

    let expired: Response;
    let justInTime: Response;
    try {
      offsetMs = (CODE_TTL_SECONDS - 1) * 1000;
      justInTime = await exchange(as, inTimeLanded, inTime.verifier);
      offsetMs = (CODE_TTL_SECONDS + 1) * 1000;
      expired = await exchange(as, lateLanded, late.verifier);
    } finally {
      offsetMs = 0;
    }

    expect(justInTime.status).toBe(200);
    expect(await oauthError(expired)).toMatchObject({
      error: 'invalid_grant',
      error_description: 'the authorization code has expired',
    });
  });

  it('a code is bound to its redirect_uri', async () => {
    const as = await discover();
    const attempt = await authorizationUrl(as);
    const landed = await callback(attempt);

    // Also registered for this client, but not the one the code was issued for.
    const res = await exchange(as, landed, attempt.verifier, { redirect: localhostRedirectUri() });

    expect(await oauthError(res)).toMatchObject({
      error: 'invalid_grant',
      error_description: 'redirect_uri differs from the authorization request',
    });
  });

  it('a code is bound to its client; an unknown client is invalid_client', async () => {
    stack.stack.oidc.registerClient({ clientId: 'other-app', redirectUris: [`${stack.apiUrl}/other/`] });
    const as = await discover();
    const attempt = await authorizationUrl(as);
    const landed = await callback(attempt);

    const other = await exchange(as, landed, attempt.verifier, { client: { client_id: 'other-app' } });
    const unknown = await exchange(as, landed, attempt.verifier, { client: { client_id: 'nobody' } });

    expect(await oauthError(other)).toMatchObject({
      error: 'invalid_grant',
      error_description: 'the authorization code was issued to another client',
    });
    expect(await oauthError(unknown)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('answers invalid_request, unsupported_grant_type and invalid_client for malformed requests', async () => {
    const token = `${stack.stack.oidc.issuer}/token`;
    const base = {
      grant_type: 'authorization_code',
      client_id: WEB_CONSOLE_CLIENT_ID,
      code: 'x',
      redirect_uri: redirectUri(),
      code_verifier: oauth.generateRandomCodeVerifier(),
    };
    const { code_verifier: _v, ...noVerifier } = base;
    const repeatedCode = new URLSearchParams(base);
    repeatedCode.append('code', 'y');

    const results = await Promise.all([
      fetch(token, tokenForm(noVerifier)),
      fetch(token, tokenForm({ ...base, code_verifier: 'too-short' })),
      fetch(token, { ...tokenForm({}), body: repeatedCode }),
      fetch(token, tokenForm({ ...base, grant_type: 'password' })),
      fetch(token, tokenForm({ ...base, grant_type: '' })),
      fetch(token, tokenForm({ ...base, client_secret: 's3cret' })),
      fetch(token, tokenForm({ ...base, code: 'never-issued' })),
      fetch(token, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(base),
      }),
    ]);

    expect(await Promise.all(results.map(async (r) => `${r.status} ${(await oauthError(r)).error}`))).toEqual(
      [
        '400 invalid_request',
        '400 invalid_request',
        '400 invalid_request',
        '400 unsupported_grant_type',
        '400 invalid_request',
        '401 invalid_client',
        '400 invalid_grant',
        '400 invalid_request',
      ],
    );
    for (const r of results) expect(r.headers.get('cache-control')).toBe('no-store');
  });
});

describe('CORS: only the web console origin may read the issuer from a browser', () => {
  it('answers the console origin with Access-Control-Allow-Origin, and any other origin without', async () => {
    const token = `${stack.stack.oidc.issuer}/token`;
    const discovery = `${stack.stack.oidc.issuer}/.well-known/openid-configuration`;
    const consoleOrigin = new URL(stack.apiUrl).origin;
    const body = tokenForm({ grant_type: 'authorization_code' });

    const allowed = await fetch(token, { ...body, headers: { ...body.headers, origin: consoleOrigin } });
    const evil = await fetch(token, {
      ...body,
      headers: { ...body.headers, origin: 'http://evil.example' },
    });
    const allowedDiscovery = await fetch(discovery, { headers: { origin: consoleOrigin } });
    const evilDiscovery = await fetch(discovery, { headers: { origin: 'http://evil.example' } });
    const preflight = (origin: string) =>
      fetch(token, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const goodPreflight = await preflight(consoleOrigin);
    const badPreflight = await preflight('http://127.0.0.1:1');

    expect(allowed.headers.get('access-control-allow-origin')).toBe(consoleOrigin);
    expect(allowed.headers.get('vary')).toContain('origin');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(allowedDiscovery.headers.get('access-control-allow-origin')).toBe(consoleOrigin);
    expect(evilDiscovery.headers.get('access-control-allow-origin')).toBeNull();
    expect(goodPreflight.status).toBe(204);
    expect(goodPreflight.headers.get('access-control-allow-origin')).toBe(consoleOrigin);
    expect(goodPreflight.headers.get('access-control-allow-methods')).toBe('POST');
    expect(goodPreflight.headers.get('access-control-allow-credentials')).toBeNull();
    expect(badPreflight.status).toBe(403);
    expect(badPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});
