/**
 * `vend audit verify|seal|orphans` (issue 8, docs/audit.md, docs/cli.md): the audit trail's
 * integrity and reconciliation, run in this process over the audit table with the operator's own
 * AWS credentials (lib/wiring/audit-cli.ts), not through the API. `vend audit` itself (the listing,
 * `GET /v1/audit`) stays in lib/cli/main.ts with the other API commands; its `--verify` is an alias
 * of `vend audit verify` and calls {@link AuditTrailCommands.verify}.
 *
 * Primary course of `vend audit verify`:
 * 1. resolve `--since`/`--until` (ISO times or ages; default the last 7 days up to now);
 * 2. read the digests and records of that range and recompute them (verifyFromEnv);
 * 3. print every finding (kind, record id or digest interval, detail) and a summary; exit 1 on any.
 */
import { type Command, Option } from 'commander';
import type { AuditFinding } from '../domain/audit-chain';
import type { OrphanedIntent, SealResult, VerifyReport } from '../usecases/audit-trail';
import {
  AuthError,
  CliError,
  EXIT,
  networkReason,
  RefusedError,
  UnavailableError,
  UsageError,
} from './errors';
import { table } from './output';

type Env = Record<string, string | undefined>;

/** A time range; both ends resolved by the CLI, so what is printed is exactly what was checked. */
export interface AuditRange {
  since: Date;
  until: Date;
}

/** The audit trail's use cases as the CLI calls them (lib/wiring/audit-cli.ts; fakes in tests). */
export interface AuditTrailPort {
  verify(range: AuditRange): Promise<VerifyReport>;
  seal(): Promise<SealResult>;
  orphans(range: AuditRange): Promise<OrphanedIntent[]>;
}

/** What the audit trail commands use of the CLI runtime. */
export interface AuditCommandContext {
  out: (s: string) => void;
  err: (s: string) => void;
  env: Env;
  now: () => Date;
  setExitCode: (code: number) => void;
  /** Default: {@link auditTrailFromEnv} over `env`. */
  trail?: AuditTrailPort;
}

/** Options shared by verify and orphans (and `vend audit --verify`). */
export interface AuditRangeOptions {
  since?: string;
  until?: string;
  json?: boolean;
}

/** What {@link registerAuditTrailCommands} hands back to the listing command. */
export interface AuditTrailCommands {
  /** `vend audit verify` (also `vend audit --verify`). */
  verify(o: AuditRangeOptions): Promise<void>;
}

/** How far back verify and orphans look when `--since` is not given. */
export const DEFAULT_LOOKBACK_DAYS = 7;

/**
 * `--since 1h` means one hour before `now`; anything else must be an ISO 8601 time.
 *
 * @example parseAuditTime('7d', new Date('2026-11-29T10:00:00Z'), '--since') // '2026-11-22T10:00:00.000Z'
 * @throws UsageError for anything else
 */
export function parseAuditTime(value: string, now: Date, flag: string): string {
  const v = value.trim();
  const age = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/i.exec(v);
  if (v && age) {
    const [d, h, m, s] = age.slice(1).map((n) => Number(n ?? 0)) as [number, number, number, number];
    const seconds = d * 86_400 + h * 3600 + m * 60 + s;
    return new Date(now.getTime() - seconds * 1000).toISOString();
  }
  const t = Date.parse(v);
  if (!Number.isFinite(t))
    throw new UsageError(`${flag} takes an ISO 8601 time or an age such as 1h or 7d, not '${value}'`);
  return new Date(t).toISOString();
}

/**
 * The range of verify and orphans: `--until` default now, `--since` default seven days before it.
 *
 * @throws UsageError when a bound does not parse or `--since` is not before `--until`
 */
export function auditRange(o: AuditRangeOptions, now: Date): AuditRange {
  const until = new Date(o.until ? parseAuditTime(o.until, now, '--until') : now.toISOString());
  const since = new Date(
    o.since ? parseAuditTime(o.since, now, '--since') : until.getTime() - DEFAULT_LOOKBACK_DAYS * 86_400_000,
  );
  if (since.getTime() >= until.getTime())
    throw new UsageError(`--since (${since.toISOString()}) must be before --until (${until.toISOString()})`);
  return { since, until };
}

/**
 * The use cases over the audit table named by `env` (VEND_AUDIT_TABLE, region, signing key) with
 * the ambient AWS credentials. The AWS SDK is loaded on first use, so the API commands never pay
 * for it.
 */
export function auditTrailFromEnv(env: Env): AuditTrailPort {
  const load = () => import('../wiring/audit-cli');
  return {
    verify: async (range) => (await load()).verifyFromEnv(range, env),
    seal: async () => (await load()).sealFromEnv({}, env),
    orphans: async (range) => (await load()).orphansFromEnv(range, env),
  };
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);
const DENIED_ERRORS = new Set(['AccessDeniedException', 'AccessDenied', 'KMSInvalidStateException']);
const NOT_FOUND_ERRORS = new Set(['ResourceNotFoundException', 'NotFoundException']);
const CONFIG_ERRORS = new Set([
  'ConfigurationError',
  'LocalSigningKeyError',
  'TrailStartUnknownError',
  'SealHeadRequiredError',
]);

/**
 * Turns a failure of the audit table, KMS or the configuration into the CLI error a person reads.
 * SDK messages name resources and principals, never secrets; only their first line is kept.
 *
 * @example auditTrailError(Object.assign(new Error('no table'), { name: 'ResourceNotFoundException' }), { VEND_AUDIT_TABLE: 't' })
 * // UsageError('the audit table t (VEND_AUDIT_TABLE) was not found: no table')
 */
export function auditTrailError(error: unknown, env: Env): CliError {
  if (error instanceof CliError) return error;
  const e = (error ?? {}) as { name?: unknown; message?: unknown; $fault?: unknown; $metadata?: unknown };
  const name = typeof e.name === 'string' ? e.name : '';
  const message = (typeof e.message === 'string' ? e.message : String(error)).split('\n')[0]?.trim() ?? '';
  const table = env.VEND_AUDIT_TABLE?.trim() || '(unset)';
  if (CONFIG_ERRORS.has(name))
    return new UsageError(`${message}; the local stack prints the environment to use (docs/local-stack.md)`, {
      cause: error,
    });
  if (CREDENTIAL_ERRORS.has(name))
    return new AuthError(
      `no usable AWS credentials for the audit table (${name}): set AWS_PROFILE (vend-broker on the local stack) or AWS credentials with read access to ${table}`,
      { cause: error },
    );
  if (DENIED_ERRORS.has(name))
    return new RefusedError(`your AWS credentials may not do this on the audit trail: ${message}`, name, {
      cause: error,
    });
  if (NOT_FOUND_ERRORS.has(name))
    return new UsageError(
      `the audit table ${table} (VEND_AUDIT_TABLE) or its signing key was not found: ${message}`,
      {
        cause: error,
      },
    );
  if (e.$fault === 'server' || /Throttl|ServiceUnavailable|InternalServer/.test(name))
    return new UnavailableError(
      `the audit table is unavailable (${name || 'server error'}); try again later`,
      {
        cause: error,
      },
    );
  if (!e.$metadata && (name === 'TypeError' || name === 'TimeoutError' || hasNetworkCode(error))) {
    const where = env.AWS_ENDPOINT_URL?.trim() || 'DynamoDB';
    return new UnavailableError(`cannot reach ${where}: ${networkReason(error)}`, { cause: error });
  }
  return new RefusedError(`the audit trail could not be read: ${name ? `${name}: ` : ''}${message}`, name, {
    cause: error,
  });
}

function hasNetworkCode(error: unknown): boolean {
  let e: unknown = error;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$|^UND_ERR/.test(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The id a finding names: the record's, or the digest's (its interval start). */
export function findingId(f: AuditFinding): string {
  return 'recordId' in f ? `record ${f.recordId}` : `digest ${f.interval}`;
}

/** What a finding means, in words. */
export function findingDetail(f: AuditFinding): string {
  switch (f.kind) {
    case 'deleted':
      return `sealed in the digest of ${f.interval}, no longer stored`;
    case 'inserted':
      return `stored in the interval ${f.interval}, not in its digest`;
    case 'modified':
      return `${f.detail} (digest of ${f.interval})`;
    default:
      return f.detail;
  }
}

/**
 * Up to when the trail is sealed, and up to when it must be: the second line of every verification.
 *
 * @example sealedLine(report) // 'the trail is sealed through 2026-11-29T09:00:00.000Z (due through …; it starts at …)\n'
 */
export function sealedLine(
  r: Pick<VerifyReport, 'sealedThrough' | 'dueThrough' | 'trailStart' | 'sealerHead'>,
): string {
  const through = r.sealedThrough ? `sealed through ${r.sealedThrough}` : 'not sealed at all (no digest)';
  const head =
    r.sealerHead !== undefined && r.sealerHead !== r.sealedThrough
      ? `; the sealer's head says ${r.sealerHead}`
      : '';
  return `the trail is ${through} (due through ${r.dueThrough}; it starts at ${r.trailStart}${head})\n`;
}

/** The findings table, the summary line and the sealed-through line of a verification. */
export function formatVerifyReport(r: VerifyReport): string {
  const range = `${r.since} to ${r.until}`;
  const counted = `${plural(r.digests, 'digest')}, ${plural(r.records, 'sealed record')}`;
  const pending = r.pending ? `; ${plural(r.pending, 'record')} too recent to be sealed yet` : '';
  if (r.findings.length === 0)
    return `audit trail verified from ${range}: ${counted}, no findings${pending}\n${sealedLine(r)}`;
  const kinds = new Map<string, number>();
  for (const f of r.findings) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  const byKind = [...kinds].map(([k, n]) => `${n} ${k}`).join(', ');
  return `${table(
    ['FINDING', 'ID', 'TIME', 'DETAIL'],
    r.findings.map((f) => [f.kind, findingId(f), 'time' in f ? f.time : undefined, findingDetail(f)]),
  )}audit trail verification FAILED from ${range}: ${plural(r.findings.length, 'finding')} (${byKind}); ${counted}${pending}\n${sealedLine(r)}`;
}

/** What `vend audit seal` says on stderr when the sealer found its digests deleted. */
export function formatSealCut(r: SealResult): string {
  if (!r.cut) return '';
  return `vend: the audit digests from ${r.cut.from} to ${r.cut.to} were deleted after they were sealed; sealing continued from the sealer's head, and vend audit verify names each missing interval\n`;
}

/** One line on what a sealing run did. */
export function formatSealResult(r: SealResult): string {
  const upTo = r.sealedUpTo ? `; the trail is sealed up to ${r.sealedUpTo}` : '';
  const others = r.alreadySealed
    ? ` (${plural(r.alreadySealed, 'interval')} already sealed by another run)`
    : '';
  if (r.sealed.length === 0) {
    return r.sealedUpTo
      ? `nothing new to seal${others}${upTo}\n`
      : 'nothing to seal: no interval has closed since the trail started\n';
  }
  const records = r.sealed.reduce((n, s) => n + s.recordCount, 0);
  return `sealed ${plural(r.sealed.length, 'interval')} (${plural(records, 'record')})${others}${upTo}\n`;
}

/** One block per orphaned intent: what an operator needs to find its credentials in CloudTrail. */
export function formatOrphans(orphans: readonly OrphanedIntent[]): string {
  return orphans
    .map((o) => {
      const ct = o.cloudTrail;
      const rows: [string, string | undefined][] = [
        ['caller', o.caller?.label],
        ['caller id', o.caller?.id],
        ['entitlement', o.entitlement],
        ['role ARN', o.roleArn],
        ['session name', o.sessionName],
        ['source identity', o.sourceIdentity],
        ['AccessKeyId', o.accessKeyId ?? 'unknown (not in the trail): find it in CloudTrail'],
        ['request id', o.requestId],
        [
          'CloudTrail',
          `${ct.eventSource} ${ct.eventName} in account ${ct.account ?? '?'}, roleSessionName ${ct.roleSessionName ?? '?'}, ${ct.startTime} to ${ct.endTime}`,
        ],
      ];
      const width = Math.max(...rows.map(([k]) => k.length));
      const lines = rows
        .filter((row): row is [string, string] => row[1] !== undefined)
        .map(([k, v]) => `  ${`${k}:`.padEnd(width + 2)}${oneLine(v)}`);
      return `intent ${o.recordId} at ${o.time} (audit id ${o.auditId}), no issued or denied record\n${lines.join('\n')}\n`;
    })
    .join('\n');
}

function oneLine(s: string): string {
  return s.replace(/\p{Cc}+/gu, ' ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The options verify and orphans take (attribute names). */
const RANGE_OPTIONS = ['since', 'until', 'json'];

/**
 * Refuses any option given on the command line to `cmd` that is not in `allowed`.
 *
 * @example refuseOptions(auditCommand, ['since', 'until', 'json', 'verify'], 'vend audit --verify')
 * @throws UsageError naming the first such option
 */
export function refuseOptions(cmd: Command, allowed: readonly string[], what: string): void {
  for (const option of cmd.options) {
    const key = option.attributeName();
    if (cmd.getOptionValueSource(key) === 'cli' && !allowed.includes(key))
      throw new UsageError(`${option.long ?? option.flags} does not apply to ${what}`);
  }
}

function rangeOptions(cmd: Command): Command {
  return cmd
    .option('--since <time>', `ISO 8601 time or an age (1h, 7d); default ${DEFAULT_LOOKBACK_DAYS}d`)
    .option('--until <time>', 'ISO 8601 time or an age; default now')
    .option('--json', 'print JSON');
}

function example(cmd: Command, ...lines: string[]): Command {
  return cmd.addHelpText(
    'after',
    `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`,
  );
}

const TABLE_ACCESS =
  'Runs in this process over the audit table (VEND_AUDIT_TABLE) with your AWS credentials, not through the API (docs/audit.md).';

/**
 * Adds `verify`, `seal` and `orphans` under `vend audit`.
 *
 * @example
 * const { verify } = registerAuditTrailCommands(auditCommand, { out, err, env: process.env, now: () => new Date(), setExitCode });
 */
export function registerAuditTrailCommands(audit: Command, ctx: AuditCommandContext): AuditTrailCommands {
  let port: AuditTrailPort | undefined = ctx.trail;
  const trail = (): AuditTrailPort => {
    port ??= auditTrailFromEnv(ctx.env);
    return port;
  };
  const guarded = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw auditTrailError(error, ctx.env);
    }
  };

  // The root command hands `audit` every option after it, so `vend audit verify --since 1h` sets
  // --since on `audit`, not on `verify` (the subcommands declare theirs for --help): read both, and
  // refuse the listing's filters rather than ignore them.
  const withParent = (o: AuditRangeOptions, what: string, allowed: string[]): AuditRangeOptions => {
    refuseOptions(audit, allowed, what);
    const p = audit.opts<AuditRangeOptions>();
    return {
      ...(p.since !== undefined ? { since: p.since } : {}),
      ...(p.until !== undefined ? { until: p.until } : {}),
      ...(p.json ? { json: true } : {}),
      ...Object.fromEntries(Object.entries(o).filter((e) => e[1] !== undefined)),
    };
  };

  const verify = async (given: AuditRangeOptions): Promise<void> => {
    const o = withParent(given, 'vend audit verify', [...RANGE_OPTIONS, 'verify']);
    const range = auditRange(o, ctx.now());
    const report = await guarded(() => trail().verify(range));
    ctx.out(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatVerifyReport(report));
    if (!report.ok) ctx.setExitCode(EXIT.refused);
  };

  example(
    rangeOptions(
      audit
        .command('verify')
        .description(
          'check the audit trail against its signed digests: every deleted, modified or inserted record, every missing digest up to the one due by now, every broken link (exit 1 on any)',
        ),
    ).addHelpText('after', `\n${TABLE_ACCESS}\n`),
    'vend audit verify --since 24h',
    'vend audit verify --since 2026-11-01T00:00:00Z --until 2026-12-01T00:00:00Z --json',
  ).action(verify);

  example(
    audit
      .command('seal')
      .description('seal every closed interval of the audit trail into a signed digest now')
      .addOption(new Option('--json', 'print JSON'))
      .addHelpText(
        'after',
        `\n${TABLE_ACCESS} Needs the signing key (VEND_AUDIT_SIGNING_KEY_ID or _FILE).\n`,
      ),
    'vend audit seal',
  ).action(async (given: { json?: boolean }) => {
    const o = withParent(given, 'vend audit seal', ['json']);
    const result = await guarded(() => trail().seal());
    ctx.out(o.json ? `${JSON.stringify(result, null, 2)}\n` : formatSealResult(result));
    if (result.cut) {
      ctx.err(formatSealCut(result));
      ctx.setExitCode(EXIT.refused);
    }
  });

  example(
    rangeOptions(
      audit
        .command('orphans')
        .description(
          'list intents with no issued or denied record: credentials STS may have issued that vend never handed out',
        ),
    ).addHelpText('after', `\n${TABLE_ACCESS}\n`),
    'vend audit orphans --since 24h',
  ).action(async (given: AuditRangeOptions) => {
    const o = withParent(given, 'vend audit orphans', RANGE_OPTIONS);
    const range = auditRange(o, ctx.now());
    const orphans = await guarded(() => trail().orphans(range));
    if (o.json) return ctx.out(`${JSON.stringify(orphans, null, 2)}\n`);
    const span = `${range.since.toISOString()} to ${range.until.toISOString()}`;
    if (orphans.length === 0) return ctx.err(`no orphaned intents from ${span}\n`);
    ctx.out(formatOrphans(orphans));
    ctx.err(
      `${plural(orphans.length, 'orphaned intent')} from ${span}: reconcile with CloudTrail (docs/audit.md)\n`,
    );
  });

  return { verify };
}
