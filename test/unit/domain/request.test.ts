import { describe, expect, it } from 'vitest';
import { callerId } from '../../../lib/domain/caller';
import {
  ApprovalRequiredError,
  ConflictError,
  DurationOutOfRangeError,
  InvalidRequestError,
  NotEntitledError,
  NotFoundError,
  SelfApprovalError,
} from '../../../lib/domain/errors';
import {
  type AccessRequest,
  addSeconds,
  cancelRequest,
  castVote,
  conditionHolds,
  effectiveStatus,
  findVisible,
  grantedDuration,
  newRequest,
  settleExpiry,
} from '../../../lib/domain/request';
import { parseAccessRequestBody } from '../../../lib/domain/request-body';
import type { Entitlement, PersonCaller } from '../../../lib/domain/types';
import { alice, bob, ciService, dave, entitlement, mallory, person } from './world';

const T0 = new Date('2026-11-29T10:00:00.000Z');
const at = (seconds: number) => addSeconds(T0, seconds);
const carol = () => person('carol', ['security-approvers']);
const erin = () => person('erin', ['auditors']);

function prodAdmin(): Entitlement {
  return entitlement('prod-admin');
}

function pendingRequest(overrides: { caller?: PersonCaller; body?: Record<string, unknown> } = {}) {
  return newRequest({
    id: 'REQ1',
    now: T0,
    caller: overrides.caller ?? alice(),
    entitlement: prodAdmin(),
    body: { entitlement: 'prod-admin', durationSeconds: 3600, reason: 'db failover', ...overrides.body },
  });
}

/** bob then carol approve at t+60 and t+120: approved, grant t+120 … t+3720. */
function approvedRequest(): AccessRequest {
  const first = castVote(pendingRequest(), {
    approver: bob(),
    decision: 'approve',
    now: at(60),
    entitlement: prodAdmin(),
  });
  return castVote(first.next, {
    approver: carol(),
    decision: 'approve',
    now: at(120),
    entitlement: prodAdmin(),
  }).next;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal');
}

describe('newRequest', () => {
  it('opens a pending request for alice on prod-admin with the 1 h default deadline', () => {
    const req = pendingRequest({ body: { ticket: 'INC-42' } });

    expect(req).toMatchObject({
      id: 'REQ1',
      entitlement: 'prod-admin',
      requester: { id: callerId(alice()), label: 'alice@example.com', subject: 'alice' },
      reason: 'db failover',
      ticket: 'INC-42',
      durationSeconds: 3600,
      breakGlass: false,
      status: 'pending',
      createdAt: T0.toISOString(),
      expiresAt: at(3600).toISOString(),
      approvalsRequired: 2,
      votes: [],
      version: 1,
    });
    expect(req.grantStart).toBeUndefined();
  });

  it('takes the pending deadline from the entitlement before the service default', () => {
    const ent = prodAdmin();
    ent.approval = { approvals: 2, approverGroups: ['security-approvers'], requestTtlSeconds: 600 };

    const req = newRequest({
      id: 'R',
      now: T0,
      caller: alice(),
      entitlement: ent,
      pendingTtlSeconds: 7200,
      body: { entitlement: 'prod-admin', reason: 'x' },
    });
    const byService = pendingRequest();

    expect(req.expiresAt).toBe(at(600).toISOString());
    expect(byService.expiresAt).toBe(at(3600).toISOString());
  });

  it('trims the reason and defaults the duration to the entitlement default', () => {
    const req = pendingRequest({ body: { reason: '  rotate keys\n', durationSeconds: undefined } });

    expect(req.reason).toBe('rotate keys');
    expect(req.durationSeconds).toBe(3600);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', ' \t\n '],
    ['not a string', 42],
    ['too long', 'x'.repeat(513)],
    ['with an escape sequence', 'ok\u001b[2Jhidden'],
  ])('refuses a reason that is %s with 400', (_, reason) => {
    const err = thrown(() => pendingRequest({ body: { reason } }));

    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as InvalidRequestError).status).toBe(400);
  });

  it.each([
    ['with a space', 'INC 1'],
    ['with angle brackets', '<!channel>'],
    ['too long', `T${'1'.repeat(128)}`],
    ['not a string', 7],
  ])('refuses a ticket %s', (_, ticket) => {
    expect(thrown(() => pendingRequest({ body: { ticket } }))).toBeInstanceOf(InvalidRequestError);
  });

  it('refuses unknown fields, naming them', () => {
    const err = thrown(() => pendingRequest({ body: { roleArn: 'arn:aws:iam::444455556666:role/X' } }));

    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as Error).message).toContain('roleArn');
  });

  it('refuses durations outside the entitlement range with duration_out_of_range', () => {
    expect(thrown(() => pendingRequest({ body: { durationSeconds: 3601 } }))).toBeInstanceOf(
      DurationOutOfRangeError,
    );
    expect(thrown(() => pendingRequest({ body: { durationSeconds: 899 } }))).toBeInstanceOf(
      DurationOutOfRangeError,
    );
  });

  it.each([
    ['mallory (no groups)', mallory()],
    ['bob (an approver, not a requester)', bob()],
  ])('refuses %s with 403 not_entitled', (_, caller) => {
    const err = thrown(() => pendingRequest({ caller }));

    expect(err).toBeInstanceOf(NotEntitledError);
    expect((err as NotEntitledError).status).toBe(403);
  });

  it('refuses a service caller, an unknown entitlement and a mismatched one alike', () => {
    const body = { entitlement: 'prod-admin', reason: 'x' };

    expect(
      thrown(() => newRequest({ id: 'R', now: T0, caller: ciService(), entitlement: prodAdmin(), body })),
    ).toBeInstanceOf(NotEntitledError);
    expect(
      thrown(() => newRequest({ id: 'R', now: T0, caller: alice(), entitlement: undefined, body })),
    ).toBeInstanceOf(NotEntitledError);
    expect(
      thrown(() =>
        newRequest({ id: 'R', now: T0, caller: alice(), entitlement: entitlement('prod-readonly'), body }),
      ),
    ).toBeInstanceOf(NotEntitledError);
  });

  it('validates the body before revealing anything about the entitlement', () => {
    const err = thrown(() =>
      newRequest({
        id: 'R',
        now: T0,
        caller: mallory(),
        entitlement: undefined,
        body: { entitlement: 'prod-admin' },
      }),
    );

    expect(err).toBeInstanceOf(InvalidRequestError);
  });

  it('leaves break-glass bodies to breakGlassRequest', () => {
    const err = thrown(() => pendingRequest({ caller: dave(), body: { breakGlass: true, ticket: 'INC-1' } }));

    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(InvalidRequestError);
    expect((err as Error).message).toContain('breakGlassRequest');
  });
});

describe('parseAccessRequestBody', () => {
  it('returns the validated fields with breakGlass defaulting to false', () => {
    expect(parseAccessRequestBody({ entitlement: 'prod-admin', reason: 'why', ticket: ' OPS#7 ' })).toEqual({
      entitlement: 'prod-admin',
      reason: 'why',
      ticket: 'OPS#7',
      breakGlass: false,
    });
  });

  it.each([
    ['an array', []],
    ['null', null],
    ['a non-boolean breakGlass', { entitlement: 'prod-admin', reason: 'x', breakGlass: 'yes' }],
    ['a malformed entitlement', { entitlement: 'Prod Admin', reason: 'x' }],
  ])('refuses %s', (_, body) => {
    expect(thrown(() => parseAccessRequestBody(body))).toBeInstanceOf(InvalidRequestError);
  });

  it.each([
    ['a string', '900'],
    ['7200', 7200],
    ['899', 899],
    ['0', 0],
    ['-1', -1],
    ['a fraction', 1800.5],
    ['a huge number', 1e308],
    ['null', null],
  ])(
    'refuses a duration that is %s with 400 duration_out_of_range, before the entitlement is read',
    (_, d) => {
      const err = thrown(() =>
        parseAccessRequestBody({ entitlement: 'prod-admin', reason: 'x', durationSeconds: d }),
      );

      expect(err).toBeInstanceOf(DurationOutOfRangeError);
      expect((err as DurationOutOfRangeError).status).toBe(400);
    },
  );
});

describe('castVote: N of M approvals', () => {
  it('bob approves: still pending, one vote recorded, no transition', () => {
    const req = pendingRequest();

    const out = castVote(req, {
      approver: bob(),
      decision: 'approve',
      comment: ' ok ',
      now: at(60),
      entitlement: prodAdmin(),
    });

    expect(out.transition).toBeUndefined();
    expect(out.next.status).toBe('pending');
    expect(out.next.votes).toEqual([
      {
        approverId: callerId(bob()),
        label: 'bob@example.com',
        decision: 'approve',
        at: at(60).toISOString(),
        comment: 'ok',
      },
    ]);
    expect(out.next.version).toBe(2);
    expect(req.votes).toEqual([]);
  });

  it('bob then carol approve: approved, grant window fixed at the second approval', () => {
    const first = castVote(pendingRequest(), {
      approver: bob(),
      decision: 'approve',
      now: at(60),
      entitlement: prodAdmin(),
    });

    const second = castVote(first.next, {
      approver: carol(),
      decision: 'approve',
      now: at(120),
      entitlement: prodAdmin(),
    });

    expect(second.transition).toBe('approved');
    expect(second.next).toMatchObject({
      status: 'approved',
      decidedAt: at(120).toISOString(),
      grantStart: at(120).toISOString(),
      grantEnd: at(120 + 3600 + 300).toISOString(),
      version: 3,
    });
    expect(second.next.votes.map((v) => v.label)).toEqual(['bob@example.com', 'carol@example.com']);
  });

  it('a single deny ends the request', () => {
    const out = castVote(pendingRequest(), {
      approver: bob(),
      decision: 'deny',
      now: at(60),
      entitlement: prodAdmin(),
    });

    expect(out.transition).toBe('denied');
    expect(out.next.status).toBe('denied');
    expect(out.next.decidedAt).toBe(at(60).toISOString());
    expect(out.next.grantStart).toBeUndefined();
  });

  it('a tightened gate applies at once; a loosened one does not lower the bar of an open request', () => {
    const loosened = prodAdmin();
    loosened.approval = { approvals: 1, approverGroups: ['security-approvers'] };
    const tightened = prodAdmin();
    tightened.approval = { approvals: 3, approverGroups: ['security-approvers'] };
    const afterBob = castVote(pendingRequest(), {
      approver: bob(),
      decision: 'approve',
      now: at(1),
      entitlement: loosened,
    });

    const afterCarol = castVote(afterBob.next, {
      approver: carol(),
      decision: 'approve',
      now: at(2),
      entitlement: tightened,
    });

    expect(afterBob.next.status).toBe('pending');
    expect(afterCarol.next.status).toBe('pending');
  });

  it('returns the condition the store must check: status, version, not voted, not requester, not expired', () => {
    const afterBob = castVote(pendingRequest(), {
      approver: bob(),
      decision: 'approve',
      now: at(60),
      entitlement: prodAdmin(),
    }).next;

    const { condition } = castVote(afterBob, {
      approver: carol(),
      decision: 'approve',
      now: at(120),
      entitlement: prodAdmin(),
    });

    expect(condition).toEqual({
      requestId: 'REQ1',
      expectedStatus: 'pending',
      expectedVersion: 2,
      notExpiredAt: at(120).toISOString(),
      approverId: callerId(carol()),
      approverNotIn: [callerId(bob())],
      requesterIsNot: callerId(carol()),
    });
  });
});

describe('castVote refuses, leaving the request unchanged', () => {
  function refusedVote(req: AccessRequest, approver: PersonCaller, decision: 'approve' | 'deny', now: Date) {
    const before = structuredClone(req);
    const err = thrown(() => castVote(req, { approver, decision, now, entitlement: prodAdmin() }));
    expect(req).toEqual(before);
    return err;
  }

  it('deny after approve → 409 conflict', () => {
    const err = refusedVote(approvedRequest(), frank(), 'deny', at(200));

    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).status).toBe(409);
  });

  it('approve after deny → 409 conflict', () => {
    const denied = castVote(pendingRequest(), {
      approver: bob(),
      decision: 'deny',
      now: at(60),
      entitlement: prodAdmin(),
    }).next;

    const err = refusedVote(denied, carol(), 'approve', at(120));

    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain('denied');
  });

  it('vote after expiry (exactly at the deadline and later) → 409 conflict', () => {
    const req = pendingRequest();

    expect(refusedVote(req, bob(), 'approve', at(3600))).toBeInstanceOf(ConflictError);
    expect(refusedVote(req, bob(), 'deny', at(7200))).toBeInstanceOf(ConflictError);
    expect((refusedVote(req, bob(), 'approve', at(3600)) as Error).message).toContain('expired');
  });

  it('vote on a cancelled request → 409 conflict', () => {
    const cancelled = cancelRequest(pendingRequest(), alice(), at(10)).next;

    expect(refusedVote(cancelled, bob(), 'approve', at(20))).toBeInstanceOf(ConflictError);
  });

  it('double vote by the same approver → 409 conflict', () => {
    const afterBob = castVote(pendingRequest(), {
      approver: bob(),
      decision: 'approve',
      now: at(60),
      entitlement: prodAdmin(),
    }).next;

    const err = refusedVote(afterBob, bob(), 'approve', at(61));

    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain('already voted');
  });

  it('self-approval → 403 self_approval, even when the requester is also an approver', () => {
    const both = person('alice', ['sre', 'security-approvers']);
    const req = pendingRequest({ caller: both });

    const approve = refusedVote(req, both, 'approve', at(60));
    const deny = refusedVote(req, both, 'deny', at(60));

    expect(approve).toBeInstanceOf(SelfApprovalError);
    expect((approve as SelfApprovalError).status).toBe(403);
    expect(deny).toBeInstanceOf(SelfApprovalError);
  });

  it('self-approval is matched by issuer#subject, not by email', () => {
    const sameEmailOtherIssuer: PersonCaller = {
      ...bob(),
      email: 'alice@example.com',
      issuer: 'https://other.example.com',
    };

    const out = castVote(pendingRequest(), {
      approver: sameEmailOtherIssuer,
      decision: 'approve',
      now: at(1),
      entitlement: prodAdmin(),
    });

    expect(out.next.votes).toHaveLength(1);
  });

  it.each([
    ['mallory (no groups)', mallory()],
    ['dave (oncall, not an approver)', dave()],
    ['erin (auditors)', erin()],
  ])('%s → 403 not_entitled, before the state is revealed', (_, approver) => {
    const err = refusedVote(approvedRequest(), approver, 'approve', at(200));

    expect(err).toBeInstanceOf(NotEntitledError);
    expect((err as NotEntitledError).status).toBe(403);
  });

  it('approver rights come from the entitlement at click time', () => {
    const revoked = prodAdmin();
    revoked.approval = { approvals: 2, approverGroups: ['someone-else'] };

    const err = thrown(() =>
      castVote(pendingRequest(), { approver: bob(), decision: 'approve', now: at(1), entitlement: revoked }),
    );

    expect(err).toBeInstanceOf(NotEntitledError);
  });

  it('a service cannot vote', () => {
    const err = thrown(() =>
      castVote(pendingRequest(), {
        approver: ciService(),
        decision: 'approve',
        now: at(1),
        entitlement: prodAdmin(),
      }),
    );

    expect(err).toBeInstanceOf(NotEntitledError);
  });

  it('an over-long comment → 400', () => {
    const err = thrown(() =>
      castVote(pendingRequest(), {
        approver: bob(),
        decision: 'deny',
        comment: 'x'.repeat(513),
        now: at(1),
        entitlement: prodAdmin(),
      }),
    );

    expect(err).toBeInstanceOf(InvalidRequestError);
  });
});

// A second approver group member, for "someone with rights votes too late".
function frank(): PersonCaller {
  return person('frank', ['security-approvers']);
}

describe('conditional writes: two approvers at the same moment make one transition', () => {
  it('of two approvals decided on the same version, only the first write holds', () => {
    const afterBob = castVote(pendingRequest(), {
      approver: bob(),
      decision: 'approve',
      now: at(60),
      entitlement: prodAdmin(),
    }).next;
    const byCarol = castVote(afterBob, {
      approver: carol(),
      decision: 'approve',
      now: at(61),
      entitlement: prodAdmin(),
    });
    const byFrank = castVote(afterBob, {
      approver: frank(),
      decision: 'approve',
      now: at(61),
      entitlement: prodAdmin(),
    });

    const stored = conditionHolds(afterBob, byCarol.condition) ? byCarol.next : afterBob;

    expect(byCarol.transition).toBe('approved');
    expect(byFrank.transition).toBe('approved');
    expect(conditionHolds(stored, byFrank.condition)).toBe(false);
    expect(stored.votes).toHaveLength(2);
  });

  it('the condition alone refuses a stored vote by the same approver, the requester, or past the deadline', () => {
    const req = pendingRequest();
    const { condition } = castVote(req, {
      approver: bob(),
      decision: 'approve',
      now: at(60),
      entitlement: prodAdmin(),
    });
    const bobAlreadyVoted: AccessRequest = {
      ...req,
      votes: [{ approverId: callerId(bob()), label: 'bob', decision: 'approve', at: at(1).toISOString() }],
    };
    const bobIsRequester: AccessRequest = { ...req, requester: { ...req.requester, id: callerId(bob()) } };
    const deadlinePassed: AccessRequest = { ...req, expiresAt: at(60).toISOString() };

    expect(conditionHolds(req, condition)).toBe(true);
    expect(conditionHolds(bobAlreadyVoted, condition)).toBe(false);
    expect(conditionHolds(bobIsRequester, condition)).toBe(false);
    expect(conditionHolds(deadlinePassed, condition)).toBe(false);
    expect(conditionHolds(undefined, condition)).toBe(false);
  });
});

describe('effectiveStatus: expiry is read from the clock', () => {
  it('pending until the deadline, expired from it on', () => {
    const req = pendingRequest();

    expect(effectiveStatus(req, at(3599))).toBe('pending');
    expect(effectiveStatus(req, at(3600))).toBe('expired');
  });

  it('approved until the grant ends, expired from then on', () => {
    const req = approvedRequest();

    expect(effectiveStatus(req, at(4019))).toBe('approved');
    expect(effectiveStatus(req, at(4020))).toBe('expired');
  });

  it('denied stays denied', () => {
    const denied = castVote(pendingRequest(), {
      approver: bob(),
      decision: 'deny',
      now: at(1),
      entitlement: prodAdmin(),
    }).next;

    expect(effectiveStatus(denied, at(99999))).toBe('denied');
  });

  it('settleExpiry writes expired back only when it is due', () => {
    const req = pendingRequest();

    expect(settleExpiry(req, at(100))).toBeUndefined();
    expect(settleExpiry(req, at(3600))).toEqual({
      next: { ...req, status: 'expired', version: 2 },
      condition: { requestId: 'REQ1', expectedStatus: 'pending', expectedVersion: 1 },
    });
  });
});

describe('grantedDuration: vends are clamped to the window', () => {
  // approvedRequest's grant is t+120 … t+4020: the 3600 s asked for plus 300 s to pick them up.
  it('at the start of the grant, all of it', () => {
    expect(grantedDuration(approvedRequest(), { caller: alice(), now: at(120) })).toBe(3600);
  });

  it('1000 s into the grant: 2900 s left', () => {
    expect(grantedDuration(approvedRequest(), { caller: alice(), now: at(1120) })).toBe(2900);
  });

  it('a shorter duration asked for is granted as asked; a longer one is clamped', () => {
    expect(grantedDuration(approvedRequest(), { caller: alice(), requested: 900, now: at(1120) })).toBe(900);
    expect(grantedDuration(approvedRequest(), { caller: alice(), requested: 3600, now: at(1120) })).toBe(
      2900,
    );
  });

  it('vends any number of times inside the window', () => {
    const req = approvedRequest();

    const durations = [200, 1000, 2000].map((s) => grantedDuration(req, { caller: alice(), now: at(s) }));

    // Never longer than the 3600 s asked for, never past the window's end.
    expect(durations).toEqual([3600, 3020, 2020]);
  });

  it('3300 s into the grant (600 s left, under STS minimum 900) → 409 conflict', () => {
    const err = thrown(() => grantedDuration(approvedRequest(), { caller: alice(), now: at(3420) }));

    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain('600 s');
  });

  it('exactly 900 s left is still granted', () => {
    expect(grantedDuration(approvedRequest(), { caller: alice(), now: at(3120) })).toBe(900);
  });

  it('after the grant ended → 409 conflict', () => {
    expect(
      thrown(() => grantedDuration(approvedRequest(), { caller: alice(), now: at(4020) })),
    ).toBeInstanceOf(ConflictError);
  });

  it('while pending → 403 approval_required', () => {
    const err = thrown(() => grantedDuration(pendingRequest(), { caller: alice(), now: at(10) }));

    expect(err).toBeInstanceOf(ApprovalRequiredError);
    expect((err as ApprovalRequiredError).status).toBe(403);
  });

  it('denied, cancelled, or expired unanswered → 409 conflict', () => {
    const denied = castVote(pendingRequest(), {
      approver: bob(),
      decision: 'deny',
      now: at(1),
      entitlement: prodAdmin(),
    }).next;
    const cancelled = cancelRequest(pendingRequest(), alice(), at(1)).next;

    expect(thrown(() => grantedDuration(denied, { caller: alice(), now: at(2) }))).toBeInstanceOf(
      ConflictError,
    );
    expect(thrown(() => grantedDuration(cancelled, { caller: alice(), now: at(2) }))).toBeInstanceOf(
      ConflictError,
    );
    expect(
      thrown(() => grantedDuration(pendingRequest(), { caller: alice(), now: at(3600) })),
    ).toBeInstanceOf(ConflictError);
  });

  it('only the requester may vend: an approver → 403 not_entitled', () => {
    expect(thrown(() => grantedDuration(approvedRequest(), { caller: bob(), now: at(200) }))).toBeInstanceOf(
      NotEntitledError,
    );
  });

  it('a duration the entitlement does not allow is refused, not shortened: 7200 → 400 duration_out_of_range', () => {
    const short = prodAdmin();
    short.maxDurationSeconds = 1800;

    for (const requested of [7200, 3601]) {
      expect(
        thrown(() => grantedDuration(approvedRequest(), { caller: alice(), requested, now: at(200) })),
      ).toBeInstanceOf(DurationOutOfRangeError);
    }
    expect(
      thrown(() =>
        grantedDuration(approvedRequest(), {
          caller: alice(),
          requested: 3600,
          now: at(200),
          entitlement: short,
        }),
      ),
    ).toBeInstanceOf(DurationOutOfRangeError);
    expect(
      grantedDuration(approvedRequest(), {
        caller: alice(),
        requested: 1800,
        now: at(200),
        entitlement: short,
      }),
    ).toBe(1800);
  });

  it('a requested duration under 900 or fractional → 400 duration_out_of_range', () => {
    expect(
      thrown(() => grantedDuration(approvedRequest(), { caller: alice(), requested: 899, now: at(200) })),
    ).toBeInstanceOf(DurationOutOfRangeError);
    expect(
      thrown(() => grantedDuration(approvedRequest(), { caller: alice(), requested: 900.5, now: at(200) })),
    ).toBeInstanceOf(DurationOutOfRangeError);
  });
});

describe('cancelRequest', () => {
  it('the requester cancels a pending request on a status+version condition', () => {
    const out = cancelRequest(pendingRequest(), alice(), at(10));

    expect(out.next).toMatchObject({ status: 'cancelled', decidedAt: at(10).toISOString(), version: 2 });
    expect(out.condition).toEqual({
      requestId: 'REQ1',
      expectedStatus: 'pending',
      expectedVersion: 1,
      notExpiredAt: at(10).toISOString(),
    });
  });

  it('someone else → 403; an approved or expired request → 409', () => {
    expect(thrown(() => cancelRequest(pendingRequest(), bob(), at(10)))).toBeInstanceOf(NotEntitledError);
    expect(thrown(() => cancelRequest(approvedRequest(), alice(), at(200)))).toBeInstanceOf(ConflictError);
    expect(thrown(() => cancelRequest(pendingRequest(), alice(), at(3600)))).toBeInstanceOf(ConflictError);
  });
});

describe('visibility', () => {
  it('the requester and the approvers see a request; others get the same 404 as an unknown id', () => {
    const req = pendingRequest();

    expect(findVisible('REQ1', req, alice(), prodAdmin())).toBe(req);
    expect(findVisible('REQ1', req, bob(), prodAdmin())).toBe(req);
    const hidden = thrown(() => findVisible('REQ1', req, mallory(), prodAdmin()));
    const unknown = thrown(() => findVisible('REQ1', undefined, mallory(), prodAdmin()));
    expect(hidden).toBeInstanceOf(NotFoundError);
    expect((hidden as Error).message).toBe((unknown as Error).message);
  });

  it('approvers lose sight when the entitlement is gone; the requester keeps it', () => {
    const req = pendingRequest();

    expect(thrown(() => findVisible('REQ1', req, bob(), undefined))).toBeInstanceOf(NotFoundError);
    expect(findVisible('REQ1', req, alice(), undefined)).toBe(req);
  });
});

describe('20 concurrent approvals of one request by two approvers', () => {
  // Each click decides with castVote on what it read and writes with the condition; a failed
  // condition is a conflict (the DynamoDB adapter's 409), after which the click re-reads and tries once
  // more, as the use case does.
  function click(store: { item: AccessRequest }, approver: PersonCaller, readAt: AccessRequest, now: Date) {
    let read = readAt;
    for (let attempt = 0; attempt < 2; attempt++) {
      let outcome: ReturnType<typeof castVote>;
      try {
        outcome = castVote(read, { approver, decision: 'approve', now, entitlement: prodAdmin() });
      } catch (e) {
        return { refused: e };
      }
      if (conditionHolds(store.item, outcome.condition)) {
        store.item = outcome.next;
        return { transition: outcome.transition };
      }
      read = store.item;
    }
    return { refused: new ConflictError('lost the race twice') };
  }

  it.each([
    ['all read before any write', 'stale'],
    ['each reads just before writing', 'fresh'],
  ])('%s: exactly one transition, two votes, every other click a 409', (_, reads) => {
    const store = { item: pendingRequest() };
    const initial = store.item;
    const clicks = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? bob() : carol()));

    const results = clicks.map((who, i) =>
      click(store, who, reads === 'stale' ? initial : store.item, at(10 + i)),
    );

    const transitions = results.filter((r) => r.transition !== undefined);
    expect(transitions).toEqual([{ transition: 'approved' }]);
    expect(store.item.status).toBe('approved');
    expect(store.item.votes.map((v) => v.label)).toEqual(['bob@example.com', 'carol@example.com']);
    expect(results.filter((r) => r.refused instanceof ConflictError)).toHaveLength(18);
  });
});
