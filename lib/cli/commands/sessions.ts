/**
 * `vend sessions`, `vend revoke` and `vend console` (CONTRACT §5, docs/cli.md): live sessions,
 * revoking them, and AWS console sign-in. People's commands (a token from `vend login` or
 * `VEND_TOKEN`): the routes take an OIDC token.
 *
 * `vend console` never handles keys: vend answers a sign-in URL, which is opened in the default
 * browser (`open` on macOS, `start` on Windows, `xdg-open` elsewhere) or, with `--print`, printed on
 * stdout. The URL holds a sign-in token good for one sign-in within 15 minutes: it is printed only
 * when asked for, or when no browser could be started (so the person can still use it).
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import type { ConsoleResponse, RevokeCallerResult, Session, SessionList } from '../../api/types';
import { UsageError } from '../errors';
import { durationOption, example, urlOption, when } from '../options';
import { table } from '../output';
import type { Runtime } from '../runtime';

/**
 * The command that opens a URL in the default browser on a platform.
 * @example browserCommand('linux', 'https://…') // ['xdg-open', ['https://…']]
 */
export function browserCommand(platform: NodeJS.Platform, url: string): [string, string[]] {
  if (platform === 'darwin') return ['open', [url]];
  // `start` is a cmd built-in; its first quoted argument is the window title.
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]];
  return ['xdg-open', [url]];
}

/**
 * Opens `url` with the platform's opener; rejects when it cannot be started or fails.
 * @example await openInBrowser('https://signin.aws.amazon.com/federation?Action=login&…')
 */
export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  const [command, args] = browserCommand(platform, url);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: platform !== 'win32' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
    child.unref();
  });
}

function sessionLine(s: Session): string {
  return `revoked ${s.auditId} (${s.entitlement}, ${s.caller.label}, ${s.delivery})\n`;
}

/**
 * Registers `vend sessions`, `vend revoke` and `vend console`.
 * @example register(program, rt)
 */
export function register(program: Command, rt: Runtime): void {
  example(
    program
      .command('sessions')
      .description('list live sessions: yours, or with --all those you answer for (approvers, security)')
      .option(
        '--all',
        'every live session of the entitlements you approve (all of them for the security group)',
      )
      .option('--json', 'print JSON')
      .addOption(urlOption()),
    'vend sessions',
    'vend sessions --all --json',
  ).action(async (o: { all?: boolean; json?: boolean; url?: string }) => {
    const client = await rt.client({ url: o.url, needPerson: true });
    const out = await rt.api(client, {}, () =>
      client.call<SessionList>('GET', 'v1/sessions', undefined, o.all ? { all: 'true' } : {}),
    );
    const list = out.sessions ?? [];
    if (o.json) return rt.out(`${JSON.stringify(list, null, 2)}\n`);
    if (list.length === 0) return rt.err('no live sessions\n');
    rt.out(
      table(
        ['AUDIT ID', 'CALLER', 'ENTITLEMENT', 'DELIVERY', 'STATUS', 'ISSUED', 'EXPIRES', 'ASSUMED ROLE'],
        list.map((s) => [
          s.auditId,
          s.caller.label,
          s.entitlement,
          s.delivery,
          s.revocation ? `revoked by ${s.revocation.by.label}` : s.status,
          when(s.issuedAt),
          when(s.expiresAt),
          s.assumedRoleArn,
        ]),
      ),
    );
  });

  example(
    program
      .command('revoke')
      .description('revoke a live session at once (or every live session of a caller, with --caller)')
      .argument('[auditId]', 'the session’s audit id (see vend sessions)')
      .requiredOption('--reason <text>', 'why, for the audit trail')
      .option(
        '--caller <id>',
        'revoke every live session of this caller id instead (security group, approvers)',
      )
      .option('--json', 'print JSON')
      .addOption(urlOption()),
    'vend revoke 01KB… --reason "laptop lost"',
    'vend revoke --caller "$(vend sessions --all --json | jq -r \'.[0].caller.id\')" --reason "left the company"',
  ).action(
    async (
      auditId: string | undefined,
      o: { reason: string; caller?: string; json?: boolean; url?: string },
    ) => {
      if (!o.reason.trim()) throw new UsageError('--reason must not be blank');
      if ((auditId === undefined) === (o.caller === undefined)) {
        throw new UsageError('name one session (an audit id) or one caller (--caller ID), not both');
      }
      const client = await rt.client({ url: o.url, needPerson: true });
      if (o.caller !== undefined) {
        const caller = o.caller;
        const out = await rt.api(client, {}, () =>
          client.call<RevokeCallerResult>('POST', 'v1/sessions/revoke', { caller, reason: o.reason }),
        );
        if (o.json) return rt.out(`${JSON.stringify(out, null, 2)}\n`);
        for (const s of out.revoked) rt.out(sessionLine(s));
        return;
      }
      const id = auditId ?? '';
      const out = await rt.api(client, {}, () =>
        client.call<Session>('POST', `v1/sessions/${encodeURIComponent(id)}/revoke`, { reason: o.reason }),
      );
      rt.out(o.json ? `${JSON.stringify(out, null, 2)}\n` : sessionLine(out));
    },
  );

  example(
    program
      .command('console')
      .description('open the AWS console for an entitlement in your browser (never keys)')
      .argument('<entitlement>', 'entitlement id, e.g. prod-readonly')
      .addOption(durationOption())
      .option('--request <id>', 'inside an approved request (or your break-glass)')
      .option('--destination <url>', 'a console page to open (https://…console.aws.amazon.com/…)')
      .option('--reason <text>', 'why, for the audit trail')
      .option('--print', 'print the sign-in URL instead of opening a browser')
      .addOption(urlOption()),
    'vend console prod-readonly --duration 15m',
    'vend console prod-admin --request 01KB… --print',
  ).action(
    async (
      entitlement: string,
      o: {
        duration?: number;
        request?: string;
        destination?: string;
        reason?: string;
        print?: boolean;
        url?: string;
      },
    ) => {
      const client = await rt.client({ url: o.url, needPerson: true });
      const body = {
        ...(o.duration !== undefined ? { durationSeconds: o.duration } : {}),
        ...(o.destination ? { destination: o.destination } : {}),
      };
      const request = o.request;
      const out = await rt.api(client, { entitlement }, () =>
        request !== undefined
          ? client.call<ConsoleResponse>('POST', `v1/requests/${encodeURIComponent(request)}/console`, {
              entitlement,
              ...body,
            })
          : client.call<ConsoleResponse>('POST', 'v1/console', {
              entitlement,
              ...body,
              ...(o.reason ? { reason: o.reason } : {}),
            }),
      );
      const session = `${out.assumedRoleArn} until ${when(out.expiresAt)} (audit id ${out.auditId})`;
      // Only the URL, so that `open "$(vend console … --print)"` and scripts can take it as is.
      if (o.print) return rt.out(`${out.url}\n`);
      try {
        await (rt.io.openUrl ?? ((u: string) => openInBrowser(u)))(out.url);
        rt.err(`opened the AWS console in your browser: ${session}\n`);
      } catch {
        rt.err(`could not open a browser; open this URL (once, within 15 minutes) for ${session}:\n`);
        rt.out(`${out.url}\n`);
      }
    },
  );
}
