/**
 * `vend login` (OAuth 2.0 device authorization grant, RFC 8628, lib/cli/auth.ts) stores a person's
 * token owner-only; `vend logout` forgets it.
 */
import type { Command } from 'commander';
import { configDir, login, removeStoredToken } from '../auth';
import { decodeJwtClaims } from '../client';
import { InterruptedError } from '../errors';
import { example } from '../options';
import type { Runtime } from '../runtime';

/** Registers `vend login` and `vend logout`. */
export function register(program: Command, rt: Runtime): void {
  example(
    program
      .command('login')
      .description('sign in as a person (OAuth 2.0 device authorization) and store the token owner-only')
      .option('--issuer <url>', 'the OIDC issuer (default VEND_OIDC_ISSUER, or "issuer" in config.json)')
      .option('--client-id <id>', 'the OAuth client id (default vend-cli)'),
    'vend login --issuer https://login.example.com',
  ).action(async (o: { issuer?: string; clientId?: string }) => {
    const stored = await rt.interruptible((signal) =>
      login(
        { env: rt.env, fetch: rt.io.fetch, now: rt.now, sleep: rt.sleep, say: (l) => rt.err(l), signal },
        { ...(o.issuer ? { issuer: o.issuer } : {}), ...(o.clientId ? { clientId: o.clientId } : {}) },
      ).catch((error: unknown) => {
        if (error instanceof InterruptedError)
          throw new InterruptedError('login stopped; nothing was stored');
        throw error;
      }),
    );
    const claims = decodeJwtClaims(stored.accessToken);
    const name = claims?.preferred_username ?? claims?.email ?? claims?.sub ?? 'you';
    rt.err(`logged in as ${String(name)} (token stored in ${configDir(rt.env)})\n`);
  });

  example(program.command('logout').description('forget the stored login'), 'vend logout').action(
    async () => {
      const had = await removeStoredToken(rt.env);
      rt.err(had ? 'logged out\n' : 'not logged in\n');
    },
  );
}
