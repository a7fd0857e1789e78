/**
 * Cancelling a request and the break-glass review use cases with in-memory ports: who may act, the
 * retry of a cancel that lost only to the version, audit records, the approval message update, and
 * which reviews each person is shown.
 */
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/domain/audit';
import type { ReviewItem } from '../../../lib/domain/break-glass';
import { parseEntitlement } from '../../../lib/domain/entitlement';
import { ConflictError } from '../../../lib/domain/errors';
import {
  type AccessRequest,
  addSeconds,
  conditionHolds,
  type RequestStatus,
  type TransitionCondition,
  type VoteCondition,
} from '../../../lib/domain/request';
import type { Entitlement } from '../../../lib/domain/types';
import {
  type MessageRef,
  RequestConflictError,
  type RequestStore,
  type ReviewStore,
  type StoredRequest,
} from '../../../lib/ports';
import {
  cancelPendingRequest,
  createRequest,
  decideRequest,
  type RequestDeps,
} from '../../../lib/usecases/requests';
import { listReviews, signOffReview } from '../../../lib/usecases/reviews';
import { alice, bob, dave, mallory, person, rawEntitlements } from '../domain/world';

const T0 = new Date('2026-11-29T10:00:00.000Z');
const carol = () => person('carol', ['security-approvers']);
const ctx = { requestId: 'req-1' };
const ask = { entitlement: 'prod-admin', durationSeconds: 3600, reason: 'INC-7 failover' };
const breakGlass = { entitlement: 'prod-admin', breakGlass: true, ticket: 'INC-8', reason: 'db down' };

/** Requests with the conditional write's rule applied to a map, as the real store does. */
class MemoryRequests implements RequestStore {
  readonly items = new Map<string, StoredRequest>();
  readonly uses: { personId: string; at: Date }[] = [];
  /** Runs once before the next applyTransition, to interleave another writer. */
  beforeWrite: (() => void) | undefined;

  async create(r: AccessRequest) {
    this.items.set(r.id, { request: structuredClone(r) });
  }
  async get(id: string) {
    const s = this.items.get(id);
    return s ? structuredClone(s) : undefined;
  }
  async listByRequester(id: string) {
    return [...this.items.values()].map((s) => s.request).filter((r) => r.requester.id === id);
  }
  async listByStatus(status: RequestStatus) {
    return [...this.items.values()].map((s) => s.request).filter((r) => r.status === status);
  }
  async applyTransition(next: AccessRequest, cond: TransitionCondition | VoteCondition) {
    const hook = this.beforeWrite;
    this.beforeWrite = undefined;
    hook?.();
    const stored = this.items.get(cond.requestId);
    if (!conditionHolds(stored?.request, cond)) throw new RequestConflictError('stale', 'stale');
    this.items.set(next.id, { ...(stored as StoredRequest), request: structuredClone(next) });
  }
  async setApprovalMessage(id: string, ref: MessageRef) {
    const s = this.items.get(id);
    if (s) s.approvalMessage = ref;
  }
  async recordBreakGlassUse(personId: string, at: Date) {
    this.uses.push({ personId, at });
  }
  async breakGlassUsesSince(personId: string, since: Date) {
    return this.uses.filter((u) => u.personId === personId && u.at >= since).map((u) => u.at);
  }
}

/** Reviews with the sign-off's condition (`status = open AND version = next.version - 1`). */
class MemoryReviews implements ReviewStore {
  readonly items = new Map<string, ReviewItem>();
  async open(r: ReviewItem) {
    this.items.set(r.id, structuredClone(r));
  }
  async get(id: string) {
    const r = this.items.get(id);
    return r ? structuredClone(r) : undefined;
  }
  async forRequest(id: string) {
    return this.get(id);
  }
  async listOpen() {
    return this.listByStatus('open');
  }
  async listByStatus(status: ReviewItem['status']) {
    return [...this.items.values()].filter((r) => r.status === status);
  }
  async signOff(next: ReviewItem) {
    const stored = this.items.get(next.id);
    if (stored?.status !== 'open' || stored.version !== next.version - 1) {
      throw new ConflictError('already signed off');
    }
    this.items.set(next.id, structuredClone(next));
  }
}

function world() {
  let now = T0;
  let seq = 0;
  const ents = new Map<string, Entitlement>(
    Object.values(rawEntitlements()).map((r) => {
      const e = parseEntitlement(r);
      return [e.id, e];
    }),
  );
  const requests = new MemoryRequests();
  const reviews = new MemoryReviews();
  const audit: AuditRecord[] = [];
  const updates: { ref: MessageRef; text: string }[] = [];
  const deps: RequestDeps = {
    entitlements: {
      get: async (id) => ents.get(id),
      list: async () => [...ents.values()],
      put: async () => undefined,
    },
    requests,
    reviews,
    audit: {
      append: async (r) => {
        audit.push(r);
      },
    },
    slack: {
      post: async (channel) => ({ channel, ts: `1.${++seq}` }),
      update: async (ref, message) => {
        updates.push({ ref, text: JSON.stringify(message) });
        return true;
      },
    },
    directory: { slackUserOf: async () => undefined },
    channels: { approvers: 'C0APPROVERS', security: 'C0SECURITY' },
    vend: async () => {
      throw new Error('no vend in these specs');
    },
    now: () => now,
    newId: () => `ID${String(++seq).padStart(4, '0')}`,
    log: { error: () => undefined, warn: () => undefined },
  };
  return {
    deps,
    requests,
    reviews,
    audit,
    updates,
    advance: (s: number) => {
      now = addSeconds(now, s);
    },
  };
}

describe('cancelPendingRequest', () => {
  it('cancels alice’s pending request: stored, audited as alice, approval message without buttons', async () => {
    const w = world();
    const req = await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask });

    const out = await cancelPendingRequest(w.deps)({ caller: alice(), request: ctx, id: req.id });

    expect(out.status).toBe('cancelled');
    expect(w.requests.items.get(req.id)?.request.status).toBe('cancelled');
    const cancelled = w.audit.filter((r) => r.decision === 'cancelled');
    expect(cancelled).toHaveLength(1);
    expect(JSON.stringify(cancelled[0]?.caller)).toContain('alice');
    expect(w.updates).toHaveLength(1);
    expect(w.updates[0]?.ref.channel).toBe('C0APPROVERS');
    expect(w.updates[0]?.text).not.toContain('vend_approve');
  });

  it('refuses an approver who can see it (403 not_entitled) and a stranger (404), storing nothing', async () => {
    const w = world();
    const req = await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask });

    await expect(
      cancelPendingRequest(w.deps)({ caller: bob(), request: ctx, id: req.id }),
    ).rejects.toMatchObject({ code: 'not_entitled' });
    await expect(
      cancelPendingRequest(w.deps)({ caller: mallory(), request: ctx, id: req.id }),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect(w.requests.items.get(req.id)?.request.status).toBe('pending');
    expect(w.audit.map((r) => r.decision)).toEqual(['requested']);
  });

  it('is 409 once the request is decided, and an approval after a cancel is 409', async () => {
    const w = world();
    const denied = await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask });
    await decideRequest(w.deps)({ caller: bob(), request: ctx, id: denied.id, decision: 'deny' });
    const cancelled = await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask });
    await cancelPendingRequest(w.deps)({ caller: alice(), request: ctx, id: cancelled.id });

    await expect(
      cancelPendingRequest(w.deps)({ caller: alice(), request: ctx, id: denied.id }),
    ).rejects.toMatchObject({ code: 'conflict' });
    await expect(
      decideRequest(w.deps)({ caller: bob(), request: ctx, id: cancelled.id, decision: 'approve' }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(w.requests.items.get(cancelled.id)?.request).toMatchObject({ status: 'cancelled', votes: [] });
  });

  it('is 409 once the request expired unanswered', async () => {
    const w = world();
    const req = await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask });
    w.advance(3601);

    await expect(
      cancelPendingRequest(w.deps)({ caller: alice(), request: ctx, id: req.id }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(w.requests.items.get(req.id)?.request.status).toBe('expired');
  });

  it('re-reads when a vote landed between its read and its write, and cancels what is stored then', async () => {
    const w = world();
    const req = await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask });
    w.requests.beforeWrite = () => {
      const s = w.requests.items.get(req.id) as StoredRequest;
      const vote = { approverId: 'x#bob', label: 'bob', decision: 'approve' as const, at: T0.toISOString() };
      s.request = { ...s.request, votes: [vote], version: s.request.version + 1 };
    };

    const out = await cancelPendingRequest(w.deps)({ caller: alice(), request: ctx, id: req.id });

    expect(out.status).toBe('cancelled');
    expect(out.votes).toHaveLength(1);
    expect(w.requests.items.get(req.id)?.request.version).toBe(req.version + 2);
  });
});

describe('listReviews and signOffReview', () => {
  async function brokeGlass() {
    const w = world();
    const bg = await createRequest(w.deps)({ caller: dave(), request: ctx, body: breakGlass });
    return { w, id: bg.id };
  }

  it('shows the open review to prod-admin’s approvers and to dave, not to mallory', async () => {
    const { w, id } = await brokeGlass();
    const list = (caller: ReturnType<typeof bob>) =>
      listReviews(w.deps)({ caller, request: ctx }, {}).then((r) => r.reviews.map((x) => x.id));

    expect(await list(bob())).toEqual([id]);
    expect(await list(dave())).toEqual([id]);
    expect(await list(mallory())).toEqual([]);
  });

  it('refuses an unknown status with 400', async () => {
    const { w } = await brokeGlass();

    await expect(
      listReviews(w.deps)({ caller: bob(), request: ctx }, { status: 'closed' }),
    ).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('refuses dave (self_approval) and mallory (not_entitled); the review stays open, nothing audited', async () => {
    const { w, id } = await brokeGlass();

    await expect(signOffReview(w.deps)({ caller: dave(), request: ctx, id })).rejects.toMatchObject({
      code: 'self_approval',
    });
    await expect(signOffReview(w.deps)({ caller: mallory(), request: ctx, id })).rejects.toMatchObject({
      code: 'not_entitled',
    });
    expect(w.reviews.items.get(id)?.status).toBe('open');
    expect(w.audit.map((r) => r.decision)).toEqual(['break-glass']);
  });

  it('bob signs off: stored, audited with his comment; a second sign-off is 409', async () => {
    const { w, id } = await brokeGlass();
    w.advance(600);

    const out = await signOffReview(w.deps)({ caller: bob(), request: ctx, id, comment: ' looked fine ' });

    expect(out).toMatchObject({ status: 'signed-off', at: addSeconds(T0, 600).toISOString() });
    expect(out.signedOffBy).toMatch(/#bob$/);
    expect(w.reviews.items.get(id)?.status).toBe('signed-off');
    const signed = w.audit.filter((r) => r.decision === 'review-signed-off');
    expect(signed.map((r) => [r.accessRequestId, r.comment])).toEqual([[id, 'looked fine']]);
    await expect(signOffReview(w.deps)({ caller: carol(), request: ctx, id })).rejects.toMatchObject({
      code: 'conflict',
    });
    const lists = await listReviews(w.deps)({ caller: bob(), request: ctx }, { status: 'signed-off' });
    expect(lists.reviews.map((r) => r.id)).toEqual([id]);
  });

  it('answers 404 for an unknown review and 400 for a comment that is not a string', async () => {
    const { w, id } = await brokeGlass();

    await expect(signOffReview(w.deps)({ caller: bob(), request: ctx, id: 'NOPE' })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(
      signOffReview(w.deps)({ caller: bob(), request: ctx, id, comment: 42 }),
    ).rejects.toMatchObject({ code: 'invalid_request' });
    expect(w.reviews.items.get(id)?.status).toBe('open');
  });

  it('has no reviewers when the entitlement has no approval gate', async () => {
    const { w, id } = await brokeGlass();
    const ent = (await w.deps.entitlements.get('prod-admin')) as Entitlement;
    w.deps.entitlements.get = async () => ({ ...ent, approval: undefined });

    await expect(signOffReview(w.deps)({ caller: bob(), request: ctx, id })).rejects.toMatchObject({
      code: 'not_entitled',
    });
  });
});
