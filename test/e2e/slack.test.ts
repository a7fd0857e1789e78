/**
 * Slack end to end: signed slash commands and button clicks through the local gateway (which hands
 * form bodies over base64-encoded, as API Gateway does) to the real handlers, with the Slack sink
 * recording what vend posted. Every refusal is checked to change nothing.
 */
import { createHmac } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_TEAM_ID } from '../../infra/local/slack/sink';
import { LOCAL_SLACK_APP_ID, LOCAL_SLACK_CHANNELS, REGION } from '../../infra/local/stack';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';

const stack = withStack();

interface SignOptions {
  /** Seconds to add to now for the timestamp. */
  skew?: number;
  prefix?: string;
  /** Sign these bytes but send `body`. */
  signedBody?: Buffer;
  omitSignature?: boolean;
}

function signedHeaders(body: Buffer, opts: SignOptions = {}): Record<string, string> {
  const secret = stack.stack.handlerEnv.VEND_SLACK_SIGNING_SECRET ?? '';
  const ts = String(Math.floor(Date.now() / 1000) + (opts.skew ?? 0));
  const mac = createHmac('sha256', secret)
    .update(`v0:${ts}:`)
    .update(opts.signedBody ?? body)
    .digest('hex');
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': ts,
    ...(opts.omitSignature ? {} : { 'x-slack-signature': `${opts.prefix ?? 'v0='}${mac}` }),
  };
}

async function post(route: 'commands' | 'interactions', body: Buffer, headers: Record<string, string>) {
  const res = await fetch(`${stack.apiUrl}/v1/slack/${route}`, { method: 'POST', headers, body });
  const text = await res.text();
  return { res, json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
}

function commandBody(user: string, text: string, over: Record<string, string> = {}): Buffer {
  const form = new URLSearchParams({
    command: '/vend',
    text,
    team_id: LOCAL_TEAM_ID,
    api_app_id: LOCAL_SLACK_APP_ID,
    user_id: user,
    channel_id: 'C0WHEREVER',
    ...over,
  });
  return Buffer.from(form.toString(), 'utf8');
}

function clickBody(
  user: string,
  requestId: string,
  decision: 'approve' | 'deny',
  over: Record<string, unknown> = {},
): Buffer {
  const payload = {
    type: 'block_actions',
    api_app_id: LOCAL_SLACK_APP_ID,
    team: { id: LOCAL_TEAM_ID },
    user: { id: user },
    actions: [{ action_id: `vend_${decision}`, value: requestId }],
    container: { channel_id: LOCAL_SLACK_CHANNELS.approvers },
    ...over,
  };
  return Buffer.from(`payload=${encodeURIComponent(JSON.stringify(payload))}`, 'utf8');
}

const command = (user: string, text: string) => {
  const body = commandBody(user, text);
  return post('commands', body, signedHeaders(body));
};
const click = (user: string, id: string, decision: 'approve' | 'deny') => {
  const body = clickBody(user, id, decision);
  return post('interactions', body, signedHeaders(body));
};

async function readAs(user: string, id: string) {
  const res = await fetch(`${stack.apiUrl}/v1/requests/${id}`, {
    headers: { authorization: `Bearer ${await stack.token(user)}` },
  });
  return (await res.json()) as {
    status: string;
    version: number;
    reason: string;
    votes: { label: string }[];
  };
}

function requestIdIn(text: unknown): string {
  const m = /Request (\S+) for/.exec(String(text));
  if (!m?.[1]) throw new Error(`no request id in ${String(text)}`);
  return m[1];
}

describe('/vend request and the Approve buttons', () => {
  let id: string;
  let bobsClick: { body: Buffer; headers: Record<string, string> };

  it('a correctly signed base64 body with non-ASCII text (部署🔥) is accepted and kept exactly', async () => {
    const { res, json } = await command('U0ALICE', 'request prod-admin 1h INC-7 部署🔥 rollback');

    expect(res.status).toBe(200);
    expect(json).toMatchObject({ response_type: 'ephemeral' });
    expect(String(json?.text)).toMatch(/pending, 0 of 2 approvals/);
    id = requestIdIn(json?.text);
    const stored = await readAs('alice', id);
    expect(stored.reason).toBe('INC-7 部署🔥 rollback');
    expect(stored.status).toBe('pending');
  });

  it('bob clicks Approve: 200 with an empty body, his vote is stored', async () => {
    const body = clickBody('U0BOB', id, 'approve');
    bobsClick = { body, headers: signedHeaders(body) };

    const { res, json } = await post('interactions', bobsClick.body, bobsClick.headers);

    expect(res.status).toBe(200);
    expect(json).toBeUndefined();
    const stored = await readAs('alice', id);
    expect(stored.votes.map((v) => v.label)).toEqual(['bob@example.com']);
  });

  describe('refusals change nothing', () => {
    const base = (user = 'U0CAROL') => clickBody(user, id, 'approve');
    const cases: [string, () => { body: Buffer; headers: Record<string, string> }, number, string][] = [
      [
        'a missing signature',
        () => ({ body: base(), headers: signedHeaders(base(), { omitSignature: true }) }),
        401,
        'missing_signature',
      ],
      [
        'a stale timestamp (301 s old)',
        () => ({ body: base(), headers: signedHeaders(base(), { skew: -301 }) }),
        401,
        'stale',
      ],
      [
        'a future timestamp (301 s ahead)',
        () => ({ body: base(), headers: signedHeaders(base(), { skew: 301 }) }),
        401,
        'future',
      ],
      [
        'one changed byte',
        () => {
          const signedBody = base();
          const body = Buffer.from(signedBody);
          body[body.length - 3] = (body[body.length - 3] ?? 0) ^ 0x01;
          return { body, headers: signedHeaders(body, { signedBody }) };
        },
        401,
        'bad_signature',
      ],
      [
        'a v1= prefix',
        () => ({ body: base(), headers: signedHeaders(base(), { prefix: 'v1=' }) }),
        401,
        'bad_version',
      ],
      [
        'an unbound Slack user',
        () => ({ body: base('U0MALLORY'), headers: signedHeaders(base('U0MALLORY')) }),
        403,
        'unbound_user',
      ],
      [
        'an approver without rights (dave)',
        () => ({ body: base('U0DAVE'), headers: signedHeaders(base('U0DAVE')) }),
        403,
        'not_entitled',
      ],
      [
        'the requester clicking Approve',
        () => ({ body: base('U0ALICE'), headers: signedHeaders(base('U0ALICE')) }),
        403,
        'self_approval',
      ],
      ['a replay of bob’s click', () => bobsClick, 401, 'replayed'],
    ];

    it.each(cases)('%s → %i', async (_name, make, status, error) => {
      const before = await readAs('alice', id);
      const { body, headers } = make();

      const { res, json } = await post('interactions', body, headers);

      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(json?.error).toBe(error);
      const after = await readAs('alice', id);
      expect(after.version).toBe(before.version);
      expect(after.status).toBe('pending');
    });

    it('a signed command from an unbound user is 403 and opens nothing', async () => {
      const { res, json } = await command('U0MALLORY', 'request prod-admin 1h let me in');

      expect(res.status).toBe(403);
      expect(json?.error).toBe('unbound_user');
    });
  });

  /**
   * Signed with the app's real secret (one secret serves every workspace the app is installed in),
   * but from a workspace or app vend does not serve, or naming none: refused 403 problem+json
   * `not_entitled` right after the signature, before the payload is interpreted. So even a payload
   * vend could not read is 403, never 400 `bad_payload`; nothing changes, nothing is posted to
   * Slack, nothing is audited, and the refusal repeats no id it was sent.
   */
  describe('a signed request from another workspace or app is refused before it is read', () => {
    let dynamo: DynamoDBClient;
    beforeAll(() => {
      dynamo = new DynamoDBClient({
        region: REGION,
        endpoint: stack.awsUrl,
        credentials: stack.credentials('vend-broker'),
      });
    });
    const aliceRequests = async () => {
      const res = await fetch(`${stack.apiUrl}/v1/requests?mine=true&status=pending`, {
        headers: { authorization: `Bearer ${await stack.token('alice')}` },
      });
      return ((await res.json()) as { requests: unknown[] }).requests.length;
    };
    const world = async () => ({
      request: await readAs('alice', id),
      slackCalls: stack.stack.slack.calls().length,
      audit: (await scanTable(dynamo, stack.env.VEND_AUDIT_TABLE)).length,
      aliceRequests: await aliceRequests(),
    });
    const noTeam = (user: string) => ({ id: user });

    const clicks: [string, () => Buffer][] = [
      ['another team', () => clickBody('U0CAROL', id, 'approve', { team: { id: 'T0OTHERTEAM' } })],
      ['another app', () => clickBody('U0CAROL', id, 'approve', { api_app_id: 'A0SOMEONEELSE' })],
      ['no team at all', () => clickBody('U0CAROL', id, 'approve', { team: null, user: noTeam('U0CAROL') })],
      ['no app id', () => clickBody('U0CAROL', id, 'approve', { api_app_id: undefined })],
      [
        'another team, with a payload vend cannot interpret (was 400 bad_payload)',
        () => clickBody('U0CAROL', id, 'approve', { type: 'view_submission', team: { id: 'T0OTHERTEAM' } }),
      ],
      ['a payload that is not JSON', () => Buffer.from('payload=%7Bnot-json', 'utf8')],
    ];
    const commands: [string, () => Buffer][] = [
      [
        'another team',
        () => commandBody('U0ALICE', 'request prod-admin 1h INC-9 rotate', { team_id: 'T0OTHERTEAM' }),
      ],
      [
        'another app',
        () => commandBody('U0ALICE', 'request prod-admin 1h INC-9 rotate', { api_app_id: 'A0SOMEONEELSE' }),
      ],
      ['no team_id', () => commandBody('U0ALICE', 'request prod-admin 1h INC-9 rotate', { team_id: '' })],
      [
        'no api_app_id',
        () => commandBody('U0ALICE', 'request prod-admin 1h INC-9 rotate', { api_app_id: '' }),
      ],
      [
        'another team, with text vend cannot interpret (was a 200 usage message)',
        () => commandBody('U0ALICE', 'frobnicate ✨', { team_id: 'T0OTHERTEAM' }),
      ],
    ];

    it.each([
      ...clicks.map(([n, b]) => ['interactions', n, b] as const),
      ...commands.map(([n, b]) => ['commands', n, b] as const),
    ])('/v1/slack/%s: %s → 403 not_entitled, nothing changed or posted', async (route, _name, make) => {
      const before = await world();
      const body = make();

      const { res, json } = await post(route, body, signedHeaders(body));

      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(json).toEqual({
        type: expect.stringMatching(/not_entitled$/),
        title: 'Not entitled',
        status: 403,
        detail: 'this Slack workspace or app is not allowed to use vend',
        code: 'not_entitled',
        requestId: expect.any(String),
      });
      expect(JSON.stringify(json)).not.toMatch(/T0OTHERTEAM|A0SOMEONEELSE/);
      expect(await world()).toEqual(before);
    });

    it('the right workspace and app are still served (a control for the refusals above)', async () => {
      // Its own channel, so its bytes differ from the /vend status test below (which would
      // otherwise be a replay when both land in the same second).
      const body = commandBody('U0ALICE', `status ${id}`, { channel_id: 'C0CONTROL' });

      const { res, json } = await post('commands', body, signedHeaders(body));

      expect(res.status).toBe(200);
      expect(String(json?.text)).toContain(id);
    });
  });

  it('carol clicks Approve: approved; the approval message was updated in place', async () => {
    const { res } = await click('U0CAROL', id, 'approve');

    expect(res.status).toBe(200);
    expect((await readAs('alice', id)).status).toBe('approved');
    const calls = stack.stack.slack
      .calls({ channel: LOCAL_SLACK_CHANNELS.approvers })
      .filter((c) => JSON.stringify(c.args.blocks ?? '').includes(id));
    expect(calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update', 'chat.update']);
    expect(JSON.stringify(calls[2]?.args.blocks)).toContain(
      '*Approved* by bob@example.com, carol@example.com',
    );
  });

  it('/vend status answers the request as it stands, ephemerally', async () => {
    const { res, json } = await command('U0ALICE', `status ${id}`);

    expect(res.status).toBe(200);
    expect(String(json?.text)).toContain('approved');
  });

  it('a deny click after the decision is 409 and changes nothing', async () => {
    const before = await readAs('alice', id);

    const { res, json } = await click('U0ERIN', id, 'deny');

    // erin is bound but no approver: rights come before state.
    expect(res.status).toBe(403);
    expect(json?.error).toBe('not_entitled');
    const bob = await click('U0BOB', id, 'deny');
    expect(bob.res.status).toBe(409);
    expect((await readAs('alice', id)).version).toBe(before.version);
  });
});

describe('/vend break-glass', () => {
  it('dave breaks glass from Slack: approved at once, broadcast to the security channel', async () => {
    const { res, json } = await command('U0DAVE', 'break-glass prod-admin 30m INC-77 primary db down');

    expect(res.status).toBe(200);
    expect(String(json?.text)).toMatch(/approved \(break-glass\)/);
    const id = requestIdIn(json?.text);
    const broadcast = stack.stack.slack
      .calls({ channel: LOCAL_SLACK_CHANNELS.security, method: 'chat.postMessage' })
      .filter((c) => JSON.stringify(c.args).includes(id));
    expect(broadcast).toHaveLength(1);
  });

  it('a refusal by the rules is shown to the person ephemerally (bob may not break glass)', async () => {
    const { res, json } = await command('U0BOB', 'break-glass prod-admin 30m INC-77 let me in');

    expect(res.status).toBe(200);
    expect(String(json?.text)).toMatch(/^vend: you are not entitled/);
  });
});
