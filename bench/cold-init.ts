/**
 * Per function: the bundle a deployment ships, how long a fresh Node process takes to load it, and
 * the same for its "SDK floor", so that vend's own share of a cold start is visible.
 *
 * Bundles are built by infra/bundle/esbuild.ts from serverless.yml's own `custom.esbuild` (the
 * options serverless-esbuild hands to esbuild: ES modules first, the environment-only credential
 * provider, splitting, the createRequire banner …), so the benchmark follows the deployment.
 *
 * The SDK floor of a function is a bundle built with the same options that only constructs the
 * SDK clients the function's bundle loads at init, with lib/wiring/clients.ts's configuration (region,
 * environment credentials, attempts, timeouts): the least any function holding those clients can
 * cost. "The clients a function constructs" is read from its metafile (the `@aws-sdk/client-*`
 * packages and lib-dynamodb it loads at init), so a function added later gets its floor without
 * anyone writing one; a client this file has no recipe for is reported, not guessed.
 *
 * Each bundle is imported by `runs` fresh `node` processes with the function's Lambda environment,
 * the function's and its floor's runs alternating; the child measures `performance.now()` and
 * `process.cpuUsage()` just before and after `await import(bundle)`. The cold init figure is the
 * median import time (module evaluation: SDK clients, logger …); its CPU time is reported beside it
 * (steadier than wall time on a shared machine), and so is the time since process start (Node's own
 * bootstrap included), for context.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import {
  type BuiltFunction,
  buildLambda,
  entryOf,
  loadedInputs,
  loadService,
  packageOf,
} from '../infra/bundle/esbuild';
import { REPO_ROOT } from '../infra/local/stack';
import { round3 } from './stats';

const run = promisify(execFile);

/** One import measured in fresh processes. */
export interface ImportTiming {
  /** Median import time over the runs (the cold init figure). */
  coldInitMs?: number;
  /** Median CPU time (user + system) of the import. */
  coldInitCpuMs?: number;
  /** Median time from process start to the end of the import (Node bootstrap included). */
  processMs?: number;
  /** Every run's import time, in run order. */
  runsMs?: number[];
}

/** What was measured for one function. */
export interface FunctionResult extends ImportTiming {
  handler: string;
  /** Bytes Lambda loads at init: the bundle and the chunks it imports statically. */
  bundleBytes?: number;
  /** The same, gzip-compressed (roughly what the deployment zip holds). */
  gzipBytes?: number;
  /** Bytes in chunks loaded only by a dynamic import (e.g. @slack/web-api at the first message). */
  lazyBytes?: number;
  /** The largest contributors to what is loaded at init (npm package, or a first-party folder), in KiB. */
  largest?: { name: string; kib: number }[];
  /** The SDK floor: the clients this function constructs, alone, same options and configuration. */
  sdkFloor?: ImportTiming & { clients: string[]; bundleBytes?: number };
  /** coldInitMs / sdkFloor.coldInitMs (and the same for CPU). */
  floorRatio?: number;
  floorCpuRatio?: number;
  /** Why the function (or its floor) could not be built or loaded, when it could not. */
  error?: string;
}

/** The child's script: time the import alone, print JSON, nothing else. */
const CHILD = [
  'const c0 = process.cpuUsage();',
  'const t0 = performance.now();',
  'await import(process.env.BENCH_BUNDLE_URL);',
  'const t1 = performance.now();',
  'const c = process.cpuUsage(c0);',
  'process.stdout.write(JSON.stringify({ importMs: t1 - t0, cpuMs: (c.user + c.system) / 1000, processMs: t1 }));',
].join('\n');

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Bytes in the given outputs per npm package (or first-party folder), largest first. */
function largestInputs(meta: Metafile, outputs: string[], top = 6): { name: string; kib: number }[] {
  const by = new Map<string, number>();
  for (const o of outputs) {
    for (const [path, input] of Object.entries(meta.outputs[o]?.inputs ?? {})) {
      const name = packageOf(path) ?? path.split('/').slice(0, -1).join('/');
      by.set(name, (by.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, bytes]) => ({ name, kib: Math.round(bytes / 1024) }));
}

/**
 * How lib/wiring/clients.ts (and lib/wiring/audit-trail.ts for KMS) construct each client: the floor makes
 * the same objects. Keep in step with those files.
 */
const FLOOR_RECIPES: Record<string, { imports: string; construct: string; after?: true }> = {
  '@aws-sdk/client-dynamodb': {
    imports: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
    construct:
      'export const dynamodb = new DynamoDBClient({ region, credentials: fromEnv(), maxAttempts: 3, ' +
      'requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 } });',
  },
  '@aws-sdk/lib-dynamodb': {
    imports: "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
    construct:
      'export const documents = DynamoDBDocumentClient.from(dynamodb, ' +
      '{ marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });',
    after: true,
  },
  '@aws-sdk/client-sts': {
    imports: "import { STSClient } from '@aws-sdk/client-sts';",
    construct:
      'export const sts = new STSClient({ region, credentials: fromEnv(), maxAttempts: 1, ' +
      'requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } });',
  },
  '@aws-sdk/client-kms': {
    imports: "import { KMSClient } from '@aws-sdk/client-kms';",
    construct: 'export const kms = new KMSClient({ region, maxAttempts: 3 });',
  },
};

/** The floor module for these client packages, or why there is none. */
function floorSource(clients: string[]): { source: string } | { error: string } {
  const unknown = clients.filter((c) => !FLOOR_RECIPES[c]);
  if (unknown.length > 0)
    return { error: `no SDK floor recipe for ${unknown.join(', ')} (bench/cold-init.ts)` };
  // A client built over another (the document client over DynamoDB) comes after it.
  const order = [...clients].sort(
    (a, b) => (FLOOR_RECIPES[a]!.after ? 1 : 0) - (FLOOR_RECIPES[b]!.after ? 1 : 0),
  );
  const lines = [
    "import { fromEnv } from '@aws-sdk/credential-provider-env';",
    ...order.map((c) => FLOOR_RECIPES[c]!.imports),
    'const region = process.env.AWS_REGION;',
    ...order.map((c) => FLOOR_RECIPES[c]!.construct),
    // Nothing else: exported so the clients are not tree-shaken away.
  ];
  return { source: lines.join('\n') };
}

/** The SDK client packages a function's bundle loads at init. */
function clientsOf(fn: BuiltFunction): string[] {
  const present = new Set([...loadedInputs(fn).atInit].map(packageOf));
  return [...present]
    .filter((p): p is string => !!p && (p in FLOOR_RECIPES || /^@aws-sdk\/client-/.test(p)))
    .sort();
}

async function buildFloor(
  options: BuildOptions,
  source: string,
  outdir: string,
): Promise<{ bundle: string; bytes: number }> {
  await build({
    ...options,
    stdin: { contents: source, resolveDir: REPO_ROOT, sourcefile: 'sdk-floor.ts', loader: 'ts' },
    outdir,
  });
  const ext = options.outExtension?.['.js'] ?? '.js';
  const bundle = join(outdir, `stdin${ext}`);
  return { bundle, bytes: (await stat(bundle)).size };
}

async function importOnce(bundle: string, env: Record<string, string>) {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...env, BENCH_BUNDLE_URL: pathToFileURL(bundle).href },
    timeout: 30_000,
  });
  return JSON.parse(stdout) as { importMs: number; cpuMs: number; processMs: number };
}

function timing(runs: { importMs: number; cpuMs: number; processMs: number }[]): ImportTiming {
  return {
    runsMs: runs.map((r) => round3(r.importMs)),
    coldInitMs: round3(median(runs.map((r) => r.importMs))),
    coldInitCpuMs: round3(median(runs.map((r) => r.cpuMs))),
    processMs: round3(median(runs.map((r) => r.processMs))),
  };
}

/**
 * Builds every function of serverless.yml and its SDK floor, and measures both cold inits.
 *
 * @example const fns = await measureFunctions({ runs: 10 });
 */
export async function measureFunctions(opts: {
  runs: number;
  onProgress?: (line: string) => void;
}): Promise<Record<string, FunctionResult>> {
  const { service, options } = loadService(REPO_ROOT);
  const outdir = await mkdtemp(join(tmpdir(), 'vend-bench-bundles-'));
  const results: Record<string, FunctionResult> = {};
  try {
    for (const fn of service.functions.values()) {
      const result: FunctionResult = { handler: fn.handler };
      results[fn.key] = result;
      let built: BuiltFunction;
      let floor: { bundle: string; bytes: number } | undefined;
      try {
        built = await buildLambda(options, REPO_ROOT, entryOf(fn), join(outdir, fn.key));
        const { outputs } = loadedInputs(built);
        const size = async (list: string[]) => {
          let bytes = 0;
          let gzip = 0;
          for (const o of list) {
            const text = await readFile(join(REPO_ROOT, o));
            bytes += text.length;
            gzip += gzipSync(text).length;
          }
          return { bytes, gzip };
        };
        const atInit = await size(outputs.atInit);
        result.bundleBytes = atInit.bytes;
        result.gzipBytes = atInit.gzip;
        result.lazyBytes = (await size(outputs.all.filter((o) => !outputs.atInit.includes(o)))).bytes;
        result.largest = largestInputs(built.metafile, outputs.atInit);
        const clients = clientsOf(built);
        const source = floorSource(clients);
        if ('error' in source) result.error = source.error;
        else {
          floor = await buildFloor(options, source.source, join(outdir, `${fn.key}-floor`));
          result.sdkFloor = { clients, bundleBytes: floor.bytes };
        }
      } catch (e) {
        result.error = `build failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
        opts.onProgress?.(`  ${fn.key}: ${result.error}`);
        continue;
      }
      // What Lambda gives the function: its environment (provider + own), the region, its name.
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        ...fn.environment,
        AWS_REGION: service.region,
        AWS_DEFAULT_REGION: service.region,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      };
      const own: Awaited<ReturnType<typeof importOnce>>[] = [];
      const base: Awaited<ReturnType<typeof importOnce>>[] = [];
      try {
        // One unmeasured run of each first, so every measured run finds the files in the page cache
        // (a Lambda reads its code from local disk too; the first read here would measure the disk).
        // A single-run smoke measurement skips it. Function and floor alternate, so drift on a
        // shared machine falls on both.
        const prime = opts.runs > 1 ? 1 : 0;
        for (let i = 1 - prime; i <= opts.runs; i += 1) {
          const a = await importOnce(built.bundle, env);
          const b = floor ? await importOnce(floor.bundle, env) : undefined;
          if (i < 1) continue;
          own.push(a);
          if (b) base.push(b);
        }
      } catch (e) {
        result.error = `import failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
        opts.onProgress?.(`  ${fn.key}: ${result.error}`);
        continue;
      }
      Object.assign(result, timing(own));
      if (result.sdkFloor && base.length > 0) {
        Object.assign(result.sdkFloor, timing(base));
        result.floorRatio = round3(result.coldInitMs! / result.sdkFloor.coldInitMs!);
        result.floorCpuRatio = round3(result.coldInitCpuMs! / result.sdkFloor.coldInitCpuMs!);
      }
      opts.onProgress?.(
        `  ${fn.key}: ${((result.bundleBytes ?? 0) / 1024).toFixed(0)} KiB at init, import ` +
          `${result.coldInitMs?.toFixed(1)} ms (median of ${own.length})` +
          (result.sdkFloor?.coldInitMs === undefined
            ? ''
            : `, SDK floor [${result.sdkFloor.clients.join(', ') || 'no client'}] ${result.sdkFloor.coldInitMs.toFixed(1)} ms`),
      );
    }
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
  return results;
}
