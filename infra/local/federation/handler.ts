/**
 * The local federation endpoint (CONTRACT §2: `http://127.0.0.1:4566/federation`), the stand-in
 * for `https://signin.aws.amazon.com/federation` (IAM User Guide, "Enable custom identity broker
 * access to the AWS console"), mounted on the local AWS endpoint by infra/local/stack.ts.
 *
 * `Action=getSigninToken&Session=<JSON>[&SessionDuration=N]` (GET, or POST form):
 *  1. `Session` is `{"sessionId","sessionKey","sessionToken"}`: temporary credentials only;
 *  2. the session is validated as AWS would: the key is one the local STS issued, the session
 *     token and the secret match it exactly (compared in constant time), it has not expired, and
 *     it is not revoked: no explicit Deny of every action is in force for it, in its role's
 *     permissions boundary (vend's deny list, docs/revocation.md) or its own policies;
 *  3. `SessionDuration` (900–43200) is refused for credentials from role chaining (AWS Knowledge
 *     Center "invalid-credentials-parameter": HTTP 400 "Invalid credentials parameter"); vend's
 *     sessions are always chained (its broker runs as a role), so vend never sends it and the
 *     console session lasts as long as the credentials, as AWS documents for a missing
 *     `SessionDuration`;
 *  4. answer `{"SigninToken":"…"}`: an opaque random token, never derived from the credentials,
 *     valid 15 minutes (as AWS documents for the sign-in URL) and good for one sign-in.
 * Every refusal is HTTP 400 with a short plain-text body, AWS's answer to credentials it cannot
 * use; which check failed is not told (a prober learns nothing about a key).
 *
 * `Action=login&SigninToken=…&Destination=<console URL>[&Issuer=…]`: consumes the token,
 * re-checks the session (expired or revoked in the meantime → 400), and redirects (302) to the
 * local console page `/federation/console/<id>` (./page.ts), which names the assumed-role ARN,
 * the SourceIdentity and the expiry. The page re-checks the session on every view, so revoking it
 * shows at once (403). `Destination` must be an https URL of an AWS console host (our choice:
 * fail closed against open redirects; AWS does not document its rule).
 *
 * Tokens and console sessions live in memory: they are short-lived, and a restarted stack simply
 * asks the user to sign in again.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IamStore } from '../iam/store';
import { parseQueryRequest } from '../sts/query';
import type { KeyRecord, RawRequest, RawResponse } from '../types';
import { consolePage, refusalPage } from './page';

/** How long a SigninToken may be used (AWS: the sign-in URL is valid for 15 minutes). */
export const SIGNIN_TOKEN_TTL_MS = 15 * 60 * 1000;
/** SessionDuration bounds AWS documents for getSigninToken (15 minutes to 12 hours). */
export const SESSION_DURATION_RANGE = [900, 43200] as const;
/** Ended console sessions stay known this long, so their page says "expired", not "unknown". */
const KEEP_ENDED_MS = 60 * 60 * 1000;

const CONSOLE_HOST = /^(?:[a-z0-9-]+\.)*console\.(?:aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)$/;

interface PendingToken {
  accessKeyId: string;
  /** When the console session will end (ms). */
  consoleExpiresMs: number;
  tokenExpiresMs: number;
}

interface ConsoleSession {
  accessKeyId: string;
  expiresMs: number;
  destination: string;
  issuer?: string;
}

export interface FederationOptions {
  store: IamStore;
  now?: () => Date;
  /** The mount prefix; default `/federation`. */
  prefix?: string;
}

export interface Federation {
  /** The mount for the local AWS endpoint (`mounts: { '/federation': federation.handler }`). */
  handler: (req: RawRequest) => Promise<RawResponse>;
}

const text = (status: number, body: string, now: Date, extra: Record<string, string> = {}): RawResponse => ({
  status,
  headers: {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    date: now.toUTCString(),
    ...extra,
  },
  body: `${body}\n`,
});

const INVALID_CREDENTIALS = 'Invalid credentials parameter';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `{"sessionId","sessionKey","sessionToken"}`, all non-empty strings, or undefined. */
function readSession(raw: string | undefined): { id: string; key: string; token: string } | undefined {
  if (raw === undefined || raw.length > 16384) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (doc === null || typeof doc !== 'object') return undefined;
  const { sessionId, sessionKey, sessionToken } = doc as Record<string, unknown>;
  if (typeof sessionId !== 'string' || typeof sessionKey !== 'string' || typeof sessionToken !== 'string')
    return undefined;
  if (!sessionId || !sessionKey || !sessionToken) return undefined;
  return { id: sessionId, key: sessionKey, token: sessionToken };
}

/** The Destination as a URL when it is an https URL of an AWS console host, else undefined. */
function consoleUrl(destination: string | undefined): URL | undefined {
  if (!destination) return undefined;
  try {
    const url = new URL(destination);
    return url.protocol === 'https:' && CONSOLE_HOST.test(url.hostname) ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the federation endpoint over the local IAM store.
 *
 * @example
 * const federation = createFederation({ store });
 * await startAwsEndpoint({ port: 4566, store, mounts: { '/federation': federation.handler } });
 */
export function createFederation(opts: FederationOptions): Federation {
  const { store } = opts;
  const clock = opts.now ?? store.now;
  const prefix = (opts.prefix ?? '/federation').replace(/\/+$/, '');
  const consolePath = new RegExp(`^${prefix}/console/([A-Za-z0-9_-]{1,128})$`);
  const tokens = new Map<string, PendingToken>();
  const consoles = new Map<string, ConsoleSession>();

  const prune = (nowMs: number) => {
    for (const [t, p] of tokens) if (p.tokenExpiresMs <= nowMs) tokens.delete(t);
    for (const [id, c] of consoles) if (c.expiresMs + KEEP_ENDED_MS <= nowMs) consoles.delete(id);
  };

  /** The live, unrevoked session of `accessKeyId`, or undefined. */
  const usable = (accessKeyId: string, nowMs: number): KeyRecord | undefined => {
    const key = store.lookupAccessKey(accessKeyId);
    if (!key?.sessionToken || !key.expiration) return undefined;
    if (Date.parse(key.expiration) <= nowMs) return undefined;
    if (store.revocationOf(key)) return undefined;
    return key;
  };

  const getSigninToken = (params: Map<string, string>, now: Date): RawResponse => {
    const nowMs = now.getTime();
    const session = readSession(params.get('Session'));
    if (!session) return text(400, INVALID_CREDENTIALS, now);
    const rawDuration = params.get('SessionDuration');
    let duration: number | undefined;
    if (rawDuration !== undefined) {
      duration = Number(rawDuration);
      const [min, max] = SESSION_DURATION_RANGE;
      if (!/^\d+$/.test(rawDuration) || duration < min || duration > max)
        return text(400, 'Invalid SessionDuration parameter', now);
    }
    const candidate = store.lookupAccessKey(session.id);
    const matches =
      candidate?.sessionToken !== undefined &&
      sameSecret(candidate.sessionToken, session.token) &&
      sameSecret(candidate.secretAccessKey, session.key);
    const key = matches ? usable(session.id, nowMs) : undefined;
    // Role chaining: the console session may not be lengthened (AWS answers 400).
    if (!key || (duration !== undefined && key.principal.chained)) return text(400, INVALID_CREDENTIALS, now);
    const token = randomBytes(48).toString('base64url');
    tokens.set(token, {
      accessKeyId: key.accessKeyId,
      consoleExpiresMs: duration !== undefined ? nowMs + duration * 1000 : Date.parse(key.expiration!),
      tokenExpiresMs: nowMs + SIGNIN_TOKEN_TTL_MS,
    });
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', date: now.toUTCString() },
      body: JSON.stringify({ SigninToken: token }),
    };
  };

  const login = (params: Map<string, string>, now: Date): RawResponse => {
    const nowMs = now.getTime();
    const raw = params.get('SigninToken') ?? '';
    const pending = tokens.get(raw);
    if (!pending || pending.tokenExpiresMs <= nowMs) return text(400, 'Invalid SigninToken parameter', now);
    const url = consoleUrl(params.get('Destination'));
    if (!url) return text(400, 'Invalid Destination parameter', now);
    tokens.delete(raw); // one sign-in per token, whatever happens next
    if (!usable(pending.accessKeyId, nowMs)) return text(400, INVALID_CREDENTIALS, now);
    const id = randomBytes(32).toString('base64url');
    const issuer = params.get('Issuer');
    consoles.set(id, {
      accessKeyId: pending.accessKeyId,
      expiresMs: pending.consoleExpiresMs,
      destination: url.toString(),
      ...(issuer ? { issuer } : {}),
    });
    return {
      status: 302,
      headers: { location: `${prefix}/console/${id}`, 'cache-control': 'no-store', date: now.toUTCString() },
      body: '',
    };
  };

  const consoleView = (id: string, now: Date): RawResponse => {
    const c = consoles.get(id);
    if (!c) return refusalPage(404, 'No such console session', 'Sign in again through vend.', now);
    const key = store.lookupAccessKey(c.accessKeyId);
    if (!key || c.expiresMs <= now.getTime() || Date.parse(key.expiration ?? '') <= now.getTime())
      return refusalPage(
        401,
        'Session expired',
        'Your console session has ended. Sign in again through vend.',
        now,
      );
    if (store.revocationOf(key))
      return refusalPage(
        403,
        'Session revoked',
        'This session was revoked: every action is denied to it.',
        now,
      );
    const p = key.principal;
    return consolePage(
      {
        assumedRoleArn: p.arn,
        account: p.account,
        ...(p.sourceIdentity !== undefined && { sourceIdentity: p.sourceIdentity }),
        sessionTags: p.sessionTags ?? {},
        expiresAt: new Date(c.expiresMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        destination: c.destination,
        ...(c.issuer !== undefined && { issuer: c.issuer }),
      },
      now,
    );
  };

  const handler = async (req: RawRequest): Promise<RawResponse> => {
    const now = clock();
    prune(now.getTime());
    const consoleMatch = consolePath.exec(req.path);
    if (consoleMatch) {
      if (req.method !== 'GET') return text(405, 'Method not allowed', now, { allow: 'GET' });
      return consoleView(consoleMatch[1]!, now);
    }
    if (req.path !== prefix && req.path !== `${prefix}/`) return text(404, 'Not found', now);
    if (req.method !== 'GET' && req.method !== 'POST')
      return text(405, 'Method not allowed', now, { allow: 'GET, POST' });
    const params = parseQueryRequest(req);
    const action = params.get('Action');
    if (action === 'getSigninToken') return getSigninToken(params, now);
    if (action === 'login') return login(params, now);
    return text(400, action === undefined ? 'Missing Action parameter' : 'Invalid Action parameter', now);
  };

  return { handler };
}
