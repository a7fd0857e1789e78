/**
 * `vend entitlements validate FILE` and `vend entitlements sync FILE` (docs/entitlements.md): the
 * operator's side of entitlements as code. They talk to DynamoDB, STS and SSM directly with the
 * operator's AWS credentials (adapters from lib/wiring/operator.ts), never to the vend API: the
 * runtime role may only read the table.
 *
 * Output: the report (problems, diff) on stdout; a one-line summary on stderr; exit 1 when the
 * file has errors or an apply was refused, 2 for usage, 4 when AWS cannot be reached.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { Command } from 'commander';
import { EntitlementConfigError } from '../domain/errors';
import {
  type EntitlementsFile,
  EntitlementsFileError,
  ExternalIdResolutionError,
  formatChanges,
  formatPosition,
  type Problem,
  readEntitlementsFile,
  resolveExternalIds,
} from '../entitlements';
import { ulid } from '../ids';
import { loadRoleFiles, loadWorldRoles, type RoleDocument, RoleSourceError } from '../trust/roles';
import { PruneRequiredError, syncEntitlements } from '../usecases/sync-entitlements';
import { type OperatorAws, ssmReader, syncAdapters } from '../wiring/operator';
import { EXIT, RefusedError, UnavailableError, UsageError } from './errors';

type Env = Record<string, string | undefined>;

/** What the admin commands need from the CLI's runtime. */
export interface AdminContext {
  out(s: string): void;
  err(s: string): void;
  env: Env;
  cwd: string;
  now: () => Date;
  /** The AWS credentials for a profile (default: the SDK's chain with this env's files). */
  awsCredentials(profile?: string): Promise<() => Promise<AwsCredentialIdentity>>;
  region(profile?: string): Promise<string>;
  setExitCode(code: number): void;
}

/** The demo world next to this checkout: the default role source for `local: true` files. */
export const DEMO_WORLD_DIR = fileURLToPath(new URL('../../infra/local/world', import.meta.url));

function pathOf(ctx: AdminContext, file: string): string {
  return isAbsolute(file) ? file : resolve(ctx.cwd, file);
}

async function rolesFrom(ctx: AdminContext, path: string): Promise<RoleDocument[]> {
  const full = pathOf(ctx, path);
  try {
    return existsSync(full) && statSync(full).isDirectory()
      ? await loadWorldRoles(full)
      : await loadRoleFiles([full]);
  } catch (e) {
    if (e instanceof RoleSourceError) throw new UsageError(e.message);
    throw e;
  }
}

/** Reads the file; with `rolesPath`, or for a `local: true` file the demo world, checks ceilings. */
async function readChecked(ctx: AdminContext, file: string, rolesPath?: string): Promise<EntitlementsFile> {
  const full = pathOf(ctx, file);
  try {
    if (rolesPath) return await readEntitlementsFile(full, { roles: await rolesFrom(ctx, rolesPath) });
    const first = await readEntitlementsFile(full);
    if (first.local && existsSync(DEMO_WORLD_DIR)) {
      return await readEntitlementsFile(full, { roles: await loadWorldRoles(DEMO_WORLD_DIR) });
    }
    return first;
  } catch (e) {
    if (e instanceof EntitlementsFileError) throw new UsageError(e.message);
    throw e;
  }
}

function problemLine(p: Problem, cwd: string): string {
  const position = {
    ...p.position,
    file: p.position.file.startsWith(`${cwd}/`) ? p.position.file.slice(cwd.length + 1) : p.position.file,
  };
  return `${formatPosition(position)}: ${p.severity}: ${p.message}`;
}

function report(ctx: AdminContext, read: EntitlementsFile, json: boolean): void {
  const errors = read.problems.filter((p) => p.severity === 'error').length;
  if (json) {
    ctx.out(
      `${JSON.stringify(
        {
          ok: errors === 0,
          file: read.file,
          local: read.local,
          entitlements: read.entitlements.map((e) => e.entitlement.id),
          problems: read.problems,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    for (const p of read.problems) ctx.out(`${problemLine(p, ctx.cwd)}\n`);
  }
}

/**
 * Adds `validate` and `sync` under the existing `vend entitlements` command.
 *
 * @example registerEntitlementsCommands(program.commands.find((c) => c.name() === 'entitlements')!, ctx)
 */
export function registerEntitlementsCommands(entitlements: Command, ctx: AdminContext): void {
  entitlements
    .command('validate')
    .description('check an entitlements file: schema, durations, ceilings, ExternalId references (file:line)')
    .argument('<file>', 'the entitlements file (YAML)')
    .option(
      '--roles <path>',
      'the target roles (a world directory, or a roles file; docs/trust.md) to check ceilings against',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExample:\n  vend entitlements validate entitlements.yaml --roles authz-details.json\n',
    )
    .action(async (file: string, _o: unknown, cmd: Command) => {
      // `vend entitlements` has --json and --aws-profile of its own, and commander gives an option
      // written after the subcommand to the parent; optsWithGlobals() sees both.
      const o = cmd.optsWithGlobals<{ roles?: string; json?: boolean }>();
      const read = await readChecked(ctx, file, o.roles);
      report(ctx, read, o.json === true);
      const errors = read.problems.filter((p) => p.severity === 'error').length;
      ctx.err(
        errors === 0
          ? `${file}: ${read.entitlements.length} entitlement(s) valid${read.problems.length ? `, ${read.problems.length} warning(s)` : ''}\n`
          : `${file}: ${errors} error(s)\n`,
      );
      if (errors > 0) ctx.setExitCode(EXIT.refused);
    });

  entitlements
    .command('sync')
    .description('show how the entitlements table differs from a file; change it only with --apply')
    .argument('<file>', 'the entitlements file (YAML)')
    .option('--apply', 'write the changes (one audit record per change)')
    .option('--prune', 'also delete entitlements that are not in the file')
    .option(
      '--stage <stage>',
      'deployment stage: tables vend-<stage>-entitlements and vend-<stage>-audit (default VEND_STAGE or dev)',
    )
    .option('--table <name>', 'the entitlements table (default VEND_ENTITLEMENTS_TABLE, else from --stage)')
    .option('--audit-table <name>', 'the audit table (default VEND_AUDIT_TABLE, else from --stage)')
    .option('--roles <path>', 'target roles to check ceilings against before syncing')
    .option(
      '--aws-profile <name>',
      'the AWS profile with write access to the tables (deployment credentials)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  vend entitlements sync entitlements.yaml --stage prod            # the diff, nothing changed\n  vend entitlements sync entitlements.yaml --stage prod --apply\n',
    )
    .action(
      async (
        file: string,
        o: {
          apply?: boolean;
          prune?: boolean;
          stage?: string;
          table?: string;
          auditTable?: string;
          roles?: string;
          awsProfile?: string;
        },
        cmd: Command,
      ) => {
        Object.assign(o, { awsProfile: cmd.optsWithGlobals<{ awsProfile?: string }>().awsProfile });
        const read = await readChecked(ctx, file, o.roles);
        const errors = read.problems.filter((p) => p.severity === 'error');
        if (errors.length > 0) {
          for (const p of errors) ctx.err(`${problemLine(p, ctx.cwd)}\n`);
          throw new RefusedError(
            `${file} has ${errors.length} error(s); nothing was synced (see vend entitlements validate)`,
          );
        }
        if (read.local) {
          ctx.err(
            `${file} is marked local: true (its ExternalIds may be written in the file); fine for a local stack only\n`,
          );
        }
        const stage = o.stage ?? ctx.env.VEND_STAGE ?? 'dev';
        const tableName = o.table ?? ctx.env.VEND_ENTITLEMENTS_TABLE ?? `vend-${stage}-entitlements`;
        const auditTable = o.auditTable ?? ctx.env.VEND_AUDIT_TABLE ?? `vend-${stage}-audit`;
        const provider = await ctx.awsCredentials(o.awsProfile);
        // Called without the SDK client's own context, so the profile chosen here is the one used.
        const credentials = () => provider();
        const region = await ctx.region(o.awsProfile);
        const endpoint = (service: string) =>
          ctx.env[`AWS_ENDPOINT_URL_${service}`]?.trim() || ctx.env.AWS_ENDPOINT_URL?.trim() || undefined;
        const aws: OperatorAws = { region, credentials, endpoint };

        let desired: Awaited<ReturnType<typeof resolveExternalIds>>;
        try {
          desired = await resolveExternalIds(read.entitlements, {
            env: (name) => ctx.env[name],
            ssm: ssmReader(aws),
          });
        } catch (e) {
          if (e instanceof ExternalIdResolutionError || e instanceof EntitlementConfigError)
            throw new RefusedError(e.message);
          throw e;
        }

        const adapters = syncAdapters(aws, { entitlements: tableName, audit: auditTable });
        try {
          let actor = { id: 'unknown', label: 'unknown' };
          if (o.apply) {
            // Who applied goes on every audit record: the operator's own AWS principal.
            const arn = await adapters.callerArn().catch((e: unknown) => {
              throw new UnavailableError(
                `cannot tell who you are (sts:GetCallerIdentity): ${(e as Error).name}`,
              );
            });
            const session = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn);
            actor = {
              id: session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : arn,
              label: arn,
            };
          }
          const result = await syncEntitlements(desired, adapters.table, {
            apply: o.apply === true,
            prune: o.prune === true,
            audit: adapters.audit,
            actor,
            now: ctx.now,
            newId: () => ulid(ctx.now()),
            file,
          }).catch((e: unknown) => {
            if (e instanceof PruneRequiredError) throw new RefusedError(e.message);
            if (
              e instanceof Error &&
              /Unavailable|ResourceNotFound|Credentials|ECONNREFUSED/.test(`${e.name} ${e.message}`)
            ) {
              const cause =
                e.cause instanceof Error ? ` (${e.cause.name}: ${e.cause.message.split('\n')[0]})` : '';
              throw new UnavailableError(
                `cannot use the tables ${tableName} / ${auditTable}: ${e.message.split('\n')[0]}${cause}`,
              );
            }
            throw e;
          });
          ctx.out(formatChanges(result.changes, { prune: o.prune === true }));
          if (!o.apply) {
            if (result.changes.length > 0)
              ctx.err(`dry run: nothing changed in ${tableName}; pass --apply to write\n`);
          } else if (result.applied.length > 0) {
            ctx.err(
              `applied ${result.applied.length} change(s) to ${tableName}; audit records in ${auditTable} (audit id ${result.auditId})\n`,
            );
          }
        } finally {
          adapters.close();
        }
      },
    );
}
