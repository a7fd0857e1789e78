/**
 * The request use cases with in-memory ports: the order of steps, the retry of a vote that lost only
 * to the version, Slack failures that never undo a decision, audit of every vote and transition,
 * vending inside the grant, break-glass limits, and the Slack routes' refusals.
 */
import { createHmac } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/domain/audit';
import type { ReviewItem } from '../../../lib/domain/break-glass';
import { parseEntitlement } from '../../../lib/domain/entitlement';
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
  type StoredRequest,
} from '../../../lib/ports';
import type { SlackBinding } from '../../../lib/slack/bindings';
import type { SlackMessage } from '../../../lib/slack/messages';
import { memoryReplayGuard } from '../../../lib/slack/verify';
import {
  createRequest,
  decideRequest,
  getRequest,
  listRequests,
  type RequestDeps,
  vendForRequest,
} from '../../../lib/usecases/requests';
import { type SlackDeps, slackInteraction } from '../../../lib/usecases/slack';
import type { VendInput } from '../../../lib/usecases/vend-credentials';
import { alice, bob, dave, ISSUER, mallory, person, rawEntitlements } from '../domain/world';

const T0 = new Date('2026-11-29T10:00:00.000Z');
const carol = () => person('carol', ['security-approvers']);
const ctx = { requestId: 'req-1' };

/** The conditional write's rule, applied to a map: the reference semantics of the real store. */
class MemoryRequests implements RequestStore {
  readonly items = new Map<string, StoredRequest>();
  readonly uses: { personId: string; at: Date }[] = [];
  /** Called before each applyTransition, to let a spec interleave another writer. */
  beforeWrite: (() => void) | undefined;
  writes = 0;

  async create(r: AccessRequest) {
    if (this.items.has(r.id)) throw new RequestConflictError('exists', 'exists');
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
    this.writes += 1;
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

interface Posted {
  method: 'post' | 'update';
  channel: string;
  message: SlackMessage;
}

function world(options: { slackFails?: boolean } = {}) {
  let now = T0;
  let seq = 0;
  const ents = new Map<string, Entitlement>(
    Object.values(rawEntitlements()).map((r) => {
      const e = parseEntitlement(r);
      return [e.id, e];
    }),
  );
  const requests = new MemoryRequests();
  const reviews: ReviewItem[] = [];
  const audit: AuditRecord[] = [];
  const slack: Posted[] = [];
  const errors: string[] = [];
  const vends: VendInput[] = [];
  const deps: RequestDeps = {
    entitlements: {
      get: async (id) => ents.get(id),
      list: async () => [...ents.values()],
      put: async () => undefined,
    },
    requests,
    reviews: {
      open: async (r) => {
        reviews.push(r);
      },
      get: async (id) => reviews.find((r) => r.id === id),
      forRequest: async (id) => reviews.find((r) => r.requestId === id),
      listOpen: async () => reviews.filter((r) => r.status === 'open'),
      signOff: async () => undefined,
    },
    audit: {
      append: async (r) => {
        audit.push(r);
      },
    },
    slack: {
      post: async (channel, message) => {
        slack.push({ method: 'post', channel, message });
        return options.slackFails ? undefined : { channel, ts: `1.${++seq}` };
      },
      update: async (ref, message) => {
        slack.push({ method: 'update', channel: ref.channel, message });
        return !options.slackFails;
      },
    },
    directory: {
      slackUserOf: async (id) =>
        id === `${ISSUER}#alice` ? { teamId: 'T0', slackUserId: 'U0ALICE' } : undefined,
    },
    channels: { approvers: 'C0APPROVERS', security: 'C0SECURITY' },
    vend: async (input) => {
      vends.push(input);
      return {
        credentials: { AccessKeyId: 'ASIA', SecretAccessKey: 's', SessionToken: 't', Expiration: '' },
        entitlement: input.grant?.entitlement.id ?? '',
        roleArn: '',
        assumedRoleArn: '',
        sourceIdentity: '',
        durationSeconds: input.grant?.capSeconds ?? 0,
        auditId: 'a1',
      };
    },
    now: () => now,
    newId: () => `ID${String(++seq).padStart(4, '0')}`,
    log: { error: (m) => errors.push(m), warn: (m) => errors.push(m) },
  };
  return {
    deps,
    requests,
    reviews,
    audit,
    slack,
    errors,
    vends,
    advance: (s: number) => {
      now = addSeconds(now, s);
    },
  };
}

const ask = { entitlement: 'prod-admin', durationSeconds: 3600, reason: 'INC-7 failover' };

describe('createRequest', () => {
  it('stores a pending request, audits it, and remembers where the approval message was posted', async () => {
    const w = world();

    const req = await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask });

    expect(req.status).toBe('pending');
    expect(w.audit.map((r) => [r.decision, r.accessRequestId])).toEqual([['requested', req.id]]);
    expect(w.slack.map((p) => [p.method, p.channel])).toEqual([['post', 'C0APPROVERS']]);
    expect(w.requests.items.get(req.id)?.approvalMessage?.channel).toBe('C0APPROVERS');
  });

  it('refuses a blank reason before reading anything else (400), and stores nothing', async () => {
    const w = world();

    await expect(
      createRequest(w.deps)({ caller: alice(), request: ctx, body: { ...ask, reason: ' ' } }),
    ).rejects.toMatchObject({ code: 'invalid_request' });
    expect(w.requests.items.size).toBe(0);
  });
});

describe('decideRequest', () => {
  let w: ReturnType<typeof world>;
  let id: string;
  beforeEach(async () => {
    w = world();
    id = (await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask })).id;
  });

  it('one approval of two: pending, the vote audited, the message updated, the requester not told yet', async () => {
    const out = await decideRequest(w.deps)({ caller: bob(), request: ctx, id, decision: 'approve' });

    expect(out.status).toBe('pending');
    expect(w.audit.map((r) => r.decision)).toEqual(['requested', 'approved-vote']);
    expect(w.slack.map((p) => p.method)).toEqual(['post', 'update']);
  });

  it('the deciding approval: vote and transition audited, message updated, requester told once', async () => {
    await decideRequest(w.deps)({ caller: bob(), request: ctx, id, decision: 'approve' });

    const out = await decideRequest(w.deps)({ caller: carol(), request: ctx, id, decision: 'approve' });

    expect(out.status).toBe('approved');
    expect(w.audit.map((r) => r.decision)).toEqual([
      'requested',
      'approved-vote',
      'approved-vote',
      'approved',
    ]);
    expect(w.slack.filter((p) => p.channel === 'U0ALICE')).toHaveLength(1);
  });

  it('a vote that lost only to the version is decided again on a fresh read', async () => {
    // bob's vote lands between carol's read and carol's write.
    w.requests.beforeWrite = () => {
      const stored = w.requests.items.get(id) as StoredRequest;
      const r = stored.request;
      stored.request = {
        ...r,
        version: r.version + 1,
        votes: [
          {
            approverId: `${ISSUER}#bob`,
            label: 'bob@example.com',
            decision: 'approve',
            at: T0.toISOString(),
          },
        ],
      };
    };

    const out = await decideRequest(w.deps)({ caller: carol(), request: ctx, id, decision: 'approve' });

    expect(out.status).toBe('approved');
    expect(out.votes.map((v) => v.label)).toEqual(['bob@example.com', 'carol@example.com']);
  });

  it('a non-approver gets not_entitled with a detail naming the approver groups rule', async () => {
    await expect(
      decideRequest(w.deps)({ caller: mallory(), request: ctx, id, decision: 'approve' }),
    ).rejects.toMatchObject({
      code: 'not_entitled',
      detail: expect.stringMatching(/not an approver/),
    });
    expect(w.requests.writes).toBe(0);
  });

  it('a Slack outage never undoes the decision', async () => {
    const down = world({ slackFails: true });
    const rid = (await createRequest(down.deps)({ caller: alice(), request: ctx, body: ask })).id;
    await decideRequest(down.deps)({ caller: bob(), request: ctx, id: rid, decision: 'approve' });

    const out = await decideRequest(down.deps)({
      caller: carol(),
      request: ctx,
      id: rid,
      decision: 'approve',
    });

    expect(out.status).toBe('approved');
    expect(down.requests.items.get(rid)?.request.status).toBe('approved');
  });

  it('a vote after the deadline settles the request as expired (audited once) and is a conflict', async () => {
    w.advance(3601);

    await expect(
      decideRequest(w.deps)({ caller: bob(), request: ctx, id, decision: 'approve' }),
    ).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(getRequest(w.deps)({ caller: alice(), request: ctx }, id)).resolves.toMatchObject({
      status: 'expired',
    });
    expect(w.audit.filter((r) => r.decision === 'expired')).toHaveLength(1);
  });
});

describe('vendForRequest', () => {
  it('vends for what the window has left, through the vend use case with the grant', async () => {
    const w = world();
    const id = (await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask })).id;
    await decideRequest(w.deps)({ caller: bob(), request: ctx, id, decision: 'approve' });
    await decideRequest(w.deps)({ caller: carol(), request: ctx, id, decision: 'approve' });
    w.advance(1000);

    await vendForRequest(w.deps)({ caller: alice(), request: ctx, id, body: {} });

    expect(w.vends[0]?.grant?.capSeconds).toBe(2900);
    expect(w.vends[0]?.body).toMatchObject({ entitlement: 'prod-admin', durationSeconds: 2900 });
  });

  it('a valid duration longer than the window has left is shortened to it, not refused', async () => {
    const w = world();
    const id = (await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask })).id;
    await decideRequest(w.deps)({ caller: bob(), request: ctx, id, decision: 'approve' });
    await decideRequest(w.deps)({ caller: carol(), request: ctx, id, decision: 'approve' });
    w.advance(1000);

    await vendForRequest(w.deps)({ caller: alice(), request: ctx, id, body: { durationSeconds: 3600 } });

    expect(w.vends[0]?.body).toMatchObject({ durationSeconds: 2900 });
    expect(w.vends[0]?.grant?.capSeconds).toBe(2900);
  });

  it.each([7200, 3601, 899, 0, -1, 900.5, 1e308, '900', null])(
    'refuses durationSeconds %j with duration_out_of_range and vends nothing',
    async (durationSeconds) => {
      const w = world();
      const id = (await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask })).id;
      await decideRequest(w.deps)({ caller: bob(), request: ctx, id, decision: 'approve' });
      await decideRequest(w.deps)({ caller: carol(), request: ctx, id, decision: 'approve' });

      await expect(
        vendForRequest(w.deps)({ caller: alice(), request: ctx, id, body: { durationSeconds } }),
      ).rejects.toMatchObject({ code: 'duration_out_of_range', status: 400 });
      expect(w.vends).toHaveLength(0);
    },
  );

  it('refuses a body naming another entitlement', async () => {
    const w = world();
    const id = (await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask })).id;

    await expect(
      vendForRequest(w.deps)({ caller: alice(), request: ctx, id, body: { entitlement: 'prod-readonly' } }),
    ).rejects.toMatchObject({ code: 'invalid_request' });
  });
});

describe('break-glass', () => {
  const glass = { entitlement: 'prod-admin', breakGlass: true, ticket: 'INC-9', reason: 'db down' };

  it('opens an approved request, a review, a broadcast; the fourth use in a day is 429', async () => {
    const w = world();

    const req = await createRequest(w.deps)({ caller: dave(), request: ctx, body: glass });
    await createRequest(w.deps)({ caller: dave(), request: ctx, body: glass });
    await createRequest(w.deps)({ caller: dave(), request: ctx, body: glass });

    expect(req).toMatchObject({ status: 'approved', breakGlass: true });
    expect(w.reviews.map((r) => r.status)).toEqual(['open', 'open', 'open']);
    expect(w.slack.filter((p) => p.channel === 'C0SECURITY')).toHaveLength(3);
    await expect(createRequest(w.deps)({ caller: dave(), request: ctx, body: glass })).rejects.toMatchObject({
      code: 'rate_limited',
    });
  });

  it.each([
    ['a break-glass', glass],
    ['a request', ask],
  ])(
    '%s for 7200 s is 400 duration_out_of_range: nothing stored, used, reviewed or posted',
    async (_, body) => {
      const w = world();

      await expect(
        createRequest(w.deps)({ caller: dave(), request: ctx, body: { ...body, durationSeconds: 7200 } }),
      ).rejects.toMatchObject({ code: 'duration_out_of_range', status: 400 });
      expect(w.requests.items.size).toBe(0);
      expect(w.reviews).toHaveLength(0);
      expect(w.audit).toHaveLength(0);
      expect(w.slack).toHaveLength(0);
    },
  );

  it('someone outside the break-glass groups is refused before the limit is read', async () => {
    const w = world();

    await expect(
      createRequest(w.deps)({ caller: mallory(), request: ctx, body: glass }),
    ).rejects.toMatchObject({
      code: 'not_entitled',
    });
    expect(w.requests.items.size).toBe(0);
  });
});

describe('listRequests', () => {
  it('mine=true is only the caller’s own; an approver sees pending ones they may approve', async () => {
    const w = world();
    const id = (await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask })).id;

    const mine = await listRequests(w.deps)({ caller: bob(), request: ctx }, { mine: 'true' });
    const inbox = await listRequests(w.deps)({ caller: bob(), request: ctx }, {});
    const outsider = await listRequests(w.deps)({ caller: mallory(), request: ctx }, {});

    expect(mine.requests).toEqual([]);
    expect(inbox.requests.map((r) => r.id)).toEqual([id]);
    expect(outsider.requests).toEqual([]);
    await expect(
      listRequests(w.deps)({ caller: bob(), request: ctx }, { mine: 'yes' }),
    ).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });
});

describe('slackInteraction', () => {
  const SECRET = 'unit-test-signing-secret';
  const binding = (slackUserId: string, subject: string, groups: string[]): SlackBinding => ({
    teamId: 'T0VEND',
    slackUserId,
    issuer: ISSUER,
    subject,
    email: `${subject}@example.com`,
    groups,
  });

  function slackWorld() {
    const w = world();
    const deps: SlackDeps = {
      signingSecret: SECRET,
      allow: { appIds: ['A0VEND'], teamIds: ['T0VEND'] },
      replay: memoryReplayGuard(() => T0),
      bindings: {
        get: async (team, user) =>
          [binding('U0BOB', 'bob', ['security-approvers']), binding('U0ALICE', 'alice', ['sre'])].find(
            (b) => b.teamId === team && b.slackUserId === user,
          ),
      },
      requests: w.deps,
      now: () => T0,
      log: { warn: () => undefined, error: () => undefined },
    };
    return { w, deps };
  }

  function signed(user: string, id: string) {
    const payload = {
      type: 'block_actions',
      api_app_id: 'A0VEND',
      team: { id: 'T0VEND' },
      user: { id: user },
      actions: [{ action_id: 'vend_approve', value: id }],
    };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const ts = String(Math.floor(T0.getTime() / 1000));
    const sig = createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex');
    return {
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
      headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${sig}` },
      context: ctx,
    };
  }

  it('a bound approver’s click is a vote; the same bytes again are a replay and change nothing', async () => {
    const { w, deps } = slackWorld();
    const id = (await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask })).id;
    const click = signed('U0BOB', id);

    const first = await slackInteraction(deps)(click);
    const again = await slackInteraction(deps)(click);

    expect(first).toEqual({ status: 200 });
    expect(again).toMatchObject({ status: 401, body: { error: 'replayed' } });
    expect(w.requests.items.get(id)?.request.votes).toHaveLength(1);
  });

  it('the requester’s own click is 403 self_approval', async () => {
    const { w, deps } = slackWorld();
    const id = (await createRequest(w.deps)({ caller: alice(), request: ctx, body: ask })).id;

    const answer = await slackInteraction(deps)(signed('U0ALICE', id));

    expect(answer).toMatchObject({ status: 403, body: { error: 'self_approval' } });
  });

  it('without a signing secret everything is refused', async () => {
    const { deps } = slackWorld();

    const answer = await slackInteraction({ ...deps, signingSecret: undefined })(signed('U0BOB', 'X'));

    expect(answer).toMatchObject({ status: 401, body: { error: 'not_configured' } });
  });
});
