/**
 * `GET /v1/audit`: an auditor reads the trail.
 *
 * Primary course:
 * 1. Only people in the auditors group (`VEND_AUDITORS_GROUP`, default `auditors`) may read; anyone
 *    else is 403 `not_entitled`, before their parameters are even looked at.
 * 2. Parse and validate the filters and cursor (400 `invalid_request` on anything malformed).
 * 3. Read one page newest first: the store plans the read (index and partitions) and refuses a
 *    cursor position outside that plan (400).
 * 4. Read the latest digest: up to when the trail is sealed (`sealedThrough`), so a reader knows
 *    which of the records it sees are already under a signature.
 * 5. Answer `{ records, cursor?, sealedThrough }`; `cursor` is absent on the last page.
 */

import type { AuditRecord } from '../domain/audit';
import { encodeCursor, parseAuditQuery } from '../domain/audit-query';
import { VendError } from '../domain/errors';
import type { Caller } from '../domain/types';
import type { AuditReader, DigestStore } from '../ports';

/** The caller is not an auditor (403 `not_entitled`). */
export class NotAnAuditorError extends VendError {
  readonly code = 'not_entitled';
}

/** What {@link queryAudit} needs. */
export interface AuditQueryDeps {
  reader: Pick<AuditReader, 'page'>;
  /** Where the digests are, for `sealedThrough`. */
  digests: Pick<DigestStore, 'latest'>;
  now: () => Date;
  /** The group whose members may read the trail. */
  auditorsGroup: string;
}

/** The body of `GET /v1/audit`. */
export interface AuditQueryResponse {
  records: AuditRecord[];
  /** Pass back as `?cursor=` (with the same filters, or none) for the next page. */
  cursor?: string;
  /**
   * End of the latest signed digest: records before it are sealed (`vend audit verify` checks them),
   * newer ones are not yet. `null` before the first digest.
   */
  sealedThrough: string | null;
}

/**
 * Reads one page of the audit trail for an auditor.
 *
 * @throws NotAnAuditorError when the caller is not in the auditors group
 * @throws InvalidRequestError on bad filters or an altered cursor
 * @example
 * const page = await queryAudit(deps)(caller, { since: '2026-11-29T00:00:00Z', decision: 'denied' });
 * page.records[0].decision; // 'denied'
 * page.sealedThrough; // '2026-11-29T10:00:00.000Z'
 */
export function queryAudit(
  deps: AuditQueryDeps,
): (caller: Caller, params: Readonly<Record<string, string | undefined>>) => Promise<AuditQueryResponse> {
  return async (caller, params) => {
    if (caller.kind !== 'person' || !caller.groups.includes(deps.auditorsGroup)) {
      throw new NotAnAuditorError('only members of the auditors group may read the audit trail');
    }
    const query = parseAuditQuery(params, deps.now());
    const [page, latest] = await Promise.all([
      deps.reader.page(query.filters, query.position, query.limit),
      deps.digests.latest(),
    ]);
    const sealedThrough = latest?.intervalEnd ?? null;
    return page.next
      ? { records: page.records, cursor: encodeCursor(query.filters, page.next), sealedThrough }
      : { records: page.records, sealedThrough };
  };
}
