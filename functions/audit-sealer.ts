/**
 * The audit sealer: runs on a schedule (serverless.yml, a few minutes past every hour) and seals
 * every closed interval of the audit trail into a signed digest chained to the previous one, empty
 * intervals included; after an outage it catches up on every missed interval. Idempotent: a second
 * run, or two runs at once, add nothing. Wiring only: lib/usecases/audit-trail.ts seals.
 *
 * It runs under its own role (serverless.yml `AuditSealerRole`): it may read audit records, write
 * digests and move its head (its own table), and nothing else; the runtime role cannot sign. Each
 * run reports its lag (and a cut trail) as metrics the alarms watch (lib/usecases/seal-metrics.ts).
 */
import { log } from '../lib/log';
import { sealAuditTrail } from '../lib/usecases/audit-trail';
import { emitSealMetrics } from '../lib/usecases/seal-metrics';
import { auditTrailDeps, sealMetrics } from '../lib/wiring/audit';

/** EventBridge scheduled event (only its time is used, as the upper bound of what to seal). */
export async function handler(
  event: { time?: string } = {},
): Promise<{ sealed: number; sealedUpTo?: string; cut?: { from: string; to: string } }> {
  const upTo = event.time && !Number.isNaN(Date.parse(event.time)) ? new Date(event.time) : new Date();
  try {
    const result = await sealAuditTrail(await auditTrailDeps(), { upTo });
    emitSealMetrics(result, new Date(), sealMetrics());
    if (result.cut) {
      log.error(
        `audit trail cut: the digests from ${result.cut.from} to ${result.cut.to} were deleted after they were sealed; sealing continued from the sealer's head (run vend audit verify)`,
      );
    }
    log.info(
      `audit sealed: ${result.sealed.length} interval(s), ${result.alreadySealed} already sealed, up to ${result.sealedUpTo ?? '(nothing yet)'}`,
    );
    return {
      sealed: result.sealed.length,
      ...(result.sealedUpTo ? { sealedUpTo: result.sealedUpTo } : {}),
      ...(result.cut ? { cut: result.cut } : {}),
    };
  } catch (e) {
    log.error('audit sealing failed', { errorName: e instanceof Error ? e.name : typeof e });
    throw e;
  }
}
