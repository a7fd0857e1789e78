/**
 * The `vend` package as another project gets it (issue 14): `npm pack` (which runs `prepare`, the
 * build) makes a tarball whose bin is the built CLI and holds no TypeScript; a dependent project
 * installs it (`npm ci --offline`: from npm's cache, driven by a lockfile, as a project with a
 * lockfile installs), gets `node_modules/.bin/vend`, and `npx vend` runs it; and the installed vend
 * vends against the local stack loading nothing outside its own package (the bundle is whole).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStack } from '../../support/stack';
import { REPO, run } from './harness';
import { readRecording, recordingEnv, typeScriptLoaders } from './modules';

const exec = promisify(execFile);
const stack = withStack();
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vend-package-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** This environment without what an enclosing `npm test` sets for its own scripts. */
function npmEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[1] !== undefined && !/^npm_/i.test(e[0]) && e[0] !== 'NODE_OPTIONS',
    ),
  );
}

interface Lock {
  packages: Record<string, { dev?: boolean }>;
}

/**
 * A project that depends on the tarball, with a lockfile holding the tarball and the registry
 * packages it depends on exactly as the repository's lockfile pins them (so `--offline` finds
 * each in npm's cache without asking the registry for package lists).
 */
async function dependentProject(dir: string, tarball: string): Promise<void> {
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
  const lock = JSON.parse(await readFile(join(REPO, 'package-lock.json'), 'utf8')) as Lock;
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'uses-vend', version: '1.0.0', dependencies: { vend: spec } },
    'node_modules/vend': {
      version: pkg.version,
      resolved: spec,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages))
    if (path.startsWith('node_modules/') && !entry.dev) packages[path] = entry;
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'uses-vend', version: '1.0.0', private: true, dependencies: { vend: spec } }),
  );
  await writeFile(
    join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'uses-vend', version: '1.0.0', lockfileVersion: 3, requires: true, packages }),
  );
}

describe('npm pack and a dependent project', () => {
  it('the tarball holds the built bin; node_modules/.bin/vend and npx vend run it, whole', async () => {
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const packed = await exec('npm', ['pack', '--json', '--pack-destination', scratch], {
      cwd: REPO,
      env: npmEnv(),
    });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    const project = join(scratch, 'uses-vend');
    await dependentProject(project, join(scratch, info!.filename));
    await exec('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: project, env: npmEnv() });
    const bin = join(project, 'node_modules', '.bin', 'vend');
    const log = join(scratch, 'installed.log');

    const version = await run([bin, '--version'], npmEnv());
    const viaNpx = await exec('npx', ['--offline', 'vend', '--version'], { cwd: project, env: npmEnv() });
    const vended = await run([bin, 'credential-process', 'prod-readonly', '--aws-profile', 'ci'], {
      ...stack.env,
      VEND_CACHE_DIR: join(scratch, 'cache'),
      VEND_CONFIG_DIR: join(scratch, 'config'),
      ...recordingEnv(log),
    });
    const recording = await readRecording(log);

    expect(files).toEqual(expect.arrayContaining(['bin/vend.js', 'dist/cli/vend.mjs', 'package.json']));
    expect(
      files.filter(
        (f) => !/^(bin\/vend\.js|dist\/cli\/[^/]+\.mjs|package\.json|README\.md|LICENSE)$/.test(f),
      ),
    ).toEqual([]);
    expect(version).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    expect(viaNpx.stdout).toBe(`${pkg.version}\n`);
    expect(vended.stderr).toBe('');
    expect(JSON.parse(vended.stdout)).toMatchObject({
      Version: 1,
      AccessKeyId: expect.stringMatching(/^ASIA/),
    });
    expect(recording).toHaveLength(1);
    expect(typeScriptLoaders(recording)).toEqual([]);
    const loadedFiles = recording[0]!.modules.filter(
      (m) => m.startsWith('/') && !m.includes('record-modules'),
    );
    expect(loadedFiles.filter((m) => !m.startsWith(join(project, 'node_modules', 'vend', '')))).toEqual([]);
  }, 180_000);
});
