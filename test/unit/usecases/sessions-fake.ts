/**
 * In-memory session store, revocation ledger and deny-list publisher for the use-case specs. The
 * ledger applies each write atomically (as DynamoDB applies one UpdateItem), so the specs exercise
 * the generation protocol; the publisher keeps every document in publication order, like IAM's
 * default version, and can be made to fail or to yield between steps.
 */
import { ConflictError, UpstreamUnavailableError } from '../../../lib/domain/errors';
import { entryKey, type RevocationEntry } from '../../../lib/domain/revocation';
import type { SessionRecord, SessionRevocation } from '../../../lib/domain/sessions';
import type {
  DenyListPublisher,
  LedgerState,
  RevocationLedger,
  SessionStore,
} from '../../../lib/ports/sessions';

export class MemorySessionStore implements SessionStore {
  readonly items = new Map<string, SessionRecord>();
  failPut = false;

  async put(record: SessionRecord): Promise<void> {
    if (this.failPut)
      throw new UpstreamUnavailableError('the session store is unavailable; retry shortly', 1);
    if (this.items.has(record.auditId)) throw new ConflictError(`session ${record.auditId} already exists`);
    this.items.set(record.auditId, structuredClone(record));
  }
  async get(auditId: string) {
    const s = this.items.get(auditId);
    return s && structuredClone(s);
  }
  async listByCaller(callerId: string, now: Date) {
    return this.live((s) => s.caller.id === callerId, now);
  }
  async listByEntitlement(entitlement: string, now: Date) {
    return this.live((s) => s.entitlement === entitlement, now);
  }
  async markRevoked(auditId: string, revocation: SessionRevocation) {
    const s = this.items.get(auditId);
    if (!s || s.revocation) throw new ConflictError(`session ${auditId} is already revoked`);
    s.revocation = structuredClone(revocation);
  }
  private live(match: (s: SessionRecord) => boolean, now: Date) {
    return [...this.items.values()]
      .filter((s) => match(s) && Date.parse(s.expiresAt) > now.getTime())
      .sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : 1))
      .map((s) => structuredClone(s));
  }
}

export class MemoryLedger implements RevocationLedger {
  readonly items = new Map<
    string,
    { generation: number; published: number; entries: Map<string, RevocationEntry> }
  >();
  fail = false;

  async read(roleArn: string): Promise<LedgerState> {
    if (this.fail)
      throw new UpstreamUnavailableError('the revocation ledger is unavailable; retry shortly', 1);
    return this.state(roleArn);
  }
  async record(
    roleArn: string,
    add: readonly RevocationEntry[],
    options: { prune?: readonly RevocationEntry[] } = {},
  ) {
    if (this.fail)
      throw new UpstreamUnavailableError('the revocation ledger is unavailable; retry shortly', 1);
    const item = this.items.get(roleArn) ?? { generation: 0, published: 0, entries: new Map() };
    for (const e of options.prune ?? []) item.entries.delete(entryKey(e));
    for (const e of add) item.entries.set(entryKey(e), structuredClone(e));
    item.generation++;
    this.items.set(roleArn, item);
    return this.state(roleArn);
  }
  readonly leases = new Map<string, { owner: string; until: Date }>();
  async acquire(roleArn: string, owner: string, until: Date, now: Date) {
    const held = this.leases.get(roleArn);
    if (held && held.until.getTime() >= now.getTime()) return false;
    this.leases.set(roleArn, { owner, until });
    return true;
  }
  async release(roleArn: string, owner: string) {
    if (this.leases.get(roleArn)?.owner === owner) this.leases.delete(roleArn);
  }
  async markPublished(roleArn: string, generation: number) {
    const item = this.items.get(roleArn);
    if (item && item.published < generation) item.published = generation;
  }
  private state(roleArn: string): LedgerState {
    const item = this.items.get(roleArn);
    return {
      roleArn,
      generation: item?.generation ?? 0,
      published: item?.published ?? 0,
      entries: [...(item?.entries.values() ?? [])].map((e) => structuredClone(e)),
    };
  }
}

export class RecordingPublisher implements DenyListPublisher {
  /** Every publication, in order; the last one per role is "the default version". */
  readonly published: { roleArn: string; document: string; revokedBy: string }[] = [];
  fail: Error | undefined;
  /** Runs before each publication lands (to interleave writers). */
  beforeLanding: (() => Promise<void>) | undefined;

  async publish(input: { roleArn: string; document: string; revokedBy: string }) {
    if (this.fail) throw this.fail;
    await this.beforeLanding?.();
    this.published.push({ ...input });
  }
  /** The document in force for a role. */
  current(
    roleArn: string,
  ): { Statement: { Sid: string; Condition?: Record<string, Record<string, unknown>> }[] } | undefined {
    const last = [...this.published].reverse().find((p) => p.roleArn === roleArn);
    return last && JSON.parse(last.document);
  }
}
