/**
 * Break-glass: an on-call engineer gets in at once, loudly. The request is approved at creation (no
 * votes), the grant is short (at most the entitlement's break-glass max, never more than one hour;
 * a longer one asked for is refused like on every route, lib/domain/duration.ts), a ticket
 * is required so the emergency can be traced, a review item stays open until someone else signs it
 * off, and each person may break glass only a few times a day. Pure: time and ids are passed in.
 *
 * Use case order (the rules here are the steps' decisions):
 * 1. `parseAccessRequestBody` (400 on a blank reason), then {@link breakGlassAllowed} on the caller's
 *    recent break-glass uses (429);
 * 2. {@link breakGlassRequest} (403 outside the entitlement's break-glass groups, 400 without a ticket);
 * 3. store the request and {@link openReview}'s item, audit, broadcast to the security channel.
 */

import { callerId } from './caller';
import { resolveDuration } from './duration';
import { mayBreakGlass } from './entitlement';
import {
  ConflictError,
  InvalidRequestError,
  NotEntitledError,
  RateLimitedError,
  SelfApprovalError,
} from './errors';
import { GRANT_PICKUP_SECONDS } from './limits';
import type { AccessRequest } from './request';
import { addSeconds, requesterOf } from './request';
import { parseAccessRequestBody } from './request-body';
import type { Caller, Entitlement } from './types';

/** Input of {@link breakGlassRequest}. */
export interface BreakGlassInput {
  /** A fresh id (a ULID from lib/ids). */
  id: string;
  now: Date;
  caller: Caller;
  /** What the store returned for `body.entitlement` (undefined when there is none). */
  entitlement: Entitlement | undefined;
  /** The raw JSON body of `POST /v1/requests` with `breakGlass: true` (or the Slack command's fields). */
  body: unknown;
}

/**
 * Open a break-glass request: approved on creation, `breakGlass: true`, no votes, grant
 * `now … now + durationSeconds (+ the pickup allowance)`. The duration follows the one rule of
 * lib/domain/duration.ts with the break-glass maximum as an extra cap: a whole number in
 * [900, min(breakGlass.maxDurationSeconds, maxDurationSeconds, 3600)], else 400
 * `duration_out_of_range`. It is refused, not shortened, so the person breaking glass learns at
 * once what they got (issue 11: a 7200 s break-glass was accepted). Without `durationSeconds` the
 * grant is the entitlement's default, capped the same way.
 *
 * @throws InvalidRequestError malformed body, blank reason, or no ticket
 * @throws NotEntitledError unknown entitlement, no break-glass gate, or the caller is not in its groups
 * @throws DurationOutOfRangeError durationSeconds not a whole number within that range
 * @example
 * ```ts
 * breakGlassRequest({ id: '01J…', now, caller: dave, entitlement: prodAdmin,
 *   body: { entitlement: 'prod-admin', breakGlass: true, reason: 'db down', ticket: 'INC-7' } });
 * // { status: 'approved', breakGlass: true, grantStart: now, grantEnd: now + 3600 s, votes: [], … }
 * ```
 */
export function breakGlassRequest(input: BreakGlassInput): AccessRequest {
  const body = parseAccessRequestBody(input.body);
  if (body.ticket === undefined) {
    throw new InvalidRequestError('ticket is required for break-glass: the incident or change it is for');
  }
  const ent = input.entitlement;
  const caller = input.caller;
  if (
    ent === undefined ||
    ent.id !== body.entitlement ||
    caller.kind !== 'person' ||
    ent.breakGlass === undefined ||
    !mayBreakGlass(caller, ent)
  ) {
    throw new NotEntitledError(body.entitlement);
  }
  const durationSeconds = resolveDuration({
    requested: body.durationSeconds,
    entitlement: ent,
    capSeconds: ent.breakGlass.maxDurationSeconds,
    capLabel: 'its break-glass maximum',
  });
  const at = input.now.toISOString();
  return {
    id: input.id,
    entitlement: ent.id,
    requester: requesterOf(caller),
    reason: body.reason,
    ticket: body.ticket,
    durationSeconds,
    breakGlass: true,
    status: 'approved',
    createdAt: at,
    // Never pending, so the pending deadline is the creation instant.
    expiresAt: at,
    approvalsRequired: 0,
    votes: [],
    decidedAt: at,
    grantStart: at,
    grantEnd: addSeconds(input.now, durationSeconds + GRANT_PICKUP_SECONDS).toISOString(),
    version: 1,
  };
}

/**
 * The after-the-fact review of one break-glass use. It stays `open` until someone other than the
 * person who broke glass signs it off.
 */
export interface ReviewItem {
  id: string;
  /** The break-glass request under review. */
  requestId: string;
  entitlement: string;
  /** {@link callerId} of the person who broke glass: they may never sign off their own use. */
  requesterId: string;
  openedAt: string;
  status: 'open' | 'signed-off';
  /** {@link callerId} of who signed it off. */
  signedOffBy?: string;
  /** When it was signed off. */
  at?: string;
  /** Incremented on sign-off; the store's conditional write checks it. */
  version: number;
}

/**
 * The review item for a break-glass request (open).
 * @example `openReview({ id: '01J…', request: bg, now }) // { status: 'open', requestId: bg.id, … }`
 */
export function openReview(input: { id: string; request: AccessRequest; now: Date }): ReviewItem {
  if (!input.request.breakGlass) throw new Error('openReview: only break-glass requests are reviewed');
  return {
    id: input.id,
    requestId: input.request.id,
    entitlement: input.request.entitlement,
    requesterId: input.request.requester.id,
    openedAt: input.now.toISOString(),
    status: 'open',
    version: 1,
  };
}

/** Options of {@link signOffReview}. */
export interface SignOffOptions {
  /**
   * Groups whose members may sign off. The use case passes the entitlement's approver groups (the
   * security approvers); when absent, any person other than the one who broke glass may.
   */
  reviewerGroups?: readonly string[];
}

/**
 * Sign off a review. The store writes it on condition `status = 'open' AND version = :v`.
 *
 * @throws SelfApprovalError the caller is the person who broke glass
 * @throws NotEntitledError the caller is a service, or not in `reviewerGroups`
 * @throws ConflictError already signed off
 * @example `signOffReview(review, bob, now) // { status: 'signed-off', signedOffBy: 'http://…#bob', at: now, … }`
 */
export function signOffReview(
  review: ReviewItem,
  caller: Caller,
  now: Date,
  options: SignOffOptions = {},
): ReviewItem {
  if (callerId(caller) === review.requesterId) {
    throw new SelfApprovalError('you cannot sign off the review of your own break-glass use');
  }
  const groups = options.reviewerGroups;
  if (caller.kind !== 'person' || (groups !== undefined && !caller.groups.some((g) => groups.includes(g)))) {
    throw new NotEntitledError(review.entitlement);
  }
  if (review.status !== 'open') {
    throw new ConflictError(`the review of break-glass request ${review.requestId} is already signed off`);
  }
  return {
    ...review,
    status: 'signed-off',
    signedOffBy: callerId(caller),
    at: now.toISOString(),
    version: review.version + 1,
  };
}

/** The per-person break-glass limit: at most `max` uses in any `windowSeconds`. */
export interface BreakGlassLimit {
  /** Default 3. */
  max?: number;
  /** Default 86400 (a day). */
  windowSeconds?: number;
}

/**
 * Is one more break-glass use allowed, given when this person last broke glass? The window slides:
 * a use counts while it is less than `windowSeconds` old.
 *
 * @throws RateLimitedError at the limit; `retryAfterSeconds` is when the oldest counted use leaves
 *   the window
 * @example
 * ```ts
 * breakGlassAllowed([], now);                    // fine
 * breakGlassAllowed([t1, t2, t3], now);          // throws RateLimitedError (3 in the last day)
 * ```
 */
export function breakGlassAllowed(recentUses: readonly Date[], now: Date, limit: BreakGlassLimit = {}): void {
  const max = limit.max ?? 3;
  const windowMs = (limit.windowSeconds ?? 86_400) * 1000;
  const t = now.getTime();
  // Uses stamped in the future (a skewed clock elsewhere) count: refusing is the safe side.
  const counted = recentUses
    .map((d) => d.getTime())
    .filter((u) => t - u < windowMs)
    .sort((a, b) => a - b);
  if (counted.length < max) return;
  // The use whose leaving the window brings the count below max.
  const oldest = counted[counted.length - max] ?? t;
  const retryAfterSeconds = Math.max(1, Math.ceil((oldest + windowMs - t) / 1000));
  throw new RateLimitedError(
    `break-glass is limited to ${max} uses per ${windowMs / 1000} s per person; retry in ${retryAfterSeconds} s`,
    retryAfterSeconds,
  );
}
