/**
 * The local stack (local STS, dynalite, the SigV4 checks, seeded tables) in a process of its own,
 * for the figures that must count the handler's CPU and memory and nothing of the emulators
 * (./handler-process.ts). Started as `node --import tsx bench/emulators.ts`: it starts the stack in
 * memory on ephemeral ports, prints ONE JSON line on stdout ({@link EmulatorInfo}), and runs until
 * its stdin closes (the parent ended it or died), then stops the stack and exits.
 *
 * The stack runs with rate limits no benchmark reaches (the limiter's cost is measured, not its
 * refusals), as in ./run.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerless } from '../infra/local/gateway/serverless';
import { REPO_ROOT, startStack } from '../infra/local/stack';
import { BENCH_RATE_LIMITS, type IamPrincipal } from './baseline';

/** What the emulator process tells its parent. */
export interface EmulatorInfo {
  awsUrl: string;
  /** The environment of one function as Lambda would give it: provider + function + the stack's. */
  functionEnv: Record<string, Record<string, string>>;
  /** The `ci` profile's principal and access key id, for the IAM authorizer context of events. */
  ci: { principal: IamPrincipal; accessKeyId: string };
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const dataDir = await mkdtemp(join(tmpdir(), 'vend-bench-emulators-'));
  const stack = await startStack({
    apiPort: 0,
    awsPort: 0,
    memory: true,
    dataDir,
    handlerEnv: { ...BENCH_RATE_LIMITS },
  });
  const service = loadServerless(join(REPO_ROOT, 'serverless.yml'), {
    env: { ...process.env, ...stack.handlerEnv },
  });
  const functionEnv: EmulatorInfo['functionEnv'] = {};
  for (const fn of service.functions.values()) {
    functionEnv[fn.key] = {
      ...fn.environment,
      ...stack.handlerEnv,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    };
  }
  const ci = stack.keys.ci;
  if (!ci) throw new Error('the local stack has no ci profile');
  const info: EmulatorInfo = {
    awsUrl: stack.awsUrl,
    functionEnv,
    ci: {
      principal: { arn: ci.principal.arn, account: ci.principal.account, userId: ci.principal.userId },
      accessKeyId: ci.accessKeyId,
    },
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.on('SIGTERM', stop);
  process.stdin.resume();
}

main().catch((e: unknown) => {
  process.stderr.write(`emulators failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
