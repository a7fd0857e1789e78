/**
 * `vend audit`: the listing reads the trail through the API (`GET /v1/audit`, auditors); `verify`,
 * `seal` and `orphans` read the audit table itself with the operator's AWS credentials
 * (lib/cli/audit.ts registers them; `--verify` is an alias of `vend audit verify`).
 *
 * Primary course of the listing:
 * 1. resolve `--since`/`--until` (ISO times or ages) and the filters into a query;
 * 2. follow the API's cursor until `--limit` records (saying on stderr when more match);
 * 3. print them newest first as a table, or `--json`.
 */
import { type Command, Option } from 'commander';
import { parseAuditTime, refuseOptions, registerAuditTrailCommands } from '../audit';
import type { AuditQuery } from '../client';
import { UsageError } from '../errors';
import { example, urlOption, when } from '../options';
import { table } from '../output';
import type { Runtime } from '../runtime';
import type { AuditEntry } from '../types';

/** Registers `vend audit` and its `verify`, `seal` and `orphans` subcommands. */
export function register(program: Command, rt: Runtime): void {
  const auditCommand = program
    .command('audit')
    .description('read the audit trail (auditors); verify, seal and reconcile it (operators)')
    .option('--since <time>', 'ISO 8601 time or an age (1h, 7d)')
    .option('--until <time>', 'ISO 8601 time or an age')
    .option('--caller <id>', 'only this caller')
    .option('--entitlement <id>', 'only this entitlement')
    .option('--decision <decision>', 'only intent, issued or denied records')
    .option('--request-id <id>', 'only records of this API request')
    .addOption(
      new Option('--limit <n>', 'at most this many records').default(100).argParser((v) => {
        if (!/^\d+$/.test(v) || Number(v) < 1)
          throw new UsageError(`--limit takes a positive whole number, not '${v}'`);
        return Number(v);
      }),
    )
    .option('--json', 'print JSON')
    .option('--verify', 'the same as: vend audit verify [--since] [--until] [--json]')
    .addOption(urlOption());
  example(
    auditCommand,
    'vend audit --since 24h --entitlement prod-admin',
    'vend audit --caller arn:aws:iam::111122223333:role/CICDDeployRole --json',
    'vend audit verify --since 7d',
  );
  const trailCommands = registerAuditTrailCommands(auditCommand, {
    out: (s) => rt.out(s),
    err: (s) => rt.err(s),
    env: rt.env,
    now: rt.now,
    setExitCode: (code) => {
      rt.exitCode = code;
    },
  });
  auditCommand.action(
    async (o: {
      since?: string;
      until?: string;
      caller?: string;
      entitlement?: string;
      decision?: string;
      requestId?: string;
      limit: number;
      json?: boolean;
      verify?: boolean;
      url?: string;
    }) => {
      if (o.verify) {
        refuseOptions(auditCommand, ['since', 'until', 'json', 'verify'], 'vend audit --verify');
        return trailCommands.verify(o);
      }
      const client = await rt.client({ url: o.url, needPerson: true });
      const query: AuditQuery = {
        ...(o.since ? { since: parseAuditTime(o.since, rt.now(), '--since') } : {}),
        ...(o.until ? { until: parseAuditTime(o.until, rt.now(), '--until') } : {}),
        ...(o.caller ? { caller: o.caller } : {}),
        ...(o.entitlement ? { entitlement: o.entitlement } : {}),
        ...(o.decision ? { decision: o.decision } : {}),
        ...(o.requestId ? { requestId: o.requestId } : {}),
      };
      const records: AuditEntry[] = [];
      let cursor: string | undefined;
      do {
        const page = await rt.api(client, {}, () =>
          client.audit({ ...query, ...(cursor ? { cursor } : {}) }),
        );
        records.push(...page.records);
        cursor = page.cursor;
      } while (cursor && records.length < o.limit);
      const shown = records.slice(0, o.limit);
      if (cursor || records.length > o.limit)
        rt.err(`showing the newest ${o.limit}; more match (raise --limit or narrow the filters)\n`);
      if (o.json) return rt.out(`${JSON.stringify(shown, null, 2)}\n`);
      if (shown.length === 0) return rt.err('no audit records match\n');
      rt.out(
        table(
          ['TIME', 'DECISION', 'CALLER', 'ENTITLEMENT', 'DETAIL', 'AUDIT ID'],
          shown.map((r) => [
            when(r.time),
            r.decision,
            r.caller?.label ?? r.caller?.id,
            r.entitlement,
            r.decision === 'denied' ? r.reasonCode : r.accessKeyId,
            r.auditId,
          ]),
        ),
      );
    },
  );
}
