/**
 * The Lambda bundles as a deployment builds them, for the code that must build them the same way
 * outside osls: the benchmark (bench/cold-init.ts) and the bundle specs
 * (test/integration/bundles.test.ts). serverless.yml `custom.esbuild` is the one source: it is read
 * from the file and turned into esbuild options exactly as serverless-esbuild does (its own keys
 * removed, `exclude` added to `external`, `outputFileExtension` as `outExtension`), so a change
 * there changes what is measured and checked too.
 */
import { join, resolve } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { type FunctionDef, loadServerless, type ServiceDef } from '../local/gateway/serverless';

/** serverless-esbuild's own options, removed before the rest is handed to esbuild (its bundle.js). */
const PLUGIN_KEYS = new Set([
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
  'config',
]);

const strings = (value: unknown): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter(
    (v): v is string => typeof v === 'string',
  );

/**
 * esbuild options from a `custom.esbuild` block, as serverless-esbuild derives them. Relative paths
 * in it (an `alias` target) resolve against `rootDir`, the directory of serverless.yml.
 *
 * @example const options = lambdaBuildOptions(service.config.custom.esbuild, service.rootDir);
 */
export function lambdaBuildOptions(custom: Record<string, unknown>, rootDir: string): BuildOptions {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(custom)) if (!PLUGIN_KEYS.has(key)) options[key] = value;
  const exclude = strings(custom.exclude);
  const extension = typeof custom.outputFileExtension === 'string' ? custom.outputFileExtension : '.js';
  return {
    ...(options as BuildOptions),
    external: [...strings(custom.external), ...(exclude.includes('*') ? [] : exclude)],
    ...(extension === '.js' ? {} : { outExtension: { '.js': extension } }),
    absWorkingDir: rootDir,
    logLevel: 'silent',
  };
}

/** serverless.yml read for its functions and build options (no deployment values needed). */
export function loadService(rootDir: string): { service: ServiceDef; options: BuildOptions } {
  // The issuer only feeds the JWT authorizer and the environment; any URL resolves the file.
  const service = loadServerless(join(rootDir, 'serverless.yml'), {
    env: { ...process.env, VEND_OIDC_ISSUER: process.env.VEND_OIDC_ISSUER ?? 'https://issuer.invalid' },
  });
  const custom = ((service.config.custom as Record<string, unknown> | undefined)?.esbuild ?? {}) as Record<
    string,
    unknown
  >;
  return { service, options: lambdaBuildOptions(custom, rootDir) };
}

/** A function's source entry: `functions/health.handler` → `functions/health.ts`. */
export function entryOf(fn: Pick<FunctionDef, 'handler'>): string {
  return `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.ts`;
}

/** One function built: where its entry bundle is, and esbuild's account of every output. */
export interface BuiltFunction {
  /** Absolute path of the bundle Lambda loads (`<outdir>/health.mjs`). */
  bundle: string;
  metafile: Metafile;
  /** The metafile's paths are relative to this directory. */
  rootDir: string;
}

/**
 * Builds one entry (a function's, or any other file) with the Lambda options into `outdir`.
 *
 * @example const { bundle, metafile } = await buildLambda(options, root, 'functions/health.ts', tmp);
 */
export async function buildLambda(
  options: BuildOptions,
  rootDir: string,
  entry: string,
  outdir: string,
): Promise<BuiltFunction> {
  const result = await build({ ...options, entryPoints: [join(rootDir, entry)], outdir, metafile: true });
  const ext = options.outExtension?.['.js'] ?? '.js';
  const base = entry
    .split('/')
    .at(-1)!
    .replace(/\.[cm]?[jt]s$/, '');
  return { bundle: join(outdir, `${base}${ext}`), metafile: result.metafile, rootDir };
}

/** The npm package an input path belongs to (`node_modules/@aws-sdk/core/…` → `@aws-sdk/core`). */
export function packageOf(inputPath: string): string | undefined {
  const all = [...inputPath.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  return all.at(-1)?.[1];
}

/**
 * What a bundle loads: its input files reachable from the entry output through static imports
 * (`atInit`, evaluated at cold start) and through any import, dynamic ones included (`all`).
 * Inputs are esbuild's metafile paths (relative to the working directory).
 *
 * @example const { atInit } = loadedInputs(await buildLambda(…)); atInit.has('node_modules/axios/…')
 */
export function loadedInputs({ metafile, bundle, rootDir }: BuiltFunction): {
  atInit: Set<string>;
  all: Set<string>;
  outputs: { atInit: string[]; all: string[] };
} {
  const entry = Object.keys(metafile.outputs).find((o) => resolve(rootDir, o) === resolve(bundle));
  if (!entry) throw new Error(`no output of the metafile is ${bundle}`);
  const walk = (withDynamic: boolean): string[] => {
    const seen = new Set<string>([entry]);
    const queue = [entry];
    while (queue.length > 0) {
      const output = metafile.outputs[queue.pop()!]!;
      for (const imp of output.imports) {
        if (imp.external || seen.has(imp.path)) continue;
        if (imp.kind === 'dynamic-import' && !withDynamic) continue;
        seen.add(imp.path);
        queue.push(imp.path);
      }
    }
    return [...seen];
  };
  const inputsOf = (outs: string[]) =>
    new Set(outs.flatMap((o) => Object.keys(metafile.outputs[o]?.inputs ?? {})));
  const atInit = walk(false);
  const all = walk(true);
  return { atInit: inputsOf(atInit), all: inputsOf(all), outputs: { atInit, all } };
}
