/**
 * Per function: the bundle a deployment ships and how long a fresh Node process takes to load it.
 *
 * Bundles are built with esbuild using serverless.yml's own `custom.esbuild` options (bundle,
 * minify, ESM, node22 target, keepNames, the createRequire banner, nothing external), read from the
 * file so the benchmark follows the deployment. Each bundle is then imported by `runs` fresh `node`
 * processes with the function's Lambda environment; the child measures `performance.now()` just
 * before and just after `await import(bundle)` and prints both. The cold init figure is the import
 * time (module evaluation: SDK clients, logger, schema compilation …); the time since process start
 * (Node's own bootstrap included) is reported beside it for context.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { loadServerless } from '../infra/local/gateway/serverless';
import { REPO_ROOT } from '../infra/local/stack';
import { round3 } from './stats';

const run = promisify(execFile);

/** What was measured for one function. */
export interface FunctionResult {
  handler: string;
  /** Size of the `.mjs` bundle in bytes. */
  bundleBytes?: number;
  /** The same, gzip-compressed (roughly what the deployment zip holds). */
  gzipBytes?: number;
  /** Median import time over the runs (the cold init figure). */
  coldInitMs?: number;
  /** Median time from process start to the end of the import (Node bootstrap included). */
  processMs?: number;
  /** Every run's import time, in run order. */
  runsMs?: number[];
  /** The largest contributors to the bundle (npm package, or a first-party folder), in KiB. */
  largest?: { name: string; kib: number }[];
  /** Why the function could not be built or loaded, when it could not. */
  error?: string;
}

/** The child's script: time the import alone, print JSON, nothing else. */
const CHILD = [
  'const t0 = performance.now();',
  'await import(process.env.BENCH_BUNDLE_URL);',
  'const t1 = performance.now();',
  'process.stdout.write(JSON.stringify({ importMs: t1 - t0, processMs: t1 }));',
].join('\n');

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Bytes in the output per npm package (or first-party folder), largest first. */
function largestInputs(meta: Metafile, top = 6): { name: string; kib: number }[] {
  const by = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
      const name = pkg ?? path.split('/').slice(0, -1).join('/');
      by.set(name, (by.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, bytes]) => ({ name, kib: Math.round(bytes / 1024) }));
}

/** esbuild options from serverless.yml's custom.esbuild (the subset esbuild's API takes). */
function esbuildOptions(custom: Record<string, unknown>): BuildOptions {
  const banner = custom.banner as { js?: string } | undefined;
  return {
    bundle: custom.bundle !== false,
    minify: custom.minify === true,
    sourcemap: custom.sourcemap === true,
    format: (custom.format as BuildOptions['format']) ?? 'esm',
    target: (custom.target as string) ?? 'node22',
    platform: (custom.platform as BuildOptions['platform']) ?? 'node',
    keepNames: custom.keepNames === true,
    external: (custom.exclude as string[] | undefined) ?? [],
    ...(banner?.js ? { banner: { js: banner.js } } : {}),
    outExtension: { '.js': (custom.outputFileExtension as string | undefined) ?? '.mjs' },
    logLevel: 'silent',
  };
}

/**
 * Builds every function of serverless.yml and measures its cold init.
 *
 * @example const fns = await measureFunctions({ runs: 10 });
 */
export async function measureFunctions(opts: {
  runs: number;
  onProgress?: (line: string) => void;
}): Promise<Record<string, FunctionResult>> {
  // The issuer only feeds the JWT authorizer and the environment; any URL resolves the file.
  const service = loadServerless(join(REPO_ROOT, 'serverless.yml'), {
    env: { ...process.env, VEND_OIDC_ISSUER: process.env.VEND_OIDC_ISSUER ?? 'https://issuer.invalid' },
  });
  const custom = ((service.config.custom as Record<string, unknown> | undefined)?.esbuild ?? {}) as Record<
    string,
    unknown
  >;
  const options = esbuildOptions(custom);
  const outdir = await mkdtemp(join(tmpdir(), 'vend-bench-bundles-'));
  const results: Record<string, FunctionResult> = {};
  try {
    for (const fn of service.functions.values()) {
      const result: FunctionResult = { handler: fn.handler };
      results[fn.key] = result;
      const modulePath = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
      const fnOut = join(outdir, fn.key);
      const ext = (options.outExtension as Record<string, string>)['.js'];
      const bundle = join(fnOut, `${modulePath.split('/').at(-1)}${ext}`);
      try {
        const built = await build({
          ...options,
          entryPoints: [join(REPO_ROOT, `${modulePath}.ts`)],
          outdir: fnOut,
          metafile: true,
        });
        result.largest = largestInputs(built.metafile);
        result.bundleBytes = (await stat(bundle)).size;
        result.gzipBytes = gzipSync(await readFile(bundle)).length;
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
        BENCH_BUNDLE_URL: pathToFileURL(bundle).href,
      };
      const imports: number[] = [];
      const totals: number[] = [];
      try {
        // One unmeasured run first, so every measured run finds the bundle in the page cache (a
        // Lambda reads its code from local disk too; the first read here would measure the disk).
        // (A single-run smoke measurement skips it.)
        const prime = opts.runs > 1 ? 1 : 0;
        for (let i = 1 - prime; i <= opts.runs; i += 1) {
          const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], {
            env,
            timeout: 30_000,
          });
          const timing = JSON.parse(stdout) as { importMs: number; processMs: number };
          if (i < 1) continue;
          imports.push(round3(timing.importMs));
          totals.push(timing.processMs);
        }
      } catch (e) {
        result.error = `import failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
        opts.onProgress?.(`  ${fn.key}: ${result.error}`);
        continue;
      }
      result.runsMs = imports;
      result.coldInitMs = round3(median(imports));
      result.processMs = round3(median(totals));
      opts.onProgress?.(
        `  ${fn.key}: ${(result.bundleBytes / 1024).toFixed(0)} KiB, import ${result.coldInitMs.toFixed(1)} ms (median of ${imports.length})`,
      );
    }
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
  return results;
}
