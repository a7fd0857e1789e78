/**
 * `vend lint-trust [FILES…] [--world DIR] [--endpoint URL]` (docs/trust.md): reports every path
 * into a target account that does not go through the broker. Findings on stdout (text, or JSON
 * with `--json`), a summary on stderr; exit 1 when there is any error-level finding.
 */
import { isAbsolute, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { BrokerUnknownError, lintTrust, type TrustFinding } from '../trust/lint';
import {
  fetchLocalRoles,
  loadRoleFiles,
  loadWorldRoles,
  type RoleDocument,
  RoleSourceError,
} from '../trust/roles';
import type { AdminContext } from './entitlements';
import { EXIT, UnavailableError, UsageError } from './errors';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function findingLine(f: TrustFinding): string {
  const where = f.statement ? ` ${f.statement}` : '';
  return `${f.source}: ${f.severity}: [${f.rule}] ${f.role}${where}: ${f.message}`;
}

/**
 * Adds `vend lint-trust` to the program.
 * @example registerLintTrust(program, ctx)
 */
export function registerLintTrust(program: Command, ctx: AdminContext): void {
  program
    .command('lint-trust')
    .description('report every path into a target account that does not go through the vend broker')
    .argument('[files...]', 'role files: world layout, get-account-authorization-details or get-role output')
    .option('--world <dir>', 'a world directory (e.g. infra/local/world)')
    .option('--endpoint <url>', "a local stack's AWS endpoint (reads GET /_local/iam/roles)")
    .addOption(
      new Option(
        '--broker <arn>',
        'the broker role ARN (repeatable; default: roles tagged vend:component=broker)',
      ).argParser(collect),
    )
    .addOption(
      new Option(
        '--target-account <id>',
        'also treat this account as a target account (repeatable)',
      ).argParser(collect),
    )
    .addOption(
      new Option('--allow <principal>', 'accept this principal on purpose (repeatable)').argParser(collect),
    )
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  vend lint-trust --world infra/local/world\n  aws iam get-account-authorization-details --filter Role LocalManagedPolicy AWSManagedPolicy > prod.json\n  vend lint-trust prod.json --broker arn:aws:iam::222233334444:role/vend-broker --json\n',
    )
    .action(
      async (
        files: string[],
        o: {
          world?: string;
          endpoint?: string;
          broker?: string[];
          targetAccount?: string[];
          allow?: string[];
          json?: boolean;
        },
      ) => {
        if (files.length === 0 && !o.world && !o.endpoint) {
          throw new UsageError(
            'give role files, --world DIR or --endpoint URL (see: vend lint-trust --help)',
          );
        }
        const abs = (p: string) => (isAbsolute(p) ? p : resolve(ctx.cwd, p));
        const roles: RoleDocument[] = [];
        try {
          if (files.length > 0) roles.push(...(await loadRoleFiles(files.map(abs))));
          if (o.world) roles.push(...(await loadWorldRoles(abs(o.world))));
        } catch (e) {
          if (e instanceof RoleSourceError) throw new UsageError(e.message);
          throw e;
        }
        if (o.endpoint) {
          try {
            roles.push(...(await fetchLocalRoles(o.endpoint)));
          } catch (e) {
            if (e instanceof RoleSourceError) throw new UnavailableError(e.message);
            throw e;
          }
        }
        const brokerArns =
          o.broker ?? (ctx.env.VEND_BROKER_ROLE_ARN ? [ctx.env.VEND_BROKER_ROLE_ARN] : undefined);
        let report: ReturnType<typeof lintTrust>;
        try {
          report = lintTrust(roles, {
            ...(brokerArns && { brokerArns }),
            ...(o.targetAccount && { targetAccounts: o.targetAccount }),
            ...(o.allow && { allowPrincipals: o.allow }),
          });
        } catch (e) {
          if (e instanceof BrokerUnknownError) throw new UsageError(e.message);
          throw e;
        }
        if (o.json) ctx.out(`${JSON.stringify(report, null, 2)}\n`);
        else for (const f of report.findings) ctx.out(`${findingLine(f)}\n`);
        const errors = report.findings.filter((f) => f.severity === 'error').length;
        const warnings = report.findings.length - errors;
        ctx.err(
          `checked ${report.roles.length} role(s) in target account(s) ${report.targetAccounts.join(', ') || '(none)'}: ` +
            (errors === 0
              ? `no path around the broker${warnings ? ` (${warnings} warning(s))` : ''}\n`
              : `${errors} path(s) around the broker${warnings ? `, ${warnings} warning(s)` : ''}\n`),
        );
        if (!report.ok) ctx.setExitCode(EXIT.refused);
      },
    );
}
