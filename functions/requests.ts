import { callerId } from '../lib/domain/caller';
import { NotFoundError } from '../lib/domain/errors';
import {
  type HttpResult,
  jsonObjectBody,
  param,
  personFrom,
  requestFacts,
  routeParams,
  withHttp,
} from '../lib/http';
import {
  cancelPendingRequest,
  consoleForRequest,
  createRequest,
  decideRequest,
  getRequest,
  listRequests,
  REQUEST_STATUSES,
  vendForRequest,
} from '../lib/usecases/requests';
import { listReviews, REVIEW_STATUSES, signOffReview } from '../lib/usecases/reviews';
import { requestDeps } from '../lib/wiring/requests';

// Each body's rules live in the domain; the edge only insists on a JSON object (absent is `{}`).
const body = jsonObjectBody();

// Path ids and query parameters are checked by the chain before any store is read (lib/http/params.ts):
// a malformed id is 404, a bad query parameter 400.
const requestId = routeParams({ path: { id: param.id('request') } });
const params = {
  'POST /v1/requests': routeParams({}),
  'GET /v1/requests': routeParams({
    query: {
      status: param.oneOf(REQUEST_STATUSES, 'a request status'),
      mine: param.oneOf(['true', 'false', '1', '0'], 'true or false'),
    },
  }),
  'GET /v1/requests/{id}': requestId,
  'POST /v1/requests/{id}/approve': requestId,
  'POST /v1/requests/{id}/deny': requestId,
  'POST /v1/requests/{id}/credentials': requestId,
  'POST /v1/requests/{id}/console': requestId,
  'POST /v1/requests/{id}/cancel': requestId,
  'GET /v1/reviews': routeParams({ query: { status: param.oneOf(REVIEW_STATUSES, 'a review status') } }),
  // A review's id is its break-glass request's id.
  'POST /v1/reviews/{id}/sign-off': routeParams({ path: { id: param.id('review') } }),
};

export const handler = withHttp(
  async ({ event, body: parsed, annotate }): Promise<HttpResult> => {
    const caller = personFrom(event);
    annotate({ callerId: callerId(caller) });
    const deps = requestDeps();
    const acting = { caller, request: requestFacts(event) };
    const id = event.pathParameters?.id ?? '';
    switch (event.routeKey) {
      case 'POST /v1/requests': {
        const created = await createRequest(deps)({ ...acting, body: parsed });
        annotate({ entitlement: created.entitlement, auditId: created.id });
        return { statusCode: 201, body: created, headers: { Location: `/v1/requests/${created.id}` } };
      }
      case 'GET /v1/requests':
        return {
          body: await listRequests(deps)(acting, {
            status: event.queryStringParameters?.status,
            mine: event.queryStringParameters?.mine,
          }),
        };
      case 'GET /v1/requests/{id}':
        return { body: await getRequest(deps)(acting, id) };
      case 'POST /v1/requests/{id}/approve':
      case 'POST /v1/requests/{id}/deny': {
        const decision = event.routeKey.endsWith('/approve') ? 'approve' : 'deny';
        const out = await decideRequest(deps)({ ...acting, id, decision, comment: parsed.comment });
        annotate({ entitlement: out.entitlement, auditId: out.id });
        return { body: out };
      }
      case 'POST /v1/requests/{id}/credentials': {
        const out = await vendForRequest(deps)({ ...acting, id, body: parsed });
        annotate({ entitlement: out.entitlement, auditId: out.auditId });
        return { body: out };
      }
      case 'POST /v1/requests/{id}/console': {
        const out = await consoleForRequest(deps)({ ...acting, id, body: parsed });
        annotate({ entitlement: out.entitlement, auditId: out.auditId });
        return { body: out };
      }
      case 'POST /v1/requests/{id}/cancel': {
        const out = await cancelPendingRequest(deps)({ ...acting, id });
        annotate({ entitlement: out.entitlement, auditId: out.id });
        return { body: out };
      }
      case 'GET /v1/reviews':
        return { body: await listReviews(deps)(acting, { status: event.queryStringParameters?.status }) };
      case 'POST /v1/reviews/{id}/sign-off': {
        const out = await signOffReview(deps)({ ...acting, id, comment: parsed.comment });
        annotate({ entitlement: out.entitlement, auditId: out.requestId });
        return { body: out };
      }
      default:
        throw new NotFoundError('no such route');
    }
  },
  { schema: body, params },
);
