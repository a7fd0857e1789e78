/**
 * What every handler reads off an API Gateway v2 event the same way: the request's facts for the
 * audit record, and the caller a person route requires. One place, so a new function cannot
 * record a request differently from the others.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { AuditRequestContext } from '../domain/audit';
import { callerFromEvent } from '../domain/caller';
import { UnauthenticatedError } from '../domain/errors';
import type { Caller } from '../domain/types';

/**
 * The HTTP request's facts an audit record keeps: API request id, source IP, user agent.
 *
 * @example requestFacts(event) // { requestId: 'abc=', sourceIp: '203.0.113.7', userAgent: 'aws-cli/1.45' }
 */
export function requestFacts(event: Pick<APIGatewayProxyEventV2, 'requestContext'>): AuditRequestContext {
  return {
    requestId: event.requestContext.requestId,
    sourceIp: event.requestContext.http.sourceIp,
    userAgent: event.requestContext.http.userAgent,
  };
}

/**
 * The caller of a person route (OIDC JWT). A service signature on it is a misroute: 401.
 *
 * @example const caller = personFrom(event); // caller.kind === 'person'
 * @throws UnauthenticatedError the event carries no person
 */
export function personFrom(event: Parameters<typeof callerFromEvent>[0]): Caller {
  const caller = callerFromEvent(event);
  if (caller.kind !== 'person') throw new UnauthenticatedError('this route takes an OIDC token');
  return caller;
}
