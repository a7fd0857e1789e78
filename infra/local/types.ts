/**
 * Shapes shared by the pieces of the local stack (infra/local): the local AWS endpoint (STS,
 * DynamoDB, OIDC, Slack sink, local-only endpoints), the local API Gateway, and the IAM store.
 * None of this ships in the Lambda bundles.
 */
import type { PrincipalInfo } from '../../lib/iam/types';

/** An HTTP request as the local servers see it, raw body included (SigV4 needs the exact bytes). */
export interface RawRequest {
  method: string;
  /** Path without the query string, as sent (not decoded). */
  path: string;
  /** The raw query string without `?` ('' if none). */
  query: string;
  /** Header names lowercased; repeated headers joined with ','. */
  headers: Record<string, string>;
  body: Buffer;
  sourceIp: string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** What the IAM store knows about an access key (long-term `AKIA…` or session `ASIA…`). */
export interface KeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  /** Present for session (`ASIA…`) keys: the exact SessionToken the caller must send. */
  sessionToken?: string;
  /** ISO 8601; session keys expire. */
  expiration?: string;
  /** The identity behind the key. For sessions `arn` is the assumed-role ARN. */
  principal: PrincipalInfo & {
    /** `AIDA…` for users, `AROA…:session` for role sessions (GetCallerIdentity UserId). */
    userId: string;
    sessionName?: string;
    sourceIdentity?: string;
    /** Session tags (key → value), transitive ones included. */
    sessionTags?: Record<string, string>;
    transitiveTagKeys?: string[];
    /** True when this session was made from temporary credentials (1-hour chaining cap applies). */
    chained?: boolean;
  };
}

/** Result of verifying a SigV4-signed request. Errors carry the AWS error code and HTTP status. */
export type SigV4Result =
  | { ok: true; key: KeyRecord }
  | { ok: false; status: number; code: string; message: string };
