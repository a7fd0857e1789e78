/**
 * The audit trail's integrity and reconciliation: sealing closed intervals into signed, chained
 * digests; verifying records and digests against each other; and listing orphaned intents.
 *
 * Sealing, primary course (`sealAuditTrail`):
 * 1. The intervals are `intervalSeconds` long, aligned to the Unix epoch; an interval is closed once
 *    its end is `graceSeconds` in the past (writes stamped just before the end may still land).
 * 2. Continue from the latest digest's end; with no digest yet, from the interval of the oldest
 *    record within `genesisLookbackDays`.
 * 3. For each closed interval in order: read its records (day partitions, sort key range), build the
 *    digest (record hashes in canonical order, count, previous digest's hash), sign it, and put it
 *    with a condition: an interval is sealed once. If another sealer got there first, its digest is
 *    the new head and sealing goes on from it (idempotent: sealing twice adds nothing).
 *
 * Verifying, primary course (`verifyAuditTrail`):
 * 1. Read the digests overlapping `[since, until)` and the one just before them.
 * 2. Check every link (previous hash, contiguous intervals), every digest's own hash and signature.
 * 3. For every digest, compare the records stored today with the ones it sealed: deleted, modified
 *    (content or keys) and inserted records are each named.
 * 4. Records in the range that no digest covers and that should have been sealed by now are
 *    `unsealed` findings (a removed last digest, or a record inserted before the chain began).
 *
 * Orphans (`listOrphans`): intent records with no issued and no denied record of the same auditId.
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
  intervalFloor,
} from '../domain/audit-chain';
import { auditDays } from '../domain/audit-query';
import type { AuditReader, AuditSigner, DigestStore } from '../ports';

/** What the sealer, verifier and orphan listing need. */
export interface AuditTrailDeps {
  records: Pick<AuditReader, 'itemsBetween' | 'earliestTime'>;
  digests: DigestStore;
  signer: AuditSigner;
  now: () => Date;
  /** Interval length (default 3600 in config). */
  intervalSeconds: number;
  /** How long after an interval's end it may be sealed (default 60 in config). */
  graceSeconds: number;
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
}

/**
 * Seals every closed interval not sealed yet.
 *
 * @param options.upTo seal intervals ending at or before `upTo - grace` (default: now)
 * @param options.maxIntervals stop after this many (default 2000), so one run stays within a Lambda timeout
 * @example
 * const result = await sealAuditTrail(deps); // { sealed: [{ intervalStart, recordCount, … }], alreadySealed: 0, sealedUpTo }
 */
export async function sealAuditTrail(
  deps: AuditTrailDeps,
  options: { upTo?: Date; maxIntervals?: number } = {},
): Promise<SealResult> {
  const L = deps.intervalSeconds;
  const upTo = options.upTo ?? deps.now();
  const closedEnd = intervalFloor(new Date(upTo.getTime() - deps.graceSeconds * 1000), L);
  const max = options.maxIntervals ?? 2000;
  const result: SealResult = { sealed: [], alreadySealed: 0 };

  let head = await deps.digests.latest();
  let start: Date;
  if (head) {
    start = new Date(head.intervalEnd);
  } else {
    const lookback = deps.genesisLookbackDays ?? 366;
    const from = new Date(closedEnd.getTime() - lookback * 86_400_000).toISOString();
    const last = new Date(closedEnd.getTime() - 1).toISOString();
    if (closedEnd.getTime() <= 0) return result;
    const earliest = await deps.records.earliestTime(auditDays(from, last));
    if (earliest === undefined) return result;
    start = intervalFloor(new Date(earliest), L);
  }

  while (result.sealed.length + result.alreadySealed < max) {
    // An interval ends at the next aligned boundary, even if the interval length changed since the
    // previous digest: the chain stays contiguous.
    const end = new Date(intervalFloor(start, L).getTime() + L * 1000);
    if (end.getTime() > closedEnd.getTime()) break;
    const items = await deps.records.itemsBetween(start.toISOString(), end.toISOString());
    const body = buildDigestBody({
      intervalStart: start,
      intervalEnd: end,
      records: items.map((item) => item.content),
      previous: head,
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
      head = digest;
      result.sealed.push({
        intervalStart: digest.intervalStart,
        intervalEnd: digest.intervalEnd,
        recordCount: digest.recordCount,
        digestHash: digest.digestHash,
      });
    } else {
      const existing = await deps.digests.get(digest.intervalStart);
      if (!existing) throw new SealConflictError(digest.intervalStart);
      head = existing;
      result.alreadySealed += 1;
    }
    start = new Date(head.intervalEnd);
  }
  if (head) result.sealedUpTo = head.intervalEnd;
  return result;
}

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
 * @example
 * const report = await verifyAuditTrail(deps, { since: new Date('2026-11-28T00:00:00Z') });
 * if (!report.ok) for (const f of report.findings) console.log(f.kind, 'recordId' in f ? f.recordId : f.interval);
 */
export async function verifyAuditTrail(
  deps: AuditTrailDeps,
  options: { since?: Date; until?: Date } = {},
): Promise<VerifyReport> {
  const until = (options.until ?? deps.now()).toISOString();
  const since = (options.since ?? new Date(Date.parse(until) - 7 * 86_400_000)).toISOString();
  const findings: AuditFinding[] = [];

  // Intervals are at most a day long, so a digest overlapping `since` starts at most a day before it.
  const lookFrom = new Date(Date.parse(since) - 86_400_000).toISOString();
  const digests = (await deps.digests.between(lookFrom, until)).filter(
    (d) => d.intervalEnd > since && d.intervalStart < until,
  );
  const before = digests[0] ? await deps.digests.before(digests[0].intervalStart) : undefined;
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
  // A record older than this should be in a digest by now: its interval closed, the grace passed,
  // and the hourly sealer has had a full interval to run.
  const L = deps.intervalSeconds * 1000;
  const dueBefore = new Date(
    intervalFloor(new Date(deps.now().getTime() - deps.graceSeconds * 1000), deps.intervalSeconds).getTime() -
      L,
  ).toISOString();
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

  return {
    ok: findings.length === 0,
    since,
    until,
    digests: digests.length,
    records: recordCount,
    pending,
    findings,
  };
}

/** An intent with no issued and no denied record: credentials may exist that vend never handed out. */
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
 * Lists intents between two times that were never followed by an issued or denied record.
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
    if (related.some((x) => x.decision === 'issued' || x.decision === 'denied')) continue;
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
