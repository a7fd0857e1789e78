import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  memoryReplayGuard,
  REPLAY_TTL_SECONDS,
  replayKey,
  SlackOriginNotAllowedError,
  slackOrigin,
  verifySlackRequest,
} from '../../../lib/slack/verify';

// A test-only secret, built at run time so no literal looks like a credential.
const SECRET = ['test', 'signing', 'secret', 'for', 'vend'].join('-');
const NOW = new Date('2026-11-29T10:00:00.000Z');
const TS = String(NOW.getTime() / 1000);

function sign(body: Buffer | string, timestamp = TS, secret = SECRET): string {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(bytes).digest('hex')}`;
}

function headers(signature: string | undefined, timestamp: string | null = TS) {
  const h: Record<string, string> = {};
  if (signature !== undefined) h['x-slack-signature'] = signature;
  if (timestamp !== null) h['x-slack-request-timestamp'] = timestamp;
  return h;
}

const FORM = 'token=x&team_id=T0VENDLOCAL&user_id=U0ALICE&command=%2Fvend&text=status+01J';

describe('verifySlackRequest accepts', () => {
  it('a correctly signed body, returning its text', () => {
    const result = verifySlackRequest({
      rawBody: FORM,
      headers: headers(sign(FORM)),
      signingSecret: SECRET,
      now: NOW,
    });

    expect(result).toEqual({
      ok: true,
      bodyText: FORM,
      timestamp: Number(TS),
      replayKey: replayKey(TS, sign(FORM)),
    });
  });

  it('the same from a Buffer', () => {
    const result = verifySlackRequest({
      rawBody: Buffer.from(FORM),
      headers: headers(sign(FORM)),
      signingSecret: SECRET,
      now: NOW,
    });

    expect(result.ok).toBe(true);
  });

  it('a base64 body with non-ASCII text signed over its UTF-8 bytes, decoded as UTF-8', () => {
    const text = `payload=${encodeURIComponent(JSON.stringify({ reason: '部署🔥' }))}&raw=部署🔥`;
    const bytes = Buffer.from(text, 'utf8');

    const result = verifySlackRequest({
      rawBody: bytes.toString('base64'),
      isBase64Encoded: true,
      headers: headers(sign(bytes)),
      signingSecret: SECRET,
      now: NOW,
    });

    expect(result.ok).toBe(true);
    expect(result.ok && result.bodyText).toBe(text);
    expect(result.ok && new URLSearchParams(result.bodyText).get('raw')).toBe('部署🔥');
  });

  it('timestamps exactly 300 s old or ahead', () => {
    const old = String(Number(TS) - 300);
    const ahead = String(Number(TS) + 300);

    expect(
      verifySlackRequest({
        rawBody: FORM,
        headers: headers(sign(FORM, old), old),
        signingSecret: SECRET,
        now: NOW,
      }).ok,
    ).toBe(true);
    expect(
      verifySlackRequest({
        rawBody: FORM,
        headers: headers(sign(FORM, ahead), ahead),
        signingSecret: SECRET,
        now: NOW,
      }).ok,
    ).toBe(true);
  });

  it('header names in any case', () => {
    const result = verifySlackRequest({
      rawBody: FORM,
      headers: { 'X-Slack-Signature': sign(FORM), 'X-Slack-Request-Timestamp': TS },
      signingSecret: SECRET,
      now: NOW,
    });

    expect(result.ok).toBe(true);
  });
});

describe('verifySlackRequest refuses', () => {
  const refusal = (input: Partial<Parameters<typeof verifySlackRequest>[0]>) => {
    const result = verifySlackRequest({
      rawBody: FORM,
      headers: headers(sign(FORM)),
      signingSecret: SECRET,
      now: NOW,
      ...input,
    });
    expect(result.ok).toBe(false);
    return result.ok ? undefined : result.reason;
  };

  it('a missing signature', () => {
    expect(refusal({ headers: headers(undefined) })).toBe('missing_signature');
    expect(refusal({ headers: headers('') })).toBe('missing_signature');
  });

  it('a missing or malformed timestamp', () => {
    expect(refusal({ headers: headers(sign(FORM), null) })).toBe('bad_timestamp');
    expect(refusal({ headers: headers(sign(FORM, '1764410400.5'), '1764410400.5') })).toBe('bad_timestamp');
    expect(refusal({ headers: headers(sign(FORM, '-1'), '-1') })).toBe('bad_timestamp');
  });

  it('a stale timestamp (301 s old), correctly signed', () => {
    const old = String(Number(TS) - 301);

    expect(refusal({ headers: headers(sign(FORM, old), old) })).toBe('stale');
  });

  it('a future timestamp (301 s ahead), correctly signed', () => {
    const ahead = String(Number(TS) + 301);

    expect(refusal({ headers: headers(sign(FORM, ahead), ahead) })).toBe('future');
  });

  it('one changed byte in the body', () => {
    const changed = Buffer.from(FORM);
    changed[changed.length - 1] = (changed[changed.length - 1] ?? 0) ^ 0x01;

    expect(refusal({ rawBody: changed })).toBe('bad_signature');
  });

  it('one changed hex digit in the signature', () => {
    const sig = sign(FORM);
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;

    expect(refusal({ headers: headers(flipped) })).toBe('bad_signature');
  });

  it('a signature under another secret', () => {
    expect(refusal({ headers: headers(sign(FORM, TS, `${SECRET}x`)) })).toBe('bad_signature');
  });

  it('a timestamp changed after signing', () => {
    const other = String(Number(TS) - 1);

    expect(refusal({ headers: headers(sign(FORM), other) })).toBe('bad_signature');
  });

  it('a v1= (or any non-v0) signature, even with a valid MAC', () => {
    const mac = sign(FORM).slice(3);

    expect(refusal({ headers: headers(`v1=${mac}`) })).toBe('bad_version');
    expect(refusal({ headers: headers(mac) })).toBe('bad_version');
  });

  it('a truncated or non-hex signature', () => {
    expect(refusal({ headers: headers(sign(FORM).slice(0, -2)) })).toBe('bad_signature');
    expect(refusal({ headers: headers(`v0=${'z'.repeat(64)}`) })).toBe('bad_signature');
  });

  it('a base64 body signed over its base64 text instead of its bytes', () => {
    const bytes = Buffer.from('text=部署🔥', 'utf8');
    const b64 = bytes.toString('base64');

    expect(refusal({ rawBody: b64, isBase64Encoded: true, headers: headers(sign(b64)) })).toBe(
      'bad_signature',
    );
  });

  it('a body flagged base64 that is not base64', () => {
    expect(
      refusal({ rawBody: 'not base64!', isBase64Encoded: true, headers: headers(sign('not base64!')) }),
    ).toBe('bad_signature');
  });

  it('correctly signed bytes that are not UTF-8', () => {
    const bytes = Buffer.from([0x61, 0xff, 0xfe]);

    expect(refusal({ rawBody: bytes, headers: headers(sign(bytes)) })).toBe('bad_body');
  });

  it('to run without a signing secret', () => {
    expect(() =>
      verifySlackRequest({ rawBody: FORM, headers: headers(sign(FORM)), signingSecret: '', now: NOW }),
    ).toThrow(/not configured/);
  });

  it('without ever echoing the secret or the expected signature', () => {
    const results = [
      refusal({ headers: headers(sign(FORM, TS, 'other')) }),
      refusal({ headers: headers(`v1=${sign(FORM).slice(3)}`) }),
    ];

    const text = JSON.stringify(results);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(sign(FORM).slice(3));
  });
});

describe('replay guard', () => {
  it('a replayed request (same timestamp and signature) is seen; a fresh one is not', async () => {
    const guard = memoryReplayGuard(() => NOW);
    const first = verifySlackRequest({
      rawBody: FORM,
      headers: headers(sign(FORM)),
      signingSecret: SECRET,
      now: NOW,
    });
    const replay = verifySlackRequest({
      rawBody: FORM,
      headers: headers(sign(FORM)),
      signingSecret: SECRET,
      now: NOW,
    });
    const later = String(Number(TS) + 1);
    const fresh = verifySlackRequest({
      rawBody: FORM,
      headers: headers(sign(FORM, later), later),
      signingSecret: SECRET,
      now: NOW,
    });
    if (!first.ok || !replay.ok || !fresh.ok) throw new Error('expected all three to verify');

    expect(await guard.seen(first.replayKey, REPLAY_TTL_SECONDS)).toBe(false);
    expect(await guard.seen(replay.replayKey, REPLAY_TTL_SECONDS)).toBe(true);
    expect(await guard.seen(fresh.replayKey, REPLAY_TTL_SECONDS)).toBe(false);
  });

  it('the key ignores the case of the hex digits, and does not contain the signature', () => {
    const sig = sign(FORM);

    expect(replayKey(TS, sig)).toBe(replayKey(TS, `v0=${sig.slice(3).toUpperCase()}`));
    expect(replayKey(TS, sig)).not.toContain(sig.slice(3));
  });

  it('remembers a key at least as long as its timestamp can be accepted', async () => {
    let now = NOW;
    const guard = memoryReplayGuard(() => now);
    await guard.seen('k', REPLAY_TTL_SECONDS);

    now = new Date(NOW.getTime() + 600_000);
    const within = await guard.seen('k', REPLAY_TTL_SECONDS);
    now = new Date(NOW.getTime() + (REPLAY_TTL_SECONDS + 1) * 1000);
    const after = await guard.seen('k', REPLAY_TTL_SECONDS);

    expect(REPLAY_TTL_SECONDS).toBeGreaterThanOrEqual(600);
    expect(within).toBe(true);
    expect(after).toBe(false);
  });
});

describe('slackOrigin reads the workspace and app and nothing else', () => {
  const interaction = (payload: unknown) =>
    `payload=${encodeURIComponent(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;

  it('of a command: team_id and api_app_id, whatever else the form holds', () => {
    expect(slackOrigin('command', `${FORM}&api_app_id=A0VEND`)).toEqual({
      teamId: 'T0VENDLOCAL',
      apiAppId: 'A0VEND',
    });
    expect(slackOrigin('command', 'team_id=T0X&api_app_id=A0X')).toEqual({ teamId: 'T0X', apiAppId: 'A0X' });
  });

  it('of an interaction: api_app_id and team.id, even of a payload vend would not accept', () => {
    const payload = { type: 'view_submission', api_app_id: 'A0OTHER', team: { id: 'T0OTHER' }, actions: 7 };
    expect(slackOrigin('interaction', interaction(payload))).toEqual({
      teamId: 'T0OTHER',
      apiAppId: 'A0OTHER',
    });
  });

  it('of an org-wide install (team: null): the user’s team_id', () => {
    const payload = { api_app_id: 'A0VEND', team: null, user: { id: 'U0', team_id: 'T0GRID' } };
    expect(slackOrigin('interaction', interaction(payload))).toEqual({
      teamId: 'T0GRID',
      apiAppId: 'A0VEND',
    });
  });

  it.each([
    ['no payload field', 'team_id=T0VENDLOCAL&api_app_id=A0VEND'],
    ['a payload that is not JSON', interaction('{not json')],
    ['a payload that is an array', interaction([{ api_app_id: 'A0VEND' }])],
    ['a payload without team or app', interaction({ type: 'block_actions', user: { id: 'U0' } })],
    ['ids that are not strings', interaction({ api_app_id: 7, team: { id: ['T0VENDLOCAL'] } })],
  ])('leaves out what it cannot read: %s', (_name, body) => {
    expect(slackOrigin('interaction', body)).toEqual({});
  });

  it('a command without team_id or api_app_id has that part absent', () => {
    expect(slackOrigin('command', 'command=%2Fvend&user_id=U0ALICE&team_id=')).toEqual({});
  });

  it('its refusal is 403 not_entitled and repeats no id', () => {
    const e = new SlackOriginNotAllowedError();
    expect([e.status, e.code]).toEqual([403, 'not_entitled']);
    expect(e.detail).toBe('this Slack workspace or app is not allowed to use vend');
  });
});
