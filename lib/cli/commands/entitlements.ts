/**
 * `vend entitlements`: the entitlements the caller may use or request (`GET /v1/entitlements` for
 * a person, `/v1/service/entitlements` for a service), as a table or JSON; and, for operators,
 * `vend entitlements validate|sync` (entitlements as code, lib/cli/entitlements.ts).
 */
import type { Command } from 'commander';
import { registerEntitlementsCommands } from '../entitlements';
import { awsProfileOption, example, urlOption } from '../options';
import { humanDuration, table } from '../output';
import { adminContext, type Runtime } from '../runtime';

/** Registers `vend entitlements` and its `validate` and `sync` subcommands. */
export function register(program: Command, rt: Runtime): void {
  const entitlements = example(
    program
      .command('entitlements')
      .description('list the entitlements you may use or request')
      .option('--json', 'print JSON')
      .addOption(awsProfileOption())
      .addOption(urlOption()),
    'vend entitlements',
    "vend entitlements --json | jq -r '.[].id'",
  ).action(async (o: { json?: boolean; awsProfile?: string; url?: string }) => {
    const client = await rt.client(o);
    const list = await rt.api(client, {}, () => client.entitlements());
    if (o.json) return rt.out(`${JSON.stringify(list, null, 2)}\n`);
    if (list.length === 0) return rt.err('no entitlements: you may not use or request any\n');
    rt.out(
      table(
        ['ID', 'ACCESS', 'MAX', 'ROLE', 'DESCRIPTION'],
        list.map((e) => [
          e.id,
          e.access
            ? [e.access.use && 'use', e.access.request && 'request', e.access.breakGlass && 'break-glass']
                .filter(Boolean)
                .join(',')
            : 'use',
          humanDuration(e.maxDurationSeconds),
          e.roleArn,
          e.description,
        ]),
      ),
    );
  });

  registerEntitlementsCommands(entitlements, adminContext(rt));
}
