/**
 * The audit sealer: runs on a schedule (`rate(1 hour)` in serverless.yml) and seals every closed
 * interval of the audit trail into a signed digest chained to the previous one. Idempotent: a
 * second run, or two runs at once, add nothing. Wiring only: lib/usecases/audit-trail.ts seals.
 *
 * It runs under its own role (serverless.yml `AuditSealerRole`): it may read audit records and
 * write digests, and nothing else; the runtime role cannot sign.
 */

import { log } from '../lib/log';
import { sealAuditTrail } from '../lib/usecases/audit-trail';
import { auditTrailDeps } from '../lib/wiring/audit';

/** EventBridge scheduled event (only its time is used, as the upper bound of what to seal). */
export async function handler(
  event: { time?: string } = {},
): Promise<{ sealed: number; sealedUpTo?: string }> {
  const upTo = event.time && !Number.isNaN(Date.parse(event.time)) ? new Date(event.time) : new Date();
  try {
    const result = await sealAuditTrail(await auditTrailDeps(), { upTo });
    log.info(
      `audit sealed: ${result.sealed.length} interval(s), ${result.alreadySealed} already sealed, up to ${result.sealedUpTo ?? '(nothing yet)'}`,
    );
    return { sealed: result.sealed.length, ...(result.sealedUpTo ? { sealedUpTo: result.sealedUpTo } : {}) };
  } catch (e) {
    log.error('audit sealing failed', { errorName: e instanceof Error ? e.name : typeof e });
    throw e;
  }
}
