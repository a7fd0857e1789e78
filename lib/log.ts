/**
 * Structured logging with an allow-list.
 *
 * vend handles secrets (credentials it vends, ExternalIds, bearer tokens), so logs never carry
 * request or response bodies, headers or whole error objects. Every log line goes through
 * {@link VendLog}, which copies only the fields named in {@link LOG_FIELDS} (checked at run time as
 * well as by the type, because a stray `as any` should not be enough to leak a header) and scrubs
 * strings that look like secret keys or session tokens.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { logLevelFromEnv } from './config';

/** The only fields a vend log line may carry (besides Powertools' own timestamp/level/service). */
export interface LogFields {
  requestId?: string;
  /** `POST /v1/service/credentials` */
  route?: string;
  status?: number;
  /** Problem code of an error response, e.g. `not_entitled`. */
  code?: string;
  /** A role ARN or `issuer#subject`; identifiers, not secrets. */
  callerId?: string;
  entitlement?: string;
  durationMs?: number;
  auditId?: string;
  /**
   * The ACCESS KEY ID (never the secret) of issued credentials, logged only when the audit trail could
   * not record it, so that an operator can reconcile from logs.
   */
  accessKeyId?: string;
  errorName?: string;
  /** Scrubbed and truncated; only for errors vend did not expect (500s) or that need an operator. */
  errorMessage?: string;
}

/** The allow-list, enforced at run time by {@link createLog}. */
export const LOG_FIELDS: readonly (keyof LogFields)[] = [
  'requestId',
  'route',
  'status',
  'code',
  'callerId',
  'entitlement',
  'durationMs',
  'auditId',
  'accessKeyId',
  'errorName',
  'errorMessage',
];

/** What vend code logs through. */
export interface VendLog {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** The subset of Powertools' Logger that {@link createLog} writes to; tests pass a recorder. */
export type LogTarget = Pick<Logger, 'info' | 'warn' | 'error'>;

const MAX_MESSAGE = 300;

// 40-character AWS secret keys, long base64 runs (session tokens, JWTs), and bearer tokens. Access
// key ids (AKIA/ASIA + 16) are identifiers and stay readable.
const SECRET_PATTERNS: readonly RegExp[] = [
  /\b(secretaccesskey|secret_access_key|sessiontoken|session_token|externalid|external_id|password|secret|token)(["']?\s*[=:]\s*["']?)[^\s"',&]+/gi,
  /Bearer\s+\S+/gi,
  /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g,
  /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
  /[A-Za-z0-9/+=]{100,}/g,
];

/**
 * Removes secret-looking substrings and truncates. A best effort for error messages from code vend
 * does not own (SDKs); vend's own messages never contain secrets in the first place.
 *
 * @example scrub('token eyJhbGciOi.eyJzdWIiOi.sig') // 'token [redacted]'
 */
export function scrub(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) {
    // Keep a `name=` prefix readable so the operator sees WHAT was redacted.
    // (For patterns without groups the callback's 2nd/3rd arguments are offset and input.)
    out = out.replace(pattern, (_match, name: unknown, sep: unknown) =>
      typeof name === 'string' && typeof sep === 'string' ? `${name}${sep}[redacted]` : '[redacted]',
    );
  }
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
}

function allowListed(fields: LogFields | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (!fields) return out;
  for (const key of LOG_FIELDS) {
    const value = (fields as Record<string, unknown>)[key];
    if (typeof value === 'number') out[key] = value;
    else if (typeof value === 'string') out[key] = key === 'errorMessage' ? scrub(value) : value;
  }
  return out;
}

/**
 * Wraps a Powertools logger (or a test recorder) so only allow-listed fields get through.
 *
 * @example
 * const log = createLog();
 * log.info('request', { requestId: 'r1', route: 'GET /v1/health', status: 200, durationMs: 3 });
 */
export function createLog(target: LogTarget = logger): VendLog {
  return {
    info: (message, fields) => target.info(message, allowListed(fields)),
    warn: (message, fields) => target.warn(message, allowListed(fields)),
    error: (message, fields) => target.error(message, allowListed(fields)),
  };
}

/**
 * The process's Powertools logger. Its level comes from `VEND_LOG_LEVEL` alone so that logging works
 * even when the rest of the configuration is missing (that error must itself be logged).
 */
export const logger = new Logger({ serviceName: 'vend', logLevel: logLevelFromEnv() });

/** The process's allow-listed log. */
export const log: VendLog = createLog(logger);
