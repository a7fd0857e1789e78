/**
 * The session use cases with in-memory ports: listing, revoking one session or a caller, and what
 * happens when each port fails (fail closed: no deny list, no "revoked"). The publication protocol
 * is attacked the way it could break: many revocations at once with publications interleaved, a
 * publisher that died holding the lease. (The same paths run against the local stack in
 * test/e2e/revocation.test.ts.)
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/domain/audit';
import { AuditUnavailableError, UpstreamUnavailableError, VendError } from '../../../lib/domain/errors';
import { actorOf, type SessionRecord } from '../../../lib/domain/sessions';
import type { Caller, Entitlement } from '../../../lib/domain/types';
import type { AuditSink, EntitlementStore } from '../../../lib/ports';
import {
  listSessions,
  revokeCaller,
  revokeRequestSessions,
  revokeSession,
  type SessionDeps,
} from '../../../lib/usecases/sessions';
import { alice, bob, ciService, dave, entitlement, mallory, person } from '../domain/world';
import { MemoryLedger, MemorySessionStore, RecordingPublisher } from './sessions-fake';

const NOW = new Date('2026-11-29T10:00:00.000Z');
const PROD_READONLY = 'arn:aws:iam::444455556666:role/ProdReadOnly';
const request = { requestId: 'req-1' };

class Entitlements implements EntitlementStore {
  constructor(readonly items: Map<string, Entitlement>) {}
  async get(id: string) {
    return this.items.get(id);
  }
  async list() {
    return [...this.items.values()];
  }
  async put(e: Entitlement) {
    this.items.set(e.id, e);
  }
}

class Audit implements AuditSink {
  records: AuditRecord[] = [];
  fail = false;
  async append(r: AuditRecord) {
    if (this.fail) throw new AuditUnavailableError('the audit log could not be written');
    this.records.push(structuredClone(r));
  }
}

let sessions: MemorySessionStore;
let ledger: MemoryLedger;
let publisher: RecordingPublisher;
let audit: Audit;
let deps: SessionDeps;
let seq: number;
let errors: string[];

beforeEach(() => {
  sessions = new MemorySessionStore();
  ledger = new MemoryLedger();
  publisher = new RecordingPublisher();
  audit = new Audit();
  seq = 0;
  errors = [];
  deps = {
    sessions,
    entitlements: new Entitlements(
      new Map(
        ['prod-readonly', 'prod-admin', 'prod-s3-read'].map((id) => [id, entitlement(id as 'prod-admin')]),
      ),
    ),
    ledger,
    publisher,
    audit,
    rights: { securityGroup: 'security-approvers' },
    now: () => NOW,
    newId: () => `01KB${String(++seq).padStart(22, '0')}`,
    log: { error: (m: string) => void errors.push(m), warn: (m: string) => void errors.push(m) },
    sleep: async () => undefined,
  };
});

let vended = 0;
async function vended_(owner: Caller, over: Partial<SessionRecord> = {}): Promise<SessionRecord> {
  const id = `01KC${String(++vended).padStart(22, '0')}`;
  const s: SessionRecord = {
    auditId: id,
    caller: actorOf(owner),
    entitlement: 'prod-readonly',
    roleArn: PROD_READONLY,
    assumedRoleArn: `arn:aws:sts::444455556666:assumed-role/ProdReadOnly/vend-x-${id}`,
    sourceIdentity: owner.kind === 'person' ? (owner.email ?? owner.subject) : 'CICDDeployRole@111122223333',
    accessKeyId: `ASIA${id.slice(-16)}`,
    issuedAt: '2026-11-29T09:55:00.000Z',
    expiresAt: '2026-11-29T10:10:00Z',
    delivery: 'keys',
    ...over,
  };
  await sessions.put(s);
  return s;
}

const ids = (roleArn = PROD_READONLY) =>
  (publisher.current(roleArn)?.Statement ?? []).flatMap((st) => {
    const v = st.Condition?.StringEquals?.['aws:PrincipalTag/vend:audit-id'];
    return Array.isArray(v) ? (v as string[]) : [];
  });

async function refusal(p: Promise<unknown>): Promise<VendError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VendError);
  return e as VendError;
}

describe('revoke one session', () => {
  it('writes the ledger, publishes the list as the revoker, marks the session, audits `revoked`', async () => {
    const s = await vended_(alice());

    const out = await revokeSession(deps)({
      caller: bob(),
      request,
      auditId: s.auditId,
      body: { reason: 'lost laptop' },
    });

    expect(out).toMatchObject({ status: 'revoked', revocation: { reason: 'lost laptop', scope: 'session' } });
    expect(ids()).toEqual([s.auditId]);
    expect(publisher.published[0]?.revokedBy).toBe('bob@example.com');
    expect((await sessions.get(s.auditId))?.revocation?.by.label).toBe('bob@example.com');
    expect(audit.records).toEqual([
      expect.objectContaining({
        decision: 'revoked',
        auditId: s.auditId,
        caller: expect.objectContaining({ label: 'bob@example.com' }),
        revokedCaller: s.caller,
        reason: 'lost laptop',
      }),
    ]);
  });

  it('fails closed: IAM or STS failure → 503, the session is not marked revoked and nothing is audited', async () => {
    const s = await vended_(alice());
    publisher.fail = new UpstreamUnavailableError(
      'IAM is unavailable; the session is not revoked, retry shortly',
      2,
    );

    const e = await refusal(
      revokeSession(deps)({ caller: bob(), request, auditId: s.auditId, body: { reason: 'x' } }),
    );

    expect(e.status).toBe(503);
    expect((await sessions.get(s.auditId))?.revocation).toBeUndefined();
    expect(audit.records).toEqual([]);
    expect(ledger.leases.size).toBe(0);
    // The entry waits in the ledger: the retry publishes it.
    publisher.fail = undefined;
    await revokeSession(deps)({ caller: bob(), request, auditId: s.auditId, body: { reason: 'x' } });
    expect(ids()).toEqual([s.auditId]);
  });

  it('a ledger failure is 503 before anything is published', async () => {
    const s = await vended_(alice());
    ledger.fail = true;
    expect(
      (
        await refusal(
          revokeSession(deps)({ caller: bob(), request, auditId: s.auditId, body: { reason: 'x' } }),
        )
      ).status,
    ).toBe(503);
    expect(publisher.published).toEqual([]);
  });

  it('an audit failure after the list is in force does not undo it: 200, logged', async () => {
    const s = await vended_(alice());
    audit.fail = true;
    const out = await revokeSession(deps)({
      caller: bob(),
      request,
      auditId: s.auditId,
      body: { reason: 'x' },
    });
    expect(out.revoked).toBe(true);
    expect(errors.join()).toMatch(/revoked audit record not written/);
  });

  it('403 for mallory, dave and a service; 404 unknown; 409 expired or already revoked', async () => {
    const s = await vended_(alice());
    for (const caller of [mallory(), dave(), ciService()]) {
      const e = await refusal(
        revokeSession(deps)({ caller, request, auditId: s.auditId, body: { reason: 'x' } }),
      );
      expect(e.status).toBe(403);
    }
    expect(
      (
        await refusal(
          revokeSession(deps)({
            caller: bob(),
            request,
            auditId: '01KZ0000000000000000000000',
            body: { reason: 'x' },
          }),
        )
      ).status,
    ).toBe(404);
    const expired = await vended_(alice(), { expiresAt: '2026-11-29T09:59:59Z' });
    expect(
      (
        await refusal(
          revokeSession(deps)({ caller: bob(), request, auditId: expired.auditId, body: { reason: 'x' } }),
        )
      ).status,
    ).toBe(409);
    await revokeSession(deps)({ caller: alice(), request, auditId: s.auditId, body: { reason: 'mine' } });
    expect(
      (
        await refusal(
          revokeSession(deps)({ caller: bob(), request, auditId: s.auditId, body: { reason: 'x' } }),
        )
      ).status,
    ).toBe(409);
    expect(publisher.published).toHaveLength(1);
  });

  it('prunes expired entries from the ledger and the document', async () => {
    const old = await vended_(alice(), { expiresAt: '2026-11-29T10:01:00Z' });
    await revokeSession(deps)({ caller: bob(), request, auditId: old.auditId, body: { reason: 'x' } });
    let now = NOW;
    deps.now = () => now;
    now = new Date('2026-11-29T10:20:00.000Z');
    const fresh = await vended_(alice(), { expiresAt: '2026-11-29T10:35:00Z' });

    await revokeSession(deps)({ caller: bob(), request, auditId: fresh.auditId, body: { reason: 'x' } });

    expect(ids()).toEqual([fresh.auditId]);
    expect(
      (await ledger.read(PROD_READONLY)).entries.map((e) => (e.kind === 'session' ? e.auditId : '')),
    ).toEqual([fresh.auditId]);
  });
});

describe('concurrent revocations', () => {
  it('twenty at once, with publications interleaved: none lost, and far fewer publications than revocations', async () => {
    const all = await Promise.all(Array.from({ length: 20 }, () => vended_(alice())));
    // Each publication yields to the other revocations before it lands; waiting takes time too.
    publisher.beforeLanding = () => new Promise((r) => setTimeout(r, 1));
    deps.sleep = () => new Promise((r) => setTimeout(r, 1));

    const out = await Promise.all(
      all.map((s) =>
        revokeSession(deps)({ caller: bob(), request, auditId: s.auditId, body: { reason: 'x' } }),
      ),
    );

    expect(out.every((s) => s.revoked)).toBe(true);
    expect(ids().sort()).toEqual(all.map((s) => s.auditId).sort());
    expect(publisher.published.length).toBeLessThan(all.length);
  });

  it('a publisher that died holding the lease delays the next one only until the lease lapses', async () => {
    const s = await vended_(alice());
    await ledger.record(PROD_READONLY, []);
    await ledger.acquire(PROD_READONLY, 'dead', new Date(NOW.getTime() + 1000), NOW);
    let now = NOW;
    deps.now = () => now;
    let waited = 0;
    deps.sleep = async () => {
      waited++;
      now = new Date(now.getTime() + 300);
    };

    await revokeSession(deps)({ caller: bob(), request, auditId: s.auditId, body: { reason: 'x' } });

    expect(waited).toBeGreaterThan(0);
    expect(ids()).toEqual([s.auditId]);
  });

  it('a lease that never comes free is 503 after the waits, and the entry stays recorded', async () => {
    const s = await vended_(alice());
    await ledger.record(PROD_READONLY, []);
    await ledger.acquire(PROD_READONLY, 'stuck', new Date(NOW.getTime() + 3600_000), NOW);
    deps.maxWaits = 3;

    const e = await refusal(
      revokeSession(deps)({ caller: bob(), request, auditId: s.auditId, body: { reason: 'x' } }),
    );

    expect(e.status).toBe(503);
    expect((await sessions.get(s.auditId))?.revocation).toBeUndefined();
    expect((await ledger.read(PROD_READONLY)).entries).toHaveLength(1);
  });
});

describe('revoke a caller', () => {
  it('the security group: one SourceIdentity statement per role of the caller’s live sessions, every session marked', async () => {
    const a = await vended_(alice());
    const b = await vended_(alice(), {
      entitlement: 'prod-s3-read',
      roleArn: 'arn:aws:iam::444455556666:role/S3ReadAll',
    });
    const other = await vended_(ciService());

    const out = await revokeCaller(deps)({
      caller: bob(),
      request,
      body: { caller: a.caller.id, reason: 'left' },
    });

    expect(out.revoked.map((s) => s.auditId).sort()).toEqual([a.auditId, b.auditId].sort());
    expect(out.before).toBe('2026-11-29T10:00:00Z');
    for (const role of [PROD_READONLY, 'arn:aws:iam::444455556666:role/S3ReadAll']) {
      const caller = publisher.current(role)?.Statement.find((st) => st.Sid.startsWith('VendRevokedCaller'));
      expect(caller?.Condition).toEqual({
        StringEquals: { 'aws:SourceIdentity': 'alice@example.com' },
        DateLessThan: { 'aws:TokenIssueTime': '2026-11-29T10:00:00Z' },
      });
    }
    expect((await sessions.get(other.auditId))?.revocation).toBeUndefined();
    expect(audit.records.map((r) => [r.auditId, r.revocationScope])).toEqual(
      expect.arrayContaining([
        [a.auditId, 'caller'],
        [b.auditId, 'caller'],
      ]),
    );
  });

  it('an approver revokes only the sessions of the entitlements they approve, by audit id', async () => {
    const approver = person('frank', ['security-approvers']);
    deps.rights = { securityGroup: 'incident-response' };
    const admin = await vended_(alice(), {
      entitlement: 'prod-admin',
      roleArn: 'arn:aws:iam::444455556666:role/BreakGlassAdmin',
    });
    const readonly = await vended_(alice());

    const out = await revokeCaller(deps)({
      caller: approver,
      request,
      body: { caller: admin.caller.id, reason: 'x' },
    });

    expect(out.revoked.map((s) => s.auditId)).toEqual([admin.auditId]);
    expect(ids('arn:aws:iam::444455556666:role/BreakGlassAdmin')).toEqual([admin.auditId]);
    expect(publisher.current(PROD_READONLY)).toBeUndefined();
    expect((await sessions.get(readonly.auditId))?.revocation).toBeUndefined();
  });

  it('403 for someone with no say over anyone; 404 when nothing is live', async () => {
    const s = await vended_(alice());
    expect(
      (
        await refusal(
          revokeCaller(deps)({ caller: mallory(), request, body: { caller: s.caller.id, reason: 'x' } }),
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await refusal(
          revokeCaller(deps)({
            caller: bob(),
            request,
            body: { caller: 'arn:aws:iam::1:role/None', reason: 'x' },
          }),
        )
      ).status,
    ).toBe(404);
    expect(publisher.published).toEqual([]);
  });
});

describe('revoke the sessions of a request (Slack)', () => {
  it('revokes every live session vended under the request, and nothing else', async () => {
    const under = await vended_(dave(), {
      entitlement: 'prod-admin',
      roleArn: 'arn:aws:iam::444455556666:role/BreakGlassAdmin',
      accessRequestId: '01KR0000000000000000000001',
    });
    const other = await vended_(dave(), {
      entitlement: 'prod-admin',
      roleArn: 'arn:aws:iam::444455556666:role/BreakGlassAdmin',
    });

    const out = await revokeRequestSessions(deps)({
      caller: bob(),
      request,
      accessRequestId: '01KR0000000000000000000001',
      requesterId: under.caller.id,
      entitlement: 'prod-admin',
      reason: 'revoked from Slack',
    });

    expect(out.map((s) => s.auditId)).toEqual([under.auditId]);
    expect((await sessions.get(other.auditId))?.revocation).toBeUndefined();
  });
});

describe('list', () => {
  it('own sessions; all=true for approvers and security, newest first; refused to others', async () => {
    const a = await vended_(alice(), { issuedAt: '2026-11-29T09:50:00.000Z' });
    const c = await vended_(ciService(), { issuedAt: '2026-11-29T09:58:00.000Z' });
    await vended_(alice(), { expiresAt: '2026-11-29T09:59:00Z' });

    expect(
      (await listSessions(deps)({ caller: alice(), request }, {})).sessions.map((s) => s.auditId),
    ).toEqual([a.auditId]);
    expect(
      (await listSessions(deps)({ caller: bob(), request }, { all: 'true' })).sessions.map((s) => s.auditId),
    ).toEqual([c.auditId, a.auditId]);
    expect((await refusal(listSessions(deps)({ caller: alice(), request }, { all: 'true' }))).status).toBe(
      403,
    );
    expect((await refusal(listSessions(deps)({ caller: alice(), request }, { all: 'yes' }))).status).toBe(
      400,
    );
  });
});
