/**
 * The sealer's CloudWatch metrics (EMF lines through Powertools, namespace `vend`, dimension
 * `service=vend`), which the serverless.yml alarms watch, because a sealer that falls behind is as
 * bad as no sealer: every unsealed hour is an hour whose records can be deleted without a trace.
 * This is the adapter behind the `SealMetricsSink` port (lib/ports/audit.ts); what a run emits is
 * decided by lib/usecases/seal-metrics.ts, and lib/wiring/audit.ts hands this sink to the sealer.
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
import type { SealMetricsSink } from '../ports';

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
