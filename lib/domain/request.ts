/**
 * Access requests: asking for an entitlement that needs approval, voting on it, and vending inside
 * the grant window it opens. Pure: the time and the id are passed in, nothing is read or written.
 * The body that asks is validated by ./request-body.ts.
 *
 * Lifecycle:
 * ```
 * pending ──N approvals──▶ approved ──(vend any number of times until grantEnd)──▶ expired
 *    ├──one deny──▶ denied
 *    ├──requester──▶ cancelled
 *    └──expiresAt passes unanswered──▶ expired
 * ```
 * Expiry is a fact of the clock, not of storage: {@link effectiveStatus} derives it from `now` on
 * every read, so a request whose stored status is still `pending` (or `approved`) is expired the
 * instant its deadline passes, whatever DynamoDB's TTL has or has not deleted yet.
 *
 * Every state change returns the next request together with the condition the store must check in
 * the same write ({@link TransitionCondition}, {@link VoteCondition}): the rules here decide on the
 * version that was read, and the conditional write makes sure that is still the version stored, so
 * two approvers clicking at the same moment produce exactly one transition (the loser gets a
 * ConflictError from the adapter and re-reads).
 *
 * Error choices (CONTRACT §4 codes):
 * - a voter who is not in the entitlement's approver groups gets `not_entitled` (403): approving is
 *   a right on the entitlement, and errors.ts has no narrower 403 for it;
 * - the requester voting on their own request gets `self_approval` (403), even when they are also
 *   in an approver group, and even when the request is no longer pending;
 * - authorization is checked before state, so a non-approver learns nothing about a request's state;
 * - anything the request's state forbids (decided, cancelled, expired, already voted, grant ended,
 *   less than STS's 900 s minimum left in the grant) is `conflict` (409): the caller's input is fine,
 *   the request is not in a state that allows it.
 */

import { callerId, callerLabel } from './caller';
import { parseRequestedDuration, resolveDuration } from './duration';
import { mayRequest } from './entitlement';
import {
  ApprovalRequiredError,
  ConflictError,
  InvalidRequestError,
  NotEntitledError,
  NotFoundError,
  SelfApprovalError,
} from './errors';
import { GRANT_PICKUP_SECONDS, MIN_DURATION_SECONDS } from './limits';
import { CONTROL, parseAccessRequestBody } from './request-body';
import type { Caller, Entitlement, PersonCaller } from './types';

export { REASON_MAX_CHARS } from './vend-request';

/** The stored states of a request. `expired` is also derived from the clock by {@link effectiveStatus}. */
export type RequestStatus = 'pending' | 'approved' | 'denied' | 'cancelled' | 'expired';

/** How long an unanswered request stays pending when neither the entitlement nor the service says (1 h). */
export const DEFAULT_PENDING_TTL_SECONDS = 3600;

/** Who asked: a person (services never request). `id` is {@link callerId}, the only thing compared. */
export interface Requester {
  /** `issuer#subject`, as {@link callerId} builds it. */
  id: string;
  /** For humans: the email, or the subject when there is none. Never compared. */
  label: string;
  email?: string;
  issuer: string;
  subject: string;
}

/** One approver's vote. */
export interface Vote {
  /** The approver's {@link callerId}. */
  approverId: string;
  /** For humans, as {@link callerLabel} builds it. */
  label: string;
  decision: 'approve' | 'deny';
  /** ISO-8601 UTC time of the vote. */
  at: string;
  comment?: string;
}

/**
 * An access request, as stored and as returned by `GET /v1/requests/{id}`. All times are ISO-8601
 * UTC strings (`toISOString()`), which order lexically, so the store can compare them in a condition.
 */
export interface AccessRequest {
  id: string;
  /** The entitlement id. */
  entitlement: string;
  requester: Requester;
  /** Why access is needed: required, trimmed, never blank. */
  reason: string;
  ticket?: string;
  /** The length of the grant window, fixed when the request is made. */
  durationSeconds: number;
  breakGlass: boolean;
  /** The stored status; read it through {@link effectiveStatus}, which applies the clock. */
  status: RequestStatus;
  createdAt: string;
  /** The pending deadline: unanswered past this instant, the request is expired. */
  expiresAt: string;
  /**
   * Approvals needed, fixed when the request is made. At vote time the larger of this and the
   * entitlement's current count applies: a tightened gate applies at once, a loosened one only to
   * new requests.
   */
  approvalsRequired: number;
  votes: Vote[];
  /** When it was approved, denied or cancelled. */
  decidedAt?: string;
  /** Set at approval (or at creation for break-glass): the window vends must fall in. */
  grantStart?: string;
  grantEnd?: string;
  /** Incremented by every transition and vote; the store's conditional writes check it. */
  version: number;
}

/**
 * The {@link Requester} record of a person.
 * @example `requesterOf(alice) // { id: 'http://127.0.0.1:4566/oidc#alice', label: 'alice@example.com', … }`
 */
export function requesterOf(person: PersonCaller): Requester {
  const r: Requester = {
    id: callerId(person),
    label: callerLabel(person),
    issuer: person.issuer,
    subject: person.subject,
  };
  if (person.email !== undefined) r.email = person.email;
  return r;
}

/** Input of {@link newRequest}. */
export interface NewRequestInput {
  /** A fresh id (a ULID from lib/ids). */
  id: string;
  now: Date;
  caller: Caller;
  /** What the store returned for `body.entitlement` (undefined when there is none). */
  entitlement: Entitlement | undefined;
  /** The raw JSON body; it is validated here ({@link parseAccessRequestBody}). */
  body: unknown;
  /**
   * The service-wide default for how long a request stays pending; the entitlement's
   * `approval.requestTtlSeconds` wins when it sets one. Default 3600.
   */
  pendingTtlSeconds?: number;
}

/**
 * Open a request that needs approval (status `pending`, version 1). The store writes it with
 * `attribute_not_exists(pk)` so an id is never reused.
 *
 * Break-glass bodies (`breakGlass: true`) are not handled here: they need the per-person rate limit
 * and open a review item, so the use case routes them to `breakGlassRequest` (lib/domain/break-glass.ts)
 * and a break-glass body reaching this function is a programming fault (a plain Error, answered 500).
 *
 * @throws InvalidRequestError a malformed body (before anything about the entitlement is revealed)
 * @throws NotEntitledError unknown entitlement, a service caller, or a person outside its requester groups
 * @throws DurationOutOfRangeError durationSeconds outside [900, the entitlement's max]
 * @example
 * ```ts
 * newRequest({ id: '01J…', now, caller: alice, entitlement: prodAdmin,
 *   body: { entitlement: 'prod-admin', durationSeconds: 3600, reason: 'db failover' } });
 * // { status: 'pending', approvalsRequired: 2, expiresAt: now + 1 h, votes: [], version: 1, … }
 * ```
 */
export function newRequest(input: NewRequestInput): AccessRequest {
  const body = parseAccessRequestBody(input.body);
  if (body.breakGlass) {
    throw new Error('newRequest: break-glass bodies go to breakGlassRequest (lib/domain/break-glass.ts)');
  }
  const ent = input.entitlement;
  if (
    ent === undefined ||
    ent.id !== body.entitlement ||
    input.caller.kind !== 'person' ||
    ent.approval === undefined ||
    !mayRequest(input.caller, ent)
  ) {
    throw new NotEntitledError(body.entitlement);
  }
  const durationSeconds = resolveDuration({ requested: body.durationSeconds, entitlement: ent });
  const ttl = ent.approval.requestTtlSeconds ?? input.pendingTtlSeconds ?? DEFAULT_PENDING_TTL_SECONDS;
  const req: AccessRequest = {
    id: input.id,
    entitlement: ent.id,
    requester: requesterOf(input.caller),
    reason: body.reason,
    durationSeconds,
    breakGlass: false,
    status: 'pending',
    createdAt: iso(input.now),
    expiresAt: iso(addSeconds(input.now, ttl)),
    approvalsRequired: ent.approval.approvals,
    votes: [],
    version: 1,
  };
  if (body.ticket !== undefined) req.ticket = body.ticket;
  return req;
}

/**
 * The status as of `now`: a pending request past its deadline, or an approved one past its grant, is
 * `expired`, whatever is stored.
 *
 * @example
 * ```ts
 * effectiveStatus(pending, new Date(pending.expiresAt));       // 'expired' (the deadline is exclusive)
 * effectiveStatus(approved, new Date(approved.grantStart!));   // 'approved'
 * ```
 */
export function effectiveStatus(req: AccessRequest, now: Date): RequestStatus {
  if (req.status === 'pending' && now.getTime() >= Date.parse(req.expiresAt)) return 'expired';
  if (req.status === 'approved' && req.grantEnd !== undefined && now.getTime() >= Date.parse(req.grantEnd)) {
    return 'expired';
  }
  return req.status;
}

/**
 * What a conditional write must find stored for a transition to apply. The DynamoDB adapter turns it
 * into a ConditionExpression (`#status = :expectedStatus AND #version = :expectedVersion …`) and a
 * failed condition into a ConflictError; {@link conditionHolds} states the same rule for in-memory stores.
 */
export interface TransitionCondition {
  requestId: string;
  expectedStatus: RequestStatus;
  /** The version that was read; the write stores `expectedVersion + 1`. */
  expectedVersion: number;
  /**
   * When set, the stored deadline must still be in the future at this instant: `expiresAt > :now`
   * for pending requests (ISO strings compare in time order).
   */
  notExpiredAt?: string;
}

/**
 * The condition of a vote. Beyond the version check (which alone would be enough), it spells out the
 * rules the issue asks the write itself to enforce, so a bug in the read path cannot slip a vote past
 * them: `requester.id <> :approverId AND NOT contains(voterIds, :approverId)`.
 */
export interface VoteCondition extends TransitionCondition {
  expectedStatus: 'pending';
  notExpiredAt: string;
  /** The voter's {@link callerId}. */
  approverId: string;
  /** The voter ids read; the approver is not among them, and must not be among the stored ones. */
  approverNotIn: string[];
  /** The voter's id, which the stored requester id must differ from. */
  requesterIsNot: string;
}

/**
 * Would `cond` hold against `stored`? The reference semantics of the conditional write, for
 * in-memory stores and specs; the DynamoDB adapter must implement the same rule.
 *
 * @example
 * ```ts
 * const a = castVote(req, { approver: bob, … });
 * const b = castVote(req, { approver: carol, … }); // decided on the same version
 * conditionHolds(req, a.condition);    // true: bob's write goes first
 * conditionHolds(a.next, b.condition); // false: carol's write is a conflict, she re-reads
 * ```
 */
export function conditionHolds(
  stored: AccessRequest | undefined,
  cond: TransitionCondition | VoteCondition,
): boolean {
  if (stored === undefined || stored.id !== cond.requestId) return false;
  if (stored.status !== cond.expectedStatus || stored.version !== cond.expectedVersion) return false;
  if (cond.notExpiredAt !== undefined && !(stored.expiresAt > cond.notExpiredAt)) return false;
  if ('approverId' in cond) {
    if (stored.requester.id === cond.requesterIsNot) return false;
    if (voterIds(stored).includes(cond.approverId)) return false;
  }
  return true;
}

/**
 * The ids of everyone who voted, in vote order. The store keeps them as a set attribute (`voterIds`)
 * so the vote condition can say `NOT contains(voterIds, :approverId)`.
 * @example `voterIds(req) // ['http://127.0.0.1:4566/oidc#bob']`
 */
export function voterIds(req: AccessRequest): string[] {
  return req.votes.map((v) => v.approverId);
}

/** Input of {@link castVote}. */
export interface VoteInput {
  approver: Caller;
  decision: 'approve' | 'deny';
  comment?: string;
  now: Date;
  /** The entitlement as stored now: approver rights are checked at click time, not at request time. */
  entitlement: Entitlement | undefined;
}

/** What {@link castVote} decided. */
export interface VoteOutcome {
  next: AccessRequest;
  /** Set when this vote decided the request: notify the requester and update the Slack message. */
  transition?: 'approved' | 'denied';
  condition: VoteCondition;
}

/** The longest vote comment accepted. */
export const COMMENT_MAX_CHARS = 512;

/**
 * Record one approver's vote. A deny ends the request at once; the request is approved when the
 * approvals reach `max(req.approvalsRequired, entitlement.approval.approvals)`, and the grant window
 * is fixed then: `grantStart = now`, `grantEnd = now + durationSeconds + GRANT_PICKUP_SECONDS`.
 *
 * Checks, in order (who before what, so the state is not revealed to someone without rights):
 * 1. the approver is the requester → SelfApprovalError (admins and approver-group members included);
 * 2. the approver is not a person in one of the entitlement's approver groups (or the entitlement is
 *    gone or no longer has an approval gate) → NotEntitledError;
 * 3. the comment is not a string of at most 512 characters → InvalidRequestError;
 * 4. the request is not pending as of `now` (approved, denied, cancelled, expired) → ConflictError;
 * 5. the approver already voted → ConflictError.
 *
 * @example
 * ```ts
 * const { next, transition, condition } = castVote(req, { approver: bob, decision: 'approve', now, entitlement });
 * // transition undefined (1 of 2); store next with `condition`, a failed condition is a ConflictError
 * ```
 */
export function castVote(req: AccessRequest, input: VoteInput): VoteOutcome {
  const { approver, now, entitlement: ent } = input;
  const approverId = callerId(approver);
  if (approverId === req.requester.id) {
    throw new SelfApprovalError(
      'you cannot approve or deny your own request; another approver has to decide it',
    );
  }
  if (
    approver.kind !== 'person' ||
    ent === undefined ||
    ent.id !== req.entitlement ||
    ent.approval === undefined ||
    !approver.groups.some((g) => ent.approval?.approverGroups.includes(g))
  ) {
    throw new NotEntitledError(req.entitlement);
  }
  let comment: string | undefined;
  if (input.comment !== undefined) {
    if (typeof input.comment !== 'string' || input.comment.length > COMMENT_MAX_CHARS) {
      throw new InvalidRequestError(`comment must be a string of at most ${COMMENT_MAX_CHARS} characters`);
    }
    if (CONTROL.test(input.comment))
      throw new InvalidRequestError('comment must not contain control characters');
    comment = input.comment.trim() === '' ? undefined : input.comment.trim();
  }
  requirePending(req, now);
  if (voterIds(req).includes(approverId)) {
    throw new ConflictError(`you have already voted on request ${req.id}; one vote per person`);
  }

  const vote: Vote = { approverId, label: callerLabel(approver), decision: input.decision, at: iso(now) };
  if (comment !== undefined) vote.comment = comment;
  const next: AccessRequest = { ...req, votes: [...req.votes, vote], version: req.version + 1 };
  let transition: VoteOutcome['transition'];
  if (input.decision === 'deny') {
    next.status = 'denied';
    next.decidedAt = iso(now);
    transition = 'denied';
  } else {
    const needed = Math.max(req.approvalsRequired, ent.approval.approvals);
    const approvals = next.votes.filter((v) => v.decision === 'approve').length;
    if (approvals >= needed) {
      next.status = 'approved';
      next.decidedAt = iso(now);
      next.grantStart = iso(now);
      next.grantEnd = iso(addSeconds(now, req.durationSeconds + GRANT_PICKUP_SECONDS));
      transition = 'approved';
    }
  }
  const condition: VoteCondition = {
    requestId: req.id,
    expectedStatus: 'pending',
    expectedVersion: req.version,
    notExpiredAt: iso(now),
    approverId,
    approverNotIn: voterIds(req),
    requesterIsNot: approverId,
  };
  return transition === undefined ? { next, condition } : { next, transition, condition };
}

/**
 * Withdraw a pending request. Only the requester may; approvers decide, they do not cancel.
 *
 * @throws NotEntitledError the caller is not the requester (the use case has already answered
 *   NotFoundError to callers who cannot see the request at all, see {@link findVisible})
 * @throws ConflictError the request is not pending as of `now`
 * @example `cancelRequest(req, alice, now) // { next: { status: 'cancelled', … }, condition: { expectedStatus: 'pending', … } }`
 */
export function cancelRequest(
  req: AccessRequest,
  caller: Caller,
  now: Date,
): { next: AccessRequest; condition: TransitionCondition } {
  if (callerId(caller) !== req.requester.id) throw new NotEntitledError(req.entitlement);
  requirePending(req, now);
  return {
    next: { ...req, status: 'cancelled', decidedAt: iso(now), version: req.version + 1 },
    condition: {
      requestId: req.id,
      expectedStatus: 'pending',
      expectedVersion: req.version,
      notExpiredAt: iso(now),
    },
  };
}

/**
 * Write the clock's verdict back: when a request is stored as pending or approved but is expired as
 * of `now`, the next state to store (`expired`, so the by-status index stops listing it as live).
 * Undefined when there is nothing to write. Correctness never depends on this write happening.
 *
 * @example `settleExpiry(staleRequest, now) // { next: { status: 'expired', … }, condition: { expectedStatus: 'pending', … } }`
 */
export function settleExpiry(
  req: AccessRequest,
  now: Date,
): { next: AccessRequest; condition: TransitionCondition } | undefined {
  if (req.status === 'expired' || effectiveStatus(req, now) !== 'expired') return undefined;
  return {
    next: { ...req, status: 'expired', version: req.version + 1 },
    condition: { requestId: req.id, expectedStatus: req.status, expectedVersion: req.version },
  };
}

/** Input of {@link grantedDuration}. */
export interface GrantedDurationInput {
  /** Who is vending: only the requester may. */
  caller: Caller;
  /** The duration asked for; absent means all the window has left. */
  requested?: number;
  now: Date;
  /**
   * The entitlement as stored now: a duration asked for must fit its range
   * ([900, min(max, 3600)], lib/domain/duration.ts). Absent (it is gone): the range every
   * entitlement lies in, [900, 3600].
   */
  entitlement?: Pick<Entitlement, 'id' | 'maxDurationSeconds' | 'defaultDurationSeconds'>;
}

/**
 * How many seconds to vend for inside an approved grant: what was asked for (or everything left),
 * shortened to what the request was granted for and to what the window has left, so credentials
 * never outlive the grant. What is asked for must first be a duration the entitlement allows at
 * all (the one duration rule, lib/domain/duration.ts): 7200 is refused here as on every route, and
 * only a valid duration is shortened.
 *
 * @throws NotEntitledError the caller is not the requester
 * @throws DurationOutOfRangeError `requested` is not a whole number within [900, min(entitlement max, 3600)]
 * @throws ApprovalRequiredError the request is still pending
 * @throws ConflictError denied, cancelled, expired unanswered, the grant has ended, or less than 900 s
 *   (STS's minimum session) are left in it: nothing the caller could change in the call would help,
 *   so this is the request's state, not the caller's input (hence not `duration_out_of_range`)
 * @example
 * ```ts
 * // approved at t for 3600 s
 * grantedDuration(req, { caller: alice, now: t + 1000 s });  // 2600
 * grantedDuration(req, { caller: alice, requested: 900, now: t + 1000 s }); // 900
 * grantedDuration(req, { caller: alice, now: t + 3000 s });  // throws ConflictError (600 s left)
 * ```
 */
export function grantedDuration(req: AccessRequest, input: GrantedDurationInput): number {
  const { caller, requested, now } = input;
  if (callerId(caller) !== req.requester.id) throw new NotEntitledError(req.entitlement);
  if (requested !== undefined) {
    if (input.entitlement !== undefined) resolveDuration({ requested, entitlement: input.entitlement });
    else parseRequestedDuration(requested);
  }
  const status = effectiveStatus(req, now);
  if (status === 'pending') throw new ApprovalRequiredError(req.entitlement);
  if (status === 'expired' && req.grantEnd !== undefined) {
    throw new ConflictError(`the grant of request ${req.id} ended at ${req.grantEnd}; make a new request`);
  }
  if (status !== 'approved' || req.grantStart === undefined || req.grantEnd === undefined) {
    throw new ConflictError(`request ${req.id} is ${status}; no credentials can be vended for it`);
  }
  if (now.getTime() < Date.parse(req.grantStart)) {
    // Only reachable with a clock running behind the approver's; refuse rather than stretch the window.
    throw new ConflictError(`the grant of request ${req.id} starts at ${req.grantStart}`);
  }
  const left = Math.floor((Date.parse(req.grantEnd) - now.getTime()) / 1000);
  if (left < MIN_DURATION_SECONDS) {
    throw new ConflictError(
      `only ${left} s are left in the grant of request ${req.id} (until ${req.grantEnd}); ` +
        `STS's minimum session is ${MIN_DURATION_SECONDS} s, so make a new request`,
    );
  }
  // Never longer than asked for, never past the window's end.
  return Math.min(requested ?? req.durationSeconds, req.durationSeconds, left);
}

/**
 * May this caller see the request? The requester, and everyone who may approve it now. Everyone else
 * is answered as if it did not exist.
 *
 * @example
 * ```ts
 * visibleTo(req, alice, prodAdmin);   // true: her own
 * visibleTo(req, bob, prodAdmin);     // true: security-approvers
 * visibleTo(req, mallory, prodAdmin); // false
 * ```
 */
export function visibleTo(req: AccessRequest, caller: Caller, entitlement: Entitlement | undefined): boolean {
  if (callerId(caller) === req.requester.id) return true;
  const groups = entitlement?.id === req.entitlement ? entitlement.approval?.approverGroups : undefined;
  return caller.kind === 'person' && groups !== undefined && caller.groups.some((g) => groups.includes(g));
}

/**
 * The request the store found, if the caller may see it. An unknown id and someone else's request
 * answer the same 404, so ids cannot be probed.
 *
 * @throws NotFoundError not found, or not visible to the caller
 * @example `findVisible('01J…', await store.get('01J…'), bob, prodAdmin) // the request`
 */
export function findVisible(
  id: string,
  found: AccessRequest | undefined,
  caller: Caller,
  entitlement: Entitlement | undefined,
): AccessRequest {
  if (found === undefined || found.id !== id || !visibleTo(found, caller, entitlement)) {
    throw new NotFoundError(`request ${/^[0-9A-Za-z_-]{1,64}$/.test(id) ? id : '(invalid id)'} not found`);
  }
  return found;
}

function requirePending(req: AccessRequest, now: Date): void {
  const status = effectiveStatus(req, now);
  if (status === 'pending') return;
  const why =
    status === 'expired' && req.status === 'pending'
      ? `expired unanswered at ${req.expiresAt}`
      : `already ${status}`;
  throw new ConflictError(`request ${req.id} is ${why}; it can no longer be decided or cancelled`);
}

/**
 * `date + seconds`, as a new Date.
 * @example `addSeconds(new Date('2026-11-29T10:00:00Z'), 900).toISOString() // '2026-11-29T10:15:00.000Z'`
 */
export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

function iso(date: Date): string {
  return date.toISOString();
}
