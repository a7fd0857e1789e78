/**
 * `GET /v1/service/entitlements` (SigV4) and `GET /v1/entitlements` (OIDC JWT): the entitlements this
 * caller may use or request. Wiring only: lib/usecases/list-entitlements.ts decides.
 */
import { callerFromEvent, callerId } from '../lib/domain/caller';
import { routeParams, withHttp } from '../lib/http';
import { listEntitlements } from '../lib/usecases/list-entitlements';
import { entitlementStore } from '../lib/wiring/vend';

export const handler = withHttp(
  async ({ event, annotate }) => {
    const caller = callerFromEvent(event);
    annotate({ callerId: callerId(caller) });
    return { body: await listEntitlements({ entitlements: entitlementStore() })(caller) };
  },
  {
    params: { 'GET /v1/service/entitlements': routeParams({}), 'GET /v1/entitlements': routeParams({}) },
  },
);
