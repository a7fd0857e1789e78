import { callerFromEvent, callerId } from '../lib/domain/caller';
import { UnauthenticatedError } from '../lib/domain/errors';
import type { Caller } from '../lib/domain/types';
import { type HttpApiEvent, jsonObjectBody, requestFacts, routeParams, withHttp } from '../lib/http';
import { vendConsole } from '../lib/usecases/console';
import { recordVendRefusal, vendCredentials } from '../lib/usecases/vend-credentials';
import { consoleDeps, vendDeps } from '../lib/wiring/vend';

// The body's rules (allowed keys, duration, policy) live in the domain, which names the offending
// field and audits the refusal; the edge only insists on a JSON object.
const body = jsonObjectBody();

/** The caller, checked against the route: one authorizer per route makes a mismatch a misroute. */
function callerFor(event: HttpApiEvent): Caller {
  const caller = callerFromEvent(event);
  const serviceRoute = event.routeKey?.includes('/v1/service/') ?? false;
  if ((caller.kind === 'service') !== serviceRoute) {
    throw new UnauthenticatedError(
      serviceRoute ? 'service routes take SigV4-signed requests' : 'this route takes an OIDC token',
    );
  }
  return caller;
}

export const handler = withHttp(
  async ({ event, body: parsed, annotate }) => {
    const caller = callerFor(event);
    annotate({ callerId: callerId(caller) });
    const input = { caller, body: parsed, request: requestFacts(event) };
    const out =
      event.routeKey === 'POST /v1/console'
        ? await vendConsole(consoleDeps())(input)
        : await vendCredentials(vendDeps())(input);
    annotate({ entitlement: out.entitlement, auditId: out.auditId });
    return { body: out };
  },
  {
    schema: body,
    params: {
      'POST /v1/service/credentials': routeParams({}),
      'POST /v1/credentials': routeParams({}),
      'POST /v1/console': routeParams({}),
    },
    // Refusals by the chain itself (413, not JSON) are decisions too: audit them when the caller is known.
    onRefused: async (error, event) => {
      await recordVendRefusal(vendDeps())({
        caller: callerFor(event),
        error,
        request: requestFacts(event),
        ...(event.routeKey === 'POST /v1/console' ? { delivery: 'console' as const } : {}),
      });
    },
  },
);
