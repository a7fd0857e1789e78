/**
 * The ports of the vend path (lib/usecases/vend-credentials.ts, list-entitlements.ts): where
 * entitlements live and who issues credentials. Use cases take these interfaces; lib/wiring/ passes
 * the real adapters (lib/dynamodb/entitlement-store.ts, lib/sts/issuer.ts) and tests pass fakes.
 * The errors a {@link CredentialIssuer} may throw are beside it, in ./vend-errors.ts. Nothing here
 * does I/O.
 */
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
