/**
 * Break-glass reviews (`GET /v1/reviews`, `POST /v1/reviews/{id}/sign-off`): every break-glass use
 * opens a review (./requests.ts), and someone other than the person who broke glass signs it off.
 *
 * Primary course of a sign-off:
 * 1. Validate the comment (400), read the review (404) and its entitlement as it is now.
 * 2. `signOffReview` (lib/domain/break-glass.ts): reviewers are the entitlement's approver groups as
 *    they are now (403 not_entitled otherwise); the person who broke glass never signs off their own
 *    use (403 self_approval).
 * 3. One conditional write (409 when already signed off, also when another reviewer won the race).
 * 4. Audit `review-signed-off` against the break-glass request, with the comment.
 *
 * Listing shows a caller the reviews they may sign off, and their own break-glass uses.
 */
import { type ReviewItem, signOffReview as signOffReviewRule } from '../domain/break-glass';
import { callerId } from '../domain/caller';
import { InvalidRequestError, NotFoundError } from '../domain/errors';
import { COMMENT_MAX_CHARS } from '../domain/request';
import type { Caller, Entitlement } from '../domain/types';
import { type Acting, auditRequest, type RequestDeps, view } from './requests';

/** The statuses `GET /v1/reviews?status=` accepts. */
export const REVIEW_STATUSES: readonly ReviewItem['status'][] = ['open', 'signed-off'];

/**
 * May this caller sign off (and see) reviews of this entitlement? Reviewers are the entitlement's
 * approver groups as it is now: the people trusted to grant the access are the ones who judge its
 * emergency use. An entitlement without an approval gate, or one that is gone, has no reviewers.
 */
function reviewerGroups(entitlement: Entitlement | undefined): readonly string[] {
  return entitlement?.approval?.approverGroups ?? [];
}

function mayReview(caller: Caller, entitlement: Entitlement | undefined): boolean {
  const groups = reviewerGroups(entitlement);
  return caller.kind === 'person' && caller.groups.some((g) => groups.includes(g));
}

/**
 * Break-glass reviews in one status (default `open`), oldest first: those of entitlements whose
 * approver groups the caller is in, and the caller's own break-glass uses (so they can see whether
 * theirs has been signed off). Everyone else's are left out.
 *
 * @throws InvalidRequestError a status other than `open` or `signed-off`
 * @example `await listReviews(deps)({ caller: bob, request: ctx }, { status: 'open' }) // { reviews: [{ status: 'open', … }] }`
 */
export function listReviews(
  deps: RequestDeps,
): (acting: Acting, query: { status?: string }) => Promise<{ reviews: ReviewItem[] }> {
  return async ({ caller }, query) => {
    const status = query.status === undefined || query.status === '' ? 'open' : query.status;
    if (!(REVIEW_STATUSES as readonly string[]).includes(status)) {
      throw new InvalidRequestError(`status must be one of ${REVIEW_STATUSES.join(', ')}`);
    }
    const found = deps.reviews.listByStatus
      ? await deps.reviews.listByStatus(status as ReviewItem['status'])
      : status === 'open'
        ? await deps.reviews.listOpen()
        : [];
    const byId = new Map((await deps.entitlements.list()).map((e) => [e.id, e]));
    const me = callerId(caller);
    const reviews = found.filter(
      (r) => r.status === status && (r.requesterId === me || mayReview(caller, byId.get(r.entitlement))),
    );
    return { reviews };
  };
}

/** Input of {@link signOffReview}. */
export interface SignOffInput extends Acting {
  /** The review id (the break-glass request's id). */
  id: string;
  comment?: unknown;
}

/**
 * Sign off a break-glass review (`POST /v1/reviews/{id}/sign-off`): one conditional write, audited
 * `review-signed-off` against the break-glass request (with the comment, which is kept in the audit
 * trail only). Answers the signed-off review.
 *
 * @throws NotFoundError no such review
 * @throws InvalidRequestError a comment that is not a string of at most 512 printable characters
 * @throws SelfApprovalError the person who broke glass
 * @throws NotEntitledError not in the entitlement's approver groups (as of now)
 * @throws ConflictError already signed off (also when another reviewer won the race)
 * @example `await signOffReview(deps)({ caller: bob, request: ctx, id }) // { status: 'signed-off', signedOffBy: '…#bob', at, … }`
 */
export function signOffReview(deps: RequestDeps): (input: SignOffInput) => Promise<ReviewItem> {
  return async ({ caller, request: ctx, id, comment: rawComment }) => {
    const comment = parseComment(rawComment);
    const review = await deps.reviews.get(id);
    if (review === undefined || review.id !== id) {
      throw new NotFoundError(`review ${/^[0-9A-Za-z_-]{1,64}$/.test(id) ? id : '(invalid id)'} not found`);
    }
    const entitlement = await deps.entitlements.get(review.entitlement);
    const now = deps.now();
    const next = signOffReviewRule(review, caller, now, { reviewerGroups: reviewerGroups(entitlement) });
    await deps.reviews.signOff(next);
    const stored = await deps.requests.get(review.requestId);
    if (stored) {
      await auditRequest(deps, ctx, 'review-signed-off', view(stored.request, now), caller, comment);
    } else {
      deps.log.error('break-glass request of a signed-off review not found; sign-off not audited', {
        auditId: review.requestId,
        entitlement: review.entitlement,
      });
    }
    return next;
  };
}

function parseComment(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  // Printable text only: the comment is shown in the CLI and the audit trail.
  if (
    typeof value !== 'string' ||
    value.length > COMMENT_MAX_CHARS ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/.test(value)
  ) {
    throw new InvalidRequestError(
      `comment must be a string of at most ${COMMENT_MAX_CHARS} characters without control characters`,
    );
  }
  return value.trim() === '' ? undefined : value.trim();
}
