/**
 * The errors a `CredentialIssuer` (./vend.ts) may throw, one class per failure: part of the
 * port, so that the vend use case can tell them apart (`StsUnavailableError.throttled` feeds the
 * `StsThrottled` metric) without importing the STS adapter (lib/sts/issuer.ts), which builds them.
 *
 * Each is built from a {@link StsFault}: a copy of the SDK error with the ExternalId removed from
 * its message, because STS validation messages quote the offending value ("Value '…' at
 * 'externalId' failed to satisfy constraint") and causes get logged. The raw SDK error is never
 * kept as a cause.
 */
import { UpstreamUnavailableError } from '../domain/errors';

/** A redacted summary of one STS/SDK error, safe to keep as a `cause` and to log. */
export class StsFault extends Error {
  /** STS error code (`Throttling`, `AccessDenied`, …) or the network error's code/name. */
  readonly code: string;
  readonly httpStatusCode: number | undefined;
  readonly requestId: string | undefined;

  constructor(code: string, message: string, httpStatusCode?: number, requestId?: string) {
    super(message);
    this.name = 'StsFault';
    this.code = code;
    this.httpStatusCode = httpStatusCode;
    this.requestId = requestId;
  }
}

/** The error codes AWS SDKs and STS use for throttling. */
export const THROTTLING: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/**
 * STS stayed throttled, failing or unreachable until the deadline (503 `upstream_unavailable`,
 * with `Retry-After`).
 */
export class StsUnavailableError extends UpstreamUnavailableError {
  /** STS was throttling (not failing): the `StsThrottled` metric and its alarm count these. */
  readonly throttled: boolean;
  constructor(detail: string, retryAfterSeconds: number, options: { cause: StsFault }) {
    super(detail, retryAfterSeconds, options);
    this.name = 'StsUnavailableError';
    this.throttled = THROTTLING.has(options.cause.code);
  }
}

/**
 * STS refused vend's broker role access to the target role (`AccessDenied`). That is vend's
 * misconfiguration (trust policy, ExternalId, the broker's own permissions), never the caller's
 * fault, so the caller sees 503 `upstream_unavailable` with a detail that names nothing secret, and
 * the operator finds the STS message (redacted) in the log through the cause.
 */
export class TargetRoleAccessDeniedError extends UpstreamUnavailableError {
  readonly roleArn: string;
  constructor(roleArn: string, options: { cause: StsFault }) {
    super(
      `vend could not assume the target role for this entitlement; an operator must fix its trust configuration`,
      60,
      options,
    );
    this.name = 'TargetRoleAccessDeniedError';
    this.roleArn = roleArn;
  }
}

/**
 * STS rejected vend's OWN credentials (`ExpiredToken`, `InvalidClientTokenId`,
 * `SignatureDoesNotMatch`, …) or the SDK found none: 503 `upstream_unavailable`.
 */
export class BrokerCredentialsError extends UpstreamUnavailableError {
  constructor(options: { cause: StsFault }) {
    super('vend could not authenticate to STS; retry shortly', 5, options);
    this.name = 'BrokerCredentialsError';
  }
}

/**
 * STS answered with an error vend has no mapping for, or with a response missing credentials. Not a
 * VendError: the caller sees a generic 500 and the redacted fault goes to the log.
 */
export class UnexpectedStsError extends Error {
  constructor(message: string, options: { cause: StsFault }) {
    super(message, options);
    this.name = 'UnexpectedStsError';
  }
}
