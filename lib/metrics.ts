/**
 * vend's CloudWatch metrics, as Powertools for AWS Lambda writes them: Embedded Metric Format
 * lines on stdout, turned into metrics by CloudWatch Logs with no API call and no extra latency.
 * Namespace `vend` (`POWERTOOLS_METRICS_NAMESPACE`), dimension `service=vend`, so the alarms in
 * serverless.yml find them.
 *
 * | metric | emitted by | alarm |
 * |---|---|---|
 * | `VendIssued` | a vend that returned credentials | – |
 * | `VendDenied` | a vend refused (4xx but 429), dimension-free; the problem code is in the log line | – |
 * | `RateLimited` | a vend refused by a rate limit (429, docs/rate-limits.md) | – |
 * | `BreakGlassUsed` | a break-glass grant | every use (`BreakGlassUsedAlarm`) |
 * | `StsThrottled` | an AssumeRole that ran out of retries on throttling | `StsThrottledAlarm` |
 *
 * Each helper records one count and flushes it at once: vend's handlers are short, and a metric
 * held in memory until the end of an invocation is lost if the invocation times out. Never pass a
 * secret or an unbounded value (a caller id) as a dimension: dimensions are public and each new
 * value is a new metric.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The metric names vend emits (serverless.yml alarms refer to them). */
export type VendMetric = 'VendIssued' | 'VendDenied' | 'RateLimited' | 'BreakGlassUsed' | 'StsThrottled';

/** Where metrics go; tests pass a recorder. */
export interface MetricsSink {
  count(metric: VendMetric): void;
}

/**
 * A sink on Powertools Metrics (EMF on stdout). Silent when `POWERTOOLS_METRICS_DISABLED=true`
 * (local stack, tests), as Powertools itself is.
 *
 * @example
 * const metrics = powertoolsMetrics();
 * metrics.count('VendIssued');
 */
export function powertoolsMetrics(
  metrics: Metrics = new Metrics({ namespace: 'vend', serviceName: 'vend' }),
): MetricsSink {
  return {
    count(metric) {
      metrics.addMetric(metric, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    },
  };
}

let shared: MetricsSink | undefined;

/**
 * The process's sink, made on first use (cold start cost only for functions that emit).
 * @example countMetric('BreakGlassUsed');
 */
export function countMetric(metric: VendMetric): void {
  shared ??= powertoolsMetrics();
  shared.count(metric);
}
