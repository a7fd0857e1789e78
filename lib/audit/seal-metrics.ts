/**
 * The sealer's CloudWatch metrics (EMF lines through Powertools, namespace `vend`, dimension
 * `service=vend`), which the serverless.yml alarms watch, because a sealer that falls behind is as
 * bad as no sealer: every unsealed hour is an hour whose records can be deleted without a trace.
 *
 * | metric | unit | emitted | alarm |
 * |---|---|---|---|
 * | `AuditSealLagSeconds` | Seconds | every successful run: now − the end of the latest digest | `AuditSealerLagAlarm` (high, or missing: the sealer did not run) |
 * | `AuditTrailCut` | Count | a run that found its digests deleted (`SealResult.cut`) | `AuditTrailCutAlarm` |
 *
 * Kept beside the sealer rather than in lib/metrics.ts: only this function emits them, and only it
 * needs the gauge.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SealResult } from '../usecases/audit-trail';

/** Where the sealer's metrics go; tests pass a recorder. */
export interface SealMetricsSink {
  gauge(metric: 'AuditSealLagSeconds', seconds: number): void;
  count(metric: 'AuditTrailCut'): void;
}

/**
 * The Powertools sink (silent when `POWERTOOLS_METRICS_DISABLED=true`).
 *
 * @example powertoolsSealMetrics().gauge('AuditSealLagSeconds', 120);
 */
export function powertoolsSealMetrics(
  metrics: Metrics = new Metrics({ namespace: 'vend', serviceName: 'vend' }),
): SealMetricsSink {
  return {
    gauge(metric, seconds) {
      metrics.addMetric(metric, MetricUnit.Seconds, seconds);
      metrics.publishStoredMetrics();
    },
    count(metric) {
      metrics.addMetric(metric, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    },
  };
}

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
 * @example emitSealMetrics(result, new Date(), powertoolsSealMetrics());
 */
export function emitSealMetrics(result: SealResult, now: Date, sink: SealMetricsSink): void {
  sink.gauge('AuditSealLagSeconds', sealLagSeconds(result, now));
  if (result.cut) sink.count('AuditTrailCut');
}
