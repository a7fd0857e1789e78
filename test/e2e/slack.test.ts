/**
 * Slack end to end: signed slash commands and button clicks through the local gateway (which hands
 * form bodies over base64-encoded, as API Gateway does) to the real handlers, with the Slack sink
 * recording what vend posted. Every refusal is checked to change nothing.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOCAL_TEAM_ID } from '../../infra/local/slack/sink';
import { LOCAL_SLACK_APP_ID, LOCAL_SLACK_CHANNELS } from '../../infra/local/stack';
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
  over: { app?: string; team?: string } = {},
): Buffer {
  const payload = {
    type: 'block_actions',
    api_app_id: over.app ?? LOCAL_SLACK_APP_ID,
    team: { id: over.team ?? LOCAL_TEAM_ID },
    user: { id: user },
    actions: [{ action_id: `vend_${decision}`, value: requestId }],
    container: { channel_id: LOCAL_SLACK_CHANNELS.approvers },
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
        'an unknown app',
        () => {
          const body = clickBody('U0CAROL', id, 'approve', { app: 'A0SOMEONEELSE' });
          return { body, headers: signedHeaders(body) };
        },
        403,
        'not_allowed',
      ],
      [
        'an unknown team',
        () => {
          const body = clickBody('U0CAROL', id, 'approve', { team: 'T0OTHERTEAM' });
          return { body, headers: signedHeaders(body) };
        },
        403,
        'not_allowed',
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
