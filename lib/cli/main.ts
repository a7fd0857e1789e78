/**
 * The `vend` command line (CONTRACT §5, docs/cli.md). {@link main} parses the arguments with
 * commander, runs one command and returns its exit code; it never throws and never prints a stack
 * trace: every failure becomes one `vend: …` line on stderr (lib/cli/errors.ts). stdout carries
 * only what was asked for (credentials, listings), so it can be piped or `eval`ed.
 *
 * Primary course of a credential command:
 * 1. find the API (`--url`, `VEND_URL`, `config.json`);
 * 2. choose the identity: a person's token (`VEND_TOKEN`, else the stored `vend login`) unless
 *    `--aws-profile` is given, else the ambient AWS credentials (SigV4);
 * 3. call the route, print the answer in the asked format.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AwsCredentialIdentity } from '@smithy/types';
import { Command, CommanderError, Option } from 'commander';
import { parseAuditTime, refuseOptions, registerAuditTrailCommands } from './audit';
import {
  abortableSleep,
  cacheDir,
  configDir,
  login,
  type PersonToken,
  personToken,
  readConfig,
  removeStoredToken,
} from './auth';
import { CredentialCache, policyHash } from './cache';
import { type AuditQuery, decodeJwtClaims, VendClient } from './client';
import { main as devTokenMain } from './dev-token';
import { parseDuration } from './duration';
import { type AdminContext, registerEntitlementsCommands } from './entitlements';
import {
  ApiResponseError,
  AuthError,
  describeError,
  type ErrorContext,
  EXIT,
  InterruptedError,
  problemToError,
  RefusedError,
  UsageError,
} from './errors';
import { registerLintTrust } from './lint-trust';
import {
  CREDENTIAL_FORMATS,
  type CredentialFormat,
  credentialProcessOutput,
  formatCredentials,
  humanDuration,
  table,
} from './output';
import { awsConfigFile, commandLine, writeProfile } from './profile';
import { startCredentialServer } from './serve';
import { registerSessionCommands } from './sessions';
import type { AccessRequest, AuditEntry, VendBody, VendResponse } from './types';

type Env = Record<string, string | undefined>;

/** What {@link main} talks to; everything but stdout/stderr/env/cwd is optional and for tests. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Env;
  cwd: string;
  /** Whether stderr is a terminal (spinner vs plain lines); default process.stderr.isTTY. */
  isTTY?: boolean;
  now?: () => Date;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  fetch?: typeof fetch;
  /** Interrupts `--wait`, `login` and `serve`; default SIGINT/SIGTERM of this process. */
  signal?: AbortSignal;
  /** The AWS credentials to sign with; default the SDK's default provider chain. */
  awsCredentials?: (profile?: string) => () => Promise<AwsCredentialIdentity>;
  /** How to run vend again (for `--write-profile`); default `node <repo>/bin/vend.js`. */
  selfCommand?: string[];
  /** Told the credential server's URL once it listens (tests). */
  onServe?: (info: { url: string; token: string }) => void;
  /** Opens a URL in the default browser (`vend console`); default xdg-open / open / start. */
  openUrl?: (url: string) => Promise<void>;
}

/** Guards against a profile whose credential_process signs with itself (infinite recursion). */
const NESTED = 'VEND_CREDENTIAL_PROCESS_ACTIVE';
const WAIT_INTERVAL_MS = 2000;
const TERMINAL = new Set(['approved', 'active', 'denied', 'cancelled', 'expired', 'rejected']);
const GRANTED = new Set(['approved', 'active']);

function defaultIo(): CliIo {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    cwd: process.cwd(),
  };
}

function version(): string {
  try {
    return (
      (
        JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
          version?: string;
        }
      ).version ?? '0.0.0'
    );
  } catch {
    return '0.0.0';
  }
}

/** Region for SigV4: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else us-east-1. */
export async function resolveRegion(env: Env, profile?: string): Promise<string> {
  const fromEnv = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  if (fromEnv) return fromEnv;
  const name = profile ?? env.AWS_PROFILE?.trim() ?? 'default';
  try {
    const text = await readFile(awsConfigFile(env), 'utf8');
    let inSection = false;
    for (const line of text.split(/\r?\n/)) {
      const section = /^\s*\[\s*([^\]]+?)\s*\]/.exec(line)?.[1];
      if (section !== undefined) {
        inSection = section.replace(/^profile\s+/, '') === name;
        continue;
      }
      const region = inSection ? /^\s*region\s*=\s*(\S+)/.exec(line)?.[1] : undefined;
      if (region) return region;
    }
  } catch {
    // no config file
  }
  return 'us-east-1';
}

async function defaultAwsCredentials(
  env: Env,
  profile?: string,
): Promise<() => Promise<AwsCredentialIdentity>> {
  // Loaded on first use: person commands never need the SDK.
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  return defaultProvider({
    ...(profile ? { profile } : {}),
    ...(env.AWS_SHARED_CREDENTIALS_FILE ? { filepath: env.AWS_SHARED_CREDENTIALS_FILE } : {}),
    ...(env.AWS_CONFIG_FILE ? { configFilepath: env.AWS_CONFIG_FILE } : {}),
  });
}

/** Per-run helpers shared by the commands. */
class Runtime {
  readonly now: () => Date;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private person: PersonToken | undefined;
  /** Set by commands that report their own failures (`dev token`). */
  exitCode: number | undefined;

  constructor(readonly io: CliIo) {
    this.now = io.now ?? (() => new Date());
    this.sleep = io.sleep ?? abortableSleep;
  }

  get env(): Env {
    return this.io.env;
  }

  out(s: string): void {
    this.io.stdout(s);
  }

  err(s: string): void {
    this.io.stderr(s);
  }

  async vendUrl(flag?: string): Promise<string> {
    const url = flag?.trim() || this.env.VEND_URL?.trim() || (await readConfig(this.env)).url?.trim();
    if (!url) throw new UsageError('VEND_URL is not set: export VEND_URL=<the vend API URL> (or pass --url)');
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new UsageError(`VEND_URL is not an http(s) URL: '${url}'`);
    }
    return url;
  }

  /** The client for this run; a person's token wins unless an AWS profile was named. */
  async client(opts: { url?: string; awsProfile?: string; needPerson?: boolean }): Promise<VendClient> {
    const baseUrl = await this.vendUrl(opts.url);
    const common = { baseUrl, fetch: this.io.fetch, userAgent: `vend-cli/${version()}` };
    if (!opts.awsProfile) {
      this.person = await personToken({ env: this.env, fetch: this.io.fetch, now: this.now });
      if (this.person)
        return new VendClient({ ...common, auth: { kind: 'person', token: this.person.token } });
    }
    if (opts.needPerson)
      throw new AuthError('this command is for people: run vend login (or set VEND_TOKEN) first');
    const credentials = this.io.awsCredentials
      ? this.io.awsCredentials(opts.awsProfile)
      : await defaultAwsCredentials(this.env, opts.awsProfile);
    const region = await resolveRegion(this.env, opts.awsProfile);
    return new VendClient({ ...common, auth: { kind: 'service', credentials, region } });
  }

  /** The context for turning an API error into words. */
  context(client: VendClient, entitlement?: string): ErrorContext {
    const exp = this.person ? decodeJwtClaims(this.person.token)?.exp : undefined;
    return {
      mode: client.mode,
      ...(entitlement ? { entitlement } : {}),
      ...(this.person ? { tokenSource: this.person.source } : {}),
      ...(typeof exp === 'number' ? { tokenExpiresAt: exp } : {}),
      now: this.now(),
    };
  }

  /** Runs an API call, translating its refusal with `ctx`. */
  async api<T>(client: VendClient, ctx: { entitlement?: string }, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ApiResponseError)
        throw problemToError(error, this.context(client, ctx.entitlement));
      throw error;
    }
  }

  async readPolicy(file: string | undefined): Promise<{ policy?: unknown; hash?: string; path?: string }> {
    if (file === undefined) return {};
    const path = isAbsolute(file)
      ? file
      : resolve(this.io.cwd, file.replace(/^~(?=$|\/)/, this.env.HOME ?? homedir()));
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new UsageError(
        `cannot read the policy file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    let policy: unknown;
    try {
      policy = JSON.parse(text);
    } catch {
      throw new UsageError(`the policy file ${file} is not JSON`);
    }
    if (!policy || typeof policy !== 'object' || Array.isArray(policy)) {
      throw new UsageError(`the policy file ${file} must hold one IAM policy document (a JSON object)`);
    }
    return { policy, hash: policyHash(JSON.stringify(policy)), path };
  }

  /**
   * Runs `fn` with a signal aborted by io.signal or, by default, SIGINT/SIGTERM (whose handlers
   * are removed afterwards so other commands keep the default behaviour).
   */
  async interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    const outer = this.io.signal;
    if (outer) {
      if (outer.aborted) controller.abort();
      outer.addEventListener('abort', abort, { once: true });
    } else {
      process.once('SIGINT', abort);
      process.once('SIGTERM', abort);
    }
    try {
      return await fn(controller.signal);
    } finally {
      if (outer) outer.removeEventListener('abort', abort);
      else {
        process.off('SIGINT', abort);
        process.off('SIGTERM', abort);
      }
    }
  }
}

function durationOption(): Option {
  return new Option('--duration <duration>', 'how long the credentials last: 900, 15m, 1h').argParser((v) =>
    parseDuration(v),
  );
}

function example(cmd: Command, ...lines: string[]): Command {
  return cmd.addHelpText(
    'after',
    `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`,
  );
}

function when(iso: unknown): string | undefined {
  return typeof iso === 'string' ? iso.replace(/\.\d+Z$/, 'Z') : undefined;
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

/** A break-glass review as `GET /v1/reviews` answers it. */
interface Review {
  id: string;
  requestId?: string;
  entitlement?: string;
  requesterId?: string;
  status?: string;
  openedAt?: string;
  signedOffBy?: string;
  at?: string;
}

function buildProgram(rt: Runtime): Command {
  const program = new Command('vend')
    .description('Short-lived AWS credentials from vend, where the AWS CLI and SDKs look for them.')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => rt.out(s), writeErr: (s) => rt.err(s), outputError: () => undefined })
    .addHelpText(
      'after',
      '\nThe API is VEND_URL. People sign in with `vend login` (or VEND_TOKEN); services sign with their AWS credentials.\nExit codes: 0 ok, 1 refused, 2 usage, 3 authentication, 4 unavailable, 130 interrupted (docs/cli.md).\n',
    );

  const urlOption = (): Option => new Option('--url <url>', 'the vend API (default VEND_URL)');
  const awsProfileOption = (): Option =>
    new Option('--aws-profile <name>', 'sign with this AWS profile (SigV4) even when a person is logged in');

  // credentials
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
        const self = rt.io.selfCommand ?? [
          process.execPath,
          fileURLToPath(new URL('../../bin/vend.js', import.meta.url)),
        ];
        const args = [...self, 'credential-process', entitlement, '--url', url];
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

  // credential-process
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

  // entitlements
  example(
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

  // reviews: break-glass uses waiting for (or given) someone else's sign-off
  example(
    program
      .command('reviews')
      .description('list break-glass reviews you may sign off (and your own)')
      .option('--json', 'print JSON')
      .addOption(new Option('--status <status>', 'open or signed-off').choices(['open', 'signed-off']))
      .addOption(urlOption()),
    'vend reviews',
    'vend reviews --status signed-off --json',
  ).action(async (o: { json?: boolean; status?: string; url?: string }) => {
    const client = await rt.client({ url: o.url, needPerson: true });
    const out = await rt.api(client, {}, () =>
      client.call<{ reviews: Review[] }>(
        'GET',
        'v1/reviews',
        undefined,
        o.status ? { status: o.status } : {},
      ),
    );
    const list = out.reviews ?? [];
    if (o.json) return rt.out(`${JSON.stringify(list, null, 2)}\n`);
    if (list.length === 0) return rt.err(`no ${o.status ?? 'open'} reviews\n`);
    rt.out(
      table(
        ['ID', 'ENTITLEMENT', 'STATUS', 'BROKE GLASS', 'OPENED', 'SIGNED OFF BY', 'AT'],
        list.map((r) => [
          r.id,
          r.entitlement,
          r.status,
          r.requesterId,
          when(r.openedAt),
          r.signedOffBy,
          when(r.at),
        ]),
      ),
    );
  });

  // review sign-off
  const review = program.command('review').description('act on a break-glass review');
  example(
    review
      .command('sign-off')
      .description('sign off someone else’s break-glass use after checking what was done')
      .argument('<id>', 'review id (the break-glass request id; see vend reviews)')
      .option('--comment <text>', 'what you checked, for the audit trail')
      .option('--json', 'print the review as JSON')
      .addOption(urlOption()),
    'vend review sign-off r-01HX… --comment "session matches INC-42"',
  ).action(async (id: string, o: { comment?: string; json?: boolean; url?: string }) => {
    const client = await rt.client({ url: o.url, needPerson: true });
    const signed = await rt.api(client, {}, () =>
      client.call<Review>(
        'POST',
        `v1/reviews/${encodeURIComponent(id)}/sign-off`,
        o.comment ? { comment: o.comment } : {},
      ),
    );
    rt.out(
      o.json
        ? `${JSON.stringify(signed, null, 2)}\n`
        : `review ${signed.id} (${signed.entitlement}): ${signed.status}${signed.signedOffBy ? ` by ${signed.signedOffBy}` : ''}\n`,
    );
  });

  // audit: the listing calls the API; verify, seal and orphans read the audit table (lib/cli/audit.ts)
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

  // login / logout
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

  // serve
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

  // dev token
  const dev = program.command('dev').description('local development helpers (local stack only)');
  example(
    dev
      .command('token')
      .description('mint a local OIDC access token for a demo person')
      .requiredOption('--user <name>', 'alice, bob, carol, dave, erin or mallory')
      .option('--audience <aud>', 'token audience')
      .option('--ttl <seconds>', 'lifetime in seconds'),
    'export VEND_TOKEN=$(vend dev token --user alice)',
  ).action(async (o: { user: string; audience?: string; ttl?: string }) => {
    const args = ['dev', 'token', '--user', o.user];
    if (o.audience) args.push('--audience', o.audience);
    if (o.ttl) args.push('--ttl', o.ttl);
    rt.exitCode = await devTokenMain(args, { stdout: (s) => rt.out(s), stderr: (s) => rt.err(s) });
  });

  // live sessions, revocation and console sign-in (lib/cli/sessions.ts)
  registerSessionCommands(program, {
    client: (o) => rt.client(o),
    api: (client, ctx, call) => rt.api(client, ctx, call),
    out: (s) => rt.out(s),
    err: (s) => rt.err(s),
    ...(rt.io.openUrl ? { openUrl: rt.io.openUrl } : {}),
  });

  // operators: entitlements as code and the no-standing-trust check (docs/entitlements.md, docs/trust.md)
  const admin = adminContext(rt);
  const entitlementsCommand = program.commands.find((c) => c.name() === 'entitlements');
  if (entitlementsCommand) registerEntitlementsCommands(entitlementsCommand, admin);
  registerLintTrust(program, admin);

  return program;
}

/** What `vend entitlements validate|sync` and `vend lint-trust` use of the runtime. */
function adminContext(rt: Runtime): AdminContext {
  return {
    out: (s) => rt.out(s),
    err: (s) => rt.err(s),
    env: rt.env,
    cwd: rt.io.cwd,
    now: rt.now,
    awsCredentials: async (profile) =>
      rt.io.awsCredentials ? rt.io.awsCredentials(profile) : defaultAwsCredentials(rt.env, profile),
    region: (profile) => resolveRegion(rt.env, profile),
    setExitCode: (code) => {
      rt.exitCode = code;
    },
  };
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

/**
 * Runs the `vend` command line.
 *
 * @param argv the arguments after `vend` (`process.argv.slice(2)`)
 * @returns the exit code (docs/cli.md)
 * @example process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const rt = new Runtime(io);
  try {
    const program = buildProgram(rt);
    if (argv.length === 0) {
      rt.err(program.helpInformation());
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return rt.exitCode ?? EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      if (error.code === 'commander.help') return EXIT.usage;
      // A UsageError thrown by an option parser arrives wrapped as invalidArgument.
      const text = error.message.replace(/^error: /, '');
      const hint =
        error.code === 'commander.unknownCommand' ? ' (see: vend --help)' : ' (see: vend <command> --help)';
      rt.err(`vend: ${text.split('\n')[0]}${hint}\n`);
      return EXIT.usage;
    }
    const { message, exitCode } = describeError(error);
    rt.err(`vend: ${message}\n`);
    return exitCode;
  }
}
