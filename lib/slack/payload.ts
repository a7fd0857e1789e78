/**
 * What Slack sends vend, parsed into plain values: slash commands (`/vend …`, form-encoded) and
 * interaction payloads (button clicks, a form field `payload` holding JSON). Parse only after
 * {@link verifySlackRequest} accepted the bytes, and check {@link allowListed} before acting.
 *
 * Refusals are InvalidRequestError with a usage line fit to show the person in Slack (ephemerally);
 * they never repeat more of the input than a short, printable excerpt.
 */
import { parseDurationText, parseRequestedDuration } from '../domain/duration';
import { DurationOutOfRangeError, InvalidRequestError } from '../domain/errors';
import { ENTITLEMENT_ID } from '../domain/limits';

/** The form fields of a slash-command request that vend reads. */
export interface SlashCommandEnvelope {
  /** `/vend` (or whatever the app registered). */
  command: string;
  text: string;
  teamId: string;
  /** Absent on old installs; allow-listing then relies on the team. */
  apiAppId?: string;
  userId: string;
  channelId?: string;
  responseUrl?: string;
  triggerId?: string;
}

/** A parsed `/vend` command. */
export type VendCommand =
  | { kind: 'request'; entitlement: string; durationSeconds: number; reason: string }
  | { kind: 'break-glass'; entitlement: string; durationSeconds: number; ticket: string; reason: string }
  | { kind: 'status'; requestId: string }
  | { kind: 'help' };

/** How to use `/vend`, for help and refusals. */
export const VEND_USAGE = [
  '/vend request <entitlement> <duration> <reason…>',
  '/vend break-glass <entitlement> <duration> <ticket> <reason…>',
  '/vend status <request id>',
].join('\n');

const REQUEST_ID = /^[0-9A-Za-z_-]{1,64}$/;

// Slack's own ids (team T…/E…, user U…/W…, app A…): upper-case letters and digits. They become
// DynamoDB keys (the Slack binding of team + user), so a signed body with a 10 kB or NUL-bearing
// user id is refused here rather than reaching the store (issue 11: no client input makes a 5xx).
const SLACK_ID = /^[A-Z0-9]{1,64}$/;

/**
 * Read the fields of a slash-command body (`application/x-www-form-urlencoded`).
 *
 * @throws InvalidRequestError no `command`, `team_id` or `user_id`, or an id that is not shaped like
 *   a Slack id (upper-case letters and digits, at most 64)
 * @example
 * ```ts
 * parseSlashCommandBody('command=%2Fvend&text=status+01J&team_id=T0VENDLOCAL&user_id=U0ALICE&api_app_id=A0VEND');
 * // { command: '/vend', text: 'status 01J', teamId: 'T0VENDLOCAL', userId: 'U0ALICE', apiAppId: 'A0VEND' }
 * ```
 */
export function parseSlashCommandBody(bodyText: string): SlashCommandEnvelope {
  const form = new URLSearchParams(bodyText);
  const command = form.get('command');
  const teamId = form.get('team_id');
  const userId = form.get('user_id');
  if (!command || !teamId || !userId) {
    throw new InvalidRequestError('not a Slack slash command (command, team_id and user_id are required)');
  }
  const appId = form.get('api_app_id');
  if (!SLACK_ID.test(teamId) || !SLACK_ID.test(userId) || (appId && !SLACK_ID.test(appId))) {
    throw new InvalidRequestError(
      'not a Slack slash command (team_id, user_id or api_app_id is not a Slack id)',
    );
  }
  const env: SlashCommandEnvelope = { command, text: form.get('text') ?? '', teamId, userId };
  const optional = {
    apiAppId: form.get('api_app_id'),
    channelId: form.get('channel_id'),
    responseUrl: form.get('response_url'),
    triggerId: form.get('trigger_id'),
  };
  for (const [k, v] of Object.entries(optional)) if (v) env[k as keyof typeof optional] = v;
  return env;
}

/**
 * Parse the text after `/vend`. Words are split on whitespace; the reason is everything after the
 * fixed arguments, as typed. Slack escapes `&`, `<` and `>` in command text; they are unescaped here
 * so the reason reads as typed (messages escape again when showing it).
 *
 * @throws InvalidRequestError an unknown subcommand, a missing argument, a malformed entitlement id,
 *   request id or duration; the detail carries the usage
 * @throws DurationOutOfRangeError a duration outside 15m–1h (the one duration rule,
 *   lib/domain/duration.ts; the entitlement's own maximum is checked when the request is made)
 * @example
 * ```ts
 * parseVendCommand('request prod-admin 1h db failover'); // { kind: 'request', entitlement: 'prod-admin', durationSeconds: 3600, reason: 'db failover' }
 * parseVendCommand('break-glass prod-admin 30m INC-7 db down'); // { kind: 'break-glass', …, ticket: 'INC-7', reason: 'db down' }
 * parseVendCommand('status 01JDEMO');                          // { kind: 'status', requestId: '01JDEMO' }
 * ```
 */
export function parseVendCommand(text: string): VendCommand {
  const source = unescapeSlack(text).trim();
  if (source === '' || /^help$/i.test(source)) return { kind: 'help' };
  const words = source.split(/\s+/);
  const sub = (words[0] ?? '').toLowerCase();
  const usage = (why: string): never => {
    throw new InvalidRequestError(`${why}\nusage:\n${VEND_USAGE}`);
  };
  // The reason keeps its inner spacing: cut the source after the n-th word rather than re-joining.
  const rest = (n: number) => source.replace(new RegExp(`^(?:\\S+\\s+){${n}}`), '').trim();

  if (sub === 'request') {
    if (words.length < 4) usage('/vend request needs an entitlement, a duration and a reason');
    return {
      kind: 'request',
      entitlement: entitlementArg(words[1] ?? '', usage),
      durationSeconds: durationArg(words[2] ?? '', usage),
      reason: rest(3),
    };
  }
  if (sub === 'break-glass' || sub === 'breakglass') {
    if (words.length < 5) usage('/vend break-glass needs an entitlement, a duration, a ticket and a reason');
    return {
      kind: 'break-glass',
      entitlement: entitlementArg(words[1] ?? '', usage),
      durationSeconds: durationArg(words[2] ?? '', usage),
      ticket: words[3] ?? '',
      reason: rest(4),
    };
  }
  if (sub === 'status') {
    const id = words[1] ?? '';
    if (words.length !== 2 || !REQUEST_ID.test(id)) usage('/vend status needs one request id');
    return { kind: 'status', requestId: id };
  }
  return usage(`unknown subcommand "${excerpt(words[0] ?? '')}"`);
}

/**
 * Durations as people type them: `900`, `900s`, `15m`, `1h`, `1h30m` → whole seconds. Whether the
 * entitlement allows the value is the domain's decision (`duration_out_of_range`).
 *
 * @throws InvalidRequestError not one of those forms, zero, or absurdly long (over a day)
 * @example `parseDuration('15m') // 900`
 */
export const parseDuration = parseDurationText;

/**
 * A button click vend acts on: a vote (Approve / Deny on an approval message), or `revoke` (the
 * Revoke button of a break-glass broadcast, which revokes the request's live sessions).
 */
export interface VoteAction {
  decision: 'approve' | 'deny' | 'revoke';
  requestId: string;
  apiAppId: string;
  teamId: string;
  /** The Slack user who clicked; mapped to a person through a stored binding, never by email. */
  userId: string;
  responseUrl?: string;
  /** The message to update in place. */
  channelId?: string;
  messageTs?: string;
}

/** The action ids of the Approve, Deny and Revoke buttons. */
export const ACTION_IDS = { approve: 'vend_approve', deny: 'vend_deny', revoke: 'vend_revoke' } as const;

/**
 * Parse an interaction body (`payload=<JSON>`, form-encoded) into the click it carries.
 *
 * @throws InvalidRequestError no payload, not JSON, not `block_actions`, no app/team/user, an action
 *   that is not one of vend's buttons, or a request id that is not an id
 * @example
 * ```ts
 * parseInteraction(`payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions',
 *   api_app_id: 'A0VEND', team: { id: 'T0VENDLOCAL' }, user: { id: 'U0BOB' },
 *   actions: [{ action_id: 'vend_approve', value: '01JDEMO' }] }))}`);
 * // { decision: 'approve', requestId: '01JDEMO', apiAppId: 'A0VEND', teamId: 'T0VENDLOCAL', userId: 'U0BOB' }
 * ```
 */
export function parseInteraction(bodyText: string): VoteAction {
  const raw = new URLSearchParams(bodyText).get('payload');
  if (!raw) throw new InvalidRequestError('not a Slack interaction (no payload field)');
  let p: unknown;
  try {
    p = JSON.parse(raw);
  } catch (e) {
    throw new InvalidRequestError('the Slack interaction payload is not JSON', { cause: e });
  }
  if (!isRecord(p)) throw new InvalidRequestError('the Slack interaction payload is not an object');
  if (p.type !== 'block_actions') {
    throw new InvalidRequestError(`unsupported Slack interaction type "${excerpt(String(p.type))}"`);
  }
  const user = isRecord(p.user) ? p.user : {};
  // Org-wide (Enterprise Grid) installs may send team: null; the user's team_id is then the workspace.
  const teamId = str(isRecord(p.team) ? p.team.id : undefined) ?? str(user.team_id);
  const apiAppId = str(p.api_app_id);
  const userId = str(user.id);
  if (!teamId || !apiAppId || !userId) {
    throw new InvalidRequestError('the Slack interaction lacks api_app_id, team or user');
  }
  if (!SLACK_ID.test(teamId) || !SLACK_ID.test(apiAppId) || !SLACK_ID.test(userId)) {
    throw new InvalidRequestError('the Slack interaction’s api_app_id, team or user is not a Slack id');
  }
  const actions = Array.isArray(p.actions) ? p.actions : [];
  const action = isRecord(actions[0]) ? actions[0] : {};
  const decision =
    action.action_id === ACTION_IDS.approve
      ? 'approve'
      : action.action_id === ACTION_IDS.deny
        ? 'deny'
        : action.action_id === ACTION_IDS.revoke
          ? 'revoke'
          : undefined;
  if (decision === undefined || actions.length !== 1) {
    throw new InvalidRequestError(
      'the Slack interaction is not one of vend’s Approve / Deny / Revoke buttons',
    );
  }
  const requestId = str(action.value);
  if (!requestId || !REQUEST_ID.test(requestId)) {
    throw new InvalidRequestError('the button does not carry a request id');
  }
  const out: VoteAction = { decision, requestId, apiAppId, teamId, userId };
  const container = isRecord(p.container) ? p.container : {};
  const channel = isRecord(p.channel) ? p.channel : {};
  const responseUrl = str(p.response_url);
  const channelId = str(channel.id) ?? str(container.channel_id);
  const messageTs = str(container.message_ts) ?? (isRecord(p.message) ? str(p.message.ts) : undefined);
  if (responseUrl) out.responseUrl = responseUrl;
  if (channelId) out.channelId = channelId;
  if (messageTs) out.messageTs = messageTs;
  return out;
}

/** The Slack apps and workspaces vend answers. */
export interface SlackAllowList {
  appIds: readonly string[];
  teamIds: readonly string[];
}

/**
 * Is the request from an allowed app and workspace? Deny by default: an empty list allows nothing.
 * A request without an `api_app_id` (some old slash-command installs) is refused too: the signature
 * proves the signing secret, the app id proves which app it belongs to.
 *
 * @example `allowListed({ apiAppId: 'A0VEND', teamId: 'T0VENDLOCAL' }, { appIds: ['A0VEND'], teamIds: ['T0VENDLOCAL'] }) // true`
 */
export function allowListed(
  from: { apiAppId?: string | undefined; teamId?: string | undefined },
  allow: SlackAllowList,
): boolean {
  return (
    from.apiAppId !== undefined &&
    from.teamId !== undefined &&
    allow.appIds.includes(from.apiAppId) &&
    allow.teamIds.includes(from.teamId)
  );
}

function durationArg(word: string, usage: (why: string) => never): number {
  let seconds: number;
  try {
    seconds = parseDuration(word);
  } catch (e) {
    if (e instanceof InvalidRequestError) return usage(e.detail);
    throw e;
  }
  try {
    parseRequestedDuration(seconds);
  } catch (e) {
    // The same rule as the HTTP routes, said in the units the person typed.
    if (e instanceof DurationOutOfRangeError) {
      throw new DurationOutOfRangeError(
        `the duration must be from 15m to 1h (900 to 3600 seconds); "${excerpt(word)}" is ${seconds} seconds`,
        { cause: e },
      );
    }
    throw e;
  }
  return seconds;
}

function entitlementArg(word: string, usage: (why: string) => never): string {
  if (!ENTITLEMENT_ID.test(word)) usage(`"${excerpt(word)}" is not an entitlement id`);
  return word;
}

function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function excerpt(text: string): string {
  const cleaned = text.replace(/[^\x20-\x7E]/g, '?');
  return cleaned.length > 32 ? `${cleaned.slice(0, 32)}…` : cleaned;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
