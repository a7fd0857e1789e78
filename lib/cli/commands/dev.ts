/**
 * `vend dev token --user <name>` (local stack only): a local OIDC access token for a demo person.
 * The minting code lives with the local stack (infra/local/oidc/dev-token.ts) and is imported only
 * when this command runs, so the shipped CLI does not load, or statically depend on, the local stack.
 *
 * From the sources (tests, tsx) that is a plain dynamic import. The built CLI (dist/cli/, see
 * infra/build-cli.ts) holds no local-stack code: it imports the TypeScript from the checkout through
 * tsx (a devDependency), so `vend dev` works in a repository after `npm ci` and says so elsewhere.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors';
import { example } from '../options';
import type { Runtime } from '../runtime';

/** `true` in the built CLI (esbuild `define`); not defined when the sources run directly. */
declare const VEND_CLI_BUNDLE: boolean | undefined;

type DevTokenModule = typeof import('../../../infra/local/oidc/dev-token');

async function loadDevToken(): Promise<DevTokenModule> {
  if (typeof VEND_CLI_BUNDLE !== 'undefined' && VEND_CLI_BUNDLE) {
    // The bundle sits in dist/cli/, two levels below the root, like lib/cli/.
    const source = new URL('../../infra/local/oidc/dev-token.ts', import.meta.url);
    const tsx = existsSync(source) ? await import('tsx/esm/api').catch(() => undefined) : undefined;
    if (!tsx) {
      throw new UsageError(
        'vend dev works only in a vend repository checkout after npm ci (it runs the local stack from source)',
      );
    }
    return (await tsx.tsImport(source.href, import.meta.url)) as DevTokenModule;
  } else {
    return import('../../../infra/local/oidc/dev-token');
  }
}

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
    const { main: devTokenMain } = await loadDevToken();
    rt.exitCode = await devTokenMain(args, { stdout: (s) => rt.out(s), stderr: (s) => rt.err(s) });
  });
}
