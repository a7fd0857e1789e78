/**
 * The ports of the request, approval and break-glass use cases (lib/usecases/requests.ts): where
 * requests and break-glass reviews are stored, and the conflict a conditional write on them may
 * lose. Adapters: lib/dynamodb/request-store.ts and review-store.ts; the unit specs wire in-memory
 * ones. What those use cases need of Slack is in ./slack.ts.
 */
import type { ReviewItem } from '../domain/break-glass';
import { ConflictError } from '../domain/errors';
import type { AccessRequest, RequestStatus, TransitionCondition, VoteCondition } from '../domain/request';
import type { MessageRef } from './slack';

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
