/**
 * In-memory fakes of the audit ports for unit specs: records keyed as DynamoDB would key them,
 * digests put once per interval.
 */

import type { AuditDigest, StoredAuditRecord } from '../../../lib/domain/audit-chain';
import { keys } from '../../../lib/dynamodb/keys';
import type { AuditReader, DigestStore, SealHead, SealHeadStore } from '../../../lib/ports';

export class MemoryRecords implements Pick<AuditReader, 'itemsBetween' | 'earliestTime'> {
  readonly items: Record<string, unknown>[] = [];

  add(record: { id: string; time: string } & Record<string, unknown>): void {
    this.items.push({ ...record, ...keys.audit(record as never) });
  }

  async itemsBetween(since: string, until: string): Promise<StoredAuditRecord[]> {
    // As the store reads: by sort key (pk day partitions), not by the (editable) time attribute.
    return this.items
      .filter((i) => String(i.pk).startsWith('AUDIT#'))
      .filter((i) => String(i.sk) >= keys.timeBound(since) && String(i.sk) < keys.timeBound(until))
      .sort((a, b) => (String(a.sk) < String(b.sk) ? -1 : 1))
      .map((i) => keys.storedAudit(structuredClone(i)));
  }

  async earliestTime(days: readonly string[]): Promise<string | undefined> {
    const inDays = this.items.filter((i) => days.some((d) => i.pk === keys.auditDay(d)));
    return inDays.map((i) => String(i.time)).sort()[0];
  }
}

export class MemoryDigests implements DigestStore {
  readonly byStart = new Map<string, AuditDigest>();
  puts = 0;

  async put(digest: AuditDigest): Promise<'written' | 'exists'> {
    this.puts += 1;
    if (this.byStart.has(digest.intervalStart)) return 'exists';
    this.byStart.set(digest.intervalStart, structuredClone(digest));
    return 'written';
  }
  async get(intervalStart: string) {
    const d = this.byStart.get(intervalStart);
    return d ? structuredClone(d) : undefined;
  }
  private sorted(): AuditDigest[] {
    return [...this.byStart.values()].sort((a, b) => (a.intervalStart < b.intervalStart ? -1 : 1));
  }
  async latest() {
    return this.sorted().at(-1);
  }
  async earliest() {
    return this.sorted()[0];
  }
  async before(intervalStart: string) {
    return this.sorted()
      .filter((d) => d.intervalStart < intervalStart)
      .at(-1);
  }
  async between(from: string, to: string) {
    return this.sorted().filter((d) => d.intervalStart >= from && d.intervalStart <= to);
  }
}

/** The sealer head as the DynamoDB adapter keeps it: forward only, its trailStart never changed. */
export class MemoryHead implements SealHeadStore {
  head: SealHead | undefined;

  async read() {
    return this.head ? { ...this.head } : undefined;
  }
  async advance(next: SealHead) {
    if (this.head && (this.head.intervalEnd >= next.intervalEnd || this.head.trailStart !== next.trailStart))
      return;
    this.head = { ...next };
  }
}
