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
import { listSessions, revokeCaller, revokeSession } from '../lib/usecases/sessions';
import { sessionDeps } from '../lib/wiring/sessions';

const body = jsonObjectBody();

// Path ids and query parameters are checked before any store is read (lib/http/params.ts).
const params = {
  'GET /v1/sessions': routeParams({
    query: { all: param.oneOf(['true', 'false', '1', '0'], 'true or false') },
  }),
  'POST /v1/sessions/{auditId}/revoke': routeParams({ path: { auditId: param.id('audit') } }),
  'POST /v1/sessions/revoke': routeParams({}),
};

export const handler = withHttp(
  async ({ event, body: parsed, annotate }): Promise<HttpResult> => {
    const caller = personFrom(event);
    annotate({ callerId: callerId(caller) });
    const deps = sessionDeps();
    const acting = { caller, request: requestFacts(event) };
    switch (event.routeKey) {
      case 'GET /v1/sessions':
        return { body: await listSessions(deps)(acting, { all: event.queryStringParameters?.all }) };
      case 'POST /v1/sessions/{auditId}/revoke': {
        const auditId = event.pathParameters?.auditId ?? '';
        const out = await revokeSession(deps)({ ...acting, auditId, body: parsed });
        annotate({ entitlement: out.entitlement, auditId: out.auditId });
        return { body: out };
      }
      case 'POST /v1/sessions/revoke':
        return { body: await revokeCaller(deps)({ ...acting, body: parsed }) };
      default:
        throw new NotFoundError('no such route');
    }
  },
  { schema: body, params },
);
