/**
 * The credentials handler measured alone: its own CPU per vend and its memory over a long soak, in a
 * process that holds the handler, its SDK clients and nothing else. The emulators (local STS,
 * dynalite) run in a child process (./emulators.ts); there is no gateway: the handler is called
 * directly with API Gateway v2 events, as Lambda calls it.
 *
 *   node --expose-gc --import tsx bench/handler-process.ts --vends 2000 --soak 10000 --out FILE
 *
 * (`npm run bench` starts it, with stdout discarded: the handler writes its log lines there as in
 * Lambda, and their cost is part of what is measured.) Primary course:
 * 1. start the emulators in a child process; take the credentials function's Lambda environment;
 * 2. import functions/credentials.ts (its cold start) and build the baseline on the same clients;
 * 3. warm up; then vend (handler) and baseline interleaved A B B A …, `--vends` of each, with
 *    `process.cpuUsage()` taken around every call: the handler's own CPU per vend is the vend's CPU
 *    minus the baseline's (both make the same backend calls on the same clients);
 * 4. soak: `--soak` vends one after another, heap and RSS after a full GC at 20 checkpoints;
 * 5. write the figures as JSON to `--out` and stop the emulators.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Context } from 'aws-lambda';
import {
  BenchCallError,
  baselineOperation,
  iamAuthorizer,
  iamCaller,
  USER_AGENT,
  VEND_BODY,
  VEND_PATH,
} from './baseline';
import type { EmulatorInfo } from './emulators';
import { type Operation, runInterleaved } from './load';
import { round3, summarize } from './stats';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MB = 1024 * 1024;
/** The credentials function's timeout (serverless.yml provider.timeout), for the Lambda context. */
const TIMEOUT_MS = 10_000;

/** What this process reports (bench/results/latest.json `handler`). */
export interface HandlerFigures {
  function: 'credentials';
  vends: number;
  /** Direct calls (no gateway), concurrency 1, interleaved with the baseline. */
  latency: {
    handler: ReturnType<typeof summarize>;
    baseline: ReturnType<typeof summarize>;
    ratioP50: number;
    ratioP99: number;
  };
  cpu: {
    /** Process CPU per direct vend: the handler and its SDK calls. */
    msPerVend: number;
    /** Process CPU per baseline: the same SDK calls alone. */
    msPerBaseline: number;
    /** The difference: what vend's own code costs per vend (means: GC included). */
    handlerOwnMsPerVend: number;
    /** The same from the medians of per-call CPU: steadier, but leaves out the calls a GC landed in. */
    handlerOwnMedianMs: number;
  };
  soak: {
    vends: number;
    errors: number;
    seconds: number;
    /** After a full GC, once warm (before the soak) and after it. */
    start: { heapUsedMB: number; rssMB: number };
    end: { heapUsedMB: number; rssMB: number };
    heapBytesPerVend: number;
    /** RSS growth per vend over the first and the second half of the soak (after GC; Theil–Sen). */
    rssBytesPerVendFirstHalf: number;
    rssBytesPerVendSecondHalf: number;
    /** The highest RSS reading of each half: a process that levels off stops raising it. */
    rssPeakMB: { firstHalf: number; secondHalf: number };
    checkpoints: { vends: number; heapUsedMB: number; rssMB: number }[];
  };
  gcExposed: boolean;
  errors: number;
  errorExamples: string[];
}

function options() {
  const { values } = parseArgs({
    options: {
      vends: { type: 'string', default: '1000' },
      soak: { type: 'string', default: '10000' },
      out: { type: 'string' },
      'time-limit': { type: 'string', default: '600000' },
    },
  });
  const whole = (name: string, raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a positive whole number`);
    return n;
  };
  if (!values.out) throw new Error('--out FILE is required');
  return {
    vends: whole('vends', values.vends),
    soak: whole('soak', values.soak),
    out: values.out,
    timeLimitMs: whole('time-limit', values['time-limit']),
  };
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

async function startEmulators(): Promise<{ child: ChildProcess; info: EmulatorInfo }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/emulators.ts'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<EmulatorInfo>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`the emulator process exited (${code}) before it was ready`)),
    );
    lines.once('line', (line) => resolve(JSON.parse(line) as EmulatorInfo));
  });
  return { child, info };
}

/**
 * Memory after a full GC. RSS after GC still moves by a few MB from one reading to the next (V8
 * keeping or returning new-space pages, malloc arenas), so it is read three times a tick apart,
 * each after its own GC, and the lowest reading kept: what the process cannot give back.
 */
async function settledMemory(): Promise<{ heapUsed: number; rss: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let best: { heapUsed: number; rss: number } | undefined;
  for (let i = 0; i < 3; i += 1) {
    gc?.();
    gc?.();
    await new Promise((r) => setImmediate(r));
    const m = process.memoryUsage();
    if (!best || m.rss < best.rss) best = { heapUsed: m.heapUsed, rss: m.rss };
  }
  return best!;
}

/**
 * Growth per vend: the Theil–Sen slope (median of the pairwise slopes) of a value over the
 * checkpoints, in bytes per vend. One odd checkpoint cannot decide it, as it can a least-squares
 * line or a difference of two readings.
 */
function slope(points: readonly { vends: number; value: number }[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i += 1) {
    for (let j = i + 1; j < points.length; j += 1) {
      const dx = points[j]!.vends - points[i]!.vends;
      if (dx > 0) slopes.push((points[j]!.value - points[i]!.value) / dx);
    }
  }
  return slopes.length === 0 ? 0 : Math.round(summarize(slopes).p50 * MB);
}

const mb = (bytes: number) => round3(bytes / MB);

async function main(): Promise<void> {
  const o = options();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  progress('handler: starting the emulators in their own process');
  const { child, info } = await startEmulators();
  try {
    const env = info.functionEnv.credentials;
    if (!env) throw new Error('serverless.yml has no credentials function');
    Object.assign(process.env, env);

    const { handler } = await import('../functions/credentials');
    const baseline = await baselineOperation(iamCaller(info.ci.principal, info.ci.accessKeyId));
    const authorizer = iamAuthorizer(info.ci.principal, info.ci.accessKeyId);
    const body = JSON.stringify(VEND_BODY);
    let n = 0;
    const context = {
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      invokedFunctionArn: `arn:aws:lambda:${env.AWS_REGION}:222233334444:function:${env.AWS_LAMBDA_FUNCTION_NAME}`,
      awsRequestId: '',
      callbackWaitsForEmptyEventLoop: true,
    } as unknown as Context;
    // One fresh event per call (the chain parses the body into it), as API Gateway sends it.
    const vend: Operation = async () => {
      n += 1;
      const time = Date.now();
      const event = {
        version: '2.0',
        routeKey: `POST ${VEND_PATH}`,
        rawPath: VEND_PATH,
        rawQueryString: '',
        headers: { 'content-type': 'application/json', host: 'vend.local', 'user-agent': USER_AGENT },
        requestContext: {
          accountId: '222233334444',
          apiId: 'bench',
          authorizer,
          domainName: 'vend.local',
          domainPrefix: 'vend',
          http: {
            method: 'POST',
            path: VEND_PATH,
            protocol: 'HTTP/1.1',
            sourceIp: '127.0.0.1',
            userAgent: USER_AGENT,
          },
          requestId: `bench-handler-${n}`,
          routeKey: `POST ${VEND_PATH}`,
          stage: '$default',
          time: new Date(time).toISOString(),
          timeEpoch: time,
        },
        body,
        isBase64Encoded: false,
      };
      // As Lambda's context: middy arms its early-timeout timer from getRemainingTimeInMillis.
      const deadline = time + TIMEOUT_MS;
      const res = await handler(event as unknown as Parameters<typeof handler>[0], {
        ...context,
        awsRequestId: `req-${n}`,
        getRemainingTimeInMillis: () => deadline - Date.now(),
      });
      if (res.statusCode !== 200) throw new BenchCallError(`the handler answered ${res.statusCode}`);
      if (!res.body?.includes('"SessionToken"'))
        throw new BenchCallError('the handler answered without credentials');
    };

    const warmup = Math.min(300, Math.max(50, Math.round(o.vends / 5)));
    progress(`handler: warm-up, ${warmup} vends and baselines`);
    await runInterleaved(vend, baseline, warmup, o.timeLimitMs);

    progress(`handler: ${o.vends} direct vends and ${o.vends} baselines, interleaved, CPU per call`);
    const [v, b] = await runInterleaved(vend, baseline, o.vends, o.timeLimitMs);
    const msPerVend = v.cpuMs / Math.max(1, v.samples.length + v.errors);
    const msPerBaseline = b.cpuMs / Math.max(1, b.samples.length + b.errors);
    const handlerStats = summarize(v.samples);
    const baselineStats = summarize(b.samples);

    progress(`handler: soak, ${o.soak} vends, heap and RSS after GC at 20 checkpoints`);
    const start = await settledMemory();
    const checkpoints: HandlerFigures['soak']['checkpoints'] = [
      { vends: 0, heapUsedMB: mb(start.heapUsed), rssMB: mb(start.rss) },
    ];
    const every = Math.max(1, Math.floor(o.soak / 20));
    let soaked = 0;
    let soakErrors = 0;
    const errorExamples = [...v.errorExamples, ...b.errorExamples];
    const t0 = performance.now();
    while (soaked < o.soak && performance.now() - t0 < o.timeLimitMs) {
      try {
        await vend();
      } catch (e) {
        soakErrors += 1;
        if (errorExamples.length < 5) errorExamples.push(e instanceof Error ? e.message : String(e));
      }
      soaked += 1;
      if (soaked % every === 0 || soaked === o.soak) {
        const m = await settledMemory();
        checkpoints.push({ vends: soaked, heapUsedMB: mb(m.heapUsed), rssMB: mb(m.rss) });
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const end = await settledMemory();
    const half = Math.floor(checkpoints.length / 2);
    const rss = (points: typeof checkpoints) =>
      slope(points.map((p) => ({ vends: p.vends, value: p.rssMB })));
    const peak = (points: typeof checkpoints) => Math.max(...points.map((p) => p.rssMB));

    const figures: HandlerFigures = {
      function: 'credentials',
      vends: v.samples.length,
      latency: {
        handler: handlerStats,
        baseline: baselineStats,
        ratioP50: round3(handlerStats.p50 / baselineStats.p50),
        ratioP99: round3(handlerStats.p99 / baselineStats.p99),
      },
      cpu: {
        msPerVend: round3(msPerVend),
        msPerBaseline: round3(msPerBaseline),
        handlerOwnMsPerVend: round3(msPerVend - msPerBaseline),
        handlerOwnMedianMs: round3(summarize(v.cpuSamples ?? []).p50 - summarize(b.cpuSamples ?? []).p50),
      },
      soak: {
        vends: soaked,
        errors: soakErrors,
        seconds: round3(seconds),
        start: { heapUsedMB: mb(start.heapUsed), rssMB: mb(start.rss) },
        end: { heapUsedMB: mb(end.heapUsed), rssMB: mb(end.rss) },
        heapBytesPerVend: soaked ? Math.round((end.heapUsed - start.heapUsed) / soaked) : 0,
        rssBytesPerVendFirstHalf: rss(checkpoints.slice(0, half + 1)),
        rssBytesPerVendSecondHalf: rss(checkpoints.slice(half)),
        rssPeakMB: {
          firstHalf: peak(checkpoints.slice(0, half + 1)),
          secondHalf: peak(checkpoints.slice(half)),
        },
        checkpoints,
      },
      gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
      errors: v.errors + b.errors + soakErrors,
      errorExamples: errorExamples.slice(0, 5),
    };
    writeFileSync(o.out, `${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    child.stdin?.end();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    progress(`handler benchmark failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
