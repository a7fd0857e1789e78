/**
 * `--soak SECONDS`: vends at a fixed rate (open loop: a vend starts every 1/rate s whether or not the
 * previous one finished, up to a cap in flight) and samples memory, to show whether a long-running
 * process grows. Start and end are measured after a full GC when `global.gc` exists (run with
 * `node --expose-gc --import tsx bench/run.ts --soak 300`); without it the figures include garbage.
 *
 * The stack runs in this process, so growth includes the emulators' state: every vend stores two
 * audit items in the in-memory DynamoDB and one session in the local STS. The report gives the
 * counts so the growth per vend can be read against them.
 */
import { performance } from 'node:perf_hooks';
import type { Operation } from './load';
import { type LatencyStats, summarize } from './stats';

export interface MemorySample {
  atS: number;
  heapUsedMB: number;
  rssMB: number;
}

export interface SoakResult {
  seconds: number;
  ratePerSecond: number;
  gcExposed: boolean;
  vends: number;
  errors: number;
  errorExamples: string[];
  /** Ticks skipped because `maxInFlight` vends were already running (the stack could not keep up). */
  skipped: number;
  latency: LatencyStats;
  start: { heapUsedMB: number; rssMB: number };
  end: { heapUsedMB: number; rssMB: number };
  growth: { heapUsedMB: number; rssMB: number; heapBytesPerVend: number };
  samples: MemorySample[];
}

const MB = 1024 * 1024;

function settle(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

function mem(): { heapUsedMB: number; rssMB: number } {
  const m = process.memoryUsage();
  return { heapUsedMB: +(m.heapUsed / MB).toFixed(2), rssMB: +(m.rss / MB).toFixed(2) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Runs the soak.
 *
 * @example const r = await soak(vend, { seconds: 300, ratePerSecond: 20, onSample: console.log });
 */
export async function soak(
  op: Operation,
  opts: {
    seconds: number;
    ratePerSecond: number;
    maxInFlight?: number;
    onSample?: (s: MemorySample) => void;
  },
): Promise<SoakResult> {
  const maxInFlight = opts.maxInFlight ?? 64;
  const latencies: number[] = [];
  const errorExamples: string[] = [];
  let errors = 0;
  let skipped = 0;
  let inFlight = 0;
  const running = new Set<Promise<void>>();
  settle();
  const start = mem();
  const samples: MemorySample[] = [];
  const t0 = performance.now();
  const interval = 1000 / opts.ratePerSecond;
  const total = Math.floor(opts.seconds * opts.ratePerSecond);
  let nextSample = 10_000;
  for (let i = 0; i < total; i += 1) {
    await sleep(t0 + i * interval - performance.now());
    const elapsed = performance.now() - t0;
    if (elapsed >= nextSample) {
      const s = { atS: Math.round(elapsed / 1000), ...mem() };
      samples.push(s);
      opts.onSample?.(s);
      nextSample += 10_000;
    }
    if (inFlight >= maxInFlight) {
      skipped += 1;
      continue;
    }
    inFlight += 1;
    const s = performance.now();
    const p: Promise<void> = op()
      .then(
        () => {
          latencies.push(performance.now() - s);
        },
        (e: unknown) => {
          errors += 1;
          if (errorExamples.length < 5) errorExamples.push(e instanceof Error ? e.message : String(e));
        },
      )
      .finally(() => {
        inFlight -= 1;
        running.delete(p);
      });
    running.add(p);
  }
  await Promise.all(running);
  settle();
  const end = mem();
  const vends = latencies.length;
  return {
    seconds: opts.seconds,
    ratePerSecond: opts.ratePerSecond,
    gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
    vends,
    errors,
    errorExamples,
    skipped,
    latency: summarize(latencies),
    start,
    end,
    growth: {
      heapUsedMB: +(end.heapUsedMB - start.heapUsedMB).toFixed(2),
      rssMB: +(end.rssMB - start.rssMB).toFixed(2),
      heapBytesPerVend: vends ? Math.round(((end.heapUsedMB - start.heapUsedMB) * MB) / vends) : 0,
    },
    samples,
  };
}
