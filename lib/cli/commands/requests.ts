/**
 * Access requests from the terminal (issue 4, docs/cli.md "Requests and approvals"):
 * `vend request` (ask, optionally `--wait` for the decision and `--vend`), `vend requests` (list),
 * `vend approve` / `vend deny` (approvers) and `vend cancel` (the requester, while pending).
 *
 * Primary course of `vend request <entitlement> --reason … --wait --format env`:
 * 1. `POST /v1/requests`; print its status line on stderr;
 * 2. poll `GET /v1/requests/{id}` every 2 s until it leaves `pending` (Ctrl-C leaves it as it is);
 * 3. approved: `POST /v1/requests/{id}/credentials` and print them; otherwise exit 1 saying why.
 */
import { type Command, Option } from 'commander';
import type { VendClient } from '../client';
import { InterruptedError, RefusedError, UsageError } from '../errors';
import { durationOption, example, urlOption, when } from '../options';
import {
  CREDENTIAL_FORMATS,
  type CredentialFormat,
  formatCredentials,
  humanDuration,
  table,
} from '../output';
import type { Runtime } from '../runtime';
import type { AccessRequest } from '../types';

const WAIT_INTERVAL_MS = 2000;
const TERMINAL = new Set(['approved', 'active', 'denied', 'cancelled', 'expired', 'rejected']);
const GRANTED = new Set(['approved', 'active']);

/** Registers `vend request`, `requests`, `approve`, `deny` and `cancel`. */
export function register(program: Command, rt: Runtime): void {
  // request
  example(
    program
      .command('request')
      .description('ask for access to an entitlement that needs approval (or break glass)')
      .argument('<entitlement>', 'entitlement id')
      .requiredOption('--reason <text>', 'why you need it (shown to approvers)')
      .addOption(durationOption())
      .option('--break-glass', 'emergency access without approval (needs --ticket; everyone is told)')
      .option('--ticket <id>', 'incident or change ticket')
      .option('--wait', 'wait until the request is approved, denied or expired')
      .option('--vend', 'once approved, vend and print credentials (implies --wait)')
      .addOption(
        new Option('--format <format>', 'credential output format once approved (implies --vend)').choices([
          ...CREDENTIAL_FORMATS,
        ]),
      )
      .option('--json', 'print the request as JSON')
      .addOption(urlOption()),
    'vend request prod-admin --reason "INC-42: fix the outage" --duration 30m --wait',
    'eval "$(vend request prod-admin --reason "deploy fix" --format env)"',
    'vend request prod-admin --break-glass --ticket INC-42 --reason "outage" --format env',
  ).action(
    async (
      entitlement: string,
      o: {
        reason: string;
        duration?: number;
        breakGlass?: boolean;
        ticket?: string;
        wait?: boolean;
        vend?: boolean;
        format?: CredentialFormat;
        json?: boolean;
        url?: string;
      },
    ) => {
      if (!o.reason.trim()) throw new UsageError('--reason must not be blank');
      if (o.breakGlass && !o.ticket)
        throw new UsageError('--break-glass needs --ticket <incident or change id>');
      const vend = o.vend === true || o.format !== undefined;
      const client = await rt.client({ url: o.url, needPerson: true });
      let request = await rt.api(client, { entitlement }, () =>
        client.createRequest({
          entitlement,
          reason: o.reason,
          ...(o.duration !== undefined ? { durationSeconds: o.duration } : {}),
          ...(o.breakGlass ? { breakGlass: true, ticket: o.ticket } : o.ticket ? { ticket: o.ticket } : {}),
        }),
      );
      rt.err(`${statusLine(request)}\n`);
      if (o.wait || vend) request = await waitForDecision(rt, client, request);
      if (vend) {
        if (!GRANTED.has(request.status)) throw refusedFor(request);
        const body = await rt.api(client, { entitlement }, () =>
          client.requestCredentials(
            request.id,
            o.duration !== undefined ? { durationSeconds: o.duration } : {},
          ),
        );
        return rt.out(formatCredentials(body, o.format ?? 'json'));
      }
      if (o.json) rt.out(`${JSON.stringify(request, null, 2)}\n`);
      else rt.out(`${request.id}\n`);
      if ((o.wait || vend) && !GRANTED.has(request.status)) throw refusedFor(request);
    },
  );

  // requests
  example(
    program
      .command('requests')
      .description('list access requests: yours, and those you may approve')
      .option('--json', 'print JSON')
      .option('--status <status>', 'only this status (pending, approved, denied, expired, cancelled)')
      .option('--mine', 'only your own requests')
      .addOption(urlOption()),
    'vend requests --status pending',
  ).action(async (o: { json?: boolean; status?: string; mine?: boolean; url?: string }) => {
    const client = await rt.client({ url: o.url, needPerson: true });
    const list = await rt.api(client, {}, () => client.listRequests(o));
    if (o.json) return rt.out(`${JSON.stringify(list, null, 2)}\n`);
    if (list.length === 0) return rt.err('no requests\n');
    rt.out(
      table(
        ['ID', 'ENTITLEMENT', 'STATUS', 'REQUESTER', 'APPROVALS', 'DURATION', 'CREATED', 'UNTIL', 'REASON'],
        list.map((r) => [
          r.id,
          r.entitlement,
          r.breakGlass ? `${r.status} (break-glass)` : r.status,
          who(r.requester),
          approvalsText(r),
          typeof r.durationSeconds === 'number' ? humanDuration(r.durationSeconds) : undefined,
          when(r.createdAt),
          when(r.status === 'pending' ? r.expiresAt : r.grantEnd),
          r.reason,
        ]),
      ),
    );
  });

  // approve / deny
  for (const decision of ['approve', 'deny'] as const) {
    example(
      program
        .command(decision)
        .description(`${decision} an access request`)
        .argument('<id>', 'request id (see vend requests)')
        .option('--comment <text>', 'a note for the requester and the audit trail')
        .option('--json', 'print the request as JSON')
        .addOption(urlOption()),
      `vend ${decision} r-01HX… --comment "${decision === 'approve' ? 'ok for INC-42' : 'use staging first'}"`,
    ).action(async (id: string, o: { comment?: string; json?: boolean; url?: string }) => {
      const client = await rt.client({ url: o.url, needPerson: true });
      const request = await rt.api(client, {}, () => client.decide(id, decision, o.comment));
      rt.out(o.json ? `${JSON.stringify(request, null, 2)}\n` : `${statusLine(request)}\n`);
    });
  }

  // cancel: the requester withdraws a pending request
  example(
    program
      .command('cancel')
      .description('cancel your own pending access request')
      .argument('<id>', 'request id (see vend requests --mine)')
      .option('--json', 'print the request as JSON')
      .addOption(urlOption()),
    'vend cancel r-01HX…',
  ).action(async (id: string, o: { json?: boolean; url?: string }) => {
    const client = await rt.client({ url: o.url, needPerson: true });
    const request = await rt.api(client, {}, () =>
      client.call<AccessRequest>('POST', `v1/requests/${encodeURIComponent(id)}/cancel`, {}),
    );
    rt.out(o.json ? `${JSON.stringify(request, null, 2)}\n` : `${statusLine(request)}\n`);
  });
}

function who(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    for (const k of ['label', 'username', 'email', 'id', 'sub'])
      if (typeof v[k] === 'string') return v[k] as string;
  }
  return undefined;
}

function approvalsText(r: AccessRequest): string | undefined {
  const have = Array.isArray(r.votes) ? r.votes.filter((v) => v.decision === 'approve').length : undefined;
  if (have === undefined && r.approvalsRequired === undefined) return undefined;
  return `${have ?? 0}/${r.approvalsRequired ?? '?'}`;
}

function statusLine(r: AccessRequest): string {
  const votes = approvalsText(r);
  return `request ${r.id} (${r.entitlement}): ${r.status}${votes && r.status === 'pending' ? `, ${votes} approvals` : ''}`;
}

function refusedFor(r: AccessRequest): RefusedError {
  const deny = r.votes?.find((v) => v.decision === 'deny');
  const by = deny?.label ? ` by ${deny.label}` : '';
  const comment = deny?.comment ? `: ${deny.comment}` : '';
  return new RefusedError(`request ${r.id} for ${r.entitlement} was ${r.status}${by}${comment}`);
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Polls `GET /v1/requests/{id}` until the request leaves `pending`. On a TTY a spinner line is
 * redrawn in place; otherwise a plain line is printed whenever the status changes. Ctrl-C stops
 * waiting and leaves the request as it is (exit 130).
 */
async function waitForDecision(
  rt: Runtime,
  client: VendClient,
  first: AccessRequest,
): Promise<AccessRequest> {
  const tty = rt.io.isTTY ?? process.stderr.isTTY === true;
  let request = first;
  let last = statusLine(first);
  let frame = 0;
  const started = rt.now().getTime();
  try {
    return await rt.interruptible(async (signal) => {
      while (!TERMINAL.has(request.status)) {
        if (tty) {
          const secs = Math.round((rt.now().getTime() - started) / 1000);
          rt.err(
            `\r\x1b[2K${SPINNER[frame++ % SPINNER.length]} ${statusLine(request)} (${secs}s, Ctrl-C to stop waiting)`,
          );
        }
        await rt.sleep(WAIT_INTERVAL_MS, signal);
        const id = request.id;
        request = await rt.api(client, { entitlement: request.entitlement }, () => client.getRequest(id));
        const line = statusLine(request);
        if (!tty && line !== last) rt.err(`${line}\n`);
        last = line;
      }
      if (tty) rt.err(`\r\x1b[2K${statusLine(request)}\n`);
      return request;
    });
  } catch (error) {
    if (tty) rt.err('\r\x1b[2K');
    if (error instanceof InterruptedError) {
      throw new InterruptedError(
        `stopped waiting; request ${request.id} is left as it is (${request.status}): see it with vend requests --mine`,
      );
    }
    throw error;
  }
}
