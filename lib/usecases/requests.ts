/**
 * Access requests end to end: ask, read, list, vote, vend inside the grant, and break-glass. The
 * rules are the domain's (lib/domain/request.ts, break-glass.ts); this module orders the steps,
 * talks to the ports, audits every vote and transition, and tells people in Slack.
 *
 * Create (`POST /v1/requests`, `/vend request`):
 * 1. Validate the body (400 before anything about the entitlement is revealed), read the entitlement.
 * 2. `newRequest` (403 outside the requester groups, 400 duration); the per-person creation limit
 *    (429, audited; lib/usecases/rate-limit.ts) → store it (conditional put).
 * 3. Audit `requested`; post the approval message to the approvers' channel and remember its ts.
 *
 * Break-glass (`breakGlass: true`, `/vend break-glass`):
 * 1. `breakGlassRequest` (403 outside the break-glass groups, 400 blank reason or no ticket).
 * 2. The per-person limit on the uses of the last day (429 with Retry-After).
 * 3. Store the approved request, the use and the open review item; audit `break-glass`.
 * 4. Broadcast to the security channel; tell the requester.
 *
 * Decide (`POST /v1/requests/{id}/approve|deny`, the Slack buttons):
 * 1. Read the request (404), settle its expiry, read the entitlement as it is now (rights at click time).
 * 2. `castVote` (403 self-approval / not an approver, 409 decided / expired / already voted).
 * 3. ONE conditional write; a `stale` loss (someone else voted first) re-reads and decides again, a
 *    bounded number of times; any other loss is the 409 the store explained.
 * 4. Audit the vote, and the transition when this vote decided the request.
 * 5. Update the approval message in place; on a transition tell the requester. A Slack failure is
 *    retried by the notifier and logged, and never undoes the decision.
 *
 * Cancel (`POST /v1/requests/{id}/cancel`): read (404 unless visible), settle expiry,
 * `cancelRequest` (403 not the requester, 409 not pending), one conditional write (a `stale` loss
 * re-reads), audit `cancelled`, and the approval message loses its buttons.
 *
 * Break-glass reviews (`GET /v1/reviews`, `POST /v1/reviews/{id}/sign-off`) are ./reviews.ts.
 *
 * Vend inside the grant (`POST /v1/requests/{id}/credentials`, and `…/console` for a console
 * sign-in through lib/usecases/console.ts):
 * 1. A duration asked for must be a whole number in [900, 3600] (400 duration_out_of_range, as on
 *    every route); read the request (404 unless visible).
 * 2. `grantedDuration` (403 not the requester, 400 a duration the entitlement does not allow, 403
 *    approval_required while pending, 409 after the grant ended or under 900 s left): a valid
 *    duration is shortened to what the grant has left.
 * 3. Vend through the vend use case for exactly that, capped by it, so credentials never outlive it.
 *
 * Audit writes follow the state change they record: a vote that lost its race is never recorded as
 * cast. If the audit write itself fails after the state changed, the decision stands (it is stored,
 * with its votes, in the requests table) and the failure is logged with the request id to reconcile.
 */

import { type AuditRequestContext, type RequestAuditDecision, requestAuditRecord } from '../domain/audit';
import {
  type BreakGlassLimit,
  breakGlassAllowed,
  breakGlassRequest,
  openReview,
} from '../domain/break-glass';
import { callerId } from '../domain/caller';
import { parseRequestedDuration } from '../domain/duration';
import { InvalidRequestError, NotApproverError, NotEntitledError, VendError } from '../domain/errors';
import type { RateLimitSettings } from '../domain/rate-limit';
import {
  type AccessRequest,
  cancelRequest as cancelRule,
  castVote,
  effectiveStatus,
  findVisible,
  grantedDuration,
  newRequest,
  type RequestStatus,
  settleExpiry,
  visibleTo,
} from '../domain/request';
import { parseAccessRequestBody } from '../domain/request-body';
import type { Caller, Entitlement } from '../domain/types';
import type { IdGenerator } from '../ids';
import type { VendLog } from '../log';
import type { MetricsSink } from '../metrics';
import {
  type AuditSink,
  type EntitlementStore,
  type RateLimitStore,
  RequestConflictError,
  type RequestStore,
  type ReviewStore,
  type SlackChannels,
  type SlackDirectory,
  type SlackNotifier,
  type StoredRequest,
} from '../ports';
import { approvalMessage, breakGlassBroadcast, requesterNotice } from '../slack/messages';
import type { ConsoleResponse } from './console';
import { limitRequestCreation } from './rate-limit';
import type { VendInput, VendResponse } from './vend-credentials';

/** The ports and settings of the request use cases. */
export interface RequestDeps {
  entitlements: EntitlementStore;
  requests: RequestStore;
  reviews: ReviewStore;
  audit: AuditSink;
  slack: SlackNotifier;
  /** Where to tell a person things in Slack. */
  directory: Pick<SlackDirectory, 'slackUserOf'>;
  channels: SlackChannels;
  /** The vend use case (`vendCredentials(vendDeps)`), used inside a grant. */
  vend: (input: VendInput) => Promise<VendResponse>;
  /** The console use case (`vendConsole(consoleDeps)`), used inside a grant; absent: not offered. */
  console?: (input: VendInput) => Promise<ConsoleResponse>;
  now: () => Date;
  newId: IdGenerator;
  log: Pick<VendLog, 'error' | 'warn'>;
  /** How long an unanswered request stays pending when its entitlement does not say (default 3600). */
  pendingTtlSeconds?: number;
  breakGlassLimit?: BreakGlassLimit;
  /** CloudWatch metrics (`BreakGlassUsed` feeds the every-use alarm); none when absent. */
  metrics?: MetricsSink;
  /** How many times a vote that lost only to the version is decided again (default 5). */
  voteRetries?: number;
  /** Counters for the per-person limit on opening requests (docs/rate-limits.md); none when absent. */
  limiter?: RateLimitStore;
  rateLimits?: RateLimitSettings;
}

/** Who is acting and the HTTP facts for the audit trail. */
export interface Acting {
  caller: Caller;
  request: AuditRequestContext;
}

/** The statuses `GET /v1/requests?status=` accepts. */
export const REQUEST_STATUSES: readonly RequestStatus[] = [
  'pending',
  'approved',
  'denied',
  'cancelled',
  'expired',
];

/**
 * Open a request, or break glass when the body says `breakGlass: true`. Answers the request as it
 * stands (`pending`, or `approved` for break-glass).
 *
 * @example
 * ```ts
 * const req = await createRequest(deps)({ caller: alice, request: ctx, body: { entitlement: 'prod-admin', reason: 'INC-7' } });
 * req.status; // 'pending'
 * ```
 */
export function createRequest(
  deps: RequestDeps,
): (input: Acting & { body: unknown }) => Promise<AccessRequest> {
  return async ({ caller, body, request: ctx }) => {
    const parsed = parseAccessRequestBody(body);
    const entitlement = await deps.entitlements.get(parsed.entitlement);
    const now = deps.now();
    const id = deps.newId(now);
    if (parsed.breakGlass) return breakGlass(deps, { caller, ctx, body, entitlement, id, now });

    const req = newRequest({
      id,
      now,
      caller,
      entitlement,
      body,
      ...(deps.pendingTtlSeconds !== undefined ? { pendingTtlSeconds: deps.pendingTtlSeconds } : {}),
    });
    await limitRequestCreation(deps, {
      caller,
      request: ctx,
      requestId: req.id,
      entitlement: req.entitlement,
    });
    await deps.requests.create(req);
    await auditRequest(deps, ctx, 'requested', req, caller);
    if (deps.channels.approvers) {
      const ref = await deps.slack.post(deps.channels.approvers, approvalMessage(req, entitlement, now));
      if (ref) {
        await deps.requests.setApprovalMessage(req.id, ref).catch((e: unknown) => {
          deps.log.error('approval message ts not stored', { auditId: req.id, errorName: errorName(e) });
        });
      }
    }
    return req;
  };
}

async function breakGlass(
  deps: RequestDeps,
  input: {
    caller: Caller;
    ctx: AuditRequestContext;
    body: unknown;
    entitlement: Entitlement | undefined;
    id: string;
    now: Date;
  },
): Promise<AccessRequest> {
  const { caller, ctx, now } = input;
  // Rights first: someone without them learns nothing, not even their rate limit.
  const req = breakGlassRequest({
    id: input.id,
    now,
    caller,
    entitlement: input.entitlement,
    body: input.body,
  });
  const personId = callerId(caller);
  const windowSeconds = deps.breakGlassLimit?.windowSeconds ?? 86_400;
  const since = new Date(now.getTime() - windowSeconds * 1000);
  breakGlassAllowed(await deps.requests.breakGlassUsesSince(personId, since), now, deps.breakGlassLimit);

  await deps.requests.create(req);
  await deps.requests.recordBreakGlassUse(personId, now, req.id);
  // The review shares the request's id: "the review of request X" is one read.
  await deps.reviews.open(openReview({ id: req.id, request: req, now }));
  await auditRequest(deps, ctx, 'break-glass', req, caller);
  deps.metrics?.count('BreakGlassUsed');
  if (deps.channels.security) await deps.slack.post(deps.channels.security, breakGlassBroadcast(req));
  await tellRequester(deps, req, now);
  return req;
}

/**
 * One request, if the caller may see it (its requester, or someone who may approve it now), with
 * the clock applied to its status.
 *
 * @throws NotFoundError unknown, or not visible to the caller (the same answer)
 * @example `await getRequest(deps)({ caller: bob, request: ctx }, id) // { status: 'pending', … }`
 */
export function getRequest(deps: RequestDeps): (acting: Acting, id: string) => Promise<AccessRequest> {
  return async ({ caller, request: ctx }, id) => {
    const stored = await deps.requests.get(id);
    const entitlement = stored ? await deps.entitlements.get(stored.request.entitlement) : undefined;
    const req = findVisible(id, stored?.request, caller, entitlement);
    const settled = await settle(deps, ctx, { ...(stored as StoredRequest), request: req }, entitlement);
    return view(settled.request, deps.now());
  };
}

/** The query of {@link listRequests}. */
export interface ListQuery {
  /** One of {@link REQUEST_STATUSES}, as of now (a lapsed pending request is `expired`). */
  status?: string;
  /** `true`: only the caller's own requests. Default: own ones and those the caller may approve. */
  mine?: string | boolean;
}

/**
 * The caller's own requests and (unless `mine`) those they may approve, newest first, statuses as of
 * now. Without `status`, the approvable ones listed are the pending ones (an approver's inbox).
 *
 * @throws InvalidRequestError an unknown status or a `mine` that is not true/false
 * @example `await listRequests(deps)({ caller: bob, request: ctx }, { status: 'pending' }) // { requests: [...] }`
 */
export function listRequests(
  deps: RequestDeps,
): (acting: Acting, query: ListQuery) => Promise<{ requests: AccessRequest[] }> {
  return async ({ caller }, query) => {
    const status = parseStatus(query.status);
    const mine = parseMine(query.mine);
    const now = deps.now();
    const found = new Map<string, AccessRequest>();
    for (const r of await deps.requests.listByRequester(callerId(caller))) found.set(r.id, r);
    if (!mine && caller.kind === 'person') {
      const byId = new Map((await deps.entitlements.list()).map((e) => [e.id, e]));
      for (const stored of storedStatusesFor(status ?? 'pending')) {
        for (const r of await deps.requests.listByStatus(stored)) {
          if (visibleTo(r, caller, byId.get(r.entitlement))) found.set(r.id, r);
        }
      }
    }
    const requests = [...found.values()]
      .map((r) => view(r, now))
      .filter((r) => status === undefined || r.status === status)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return { requests };
  };
}

/** Input of {@link decideRequest}. */
export interface DecideInput extends Acting {
  id: string;
  decision: 'approve' | 'deny';
  comment?: unknown;
}

/**
 * Vote on a request. Answers the request as it stands after the vote.
 *
 * @throws NotFoundError no such request
 * @throws SelfApprovalError the requester voting on their own request
 * @throws NotApproverError the caller is not in the entitlement's approver groups (as of now)
 * @throws ConflictError decided, expired, or already voted (state unchanged)
 * @example
 * ```ts
 * await decideRequest(deps)({ caller: bob, request: ctx, id, decision: 'approve' }); // pending, 1 of 2
 * await decideRequest(deps)({ caller: carol, request: ctx, id, decision: 'approve' }); // approved
 * ```
 */
export function decideRequest(deps: RequestDeps): (input: DecideInput) => Promise<AccessRequest> {
  return async (input) => {
    const { caller, request: ctx, id } = input;
    const retries = deps.voteRetries ?? 5;
    for (let attempt = 0; ; attempt++) {
      const stored = await deps.requests.get(id);
      if (stored === undefined) findVisible(id, undefined, caller, undefined); // throws NotFoundError
      const entitlement = await deps.entitlements.get((stored as StoredRequest).request.entitlement);
      const current = await settle(deps, ctx, stored as StoredRequest, entitlement);
      const now = deps.now();
      let outcome: ReturnType<typeof castVote>;
      try {
        outcome = castVote(current.request, {
          approver: caller,
          decision: input.decision,
          now,
          entitlement,
          ...(input.comment !== undefined ? { comment: input.comment as string } : {}),
        });
      } catch (e) {
        if (e instanceof NotEntitledError)
          throw new NotApproverError(current.request.entitlement, { cause: e });
        throw e;
      }
      try {
        await deps.requests.applyTransition(outcome.next, outcome.condition);
      } catch (e) {
        if (e instanceof RequestConflictError && e.reason === 'stale' && attempt < retries) continue;
        throw e;
      }
      const { next, transition } = outcome;
      const vote = next.votes[next.votes.length - 1];
      await auditRequest(
        deps,
        ctx,
        input.decision === 'approve' ? 'approved-vote' : 'denied-vote',
        next,
        caller,
        vote?.comment,
      );
      if (transition) await auditRequest(deps, ctx, transition, next, caller);
      if (current.approvalMessage) {
        await deps.slack.update(current.approvalMessage, approvalMessage(next, entitlement, now));
      }
      if (transition) await tellRequester(deps, next, now);
      return view(next, now);
    }
  };
}

/** Input of {@link vendForRequest}. */
export interface VendForRequestInput extends Acting {
  id: string;
  /** `{ durationSeconds?, policy? }` (the vend body without the entitlement, which the request names). */
  body: unknown;
}

/**
 * Vend credentials inside an approved request's grant (or an active break-glass). Only the requester
 * may. A duration asked for must be one the entitlement allows (400 duration_out_of_range
 * otherwise, as on every route); each vend then lasts what was asked, the request's duration, or
 * what the window has left, whichever is least.
 *
 * @throws DurationOutOfRangeError durationSeconds not a whole number within [900, min(entitlement max, 3600)]
 * @throws NotFoundError unknown or not visible
 * @throws NotEntitledError not the requester, or the entitlement is gone
 * @throws ApprovalRequiredError still pending
 * @throws ConflictError denied, cancelled, expired, the grant has ended or has under 900 s left
 * @example `await vendForRequest(deps)({ caller: alice, request: ctx, id, body: {} }) // { credentials, durationSeconds ≤ left, … }`
 */
export function vendForRequest(deps: RequestDeps): (input: VendForRequestInput) => Promise<VendResponse> {
  return async (input) => deps.vend(await grantedVend(deps, input));
}

/**
 * A console sign-in inside an approved request's grant (`POST /v1/requests/{id}/console`): the same
 * checks as {@link vendForRequest}, then lib/usecases/console.ts. The body may name a console page
 * (`destination`).
 *
 * @throws ApprovalRequiredError still pending (and every refusal of {@link vendForRequest})
 * @example `await consoleForRequest(deps)({ caller: dave, request: ctx, id, body: {} }) // { url, expiresAt, … }`
 */
export function consoleForRequest(
  deps: RequestDeps,
): (input: VendForRequestInput) => Promise<ConsoleResponse> {
  return async (input) => {
    if (!deps.console) throw new Error('consoleForRequest: the console use case is not wired');
    return deps.console(await grantedVend(deps, input));
  };
}

/** The vend input inside a grant: who, for exactly the granted duration, capped by it. */
async function grantedVend(
  deps: RequestDeps,
  { caller, request: ctx, id, body }: VendForRequestInput,
): Promise<VendInput> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequestError(
      'the body must be a JSON object: { "durationSeconds"?: 900, "policy"?: {…} }',
    );
  }
  const b = body as Record<string, unknown>;
  // The one duration rule (lib/domain/duration.ts), before anything is read.
  const requested = parseRequestedDuration(b.durationSeconds);
  const stored = await deps.requests.get(id);
  const entitlement = stored ? await deps.entitlements.get(stored.request.entitlement) : undefined;
  const req = findVisible(id, stored?.request, caller, entitlement);
  if (b.entitlement !== undefined && b.entitlement !== req.entitlement) {
    throw new InvalidRequestError(
      `this request is for "${req.entitlement}"; leave entitlement out or name it`,
    );
  }
  const cap = grantedDuration(req, {
    caller,
    ...(requested !== undefined ? { requested } : {}),
    now: deps.now(),
    ...(entitlement !== undefined ? { entitlement } : {}),
  });
  if (entitlement === undefined) throw new NotEntitledError(req.entitlement);
  return {
    caller,
    request: ctx,
    // Exactly the granted duration: what was asked for, shortened to the grant (never refused
    // for being longer than what is left; the answer's durationSeconds says what was vended).
    body: { ...b, entitlement: req.entitlement, durationSeconds: cap },
    grant: {
      capSeconds: cap,
      entitlement,
      reason: `${req.reason} (request ${req.id})`.slice(0, 512),
      requestId: req.id,
    },
  };
}

/** Input of {@link cancelPendingRequest}. */
export interface CancelInput extends Acting {
  id: string;
}

/**
 * Withdraw a pending request (`POST /v1/requests/{id}/cancel`). Only the requester may. Answers the
 * request as it stands after the cancel (`cancelled`); the approval message loses its buttons.
 *
 * @throws NotFoundError unknown, or not visible to the caller (the same answer)
 * @throws NotEntitledError visible but not the caller's own (an approver: approvers decide, they do
 *   not cancel)
 * @throws ConflictError approved, denied, cancelled or expired (state unchanged)
 * @example `await cancelPendingRequest(deps)({ caller: alice, request: ctx, id }) // { status: 'cancelled', … }`
 */
export function cancelPendingRequest(deps: RequestDeps): (input: CancelInput) => Promise<AccessRequest> {
  return async ({ caller, request: ctx, id }) => {
    const retries = deps.voteRetries ?? 5;
    for (let attempt = 0; ; attempt++) {
      const stored = await deps.requests.get(id);
      const entitlement = stored ? await deps.entitlements.get(stored.request.entitlement) : undefined;
      const req = findVisible(id, stored?.request, caller, entitlement);
      const current = await settle(deps, ctx, { ...(stored as StoredRequest), request: req }, entitlement);
      const now = deps.now();
      const { next, condition } = cancelRule(current.request, caller, now);
      try {
        await deps.requests.applyTransition(next, condition);
      } catch (e) {
        // A vote landed between the read and the write: decide again on what is stored now.
        if (e instanceof RequestConflictError && e.reason === 'stale' && attempt < retries) continue;
        throw e;
      }
      await auditRequest(deps, ctx, 'cancelled', next, caller);
      if (current.approvalMessage) {
        await deps.slack.update(current.approvalMessage, approvalMessage(next, entitlement, now));
      }
      return view(next, now);
    }
  };
}

/**
 * Store the clock's verdict once a request has lapsed (pending past its deadline, or a grant that
 * ended): one conditional write, audited `expired`, and the approval message loses its buttons.
 * Correctness never depends on it (every rule reads the clock); it keeps the by-status index and the
 * trail honest. A lost race or a store failure leaves the read as it was.
 */
async function settle(
  deps: RequestDeps,
  ctx: AuditRequestContext,
  stored: StoredRequest,
  entitlement: Entitlement | undefined,
): Promise<StoredRequest> {
  const now = deps.now();
  const change = settleExpiry(stored.request, now);
  if (change === undefined) return stored;
  try {
    await deps.requests.applyTransition(change.next, change.condition);
  } catch (e) {
    if (!(e instanceof VendError)) throw e;
    return stored;
  }
  await auditRequest(deps, ctx, 'expired', change.next);
  if (stored.approvalMessage) {
    await deps.slack.update(stored.approvalMessage, approvalMessage(change.next, entitlement, now));
  }
  return { ...stored, request: change.next };
}

async function tellRequester(deps: RequestDeps, req: AccessRequest, now: Date): Promise<void> {
  let to: { slackUserId: string } | undefined;
  try {
    to = await deps.directory.slackUserOf(req.requester.id);
  } catch (e) {
    deps.log.warn('requester Slack binding not read; not told', { auditId: req.id, errorName: errorName(e) });
    return;
  }
  // A direct message: posting to a user id opens the bot's DM with them.
  if (to) await deps.slack.post(to.slackUserId, requesterNotice(req, now));
}

/**
 * Appends the audit record of a request event (a vote, a transition, a sign-off). A failure is
 * logged with the request id to reconcile, and never undoes the state change it records. Shared with
 * ./reviews.ts.
 */
export async function auditRequest(
  deps: RequestDeps,
  ctx: AuditRequestContext,
  decision: RequestAuditDecision,
  req: AccessRequest,
  caller?: Caller,
  comment?: string,
): Promise<void> {
  try {
    await deps.audit.append(
      requestAuditRecord({
        id: deps.newId(deps.now()),
        time: deps.now(),
        request: ctx,
        decision,
        ...(caller ? { caller } : {}),
        ...(comment !== undefined ? { comment } : {}),
        accessRequest: req,
      }),
    );
  } catch (e) {
    deps.log.error('request audit record not written; reconcile from the requests table', {
      auditId: req.id,
      entitlement: req.entitlement,
      code: decision,
      errorName: errorName(e),
    });
  }
}

/** The request as answered: the clock applied to its status. Shared with ./reviews.ts. */
export function view(req: AccessRequest, now: Date): AccessRequest {
  return { ...req, status: effectiveStatus(req, now) };
}

function storedStatusesFor(status: RequestStatus): RequestStatus[] {
  // A stored pending or approved request may be expired as of now.
  return status === 'expired' ? ['expired', 'pending', 'approved'] : [status];
}

function parseStatus(value: string | undefined): RequestStatus | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(REQUEST_STATUSES as readonly string[]).includes(value)) {
    throw new InvalidRequestError(`status must be one of ${REQUEST_STATUSES.join(', ')}`);
  }
  return value as RequestStatus;
}

function parseMine(value: string | boolean | undefined): boolean {
  if (value === undefined || value === '' || value === false || value === 'false' || value === '0')
    return false;
  if (value === true || value === 'true' || value === '1') return true;
  throw new InvalidRequestError('mine must be true or false');
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}
