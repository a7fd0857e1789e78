/**
 * `vend serve <entitlement>`: a container credential endpoint on 127.0.0.1 for
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI` (lib/cli/serve.ts), until Ctrl-C or SIGTERM.
 *
 * Primary course:
 * 1. vend once at start, so a refusal shows at once;
 * 2. listen; print the two `export` lines on stdout;
 * 3. answer `GET /creds` for the token, vending again within 5 minutes of expiry; stop on a signal.
 */
import { type Command, Option } from 'commander';
import { describeError, UsageError } from '../errors';
import { awsProfileOption, durationOption, example, urlOption } from '../options';
import type { Runtime } from '../runtime';
import { startCredentialServer } from '../serve';
import type { VendBody } from '../types';

/** Registers `vend serve`. */
export function register(program: Command, rt: Runtime): void {
  example(
    program
      .command('serve')
      .description('serve credentials on 127.0.0.1 for AWS_CONTAINER_CREDENTIALS_FULL_URI (until Ctrl-C)')
      .argument('<entitlement>', 'entitlement id')
      .addOption(durationOption())
      .option('--policy <file>', 'a session policy (JSON)')
      .addOption(
        new Option('--port <port>', 'port on 127.0.0.1 (default: any free port)')
          .default(0)
          .argParser((v) => {
            if (!/^\d+$/.test(v) || Number(v) > 65535)
              throw new UsageError(`--port takes a port number, not '${v}'`);
            return Number(v);
          }),
      )
      .addOption(awsProfileOption())
      .addOption(urlOption()),
    'eval "$(vend serve prod-readonly --duration 1h &)"   # or run it in another terminal and paste the exports',
  ).action(
    async (
      entitlement: string,
      o: { duration?: number; policy?: string; port: number; awsProfile?: string; url?: string },
    ) => {
      const policy = await rt.readPolicy(o.policy);
      const client = await rt.client({ url: o.url, awsProfile: o.awsProfile });
      const body: VendBody = {
        entitlement,
        ...(o.duration !== undefined ? { durationSeconds: o.duration } : {}),
        ...(policy.policy ? { policy: policy.policy } : {}),
      };
      await rt.interruptible(async (signal) => {
        const server = await startCredentialServer({
          vend: async () => (await rt.api(client, { entitlement }, () => client.vend(body))).credentials,
          port: o.port,
          now: rt.now,
          onError: (error) => rt.err(`vend: ${describeError(error).message}\n`),
        });
        rt.out(
          `export AWS_CONTAINER_CREDENTIALS_FULL_URI=${server.url}\nexport AWS_CONTAINER_AUTHORIZATION_TOKEN=${server.token}\n`,
        );
        rt.err(`serving ${entitlement} on ${server.url} (Ctrl-C to stop)\n`);
        rt.io.onServe?.({ url: server.url, token: server.token });
        await new Promise<void>((done) => {
          if (signal.aborted) return done();
          signal.addEventListener('abort', () => done(), { once: true });
        });
        await server.close();
        rt.err('stopped\n');
      });
    },
  );
}
