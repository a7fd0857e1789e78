import { describe, expect, it } from 'vitest';
import {
  breakGlassAllowed,
  breakGlassRequest,
  openReview,
  signOffReview,
} from '../../../lib/domain/break-glass';
import { callerId } from '../../../lib/domain/caller';
import {
  ConflictError,
  DurationOutOfRangeError,
  InvalidRequestError,
  NotEntitledError,
  RateLimitedError,
  SelfApprovalError,
} from '../../../lib/domain/errors';
import { addSeconds, effectiveStatus, grantedDuration, newRequest } from '../../../lib/domain/request';
import type { Caller, Entitlement } from '../../../lib/domain/types';
import { alice, bob, ciService, dave, entitlement, mallory, person } from './world';

const T0 = new Date('2026-11-29T03:00:00.000Z');
const at = (seconds: number) => addSeconds(T0, seconds);

function prodAdmin(): Entitlement {
  return entitlement('prod-admin');
}

function breakGlass(
  caller: Caller,
  body: Record<string, unknown> = {},
  ent: Entitlement | undefined = prodAdmin(),
) {
  return breakGlassRequest({
    id: 'BG1',
    now: T0,
    caller,
    entitlement: ent,
    body: {
      entitlement: 'prod-admin',
      breakGlass: true,
      reason: 'primary db down',
      ticket: 'INC-7',
      ...body,
    },
  });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal');
}

describe('breakGlassRequest', () => {
  it('dave (oncall) is granted at once: approved, no votes, grant now … now + 3600 + pickup', () => {
    const req = breakGlass(dave());

    expect(req).toMatchObject({
      id: 'BG1',
      entitlement: 'prod-admin',
      requester: { id: callerId(dave()), label: 'dave@example.com' },
      reason: 'primary db down',
      ticket: 'INC-7',
      breakGlass: true,
      status: 'approved',
      votes: [],
      decidedAt: T0.toISOString(),
      grantStart: T0.toISOString(),
      // the duration plus 300 s to pick the credentials up
      grantEnd: at(3600 + 300).toISOString(),
      durationSeconds: 3600,
    });
    expect(effectiveStatus(req, at(1))).toBe('approved');
  });

  it('dave can vend inside the grant at once', () => {
    const req = breakGlass(dave());

    // sessions never exceed the 3600 s granted
    expect(grantedDuration(req, { caller: dave(), now: at(5) })).toBe(3600);
  });

  it('without a duration, grants the default capped at the break-glass max', () => {
    const ent = prodAdmin();
    ent.breakGlass = { groups: ['oncall'], maxDurationSeconds: 1800 };

    const req = breakGlass(dave(), {}, ent);

    expect(req.durationSeconds).toBe(1800);
    expect(req.grantEnd).toBe(at(1800 + 300).toISOString());
  });

  it('refuses, not shortens, a duration above the break-glass max: 400 duration_out_of_range naming it', () => {
    const ent = prodAdmin();
    ent.breakGlass = { groups: ['oncall'], maxDurationSeconds: 1800 };

    const err = thrown(() => breakGlass(dave(), { durationSeconds: 3600 }, ent));

    expect(err).toBeInstanceOf(DurationOutOfRangeError);
    expect((err as DurationOutOfRangeError).detail).toBe(
      'durationSeconds must be between 900 and 1800 seconds for "prod-admin" (its break-glass maximum); got 3600',
    );
  });

  it.each([
    ['7200 (issue 11: it was accepted)', 7200],
    ['3601', 3601],
    ['899', 899],
    ['0', 0],
    ['-3600', -3600],
    ['a fraction', 900.5],
    ['a huge number', 1e308],
    ['a string', '1800'],
    ['null', null],
  ])('refuses a duration that is %s with 400 duration_out_of_range', (_, durationSeconds) => {
    const err = thrown(() => breakGlass(dave(), { durationSeconds }));

    expect(err).toBeInstanceOf(DurationOutOfRangeError);
    expect((err as DurationOutOfRangeError).status).toBe(400);
  });

  it('never grants more than 3600 s even if a hand-built entitlement says more', () => {
    const ent = prodAdmin();
    ent.maxDurationSeconds = 43_200;
    ent.defaultDurationSeconds = 43_200;
    ent.breakGlass = { groups: ['oncall'], maxDurationSeconds: 43_200 };

    expect(breakGlass(dave(), {}, ent).durationSeconds).toBe(3600);
  });

  it('grants a shorter duration as asked', () => {
    expect(breakGlass(dave(), { durationSeconds: 900 }).durationSeconds).toBe(900);
  });

  it('refuses a duration under 900 with 400 duration_out_of_range', () => {
    expect(thrown(() => breakGlass(dave(), { durationSeconds: 600 }))).toBeInstanceOf(
      DurationOutOfRangeError,
    );
  });

  it.each([
    ['mallory (no groups)', mallory()],
    ['alice (sre: may request, not break glass)', alice()],
    ['bob (an approver)', bob()],
    ['a service', ciService()],
  ])('%s → 403 not_entitled', (_, caller) => {
    const err = thrown(() => breakGlass(caller));

    expect(err).toBeInstanceOf(NotEntitledError);
    expect((err as NotEntitledError).status).toBe(403);
  });

  it('an entitlement without a break-glass gate, or an unknown one → 403', () => {
    const noGate = prodAdmin();
    delete noGate.breakGlass;

    expect(thrown(() => breakGlass(dave(), {}, noGate))).toBeInstanceOf(NotEntitledError);
    const unknown = thrown(() =>
      breakGlassRequest({
        id: 'BG1',
        now: T0,
        caller: dave(),
        entitlement: undefined,
        body: { entitlement: 'prod-admin', breakGlass: true, reason: 'r', ticket: 'INC-7' },
      }),
    );
    expect(unknown).toBeInstanceOf(NotEntitledError);
  });

  it.each([
    ['a blank reason', { reason: '   ' }],
    ['no reason', { reason: undefined }],
    ['no ticket', { ticket: undefined }],
    ['a blank ticket', { ticket: ' ' }],
  ])('%s → 400 invalid_request', (_, body) => {
    const err = thrown(() => breakGlass(dave(), body));

    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as InvalidRequestError).status).toBe(400);
  });

  it('the approval path still works for dave (oncall is a requester group too)', () => {
    const req = newRequest({
      id: 'R',
      now: T0,
      caller: dave(),
      entitlement: prodAdmin(),
      body: { entitlement: 'prod-admin', reason: 'planned change' },
    });

    expect(req.status).toBe('pending');
  });
});

describe('review items', () => {
  it('opens for a break-glass request and stays open', () => {
    const review = openReview({ id: 'REV1', request: breakGlass(dave()), now: T0 });

    expect(review).toEqual({
      id: 'REV1',
      requestId: 'BG1',
      entitlement: 'prod-admin',
      requesterId: callerId(dave()),
      openedAt: T0.toISOString(),
      status: 'open',
      version: 1,
    });
  });

  it('refuses to open for an ordinary request', () => {
    const ordinary = { ...breakGlass(dave()), breakGlass: false };

    expect(() => openReview({ id: 'REV1', request: ordinary, now: T0 })).toThrow(/break-glass/);
  });

  it('someone else signs it off', () => {
    const review = openReview({ id: 'REV1', request: breakGlass(dave()), now: T0 });

    const signed = signOffReview(review, bob(), at(600), { reviewerGroups: ['security-approvers'] });

    expect(signed).toMatchObject({
      status: 'signed-off',
      signedOffBy: callerId(bob()),
      at: at(600).toISOString(),
      version: 2,
    });
    expect(review.status).toBe('open');
  });

  it('the person who broke glass cannot sign off their own use (403 self_approval), even as a reviewer', () => {
    const daveReviewer = person('dave', ['oncall', 'security-approvers']);
    const review = openReview({ id: 'REV1', request: breakGlass(daveReviewer), now: T0 });

    const err = thrown(() =>
      signOffReview(review, daveReviewer, at(600), { reviewerGroups: ['security-approvers'] }),
    );

    expect(err).toBeInstanceOf(SelfApprovalError);
  });

  it('outside the reviewer groups, or a service → 403 not_entitled', () => {
    const review = openReview({ id: 'REV1', request: breakGlass(dave()), now: T0 });

    expect(
      thrown(() => signOffReview(review, mallory(), at(1), { reviewerGroups: ['security-approvers'] })),
    ).toBeInstanceOf(NotEntitledError);
    expect(thrown(() => signOffReview(review, ciService(), at(1)))).toBeInstanceOf(NotEntitledError);
  });

  it('signing off twice → 409 conflict', () => {
    const review = openReview({ id: 'REV1', request: breakGlass(dave()), now: T0 });
    const signed = signOffReview(review, bob(), at(600));

    expect(
      thrown(() => signOffReview(signed, person('carol', ['security-approvers']), at(700))),
    ).toBeInstanceOf(ConflictError);
  });
});

describe('breakGlassAllowed: per-person rate limit', () => {
  it('allows the first three uses in a day', () => {
    expect(() => breakGlassAllowed([], T0)).not.toThrow();
    expect(() => breakGlassAllowed([at(-100), at(-50)], T0)).not.toThrow();
  });

  it('refuses the fourth within a day with 429 and when to retry', () => {
    const uses = [at(-80_000), at(-3600), at(-60)];

    const err = thrown(() => breakGlassAllowed(uses, T0));

    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).status).toBe(429);
    // The oldest counted use (80 000 s ago) leaves the 86 400 s window in 6 400 s.
    expect((err as RateLimitedError).retryAfterSeconds).toBe(6400);
  });

  it('uses older than the window do not count', () => {
    expect(() => breakGlassAllowed([at(-86_400), at(-90_000), at(-60), at(-30)], T0)).not.toThrow();
  });

  it('honours a custom limit, order of uses irrelevant', () => {
    const err = thrown(() => breakGlassAllowed([at(-10), at(-500)], T0, { max: 2, windowSeconds: 600 }));

    expect((err as RateLimitedError).retryAfterSeconds).toBe(100);
  });
});
