/**
 * `npm start`: the whole service, offline (CONTRACT §1). Starts the local stack, prints where
 * everything listens and how to use it, runs until Ctrl-C or SIGTERM (exit 0). Any failure to start
 * is one line on stderr and exit 1, never a stack trace (`VEND_DEBUG=1` prints the cause too).
 *
 * The printed `export` line holds every variable of the stack's client environment (`stack.env`):
 * the AWS and URL variables first, then the audit settings and the rest, so that every command in
 * docs/ runs from that line alone (test/e2e/newcomer.test.ts follows the docs with it). While it
 * runs, the audit sealer runs too, as it would in AWS: at start (catching up on what closed while
 * the stack was down) and once per interval, and a last time on Ctrl-C.
 *
 * Flags: `--fresh` wipes the state directory first; `--memory` keeps state in memory only.
 */
import { demoPeople } from './oidc/people';
import { LOCAL_AUDIT_SEAL, type Stack, startStack } from './stack';

/** Flags of `npm start -- …`. */
export interface StartFlags {
  fresh: boolean;
  memory: boolean;
  help: boolean;
}

/** A flag `npm start` does not know. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseStartArgs(argv: string[]): StartFlags {
  const flags: StartFlags = { fresh: false, memory: false, help: false };
  for (const arg of argv) {
    if (arg === '--fresh') flags.fresh = true;
    else if (arg === '--memory') flags.memory = true;
    else if (arg === '--help' || arg === '-h') flags.help = true;
    else throw new UsageError(`unknown option ${arg} (try --fresh, --memory or --help)`);
  }
  return flags;
}

const quote = (v: string): string => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/** The variables the export line starts with (CONTRACT §2); every other one of `stack.env` follows. */
const FIRST_EXPORTS = ['AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_ENDPOINT_URL', 'VEND_URL'];

/**
 * The `export …` line: every variable of the stack's client environment, shell-quoted.
 *
 * @example exportLine(stack) // 'export AWS_CONFIG_FILE=… AWS_SHARED_CREDENTIALS_FILE=… AWS_ENDPOINT_URL=… VEND_URL=… AWS_REGION=… VEND_AUDIT_TABLE=…'
 */
export function exportLine(stack: Pick<Stack, 'env'>): string {
  const e = stack.env;
  const names = [...FIRST_EXPORTS, ...Object.keys(e).filter((k) => !FIRST_EXPORTS.includes(k))];
  return `export ${names.map((k) => `${k}=${quote(e[k] ?? '')}`).join(' ')}`;
}

/** The text `npm start` prints once the stack is up. */
export function banner(stack: Stack, seconds: number): string {
  const profiles = Object.entries(stack.keys)
    .map(([name, k]) => `  ${name.padEnd(12)} ${k.principal.arn}`)
    .join('\n');
  const people = demoPeople()
    .map((p) => `${p.username}${p.groups.length > 0 ? ` (${p.groups.join(', ')})` : ' (no groups)'}`)
    .join(', ');
  return `vend local stack is up (${seconds.toFixed(1)} s); state in ${stack.dataDir}

  vend API (local API Gateway)       ${stack.apiUrl}
  Web console                        ${stack.apiUrl}/   (sign in as a demo person)
  AWS endpoint (STS, DynamoDB, KMS)  ${stack.awsUrl}
  OIDC issuer                        ${stack.oidc.issuer}
  Slack Web API sink                 ${stack.awsUrl}/slack/api/   (recorded calls: ${stack.awsUrl}/slack/messages)
  Federation (console sign-in)       ${stack.awsUrl}/federation

In another shell:
  ${exportLine(stack)}

Demo profiles (AWS_PROFILE):
${profiles}
Demo people (vend dev token --user <name>): ${people}

First calls:
  curl -s $VEND_URL/v1/health
  aws --profile ci sts get-caller-identity
  AWS_PROFILE=ci npx vend credentials prod-readonly --duration 15m
  VEND_TOKEN=$(npx vend dev token --user alice) npx vend entitlements
  AWS_PROFILE=vend-broker npx vend audit verify --since 1h

Ctrl-C stops; state persists until \`npm start -- --fresh\`. More: docs/local-stack.md
`;
}

const HELP = `usage: npm start [-- --fresh] [-- --memory]
  --fresh    wipe the state directory (.vend, or VEND_DATA_DIR) first
  --memory   keep DynamoDB, sessions and the signing key in memory only
ports: VEND_API_PORT (default 4000), VEND_AWS_PORT (default 4566)
`;

/**
 * The local stand-in for the scheduled sealer: one run now and one per interval (a grace later),
 * never two at once. Failures are one line on stderr; a cut trail is said too.
 */
function backgroundSealer(stack: Stack): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const run = (): void => {
    if (running) return;
    running = stack
      .sealAudit()
      .then((result) => {
        if (result.cut)
          process.stderr.write(
            `vend: audit digests from ${result.cut.from} to ${result.cut.to} were deleted after they were sealed (vend audit verify names them)\n`,
          );
      })
      .catch((error: unknown) => {
        process.stderr.write(
          `vend: audit sealing failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`,
        );
      })
      .finally(() => {
        running = undefined;
      });
  };
  const every = LOCAL_AUDIT_SEAL.intervalSeconds * 1000;
  const offset = (LOCAL_AUDIT_SEAL.graceSeconds + 1) * 1000;
  run();
  let timer: NodeJS.Timeout | undefined;
  const first = setTimeout(
    () => {
      run();
      timer = setInterval(run, every);
    },
    every - (Date.now() % every) + offset,
  );
  return {
    async stop() {
      clearTimeout(first);
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

async function main(): Promise<number> {
  // Node 20 here, nodejs22.x in Lambda: the SDK's "upgrade Node" warning is noise for a dev server.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const flags = parseStartArgs(process.argv.slice(2));
  if (flags.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const started = performance.now();
  const stack = await startStack({
    fresh: flags.fresh,
    memory: flags.memory,
    log: (line) => process.stdout.write(`[gateway] ${line}\n`),
  });
  process.stdout.write(banner(stack, (performance.now() - started) / 1000));
  const sealer = backgroundSealer(stack);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write('stopping…\n');
  await sealer.stop();
  // Seal what has closed, so the trail of this session can be verified later (docs/audit.md).
  try {
    const sealed = await stack.sealAudit();
    process.stdout.write(
      `audit: sealed ${sealed.sealed.length} interval(s); sealed up to ${sealed.sealedUpTo ?? '(nothing sealed yet)'}\n`,
    );
  } catch (error) {
    process.stderr.write(
      `vend: audit sealing failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
  await stack.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`vend: ${message.split('\n')[0]}\n`);
    if (process.env.VEND_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
    process.exit(1);
  },
);
