/**
 * Sign-in: OpenID Connect authorization code with PKCE (S256), as a public client, with
 * oauth4webapi doing every protocol step (discovery, PKCE, the callback's state/iss checks, the
 * token exchange, the ID token's claims and nonce). Nothing here hand-parses a token response.
 *
 * Primary course:
 * 1. {@link beginSignIn}: discover the issuer, make a verifier, state and nonce, keep them (and the
 *    page to come back to) in sessionStorage for the one round trip, and send the browser to the
 *    authorization endpoint.
 * 2. The issuer's login form redirects back to `<origin>/?code=…&state=…&iss=…`.
 * 3. {@link completeSignIn}: take the attempt out of sessionStorage (it is used once), strip the code
 *    from the address bar and history at once, validate the callback, exchange the code with the
 *    verifier, check the ID token's nonce.
 *
 * Where tokens live: in this module's memory only. The access token is never written to any
 * storage, cookie or URL; a reload or a new tab signs in again, and so does expiry (the app signs
 * out when `expires_in` runs out, and on any 401). sessionStorage holds only the sign-in attempt
 * (verifier, state, nonce), for the seconds between leaving and coming back.
 */
import * as oauth from 'oauth4webapi';
import { isLoopback, type WebConfig } from './config';

/** Who is signed in, from the ID token (and the access token's groups when the ID token has none). */
export interface Me {
  /** `<issuer>#<subject>`: how vend names a person (requests, votes, reviews). */
  id: string;
  subject: string;
  email?: string;
  name?: string;
  groups: string[];
}

/** A signed-in session: memory only. */
export interface Session {
  accessToken: string;
  /** Epoch ms after which the access token is not used any more. */
  expiresAt: number;
  me: Me;
}

/** Sign-in failed: the message is safe to show (no token, no code). */
export class SignInError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignInError';
  }
}

const ATTEMPT_KEY = 'vend.signin';
/** An attempt older than this is not completed (the issuer's login form lives 10 minutes). */
const ATTEMPT_TTL_MS = 15 * 60 * 1000;

interface Attempt {
  verifier: string;
  state: string;
  nonce: string;
  /** The hash route to return to (`#/requests`). */
  returnTo: string;
  at: number;
}

function requestOptions(config: WebConfig): { [oauth.allowInsecureRequests]?: boolean } {
  // oauth4webapi refuses http by default; the local issuer (127.0.0.1) is the one exception.
  return isLoopback(new URL(config.issuer)) ? { [oauth.allowInsecureRequests]: true } : {};
}

async function discover(config: WebConfig): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(config.issuer);
  const response = await oauth.discoveryRequest(issuer, requestOptions(config));
  return oauth.processDiscoveryResponse(issuer, response);
}

/** The redirect URI: the app's root on this origin, exactly as registered at the issuer. */
export const redirectUri = (): string => `${window.location.origin}/`;

/** True when this page load is the issuer's redirect back (a `code` or `error` with a `state`). */
export function isCallback(url: URL): boolean {
  return url.searchParams.has('state') && (url.searchParams.has('code') || url.searchParams.has('error'));
}

/** Step 1: leaves the page for the issuer's authorization endpoint. */
export async function beginSignIn(config: WebConfig, returnTo: string): Promise<void> {
  const as = await discover(config);
  if (!as.authorization_endpoint) throw new SignInError('the issuer has no authorization endpoint');
  const attempt: Attempt = {
    verifier: oauth.generateRandomCodeVerifier(),
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    returnTo: /^#\/[A-Za-z0-9/?=&._-]*$/.test(returnTo) ? returnTo : '#/access',
    at: Date.now(),
  };
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('scope', config.scope);
  url.searchParams.set('state', attempt.state);
  url.searchParams.set('nonce', attempt.nonce);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(attempt.verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  sessionStorage.setItem(ATTEMPT_KEY, JSON.stringify(attempt));
  window.location.assign(url.href);
}

function takeAttempt(): Attempt | undefined {
  const raw = sessionStorage.getItem(ATTEMPT_KEY);
  sessionStorage.removeItem(ATTEMPT_KEY);
  if (!raw) return undefined;
  try {
    const a = JSON.parse(raw) as Attempt;
    if (typeof a.verifier !== 'string' || typeof a.state !== 'string' || typeof a.nonce !== 'string')
      return undefined;
    if (typeof a.at !== 'number' || Date.now() - a.at > ATTEMPT_TTL_MS) return undefined;
    return a;
  } catch {
    return undefined;
  }
}

/** The `groups` claim of a JWT access token, when it is one; display only (the API decides). */
function groupsOfAccessToken(token: string): string[] {
  try {
    const part = token.split('.')[1];
    if (!part) return [];
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const groups = (JSON.parse(json) as { groups?: unknown }).groups;
    return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [];
  } catch {
    return [];
  }
}

/** Step 3: finishes the sign-in on the callback page. The code leaves the address bar first. */
export async function completeSignIn(config: WebConfig, current: URL): Promise<Session> {
  const attempt = takeAttempt();
  // The code and state are spent either way: out of the address bar and the history entry now.
  window.history.replaceState(null, '', `/${attempt?.returnTo ?? '#/access'}`);
  if (!attempt) throw new SignInError('this sign-in was not started here or took too long; sign in again');
  const as = await discover(config);
  const client: oauth.Client = { client_id: config.clientId };
  const options = requestOptions(config);
  try {
    const params = oauth.validateAuthResponse(as, client, current, attempt.state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      params,
      redirectUri(),
      attempt.verifier,
      options,
    );
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: attempt.nonce,
      requireIdToken: true,
    });
    const claims = oauth.getValidatedIdTokenClaims(result);
    if (!claims) throw new SignInError('the issuer answered no ID token');
    const groups = Array.isArray(claims.groups)
      ? claims.groups.filter((g): g is string => typeof g === 'string')
      : groupsOfAccessToken(result.access_token);
    const lifetime = typeof result.expires_in === 'number' ? result.expires_in : 300;
    return {
      accessToken: result.access_token,
      // A little early, so a request never leaves with a token about to lapse.
      expiresAt: Date.now() + Math.max(0, lifetime - 30) * 1000,
      me: {
        id: `${claims.iss}#${claims.sub}`,
        subject: claims.sub,
        email: typeof claims.email === 'string' ? claims.email : undefined,
        name: typeof claims.name === 'string' ? claims.name : undefined,
        groups,
      },
    };
  } catch (error) {
    if (error instanceof SignInError) throw error;
    if (error instanceof oauth.AuthorizationResponseError)
      throw new SignInError(`the issuer refused the sign-in (${error.error})`, { cause: error });
    if (error instanceof oauth.ResponseBodyError)
      throw new SignInError(`the issuer refused the code (${error.error})`, { cause: error });
    throw new SignInError('sign-in failed; try again', { cause: error });
  }
}
