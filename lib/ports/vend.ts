/**
 * The ports of the vend path (lib/usecases/vend-credentials.ts, list-entitlements.ts): where
 * entitlements live, who issues credentials, and the rate-limit counters. Use cases take these interfaces; lib/wiring/ passes
 * the real adapters (lib/dynamodb/entitlement-store.ts, lib/sts/issuer.ts) and tests pass fakes.
 * The errors a {@link CredentialIssuer} may throw are beside it, in ./vend-errors.ts. Nothing here
 * does I/O.
 */
import type { RateCounter } from '../domain/rate-limit';
import type { Entitlement } from '../domain/types';

/**
 * Where entitlement definitions live.
 *
 * @example
 * const ent = await store.get('prod-readonly'); // Entitlement | undefined
 */
export interface EntitlementStore {
  /** The entitlement, or `undefined` if none has that id. A malformed stored record throws (fails closed). */
  get(id: string): Promise<Entitlement | undefined>;
  /** Every well-formed entitlement (malformed ones are left out and logged). */
  list(): Promise<Entitlement[]>;
  /** Creates or replaces one definition (seeding and admin tooling, not the request path). */
  put(entitlement: Entitlement): Promise<void>;
}

/** What vend asks STS for. ExternalId is a secret: it goes to STS and nowhere else. */
export interface AssumeRoleParams {
  roleArn: string;
  roleSessionName: string;
  externalId?: string;
  durationSeconds: number;
  /** Session policy, as the JSON text sent to STS or as a document to serialise. */
  policy?: string | Record<string, unknown>;
  sourceIdentity: string;
  /** Session tags (max 50). */
  tags?: Readonly<Record<string, string>>;
  /** Keys of {@link tags} that carry over to chained sessions. */
  transitiveTagKeys?: readonly string[];
}

/** What STS handed back. `secretAccessKey` and `sessionToken` go to the caller and nowhere else. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  assumedRoleArn: string;
  assumedRoleId: string;
  /** Percentage of the packed-policy allowance used (STS `PackedPolicySize`), when STS reports it. */
  packedPolicySize?: number;
}

/**
 * Issues credentials for a target role (STS AssumeRole).
 *
 * Failures are the errors of ./vend-errors.ts: `StsUnavailableError` (throttled, failing or
 * unreachable until the deadline), `TargetRoleAccessDeniedError`, `BrokerCredentialsError`,
 * `UnexpectedStsError`; and the domain's 400s when STS refuses the request itself.
 *
 * @example
 * const creds = await issuer.assume({ roleArn, roleSessionName, externalId, durationSeconds: 900,
 *   sourceIdentity: 'CICDDeployRole' });
 */
export interface CredentialIssuer {
  assume(params: AssumeRoleParams): Promise<IssuedCredentials>;
}

/**
 * Rate-limit counters (lib/domain/rate-limit.ts). Counting and checking are one atomic step, so two
 * concurrent vends can never both take the last use of a window.
 *
 * @example
 * if (!(await limits.take(counter))) throw rateLimitedError(counter, now);
 */
export interface RateLimitStore {
  /**
   * Counts one use in `counter.window` when the counter holds fewer than `counter.max`, and answers
   * `true`; answers `false`, counting nothing, when it is full. Any failure to decide throws
   * (a 503: the limiter fails closed, and nothing is vended without it).
   */
  take(counter: RateCounter): Promise<boolean>;
  /**
   * Gives back one use taken by {@link take} (a later limit of the same call refused it). Best effort:
   * never below zero; a failure throws and the caller logs it (the use then stays counted).
   */
  release(counter: RateCounter): Promise<void>;
}
