/**
 * The AWS federation endpoint's `getSigninToken`, behind the {@link SigninTokenIssuer} port
 * (IAM User Guide, "Enable custom identity broker access to the AWS console"):
 *
 * `GET <federation URL>?Action=getSigninToken&Session=<URL-encoded {"sessionId","sessionKey","sessionToken"}>`
 * → `200 {"SigninToken": "…"}`.
 *
 * GET with the session in the query string is what AWS documents. That URL carries the secret key
 * and session token, so it is built here, sent over TLS, and never logged, kept as an error cause
 * or returned: a failure keeps only the HTTP status or the network error's code. `SessionDuration`
 * is never sent: vend's sessions are role-chained, and AWS refuses it for those (the console session
 * lasts as long as the credentials; lib/domain/console.ts).
 *
 * The URL is configuration (`VEND_FEDERATION_URL`, default `https://signin.aws.amazon.com/federation`);
 * the local stack points it at its own endpoint (`http://127.0.0.1:4566/federation`).
 */
import { UpstreamUnavailableError } from '../domain/errors';
import type { SigninSession, SigninTokenIssuer } from '../ports';

/** The federation endpoint did not give a sign-in token (503 `upstream_unavailable`). */
export class SigninUnavailableError extends UpstreamUnavailableError {
  constructor(detail: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(detail, retryAfterSeconds, options);
    this.name = 'SigninUnavailableError';
  }
}

/** What went wrong, without the request (whose URL holds the credentials). */
class SigninFault extends Error {
  constructor(
    readonly code: string,
    readonly httpStatusCode?: number,
  ) {
    super(`getSigninToken failed: ${code}${httpStatusCode !== undefined ? ` (HTTP ${httpStatusCode})` : ''}`);
    this.name = 'SigninFault';
  }
}

/** Options of {@link FederationSigninClient}. */
export interface FederationSigninOptions {
  /** The endpoint, e.g. `https://signin.aws.amazon.com/federation`. */
  federationUrl: string;
  /** Per-request timeout (default 3000 ms). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * {@link SigninTokenIssuer} over `fetch`.
 * @example
 * ```ts
 * const signin = new FederationSigninClient({ federationUrl: 'https://signin.aws.amazon.com/federation' });
 * const token = await signin.getSigninToken({ accessKeyId, secretAccessKey, sessionToken });
 * ```
 */
export class FederationSigninClient implements SigninTokenIssuer {
  readonly federationUrl: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: FederationSigninOptions) {
    this.federationUrl = new URL(options.federationUrl).toString();
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.fetch = options.fetch ?? fetch;
  }

  async getSigninToken(session: SigninSession): Promise<string> {
    const url = new URL(this.federationUrl);
    url.search = new URLSearchParams({
      Action: 'getSigninToken',
      Session: JSON.stringify({
        sessionId: session.accessKeyId,
        sessionKey: session.secretAccessKey,
        sessionToken: session.sessionToken,
      }),
    }).toString();
    let res: Response;
    try {
      res = await this.fetch(url, {
        method: 'GET',
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (e) {
      const code = (e as { cause?: { code?: unknown } })?.cause?.code;
      const name = (e as { name?: unknown })?.name;
      throw new SigninUnavailableError('the AWS sign-in endpoint is unreachable; retry shortly', 2, {
        cause: new SigninFault(typeof code === 'string' ? code : typeof name === 'string' ? name : 'network'),
      });
    }
    const text = await res.text().catch(() => '');
    if (res.status !== 200) {
      // 400 means the endpoint would not take a session vend had just issued: vend's fault or
      // AWS's, never the caller's; 5xx and throttling are AWS's.
      throw new SigninUnavailableError(
        res.status >= 500 || res.status === 429
          ? 'the AWS sign-in endpoint is unavailable; retry shortly'
          : 'the AWS sign-in endpoint refused the session vend issued; retry shortly',
        res.status >= 500 || res.status === 429 ? 2 : 5,
        { cause: new SigninFault('status', res.status) },
      );
    }
    let token: unknown;
    try {
      token = (JSON.parse(text) as { SigninToken?: unknown }).SigninToken;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '') {
      throw new SigninUnavailableError('the AWS sign-in endpoint answered without a sign-in token', 5, {
        cause: new SigninFault('no-token', res.status),
      });
    }
    return token;
  }
}
