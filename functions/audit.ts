/**
 * `GET /v1/audit` (OIDC JWT): auditors read the audit trail, newest first, filtered and paginated.
 * Wiring only: lib/usecases/audit-query.ts decides who may read and what a query means.
 */
import { auditQueryDeps } from '../lib/audit/wiring';
import { callerFromEvent, callerId } from '../lib/domain/caller';
import { withHttp } from '../lib/http';
import { queryAudit } from '../lib/usecases/audit-query';

export const handler = withHttp(
  async ({ event, annotate }) => {
    const caller = callerFromEvent(event);
    annotate({ callerId: callerId(caller) });
    return { body: await queryAudit(auditQueryDeps())(caller, event.queryStringParameters ?? {}) };
  },
  { route: 'GET /v1/audit' },
);
