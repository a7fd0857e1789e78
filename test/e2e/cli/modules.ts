/**
 * What a `vend` process loaded, read from the file that fixtures/record-modules.mjs writes when
 * preloaded through NODE_OPTIONS (every node process in the tree records into it), and what those
 * modules are: TypeScript loaders, TypeScript sources, and, for the built CLI's chunks, the source
 * files each chunk holds (dist/cli/build-info.json).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { REPO } from './harness';

/** The preload that records; pass {@link recordingEnv} to the process tree. */
export const RECORDER = fileURLToPath(new URL('./fixtures/record-modules.mjs', import.meta.url));

/** The environment that makes every node process in a tree record into `log`. */
export function recordingEnv(log: string): Record<string, string> {
  return { NODE_OPTIONS: `--import=${pathToFileURL(RECORDER).href}`, VEND_MODULE_LOG: log };
}

/** One node process: its command line and every module it resolved (URLs or paths). */
export interface ProcessRecord {
  pid: string;
  argv: string[];
  modules: string[];
}

/** The processes in a recording, in the order they started. */
export async function readRecording(log: string): Promise<ProcessRecord[]> {
  const byPid = new Map<string, ProcessRecord>();
  const text = await readFile(log, 'utf8').catch(() => '');
  for (const line of text.split('\n').filter(Boolean)) {
    const [pid = '', kind, ...rest] = line.split(' ');
    const what = rest.join(' ');
    const rec = byPid.get(pid) ?? { pid, argv: [], modules: [] };
    byPid.set(pid, rec);
    if (kind === 'argv') rec.argv = JSON.parse(what) as string[];
    else rec.modules.push(what.startsWith('file:') ? fileURLToPath(what) : what);
  }
  return [...byPid.values()];
}

/** The recorded node processes that ran the vend bin (`…/bin/vend.js`). */
export const vendProcesses = (recording: ProcessRecord[]): ProcessRecord[] =>
  recording.filter((p) => p.argv.some((a) => a.endsWith(join('bin', 'vend.js'))));

const LOADER_PACKAGE =
  /[\\/]node_modules[\\/](tsx|esbuild|@esbuild|get-tsconfig|ts-node|@swc|typescript)[\\/]/;
const TYPESCRIPT_FILE = /\.[cm]?tsx?$/;

/**
 * Everything in a recording that means TypeScript was being compiled: a module of a TypeScript
 * loader or compiler, a TypeScript source, or a loader flag on a node command line (the recorder's
 * own `--import` aside). Empty for the built CLI.
 */
export function typeScriptLoaders(recording: ProcessRecord[]): string[] {
  const found: string[] = [];
  for (const p of recording) {
    for (const m of p.modules) if (LOADER_PACKAGE.test(m) || TYPESCRIPT_FILE.test(m)) found.push(m);
    const flags = p.argv.filter(
      (a) => /^--(import|loader|experimental-loader|require)\b|^-r$/.test(a) && !a.includes('record-modules'),
    );
    const tsxArgs = p.argv.filter((a) => /(^|[\\/])tsx([\\/]|$)/.test(a));
    found.push(...flags.map((f) => `flag ${f}`), ...tsxArgs.map((a) => `argv ${a}`));
  }
  return found;
}

/** The build record of dist/cli/: output file → the source files bundled into it. */
export async function builtOutputs(): Promise<Record<string, string[]>> {
  const info = JSON.parse(await readFile(join(REPO, 'dist', 'cli', 'build-info.json'), 'utf8')) as {
    outputs: Record<string, string[]>;
  };
  return info.outputs;
}

/**
 * The source files a process ran, through the built chunks it loaded from `distDir` (and the
 * chunks themselves, for the caller to check they all came from there).
 */
export function sourcesLoaded(
  p: ProcessRecord,
  outputs: Record<string, string[]>,
  distDir = join(REPO, 'dist', 'cli'),
): { chunks: string[]; sources: string[] } {
  const chunks = [...new Set(p.modules.filter((m) => m.startsWith(`${distDir}/`)))];
  const sources = new Set<string>();
  for (const c of chunks) for (const s of outputs[c.slice(distDir.length + 1)] ?? []) sources.add(s);
  return { chunks, sources: [...sources].sort() };
}
