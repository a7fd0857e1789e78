/**
 * What the `vend` CLI costs per start (issue 14): the AWS CLI and SDKs run `credential_process` on
 * every new session, so the start of a fresh `node bin/vend.js` process is what people feel. The
 * vend API is the local stack in this process (the benchmark's, or one started here).
 *
 * Every figure is the median wall time, measured in this process from spawn to exit, of `runs`
 * fresh processes of the built bin (dist/cli/, rebuilt first if stale), interleaved round by round
 * (floor, version, cached, cached person, first call) so drift on a shared machine falls on all
 * alike, after one unmeasured round (page cache):
 * - `nodeFloorMs`: `node -e 0`, the floor no Node CLI can go under, measured in the same run;
 * - `versionMs`: `vend --version`;
 * - `cachedMs`: `vend credential-process prod-readonly --aws-profile ci --duration 900` with the
 *   answer in the cache: a service signing with a profile's keys, so the identity (its AccessKeyId)
 *   comes from the AWS SDK's credential chain, which is loaded for it;
 * - `cachedPersonMs`: the same with `VEND_TOKEN` set (a person): no AWS SDK at all;
 * - `firstCallMs`: the service command with an empty cache: it signs and vends through the local
 *   gateway (started in this process);
 * - `vendRoundTripMs`: that same vend (sign + POST, same body) made from this process, so
 *   `firstCallMs - nodeFloorMs - vendRoundTripMs` is what the CLI adds to a first call.
 * Targets (issue 14): cached and `--version` ≤ 1.5 × the floor; first call ≤ floor + round trip + 50 ms.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCliBuilt } from '../infra/build-cli';
import { REPO_ROOT, type Stack, startStack } from '../infra/local/stack';
import { vendOperation } from './ops';
import { round3, summarize } from './stats';

/** The targets for the CLI. */
export const CLI_TARGETS = { cachedRatio: 1.5, versionRatio: 1.5, firstCallSlackMs: 50 } as const;

/** The figures `npm run bench` reports under `cli` in latest.json. */
export interface CliResult {
  runs: number;
  nodeFloorMs: number;
  versionMs: number;
  cachedMs: number;
  cachedPersonMs: number;
  firstCallMs: number;
  vendRoundTripMs: number;
  /** Each figure divided by nodeFloorMs. */
  ratios: { version: number; cached: number; cachedPerson: number };
  /** nodeFloorMs + vendRoundTripMs + 50: the first-call target. */
  firstCallBudgetMs: number;
  /** Every run, in run order. */
  samplesMs: Record<'nodeFloor' | 'version' | 'cached' | 'cachedPerson' | 'firstCall', number[]>;
  command: string;
  /** 1/5/15-minute load averages before and after: the figures are only as quiet as the machine. */
  loadAverage: { start: number[]; end: number[] };
}

const BIN = join(REPO_ROOT, 'bin', 'vend.js');
const AMBIENT = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'NODE_OPTIONS',
];
const COMMAND = ['credential-process', 'prod-readonly', '--aws-profile', 'ci', '--duration', '900'];

/** Runs one process to its end; its wall time in ms. Fails on a non-zero exit. */
function timed(argv: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`${argv.slice(1).join(' ')} exited ${code}: ${stderr.trim().split('\n')[0]}`));
    });
  });
}

const median = (xs: readonly number[]): number => summarize(xs).p50;

/**
 * Measures the CLI against `opts.stack`, or a local stack of its own (started and stopped here).
 * The handlers' SDK clients are made once per process (lib/wiring/clients.ts), so a process that already
 * ran a stack must pass that one rather than start a second.
 */
export async function measureCli(opts: {
  runs: number;
  stack?: Stack;
  onProgress?: (line: string) => void;
}): Promise<CliResult> {
  const say = opts.onProgress ?? (() => undefined);
  await ensureCliBuilt(say);
  const loadAtStart = loadavg().map((x) => round3(x));
  const dir = await mkdtemp(join(tmpdir(), 'vend-bench-cli-'));
  let own: Stack | undefined;
  try {
    if (!opts.stack)
      own = await startStack({ apiPort: 0, awsPort: 0, memory: true, dataDir: join(dir, 'stack') });
    const stack = opts.stack ?? own!;
    const base = Object.fromEntries(
      Object.entries(process.env).filter(
        (e): e is [string, string] => e[1] !== undefined && !AMBIENT.includes(e[0]),
      ),
    );
    const env = {
      ...base,
      ...stack.env,
      VEND_CONFIG_DIR: join(dir, 'config'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const cached = { ...env, VEND_CACHE_DIR: join(dir, 'cache') };
    const person = { ...cached, VEND_TOKEN: await stack.oidc.mintToken('alice') };
    const vend = [process.execPath, BIN];
    const samples: CliResult['samplesMs'] = {
      nodeFloor: [],
      version: [],
      cached: [],
      cachedPerson: [],
      firstCall: [],
    };
    let fresh = 0;
    const round = async (keep: boolean): Promise<void> => {
      const put = (k: keyof CliResult['samplesMs'], ms: number) => keep && samples[k].push(ms);
      put('nodeFloor', await timed([process.execPath, '-e', '0'], env));
      put('version', await timed([...vend, '--version'], env));
      put('cached', await timed([...vend, ...COMMAND], cached));
      put('cachedPerson', await timed([...vend, 'credential-process', 'prod-readonly'], person));
      put(
        'firstCall',
        await timed([...vend, ...COMMAND], { ...env, VEND_CACHE_DIR: join(dir, `fresh-${fresh++}`) }),
      );
    };
    say(`cli: ${opts.runs} rounds of node -e 0, vend --version, cached and first credential-process`);
    await round(false); // fills both caches; warms the page cache and the stack
    for (let i = 0; i < opts.runs; i++) await round(true);
    const vendOnce = vendOperation(stack);
    const roundTrips: number[] = [];
    for (let i = 0; i < Math.max(20, opts.runs); i++) {
      const t0 = performance.now();
      await vendOnce();
      roundTrips.push(performance.now() - t0);
    }
    const floor = median(samples.nodeFloor);
    const vendRoundTripMs = median(roundTrips);
    return {
      runs: opts.runs,
      nodeFloorMs: floor,
      versionMs: median(samples.version),
      cachedMs: median(samples.cached),
      cachedPersonMs: median(samples.cachedPerson),
      firstCallMs: median(samples.firstCall),
      vendRoundTripMs: round3(vendRoundTripMs),
      ratios: {
        version: round3(median(samples.version) / floor),
        cached: round3(median(samples.cached) / floor),
        cachedPerson: round3(median(samples.cachedPerson) / floor),
      },
      firstCallBudgetMs: round3(floor + vendRoundTripMs + CLI_TARGETS.firstCallSlackMs),
      samplesMs: Object.fromEntries(
        Object.entries(samples).map(([k, v]) => [k, v.map((x) => round3(x))]),
      ) as CliResult['samplesMs'],
      command: `node bin/vend.js ${COMMAND.join(' ')}`,
      loadAverage: { start: loadAtStart, end: loadavg().map((x) => round3(x)) },
    };
  } finally {
    await own?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The CLI's rows of the targets table. */
export function cliTargets(
  r: CliResult,
): { name: string; target: string; actual: string; met: boolean; why?: string }[] {
  const f = (x: number) => x.toFixed(1);
  const ratio = (name: string, ms: number, x: number, limit: number, why: string) => ({
    name,
    target: `<= ${limit} x node -e 0 (${f(r.nodeFloorMs)} ms)`,
    actual: `${f(ms)} ms = ${x.toFixed(2)} x`,
    met: x <= limit,
    ...(x <= limit ? {} : { why }),
  });
  const overFloor = (ms: number) => `${f(ms - r.nodeFloorMs)} ms over the floor`;
  return [
    ratio(
      'cli cached credential-process (service, --aws-profile)',
      r.cachedMs,
      r.ratios.cached,
      CLI_TARGETS.cachedRatio,
      `${overFloor(r.cachedMs)}: naming the signing identity for the cache key (its AccessKeyId) loads the AWS SDK's credential chain (ini provider and @smithy/core); a person's cached answer, which needs no SDK, is ${f(r.cachedPersonMs)} ms`,
    ),
    ratio(
      'cli cached credential-process (person)',
      r.cachedPersonMs,
      r.ratios.cachedPerson,
      CLI_TARGETS.cachedRatio,
      `${overFloor(r.cachedPersonMs)}: loading the bundle's entry, commander and the command's chunk`,
    ),
    ratio(
      'cli vend --version',
      r.versionMs,
      r.ratios.version,
      CLI_TARGETS.versionRatio,
      `${overFloor(r.versionMs)}: loading the bundle's entry and commander`,
    ),
    {
      name: 'cli first credential-process (service)',
      target: `<= floor + vend round trip + ${CLI_TARGETS.firstCallSlackMs} ms (${f(r.firstCallBudgetMs)} ms)`,
      actual: `${f(r.firstCallMs)} ms`,
      met: r.firstCallMs <= r.firstCallBudgetMs,
      ...(r.firstCallMs <= r.firstCallBudgetMs
        ? {}
        : {
            why: `${f(r.firstCallMs - r.nodeFloorMs - r.vendRoundTripMs)} ms beyond the floor and the ${f(r.vendRoundTripMs)} ms round trip: the SDK credential chain, the SigV4 signer and a new HTTP connection in a fresh process`,
          }),
    },
  ];
}

/** The lines `npm run bench` prints for the CLI. */
export function cliLines(r: CliResult): string[] {
  const f = (x: number) => x.toFixed(1);
  return [
    `cli (median of ${r.runs} fresh processes): node -e 0 ${f(r.nodeFloorMs)} ms; vend --version ${f(r.versionMs)} ms ` +
      `(${r.ratios.version.toFixed(2)}x); cached credential-process ${f(r.cachedMs)} ms (${r.ratios.cached.toFixed(2)}x), ` +
      `as a person ${f(r.cachedPersonMs)} ms (${r.ratios.cachedPerson.toFixed(2)}x); first call ${f(r.firstCallMs)} ms ` +
      `(vend round trip ${f(r.vendRoundTripMs)} ms)`,
  ];
}
