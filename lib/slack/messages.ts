/**
 * The Slack messages vend posts, as pure Block Kit builders: the approval message in the approvers'
 * channel (updated in place after every vote), the break-glass broadcast to the security channel,
 * and the notice to the requester. Each comes with a `text` fallback, which Slack shows in
 * notifications and to screen readers.
 *
 * What goes in: request fields, the entitlement id and description, and who voted. What never goes
 * in: ExternalIds, role session credentials, signing secrets; the builders only read the fields they
 * name, so a secret added to an Entitlement later cannot appear by accident. Text that people typed
 * (reason, ticket, comments, labels) is escaped for mrkdwn (`&`, `<`, `>`), so a reason cannot
 * mention `<!channel>` or disguise a link.
 */
import type { AccessRequest, RequestStatus } from '../domain/request';
import { effectiveStatus } from '../domain/request';
import type { Entitlement } from '../domain/types';
import { ACTION_IDS } from './payload';

/** A Block Kit text object. */
export interface TextObject {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}

/** A Block Kit button. */
export interface ButtonElement {
  type: 'button';
  action_id: string;
  value: string;
  text: TextObject;
  style?: 'primary' | 'danger';
  confirm?: {
    title: TextObject;
    text: TextObject;
    confirm: TextObject;
    deny: TextObject;
    style?: 'primary' | 'danger';
  };
}

/** The Block Kit blocks vend uses. */
export type Block =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text?: TextObject; fields?: TextObject[]; block_id?: string }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'actions'; block_id: string; elements: ButtonElement[] }
  | { type: 'divider' };

/** A message ready for `chat.postMessage` / `chat.update`. */
export interface SlackMessage {
  /** The notification / accessibility fallback. */
  text: string;
  blocks: Block[];
}

/** The block id of the Approve / Deny buttons (gone once the request is decided). */
export const VOTE_BLOCK_ID = 'vend_vote';

/** The block id of the Revoke button of a break-glass broadcast. */
export const REVOKE_BLOCK_ID = 'vend_revoke';

/**
 * The approval message for the approvers' channel. While the request is pending (as of `now`, when
 * given) it shows who voted so far and the Approve / Deny buttons (`vend_approve` / `vend_deny`,
 * `value` = request id); once decided, cancelled or expired it shows the outcome and no buttons, so
 * `chat.update` with the new state removes them in place.
 *
 * @example
 * ```ts
 * const msg = approvalMessage(req, prodAdmin, now);
 * await slack.chat.postMessage({ channel: approversChannel, ...msg });
 * // later, after a vote: slack.chat.update({ channel, ts, ...approvalMessage(next, prodAdmin, now) })
 * ```
 */
export function approvalMessage(
  req: AccessRequest,
  entitlement: Pick<Entitlement, 'id' | 'description'> | undefined,
  now?: Date,
): SlackMessage {
  const status = now === undefined ? req.status : effectiveStatus(req, now);
  const approvals = req.votes.filter((v) => v.decision === 'approve').length;
  const title = req.breakGlass ? `🚨 Break-glass: ${req.entitlement}` : `Access request: ${req.entitlement}`;
  const blocks: Block[] = [
    { type: 'header', text: plain(title) },
    { type: 'section', fields: requestFields(req, entitlement) },
    { type: 'section', text: mrkdwn(`*Reason*\n${quote(req.reason)}`) },
  ];
  if (req.votes.length > 0) {
    blocks.push({ type: 'section', text: mrkdwn(limit(`*Votes*\n${req.votes.map(voteLine).join('\n')}`)) });
  }
  if (status === 'pending') {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          `${approvals} of ${req.approvalsRequired} approvals · unanswered, it expires ${when(req.expiresAt)}`,
        ),
      ],
    });
    blocks.push({
      type: 'actions',
      block_id: VOTE_BLOCK_ID,
      elements: [
        {
          type: 'button',
          action_id: ACTION_IDS.approve,
          value: req.id,
          style: 'primary',
          text: plain('Approve'),
        },
        {
          type: 'button',
          action_id: ACTION_IDS.deny,
          value: req.id,
          style: 'danger',
          text: plain('Deny'),
          confirm: {
            title: plain('Deny this request?'),
            text: plain('A single deny ends the request.'),
            confirm: plain('Deny'),
            deny: plain('Cancel'),
            style: 'danger',
          },
        },
      ],
    });
  } else {
    blocks.push({ type: 'section', text: mrkdwn(outcome(req, status)) });
  }
  const fallback =
    status === 'pending'
      ? `${req.requester.label} asks for ${req.entitlement} (${formatDuration(req.durationSeconds)}): ` +
        `${req.reason} — ${approvals} of ${req.approvalsRequired} approvals`
      : `${req.entitlement} for ${req.requester.label}: ${outcomeText(req, status)}`;
  return { text: fallbackText(fallback), blocks };
}

/**
 * The break-glass broadcast for the security channel. It carries a Revoke button (`vend_revoke`,
 * `value` = request id) for the security group: a click revokes every live session vended under
 * this break-glass request at once (lib/usecases/slack.ts, with the same signature, binding and
 * rights checks as a vote). Once someone revoked, the message is updated in place with who did
 * and how many sessions (`revoked`), and the button stays, for sessions vended later.
 *
 * @example `await slack.chat.postMessage({ channel: securityChannel, ...breakGlassBroadcast(req) })`
 */
export function breakGlassBroadcast(
  req: AccessRequest,
  revoked?: { by: string; sessions: number; at: string },
): SlackMessage {
  const blocks: Block[] = [
    { type: 'header', text: plain(`🚨 Break-glass used: ${req.entitlement}`) },
    { type: 'section', fields: requestFields(req, undefined) },
    { type: 'section', text: mrkdwn(`*Reason*\n${quote(req.reason)}`) },
    {
      type: 'context',
      elements: [
        mrkdwn(
          `Granted at once ${when(req.grantStart)}, until ${when(req.grantEnd)}. ` +
            'A review is open until someone else signs it off.',
        ),
      ],
    },
  ];
  if (revoked !== undefined) {
    const n = revoked.sessions === 1 ? '1 live session' : `${revoked.sessions} live sessions`;
    blocks.push({
      type: 'section',
      text: mrkdwn(`*Revoked* by ${esc(revoked.by)} ${when(revoked.at)}: ${n} denied every action.`),
    });
  }
  blocks.push({
    type: 'actions',
    block_id: REVOKE_BLOCK_ID,
    elements: [
      {
        type: 'button',
        action_id: ACTION_IDS.revoke,
        value: req.id,
        style: 'danger',
        text: plain('Revoke sessions'),
        confirm: {
          title: plain('Revoke this break-glass access?'),
          text: plain('Every live session vended under this request is denied every action at once.'),
          confirm: plain('Revoke'),
          deny: plain('Cancel'),
          style: 'danger',
        },
      },
    ],
  });
  const text =
    `🚨 Break-glass: ${req.requester.label} took ${req.entitlement} for ${formatDuration(req.durationSeconds)} ` +
    `(ticket ${req.ticket ?? 'none'}): ${req.reason}`;
  return { text: fallbackText(text), blocks };
}

/**
 * The notice to the requester (a DM) about where their request stands.
 * @example `await slack.chat.postMessage({ channel: requesterSlackUserId, ...requesterNotice(next, now) })`
 */
export function requesterNotice(req: AccessRequest, now?: Date): SlackMessage {
  const status = now === undefined ? req.status : effectiveStatus(req, now);
  let line: string;
  let text: string;
  if (status === 'pending') {
    const approvals = req.votes.filter((v) => v.decision === 'approve').length;
    line = `Your request for *${esc(req.entitlement)}* is waiting for approval (${approvals} of ${req.approvalsRequired}).`;
    text = `Your request for ${req.entitlement} is waiting for approval (${approvals} of ${req.approvalsRequired}).`;
  } else if (status === 'approved') {
    const how = req.breakGlass ? 'Break-glass access to' : 'Your request for';
    const by = req.breakGlass ? 'is active' : `was approved by ${names(req, 'approve')}`;
    line =
      `${how} *${esc(req.entitlement)}* ${esc(by)}. Vend credentials with request \`${esc(req.id)}\` ` +
      `until ${when(req.grantEnd)}.${req.breakGlass ? ' A review is open.' : ''}`;
    text = `${how} ${req.entitlement} ${by}; vend until ${req.grantEnd}.`;
  } else {
    line = `Your request for *${esc(req.entitlement)}*: ${outcome(req, status)}`;
    text = `Your request for ${req.entitlement}: ${outcomeText(req, status)}`;
  }
  return { text: fallbackText(text), blocks: [{ type: 'section', text: mrkdwn(limit(line)) }] };
}

/**
 * Seconds as people read them: 900 → `15m`, 3600 → `1h`, 5400 → `1h30m`, 61 → `61s`.
 * @example `formatDuration(3600) // '1h'`
 */
export function formatDuration(seconds: number): string {
  if (seconds % 60 !== 0) return `${seconds}s`;
  const h = Math.floor(seconds / 3600);
  const m = (seconds % 3600) / 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}` || '0s';
}

function requestFields(
  req: AccessRequest,
  ent: Pick<Entitlement, 'id' | 'description'> | undefined,
): TextObject[] {
  const entitlement =
    ent?.description !== undefined && ent.id === req.entitlement
      ? `${esc(req.entitlement)} — ${esc(ent.description.slice(0, 200))}`
      : esc(req.entitlement);
  const fields = [
    mrkdwn(`*Requester*\n${esc(req.requester.label)}`),
    mrkdwn(`*Entitlement*\n${entitlement}`),
    mrkdwn(`*Duration*\n${formatDuration(req.durationSeconds)}`),
    mrkdwn(`*Request*\n\`${esc(req.id)}\``),
  ];
  if (req.ticket !== undefined) fields.push(mrkdwn(`*Ticket*\n${esc(req.ticket)}`));
  return fields;
}

function voteLine(v: AccessRequest['votes'][number]): string {
  const icon = v.decision === 'approve' ? '✅' : '❌';
  const verb = v.decision === 'approve' ? 'approved' : 'denied';
  const comment = v.comment === undefined ? '' : ` — “${esc(v.comment.slice(0, 200))}”`;
  return `${icon} ${esc(v.label)} ${verb} ${when(v.at)}${comment}`;
}

function outcome(req: AccessRequest, status: RequestStatus): string {
  switch (status) {
    case 'approved':
      return req.breakGlass
        ? `*Break-glass active* until ${when(req.grantEnd)}`
        : `*Approved* by ${esc(names(req, 'approve'))} · access until ${when(req.grantEnd)}`;
    case 'denied':
      return `*Denied* by ${esc(names(req, 'deny'))}`;
    case 'cancelled':
      return '*Cancelled* by the requester';
    case 'expired':
      return req.grantEnd !== undefined
        ? `*Expired*: the grant ended ${when(req.grantEnd)}`
        : '*Expired* unanswered';
    default:
      return `*${esc(status)}*`;
  }
}

function outcomeText(req: AccessRequest, status: RequestStatus): string {
  switch (status) {
    case 'approved':
      return req.breakGlass ? 'break-glass active' : `approved by ${names(req, 'approve')}`;
    case 'denied':
      return `denied by ${names(req, 'deny')}`;
    case 'cancelled':
      return 'cancelled';
    case 'expired':
      return req.grantEnd !== undefined ? 'the grant ended' : 'expired unanswered';
    default:
      return status;
  }
}

function names(req: AccessRequest, decision: 'approve' | 'deny'): string {
  return (
    req.votes
      .filter((v) => v.decision === decision)
      .map((v) => v.label)
      .join(', ') || 'nobody'
  );
}

// Slack renders `<!date^…>` in each reader's time zone; the ISO fallback is for clients that cannot.
function when(isoTime: string | undefined): string {
  if (isoTime === undefined) return 'at an unknown time';
  const seconds = Math.floor(Date.parse(isoTime) / 1000);
  return Number.isFinite(seconds) ? `<!date^${seconds}^{date_short_pretty} {time}|${isoTime}>` : esc(isoTime);
}

function quote(text: string): string {
  return text
    .split('\n')
    .map((line) => `>${esc(line)}`)
    .join('\n');
}

/** mrkdwn escaping of the three control characters Slack defines. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function plain(text: string): TextObject {
  // Header text is limited to 150 characters.
  return { type: 'plain_text', text: text.length > 150 ? `${text.slice(0, 149)}…` : text, emoji: true };
}

function mrkdwn(text: string): TextObject {
  return { type: 'mrkdwn', text };
}

// Slack formats the top-level `text` as mrkdwn too (notifications, clients without blocks), so the
// fallback is escaped whole: it has no markup of its own, only what people typed.
function fallbackText(text: string): string {
  return limit(esc(text));
}

// Section text is limited to 3000 characters; stay under it.
function limit(text: string): string {
  return text.length > 2900 ? `${text.slice(0, 2899)}…` : text;
}
