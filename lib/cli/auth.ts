/**
 * People's tokens: `vend login` (OAuth 2.0 device authorization grant, RFC 8628, against the
 * configured OIDC issuer), the token store, refresh, and `vend logout`.
 *
 * Where things live: `${VEND_CONFIG_DIR:-${XDG_CONFIG_HOME:-~/.config}/vend}/` (directory 0700):
 * - `token.json` (0600): the issuer, client id, access token, its expiry and the refresh token;
 * - `config.json` (optional, written by hand or by `vend login --issuer`): `{ "url", "issuer", "clientId" }`.
 *
 * The issuer is `--issuer`, else `VEND_OIDC_ISSUER`, else `config.json`'s `issuer`, else (local stack
 * only) the `issuer` in `$VEND_DATA_DIR/stack.json` written by `npm start`. There is no production
 * default: an issuer cannot be guessed.
 */
import { readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeJwtClaims } from './client';
import { AuthError, InterruptedError, networkReason, UnavailableError, UsageError } from './errors';
import { ensurePrivateDir, writeFileAtomic } from './files';

/** The OAuth client id vend uses unless configured (public client, no secret). */
export const DEFAULT_CLIENT_ID = 'vend-cli';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** Refresh this long before the access token expires, so it does not expire in flight. */
const REFRESH_SKEW_MS = 60_000;

type Env = Record<string, string | undefined>;

/** The directory for tokens and settings. */
export function configDir(env: Env): string {
  if (env.VEND_CONFIG_DIR?.trim()) return resolve(env.VEND_CONFIG_DIR.trim());
  const base = env.XDG_CONFIG_HOME?.trim() || join(env.HOME ?? homedir(), '.config');
  return join(base, 'vend');
}

/** The directory for cached credentials. */
export function cacheDir(env: Env): string {
  if (env.VEND_CACHE_DIR?.trim()) return resolve(env.VEND_CACHE_DIR.trim());
  const base = env.XDG_CACHE_HOME?.trim() || join(env.HOME ?? homedir(), '.cache');
  return join(base, 'vend');
}

/** `config.json`, if any. */
export interface CliConfig {
  url?: string;
  issuer?: string;
  clientId?: string;
}

export async function readConfig(env: Env): Promise<CliConfig> {
  try {
    const parsed = JSON.parse(await readFile(join(configDir(env), 'config.json'), 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as CliConfig) : {};
  } catch {
    return {};
  }
}

/** The stored login. */
export interface StoredToken {
  issuer: string;
  clientId: string;
  accessToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  refreshToken?: string;
}

const tokenFile = (env: Env): string => join(configDir(env), 'token.json');

export async function readStoredToken(env: Env): Promise<StoredToken | undefined> {
  try {
    const t = JSON.parse(await readFile(tokenFile(env), 'utf8')) as Partial<StoredToken>;
    if (typeof t.accessToken !== 'string' || typeof t.issuer !== 'string') return undefined;
    return {
      issuer: t.issuer,
      clientId: typeof t.clientId === 'string' ? t.clientId : DEFAULT_CLIENT_ID,
      accessToken: t.accessToken,
      expiresAt: typeof t.expiresAt === 'number' ? t.expiresAt : 0,
      ...(typeof t.refreshToken === 'string' ? { refreshToken: t.refreshToken } : {}),
    };
  } catch {
    return undefined;
  }
}

export async function writeStoredToken(env: Env, token: StoredToken): Promise<void> {
  await ensurePrivateDir(configDir(env));
  await writeFileAtomic(tokenFile(env), `${JSON.stringify(token, null, 2)}\n`);
}

/** `vend logout`: forgets the stored login. Returns whether there was one. */
export async function removeStoredToken(env: Env): Promise<boolean> {
  const had = (await readStoredToken(env)) !== undefined;
  await rm(tokenFile(env), { force: true });
  return had;
}

/** The issuer to log in with (see the module comment for the order). */
export async function resolveIssuer(env: Env, flag?: string): Promise<string> {
  const chosen = flag?.trim() || env.VEND_OIDC_ISSUER?.trim() || (await readConfig(env)).issuer?.trim();
  if (chosen) return chosen.replace(/\/+$/, '');
  if (env.VEND_DATA_DIR?.trim()) {
    try {
      const stack = JSON.parse(
        await readFile(join(resolve(env.VEND_DATA_DIR.trim()), 'stack.json'), 'utf8'),
      ) as { issuer?: unknown };
      if (typeof stack.issuer === 'string') return stack.issuer.replace(/\/+$/, '');
    } catch {
      // no local stack there
    }
  }
  throw new UsageError(
    'no OIDC issuer configured: pass --issuer URL, set VEND_OIDC_ISSUER, or put "issuer" in config.json',
  );
}

/** Ports of the token functions: HTTP, time, sleep and the prompt. */
export interface AuthDeps {
  env: Env;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Waits `ms`, rejecting with InterruptedError when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Where the verification URI and code are shown (stderr). */
  say: (line: string) => void;
  signal?: AbortSignal;
}

/** A sleep that an AbortSignal cuts short. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolveSleep, reject) => {
    if (signal?.aborted) return reject(new InterruptedError('interrupted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolveSleep();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new InterruptedError('interrupted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function postForm(
  deps: AuthDeps,
  url: string,
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await (deps.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new UnavailableError(
      `cannot reach the OIDC issuer (${new URL(url).origin}): ${networkReason(error)}`,
      { cause: error },
    );
  }
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    // an error without a JSON body; the status says enough
  }
  return { status: res.status, body };
}

async function discover(deps: AuthDeps, issuer: string): Promise<{ device: string; token: string }> {
  let res: Response;
  try {
    res = await (deps.fetch ?? fetch)(`${issuer}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new UnavailableError(`cannot reach the OIDC issuer (${issuer}): ${networkReason(error)}`, {
      cause: error,
    });
  }
  const doc = (res.ok ? await res.json().catch(() => ({})) : {}) as Record<string, unknown>;
  const device = doc.device_authorization_endpoint;
  const token = doc.token_endpoint;
  if (typeof device !== 'string' || typeof token !== 'string') {
    throw new AuthError(
      `the issuer ${issuer} does not offer the device authorization grant (no device_authorization_endpoint in its discovery document)`,
    );
  }
  return { device, token };
}

function storedFrom(
  issuer: string,
  clientId: string,
  body: Record<string, unknown>,
  now: Date,
  prior?: StoredToken,
): StoredToken {
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string')
    throw new AuthError('the issuer answered without an access token: run vend login again');
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : undefined;
  const exp = decodeJwtClaims(accessToken)?.exp;
  const expiresAt =
    expiresIn !== undefined
      ? now.getTime() + expiresIn * 1000
      : typeof exp === 'number'
        ? exp * 1000
        : now.getTime() + 3600_000;
  const refreshToken = typeof body.refresh_token === 'string' ? body.refresh_token : prior?.refreshToken;
  return { issuer, clientId, accessToken, expiresAt, ...(refreshToken ? { refreshToken } : {}) };
}

/**
 * `vend login`: the device authorization grant. Shows the verification URI and user code, polls the
 * token endpoint at the issuer's `interval` (plus 5 s after each `slow_down`), stores the tokens.
 *
 * @example const t = await login({ env, say: (l) => process.stderr.write(l) }, { issuer: 'https://id.example.com' });
 */
export async function login(
  deps: AuthDeps,
  opts: { issuer?: string; clientId?: string } = {},
): Promise<StoredToken> {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? abortableSleep;
  const issuer = await resolveIssuer(deps.env, opts.issuer);
  const clientId = opts.clientId ?? (await readConfig(deps.env)).clientId ?? DEFAULT_CLIENT_ID;
  const endpoints = await discover(deps, issuer);
  const start = await postForm(deps, endpoints.device, {
    client_id: clientId,
    scope: 'openid profile email groups offline_access',
  });
  const {
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: uri,
    verification_uri_complete: complete,
  } = start.body;
  if (start.status !== 200 || typeof deviceCode !== 'string' || typeof userCode !== 'string') {
    throw new AuthError(
      `the issuer refused to start a device login (${String(start.body.error ?? `HTTP ${start.status}`)})`,
    );
  }
  let interval = typeof start.body.interval === 'number' && start.body.interval > 0 ? start.body.interval : 5;
  const expiresIn = typeof start.body.expires_in === 'number' ? start.body.expires_in : 600;
  const deadline = now().getTime() + expiresIn * 1000;
  deps.say(`To sign in, open ${String(uri ?? issuer)} and enter the code ${userCode}\n`);
  if (typeof complete === 'string') deps.say(`(or open ${complete})\n`);
  deps.say('Waiting for approval… (Ctrl-C to stop)\n');

  for (;;) {
    await sleep(interval * 1000, deps.signal);
    if (now().getTime() >= deadline)
      throw new AuthError('the login code expired before it was approved: run vend login again');
    const res = await postForm(deps, endpoints.token, {
      grant_type: DEVICE_GRANT,
      device_code: deviceCode,
      client_id: clientId,
    });
    if (res.status === 200) {
      const stored = storedFrom(issuer, clientId, res.body, now());
      await writeStoredToken(deps.env, stored);
      return stored;
    }
    switch (res.body.error) {
      case 'authorization_pending':
        continue;
      case 'slow_down':
        interval += 5; // RFC 8628 §3.5
        continue;
      case 'access_denied':
        throw new AuthError('the login was denied');
      case 'expired_token':
        throw new AuthError('the login code expired before it was approved: run vend login again');
      default:
        throw new AuthError(
          `the issuer refused the login (${String(res.body.error ?? `HTTP ${res.status}`)}): run vend login again`,
        );
    }
  }
}

/** A person's token and where it came from. */
export interface PersonToken {
  token: string;
  source: 'VEND_TOKEN' | 'login';
}

/**
 * The token to act as a person with: `VEND_TOKEN`, else the stored login (refreshed with its
 * refresh token when it has expired or is about to). Undefined when there is neither: the CLI then
 * signs as a service.
 *
 * @throws AuthError the stored login expired and could not be refreshed
 */
export async function personToken(deps: Omit<AuthDeps, 'say'>): Promise<PersonToken | undefined> {
  const fromEnv = deps.env.VEND_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: 'VEND_TOKEN' };
  const stored = await readStoredToken(deps.env);
  if (!stored) return undefined;
  const now = (deps.now ?? (() => new Date()))();
  if (stored.expiresAt - REFRESH_SKEW_MS > now.getTime())
    return { token: stored.accessToken, source: 'login' };
  if (!stored.refreshToken) throw new AuthError('your vend login has expired: run vend login');
  let refreshed: StoredToken;
  try {
    const { token } = await discover({ ...deps, say: () => undefined }, stored.issuer);
    const res = await postForm({ ...deps, say: () => undefined }, token, {
      grant_type: 'refresh_token',
      refresh_token: stored.refreshToken,
      client_id: stored.clientId,
    });
    if (res.status !== 200) throw new AuthError('refresh refused');
    refreshed = storedFrom(stored.issuer, stored.clientId, res.body, now, stored);
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    throw new AuthError('your vend login has expired and could not be refreshed: run vend login', {
      cause: error,
    });
  }
  await writeStoredToken(deps.env, refreshed);
  return { token: refreshed.accessToken, source: 'login' };
}
