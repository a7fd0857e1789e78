import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../lib/domain/errors';
import {
  allowListed,
  parseDuration,
  parseInteraction,
  parseSlashCommandBody,
  parseVendCommand,
} from '../../../lib/slack/payload';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal');
}

describe('parseDuration', () => {
  it.each([
    ['900', 900],
    ['900s', 900],
    ['15m', 900],
    ['1h', 3600],
    ['1h30m', 5400],
    [' 1H ', 3600],
  ])('%s → %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '0', '15 m', '1.5h', 'm', '-900', '2d', '90000'])('refuses %j', (text) => {
    expect(thrown(() => parseDuration(text))).toBeInstanceOf(InvalidRequestError);
  });
});

describe('parseVendCommand', () => {
  it('request <entitlement> <duration> <reason…>, keeping the reason as typed', () => {
    expect(parseVendCommand('request prod-admin 1h  db   failover, see #ops')).toEqual({
      kind: 'request',
      entitlement: 'prod-admin',
      durationSeconds: 3600,
      reason: 'db   failover, see #ops',
    });
  });

  it('break-glass <entitlement> <duration> <ticket> <reason…>', () => {
    expect(parseVendCommand('break-glass prod-admin 30m INC-7 部署🔥 broke prod')).toEqual({
      kind: 'break-glass',
      entitlement: 'prod-admin',
      durationSeconds: 1800,
      ticket: 'INC-7',
      reason: '部署🔥 broke prod',
    });
  });

  it('status <id>', () => {
    expect(parseVendCommand('status 01JDEMO0000000000000000000')).toEqual({
      kind: 'status',
      requestId: '01JDEMO0000000000000000000',
    });
  });

  it('help, or nothing at all', () => {
    expect(parseVendCommand('')).toEqual({ kind: 'help' });
    expect(parseVendCommand(' help ')).toEqual({ kind: 'help' });
  });

  it('unescapes what Slack escaped in the text', () => {
    const cmd = parseVendCommand('request prod-admin 15m a &lt; b &amp;&amp; c &gt; d');

    expect(cmd).toMatchObject({ reason: 'a < b && c > d' });
  });

  it.each([
    ['a missing reason', 'request prod-admin 1h'],
    ['a bad duration', 'request prod-admin soon because'],
    ['a malformed entitlement', 'request Prod_Admin 1h because'],
    ['a break-glass without reason', 'break-glass prod-admin 1h INC-7'],
    ['status without id', 'status'],
    ['status with a malformed id', 'status ../../etc'],
    ['an unknown subcommand', 'approve 01J'],
  ])('refuses %s with the usage', (_, text) => {
    const err = thrown(() => parseVendCommand(text));

    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as Error).message).toContain('/vend request <entitlement> <duration> <reason…>');
  });
});

describe('parseSlashCommandBody', () => {
  it('reads the form fields vend needs', () => {
    const body = new URLSearchParams({
      token: 'deprecated-verification-token',
      team_id: 'T0VENDLOCAL',
      api_app_id: 'A0VEND',
      user_id: 'U0ALICE',
      user_name: 'alice',
      channel_id: 'C0OPS',
      command: '/vend',
      text: 'request prod-admin 1h db failover',
      response_url: 'https://hooks.slack.com/commands/T0/1/abc',
      trigger_id: '1.2.3',
    }).toString();

    expect(parseSlashCommandBody(body)).toEqual({
      command: '/vend',
      text: 'request prod-admin 1h db failover',
      teamId: 'T0VENDLOCAL',
      apiAppId: 'A0VEND',
      userId: 'U0ALICE',
      channelId: 'C0OPS',
      responseUrl: 'https://hooks.slack.com/commands/T0/1/abc',
      triggerId: '1.2.3',
    });
  });

  it('refuses a body without command, team or user', () => {
    expect(thrown(() => parseSlashCommandBody('command=%2Fvend&team_id=T0'))).toBeInstanceOf(
      InvalidRequestError,
    );
  });
});

function interaction(overrides: Record<string, unknown> = {}): string {
  const payload = {
    type: 'block_actions',
    api_app_id: 'A0VEND',
    team: { id: 'T0VENDLOCAL', domain: 'vend-local' },
    user: { id: 'U0BOB', username: 'bob', team_id: 'T0VENDLOCAL' },
    container: { type: 'message', message_ts: '1764410400.000100', channel_id: 'C0APPROVERS' },
    channel: { id: 'C0APPROVERS', name: 'approvers' },
    response_url: 'https://hooks.slack.com/actions/T0/1/xyz',
    actions: [{ action_id: 'vend_approve', block_id: 'vend_vote', value: '01JDEMO', type: 'button' }],
    ...overrides,
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

describe('parseInteraction', () => {
  it('an Approve click', () => {
    expect(parseInteraction(interaction())).toEqual({
      decision: 'approve',
      requestId: '01JDEMO',
      apiAppId: 'A0VEND',
      teamId: 'T0VENDLOCAL',
      userId: 'U0BOB',
      responseUrl: 'https://hooks.slack.com/actions/T0/1/xyz',
      channelId: 'C0APPROVERS',
      messageTs: '1764410400.000100',
    });
  });

  it('a Deny click', () => {
    const out = parseInteraction(interaction({ actions: [{ action_id: 'vend_deny', value: '01JDEMO' }] }));

    expect(out.decision).toBe('deny');
  });

  it('a Revoke click (the break-glass broadcast’s button)', () => {
    const out = parseInteraction(interaction({ actions: [{ action_id: 'vend_revoke', value: '01JDEMO' }] }));

    expect(out).toMatchObject({ decision: 'revoke', requestId: '01JDEMO' });
  });

  it('an org-wide install without team falls back to the user team', () => {
    expect(parseInteraction(interaction({ team: null })).teamId).toBe('T0VENDLOCAL');
  });

  it.each([
    ['no payload', 'foo=bar'],
    ['a payload that is not JSON', 'payload=%7Bnope'],
    ['another interaction type', interaction({ type: 'view_submission' })],
    ['an unknown action', interaction({ actions: [{ action_id: 'vend_admin', value: '01J' }] })],
    [
      'two actions',
      interaction({
        actions: [
          { action_id: 'vend_approve', value: 'A' },
          { action_id: 'vend_deny', value: 'A' },
        ],
      }),
    ],
    ['a malformed request id', interaction({ actions: [{ action_id: 'vend_approve', value: 'x y' }] })],
    ['no app id', interaction({ api_app_id: undefined })],
    ['no user', interaction({ user: undefined })],
  ])('refuses %s', (_, body) => {
    expect(thrown(() => parseInteraction(body))).toBeInstanceOf(InvalidRequestError);
  });
});

describe('allowListed', () => {
  const allow = { appIds: ['A0VEND'], teamIds: ['T0VENDLOCAL'] };

  it('the configured app in the configured workspace', () => {
    expect(allowListed({ apiAppId: 'A0VEND', teamId: 'T0VENDLOCAL' }, allow)).toBe(true);
  });

  it.each([
    ['an unknown app', { apiAppId: 'A0OTHER', teamId: 'T0VENDLOCAL' }],
    ['an unknown team', { apiAppId: 'A0VEND', teamId: 'T0OTHER' }],
    ['no app id', { teamId: 'T0VENDLOCAL' }],
    ['a differently cased app id', { apiAppId: 'a0vend', teamId: 'T0VENDLOCAL' }],
  ])('refuses %s', (_, from) => {
    expect(allowListed(from, allow)).toBe(false);
  });

  it('empty lists allow nothing', () => {
    expect(allowListed({ apiAppId: 'A0VEND', teamId: 'T0VENDLOCAL' }, { appIds: [], teamIds: [] })).toBe(
      false,
    );
  });
});
