/**
 * STS AssumeRole behind the {@link CredentialIssuer} port.
 *
 * Retries: the STS client is built with `maxAttempts: 1` (lib/wiring/clients.ts) and this issuer retries
 * itself, because vend needs a DEADLINE, not an attempt count: a caller waiting on API Gateway's 30 s
 * integration timeout is better served by a prompt 503 with `Retry-After` than by the SDK's
 * backoff running out the clock. Throttling, 5xx and network errors are retried with full-jitter
 * exponential backoff (`delay = random() × min(maxDelay, base × 2^n)`, the AWS Architecture Blog's
 * "full jitter", the same curve as the SDK's standard mode) for as long as the next attempt can start
 * before the deadline. Everything else is final and mapped once:
 *
 * | STS code | vend error | HTTP |
 * |---|---|---|
 * | Throttling, 5xx, network, timeout (after retries) | StsUnavailableError | 503 upstream_unavailable + Retry-After |
 * | AccessDenied | TargetRoleAccessDeniedError | 503 upstream_unavailable (vend's misconfiguration) |
 * | ExpiredToken, InvalidClientTokenId, SignatureDoesNotMatch, … | BrokerCredentialsError | 503 upstream_unavailable |
 * | RegionDisabledException | StsUnavailableError (no retry) | 503 upstream_unavailable |
 * | PackedPolicyTooLarge | PolicyTooLargeError | 400 policy_too_large |
 * | MalformedPolicyDocument | InvalidRequestError | 400 invalid_request |
 * | ValidationError about DurationSeconds | DurationOutOfRangeError | 400 duration_out_of_range |
 * | other ValidationError, InvalidParameterValue | InvalidRequestError | 400 invalid_request |
 * | anything else | UnexpectedStsError | 500 internal_error |
 *
 * Secrets: no error this class throws carries the ExternalId. STS messages can quote request values,
 * so causes are {@link StsFault} copies with the ExternalId cut out, never the SDK error itself;
 * caller-facing details are fixed sentences.
 */
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  type AssumeRoleCommandOutput,
  type STSClient,
} from '@aws-sdk/client-sts';
import {
  DurationOutOfRangeError,
  InvalidRequestError,
  PolicyTooLargeError,
  type VendError,
} from '../domain/errors';
import { scrub } from '../log';
import {
  type AssumeRoleParams,
  BrokerCredentialsError,
  type CredentialIssuer,
  type IssuedCredentials,
  StsFault,
  StsUnavailableError,
  TargetRoleAccessDeniedError,
  THROTTLING,
  UnexpectedStsError,
} from '../ports';

/** Options of {@link StsCredentialIssuer}. */
export interface StsIssuerOptions {
  /** Total budget for one `assume`, retries included (config `VEND_STS_DEADLINE_MS`). */
  deadlineMs: number;
  /** Backoff base (config `VEND_STS_BASE_DELAY_MS`). */
  baseDelayMs: number;
  /** Backoff cap per wait; default 2000 ms. */
  maxDelayMs?: number;
  /** [0, 1) source for jitter; default Math.random. */
  random?: () => number;
  /** Waits; default setTimeout. Tests pass one that records and returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** Clock for the deadline; default `new Date()`. */
  now?: () => Date;
}

const BROKER_AUTH = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidAccessKeyId',
  'CredentialsProviderError',
]);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

/**
 * {@link CredentialIssuer} on STS AssumeRole.
 *
 * @example
 * const issuer = new StsCredentialIssuer(sts, { deadlineMs: 5000, baseDelayMs: 100 });
 * const creds = await issuer.assume({ roleArn, roleSessionName: 'vend-ci-01J…', externalId,
 *   durationSeconds: 900, sourceIdentity: 'CICDDeployRole' });
 */
export class StsCredentialIssuer implements CredentialIssuer {
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => Date;

  constructor(
    private readonly client: STSClient,
    private readonly opts: StsIssuerOptions,
  ) {
    this.maxDelayMs = opts.maxDelayMs ?? 2000;
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = opts.now ?? (() => new Date());
  }

  async assume(params: AssumeRoleParams): Promise<IssuedCredentials> {
    const input = toInput(params);
    const started = this.now().getTime();
    let retries = 0;
    for (;;) {
      const remaining = this.opts.deadlineMs - (this.now().getTime() - started);
      if (remaining <= 0) throw this.exhausted(new StsFault('DeadlineExceeded', 'no time left'), retries);
      let fault: StsFault;
      try {
        return toCredentials(await this.send(input, remaining), params.externalId);
      } catch (e) {
        if (e instanceof UnexpectedStsError) throw e;
        fault = toFault(e, params.externalId);
        if (!isRetryable(e, fault)) throw mapFinal(fault, params);
      }
      const cap = Math.min(this.maxDelayMs, this.opts.baseDelayMs * 2 ** retries);
      const delay = Math.floor(this.random() * cap);
      const elapsed = this.now().getTime() - started;
      if (elapsed + delay >= this.opts.deadlineMs) throw this.exhausted(fault, retries + 1, cap);
      await this.sleep(delay);
      retries += 1;
    }
  }

  /** One attempt, aborted when the deadline passes so a hung connection cannot outlive it. */
  private async send(input: AssumeRoleCommandInput, remainingMs: number): Promise<AssumeRoleCommandOutput> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), remainingMs);
    timer.unref?.();
    try {
      return await this.client.send(new AssumeRoleCommand(input), { abortSignal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
  }

  private exhausted(fault: StsFault, attempts: number, capMs = this.opts.baseDelayMs): StsUnavailableError {
    const throttled = THROTTLING.has(fault.code);
    return new StsUnavailableError(
      throttled ? 'STS is throttling vend; retry shortly' : 'STS is unavailable; retry shortly',
      Math.max(1, Math.ceil(capMs / 1000)),
      { cause: withAttempts(fault, attempts) },
    );
  }
}

function withAttempts(fault: StsFault, attempts: number): StsFault {
  return new StsFault(
    fault.code,
    `${fault.message} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`,
    fault.httpStatusCode,
    fault.requestId,
  );
}

function toInput(params: AssumeRoleParams): AssumeRoleCommandInput {
  const tags = Object.entries(params.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  return {
    RoleArn: params.roleArn,
    RoleSessionName: params.roleSessionName,
    ExternalId: params.externalId,
    DurationSeconds: params.durationSeconds,
    Policy:
      typeof params.policy === 'string' || params.policy === undefined
        ? params.policy
        : JSON.stringify(params.policy),
    SourceIdentity: params.sourceIdentity,
    Tags: tags.length > 0 ? tags : undefined,
    TransitiveTagKeys: params.transitiveTagKeys?.length ? [...params.transitiveTagKeys] : undefined,
  };
}

function toCredentials(out: AssumeRoleCommandOutput, externalId: string | undefined): IssuedCredentials {
  const c = out.Credentials;
  const user = out.AssumedRoleUser;
  if (
    !c?.AccessKeyId ||
    !c.SecretAccessKey ||
    !c.SessionToken ||
    !c.Expiration ||
    !user?.Arn ||
    !user.AssumedRoleId
  ) {
    throw new UnexpectedStsError('STS AssumeRole returned no complete credentials', {
      cause: new StsFault(
        'IncompleteResponse',
        'missing Credentials or AssumedRoleUser',
        200,
        redact(out.$metadata?.requestId, externalId),
      ),
    });
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration instanceof Date ? c.Expiration : new Date(c.Expiration),
    assumedRoleArn: user.Arn,
    assumedRoleId: user.AssumedRoleId,
    ...(out.PackedPolicySize === undefined ? {} : { packedPolicySize: out.PackedPolicySize }),
  };
}

function redact(text: string | undefined, externalId: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const cut = externalId ? text.split(externalId).join('[redacted]') : text;
  return scrub(cut);
}

/** Copies what is useful from an SDK or network error, minus anything secret. */
function toFault(e: unknown, externalId: string | undefined): StsFault {
  const err = (typeof e === 'object' && e !== null ? e : {}) as SdkErrorShape;
  const candidates = [err.Code, err.name, err.code];
  // Network errors carry their useful name in `code` (ECONNRESET) and a generic `name` (Error).
  const found =
    (typeof err.code === 'string' && NETWORK.has(err.code) ? err.code : undefined) ??
    candidates.find((c): c is string => typeof c === 'string' && c !== '' && c !== 'Error');
  // A code is an identifier; anything else (or anything holding the ExternalId) is not kept.
  const code =
    found && /^[A-Za-z0-9_.:-]{1,64}$/.test(found) && !(externalId && found.includes(externalId))
      ? found
      : 'Unknown';
  const message = typeof err.message === 'string' ? err.message : String(e);
  return new StsFault(
    code,
    redact(`${code}: ${message}`, externalId) ?? code,
    err.$metadata?.httpStatusCode,
    err.$metadata?.requestId,
  );
}

function isRetryable(e: unknown, fault: StsFault): boolean {
  if (fault.code === 'AbortError') return false; // our own deadline fired: no time for another try
  if (THROTTLING.has(fault.code) || NETWORK.has(fault.code)) return true;
  if (fault.httpStatusCode === 429 || (fault.httpStatusCode !== undefined && fault.httpStatusCode >= 500)) {
    return true;
  }
  const err = (typeof e === 'object' && e !== null ? e : {}) as SdkErrorShape;
  return err.$fault === 'server' || err.$retryable !== undefined;
}

function mapFinal(fault: StsFault, params: AssumeRoleParams): VendError | UnexpectedStsError {
  const code = fault.code.replace(/Exception$/, '');
  switch (code) {
    case 'AbortError':
      return new StsUnavailableError('STS did not answer in time; retry shortly', 1, { cause: fault });
    case 'AccessDenied':
      return new TargetRoleAccessDeniedError(params.roleArn, { cause: fault });
    case 'RegionDisabled':
      return new StsUnavailableError('STS is not enabled in the region vend uses', 60, { cause: fault });
    case 'PackedPolicyTooLarge':
      return new PolicyTooLargeError(
        'the session policy and tags are too large for STS once packed; send a shorter policy',
        { cause: fault },
      );
    case 'MalformedPolicyDocument':
      return new InvalidRequestError('STS rejected the session policy as malformed', { cause: fault });
    case 'ValidationError':
      if (/DurationSeconds/i.test(fault.message)) {
        return new DurationOutOfRangeError('the requested duration exceeds what the target role allows', {
          cause: fault,
        });
      }
      return new InvalidRequestError('STS rejected the request as invalid', { cause: fault });
    case 'InvalidParameterValue':
      return new InvalidRequestError('STS rejected a request parameter (session tags or names)', {
        cause: fault,
      });
    default:
      if (BROKER_AUTH.has(fault.code) || BROKER_AUTH.has(code))
        return new BrokerCredentialsError({ cause: fault });
      return new UnexpectedStsError(`STS AssumeRole failed with ${fault.code}`, { cause: fault });
  }
}
