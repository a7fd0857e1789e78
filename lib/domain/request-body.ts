/**
 * The body of `POST /v1/requests` (and `/vend request` in Slack), validated before anything about
 * the entitlement is read: which fields exist, the reason, the ticket, the duration's shape. Kept
 * apart from ./request.ts, which is the request's state machine; the break-glass rules
 * (./break-glass.ts) read the same body. Pure.
 */
import { parseRequestedDuration } from './duration';
import { InvalidRequestError } from './errors';
import { ENTITLEMENT_ID } from './limits';
import { REASON_MAX_CHARS } from './vend-request';

/** The longest `ticket` accepted. */
export const TICKET_MAX_CHARS = 128;

// Ticket references as people paste them: `INC-1234`, `OPS#77`, `https://jira.example.com/browse/OPS-1`.
// No spaces, quotes or angle brackets, so a ticket can be shown anywhere (Slack mrkdwn included).
const TICKET = /^[A-Za-z0-9][A-Za-z0-9._:/#+=?&@%~-]{0,127}$/;

// C0/C1 control characters other than tab and newline: a reason (and a vote's comment, ./request.ts)
// is shown to approvers in Slack and in the CLI, where escape sequences or carriage returns could
// disguise what is being asked.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

/** A validated `POST /v1/requests` body. */
export interface AccessRequestBody {
  entitlement: string;
  durationSeconds?: number;
  /** Trimmed, 1–512 characters. */
  reason: string;
  breakGlass: boolean;
  ticket?: string;
}

const BODY_FIELDS = new Set(['entitlement', 'durationSeconds', 'reason', 'breakGlass', 'ticket']);

/**
 * Validate a `POST /v1/requests` body (already JSON-parsed): `{ entitlement, durationSeconds?,
 * reason, breakGlass?, ticket? }` and nothing else. Whether the ticket is required (break-glass) and
 * whether the duration fits the entitlement's maximum are decided later, against the entitlement.
 *
 * @throws InvalidRequestError not an object; unknown field; malformed entitlement id; reason missing,
 *   blank, too long or with control characters; breakGlass not a boolean; ticket malformed
 * @throws DurationOutOfRangeError durationSeconds not a whole number in [900, 3600]
 * @example
 * ```ts
 * parseAccessRequestBody({ entitlement: 'prod-admin', reason: ' INC-1 db failover ' });
 * // { entitlement: 'prod-admin', reason: 'INC-1 db failover', breakGlass: false }
 * parseAccessRequestBody({ entitlement: 'prod-admin', reason: '   ' }); // throws InvalidRequestError
 * ```
 */
export function parseAccessRequestBody(body: unknown): AccessRequestBody {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequestError('the body must be a JSON object: { "entitlement": "<id>", "reason": "…" }');
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!BODY_FIELDS.has(key)) {
      throw new InvalidRequestError(
        `unknown field "${printable(key)}"; allowed: entitlement, durationSeconds, reason, breakGlass, ticket`,
      );
    }
  }
  if (typeof b.entitlement !== 'string' || !ENTITLEMENT_ID.test(b.entitlement)) {
    throw new InvalidRequestError('entitlement is required: an entitlement id such as "prod-admin"');
  }
  const out: AccessRequestBody = {
    entitlement: b.entitlement,
    reason: parseReason(b.reason),
    breakGlass: false,
  };
  // The same rule as on the vend route (lib/domain/duration.ts): a whole number in [900, 3600], or
  // 400 duration_out_of_range; the entitlement's own maximum is checked once it is read.
  const duration = parseRequestedDuration(b.durationSeconds);
  if (duration !== undefined) out.durationSeconds = duration;
  if (b.breakGlass !== undefined) {
    if (typeof b.breakGlass !== 'boolean') throw new InvalidRequestError('breakGlass must be true or false');
    out.breakGlass = b.breakGlass;
  }
  if (b.ticket !== undefined) out.ticket = parseTicket(b.ticket);
  return out;
}

/**
 * A reason: required, trimmed, 1–512 characters, no control characters but tab and newline.
 * @throws InvalidRequestError otherwise
 * @example `parseReason('  rotate keys ') // 'rotate keys'`
 */
export function parseReason(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidRequestError('reason is required: say why you need access (it is shown to approvers)');
  }
  const reason = value.trim();
  if (reason.length > REASON_MAX_CHARS) {
    throw new InvalidRequestError(`reason must be at most ${REASON_MAX_CHARS} characters`);
  }
  if (CONTROL.test(reason)) throw new InvalidRequestError('reason must not contain control characters');
  return reason;
}

/**
 * A ticket reference: 1–128 characters of `[A-Za-z0-9._:/#+=?&@%~-]`, starting with a letter or digit.
 * @throws InvalidRequestError otherwise (the value is not echoed)
 * @example `parseTicket('INC-1234') // 'INC-1234'`
 */
export function parseTicket(value: unknown): string {
  if (typeof value !== 'string' || !TICKET.test(value.trim())) {
    throw new InvalidRequestError(
      `ticket must be 1–${TICKET_MAX_CHARS} characters of letters, digits and ._:/#+=?&@%~- (e.g. INC-1234)`,
    );
  }
  return value.trim();
}

function printable(key: string): string {
  const cleaned = key.replace(/[^\x20-\x7E]/g, '?');
  return cleaned.length > 64 ? `${cleaned.slice(0, 64)}…` : cleaned;
}
