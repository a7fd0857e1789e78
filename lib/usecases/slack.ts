/**
 * Slack's two routes: slash commands (`/vend request|break-glass|status|help`) and interactions (the
 * Approve / Deny buttons, and the Revoke button of a break-glass broadcast). All act as the person
 * a stored binding names, through the same use cases as the HTTP routes, so every rule (N-of-M, no
 * self-approval, rights at click time, one conditional write per vote; who may revoke a session)
 * is the same whichever door a person uses.
 *
 * Primary course (both routes):
 * 1. Verify the v0 signature on the raw bytes (401 on any failure: missing, stale or future
 *    timestamp, wrong version, changed byte).
 * 2. Allow-list the workspace and `api_app_id`, read from the form body alone (`slackOrigin`) before
 *    anything else of the body is interpreted: a request from another workspace or app, or naming
 *    none, is 403 problem+json `not_entitled` (thrown, so the HTTP chain renders it) and changes
 *    nothing. Logged as a warning; Slack refusals are not audit records (no vend was asked for).
 * 3. Parse the envelope (400 when it is not a Slack command / interaction at all), and check that
 *    it names the same allowed workspace and app (403 as in 2).
 * 4. Refuse a replay: the replay guard remembers every accepted request for its whole acceptance
 *    window (401), so a replayed click or command changes nothing.
 * 5. Map the Slack user to a person through the binding store, never by email (403 when unbound).
 * 6. Act: a command answers an ephemeral message (HTTP 200; refusals by the rules are shown to the
 *    person, not as HTTP errors, which Slack would show as "dispatch_failed"); an interaction
 *    answers 200 with an empty body once the vote is stored, or the rule's status (403 / 404 / 409)
 *    with a plain JSON body. A Revoke click revokes every live session vended under that
 *    break-glass request (lib/usecases/sessions.ts: the owner, the entitlement's approvers and the
 *    security group may), answers 200 once the deny lists hold them, and updates the broadcast in
 *    place with who revoked; 404 when no session is live, 403 for anyone else.
 *
 * Slack waits 3 seconds: nothing here waits on Slack itself except the notifier, whose retries are
 * bounded by a deadline well inside that window.
 */
import type { AuditRequestContext } from '../domain/audit';
import { VendError } from '../domain/errors';
import type { AccessRequest } from '../domain/request';
import type { PersonCaller } from '../domain/types';
import type { VendLog } from '../log';
import type { ReplayGuard, SlackBindingStore } from '../ports';
import { personFromBinding } from '../slack/bindings';
import { breakGlassBroadcast, formatDuration } from '../slack/messages';
import {
  allowListed,
  parseInteraction,
  parseSlashCommandBody,
  parseVendCommand,
  type SlackAllowList,
  VEND_USAGE,
} from '../slack/payload';
import {
  REPLAY_TTL_SECONDS,
  SlackOriginNotAllowedError,
  type SlackRoute,
  slackOrigin,
  verifySlackRequest,
} from '../slack/verify';
import type { RequestDeps } from './requests';
import { createRequest, decideRequest, getRequest } from './requests';
import { revokeRequestSessions, type SessionDeps } from './sessions';

/** What the Slack use cases need. */
export interface SlackDeps {
  /** The app's signing secret; without one every request is refused (see {@link slackSettings}). */
  signingSecret: string | undefined;
  allow: SlackAllowList;
  replay: ReplayGuard;
  bindings: SlackBindingStore;
  requests: RequestDeps;
  /** The session use cases, for the Revoke button; without them a Revoke click is refused (403). */
  sessions?: SessionDeps;
  now: () => Date;
  log: Pick<VendLog, 'warn' | 'error'>;
}

/** The raw request as the gateway handed it over. */
export interface SlackHttpRequest {
  body: string | undefined;
  isBase64Encoded: boolean;
  headers: Readonly<Record<string, string | undefined>>;
  context: AuditRequestContext;
}

/** What to answer Slack. `body` is JSON (or absent: an empty 200). */
export interface SlackHttpAnswer {
  status: number;
  body?: Record<string, unknown>;
}

type Authenticated =
  | { ok: true; person: PersonCaller; bodyText: string }
  | { ok: false; answer: SlackHttpAnswer };

/**
 * Handle `POST /v1/slack/commands`.
 * @example
 * ```ts
 * const answer = await slackCommand(deps)({ body, isBase64Encoded: true, headers, context });
 * // { status: 200, body: { response_type: 'ephemeral', text: 'Request 01J… for prod-admin is pending …' } }
 * ```
 */
export function slackCommand(deps: SlackDeps): (req: SlackHttpRequest) => Promise<SlackHttpAnswer> {
  return async (req) => {
    const auth = await authenticate(deps, req, 'command', (text) => {
      const envelope = parseSlashCommandBody(text);
      return { apiAppId: envelope.apiAppId, teamId: envelope.teamId, userId: envelope.userId };
    });
    if (!auth.ok) return auth.answer;
    const envelope = parseSlashCommandBody(auth.bodyText);
    const acting = { caller: auth.person, request: req.context };
    try {
      const command = parseVendCommand(envelope.text);
      switch (command.kind) {
        case 'help':
          return ephemeral(`usage:\n${VEND_USAGE}`);
        case 'status':
          return ephemeral(statusLine(await getRequest(deps.requests)(acting, command.requestId)));
        case 'request': {
          const created = await createRequest(deps.requests)({
            ...acting,
            body: {
              entitlement: command.entitlement,
              durationSeconds: command.durationSeconds,
              reason: command.reason,
            },
          });
          return ephemeral(`${statusLine(created)}\nApprovers have been asked in Slack.`);
        }
        case 'break-glass': {
          const created = await createRequest(deps.requests)({
            ...acting,
            body: {
              entitlement: command.entitlement,
              durationSeconds: command.durationSeconds,
              reason: command.reason,
              ticket: command.ticket,
              breakGlass: true,
            },
          });
          return ephemeral(
            `${statusLine(created)}\nThe security channel has been told; a review is open.\n` +
              `Vend now: vend credentials ${created.entitlement} --request ${created.id}`,
          );
        }
      }
    } catch (e) {
      if (e instanceof VendError) return ephemeral(`vend: ${e.detail}`);
      throw e;
    }
  };
}

/**
 * Handle `POST /v1/slack/interactions` (Approve / Deny clicks).
 * @example
 * ```ts
 * await slackInteraction(deps)({ body, isBase64Encoded: true, headers, context }); // { status: 200 }
 * ```
 */
export function slackInteraction(deps: SlackDeps): (req: SlackHttpRequest) => Promise<SlackHttpAnswer> {
  return async (req) => {
    const auth = await authenticate(deps, req, 'interaction', (text) => parseInteraction(text));
    if (!auth.ok) return auth.answer;
    const action = parseInteraction(auth.bodyText);
    try {
      if (action.decision === 'revoke') return await revokeClick(deps, auth.person, req.context, action);
      await decideRequest(deps.requests)({
        caller: auth.person,
        request: req.context,
        id: action.requestId,
        decision: action.decision,
      });
      return { status: 200 };
    } catch (e) {
      if (e instanceof VendError) return refuse(e.status, e.code, e.detail);
      throw e;
    }
  };
}

/**
 * The Revoke button of a break-glass broadcast: the request must be a break-glass one the person
 * may see (404 otherwise, as for a vote); its live sessions are revoked as `POST
 * /v1/sessions/{auditId}/revoke` would revoke each (rights checked per session), and the broadcast
 * says who revoked them.
 */
async function revokeClick(
  deps: SlackDeps,
  person: PersonCaller,
  context: AuditRequestContext,
  action: ReturnType<typeof parseInteraction>,
): Promise<SlackHttpAnswer> {
  if (!deps.sessions) return refuse(403, 'not_configured', 'revoking from Slack is not configured');
  const req = (await deps.requests.requests.get(action.requestId))?.request;
  if (req === undefined || !req.breakGlass) {
    return refuse(404, 'not_found', 'only a break-glass broadcast carries a Revoke button');
  }
  const revoked = await revokeRequestSessions(deps.sessions)({
    caller: person,
    request: context,
    accessRequestId: req.id,
    requesterId: req.requester.id,
    entitlement: req.entitlement,
    reason: `revoked from Slack by ${person.email ?? person.subject} (break-glass request ${req.id})`,
  });
  if (action.channelId && action.messageTs) {
    await deps.requests.slack.update(
      { channel: action.channelId, ts: action.messageTs },
      breakGlassBroadcast(req, {
        by: person.email ?? person.subject,
        sessions: revoked.length,
        at: deps.now().toISOString(),
      }),
    );
  }
  return { status: 200 };
}

/** @throws SlackOriginNotAllowedError a signed request from a workspace or app not allowed (403) */
async function authenticate(
  deps: SlackDeps,
  req: SlackHttpRequest,
  route: SlackRoute,
  envelopeOf: (text: string) => { apiAppId?: string | undefined; teamId: string; userId: string },
): Promise<Authenticated> {
  if (!deps.signingSecret) {
    deps.log.error('Slack request refused: VEND_SLACK_SIGNING_SECRET is not configured', {
      code: 'unauthenticated',
    });
    return { ok: false, answer: refuse(401, 'not_configured') };
  }
  const verified = verifySlackRequest({
    rawBody: req.body ?? '',
    isBase64Encoded: req.isBase64Encoded,
    headers: req.headers,
    signingSecret: deps.signingSecret,
    now: deps.now(),
  });
  if (!verified.ok) return { ok: false, answer: refuse(401, verified.reason) };
  const origin = slackOrigin(route, verified.bodyText);
  if (!allowListed(origin, deps.allow)) refuseOrigin(deps, origin);

  let envelope: { apiAppId?: string | undefined; teamId: string; userId: string };
  try {
    envelope = envelopeOf(verified.bodyText);
  } catch (e) {
    if (e instanceof VendError) return { ok: false, answer: refuse(400, 'bad_payload', e.detail) };
    throw e;
  }
  if (!allowListed(envelope, deps.allow)) refuseOrigin(deps, envelope);
  if (await deps.replay.seen(verified.replayKey, REPLAY_TTL_SECONDS)) {
    return { ok: false, answer: refuse(401, 'replayed') };
  }
  const binding = await deps.bindings.get(envelope.teamId, envelope.userId);
  if (binding === undefined) {
    return {
      ok: false,
      answer: refuse(403, 'unbound_user', 'your Slack user is not linked to a vend identity; ask an admin'),
    };
  }
  return { ok: true, person: personFromBinding(binding), bodyText: verified.bodyText };
}

function refuseOrigin(
  deps: SlackDeps,
  from: { teamId?: string | undefined; apiAppId?: string | undefined },
): never {
  const id = (v: string | undefined) => (v === undefined ? '-' : v.replace(/[^\w-]/g, '?').slice(0, 32));
  deps.log.warn('Slack request refused: the workspace or app is not allowed', {
    code: 'not_entitled',
    callerId: `slack:${id(from.teamId)}/${id(from.apiAppId)}`,
  });
  throw new SlackOriginNotAllowedError();
}

function statusLine(req: AccessRequest): string {
  const approvals = req.votes.filter((v) => v.decision === 'approve').length;
  const detail =
    req.status === 'pending'
      ? `pending, ${approvals} of ${req.approvalsRequired} approvals, expires ${req.expiresAt}`
      : req.status === 'approved'
        ? `approved${req.breakGlass ? ' (break-glass)' : ''}, access until ${req.grantEnd}`
        : req.status;
  return `Request ${req.id} for ${req.entitlement} (${formatDuration(req.durationSeconds)}): ${detail}`;
}

function ephemeral(text: string): SlackHttpAnswer {
  return { status: 200, body: { response_type: 'ephemeral', text } };
}

function refuse(status: number, error: string, detail?: string): SlackHttpAnswer {
  return { status, body: { ok: false, error, ...(detail ? { detail } : {}) } };
}
