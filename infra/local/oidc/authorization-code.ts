/**
 * The authorization-code grant with PKCE (RFC 6749 §4.1, RFC 7636, OpenID Connect Core §3.1) for
 * public clients, as the local issuer serves it to the web console.
 *
 * Primary course:
 * 1. `GET <issuer>/authorize?response_type=code&client_id&redirect_uri&scope=openid…&state&nonce
 *    &code_challenge&code_challenge_method=S256`: the request is checked; a pending authorization
 *    ("transaction", 10 minutes) is kept server side and the login form carries only its handle;
 * 2. `POST <issuer>/login` (`txn`, `login`): a demo person's name ends the transaction and answers
 *    303 to `redirect_uri?code&state&iss` (RFC 9207 `iss` against mix-up);
 * 3. `POST <issuer>/token` (`grant_type=authorization_code`, `code`, `redirect_uri`, `client_id`,
 *    `code_verifier`): the code is spent, whatever the outcome, then checked against what it was
 *    issued for; the answer is an access token (aud `vend`, what the API's JWT authorizer takes) and
 *    an ID token (aud = the client, with the request's `nonce`). No refresh token: the web console
 *    keeps tokens in memory and signs in again when they expire.
 *
 * What is refused, as a real provider refuses it:
 * - unknown `client_id`, or a `redirect_uri` that is not exactly one the client registered: an error
 *   page, never a redirect (§4.1.2.1: redirecting there would make the issuer an open redirector);
 * - every other bad request: a redirect with `error` (`invalid_request`, `unsupported_response_type`,
 *   `invalid_scope`, `login_required`, `request_not_supported`) and the `state`;
 * - no PKCE, or `code_challenge_method=plain` (or absent, which means plain): `invalid_request`;
 * - at the token endpoint (§5.2): `invalid_request` (missing or repeated parameter, malformed
 *   verifier), `invalid_client` (unknown client, or a secret from a public client), `invalid_grant`
 *   (unknown, spent or expired code; another client, another redirect URI, a verifier that does not
 *   hash to the challenge). Codes live 60 s and are single use; a spent code stays remembered until
 *   it would have expired, so a replay is named as one.
 *
 * Everything is in memory: a restart of the stack forgets pending logins and codes (clients start
 * again), which is what a provider's restart without shared state would do too.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RawRequest, RawResponse } from '../types';
import type { ClientRegistry } from './clients';
import { errorPage, loginPage } from './login-page';
import type { Person } from './people';

/** How long an issued code may be redeemed. */
export const CODE_TTL_SECONDS = 60;
/** How long a login form stays usable. */
export const TRANSACTION_TTL_SECONDS = 600;
/** The scopes the issuer knows; `openid` is required. */
export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'groups', 'offline_access'] as const;

/** RFC 7636 §4.1: 43-128 characters of [A-Z a-z 0-9 - . _ ~]. */
const VERIFIER_SHAPE = /^[A-Za-z0-9._~-]{43,128}$/;
/** BASE64URL(SHA-256(verifier)) without padding: exactly 43 characters. */
const S256_CHALLENGE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Bounds on client-chosen strings echoed back or embedded in tokens. */
const MAX_STATE_LENGTH = 2048;
const MAX_NONCE_LENGTH = 512;
const MAX_LOGIN_LENGTH = 128;
/** How long expired and spent codes are remembered (for the error message only). */
const REMEMBER_SECONDS = 600;

interface Transaction {
  id: string;
  clientId: string;
  redirectUri: string;
  state?: string;
  nonce?: string;
  scope: string;
  codeChallenge: string;
  expiresAt: number;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
  scope: string;
  person: Person;
  authTime: number;
  expiresAt: number;
}

/** What the flow needs from the issuer. */
export interface AuthorizationCodeDeps {
  issuer: string;
  /** The issuer's path (`/oidc`), where the pages and their stylesheet live. */
  issuerPath: string;
  clients: ClientRegistry;
  people: readonly Person[];
  now: () => Date;
  /** Issues the token response for a person (the issuer's minting). */
  issueTokens(args: {
    person: Person;
    clientId: string;
    scope: string;
    idTokenClaims: Record<string, unknown>;
  }): Promise<RawResponse>;
}

/** The flow's endpoints. */
export interface AuthorizationCodeFlow {
  /** `GET <issuer>/authorize` (and `POST` with a form body, OIDC Core §3.1.2.1). */
  authorize(req: RawRequest): RawResponse;
  /** `POST <issuer>/login`: the login form's submission. */
  login(req: RawRequest): RawResponse;
  /** `POST <issuer>/token` with `grant_type=authorization_code`: the parsed form, as sent. */
  exchange(form: URLSearchParams, req: RawRequest): Promise<RawResponse>;
}

function tokenError(error: string, description: string, status = 400): RawResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' },
    body: JSON.stringify({ error, error_description: description }),
  };
}

/** The first parameter given more than once, if any (RFC 6749 §3.1, §3.2: each at most once). */
function repeated(params: URLSearchParams): string | undefined {
  const seen = new Set<string>();
  for (const k of params.keys()) {
    if (seen.has(k)) return k;
    seen.add(k);
  }
  return undefined;
}

/** A parameter's value, treating an empty value as absent (RFC 6749 §3.1). */
const param = (params: URLSearchParams, name: string): string | undefined => params.get(name) || undefined;

const s256 = (verifier: string): string => createHash('sha256').update(verifier, 'ascii').digest('base64url');

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Builds the flow over the issuer's clients and people.
 *
 * @example
 * const flow = createAuthorizationCodeFlow({ issuer, issuerPath: '/oidc', clients, people, now, issueTokens });
 * const page = flow.authorize(req); // the login form, or an error page/redirect
 */
export function createAuthorizationCodeFlow(deps: AuthorizationCodeDeps): AuthorizationCodeFlow {
  const { issuer, issuerPath, clients, now } = deps;
  const byUser = new Map(deps.people.map((p) => [p.username, p]));
  const transactions = new Map<string, Transaction>();
  const codes = new Map<string, AuthorizationCode>();
  /** Spent codes, remembered for a while: a replay is answered as one, not as "unknown". */
  const spent = new Map<string, number>();

  // Expired codes are kept a while too, so that a late redemption is told "expired".
  const prune = (at: number): void => {
    const forget = at - REMEMBER_SECONDS * 1000;
    for (const [k, t] of transactions) if (t.expiresAt <= at) transactions.delete(k);
    for (const [k, c] of codes) if (c.expiresAt <= forget) codes.delete(k);
    for (const [k, until] of spent) if (until <= forget) spent.delete(k);
  };

  const redirect = (to: string, params: Record<string, string | undefined>): RawResponse => {
    const url = new URL(to);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
    return {
      status: 303,
      headers: {
        location: url.href,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'content-type': 'text/plain; charset=utf-8',
      },
      body: '',
    };
  };

  const authorize = (req: RawRequest): RawResponse => {
    const at = now().getTime();
    prune(at);
    const params =
      req.method === 'POST' ? new URLSearchParams(req.body.toString('utf8')) : new URLSearchParams(req.query);
    const bad = (detail: string): RawResponse =>
      errorPage(issuerPath, 400, 'Invalid sign-in request', detail);

    // 1. Who is asking and where to answer: until both are trusted, nothing is redirected.
    const dup = repeated(params);
    if (dup === 'client_id' || dup === 'redirect_uri') return bad(`${dup} is given more than once`);
    const clientId = param(params, 'client_id');
    if (!clientId) return bad('client_id is required');
    const client = clients.get(clientId);
    if (!client) return bad('the application (client_id) is not registered with this issuer');
    const redirectUri = param(params, 'redirect_uri');
    if (!redirectUri) return bad('redirect_uri is required');
    if (!clients.allowsRedirect(client.clientId, redirectUri))
      return bad('redirect_uri is not registered for this application');

    // 2. Everything else is answered at the client, with its state.
    const rawState = param(params, 'state');
    const state = rawState !== undefined && rawState.length <= MAX_STATE_LENGTH ? rawState : undefined;
    const fail = (error: string, description: string): RawResponse =>
      redirect(redirectUri, { error, error_description: description, state, iss: issuer });
    if (dup) return fail('invalid_request', `${dup} is given more than once`);
    if (rawState !== undefined && state === undefined)
      return fail('invalid_request', `state is longer than ${MAX_STATE_LENGTH} characters`);
    if (params.has('request')) return fail('request_not_supported', 'request objects are not supported');
    if (params.has('request_uri')) return fail('request_uri_not_supported', 'request_uri is not supported');
    const responseType = param(params, 'response_type');
    if (!responseType) return fail('invalid_request', 'response_type is required');
    if (responseType !== 'code')
      return fail('unsupported_response_type', 'only response_type=code is supported');
    const responseMode = param(params, 'response_mode');
    if (responseMode !== undefined && responseMode !== 'query')
      return fail('invalid_request', 'only response_mode=query is supported');
    const scopes = (param(params, 'scope') ?? '').split(' ').filter(Boolean);
    if (!scopes.includes('openid')) return fail('invalid_scope', 'scope must include openid');
    const unknown = scopes.find((s) => !(SUPPORTED_SCOPES as readonly string[]).includes(s));
    if (unknown) return fail('invalid_scope', `unknown scope: ${unknown}`);
    const method = param(params, 'code_challenge_method');
    const challenge = param(params, 'code_challenge');
    if (!challenge) return fail('invalid_request', 'PKCE is required: code_challenge (S256)');
    if (method !== 'S256')
      return fail('invalid_request', 'code_challenge_method must be S256 (plain is not accepted)');
    if (!S256_CHALLENGE_SHAPE.test(challenge))
      return fail('invalid_request', 'code_challenge must be 43 characters of base64url');
    const nonce = param(params, 'nonce');
    if (nonce !== undefined && nonce.length > MAX_NONCE_LENGTH)
      return fail('invalid_request', `nonce is longer than ${MAX_NONCE_LENGTH} characters`);
    // No session is kept at the issuer: every sign-in shows the form.
    if ((param(params, 'prompt') ?? '').split(' ').includes('none'))
      return fail('login_required', 'the local issuer keeps no sign-in session');

    const txn: Transaction = {
      id: randomBytes(24).toString('base64url'),
      clientId: client.clientId,
      redirectUri,
      ...(state !== undefined && { state }),
      ...(nonce !== undefined && { nonce }),
      scope: scopes.join(' '),
      codeChallenge: challenge,
      expiresAt: at + TRANSACTION_TTL_SECONDS * 1000,
    };
    transactions.set(txn.id, txn);
    return form(txn);
  };

  const form = (txn: Transaction, extra: { login?: string; error?: string; status?: number } = {}) =>
    loginPage({
      issuerPath,
      transaction: txn.id,
      clientId: txn.clientId,
      clientOrigin: new URL(txn.redirectUri).origin,
      people: [...byUser.keys()],
      ...extra,
    });

  const login = (req: RawRequest): RawResponse => {
    const at = now().getTime();
    prune(at);
    const fields = new URLSearchParams(req.body.toString('utf8'));
    const txn = transactions.get(fields.get('txn') ?? '');
    if (!txn)
      return errorPage(
        issuerPath,
        400,
        'Sign-in expired',
        'this sign-in form has expired or was already used',
      );
    const typed = (fields.get('login') ?? '').trim().slice(0, MAX_LOGIN_LENGTH);
    const person = byUser.get(typed);
    if (!person) {
      const error = typed ? `There is no demo person named “${typed}”.` : 'Type your name to sign in.';
      return form(txn, { login: typed, error, status: 400 });
    }
    // The form is single use: the transaction ends with the code.
    transactions.delete(txn.id);
    const code = randomBytes(32).toString('base64url');
    codes.set(code, {
      clientId: txn.clientId,
      redirectUri: txn.redirectUri,
      codeChallenge: txn.codeChallenge,
      ...(txn.nonce !== undefined && { nonce: txn.nonce }),
      scope: txn.scope,
      person,
      authTime: Math.floor(at / 1000),
      expiresAt: at + CODE_TTL_SECONDS * 1000,
    });
    return redirect(txn.redirectUri, { code, state: txn.state, iss: issuer });
  };

  const exchange = async (f: URLSearchParams, req: RawRequest): Promise<RawResponse> => {
    const at = now().getTime();
    prune(at);
    const dup = repeated(f);
    if (dup) return tokenError('invalid_request', `${dup} is given more than once`);
    // Public clients have no secret; one that sends one is misconfigured (RFC 6749 §2.3).
    if (f.has('client_secret') || /^basic /i.test(req.headers.authorization ?? ''))
      return tokenError('invalid_client', 'this client is public: authenticate with PKCE, not a secret', 401);
    const clientId = param(f, 'client_id');
    if (!clientId) return tokenError('invalid_request', 'client_id is required');
    if (!clients.get(clientId)) return tokenError('invalid_client', 'unknown client', 401);
    const code = param(f, 'code');
    if (!code) return tokenError('invalid_request', 'code is required');
    const redirectUri = param(f, 'redirect_uri');
    if (!redirectUri) return tokenError('invalid_request', 'redirect_uri is required');
    const verifier = param(f, 'code_verifier');
    if (!verifier) return tokenError('invalid_request', 'code_verifier is required (PKCE)');
    if (!VERIFIER_SHAPE.test(verifier))
      return tokenError('invalid_request', 'code_verifier must be 43-128 characters of [A-Za-z0-9._~-]');

    if (spent.has(code)) return tokenError('invalid_grant', 'the authorization code was already used');
    const issued = codes.get(code);
    if (!issued) return tokenError('invalid_grant', 'unknown authorization code');
    // Spent on the first attempt, whatever its outcome: a stolen code gets one guess, not many.
    codes.delete(code);
    spent.set(code, issued.expiresAt);
    if (issued.expiresAt <= at) return tokenError('invalid_grant', 'the authorization code has expired');
    if (issued.clientId !== clientId)
      return tokenError('invalid_grant', 'the authorization code was issued to another client');
    if (issued.redirectUri !== redirectUri)
      return tokenError('invalid_grant', 'redirect_uri differs from the authorization request');
    if (!sameString(s256(verifier), issued.codeChallenge))
      return tokenError('invalid_grant', 'code_verifier does not match the code_challenge');

    return deps.issueTokens({
      person: issued.person,
      clientId,
      scope: issued.scope,
      idTokenClaims: {
        auth_time: issued.authTime,
        ...(issued.nonce !== undefined && { nonce: issued.nonce }),
      },
    });
  };

  return { authorize, login, exchange };
}
