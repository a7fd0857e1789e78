/**
 * Latency statistics for the benchmark: percentiles by linear interpolation between closest ranks
 * (the "R-7" definition spreadsheets and NumPy use by default), so p99 of 1,000 samples sits between
 * the 990th and 991st sorted values rather than snapping to one of them.
 */

/** Summary of one series of latencies, in milliseconds. */
export interface LatencyStats {
  n: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * The p-th percentile (0–100) of ascending `sorted` values.
 *
 * @example percentile([1, 2, 3, 4], 50) // 2.5
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

/** Rounds to 3 decimals (microsecond resolution for milliseconds) for the JSON file. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Summarises latencies.
 *
 * @example summarize([3, 1, 2]).p50 // 2
 */
export function summarize(samples: readonly number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
  return {
    n: sorted.length,
    min: round3(sorted[0] ?? Number.NaN),
    mean: round3(mean),
    p50: round3(percentile(sorted, 50)),
    p90: round3(percentile(sorted, 90)),
    p99: round3(percentile(sorted, 99)),
    max: round3(sorted.at(-1) ?? Number.NaN),
  };
}
