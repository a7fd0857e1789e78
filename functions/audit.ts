/**
 * `GET /v1/audit` (OIDC JWT): auditors read the audit trail, newest first, filtered and paginated.
 * Wiring only: lib/usecases/audit-query.ts decides who may read and what a query means.
 */

import { callerFromEvent, callerId } from '../lib/domain/caller';
import { ENTITLEMENT_ID } from '../lib/domain/limits';
import { param, routeParams, withHttp } from '../lib/http';
import { queryAudit } from '../lib/usecases/audit-query';
import { auditQueryDeps } from '../lib/wiring/audit';

// Shape and length only, so nothing unbounded reaches the use case; the exact rules (time parsing,
// ranges, the cursor's checksum) are lib/domain/audit-query.ts's, which names what is wrong.
const query = routeParams({
  query: {
    since: param.text('^[0-9][0-9T:.+Z-]{0,39}$', 40, 'an ISO 8601 time such as 2026-11-29T10:00:00Z'),
    until: param.text('^[0-9][0-9T:.+Z-]{0,39}$', 40, 'an ISO 8601 time such as 2026-11-29T10:00:00Z'),
    caller: param.text('^[\\x21-\\x7e]{1,512}$', 512, 'a caller id (a role ARN or <issuer>#<subject>)'),
    entitlement: param.text(ENTITLEMENT_ID.source, 63, 'an entitlement id'),
    decision: param.text('^[a-z][a-z_-]{0,31}$', 32, 'an audit decision such as denied'),
    requestId: param.text('^[A-Za-z0-9._:=-]{1,128}$', 128, 'a request id'),
    limit: param.text('^[0-9]{1,4}$', 4, 'a whole number from 1 to 500'),
    cursor: param.text('^[A-Za-z0-9_-]{1,4096}$', 4096, 'the cursor of a previous page'),
  },
});

export const handler = withHttp(
  async ({ event, annotate }) => {
    const caller = callerFromEvent(event);
    annotate({ callerId: callerId(caller) });
    return { body: await queryAudit(auditQueryDeps())(caller, event.queryStringParameters ?? {}) };
  },
  { route: 'GET /v1/audit', params: { 'GET /v1/audit': query } },
);
