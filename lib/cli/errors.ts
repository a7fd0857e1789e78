/**
 * The CLI's failures, one class per failure, each with the exit code it ends the process with
 * (documented in docs/cli.md), and the translation of an API problem (RFC 9457) into the one line a
 * person reads on stderr. Messages never contain a secret: they are built from problem `code`s,
 * caller-safe `detail`s and names the user typed.
 */

/** Exit codes (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** The API refused (not entitled, duration out of range, request denied …). */
  refused: 1,
  /** Bad arguments or missing configuration. */
  usage: 2,
  /** Not signed in, token expired, AWS signature refused, login failed. */
  auth: 3,
  /** vend or the issuer cannot be reached, or answered 5xx / 429. */
  unavailable: 4,
  /** Ctrl-C (SIGINT) or SIGTERM while waiting. */
  interrupted: 130,
} as const;

/** Base of every failure the CLI reports; `message` is the one stderr line (without `vend: `). */
export abstract class CliError extends Error {
  abstract readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad arguments or configuration (exit 2). */
export class UsageError extends CliError {
  readonly exitCode = EXIT.usage;
}

/** Not signed in, or the credentials were refused (exit 3). */
export class AuthError extends CliError {
  readonly exitCode = EXIT.auth;
}

/** The server or network failed (exit 4). */
export class UnavailableError extends CliError {
  readonly exitCode = EXIT.unavailable;
}

/** vend answered with a refusal (exit 1). `code` is the API's problem code when it sent one. */
export class RefusedError extends CliError {
  readonly exitCode = EXIT.refused;
  constructor(
    message: string,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Interrupted by a signal (exit 130). */
export class InterruptedError extends CliError {
  readonly exitCode = EXIT.interrupted;
}

/** An RFC 9457 problem document as vend sends it (CONTRACT §4). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  requestId?: string;
}

/** An HTTP error answer from the vend API, before it is given words. */
export class ApiResponseError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    /** API Gateway's own refusals (`{"message": "Forbidden"}`) carry only a message. */
    readonly gatewayMessage: string | undefined,
    readonly retryAfter: string | undefined,
  ) {
    super(problem?.detail ?? gatewayMessage ?? `HTTP ${status}`);
    this.name = 'ApiResponseError';
  }
}

/** What the CLI was doing when the API answered, so the message can say what to do next. */
export interface ErrorContext {
  /** The entitlement asked for, if any. */
  entitlement?: string;
  /** `person` (Bearer token) or `service` (SigV4). */
  mode?: 'person' | 'service';
  /** Where the token came from, for "get a new one" advice. */
  tokenSource?: 'VEND_TOKEN' | 'login';
  /** The token's `exp` claim (seconds), when known, to say "expired" rather than "refused". */
  tokenExpiresAt?: number;
  now?: Date;
  requestId?: string;
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

/**
 * Turns an API error answer into the CLI error a person reads.
 *
 * @example
 * problemToError(new ApiResponseError(403, { code: 'approval_required', detail: '…' }, undefined, undefined), { entitlement: 'prod-admin' })
 * // RefusedError('not entitled to prod-admin without approval; ask for it with: vend request prod-admin --reason "…"')
 */
export function problemToError(err: ApiResponseError, ctx: ErrorContext = {}): CliError {
  const p = err.problem;
  const code = p?.code;
  const detail = oneLine(p?.detail ?? err.gatewayMessage ?? p?.title ?? `HTTP ${err.status}`);
  const ent = ctx.entitlement;
  const ref = p?.requestId ? ` (request id ${p.requestId})` : '';
  switch (code) {
    case 'approval_required':
      return new RefusedError(
        ent
          ? `not entitled to ${ent} without approval; ask for it with: vend request ${ent} --reason "…"`
          : `approval required: ${detail}`,
        code,
      );
    case 'not_entitled':
      return new RefusedError(
        ent
          ? `not entitled to ${ent}: ${detail}; see what you may use with: vend entitlements`
          : `not entitled: ${detail}`,
        code,
      );
    case 'self_approval':
      return new RefusedError(`you cannot approve your own request: ${detail}`, code);
    case 'rate_limited':
      return new UnavailableError(
        `rate limited: ${detail}; try again${err.retryAfter ? ` in ${err.retryAfter} s` : ' later'}`,
      );
    case 'upstream_unavailable':
    case 'audit_unavailable':
      return new UnavailableError(
        `vend is unavailable (${code}): ${detail}; try again${err.retryAfter ? ` in ${err.retryAfter} s` : ' later'}${ref}`,
      );
    case 'unauthenticated':
      return authError(detail, ctx);
    case undefined:
      break;
    default:
      if (err.status < 500) return new RefusedError(`${detail}${ref}`, code);
  }
  if (err.status === 401 || (err.status === 403 && !p)) return authError(detail, ctx);
  if (err.status === 429)
    return new UnavailableError(
      `rate limited; try again${err.retryAfter ? ` in ${err.retryAfter} s` : ' later'}`,
    );
  if (err.status >= 500)
    return new UnavailableError(`vend answered ${err.status}: ${detail}${ref}; try again later`);
  if (err.status === 404 && !p)
    return new RefusedError(
      `vend has no such route (HTTP 404): is VEND_URL the vend API, and does the server have this feature yet?`,
    );
  return new RefusedError(`${detail}${ref}`, code);
}

function authError(detail: string, ctx: ErrorContext): AuthError {
  if (ctx.mode === 'service') {
    return new AuthError(
      `vend refused the AWS signature (${detail}): check the AWS credentials vend signs with (AWS_PROFILE, --aws-profile)`,
    );
  }
  const expired =
    ctx.tokenExpiresAt !== undefined && ctx.tokenExpiresAt * 1000 <= (ctx.now ?? new Date()).getTime();
  if (ctx.tokenSource === 'VEND_TOKEN') {
    return new AuthError(
      expired
        ? 'the token in VEND_TOKEN has expired: get a new one (or unset VEND_TOKEN and run vend login)'
        : `vend refused the token in VEND_TOKEN (${detail}): get a new one (or unset VEND_TOKEN and run vend login)`,
    );
  }
  return new AuthError(
    expired
      ? 'your vend login has expired: run vend login'
      : `vend refused your login (${detail}): run vend login`,
  );
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
};

/** The words for a fetch failure (`TypeError: fetch failed` with a `cause` carrying `code`). */
export function networkReason(error: unknown): string {
  let e: unknown = error;
  let deepest = error;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return NETWORK_WORDS[code] ?? code.toLowerCase();
    if ((e as { name?: unknown }).name === 'TimeoutError') return 'timed out';
    deepest = e;
    e = (e as { cause?: unknown }).cause;
  }
  // Without a code, the innermost message says most ('bad port' rather than 'fetch failed').
  return oneLine(deepest instanceof Error ? deepest.message : String(deepest));
}

/**
 * The one line for an error that escaped a command, and its exit code. Unknown errors are
 * reported by their first line only (no stack).
 */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: oneLine(error.message), exitCode: error.exitCode };
  if (error instanceof ApiResponseError) {
    const e = problemToError(error);
    return { message: oneLine(e.message), exitCode: e.exitCode };
  }
  const text = error instanceof Error ? error.message : String(error);
  return { message: oneLine(text.split('\n')[0] ?? 'unexpected error'), exitCode: EXIT.refused };
}
