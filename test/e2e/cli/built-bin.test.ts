/**
 * The built `vend` bin (issue 14, "must show"): after the build `npm ci` runs, the AWS CLI with
 * `credential_process` pointing at bin/vend.js works against the local stack, and no process on
 * that path loads a TypeScript loader. Every node process the AWS CLI starts is preloaded with a
 * recorder (fixtures/record-modules.mjs, through NODE_OPTIONS) that writes down each module it
 * resolves and its command line; the recording is then read, not the code path assumed.
 */
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLine } from '../../../lib/cli/profile';
import { withStack } from '../../support/stack';
import { REPO, run, VEND, vend } from './harness';
import {
  builtOutputs,
  readRecording,
  recordingEnv,
  sourcesLoaded,
  typeScriptLoaders,
  vendProcesses,
} from './modules';

const gatewayLog: string[] = [];
const stack = withStack({ log: (line) => gatewayLog.push(line) });
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vend-built-bin-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function userEnv(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...stack.env,
    VEND_CACHE_DIR: join(scratch, name, 'cache'),
    VEND_CONFIG_DIR: join(scratch, name, 'config'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

const arn = (stdout: string): string => (JSON.parse(stdout) as { Arn: string }).Arn;
const vends = () => gatewayLog.filter((l) => /^POST \/v1\/(service\/)?credentials 200/.test(l)).length;

describe('credential_process runs the built bin', () => {
  it('the AWS CLI gets credentials, then the cache, and no process loads a TypeScript loader', async () => {
    const env = userEnv('aws');
    const line = commandLine([...VEND, 'credential-process', 'prod-readonly', '--aws-profile', 'ci']);
    await appendFile(
      env.AWS_CONFIG_FILE!,
      `\n[profile vend-built]\nregion = us-east-1\ncredential_process = ${line}\n`,
    );
    const firstLog = join(scratch, 'first.log');
    const cachedLog = join(scratch, 'cached.log');
    const before = vends();

    const aws = ['aws', '--profile', 'vend-built', 'sts', 'get-caller-identity', '--output', 'json'];
    const first = await run(aws, { ...env, ...recordingEnv(firstLog) });
    const cached = await run(aws, { ...env, ...recordingEnv(cachedLog) });
    const recordings = [await readRecording(firstLog), await readRecording(cachedLog)];
    const outputs = await builtOutputs();

    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(arn(first.stdout)).toMatch(/^arn:aws:sts::444455556666:assumed-role\/ProdReadOnly\//);
    expect(arn(cached.stdout)).toBe(arn(first.stdout));
    expect(vends() - before).toBe(1);
    for (const recording of recordings) {
      const runs = vendProcesses(recording);
      expect(runs).toHaveLength(1); // the recorder saw the process the AWS CLI started
      expect(typeScriptLoaders(recording)).toEqual([]);
      const own = runs[0]!.modules.filter((m) => m.startsWith(REPO) && !m.includes('record-modules'));
      // bin/vend.js, then the bundle's chunks: nothing from the sources or node_modules.
      expect(own.filter((m) => !m.startsWith(join(REPO, 'dist', 'cli')))).toEqual([
        join(REPO, 'bin', 'vend.js'),
      ]);
    }
    // The cached call ran credential-process's own chunk and no other command, and did not sign.
    const { sources } = sourcesLoaded(vendProcesses(recordings[1]!)[0]!, outputs);
    expect(sources).toContain('lib/cli/commands/credential-process.ts');
    expect(sources.filter((s) => s.startsWith('lib/cli/commands/'))).toEqual([
      'lib/cli/commands/credential-process.ts',
    ]);
    expect(sources.filter((s) => /@smithy\/signature-v4|@aws-sdk\/(client-|nested-clients)/.test(s))).toEqual(
      [],
    );
  }, 60_000);

  it('a person’s cached answer loads only the CLI’s own code and commander: no AWS SDK at all', async () => {
    const env = userEnv('person', { VEND_TOKEN: await stack.token('alice') });
    const log = join(scratch, 'person.log');

    const first = await vend(['credential-process', 'prod-readonly'], env);
    const cached = await run([...VEND, 'credential-process', 'prod-readonly'], {
      ...env,
      ...recordingEnv(log),
    });
    const recording = await readRecording(log);
    const { chunks, sources } = sourcesLoaded(vendProcesses(recording)[0]!, await builtOutputs());

    expect(first.code).toBe(0);
    expect(cached.code).toBe(0);
    expect(cached.stdout).toBe(first.stdout);
    expect(chunks.length).toBeGreaterThan(1);
    expect(typeScriptLoaders(recording)).toEqual([]);
    const packages = new Set(
      sources.flatMap((s) => /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(s)?.[1] ?? []),
    );
    expect([...packages]).toEqual(['commander']);
    expect(sources.filter((s) => !s.startsWith('node_modules/') && !/^lib\/(cli|domain)\//.test(s))).toEqual(
      [],
    );
  }, 40_000);
});

describe('the recorder would see a TypeScript loader', () => {
  it('running the CLI sources through tsx (what bin/vend.js did before the build) is caught', async () => {
    const log = join(scratch, 'tsx.log');

    const out = await run([process.execPath, '--import', 'tsx', 'lib/cli/run.ts', '--version'], {
      ...userEnv('tsx'),
      ...recordingEnv(log),
    });

    expect(out.code).toBe(0);
    const found = typeScriptLoaders(await readRecording(log));
    expect(found).toContainEqual('flag --import');
    expect(found.some((m) => m.includes(join('node_modules', 'tsx')))).toBe(true);
    expect(found).toContain(join(REPO, 'lib', 'cli', 'run.ts'));
  });
});

describe('paths the bundle resolves from its own location', () => {
  it('--version prints package.json’s version; --write-profile names bin/vend.js', async () => {
    const env = userEnv('paths');
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };

    const version = await vend(['--version'], env);
    const wrote = await vend(['credentials', 'prod-readonly', '--write-profile', 'built-ro'], env);
    const config = await readFile(env.AWS_CONFIG_FILE!, 'utf8');

    expect(version).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    expect(wrote.code).toBe(0);
    expect(config).toContain(
      `[profile built-ro]\ncredential_process = ${commandLine([...VEND, 'credential-process', 'prod-readonly', '--url', env.VEND_URL!])}\n`,
    );
  });
});
