/**
 * Closed-loop load: `concurrency` workers, each starting its next operation when the previous one
 * finished. Every loop is bounded twice, by a count and by a wall-clock limit, so a stuck backend
 * ends the series (marked `truncated`) instead of the benchmark.
 */
import { performance } from 'node:perf_hooks';

/** One timed operation; it throws (or rejects) to count as an error. */
export type Operation = () => Promise<void>;

/** What a series measured. Latencies are of successful operations only. */
export interface SeriesResult {
  samples: number[];
  errors: number;
  /** First few error messages (no secrets: operations only put status codes and names in them). */
  errorExamples: string[];
  /** Wall time of the whole series. */
  wallMs: number;
  /** CPU of this process (user + system) during the series, in milliseconds. */
  cpuMs: number;
  /** CPU of each call, in call order (interleaved series only: one call at a time makes it per call). */
  cpuSamples?: number[];
  /** True when the time limit ended the series before `count` operations. */
  truncated: boolean;
}

export interface SeriesOptions {
  concurrency: number;
  count: number;
  timeLimitMs: number;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Runs `op` `count` times with `concurrency` in flight, or until `timeLimitMs` passes.
 *
 * @example const r = await runSeries(vend, { concurrency: 8, count: 800, timeLimitMs: 60_000 });
 */
export async function runSeries(op: Operation, opts: SeriesOptions): Promise<SeriesResult> {
  const samples: number[] = [];
  const errorExamples: string[] = [];
  let errors = 0;
  let started = 0;
  let truncated = false;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + opts.timeLimitMs;
  const worker = async (): Promise<void> => {
    while (started < opts.count) {
      if (performance.now() >= deadline) {
        truncated = true;
        return;
      }
      started += 1;
      const s = performance.now();
      try {
        await op();
        samples.push(performance.now() - s);
      } catch (e) {
        errors += 1;
        if (errorExamples.length < 5) errorExamples.push(describe(e));
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return {
    samples,
    errors,
    errorExamples,
    wallMs: performance.now() - t0,
    cpuMs: cpuMsSince(cpu),
    truncated,
  };
}

/**
 * Runs two operations one at a time, alternating A B B A … so that drift on a shared machine (other
 * processes, GC, the emulators' growing tables) falls on both series alike.
 *
 * @example const [vend, base] = await runInterleaved(vendOnce, baselineOnce, 1000, 120_000);
 */
export async function runInterleaved(
  a: Operation,
  b: Operation,
  count: number,
  timeLimitMs: number,
): Promise<[SeriesResult, SeriesResult]> {
  const results: [SeriesResult, SeriesResult] = [
    { samples: [], errors: 0, errorExamples: [], wallMs: 0, cpuMs: 0, cpuSamples: [], truncated: false },
    { samples: [], errors: 0, errorExamples: [], wallMs: 0, cpuMs: 0, cpuSamples: [], truncated: false },
  ];
  const ops = [a, b] as const;
  const t0 = performance.now();
  for (let i = 0; i < count; i += 1) {
    if (performance.now() - t0 >= timeLimitMs) {
      results[0].truncated = true;
      results[1].truncated = true;
      break;
    }
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order as (0 | 1)[]) {
      const r = results[which];
      const cpu = process.cpuUsage();
      const s = performance.now();
      try {
        await ops[which]();
        r.samples.push(performance.now() - s);
      } catch (e) {
        r.errors += 1;
        if (r.errorExamples.length < 5) r.errorExamples.push(describe(e));
      }
      r.wallMs += performance.now() - s;
      const used = cpuMsSince(cpu);
      r.cpuMs += used;
      r.cpuSamples?.push(used);
    }
  }
  return results;
}
