/**
 * The `vend` command line (CONTRACT §5, docs/cli.md). {@link main} parses the arguments with
 * commander, runs one command and returns its exit code; it never throws and never prints a stack
 * trace: every failure becomes one `vend: …` line on stderr (lib/cli/errors.ts). stdout carries
 * only what was asked for (credentials, listings), so it can be piped or `eval`ed.
 *
 * Each command (or group of commands) is one module under lib/cli/commands/, named after it, and
 * is loaded only when needed: `vend credential-process …` loads credential-process.ts alone, so the
 * path the AWS CLI runs on every new session stays short; `vend`, `vend --help` and anything
 * unknown load every module (help, suggestions). What the commands share for a run is the
 * {@link Runtime} (lib/cli/runtime.ts) and the options in lib/cli/options.ts.
 *
 * Primary course of a credential command:
 * 1. find the API (`--url`, `VEND_URL`, `config.json`);
 * 2. choose the identity: a person's token (`VEND_TOKEN`, else the stored `vend login`) unless
 *    `--aws-profile` is given, else the ambient AWS credentials (SigV4);
 * 3. call the route, print the answer in the asked format.
 */
import { Command, CommanderError } from 'commander';
import { describeError, EXIT } from './errors';
import { type CliIo, defaultIo, Runtime, version } from './runtime';

export { type CliIo, resolveRegion } from './runtime';

/** A command module: registers its command (or group of commands) on the program. */
export interface CommandModule {
  register(program: Command, rt: Runtime): void;
}

/** The command modules, in `vend --help` order, with the top-level names each registers. */
const COMMANDS: readonly { names: readonly string[]; load: () => Promise<CommandModule> }[] = [
  { names: ['credentials'], load: () => import('./commands/credentials') },
  { names: ['credential-process'], load: () => import('./commands/credential-process') },
  { names: ['entitlements'], load: () => import('./commands/entitlements') },
  {
    names: ['request', 'requests', 'approve', 'deny', 'cancel'],
    load: () => import('./commands/requests'),
  },
  { names: ['reviews', 'review'], load: () => import('./commands/reviews') },
  { names: ['console', 'sessions', 'revoke'], load: () => import('./commands/sessions') },
  { names: ['audit'], load: () => import('./commands/audit') },
  { names: ['login', 'logout'], load: () => import('./commands/login') },
  { names: ['serve'], load: () => import('./commands/serve') },
  { names: ['dev'], load: () => import('./commands/dev') },
  { names: ['lint-trust'], load: () => import('./commands/lint-trust') },
];

/**
 * The modules a command line needs: the one naming its first word; none for `--version` (commander
 * answers it before looking at commands); otherwise all of them, so that help lists every command
 * and a mistyped one gets a suggestion.
 */
function modulesFor(argv: readonly string[]): typeof COMMANDS {
  const first = argv[0] ?? '';
  const named = COMMANDS.find((c) => c.names.includes(first));
  if (named) return [named];
  if (first === '-V' || first === '--version') return [];
  return COMMANDS;
}

async function buildProgram(rt: Runtime, argv: readonly string[]): Promise<Command> {
  const program = new Command('vend')
    .description('Short-lived AWS credentials from vend, where the AWS CLI and SDKs look for them.')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => rt.out(s), writeErr: (s) => rt.err(s), outputError: () => undefined })
    .addHelpText(
      'after',
      '\nThe API is VEND_URL. People sign in with `vend login` (or VEND_TOKEN); services sign with their AWS credentials.\nExit codes: 0 ok, 1 refused, 2 usage, 3 authentication, 4 unavailable, 130 interrupted (docs/cli.md).\n',
    );
  const wanted = modulesFor(argv);
  const modules = await Promise.all(wanted.map((c) => c.load()));
  for (const m of modules) m.register(program, rt);
  return program;
}

/**
 * Runs the `vend` command line.
 *
 * @param argv the arguments after `vend` (`process.argv.slice(2)`)
 * @returns the exit code (docs/cli.md)
 * @example process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const rt = new Runtime(io);
  try {
    const program = await buildProgram(rt, argv);
    if (argv.length === 0) {
      rt.err(program.helpInformation());
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return rt.exitCode ?? EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      if (error.code === 'commander.help') return EXIT.usage;
      // A UsageError thrown by an option parser arrives wrapped as invalidArgument.
      const text = error.message.replace(/^error: /, '');
      const hint =
        error.code === 'commander.unknownCommand' ? ' (see: vend --help)' : ' (see: vend <command> --help)';
      rt.err(`vend: ${text.split('\n')[0]}${hint}\n`);
      return EXIT.usage;
    }
    const { message, exitCode } = describeError(error);
    rt.err(`vend: ${message}\n`);
    return exitCode;
  }
}
