/**
 * The Revoke button of a break-glass broadcast (issue 15 §7), end to end: dave breaks glass and
 * vends; the security channel's broadcast carries the button; bob (security) clicks it through a
 * signed interaction and dave's session is denied every action at once, and the broadcast says who
 * revoked. The same signature, binding and rights checks as a vote: a forged signature is 401, an
 * unbound Slack user 403, a bound person without rights (alice) 403, and each refusal leaves the
 * session allowed.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOCAL_TEAM_ID } from '../../infra/local/slack/sink';
import { LOCAL_SLACK_APP_ID, LOCAL_SLACK_CHANNELS } from '../../infra/local/stack';
import { withStack } from '../support/stack';

const stack = withStack();

async function call(user: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await stack.token(user)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { res, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

function click(user: string, requestId: string, ts: string, secret?: string) {
  const payload = {
    type: 'block_actions',
    api_app_id: LOCAL_SLACK_APP_ID,
    team: { id: LOCAL_TEAM_ID },
    user: { id: user },
    actions: [{ action_id: 'vend_revoke', value: requestId }],
    container: { channel_id: LOCAL_SLACK_CHANNELS.security, message_ts: ts },
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const stamp = String(Math.floor(Date.now() / 1000));
  const mac = createHmac('sha256', secret ?? stack.stack.handlerEnv.VEND_SLACK_SIGNING_SECRET ?? '')
    .update(`v0:${stamp}:${body}`)
    .digest('hex');
  return fetch(`${stack.apiUrl}/v1/slack/interactions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': stamp,
      'x-slack-signature': `v0=${mac}`,
    },
    body,
  });
}

async function decision(accessKeyId: string): Promise<string> {
  const res = await fetch(`${stack.awsUrl}/_local/iam/simulate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId, action: 'ec2:TerminateInstances', resource: '*' }),
  });
  return ((await res.json()) as { decision: string }).decision;
}

describe('the Revoke button of a break-glass broadcast', () => {
  it('bob revokes dave’s break-glass session from Slack; refusals change nothing', async () => {
    const created = await call('dave', 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      reason: 'INC-88: payments down',
      ticket: 'INC-88',
      breakGlass: true,
      durationSeconds: 1800,
    });
    const id = created.json.id as string;
    const vended = await call('dave', 'POST', `/v1/requests/${id}/credentials`, {});
    const key = (vended.json.credentials as { AccessKeyId: string }).AccessKeyId;
    expect(await decision(key)).toBe('Allow');

    const broadcast = stack.stack.slack
      .calls({ channel: LOCAL_SLACK_CHANNELS.security, method: 'chat.postMessage' })
      .find((c) => JSON.stringify(c.args).includes(id));
    const blocks = (broadcast?.args.blocks ?? []) as {
      type: string;
      elements?: { action_id: string; value: string }[];
    }[];
    const button = blocks.find((b) => b.type === 'actions')?.elements?.[0];
    expect(button).toMatchObject({ action_id: 'vend_revoke', value: id });
    const ts = broadcast?.ts ?? '';

    expect((await click('U0BOB', id, ts, 'not-the-secret')).status).toBe(401);
    expect((await click('U0MALLORY', id, ts)).status).toBe(403);
    expect((await click('U0ALICE', id, ts)).status).toBe(403);
    expect(await decision(key)).toBe('Allow');

    const revoked = await click('U0BOB', id, ts);

    expect(revoked.status).toBe(200);
    expect(await decision(key)).toBe('ExplicitDeny');
    const updated = stack.stack.slack
      .calls({ channel: LOCAL_SLACK_CHANNELS.security, method: 'chat.update' })
      .filter((c) => c.args.ts === ts);
    expect(JSON.stringify(updated.at(-1)?.args.blocks)).toMatch(/Revoked\* by bob@example.com/);
    const sessions = (await call('dave', 'GET', '/v1/sessions')).json.sessions as { revoked: boolean }[];
    expect(sessions.every((s) => s.revoked)).toBe(true);
    // Nothing live is left to revoke.
    expect((await click('U0CAROL', id, ts)).status).toBe(404);
  });
});
