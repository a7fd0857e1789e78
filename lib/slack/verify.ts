/**
 * Slack request signatures (the v0 scheme), checked on the exact bytes Slack sent.
 *
 * Slack signs `v0:<X-Slack-Request-Timestamp>:<raw body bytes>` with HMAC-SHA256 under the app's
 * signing secret and sends `X-Slack-Signature: v0=<hex>`. API Gateway may hand the body over
 * base64-encoded (`isBase64Encoded`); the signature covers the decoded **bytes**, so they are decoded
 * to bytes first and only turned into text (UTF-8) after the signature matched. Decoding to a string
 * first and re-encoding would change the bytes of anything outside ASCII (`部署🔥`) whenever an
 * encoding step disagrees, and would let a body be signed over its base64 text instead of its bytes.
 *
 * Refusals say only which check failed; no result or error ever carries the signing secret or the
 * signature vend computed.
 *
 * Right after the signature, and before anything else of the body is interpreted, the workspace and
 * the app are read with the least parsing possible ({@link slackOrigin}) and checked against the
 * allow-list: one signing secret serves every workspace an app is installed in, so a correct
 * signature says "Slack, for this app", not "a workspace vend serves". A request from elsewhere is
 * refused without a look at what it asks ({@link SlackOriginNotAllowedError}).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { VendError } from '../domain/errors';
import type { ReplayGuard } from '../ports/slack';

/** Why a request was refused. */
export type SlackVerifyFailure =
  | 'missing_signature'
  | 'bad_timestamp'
  | 'stale'
  | 'future'
  | 'bad_version'
  | 'bad_signature'
  | 'bad_body';

/** What {@link verifySlackRequest} concluded. */
export type SlackVerifyResult =
  | {
      ok: true;
      /** The body as text (UTF-8), e.g. the form-encoded `payload=…` or slash-command fields. */
      bodyText: string;
      /** The request timestamp, in seconds since the epoch. */
      timestamp: number;
      /** The replay-guard key of this request ({@link replayKey}). */
      replayKey: string;
    }
  | { ok: false; reason: SlackVerifyFailure };

/** Input of {@link verifySlackRequest}. */
export interface SlackVerifyInput {
  /** The body exactly as received: bytes, or API Gateway's string (base64 text when `isBase64Encoded`). */
  rawBody: Buffer | Uint8Array | string;
  /** API Gateway's flag: `rawBody` holds the base64 text of the bytes Slack sent. */
  isBase64Encoded?: boolean;
  /** Request headers; names are matched case-insensitively. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The Slack app's signing secret. */
  signingSecret: string;
  now: Date;
  /** How far the timestamp may be from `now`, either way (default 300 s, Slack's recommendation). */
  toleranceSeconds?: number;
}

/** Slack's recommended tolerance for the request timestamp. */
export const SLACK_TOLERANCE_SECONDS = 300;

/**
 * Verify a Slack request signature.
 *
 * @throws Error the signing secret is empty (a deployment fault: anyone could sign with it)
 * @example
 * ```ts
 * const v = verifySlackRequest({ rawBody: event.body ?? '', isBase64Encoded: event.isBase64Encoded,
 *   headers: event.headers, signingSecret, now: new Date() });
 * if (!v.ok) return unauthorized(v.reason); // 401
 * const form = new URLSearchParams(v.bodyText);
 * ```
 */
export function verifySlackRequest(input: SlackVerifyInput): SlackVerifyResult {
  if (typeof input.signingSecret !== 'string' || input.signingSecret === '') {
    throw new Error('the Slack signing secret is not configured');
  }
  const tolerance = input.toleranceSeconds ?? SLACK_TOLERANCE_SECONDS;
  const signature = header(input.headers, 'x-slack-signature');
  const stamp = header(input.headers, 'x-slack-request-timestamp');
  if (signature === undefined || signature === '') return fail('missing_signature');
  if (stamp === undefined || !/^\d{1,12}$/.test(stamp)) return fail('bad_timestamp');

  // Whole seconds, as Slack stamps them; ±tolerance inclusive.
  const timestamp = Number(stamp);
  const nowSeconds = Math.floor(input.now.getTime() / 1000);
  if (nowSeconds - timestamp > tolerance) return fail('stale');
  if (timestamp - nowSeconds > tolerance) return fail('future');

  // Only v0 exists; anything else (v1=, a list of signatures) is refused rather than guessed at.
  if (!signature.startsWith('v0=')) return fail('bad_version');
  const hex = signature.slice(3);
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return fail('bad_signature');

  const bytes = bodyBytes(input.rawBody, input.isBase64Encoded === true);
  if (bytes === undefined) return fail('bad_signature');

  const expected = createHmac('sha256', input.signingSecret)
    .update(`v0:${stamp}:`, 'utf8')
    .update(bytes)
    .digest();
  const given = Buffer.from(hex, 'hex');
  // Both are 32 bytes here (the hex was checked), which timingSafeEqual requires.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fail('bad_signature');

  let bodyText: string;
  try {
    bodyText = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('bad_body');
  }
  return { ok: true, bodyText, timestamp, replayKey: replayKey(stamp, signature) };
}

/**
 * The key under which the replay guard remembers a request: a hash of its timestamp and signature.
 * A replay repeats both exactly; a fresh request has a new timestamp or body, hence a new signature.
 * Hashed so that the stored key is fixed-length and is not itself a usable signature header.
 *
 * @example `replayKey('1764410400', 'v0=ab…') // 'slack-replay#3f1c…' (64 hex characters after the prefix)`
 */
export function replayKey(timestamp: string, signature: string): string {
  return `slack-replay#${createHash('sha256').update(`${timestamp}:${signature.toLowerCase()}`).digest('hex')}`;
}

/**
 * How long to remember a request: as long as its timestamp could still be accepted (it is accepted
 * up to `tolerance` seconds on either side of it), plus a minute for clock differences between
 * Lambda instances.
 */
export const REPLAY_TTL_SECONDS = 2 * SLACK_TOLERANCE_SECONDS + 60;

/**
 * A ReplayGuard in memory, for specs and single-process local use.
 * @example `const guard = memoryReplayGuard(() => now); await guard.seen(k, 660) // false, then true`
 */
export function memoryReplayGuard(now: () => Date): ReplayGuard {
  const until = new Map<string, number>();
  return {
    async seen(key, ttlSeconds) {
      const t = now().getTime();
      const expiry = until.get(key);
      if (expiry !== undefined && expiry > t) return true;
      until.set(key, t + ttlSeconds * 1000);
      return false;
    },
  };
}

/** Which Slack route a body came to: slash commands or interactions (button clicks). */
export type SlackRoute = 'command' | 'interaction';

/** The workspace and app a verified Slack request names; a part that could not be read is absent. */
export interface SlackOrigin {
  teamId?: string;
  apiAppId?: string;
}

/**
 * Reads only the workspace and the app from a verified body, interpreting nothing else:
 * - a command: the form fields `team_id` and `api_app_id`;
 * - an interaction: the form field `payload` as JSON, its `api_app_id` and `team.id` (or
 *   `user.team_id` when `team` is null, as org-wide Enterprise Grid installs send it).
 *
 * Whatever cannot be read (no such field, a payload that is not a JSON object) is left out, and an
 * origin with a part missing is on no allow-list: unknown origins are refused, never guessed at.
 *
 * @example
 * slackOrigin('command', 'command=%2Fvend&team_id=T0VENDLOCAL&api_app_id=A0VEND&user_id=U0ALICE')
 * // { teamId: 'T0VENDLOCAL', apiAppId: 'A0VEND' }
 */
export function slackOrigin(route: SlackRoute, bodyText: string): SlackOrigin {
  const form = new URLSearchParams(bodyText);
  if (route === 'command') return origin(form.get('team_id'), form.get('api_app_id'));
  let payload: unknown;
  try {
    payload = JSON.parse(form.get('payload') ?? '');
  } catch {
    return {};
  }
  if (!isRecord(payload)) return {};
  const team = isRecord(payload.team) ? payload.team.id : undefined;
  const userTeam = isRecord(payload.user) ? payload.user.team_id : undefined;
  return origin(typeof team === 'string' && team !== '' ? team : userTeam, payload.api_app_id);
}

/**
 * A correctly signed Slack request from a workspace or app vend does not serve, or that names
 * neither (403 `not_entitled`). Checked before the payload is read, so such a request changes
 * nothing and learns nothing about what vend would have done with it. The detail never repeats the
 * ids the request carried.
 *
 * @example `if (!allowListed(slackOrigin('interaction', text), allow)) throw new SlackOriginNotAllowedError()`
 */
export class SlackOriginNotAllowedError extends VendError {
  readonly code = 'not_entitled';
  constructor() {
    super('this Slack workspace or app is not allowed to use vend');
  }
}

function origin(teamId: unknown, apiAppId: unknown): SlackOrigin {
  const out: SlackOrigin = {};
  if (typeof teamId === 'string' && teamId !== '') out.teamId = teamId;
  if (typeof apiAppId === 'string' && apiAppId !== '') out.apiAppId = apiAppId;
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function header(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function bodyBytes(raw: Buffer | Uint8Array | string, base64: boolean): Uint8Array | undefined {
  if (!base64) return typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('latin1');
  // Node's decoder skips characters it does not know; a strict check keeps "the bytes" well defined.
  if (!BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

function fail(reason: SlackVerifyFailure): SlackVerifyResult {
  return { ok: false, reason };
}
