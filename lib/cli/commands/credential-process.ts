/**
 * `vend credential-process <entitlement>`: what an AWS profile's `credential_process` runs. The AWS
 * CLI and SDKs start it for every new client, so the answer is cached (lib/cli/cache.ts) per
 * (VEND_URL, identity, entitlement, duration, policy hash) until 5 minutes before it expires, and
 * a cached answer is the hot path: it should touch the cache and the output code and nothing else.
 *
 * Primary course:
 * 1. refuse to run inside itself (a profile whose signing credentials run vend again);
 * 2. choose the identity and name it for the cache key (`aws:<AccessKeyId>` or `oidc:<iss>#<sub>`);
 * 3. print the cached answer if it is still good; else vend, store and print.
 */
import type { Command } from 'commander';
import { cacheDir } from '../auth';
import { CredentialCache } from '../cache';
import { UsageError } from '../errors';
import { awsProfileOption, durationOption, example, urlOption } from '../options';
import { credentialProcessOutput } from '../output';
import type { Runtime } from '../runtime';

/** Guards against a profile whose credential_process signs with itself (infinite recursion). */
const NESTED = 'VEND_CREDENTIAL_PROCESS_ACTIVE';

/** Registers `vend credential-process`. */
export function register(program: Command, rt: Runtime): void {
  example(
    program
      .command('credential-process')
      .description(
        "print credentials for an AWS profile's credential_process (cached until 5 minutes before expiry)",
      )
      .argument('<entitlement>', 'entitlement id')
      .addOption(durationOption())
      .option('--policy <file>', 'a session policy (JSON)')
      .addOption(awsProfileOption())
      .addOption(urlOption()),
    'vend credential-process prod-readonly --duration 1h',
    '# in ~/.aws/config:  [profile prod-ro]\n  #   credential_process = vend credential-process prod-readonly',
  ).action(
    async (
      entitlement: string,
      o: { duration?: number; policy?: string; awsProfile?: string; url?: string },
    ) => {
      if (rt.env[NESTED] === '1') {
        throw new UsageError(
          'vend credential-process started itself: the AWS profile it signs with runs vend again; pass --aws-profile <a profile with its own credentials>',
        );
      }
      // Children started while resolving our own credentials (a credential_process) inherit this.
      rt.env[NESTED] = '1';
      const policy = await rt.readPolicy(o.policy);
      const client = await rt.client({ url: o.url, awsProfile: o.awsProfile });
      const cache = new CredentialCache(cacheDir(rt.env), rt.now);
      const key = {
        vendUrl: await rt.vendUrl(o.url),
        identity: await client.identity(),
        entitlement,
        ...(o.duration !== undefined ? { durationSeconds: o.duration } : {}),
        ...(policy.hash ? { policyHash: policy.hash } : {}),
      };
      let body = await cache.get(key);
      if (!body) {
        body = await rt.api(client, { entitlement }, () =>
          client.vend({
            entitlement,
            ...(o.duration !== undefined ? { durationSeconds: o.duration } : {}),
            ...(policy.policy ? { policy: policy.policy } : {}),
          }),
        );
        await cache.put(key, body).catch(() => undefined); // a cache that cannot be written only costs a vend
      }
      rt.out(`${JSON.stringify(credentialProcessOutput(body.credentials))}\n`);
    },
  );
}
