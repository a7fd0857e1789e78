/**
 * The environment, read in one place.
 *
 * `config()` reads `process.env` on first use, validates it, freezes the result and hands the same
 * object to every later caller. A missing required value fails at once with a message that names the
 * variable: a Lambda that cannot find its table should die at cold start with a clear log line, not
 * write to a table called `undefined` on the first request. There are no placeholder defaults; the
 * only defaults are tuning knobs whose default is the value we would choose in production
 * (documented in docs/configuration.md).
 *
 * `AWS_ENDPOINT_URL` is deliberately NOT read here: the AWS SDK for JavaScript v3 honours it (and
 * `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_DYNAMODB`) natively, which is how the local stack points
 * the real clients at its emulator without any vend-specific code path.
 */

import {
  RATE_LIMIT_MAX,
  RATE_LIMIT_MIN,
  RATE_WINDOW_MAX_SECONDS,
  RATE_WINDOW_MIN_SECONDS,
  type RateLimitSettings,
} from './domain/rate-limit';

/** Log levels accepted by Powertools Logger. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'];

/** Everything vend reads from its environment. Frozen once built. */
export interface Config {
  readonly region: string;
  readonly tables: {
    /** `VEND_ENTITLEMENTS_TABLE` */
    readonly entitlements: string;
    /** `VEND_AUDIT_TABLE` */
    readonly audit: string;
    /** `VEND_REQUESTS_TABLE` */
    readonly requests: string;
    /** `VEND_LIMITS_TABLE`: rate-limit counters (docs/rate-limits.md). */
    readonly limits: string;
  };
  /** Present only when both `VEND_OIDC_ISSUER` and `VEND_OIDC_AUDIENCE` are set; see {@link requireOidc}. */
  readonly oidc: { readonly issuer: string; readonly audience: string } | undefined;
  readonly sts: {
    /** Total time budget for one AssumeRole including retries (`VEND_STS_DEADLINE_MS`). */
    readonly deadlineMs: number;
    /** Base of the full-jitter backoff (`VEND_STS_BASE_DELAY_MS`). */
    readonly baseDelayMs: number;
  };
  /** Entitlement read cache TTL; 0 disables the cache (`VEND_ENTITLEMENT_CACHE_TTL_MS`). */
  readonly entitlementCacheTtlMs: number;
  readonly logLevel: LogLevel;
  /**
   * How long an unanswered request stays pending unless its entitlement says
   * (`VEND_REQUEST_TTL_SECONDS`, default 3600).
   */
  readonly requestTtlSeconds: number;
  /** Slack settings; every field is optional so functions that do not talk to Slack never need them. */
  readonly slack: SlackConfig;
  /**
   * Rate-limit defaults (`VEND_RATE_LIMIT_*`); an entitlement's `rateLimit` overrides the vend limits.
   * docs/rate-limits.md relates them to the STS AssumeRole quota.
   */
  readonly rateLimits: Readonly<RateLimitSettings>;
}

/** Slack settings (`VEND_SLACK_*`). See docs/approvals.md for how to create the app. */
export interface SlackConfig {
  /** Web API base URL, e.g. `https://slack.com/api/` (`VEND_SLACK_API_URL`). */
  readonly apiUrl: string | undefined;
  /** Bot token `xoxb-…` (`VEND_SLACK_BOT_TOKEN`). Without it vend posts nothing to Slack. */
  readonly botToken: string | undefined;
  /** The app's signing secret (`VEND_SLACK_SIGNING_SECRET`); the Slack routes refuse everything without it. */
  readonly signingSecret: string | undefined;
  /** Allowed `api_app_id`s (`VEND_SLACK_APP_IDS`, comma-separated). Empty allows nothing. */
  readonly appIds: readonly string[];
  /** Allowed workspaces (`VEND_SLACK_TEAM_IDS`, comma-separated). Empty allows nothing. */
  readonly teamIds: readonly string[];
  /** Where approval messages go (`VEND_SLACK_APPROVERS_CHANNEL`). */
  readonly approversChannel: string | undefined;
  /** Where break-glass is broadcast (`VEND_SLACK_SECURITY_CHANNEL`). */
  readonly securityChannel: string | undefined;
}

/** Thrown when the environment is missing or has a malformed value. Names the variable, never its value. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) {
    throw new ConfigurationError(`Missing required environment variable ${name} (see docs/configuration.md)`);
  }
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new ConfigurationError(`${name} must be a whole number of milliseconds`);
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigurationError(`${name} must be between ${min} and ${max}`);
  }
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function count(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigurationError(`${name} must be a whole number`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigurationError(`${name} must be between ${min} and ${max}`);
  return value;
}

/**
 * The rate-limit defaults (docs/rate-limits.md): a 60 s window; 20 vends per caller per entitlement
 * (a CI job that vends once per step stays far below it; a burst of hundreds does not); 120 vends
 * per entitlement across callers (2/s sustained: 50 entitlements at their limit are 100 AssumeRole/s,
 * a sixth of the 600/s reported for an account and Region); 5 new access requests per person.
 */
export const RATE_LIMIT_DEFAULTS: Readonly<RateLimitSettings> = Object.freeze({
  windowSeconds: 60,
  perCaller: 20,
  perEntitlement: 120,
  requestsPerCaller: 5,
});

function seconds(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigurationError(`${name} must be a whole number of seconds`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigurationError(`${name} must be between ${min} and ${max}`);
  return value;
}

/**
 * Parses the log level alone. Kept separate from {@link loadConfig} so the logger can start even
 * when a required value is missing: the configuration error itself must be loggable.
 */
export function logLevelFromEnv(env: Env = process.env): LogLevel {
  const raw = (env.VEND_LOG_LEVEL ?? 'INFO').trim().toUpperCase();
  return (LOG_LEVELS as readonly string[]).includes(raw) ? (raw as LogLevel) : 'INFO';
}

/**
 * Builds a {@link Config} from an environment. Pure: tests pass their own record.
 *
 * @example
 * const cfg = loadConfig({ AWS_REGION: 'eu-west-1', VEND_ENTITLEMENTS_TABLE: 'e', VEND_AUDIT_TABLE: 'a', VEND_REQUESTS_TABLE: 'r', VEND_LIMITS_TABLE: 'l' });
 * cfg.tables.audit; // 'a'
 */
export function loadConfig(env: Env): Config {
  const issuer = env.VEND_OIDC_ISSUER?.trim();
  const audience = env.VEND_OIDC_AUDIENCE?.trim();
  if (Boolean(issuer) !== Boolean(audience)) {
    throw new ConfigurationError('VEND_OIDC_ISSUER and VEND_OIDC_AUDIENCE must be set together');
  }
  const cfg: Config = {
    // Lambda always sets AWS_REGION; AWS_DEFAULT_REGION is what CLI-style environments set.
    region: env.AWS_REGION?.trim() || required(env, 'AWS_DEFAULT_REGION'),
    tables: {
      entitlements: required(env, 'VEND_ENTITLEMENTS_TABLE'),
      audit: required(env, 'VEND_AUDIT_TABLE'),
      requests: required(env, 'VEND_REQUESTS_TABLE'),
      limits: required(env, 'VEND_LIMITS_TABLE'),
    },
    oidc: issuer && audience ? { issuer, audience } : undefined,
    sts: {
      // API Gateway gives an integration 30 s; vend answers well inside that so the caller sees a
      // 503 with Retry-After instead of a gateway timeout.
      deadlineMs: integer(env, 'VEND_STS_DEADLINE_MS', 5000, 100, 25_000),
      baseDelayMs: integer(env, 'VEND_STS_BASE_DELAY_MS', 100, 1, 5000),
    },
    // Off by default: revoking an entitlement should take effect on the next request.
    entitlementCacheTtlMs: integer(env, 'VEND_ENTITLEMENT_CACHE_TTL_MS', 0, 0, 300_000),
    logLevel: logLevelFromEnv(env),
    requestTtlSeconds: seconds(env, 'VEND_REQUEST_TTL_SECONDS', 3600, 1, 7 * 86_400),
    slack: {
      apiUrl: optional(env, 'VEND_SLACK_API_URL'),
      botToken: optional(env, 'VEND_SLACK_BOT_TOKEN'),
      signingSecret: optional(env, 'VEND_SLACK_SIGNING_SECRET'),
      appIds: list(env, 'VEND_SLACK_APP_IDS'),
      teamIds: list(env, 'VEND_SLACK_TEAM_IDS'),
      approversChannel: optional(env, 'VEND_SLACK_APPROVERS_CHANNEL'),
      securityChannel: optional(env, 'VEND_SLACK_SECURITY_CHANNEL'),
    },
    rateLimits: rateLimitsFromEnv(env),
  };
  return deepFreeze(cfg);
}

function rateLimitsFromEnv(env: Env): RateLimitSettings {
  const d = RATE_LIMIT_DEFAULTS;
  return {
    windowSeconds: count(
      env,
      'VEND_RATE_LIMIT_WINDOW_SECONDS',
      d.windowSeconds,
      RATE_WINDOW_MIN_SECONDS,
      RATE_WINDOW_MAX_SECONDS,
    ),
    perCaller: count(env, 'VEND_RATE_LIMIT_PER_CALLER', d.perCaller, RATE_LIMIT_MIN, RATE_LIMIT_MAX),
    perEntitlement: count(
      env,
      'VEND_RATE_LIMIT_PER_ENTITLEMENT',
      d.perEntitlement,
      RATE_LIMIT_MIN,
      RATE_LIMIT_MAX,
    ),
    requestsPerCaller: count(
      env,
      'VEND_RATE_LIMIT_REQUESTS_PER_CALLER',
      d.requestsPerCaller,
      RATE_LIMIT_MIN,
      RATE_LIMIT_MAX,
    ),
  };
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object') deepFreeze(child);
  }
  return Object.freeze(value);
}

let cached: Config | undefined;

/** The process's configuration: read from `process.env` on first call, then the same frozen object. */
export function config(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}

/** The OIDC settings, or a {@link ConfigurationError} for functions that need them and lack them. */
export function requireOidc(cfg: Config = config()): { issuer: string; audience: string } {
  if (!cfg.oidc) {
    throw new ConfigurationError(
      'Missing required environment variables VEND_OIDC_ISSUER and VEND_OIDC_AUDIENCE (see docs/configuration.md)',
    );
  }
  return cfg.oidc;
}

/** Settings of the audit trail's read side, sealer and verifier (issue 8); see docs/audit.md. */
export interface AuditConfig {
  /** The group whose members may read `GET /v1/audit` (`VEND_AUDITORS_GROUP`, default `auditors`). */
  readonly auditorsGroup: string;
  /** Length of a sealed interval in seconds (`VEND_AUDIT_SEAL_INTERVAL_SECONDS`, default 3600, 1–86400). */
  readonly sealIntervalSeconds: number;
  /** How long after an interval ends it may be sealed (`VEND_AUDIT_SEAL_GRACE_SECONDS`, default 60). */
  readonly sealGraceSeconds: number;
  /**
   * How digests are signed: a KMS key (`VEND_AUDIT_SIGNING_KEY_ID`: key id, ARN or alias) in AWS, or
   * a local PEM key file (`VEND_AUDIT_SIGNING_KEY_FILE`) in the local stack. Absent when neither is
   * set: reading the trail needs no key; sealing and verifying call {@link requireAuditSigning}.
   */
  readonly signing:
    | { readonly kind: 'kms'; readonly keyId: string }
    | { readonly kind: 'file'; readonly file: string }
    | undefined;
  /**
   * Where the trail starts (`VEND_AUDIT_TRAIL_START`, ISO 8601): the verifier expects a digest for
   * every interval from here on. Optional: the sealer records the start of its first run in its head.
   */
  readonly trailStart: Date | undefined;
  /** The sealer head's table (`VEND_AUDIT_SEALS_TABLE`); required to seal, read by verify when set. */
  readonly sealsTable: string | undefined;
}

function auditTime(env: Env, name: string): Date | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const t = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || !Number.isFinite(t))
    throw new ConfigurationError(`${name} must be an ISO 8601 time such as 2026-11-01T00:00:00Z`);
  return new Date(t);
}

function auditSeconds(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigurationError(`${name} must be a whole number of seconds`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigurationError(`${name} must be between ${min} and ${max}`);
  return value;
}

/**
 * Builds the {@link AuditConfig} from an environment. Pure; separate from {@link loadConfig} so only
 * the audit functions and the CLI read these variables.
 *
 * @example loadAuditConfig({ VEND_AUDIT_SIGNING_KEY_ID: 'alias/vend-prod-audit-digests' }).signing // { kind: 'kms', keyId: … }
 */
export function loadAuditConfig(env: Env): AuditConfig {
  const keyId = env.VEND_AUDIT_SIGNING_KEY_ID?.trim();
  const file = env.VEND_AUDIT_SIGNING_KEY_FILE?.trim();
  if (keyId && file) {
    throw new ConfigurationError(
      'set VEND_AUDIT_SIGNING_KEY_ID (KMS) or VEND_AUDIT_SIGNING_KEY_FILE (local), not both',
    );
  }
  return deepFreeze({
    auditorsGroup: env.VEND_AUDITORS_GROUP?.trim() || 'auditors',
    sealIntervalSeconds: auditSeconds(env, 'VEND_AUDIT_SEAL_INTERVAL_SECONDS', 3600, 1, 86_400),
    sealGraceSeconds: auditSeconds(env, 'VEND_AUDIT_SEAL_GRACE_SECONDS', 60, 0, 3600),
    signing: keyId ? { kind: 'kms', keyId } : file ? { kind: 'file', file } : undefined,
    trailStart: auditTime(env, 'VEND_AUDIT_TRAIL_START'),
    sealsTable: env.VEND_AUDIT_SEALS_TABLE?.trim() || undefined,
  } as AuditConfig);
}

/** Where the operator's audit commands (`vend audit seal|verify|orphans`) find the trail. */
export interface AuditTableConfig {
  /** `VEND_AUDIT_TABLE` */
  readonly tableName: string;
  /** `AWS_REGION`, else `AWS_DEFAULT_REGION` (the operator's shell may set either). */
  readonly region: string;
}

/**
 * Builds the {@link AuditTableConfig} from an operator's environment (the CLI passes its own).
 *
 * @throws ConfigurationError naming the missing variable
 * @example loadAuditTableConfig({ VEND_AUDIT_TABLE: 'vend-prod-audit', AWS_REGION: 'eu-west-1' })
 */
export function loadAuditTableConfig(env: Env): AuditTableConfig {
  const tableName = env.VEND_AUDIT_TABLE?.trim();
  if (!tableName)
    throw new ConfigurationError(
      'Missing required environment variable VEND_AUDIT_TABLE (see docs/audit.md)',
    );
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  if (!region)
    throw new ConfigurationError('Missing required environment variable AWS_REGION (see docs/audit.md)');
  return { tableName, region };
}

let cachedAudit: AuditConfig | undefined;

/** The process's {@link AuditConfig}: read from `process.env` on first call. */
export function auditConfig(): AuditConfig {
  cachedAudit ??= loadAuditConfig(process.env);
  return cachedAudit;
}

/** The signing settings, or a {@link ConfigurationError} naming both variables. */
export function requireAuditSigning(cfg: AuditConfig = auditConfig()): NonNullable<AuditConfig['signing']> {
  if (!cfg.signing) {
    throw new ConfigurationError(
      'Missing required environment variable VEND_AUDIT_SIGNING_KEY_ID (or VEND_AUDIT_SIGNING_KEY_FILE locally) (see docs/audit.md)',
    );
  }
  return cfg.signing;
}

/**
 * Settings of live sessions, revocation and console sign-in (docs/revocation.md, docs/api.md).
 * Read apart from {@link loadConfig}, like the audit settings, so only the functions that need
 * them read them.
 */
export interface SessionsConfig {
  /**
   * The group that may see and revoke every live session (`VEND_SECURITY_GROUP`, default
   * `security-approvers`, the group that reviews break-glass).
   */
  readonly securityGroup: string;
  /**
   * The AWS federation endpoint (`VEND_FEDERATION_URL`, default
   * `https://signin.aws.amazon.com/federation`). https, or http on a loopback host (the local stack).
   */
  readonly federationUrl: string;
  /**
   * The `Issuer` of console sign-in URLs, where the console sends someone whose session ended
   * (`VEND_CONSOLE_ISSUER`, e.g. the vend web console's URL); absent: not sent.
   */
  readonly consoleIssuer: string | undefined;
}

/** AWS's federation endpoint (IAM User Guide, custom identity broker console access). */
export const DEFAULT_FEDERATION_URL = 'https://signin.aws.amazon.com/federation';

function httpUrl(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError(`${name} must be a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigurationError(`${name} must be an https URL (http only on a loopback host)`);
  }
  return url.toString();
}

/**
 * Builds the {@link SessionsConfig} from an environment. Pure.
 *
 * @example loadSessionsConfig({}).federationUrl // 'https://signin.aws.amazon.com/federation'
 */
export function loadSessionsConfig(env: Env): SessionsConfig {
  return deepFreeze({
    securityGroup: env.VEND_SECURITY_GROUP?.trim() || 'security-approvers',
    federationUrl: httpUrl(env, 'VEND_FEDERATION_URL') ?? DEFAULT_FEDERATION_URL,
    consoleIssuer: httpUrl(env, 'VEND_CONSOLE_ISSUER'),
  });
}

let cachedSessions: SessionsConfig | undefined;

/** The process's {@link SessionsConfig}: read from `process.env` on first call. */
export function sessionsConfig(): SessionsConfig {
  cachedSessions ??= loadSessionsConfig(process.env);
  return cachedSessions;
}
