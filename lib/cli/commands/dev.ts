/**
 * `vend dev token --user <name>` (local stack only): a local OIDC access token for a demo person.
 * The minting code lives with the local stack (infra/local/oidc/dev-token.ts) and is imported only
 * when this command runs, so the shipped CLI does not load, or statically depend on, the local stack.
 */
import type { Command } from 'commander';
import { example } from '../options';
import type { Runtime } from '../runtime';

/** Registers `vend dev token`. */
export function register(program: Command, rt: Runtime): void {
  const dev = program.command('dev').description('local development helpers (local stack only)');
  example(
    dev
      .command('token')
      .description('mint a local OIDC access token for a demo person')
      .requiredOption('--user <name>', 'alice, bob, carol, dave, erin or mallory')
      .option('--audience <aud>', 'token audience')
      .option('--ttl <seconds>', 'lifetime in seconds'),
    'export VEND_TOKEN=$(vend dev token --user alice)',
  ).action(async (o: { user: string; audience?: string; ttl?: string }) => {
    const args = ['dev', 'token', '--user', o.user];
    if (o.audience) args.push('--audience', o.audience);
    if (o.ttl) args.push('--ttl', o.ttl);
    const { main: devTokenMain } = await import('../../../infra/local/oidc/dev-token');
    rt.exitCode = await devTokenMain(args, { stdout: (s) => rt.out(s), stderr: (s) => rt.err(s) });
  });
}
