/**
 * The ports of the audit trail: the append-only sink every decision is written to, and the read
 * side, sealer and verifier. Use cases (lib/usecases/vend-credentials.ts, requests.ts, audit-*.ts)
 * take these; lib/audit/ has the DynamoDB, KMS and local-key adapters, tests wire fakes.
 */
import type { AuditRecord } from '../domain/audit';
import type { AuditDigest, StoredAuditRecord } from '../domain/audit-chain';
import type { AuditFilters, AuditPosition } from '../domain/audit-query';

/**
 * The append-only audit trail.
 *
 * @example
 * await audit.append(intentRecord({ … })); // throws AuditUnavailableError if it cannot be recorded
 */
export interface AuditSink {
  /**
   * Appends one record. Never overwrites: a second append with the same record id and time is a
   * ConflictError. Any failure to record is an AuditUnavailableError (503).
   */
  append(record: AuditRecord): Promise<void>;
}

/** One page of records and where the next one starts (absent on the last page). */
export interface AuditPage {
  records: AuditRecord[];
  next?: AuditPosition;
}

/**
 * Reads audit records by key, never by scan.
 *
 * @example
 * const page = await reader.page(query.filters, query.position, 100);
 */
export interface AuditReader {
  /**
   * One page of the records matching `filters`, newest first, from `position` on. The store plans
   * the read (which index, which partitions) and checks that the position is one of that plan's.
   * @throws InvalidRequestError a position outside the plan (an altered cursor)
   */
  page(filters: AuditFilters, position: AuditPosition, limit: number): Promise<AuditPage>;
  /**
   * Every stored record with `since <= time < until`, oldest first: its content, and where the
   * store had it filed (the verifier checks both).
   */
  itemsBetween(since: string, until: string): Promise<StoredAuditRecord[]>;
  /** The oldest record time in these UTC days (`yyyy-mm-dd`), if any. */
  earliestTime(days: readonly string[]): Promise<string | undefined>;
}

/**
 * Append-only storage of digests, one per interval, keyed by interval start.
 *
 * @example
 * if ((await digests.put(digest)) === 'exists') { … another sealer was first … }
 */
export interface DigestStore {
  /** Writes a digest unless one exists for its interval; never overwrites. */
  put(digest: AuditDigest): Promise<'written' | 'exists'>;
  get(intervalStart: string): Promise<AuditDigest | undefined>;
  /** The digest with the latest interval start. */
  latest(): Promise<AuditDigest | undefined>;
  /** The digest with the earliest interval start (the chain's first, unless it was deleted). */
  earliest(): Promise<AuditDigest | undefined>;
  /** The digest just before an interval start. */
  before(intervalStart: string): Promise<AuditDigest | undefined>;
  /** Digests whose interval start is in `[from, to]`, oldest first. */
  between(from: string, to: string): Promise<AuditDigest[]>;
}

/**
 * Signs digests: KMS asymmetric signing in AWS, a local ECDSA P-256 key in the local stack. Both use
 * ECDSA with SHA-256 over the message and DER-encoded signatures, so a verifier can check either
 * with the public key alone.
 *
 * @example
 * const signature = await signer.sign(digestBytes(body));
 * await signer.verify(digestBytes(body), signature, body.keyId); // true
 */
export interface AuditSigner {
  /** The key digests name (a KMS key ARN, or `local:<fingerprint>`). */
  readonly keyId: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** False for a bad signature, or a key other than this signer's own; throws only when the key store is down. */
  verify(message: Uint8Array, signature: Uint8Array, keyId: string): Promise<boolean>;
}

/**
 * The sealer's own record of how far it has sealed, kept outside the audit table (its own table,
 * serverless.yml `AuditSealsTable`), where whoever can delete from the audit table, or restore it
 * to an earlier point in time, cannot roll it back. With it the sealer never re-seals intervals
 * whose digests were deleted (which would seal the cut as if nothing had been there), and the
 * verifier knows where the trail starts and how far it must reach.
 */
export interface SealHead {
  /** Start of the first interval the trail must have a digest for. Set once, never moved. */
  trailStart: string;
  /** The newest digest the sealer wrote (or found written): its interval and hash. */
  intervalStart: string;
  intervalEnd: string;
  digestHash: string;
  updatedAt: string;
}

/**
 * Where the sealer's metrics go (lib/usecases/seal-metrics.ts decides what a run emits): CloudWatch
 * through Powertools (lib/audit/seal-metrics.ts); tests pass a recorder.
 */
export interface SealMetricsSink {
  gauge(metric: 'AuditSealLagSeconds', seconds: number): void;
  count(metric: 'AuditTrailCut'): void;
}

/**
 * Where the {@link SealHead} is kept; it only moves forward.
 *
 * @example
 * await heads.advance({ trailStart, intervalStart, intervalEnd, digestHash, updatedAt: now.toISOString() });
 */
export interface SealHeadStore {
  read(): Promise<SealHead | undefined>;
  /**
   * Records `head` unless the stored head already reaches `head.intervalEnd` or further, or names
   * another `trailStart` (the first one written is kept for good).
   */
  advance(head: SealHead): Promise<void>;
}
