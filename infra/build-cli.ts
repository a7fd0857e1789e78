/**
 * `npm run build:cli` (and `prepare`, so `npm ci`, `npm install` and `npm pack` run it): bundles
 * the `vend` CLI (lib/cli/run.ts and everything it imports) into dist/cli/ with esbuild, so that
 * `bin/vend.js` starts plain JavaScript and never compiles TypeScript (issue 14).
 *
 * Shape of the output, and why:
 * - ESM with code splitting: each command module (lib/cli/commands/*) is loaded by a dynamic
 *   import in lib/cli/main.ts, and each such import becomes its own chunk; so do the SDK's own lazy
 *   imports (credential providers). `vend credential-process` with a fresh cache loads the entry,
 *   commander and its own chunk, not the AWS SDK clients, the audit tooling or the other commands.
 * - Everything bundled, minified, `node20`: a dependent project's `node_modules/.bin/vend` needs
 *   nothing else at run time, and fewer, smaller files parse faster than node_modules.
 * - Flat: every file sits directly in dist/cli/, two levels below the package root like the
 *   sources in lib/cli/, so the `new URL('../../…', import.meta.url)` paths the CLI uses
 *   (package.json for `--version`, bin/vend.js for `--write-profile`) resolve the same way.
 * - `vend dev` runs the local stack's TypeScript (infra/local/oidc) through tsx, a devDependency,
 *   only when that command runs: the bundle holds no local-stack code (`VEND_CLI_BUNDLE` below).
 *
 * The build writes dist/cli/build-info.json: the SHA-256 of every input file and which inputs each
 * output holds. `--if-stale` rebuilds only when an input changed (the test suite's global setup
 * runs it), and the bin's tests read which chunks a command loaded from it.
 *
 * Built into a fresh directory and swapped in, so a concurrent run never sees half a build.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, version as esbuildVersion, type Plugin } from 'esbuild';

/** The package root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where the built CLI goes (gitignored; part of the npm package through `files`). */
export const CLI_OUT_DIR = join(ROOT, 'dist', 'cli');
/** The entry bin/vend.js imports. */
export const CLI_ENTRY = join(CLI_OUT_DIR, 'vend.mjs');
const INFO_FILE = 'build-info.json';
const SELF = fileURLToPath(import.meta.url);

/** What a build records (dist/cli/build-info.json). */
export interface CliBuildInfo {
  esbuild: string;
  /** SHA-256 of this script, so a changed build recipe counts as a changed input. */
  script: string;
  /** Input path (relative to the root) → SHA-256 of its content. */
  inputs: Record<string, string>;
  /** Output file name (in dist/cli/) → the input paths bundled into it. */
  outputs: Record<string, string[]>;
}

/**
 * Keeps the local stack (infra/local/**) out of the bundle. `vend dev`'s import of it sits in a
 * branch the bundle never takes (`VEND_CLI_BUNDLE`), but esbuild would still emit it as a chunk;
 * it is left external instead. Any other import of infra/local fails the build.
 */
const noLocalStack: Plugin = {
  name: 'no-local-stack',
  setup(b) {
    b.onResolve({ filter: /(^|\/)infra\/local\// }, (args) => {
      if (args.kind === 'dynamic-import' && args.importer.endsWith(join('lib', 'cli', 'commands', 'dev.ts')))
        return { path: args.path, external: true };
      return {
        errors: [
          { text: `the CLI bundle must not include the local stack: ${args.importer} imports ${args.path}` },
        ],
      };
    });
  },
};

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * Builds the CLI into dist/cli/ (replacing what was there).
 *
 * @example const info = await buildCli(); Object.keys(info.outputs) // ['vend.mjs', 'credential-process-….mjs', …]
 */
export async function buildCli(): Promise<CliBuildInfo> {
  const tmp = join(ROOT, 'dist', `.cli-${randomBytes(4).toString('hex')}`);
  try {
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: { vend: 'lib/cli/run.ts' },
      outdir: tmp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // The ES module builds first: a dynamic import of a bundled CommonJS build has only a
      // `default` export (esbuild cannot see its names), which breaks `await import('@aws-sdk/…')`.
      mainFields: ['module', 'main'],
      outExtension: { '.js': '.mjs' },
      entryNames: '[name]',
      chunkNames: '[name]-[hash]',
      minify: true,
      // Error classes name themselves from new.target.name (lib/cli/errors.ts), and the audit
      // commands recognise SDK errors by name.
      keepNames: true,
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
      // Bundled CommonJS (commander, parts of the SDK) still calls require() for Node's builtins.
      banner: {
        js: "import { createRequire as __vendCreateRequire } from 'node:module'; const require = __vendCreateRequire(import.meta.url);",
      },
      define: { VEND_CLI_BUNDLE: 'true' },
      // Only `vend dev` imports it, and only in a checkout (lib/cli/commands/dev.ts).
      external: ['tsx', 'tsx/*'],
      plugins: [noLocalStack],
    });
    const inputs: Record<string, string> = {};
    for (const path of Object.keys(result.metafile.inputs)) {
      inputs[path] = sha256(await readFile(join(ROOT, path)));
    }
    const outputs: Record<string, string[]> = {};
    for (const [path, out] of Object.entries(result.metafile.outputs)) {
      outputs[relative(tmp, join(ROOT, path))] = Object.keys(out.inputs);
    }
    const info: CliBuildInfo = {
      esbuild: esbuildVersion,
      script: sha256(await readFile(SELF)),
      inputs,
      outputs,
    };
    await writeFile(join(tmp, INFO_FILE), `${JSON.stringify(info, null, 1)}\n`);
    if (await sameFiles(tmp, CLI_OUT_DIR, Object.keys(outputs))) {
      // The build is deterministic: unchanged output stays in place (a running vend keeps
      // finding its chunks); only the record of the inputs is replaced.
      await rename(join(tmp, INFO_FILE), join(CLI_OUT_DIR, INFO_FILE));
    } else {
      const old = `${tmp}-old`;
      await rename(CLI_OUT_DIR, old).catch(() => undefined);
      await rename(tmp, CLI_OUT_DIR);
      await rm(old, { recursive: true, force: true });
    }
    return info;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Whether `a` and `b` hold exactly `files` (besides the build record), byte for byte. */
async function sameFiles(a: string, b: string, files: string[]): Promise<boolean> {
  const present = await readdir(b).catch(() => undefined);
  if (!present) return false;
  const expected = new Set([...files, INFO_FILE]);
  if (present.length !== expected.size || present.some((f) => !expected.has(f))) return false;
  for (const f of files) {
    const [x, y] = await Promise.all([readFile(join(a, f)), readFile(join(b, f)).catch(() => undefined)]);
    if (!y || !x.equals(y)) return false;
  }
  return true;
}

/** The last build's record, if dist/cli/ holds one. */
export async function readCliBuildInfo(): Promise<CliBuildInfo | undefined> {
  try {
    return JSON.parse(await readFile(join(CLI_OUT_DIR, INFO_FILE), 'utf8')) as CliBuildInfo;
  } catch {
    return undefined;
  }
}

/**
 * Whether dist/cli/ was built from the sources as they are now: same esbuild, same script, every
 * input unchanged. A new file the CLI would import shows up as a changed importer.
 */
export async function cliBuildIsCurrent(): Promise<boolean> {
  const info = await readCliBuildInfo();
  if (!info || info.esbuild !== esbuildVersion || info.script !== sha256(await readFile(SELF))) return false;
  for (const [path, hash] of Object.entries(info.inputs)) {
    const now = await readFile(join(ROOT, path)).catch(() => undefined);
    if (!now || sha256(now) !== hash) return false;
  }
  for (const file of Object.keys(info.outputs)) {
    if (!(await readFile(join(CLI_OUT_DIR, file)).catch(() => undefined))) return false;
  }
  return true;
}

/** Builds unless the build is current; says which. */
export async function ensureCliBuilt(say: (line: string) => void = () => undefined): Promise<void> {
  if (await cliBuildIsCurrent()) return;
  const started = performance.now();
  const info = await buildCli();
  say(
    `build:cli: built dist/cli/ (${Object.keys(info.outputs).length} files) in ${Math.round(performance.now() - started)} ms`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const say = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  if (process.argv.includes('--if-stale')) await ensureCliBuilt(say);
  else {
    const started = performance.now();
    const info = await buildCli();
    say(
      `build:cli: built dist/cli/ (${Object.keys(info.outputs).length} files) in ${Math.round(performance.now() - started)} ms`,
    );
  }
}
