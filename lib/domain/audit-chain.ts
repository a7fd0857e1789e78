/**
 * The audit trail's integrity, as pure functions: canonical record serialisation, record hashes,
 * digests (one per closed interval, chained to the previous one, signed elsewhere through the
 * `AuditSigner` port), and the comparison a verifier makes between a digest and the records stored
 * today. Modelled on CloudTrail log-file integrity validation: hourly digests, each naming what it
 * covers and the hash of the previous digest, so a deleted, edited or inserted record, a removed
 * digest and a broken link are each reported by name.
 *
 * What the chain needs of storage is defined here, in its own terms: a record's place in the trail
 * ({@link auditPlacement}: its day, caller, entitlement and order), and a record read back as its
 * content plus the place it was filed under ({@link StoredAuditRecord}). The store maps places to
 * its keys and back (lib/dynamodb/keys.ts `keys.audit`, `keys.storedAudit`); nothing here knows them.
 *
 * No I/O and no clock here: the sealer and verifier (lib/usecases/audit-trail.ts) pass times in.
 */
import { createHash } from 'node:crypto';

/** The one signing algorithm digests use (KMS `ECDSA_SHA_256`, node `sha256` over ECDSA P-256). */
export const DIGEST_ALGORITHM = 'ECDSA_SHA_256';
/** Bumped when the canonical form or the digest body changes; verifiers refuse unknown versions. */
export const DIGEST_VERSION = 1;

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, `undefined` members dropped.
 * Two equal values always give the same text, whatever order DynamoDB returned their attributes in.
 *
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 as lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Where a record belongs in the trail, from its content alone: the UTC day of its time, its caller
 * and its entitlement (`-` for a record without one), and its order among them, `<time>#<id>`
 * ({@link recordSortKey}). A store files each record by its placement, so that "a day", "a caller"
 * and "an entitlement" are each read in order without a scan, and the verifier can tell a record
 * that was moved (to another day, or another caller's records) from one that was not.
 *
 * @throws Error when `time` is not an ISO 8601 UTC time ending in `Z` (the order would not sort)
 * @example
 * auditPlacement({ id: 'r1', time: '2026-11-29T10:15:00.000Z', caller: { id: 'arn:…:role/CI' } })
 * // { day: '2026-11-29', caller: 'arn:…:role/CI', entitlement: '-', order: '2026-11-29T10:15:00.000Z#r1' }
 */
export function auditPlacement(record: {
  id: string;
  time: string;
  caller?: { id: string };
  entitlement?: string;
}): AuditPlacement {
  if (!UTC_TIME.test(record.time)) {
    throw new Error(`audit: expected an ISO-8601 UTC time ending in Z, got "${record.time.slice(0, 40)}"`);
  }
  return {
    day: record.time.slice(0, 10),
    caller: record.caller?.id ?? '-',
    entitlement: record.entitlement ?? '-',
    order: recordSortKey(record),
  };
}

/** A record's place in the trail; see {@link auditPlacement}. */
export interface AuditPlacement {
  /** `yyyy-mm-dd`, the UTC day of the record's time. */
  day: string;
  /** The caller's id, or `-`. */
  caller: string;
  /** The entitlement id, or `-`. */
  entitlement: string;
  /** `<time>#<id>`: sorts in time order, and keeps two records of one millisecond apart. */
  order: string;
}

const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * An audit record as the store gave it back: its content (what was appended, and what is hashed),
 * and the placement the store had it filed under, decoded from the store's own attributes;
 * `undefined` when those do not name one consistently.
 */
export interface StoredAuditRecord {
  content: Record<string, unknown>;
  filedAt: AuditPlacement | undefined;
}

/**
 * SHA-256 (hex) of a record's canonical JSON. The store's own attributes (its keys) are not
 * content: the store leaves them out ({@link StoredAuditRecord}), and {@link filedWhereItBelongs}
 * checks them separately.
 *
 * @example recordHash({ id: 'r1', time: '2026-11-29T10:00:00.000Z', decision: 'intent', auditId: 'a1' })
 */
export function recordHash(content: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(content));
}

/**
 * Whether a stored record is filed where its own content says it belongs. A record whose time or
 * caller was edited but whose keys were left alone (or the reverse) is a modification, and a record
 * moved to another partition would otherwise escape the interval that sealed it.
 */
export function filedWhereItBelongs(stored: StoredAuditRecord): boolean {
  const filed = stored.filedAt;
  if (filed === undefined) return false;
  let expected: AuditPlacement;
  try {
    expected = auditPlacement(stored.content as { id: string; time: string });
  } catch {
    return false;
  }
  return (
    filed.day === expected.day &&
    filed.caller === expected.caller &&
    filed.entitlement === expected.entitlement &&
    filed.order === expected.order
  );
}

/** The sort order of records in a digest: their order in the trail (`<time>#<id>`). */
export function recordSortKey(record: { time: string; id: string }): string {
  return `${record.time}#${record.id}`;
}

/** One record as a digest names it. */
export interface DigestEntry {
  id: string;
  time: string;
  /** {@link recordHash} of the record when it was sealed. */
  hash: string;
}

/** Everything a digest says, i.e. what is signed. */
export interface DigestBody {
  version: number;
  /** Inclusive start of the interval (ISO 8601 UTC). */
  intervalStart: string;
  /** Exclusive end of the interval. */
  intervalEnd: string;
  recordCount: number;
  /** SHA-256 over the entries in canonical order: `<time>#<id>:<hash>\n` each. */
  recordsHash: string;
  /** The records in canonical order (by `<time>#<id>`), so a verifier can name each finding. */
  records: DigestEntry[];
  /** {@link digestHash} of the previous digest; `null` only for the first digest of the trail. */
  previousDigestHash: string | null;
  /** The previous digest's `intervalStart` (where to look it up); `null` with `previousDigestHash`. */
  previousIntervalStart: string | null;
  sealedAt: string;
  /** The signing key (KMS key ARN, or `local:<fingerprint>`). */
  keyId: string;
  algorithm: typeof DIGEST_ALGORITHM;
}

/** A digest as stored: its body, the body's hash, and the signature over the body's bytes. */
export interface AuditDigest extends DigestBody {
  /** SHA-256 hex of {@link digestBytes}; the next digest's `previousDigestHash`. */
  digestHash: string;
  /** Base64 DER ECDSA signature over {@link digestBytes}. */
  signature: string;
}

/** The exact bytes that are hashed and signed: the canonical JSON of the body. */
export function digestBytes(body: DigestBody): Uint8Array {
  const { version, intervalStart, intervalEnd, recordCount, recordsHash, records } = body;
  const { previousDigestHash, previousIntervalStart, sealedAt, keyId, algorithm } = body;
  return new TextEncoder().encode(
    canonicalJson({
      version,
      intervalStart,
      intervalEnd,
      recordCount,
      recordsHash,
      records: records.map(({ id, time, hash }) => ({ id, time, hash })),
      previousDigestHash,
      previousIntervalStart,
      sealedAt,
      keyId,
      algorithm,
    }),
  );
}

/** SHA-256 hex of a digest body's bytes. */
export function digestHash(body: DigestBody): string {
  return sha256Hex(digestBytes(body));
}

function entriesHash(entries: readonly DigestEntry[]): string {
  return sha256Hex(entries.map((e) => `${e.time}#${e.id}:${e.hash}\n`).join(''));
}

/**
 * The digest body of one interval: every record whose time falls in `[start, end)`, hashed, in
 * canonical order, chained to `previous`.
 *
 * @example
 * const body = buildDigestBody({ intervalStart, intervalEnd, records, previous: head, sealedAt: now(), keyId: signer.keyId });
 * const digest = { ...body, digestHash: digestHash(body), signature: b64(await signer.sign(digestBytes(body))) };
 */
export function buildDigestBody(input: {
  intervalStart: Date;
  intervalEnd: Date;
  /** The records' contents, as the store gave them back ({@link StoredAuditRecord.content}). */
  records: readonly Record<string, unknown>[];
  previous: Pick<AuditDigest, 'digestHash' | 'intervalStart'> | undefined;
  sealedAt: Date;
  keyId: string;
}): DigestBody {
  const start = input.intervalStart.toISOString();
  const end = input.intervalEnd.toISOString();
  const entries = input.records
    .map((r) => ({ id: String(r.id), time: String(r.time), hash: recordHash(r) }))
    .filter((e) => e.time >= start && e.time < end)
    .sort((a, b) => compare(recordSortKey(a), recordSortKey(b)));
  return {
    version: DIGEST_VERSION,
    intervalStart: start,
    intervalEnd: end,
    recordCount: entries.length,
    recordsHash: entriesHash(entries),
    records: entries,
    previousDigestHash: input.previous?.digestHash ?? null,
    previousIntervalStart: input.previous?.intervalStart ?? null,
    sealedAt: input.sealedAt.toISOString(),
    keyId: input.keyId,
    algorithm: DIGEST_ALGORITHM,
  };
}

/**
 * Interval boundaries: intervals of `seconds` aligned to the Unix epoch, so every sealer agrees on
 * them without coordination.
 *
 * @example intervalFloor(new Date('2026-11-29T10:42:00Z'), 3600) // 2026-11-29T10:00:00.000Z
 */
export function intervalFloor(time: Date, seconds: number): Date {
  const ms = seconds * 1000;
  return new Date(Math.floor(time.getTime() / ms) * ms);
}

/**
 * Where the interval that starts at `start` ends: the next aligned boundary after it. A chain
 * whose interval length changed stays contiguous: the first interval after the change is shorter.
 *
 * @example intervalEndAfter(new Date('2026-11-29T10:00:00Z'), 3600) // 2026-11-29T11:00:00.000Z
 */
export function intervalEndAfter(start: Date, seconds: number): Date {
  return new Date(intervalFloor(start, seconds).getTime() + seconds * 1000);
}

/**
 * The end of the last interval that must have a digest by `now`. An interval closes `graceSeconds`
 * after its end (late writes land), and the sealer, which runs once per interval, then has one more
 * interval to seal it; so at 11:01:00 with hourly intervals and a 60 s grace, everything up to 10:00
 * must be sealed. The verifier expects an unbroken chain up to here: a digest missing before this
 * point is a finding, not "pending".
 *
 * @example dueThrough(new Date('2026-11-29T11:01:00Z'), 3600, 60) // 2026-11-29T10:00:00.000Z
 */
export function dueThrough(now: Date, seconds: number, graceSeconds: number): Date {
  const closed = intervalFloor(new Date(now.getTime() - graceSeconds * 1000), seconds);
  return new Date(closed.getTime() - seconds * 1000);
}

/** How many missing intervals of one gap are named one by one before the rest is summarised. */
export const MISSING_NAMED_PER_GAP = 100;

/**
 * Every interval of `[from, to)` that no digest covers, one `missing_digest` finding each (named by
 * its start, aligned as the sealer aligns intervals). A gap longer than
 * {@link MISSING_NAMED_PER_GAP} intervals names that many and sums up the rest in one more finding,
 * so a trail cut to nothing stays readable.
 *
 * @param digests the digests in and around the range, any order
 * @example
 * missingDigests([{ intervalStart: '…T10:00…', intervalEnd: '…T11:00…' }], new Date('…T09:00Z'), new Date('…T12:00Z'), 3600)
 * // [{ kind: 'missing_digest', interval: '…T09:00…' }, { kind: 'missing_digest', interval: '…T11:00…' }]
 */
export function missingDigests(
  digests: readonly Pick<AuditDigest, 'intervalStart' | 'intervalEnd'>[],
  from: Date,
  to: Date,
  seconds: number,
): AuditFinding[] {
  const findings: AuditFinding[] = [];
  const end = to.toISOString();
  let cursor = from.toISOString();
  const gap = (gapStart: string, gapEnd: string): void => {
    let start = new Date(gapStart);
    for (let named = 0; start.toISOString() < gapEnd; named++) {
      const next = intervalEndAfter(start, seconds);
      const stop = earlierOf(next.toISOString(), gapEnd);
      if (named === MISSING_NAMED_PER_GAP) {
        const more = Math.ceil((Date.parse(gapEnd) - start.getTime()) / (seconds * 1000));
        findings.push({
          kind: 'missing_digest',
          interval: start.toISOString(),
          detail: `no digest covers ${start.toISOString()} to ${gapEnd} either (about ${more} more intervals)`,
        });
        return;
      }
      findings.push({
        kind: 'missing_digest',
        interval: start.toISOString(),
        detail: `no digest covers ${start.toISOString()} to ${stop}`,
      });
      start = next;
    }
  };
  const sorted = [...digests].sort((a, b) => compare(a.intervalStart, b.intervalStart));
  for (const d of sorted) {
    if (cursor >= end) break;
    if (d.intervalStart > cursor) gap(cursor, earlierOf(d.intervalStart, end));
    if (d.intervalEnd > cursor) cursor = d.intervalEnd;
  }
  if (cursor < end) gap(cursor, end);
  return findings;
}

/** Something the verifier found; each names the record id or the digest (its interval start). */
export type AuditFinding =
  | { kind: 'deleted'; recordId: string; time: string; interval: string }
  | { kind: 'modified'; recordId: string; time: string; interval: string; detail: string }
  | { kind: 'inserted'; recordId: string; time: string; interval: string }
  | { kind: 'missing_digest'; interval: string; detail: string }
  | { kind: 'bad_signature'; interval: string; detail: string }
  | { kind: 'broken_link'; interval: string; detail: string }
  | { kind: 'unsealed'; recordId: string; time: string; detail: string };

/**
 * Checks one digest's own consistency (hash of its body, records hash, count, version, algorithm).
 * The signature is checked by the caller through the signer port, on {@link digestBytes}.
 */
export function checkDigestIntegrity(digest: AuditDigest): AuditFinding[] {
  const interval = digest.intervalStart;
  const findings: AuditFinding[] = [];
  if (digest.version !== DIGEST_VERSION || digest.algorithm !== DIGEST_ALGORITHM) {
    findings.push({ kind: 'bad_signature', interval, detail: 'unknown digest version or algorithm' });
    return findings;
  }
  if (digestHash(digest) !== digest.digestHash) {
    findings.push({ kind: 'bad_signature', interval, detail: 'the digest does not match its own hash' });
  }
  if (digest.records.length !== digest.recordCount || entriesHash(digest.records) !== digest.recordsHash) {
    findings.push({
      kind: 'bad_signature',
      interval,
      detail: 'the record list does not match its hash or count',
    });
  }
  return findings;
}

/**
 * Compares what a digest sealed with the records stored for its interval today.
 *
 * @example
 * compareInterval(digest, await reader.itemsBetween(digest.intervalStart, digest.intervalEnd))
 * // [{ kind: 'deleted', recordId: '01J…', … }, …] or []
 */
export function compareInterval(
  digest: Pick<AuditDigest, 'intervalStart' | 'intervalEnd' | 'records'>,
  stored: readonly StoredAuditRecord[],
): AuditFinding[] {
  const interval = digest.intervalStart;
  const findings: AuditFinding[] = [];
  const sealed = new Map(digest.records.map((e) => [e.id, e]));
  const seen = new Set<string>();
  for (const record of stored) {
    const item = record.content;
    const id = String(item.id);
    const time = String(item.time);
    const entry = sealed.get(id);
    if (seen.has(id)) {
      findings.push({ kind: 'inserted', recordId: id, time, interval });
      continue;
    }
    seen.add(id);
    if (!entry) {
      findings.push({ kind: 'inserted', recordId: id, time, interval });
    } else if (recordHash(item) !== entry.hash) {
      findings.push({
        kind: 'modified',
        recordId: id,
        time,
        interval,
        detail: 'content differs from the sealed hash',
      });
    } else if (!filedWhereItBelongs(record)) {
      findings.push({
        kind: 'modified',
        recordId: id,
        time,
        interval,
        detail: 'stored under keys its content does not imply',
      });
    }
  }
  for (const entry of digest.records) {
    if (!seen.has(entry.id)) {
      findings.push({ kind: 'deleted', recordId: entry.id, time: entry.time, interval });
    }
  }
  return findings;
}

/**
 * Checks the links between consecutive digests (sorted by interval start): each must name the
 * previous digest's hash. A digest removed from the middle shows up as a link to a hash nobody has
 * here, and as a gap in {@link missingDigests}.
 *
 * @param before the digest just before `digests[0]`, if one exists (to check the first link)
 */
export function checkChain(digests: readonly AuditDigest[], before?: AuditDigest): AuditFinding[] {
  const findings: AuditFinding[] = [];
  let previous = before;
  for (const d of digests) {
    if (previous === undefined) {
      if (d.previousDigestHash !== null) {
        findings.push({
          kind: 'missing_digest',
          interval: d.previousIntervalStart ?? d.intervalStart,
          detail: `the digest of ${d.intervalStart} links to a previous digest that is not stored`,
        });
      }
    } else {
      if (d.previousDigestHash !== previous.digestHash) {
        findings.push({
          kind: 'broken_link',
          interval: d.intervalStart,
          detail:
            d.previousIntervalStart === previous.intervalStart
              ? `the previous-digest hash does not match the digest of ${previous.intervalStart}`
              : `links to the digest of ${d.previousIntervalStart ?? '(none)'}, but the stored previous digest is ${previous.intervalStart}`,
        });
      }
    }
    previous = d;
  }
  return findings;
}

/** The earlier of two ISO 8601 UTC times (as strings, which sort as times). */
function earlierOf(a: string, b: string): string {
  if (a < b) return a;
  return b;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
