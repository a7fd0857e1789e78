/**
 * The audit trail's integrity and reconciliation: sealing closed intervals into signed, chained
 * digests; verifying records and digests against each other; and listing orphaned intents.
 *
 * Sealing, primary course (`sealAuditTrail`):
 * 1. The intervals are `intervalSeconds` long, aligned to the Unix epoch; an interval is closed once
 *    its end is `graceSeconds` in the past (writes stamped just before the end may still land).
 * 2. Read the sealer's head (its own record, outside the audit table) and the latest digest.
 *    - Head and latest digest agree (or the table is ahead: a digest written by a run that died
 *      before moving the head, checked by its signature): continue from the latest digest.
 *    - The table ends before the head: digests the sealer wrote are gone, the trail was cut. Do not
 *      seal the cut again (that would sign "nothing happened" over deleted records): report it
 *      (`cut`, the sealer function alarms) and continue from the head, so the gap stays visible to
 *      every later verification as missing digests and a broken link.
 *    - Neither exists: the trail starts at `trailStart` (configured, else the last closed
 *      interval) or at the oldest record within `genesisLookbackDays`, whichever is older; the
 *      head records that start for good.
 * 3. For each closed interval in order, empty ones included: read its records (day partitions,
 *    sort key range), build the digest (record hashes in canonical order, count, previous digest's
 *    hash), sign it, and put it with a condition: an interval is sealed once. If another sealer got
 *    there first, its digest is the new head. After each, move the head forward.
 *
 * Verifying, primary course (`verifyAuditTrail`):
 * 1. The trail's start: `trailStart` (configured) or the sealer head's; neither known is an error,
 *    never a pass (an empty trail would otherwise verify).
 * 2. Read the digests overlapping `[since, until)` and the one just before them.
 * 3. Every interval from the trail's start (or `since`) up to the last one due by now
 *    ({@link dueThrough}), or up to the sealer head if that is later, must have a digest: each
 *    that does not is `missing_digest`, so a cut tail is named interval by interval.
 * 4. Check every link (previous hash), every digest's own hash and signature.
 * 5. For every digest, compare the records stored today with the ones it sealed: deleted, modified
 *    (content or keys) and inserted records are each named.
 * 6. Records in the range that no digest covers and that should have been sealed by now are
 *    `unsealed` findings; newer ones are counted as pending.
 *
 * Orphans (`listOrphans`): intent records with no issued record of the same auditId and no denied
 * record that proves STS issued nothing. A denial `upstream_unavailable` after an intent does not
 * prove it: STS may have issued a session whose answer was lost (a timeout) before vend gave up.
 */

import type { AuditRecord } from '../domain/audit';
import {
  type AuditDigest,
  type AuditFinding,
  buildDigestBody,
  checkChain,
  checkDigestIntegrity,
  compareInterval,
  digestBytes,
  digestHash,
  dueThrough,
  intervalEndAfter,
  intervalFloor,
  missingDigests,
} from '../domain/audit-chain';
import { auditDays } from '../domain/audit-query';
import type { AuditReader, AuditSigner, DigestStore, SealHeadStore } from '../ports';

/** What the sealer, verifier and orphan listing need. */
export interface AuditTrailDeps {
  records: Pick<AuditReader, 'itemsBetween' | 'earliestTime'>;
  digests: DigestStore;
  signer: AuditSigner;
  /**
   * The sealer's head, outside the audit table. Required to seal (without it a cut tail would be
   * sealed again as empty); the verifier reads it when given.
   */
  head?: SealHeadStore;
  now: () => Date;
  /** Interval length (default 3600 in config). */
  intervalSeconds: number;
  /** How long after an interval's end it may be sealed (default 60 in config). */
  graceSeconds: number;
  /**
   * Where the trail starts (`VEND_AUDIT_TRAIL_START`): a fixed point outside the table. When unset,
   * the sealer head's `trailStart` is used.
   */
  trailStart?: Date;
  /** How far back the first seal looks for the oldest record (default 366). */
  genesisLookbackDays?: number;
}

/** One interval a run sealed. */
export interface SealedInterval {
  intervalStart: string;
  intervalEnd: string;
  recordCount: number;
  digestHash: string;
}

/** What one sealing run did. */
export interface SealResult {
  sealed: SealedInterval[];
  /** Intervals another sealer had already sealed (found by the conditional put). */
  alreadySealed: number;
  /** End of the latest digest after this run (sealed up to here), if any digest exists. */
  sealedUpTo?: string;
  /** Where the trail starts (the sealer head's), once known. */
  trailStart?: string;
  /**
   * Set when the audit table's digests end before the sealer's head: digests were deleted from
   * `from` to `to`. The run did not seal that span again; it continued from the head.
   */
  cut?: { from: string; to: string };
}

/** The latest digest does not verify: the sealer will not chain onto it. */
export class SealChainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealChainError';
  }
}

/** The sealer was built without its head store (fail closed: it could re-seal a cut tail). */
export class SealHeadRequiredError extends Error {
  constructor() {
    super('sealing needs the sealer head store (VEND_AUDIT_SEALS_TABLE, docs/audit.md)');
    this.name = 'SealHeadRequiredError';
  }
}

/** Neither `VEND_AUDIT_TRAIL_START` nor a sealer head says where the trail starts. */
export class TrailStartUnknownError extends Error {
  constructor() {
    super(
      'where the audit trail starts is unknown: set VEND_AUDIT_TRAIL_START, or VEND_AUDIT_SEALS_TABLE once the sealer has run (docs/audit.md)',
    );
    this.name = 'TrailStartUnknownError';
  }
}

async function digestVerifies(deps: AuditTrailDeps, d: AuditDigest): Promise<boolean> {
  if (checkDigestIntegrity(d).length > 0) return false;
  return deps.signer.verify(digestBytes(d), Buffer.from(d.signature ?? '', 'base64'), d.keyId);
}

/**
 * Seals every closed interval not sealed yet.
 *
 * @param options.upTo seal intervals ending at or before `upTo - grace` (default: now)
 * @param options.maxIntervals stop after this many (default 2000), so one run stays within a Lambda timeout
 * @throws SealHeadRequiredError without `deps.head`; SealChainError when the latest digest does not verify
 * @example
 * const result = await sealAuditTrail(deps); // { sealed: [{ intervalStart, recordCount, … }], alreadySealed: 0, sealedUpTo }
 */
export async function sealAuditTrail(
  deps: AuditTrailDeps,
  options: { upTo?: Date; maxIntervals?: number } = {},
): Promise<SealResult> {
  const heads = deps.head;
  if (!heads) throw new SealHeadRequiredError();
  const L = deps.intervalSeconds;
  const upTo = options.upTo ?? deps.now();
  const closedEnd = intervalFloor(new Date(upTo.getTime() - deps.graceSeconds * 1000), L);
  const max = options.maxIntervals ?? 2000;
  const result: SealResult = { sealed: [], alreadySealed: 0 };

  // Head first, then the table: a sealer puts a digest before it moves the head, so a head read
  // first never runs ahead of a latest digest read after it, unless digests were deleted.
  const mark = await heads.read();
  const latest = await deps.digests.latest();
  let previous: Pick<AuditDigest, 'digestHash' | 'intervalStart' | 'intervalEnd'> | undefined;
  let start: Date;
  if (mark && (!latest || latest.intervalEnd < mark.intervalEnd)) {
    result.cut = { from: latest?.intervalEnd ?? mark.trailStart, to: mark.intervalEnd };
    previous = mark;
    start = new Date(mark.intervalEnd);
  } else if (latest) {
    // Anything can be put into the table by whoever may write it; only a signed digest is ours.
    if (!(await digestVerifies(deps, latest))) {
      throw new SealChainError(
        `the latest audit digest (${latest.intervalStart}) does not verify; the sealer will not continue the chain from it (run vend audit verify)`,
      );
    }
    previous = latest;
    start = new Date(latest.intervalEnd);
  } else {
    // Configured, the trail starts there; otherwise it starts now (the last closed interval), so
    // that an idle trail is sealed from its first hour on. Older records are sealed either way.
    const candidates = [
      deps.trailStart ? intervalFloor(deps.trailStart, L).getTime() : closedEnd.getTime() - L * 1000,
    ];
    const lookback = deps.genesisLookbackDays ?? 366;
    if (closedEnd.getTime() <= 0) return result;
    const from = new Date(closedEnd.getTime() - lookback * 86_400_000).toISOString();
    const last = new Date(closedEnd.getTime() - 1).toISOString();
    const earliest = await deps.records.earliestTime(auditDays(from, last));
    if (earliest !== undefined) candidates.push(intervalFloor(new Date(earliest), L).getTime());
    start = new Date(Math.min(...candidates));
  }
  const trailStart =
    mark?.trailStart ??
    (deps.trailStart ? intervalFloor(deps.trailStart, L).toISOString() : undefined) ??
    (latest ? ((await deps.digests.earliest())?.intervalStart ?? latest.intervalStart) : start.toISOString());
  result.trailStart = trailStart;
  const advance = (d: Pick<AuditDigest, 'digestHash' | 'intervalStart' | 'intervalEnd'>) =>
    heads.advance({
      trailStart,
      intervalStart: d.intervalStart,
      intervalEnd: d.intervalEnd,
      digestHash: d.digestHash,
      updatedAt: deps.now().toISOString(),
    });
  // The table may be ahead of the head (a run died between its put and moving the head): catch up.
  if (previous && (!mark || previous.intervalEnd > mark.intervalEnd)) await advance(previous);

  let unmarked = 0;
  try {
    while (result.sealed.length + result.alreadySealed < max) {
      const end = intervalEndAfter(start, L);
      if (end.getTime() > closedEnd.getTime()) break;
      const items = await deps.records.itemsBetween(start.toISOString(), end.toISOString());
      const body = buildDigestBody({
        intervalStart: start,
        intervalEnd: end,
        records: items.map((item) => item.content),
        previous,
        sealedAt: deps.now(),
        keyId: deps.signer.keyId,
      });
      const signature = await deps.signer.sign(digestBytes(body));
      const digest: AuditDigest = {
        ...body,
        digestHash: digestHash(body),
        signature: Buffer.from(signature).toString('base64'),
      };
      if ((await deps.digests.put(digest)) === 'written') {
        previous = digest;
        result.sealed.push({
          intervalStart: digest.intervalStart,
          intervalEnd: digest.intervalEnd,
          recordCount: digest.recordCount,
          digestHash: digest.digestHash,
        });
      } else {
        const existing = await deps.digests.get(digest.intervalStart);
        if (!existing) throw new SealConflictError(digest.intervalStart);
        previous = existing;
        result.alreadySealed += 1;
      }
      // The head moves every few digests and at the end of the run, not after each: a run that dies
      // in between leaves it a little behind the table, which the next run catches up on (above).
      unmarked += 1;
      if (unmarked >= HEAD_EVERY) {
        await advance(previous);
        unmarked = 0;
      }
      start = new Date(previous.intervalEnd);
    }
  } finally {
    // Whatever was sealed, even by a run that fails half way, moves the head.
    if (previous && unmarked > 0) await advance(previous);
  }
  if (previous) result.sealedUpTo = previous.intervalEnd;
  return result;
}

/** How many digests a run writes between two moves of the sealer head. */
const HEAD_EVERY = 20;

/** A digest put lost a race, yet no digest is readable for that interval. */
export class SealConflictError extends Error {
  constructor(intervalStart: string) {
    super(`sealing ${intervalStart} conflicted with a digest that cannot be read back`);
    this.name = 'SealConflictError';
  }
}

/** The outcome of {@link verifyAuditTrail}. */
export interface VerifyReport {
  /** True when there is no finding. */
  ok: boolean;
  since: string;
  until: string;
  /** Where the trail starts (configured, or the sealer head's). */
  trailStart: string;
  /** End of the latest digest in the table (the trail is sealed through here); null without any. */
  sealedThrough: string | null;
  /** Every interval ending by here must have a digest by now ({@link dueThrough}). */
  dueThrough: string;
  /** The sealer head's interval end, when the head was read. */
  sealerHead?: string;
  /** Digests checked. */
  digests: number;
  /** Records compared against digests. */
  records: number;
  /** Records too recent to have been sealed yet (not findings). */
  pending: number;
  findings: AuditFinding[];
}

/**
 * Verifies the trail between two times against its digests.
 *
 * @param options.since default: 7 days before `until`
 * @param options.until default: now
 * @throws TrailStartUnknownError when neither `deps.trailStart` nor a sealer head says where the trail starts
 * @example
 * const report = await verifyAuditTrail(deps, { since: new Date('2026-11-28T00:00:00Z') });
 * if (!report.ok) for (const f of report.findings) console.log(f.kind, 'recordId' in f ? f.recordId : f.interval);
 */
export async function verifyAuditTrail(
  deps: AuditTrailDeps,
  options: { since?: Date; until?: Date } = {},
): Promise<VerifyReport> {
  const now = deps.now();
  const until = (options.until ?? now).toISOString();
  const since = (options.since ?? new Date(Date.parse(until) - 7 * 86_400_000)).toISOString();
  const L = deps.intervalSeconds;
  const mark = deps.head ? await deps.head.read() : undefined;
  const trailStartDate = deps.trailStart
    ? intervalFloor(deps.trailStart, L)
    : mark
      ? new Date(mark.trailStart)
      : undefined;
  if (!trailStartDate) throw new TrailStartUnknownError();
  const trailStart = trailStartDate.toISOString();
  const findings: AuditFinding[] = [];

  // Intervals are at most a day long, so a digest overlapping `since` starts at most a day before it.
  const lookFrom = new Date(Date.parse(since) - 86_400_000).toISOString();
  const digests = (await deps.digests.between(lookFrom, until)).filter(
    (d) => d.intervalEnd > since && d.intervalStart < until,
  );
  const before = digests[0] ? await deps.digests.before(digests[0].intervalStart) : undefined;
  const newest = await deps.digests.latest();

  // 3. The chain must be unbroken from the start up to what is due (or the head, if further).
  const due = dueThrough(now, deps.intervalSeconds, deps.graceSeconds);
  const expectedThrough = mark && mark.intervalEnd > due.toISOString() ? new Date(mark.intervalEnd) : due;
  const untilEdge = Date.parse(until);
  const untilCeil =
    intervalFloor(new Date(untilEdge), L).getTime() === untilEdge
      ? untilEdge
      : intervalEndAfter(new Date(untilEdge), L).getTime();
  const expectFrom = Math.max(intervalFloor(new Date(since), L).getTime(), trailStartDate.getTime());
  const expectTo = Math.min(expectedThrough.getTime(), untilCeil);
  const first = digests[0];
  const last = digests.at(-1);
  const regionFrom = first ? Math.min(expectFrom, Date.parse(first.intervalStart)) : expectFrom;
  const regionTo = last ? Math.max(expectTo, Date.parse(last.intervalEnd)) : expectTo;
  if (regionTo > regionFrom) {
    findings.push(...missingDigests(digests, new Date(regionFrom), new Date(regionTo), L));
  }
  // The head names the digest it last wrote; one in its place with another hash was not written by it.
  if (mark && mark.intervalEnd <= until) {
    const atHead = digests.find((d) => d.intervalStart === mark.intervalStart);
    if (atHead && atHead.digestHash !== mark.digestHash) {
      findings.push({
        kind: 'broken_link',
        interval: mark.intervalStart,
        detail: `the sealer's head records another digest for ${mark.intervalStart}`,
      });
    }
  }
  findings.push(...checkChain(digests, before));

  let recordCount = 0;
  for (const d of digests) {
    const own = checkDigestIntegrity(d);
    findings.push(...own);
    if (own.length === 0) {
      const good = await deps.signer.verify(
        digestBytes(d),
        Buffer.from(d.signature ?? '', 'base64'),
        d.keyId,
      );
      if (!good) {
        findings.push({
          kind: 'bad_signature',
          interval: d.intervalStart,
          detail: `the signature does not verify with ${d.keyId}`,
        });
      }
    }
    const stored = await deps.records.itemsBetween(d.intervalStart, d.intervalEnd);
    recordCount += stored.length;
    findings.push(...compareInterval(d, stored));
  }

  // What no digest covers: before the first, between digests, after the last.
  const gaps: [string, string][] = [];
  let cursor = since;
  for (const d of digests) {
    if (d.intervalStart > cursor) gaps.push([cursor, d.intervalStart]);
    if (d.intervalEnd > cursor) cursor = d.intervalEnd;
  }
  if (cursor < until) gaps.push([cursor, until]);
  // A record older than this should be in a digest by now.
  const dueBefore = due.toISOString();
  let pending = 0;
  for (const [from, to] of gaps) {
    for (const { content: item } of await deps.records.itemsBetween(from, to)) {
      const time = String(item.time);
      if (time < dueBefore) {
        findings.push({
          kind: 'unsealed',
          recordId: String(item.id),
          time,
          detail: 'no digest covers this record',
        });
      } else {
        pending += 1;
      }
    }
  }

  const unique = dedupe(findings);
  return {
    ok: unique.length === 0,
    since,
    until,
    trailStart,
    sealedThrough: newest?.intervalEnd ?? null,
    dueThrough: due.toISOString(),
    ...(mark ? { sealerHead: mark.intervalEnd } : {}),
    digests: digests.length,
    records: recordCount,
    pending,
    findings: unique,
  };
}

/** One finding per kind and id (a gap can be seen both as missing and as a dangling link). */
function dedupe(findings: readonly AuditFinding[]): AuditFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.kind}|${'recordId' in f ? f.recordId : f.interval}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * An intent with no issued record and no denial that settles it: credentials may exist that vend
 * never handed out.
 */
export interface OrphanedIntent {
  auditId: string;
  /** The intent record's id and time. */
  recordId: string;
  time: string;
  caller?: AuditRecord['caller'];
  entitlement?: string;
  roleArn?: string;
  sessionName?: string;
  sourceIdentity?: string;
  durationSeconds?: number;
  requestId?: string;
  /** Known only if some record of this auditId carries it; otherwise find it in CloudTrail. */
  accessKeyId?: string;
  /** What to look for in the target account's CloudTrail (docs/audit.md). */
  cloudTrail: {
    eventSource: 'sts.amazonaws.com';
    eventName: 'AssumeRole';
    /** The target account (from the role ARN), where the AssumeRole event is recorded. */
    account?: string;
    roleArn?: string;
    roleSessionName?: string;
    sourceIdentity?: string;
    /** Search window: the intent's time to a few minutes after. */
    startTime: string;
    endTime: string;
  };
}

/**
 * A denial after an intent that leaves open whether STS issued: `upstream_unavailable` (STS
 * failed, throttled or timed out; an attempt's answer may have been lost after STS issued). STS's
 * own refusals (invalid_request, policy_too_large, duration_out_of_range) settle the intent.
 */
function mayHaveIssued(denial: AuditRecord): boolean {
  return denial.reasonCode === 'upstream_unavailable';
}

/**
 * Lists intents between two times that were never followed by an issued record or by a denial that
 * proves STS issued nothing (see {@link mayHaveIssued}).
 *
 * @param options.settleSeconds intents younger than this are still in flight and left out (default 60)
 * @example
 * const orphans = await listOrphans(deps, { since: new Date(Date.now() - 86_400_000) });
 * orphans[0].sessionName; // 'vend-CICDDeployRole-01J…' → CloudTrail AssumeRole with that roleSessionName
 */
export async function listOrphans(
  deps: Pick<AuditTrailDeps, 'records' | 'now'>,
  options: { since?: Date; until?: Date; settleSeconds?: number } = {},
): Promise<OrphanedIntent[]> {
  const now = deps.now();
  const until = (options.until ?? now).toISOString();
  const since = (options.since ?? new Date(Date.parse(until) - 7 * 86_400_000)).toISOString();
  const settledBefore = new Date(now.getTime() - (options.settleSeconds ?? 60) * 1000).toISOString();
  // The outcome of an intent is written within the function's timeout; look a little past `until`.
  const readUntil = new Date(
    Math.max(Date.parse(until), Math.min(Date.parse(until) + 10 * 60_000, now.getTime() + 1)),
  ).toISOString();
  const items = (await deps.records.itemsBetween(since, readUntil)).map(
    (item) => item.content as unknown as AuditRecord,
  );

  const byAudit = new Map<string, AuditRecord[]>();
  for (const r of items) byAudit.set(r.auditId, [...(byAudit.get(r.auditId) ?? []), r]);
  const orphans: OrphanedIntent[] = [];
  for (const r of items) {
    if (r.decision !== 'intent' || r.time >= until || r.time >= settledBefore) continue;
    const related = byAudit.get(r.auditId) ?? [];
    if (related.some((x) => x.decision === 'issued' || (x.decision === 'denied' && !mayHaveIssued(x))))
      continue;
    const accessKeyId = related.find((x) => typeof x.accessKeyId === 'string')?.accessKeyId;
    const account = r.roleArn?.split(':')[4];
    orphans.push({
      auditId: r.auditId,
      recordId: r.id,
      time: r.time,
      caller: r.caller,
      entitlement: r.entitlement,
      roleArn: r.roleArn,
      sessionName: r.sessionName,
      sourceIdentity: r.sourceIdentity,
      durationSeconds: r.durationSeconds,
      requestId: r.requestId,
      ...(accessKeyId ? { accessKeyId } : {}),
      cloudTrail: {
        eventSource: 'sts.amazonaws.com',
        eventName: 'AssumeRole',
        account,
        roleArn: r.roleArn,
        roleSessionName: r.sessionName,
        sourceIdentity: r.sourceIdentity,
        startTime: r.time,
        endTime: new Date(Date.parse(r.time) + 15 * 60_000).toISOString(),
      },
    });
  }
  return orphans;
}
