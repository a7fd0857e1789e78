/**
 * The request, review, replay and binding stores against a real dynalite: the conditional writes the
 * approval rules rely on (one transition per race, precise conflicts), the indexes, and fail-closed
 * reads.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breakGlassRequest, openReview, signOffReview } from '../../../lib/domain/break-glass';
import { UpstreamUnavailableError } from '../../../lib/domain/errors';
import {
  type AccessRequest,
  addSeconds,
  castVote,
  newRequest,
  settleExpiry,
} from '../../../lib/domain/request';
import type { Entitlement, PersonCaller } from '../../../lib/domain/types';
import { DynamoSlackBindingStore } from '../../../lib/dynamodb/binding-store';
import { keys } from '../../../lib/dynamodb/keys';
import { DynamoReplayGuard } from '../../../lib/dynamodb/replay-guard';
import { DynamoRequestStore } from '../../../lib/dynamodb/request-store';
import { DynamoReviewStore } from '../../../lib/dynamodb/review-store';
import { RequestConflictError } from '../../../lib/ports';
import { type LocalDynamo, startDynalite } from './harness';

const ISSUER = 'http://127.0.0.1:4566/oidc';
const T0 = new Date('2026-11-29T10:00:00.000Z');
const person = (name: string, groups: string[]): PersonCaller => ({
  kind: 'person',
  issuer: ISSUER,
  subject: name,
  email: `${name}@example.com`,
  groups,
});
const alice = person('alice', ['sre']);
const bob = person('bob', ['security-approvers']);
const carol = person('carol', ['security-approvers']);
const dave = person('dave', ['oncall']);

const prodAdmin: Entitlement = {
  id: 'prod-admin',
  roleArn: 'arn:aws:iam::444455556666:role/BreakGlassAdmin',
  maxDurationSeconds: 3600,
  defaultDurationSeconds: 3600,
  principals: { roles: [], groups: [] },
  requesterGroups: ['sre', 'oncall'],
  approval: { approvals: 2, approverGroups: ['security-approvers'] },
  breakGlass: { groups: ['oncall'], maxDurationSeconds: 3600 },
};

let dynamo: LocalDynamo;
let table: string;
let store: DynamoRequestStore;
let n = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable('requests');
  store = new DynamoRequestStore(dynamo.documents, table, { now: () => T0 });
});
afterAll(async () => {
  await dynamo.close();
});

function pending(now = T0): AccessRequest {
  n += 1;
  return newRequest({
    id: `REQ${String(n).padStart(4, '0')}`,
    now,
    caller: alice,
    entitlement: prodAdmin,
    body: { entitlement: 'prod-admin', reason: 'INC-1 failover' },
  });
}

const approve = (req: AccessRequest, approver: PersonCaller, now = addSeconds(T0, 10)) =>
  castVote(req, { approver, decision: 'approve', now, entitlement: prodAdmin });

async function conflictOf(p: Promise<unknown>): Promise<RequestConflictError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RequestConflictError);
  return e as RequestConflictError;
}

describe('DynamoRequestStore', () => {
  it('creates once, reads back the same request; a second create with the id is a conflict', async () => {
    const req = pending();

    await store.create(req);

    expect((await store.get(req.id))?.request).toEqual(req);
    expect((await conflictOf(store.create(req))).reason).toBe('exists');
  });

  it('applies a vote in one conditional write and bumps the version', async () => {
    const req = pending();
    await store.create(req);
    const { next, condition } = approve(req, bob);

    await store.applyTransition(next, condition);

    const stored = (await store.get(req.id))?.request;
    expect(stored?.version).toBe(2);
    expect(stored?.votes.map((v) => v.approverId)).toEqual([`${ISSUER}#bob`]);
  });

  it('two votes decided on the same version: exactly one applies, the other is `stale`', async () => {
    const req = pending();
    await store.create(req);
    const a = approve(req, bob);
    const b = approve(req, carol);

    const results = await Promise.allSettled([
      store.applyTransition(a.next, a.condition),
      store.applyTransition(b.next, b.condition),
    ]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((lost.reason as RequestConflictError).reason).toBe('stale');
    expect((await store.get(req.id))?.request.votes).toHaveLength(1);
  });

  it('the same approver twice (a double click read before the first landed) is `already-voted`', async () => {
    const req = pending();
    await store.create(req);
    const first = approve(req, bob);
    const again = approve(req, bob);
    await store.applyTransition(first.next, first.condition);

    const e = await conflictOf(store.applyTransition(again.next, again.condition));

    expect(e.reason).toBe('already-voted');
  });

  it('the second approval moves the request to approved and to the approved index', async () => {
    const req = pending();
    await store.create(req);
    const one = approve(req, bob);
    await store.applyTransition(one.next, one.condition);
    const two = approve(one.next, carol);

    await store.applyTransition(two.next, two.condition);

    expect(two.transition).toBe('approved');
    expect((await store.listByStatus('approved')).map((r) => r.id)).toContain(req.id);
    expect((await store.listByStatus('pending')).map((r) => r.id)).not.toContain(req.id);
  });

  it('a vote on a decided request is `decided`; on a lapsed one `expired`', async () => {
    const decided = pending();
    await store.create(decided);
    const deny = castVote(decided, { approver: bob, decision: 'deny', now: T0, entitlement: prodAdmin });
    const late = approve(decided, carol);
    await store.applyTransition(deny.next, deny.condition);
    expect((await conflictOf(store.applyTransition(late.next, late.condition))).reason).toBe('decided');

    const lapsed = pending();
    await store.create(lapsed);
    // Decided on a read just before the deadline, written just after it.
    const vote = approve(lapsed, bob, addSeconds(T0, 3599));
    const tooLate = { ...vote.condition, notExpiredAt: addSeconds(T0, 3600).toISOString() };
    expect((await conflictOf(store.applyTransition(vote.next, tooLate))).reason).toBe('expired');
    expect((await store.get(lapsed.id))?.request.version).toBe(1);
  });

  it('the requester as voter is refused by the condition itself, whatever the read path did', async () => {
    const req = pending();
    await store.create(req);
    const vote = approve(req, bob);
    const forged = { ...vote.condition, approverId: `${ISSUER}#alice`, requesterIsNot: `${ISSUER}#alice` };

    expect((await conflictOf(store.applyTransition(vote.next, forged))).reason).toBe('self-approval');
  });

  it('settles expiry with a conditional write that moves the request to the expired index', async () => {
    const req = pending();
    await store.create(req);
    const settle = settleExpiry(req, addSeconds(T0, 3601));

    await store.applyTransition(settle!.next, settle!.condition);

    expect((await store.listByStatus('expired')).map((r) => r.id)).toContain(req.id);
  });

  it('lists one requester’s requests newest first', async () => {
    const older = pending(addSeconds(T0, 100));
    const newer = pending(addSeconds(T0, 200));
    await store.create(older);
    await store.create(newer);

    const ids = (await store.listByRequester(`${ISSUER}#alice`)).map((r) => r.id);

    expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));
  });

  it('remembers the approval message without a version change', async () => {
    const req = pending();
    await store.create(req);

    await store.setApprovalMessage(req.id, { channel: 'C0VENDAPPROVERS', ts: '1.000001' });

    const stored = await store.get(req.id);
    expect(stored?.approvalMessage).toEqual({ channel: 'C0VENDAPPROVERS', ts: '1.000001' });
    expect(stored?.request.version).toBe(1);
  });

  it('counts a person’s break-glass uses since an instant', async () => {
    await store.recordBreakGlassUse(`${ISSUER}#dave`, addSeconds(T0, -90_000), 'OLD');
    await store.recordBreakGlassUse(`${ISSUER}#dave`, addSeconds(T0, -60), 'RECENT');

    const uses = await store.breakGlassUsesSince(`${ISSUER}#dave`, addSeconds(T0, -86_400));

    expect(uses.map((d) => d.toISOString())).toEqual([addSeconds(T0, -60).toISOString()]);
  });

  it('a malformed stored item fails closed', async () => {
    await dynamo.documents.send(
      new PutCommand({ TableName: table, Item: { ...keys.requestItem('BROKEN'), id: 'BROKEN', status: 7 } }),
    );

    await expect(store.get('BROKEN')).rejects.toThrow(/malformed/);
  });

  it('an outage is 503 upstream_unavailable', async () => {
    const gone = new DynamoRequestStore(dynamo.documents, 'no-such-table');

    await expect(gone.get('X')).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });
});

describe('DynamoReviewStore', () => {
  it('opens a review, lists it open, signs it off once; a second sign-off is a conflict', async () => {
    const reviews = new DynamoReviewStore(dynamo.documents, table);
    const bg = breakGlassRequest({
      id: 'BG0001',
      now: T0,
      caller: dave,
      entitlement: prodAdmin,
      body: { entitlement: 'prod-admin', breakGlass: true, reason: 'db down', ticket: 'INC-7' },
    });
    const review = openReview({ id: bg.id, request: bg, now: T0 });
    await reviews.open(review);
    expect((await reviews.listOpen()).map((r) => r.id)).toContain('BG0001');
    const signed = signOffReview(review, bob, addSeconds(T0, 60));

    await reviews.signOff(signed);

    expect(await reviews.forRequest('BG0001')).toMatchObject({
      status: 'signed-off',
      signedOffBy: `${ISSUER}#bob`,
    });
    expect((await reviews.listOpen()).map((r) => r.id)).not.toContain('BG0001');
    await expect(reviews.signOff(signOffReview(review, carol, addSeconds(T0, 61)))).rejects.toMatchObject({
      code: 'conflict',
    });
  });
});

describe('DynamoReplayGuard', () => {
  it('of concurrent deliveries of one request exactly one is new; the key is forgotten after its window', async () => {
    let now = T0;
    const guard = new DynamoReplayGuard(dynamo.documents, table, { now: () => now });

    const first = await Promise.all([guard.seen('k1', 660), guard.seen('k1', 660), guard.seen('k1', 660)]);

    expect(first.filter((seen) => !seen)).toHaveLength(1);
    now = addSeconds(T0, 661);
    expect(await guard.seen('k1', 660)).toBe(false);
  });
});

describe('DynamoSlackBindingStore', () => {
  it('maps a Slack user to a person and back, never by email', async () => {
    const bindings = new DynamoSlackBindingStore(dynamo.documents, table);
    await bindings.put({
      teamId: 'T0VENDLOCAL',
      slackUserId: 'U0BOB',
      issuer: ISSUER,
      subject: 'bob',
      email: 'bob@example.com',
      groups: ['security-approvers'],
    });

    expect(await bindings.get('T0VENDLOCAL', 'U0BOB')).toMatchObject({
      subject: 'bob',
      groups: ['security-approvers'],
    });
    expect(await bindings.get('T0OTHER', 'U0BOB')).toBeUndefined();
    expect(await bindings.slackUserOf(`${ISSUER}#bob`)).toEqual({
      teamId: 'T0VENDLOCAL',
      slackUserId: 'U0BOB',
    });
  });

  it('a stored binding that does not match its key fails closed', async () => {
    const bindings = new DynamoSlackBindingStore(dynamo.documents, table);
    await dynamo.documents.send(
      new PutCommand({
        TableName: table,
        Item: {
          ...keys.slackBinding('T0VENDLOCAL', 'U0EVE'),
          binding: {
            teamId: 'T0VENDLOCAL',
            slackUserId: 'U0BOB',
            issuer: ISSUER,
            subject: 'bob',
            groups: [],
          },
        },
      }),
    );

    await expect(bindings.get('T0VENDLOCAL', 'U0EVE')).rejects.toThrow(/does not match/);
  });
});
