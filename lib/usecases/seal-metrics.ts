/**
 * What one run of the audit sealer tells the alarms (functions/audit-sealer.ts calls it after
 * `sealAuditTrail`), because a sealer that falls behind is as bad as no sealer: every unsealed hour
 * is an hour whose records can be deleted without a trace.
 *
 * Primary course of {@link emitSealMetrics}:
 * 1. `AuditSealLagSeconds`: how far behind now the latest digest ends (0 before the first one);
 * 2. `AuditTrailCut`, once, when the run found digests deleted after they were sealed.
 *
 * The sink is a port (`SealMetricsSink`, lib/ports/audit.ts); the Powertools one is
 * lib/audit/seal-metrics.ts, and the alarms that watch these are in serverless.yml.
 */
import type { SealMetricsSink } from '../ports';
import type { SealResult } from './audit-trail';

/**
 * How far behind the trail is sealed, in whole seconds (0 if nothing is known yet: the lag alarm
 * then sees a datapoint, and the missing-digest check in verify is what speaks).
 *
 * @example sealLagSeconds({ sealedUpTo: '2026-11-29T10:00:00.000Z', … }, new Date('2026-11-29T10:02:00Z')) // 120
 */
export function sealLagSeconds(result: Pick<SealResult, 'sealedUpTo'>, now: Date): number {
  if (!result.sealedUpTo) return 0;
  return Math.max(0, Math.round((now.getTime() - Date.parse(result.sealedUpTo)) / 1000));
}

/**
 * Emits what one run tells the alarms.
 *
 * @example emitSealMetrics(result, new Date(), sealMetrics());
 */
export function emitSealMetrics(result: SealResult, now: Date, sink: SealMetricsSink): void {
  sink.gauge('AuditSealLagSeconds', sealLagSeconds(result, now));
  if (result.cut) sink.count('AuditTrailCut');
}
