/**
 * Builds the web console (issue 16) into `dist/web/`: one minified ES module (`app-<hash>.js`: the
 * app, Preact and oauth4webapi), one stylesheet (`app-<hash>.css`) and `index.html` naming them.
 * Content-hashed names let a CDN cache the two assets for good while `index.html` is revalidated.
 *
 * No source maps and no inline anything: the Content-Security-Policy allows only same-origin
 * script and style files (docs/web.md). `npm ci` runs this through `prepare`; `npm run build:web`
 * runs it by hand; the browser spec and the bundle-size spec call {@link buildWeb}.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const WEB = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(WEB, '..');

/** Where `npm run build:web` writes, and where the local gateway serves from. */
export const DEFAULT_WEB_DIR = join(ROOT, 'dist', 'web');

/** One file of the build, with its size as sent (gzip, as CloudFront and browsers compress). */
export interface BuiltFile {
  name: string;
  bytes: number;
  gzipBytes: number;
}

/** What {@link buildWeb} wrote. */
export interface WebBuild {
  outDir: string;
  files: BuiltFile[];
  /** The script's name (`app-<hash>.js`). */
  script: string;
  stylesheet: string;
}

/**
 * Builds the app into `outDir` (emptied first).
 *
 * @example
 * const { files } = await buildWeb({ outDir: '/tmp/web' });
 * files.find((f) => f.name.endsWith('.js'))?.gzipBytes // ≈ 20 000
 */
export async function buildWeb(opts: { outDir?: string } = {}): Promise<WebBuild> {
  const outDir = resolve(opts.outDir ?? DEFAULT_WEB_DIR);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [
      { in: join(WEB, 'src', 'main.tsx'), out: 'app' },
      { in: join(WEB, 'app.css'), out: 'app' },
    ],
    outdir: outDir,
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const script = outputs.find((n) => n.endsWith('.js'));
  const stylesheet = outputs.find((n) => n.endsWith('.css'));
  if (!script || !stylesheet) throw new Error(`web build: expected a .js and a .css output, got ${outputs}`);
  const html = (await readFile(join(WEB, 'index.html'), 'utf8'))
    .replace('/__JS__', `/${script}`)
    .replace('/__CSS__', `/${stylesheet}`);
  await writeFile(join(outDir, 'index.html'), html);
  const files: BuiltFile[] = [];
  for (const name of [...outputs, 'index.html']) {
    const body = await readFile(join(outDir, name));
    files.push({ name, bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length });
  }
  return { outDir, files, script, stylesheet };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv.indexOf('--out');
  const built = await buildWeb({ outDir: out >= 0 ? process.argv[out + 1] : undefined });
  // On stderr: `npm pack --json` runs `prepare`, and its stdout must stay the JSON.
  for (const f of built.files) {
    process.stderr.write(
      `web: ${f.name.padEnd(24)} ${String(f.bytes).padStart(7)} B  ${String(f.gzipBytes).padStart(6)} B gzip\n`,
    );
  }
  process.stderr.write(`web: built into ${built.outDir}\n`);
}
