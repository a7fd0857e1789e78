/**
 * The request routes (OIDC JWT, people): `POST /v1/requests`, `GET /v1/requests`,
 * `GET /v1/requests/{id}`, `POST /v1/requests/{id}/approve|deny|cancel`, `POST /v1/requests/{id}/credentials`,
 * `POST /v1/requests/{id}/console` (a console sign-in URL inside the grant),
 * and the break-glass reviews: `GET /v1/reviews`, `POST /v1/reviews/{id}/sign-off`.
 * Wiring only: lib/usecases/requests.ts decides.
 */
import type { AuditRequestContext } from '../lib/domain/audit';
import { callerFromEvent, callerId } from '../lib/domain/caller';
import { NotFoundError, UnauthenticatedError } from '../lib/domain/errors';
import type { Caller } from '../lib/domain/types';
import {
  type HttpApiEvent,
  type HttpResult,
  jsonObjectBody,
  param,
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

function personFrom(event: HttpApiEvent): Caller {
  const caller = callerFromEvent(event);
  if (caller.kind !== 'person') throw new UnauthenticatedError('this route takes an OIDC token');
  return caller;
}

function requestFacts(event: HttpApiEvent): AuditRequestContext {
  return {
    requestId: event.requestContext.requestId,
    sourceIp: event.requestContext.http.sourceIp,
    userAgent: event.requestContext.http.userAgent,
  };
}

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
