/**
 * The ports of the request, approval, break-glass and Slack use cases. Adapters: lib/dynamodb
 * (request-store, review-store, replay-guard, binding-store) and lib/slack/notifier; the unit specs
 * wire in-memory ones (test/unit/usecases/requests-fakes.ts).
 */
import type { ReviewItem } from '../domain/break-glass';
import { ConflictError } from '../domain/errors';
import type { AccessRequest, RequestStatus, TransitionCondition, VoteCondition } from '../domain/request';
import type { SlackBindingStore } from '../slack/bindings';
import type { SlackMessage } from '../slack/messages';

/** Where a Slack message lives, so it can be updated in place. */
export interface MessageRef {
  channel: string;
  ts: string;
}

/** A request as stored: the domain value plus where its approval message was posted. */
export interface StoredRequest {
  request: AccessRequest;
  approvalMessage?: MessageRef;
}

/** Why a conditional write on a request did not apply. */
export type RequestConflictReason =
  /** Someone else wrote first (the version moved on); re-read and decide again. */
  'stale' | 'already-voted' | 'decided' | 'expired' | 'self-approval' | 'missing' | 'exists';

/**
 * A conditional write on a request lost (409 `conflict`). `reason` says why, found by re-reading
 * the request after the failed condition; `stale` means only the version moved on, and the use case
 * re-reads and decides again.
 */
export class RequestConflictError extends ConflictError {
  readonly reason: RequestConflictReason;
  constructor(detail: string, reason: RequestConflictReason, options?: { cause?: unknown }) {
    super(detail, options);
    this.reason = reason;
  }
}

/** Access requests, their break-glass uses, and where their Slack messages are. */
export interface RequestStore {
  /** Writes a new request; an existing id is a {@link RequestConflictError} (`exists`). */
  create(request: AccessRequest): Promise<void>;
  get(id: string): Promise<StoredRequest | undefined>;
  /** One requester's requests, newest first. */
  listByRequester(requesterId: string, options?: { limit?: number }): Promise<AccessRequest[]>;
  /** The requests stored in one status, newest first. */
  listByStatus(status: RequestStatus, options?: { limit?: number }): Promise<AccessRequest[]>;
  /**
   * Stores `next` in ONE conditional write that checks `condition` (status, version, deadline, and
   * for votes: not already voted, not the requester), bumping the version and moving the request in
   * the by-status index when its status changes.
   * @throws RequestConflictError the condition failed (with the reason found on re-read)
   */
  applyTransition(next: AccessRequest, condition: TransitionCondition | VoteCondition): Promise<void>;
  /** Remembers where the approval message was posted (no version change: it is not a state change). */
  setApprovalMessage(id: string, ref: MessageRef): Promise<void>;
  /** Records one break-glass use of a person (for the rate limit). */
  recordBreakGlassUse(personId: string, at: Date, requestId: string): Promise<void>;
  /** When a person broke glass since `since`. */
  breakGlassUsesSince(personId: string, since: Date): Promise<Date[]>;
}

/** Break-glass review items. */
export interface ReviewStore {
  /** Writes a new open review; an existing id is a ConflictError. */
  open(review: ReviewItem): Promise<void>;
  get(id: string): Promise<ReviewItem | undefined>;
  /** The review of a break-glass request (one per request). */
  forRequest(requestId: string): Promise<ReviewItem | undefined>;
  /** Open reviews, oldest first. */
  listOpen(options?: { limit?: number }): Promise<ReviewItem[]>;
  /**
   * Reviews in one status: open ones oldest first, signed-off ones newest first. Optional so that stores written before `GET /v1/reviews`
   * still fit; without it only open reviews can be listed (the DynamoDB adapter has it).
   */
  listByStatus?(status: ReviewItem['status'], options?: { limit?: number }): Promise<ReviewItem[]>;
  /** Stores the signed-off review on condition `status = open AND version = next.version - 1`. */
  signOff(next: ReviewItem): Promise<void>;
}

/** Slack bindings, both ways: Slack user → person (for clicks), person → Slack user (for notices). */
export interface SlackDirectory extends SlackBindingStore {
  /** The Slack user to tell things to, for a person's {@link callerId}. */
  slackUserOf(personId: string): Promise<{ teamId: string; slackUserId: string } | undefined>;
}

/**
 * Delivers Slack messages. Both methods retry a bounded number of times and never throw: a message
 * that cannot be delivered is logged, and never undoes the decision it reports.
 */
export interface SlackNotifier {
  /** Posts a message; the reference of the posted message, or undefined when Slack could not be reached. */
  post(channel: string, message: SlackMessage): Promise<MessageRef | undefined>;
  /** Updates a message in place; false when it could not be updated. */
  update(ref: MessageRef, message: SlackMessage): Promise<boolean>;
}

/** Where vend posts in Slack; absent channels mean nothing is posted there. */
export interface SlackChannels {
  approvers?: string;
  security?: string;
}
