/**
 * `vend credentials <entitlement>`: vend once and print the credentials (`--format json|env|
 * credential-process`), or write a `credential_process` profile that runs
 * `vend credential-process` (`--write-profile`, which vends nothing). With `--request <id>` a
 * person vends inside an approved request's window.
 *
 * Primary course:
 * 1. read the session policy file, if any;
 * 2. choose the identity (a person's token unless `--aws-profile`; `--request` needs a person);
 * 3. `POST /v1/credentials`, `/v1/service/credentials` or `/v1/requests/{id}/credentials`;
 * 4. print the answer in the asked format.
 */
import { type Command, Option } from 'commander';
import { awsProfileOption, durationOption, example, urlOption } from '../options';
import { CREDENTIAL_FORMATS, type CredentialFormat, formatCredentials } from '../output';
import { awsConfigFile, commandLine, writeProfile } from '../profile';
import type { Runtime } from '../runtime';
import type { VendResponse } from '../types';

/** Registers `vend credentials`. */
export function register(program: Command, rt: Runtime): void {
  example(
    program
      .command('credentials')
      .description('vend credentials for an entitlement and print them')
      .argument('<entitlement>', 'entitlement id, e.g. prod-readonly')
      .addOption(durationOption())
      .option('--policy <file>', 'a session policy (JSON) to scope the credentials down further')
      .option('--reason <text>', 'why, for the audit trail')
      .addOption(
        new Option('--format <format>', 'output format').choices([...CREDENTIAL_FORMATS]).default('json'),
      )
      .option(
        '--write-profile <name>',
        'instead of printing credentials, add a credential_process profile to the AWS config file',
      )
      .option('--request <id>', 'vend inside an approved request (person)')
      .addOption(awsProfileOption())
      .addOption(urlOption()),
    'vend credentials prod-readonly --duration 15m --format env',
    'eval "$(vend credentials prod-readonly --format env)" && aws sts get-caller-identity',
    'vend credentials prod-readonly --write-profile prod-ro && aws --profile prod-ro s3 ls',
  ).action(
    async (
      entitlement: string,
      o: {
        duration?: number;
        policy?: string;
        reason?: string;
        format: CredentialFormat;
        writeProfile?: string;
        request?: string;
        awsProfile?: string;
        url?: string;
      },
    ) => {
      if (o.writeProfile) {
        const policy = await rt.readPolicy(o.policy);
        const url = await rt.vendUrl(o.url);
        const args = [...rt.selfCommand(), 'credential-process', entitlement, '--url', url];
        if (o.duration !== undefined) args.push('--duration', String(o.duration));
        if (policy.path) args.push('--policy', policy.path);
        if (o.awsProfile) args.push('--aws-profile', o.awsProfile);
        const file = awsConfigFile(rt.env);
        await writeProfile(file, o.writeProfile, { credential_process: commandLine(args) });
        rt.err(
          `wrote profile ${o.writeProfile} to ${file}; use it with: aws --profile ${o.writeProfile} sts get-caller-identity\n`,
        );
        return;
      }
      const body = await vendOnce(rt, entitlement, o);
      rt.out(formatCredentials(body, o.format));
    },
  );
}

async function vendOnce(
  rt: Runtime,
  entitlement: string,
  o: {
    duration?: number;
    policy?: string;
    reason?: string;
    request?: string;
    awsProfile?: string;
    url?: string;
  },
): Promise<VendResponse> {
  const policy = await rt.readPolicy(o.policy);
  const client = await rt.client({
    url: o.url,
    awsProfile: o.awsProfile,
    needPerson: o.request !== undefined,
  });
  if (o.request) {
    const id = o.request;
    return rt.api(client, { entitlement }, () =>
      client.requestCredentials(id, {
        ...(o.duration !== undefined ? { durationSeconds: o.duration } : {}),
        ...(policy.policy ? { policy: policy.policy } : {}),
      }),
    );
  }
  return rt.api(client, { entitlement }, () =>
    client.vend({
      entitlement,
      ...(o.duration !== undefined ? { durationSeconds: o.duration } : {}),
      ...(policy.policy ? { policy: policy.policy } : {}),
      ...(o.reason ? { reason: o.reason } : {}),
    }),
  );
}
