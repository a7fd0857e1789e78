// biome-ignore-all lint/suspicious/noExplicitAny: the tests read arbitrary JSON answers
/** The local Slack sink's Web API answers and its record (the WebClient test is in integration). */
import { describe, expect, it } from 'vitest';
import { createSlackSink, parseSlackArgs } from '../../../../infra/local/slack/sink';
import type { RawRequest } from '../../../../infra/local/types';

const NOW = new Date('2026-11-29T10:00:00.000Z');
const SECONDS = NOW.getTime() / 1000;
const call = (method: string, args: Record<string, string>, token = 'xoxb-t'): RawRequest => ({
  method: 'POST',
  path: `/slack/api/${method}`,
  query: '',
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
  body: Buffer.from(new URLSearchParams(args).toString()),
  sourceIp: '127.0.0.1',
});
const json = (r: { body: string | Buffer }) => JSON.parse(r.body.toString()) as Record<string, any>;

describe('Slack sink', () => {
  it('gives strictly increasing ts strings even at the same instant', async () => {
    const sink = createSlackSink({ botToken: 'xoxb-t', now: () => NOW });

    const a = json(await sink.handler(call('chat.postMessage', { channel: 'C1', text: 'a' })));
    const b = json(await sink.handler(call('chat.postMessage', { channel: 'C1', text: 'b' })));

    expect(a.ts).toBe(`${SECONDS}.000000`);
    expect(b.ts).toBe(`${SECONDS}.000001`);
  });

  it.each([
    ['a wrong token', call('auth.test', {}, 'xoxb-wrong'), 'invalid_auth'],
    ['no channel', call('chat.postMessage', { text: 'x' }), 'channel_not_found'],
    ['no text or blocks', call('chat.postMessage', { channel: 'C1' }), 'no_text'],
    [
      'an unknown message',
      call('chat.update', { channel: 'C1', ts: '1.000001', text: 'x' }),
      'message_not_found',
    ],
    ['an unknown user', call('users.info', { user: 'U0NOBODY' }), 'user_not_found'],
    ['an unknown method', call('chat.delete', { channel: 'C1' }), 'unknown_method'],
  ])('answers %s with HTTP 200 ok:false', async (_label, request, error) => {
    const sink = createSlackSink({ botToken: 'xoxb-t', now: () => NOW });

    const r = await sink.handler(request);

    expect(r.status).toBe(200);
    expect(json(r)).toEqual({ ok: false, error });
    expect(sink.calls()).toEqual([expect.objectContaining({ ok: false, error })]);
  });

  it('answers chat.postEphemeral for a demo person with a message_ts', async () => {
    const sink = createSlackSink({ botToken: 'xoxb-t', now: () => NOW });

    const r = json(
      await sink.handler(call('chat.postEphemeral', { channel: 'C1', user: 'U0ALICE', text: 'only you' })),
    );

    expect(r).toEqual({ ok: true, message_ts: `${SECONDS}.000000` });
  });

  it('filters the record by channel and method and forgets on DELETE', async () => {
    const sink = createSlackSink({ botToken: 'xoxb-t', now: () => NOW });
    await sink.handler(call('chat.postMessage', { channel: 'C1', text: 'a' }));
    await sink.handler(call('chat.postMessage', { channel: 'C2', text: 'b' }));

    const listed = json(
      await sink.handler({ ...call('x', {}), method: 'GET', path: '/slack/messages', query: 'channel=C2' }),
    );
    const cleared = json(await sink.handler({ ...call('x', {}), method: 'DELETE', path: '/slack/messages' }));

    expect(listed.calls.map((c: { args: { text: string } }) => c.args.text)).toEqual(['b']);
    expect(cleared).toEqual({ ok: true, cleared: 2 });
    expect(sink.calls()).toEqual([]);
  });

  it('decodes JSON-encoded structured fields of a form body and drops the token', () => {
    const args = parseSlackArgs(
      call('chat.postMessage', { token: 'xoxb-t', channel: 'C1', blocks: '[{"type":"divider"}]' }),
    );

    expect(args.blocks).toEqual([{ type: 'divider' }]);
  });

  it('accepts a JSON body', async () => {
    const sink = createSlackSink({ botToken: 'xoxb-t', now: () => NOW });
    const request: RawRequest = {
      ...call('chat.postMessage', {}),
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer xoxb-t' },
      body: Buffer.from(JSON.stringify({ channel: 'C1', text: 'hi' })),
    };

    expect(json(await sink.handler(request))).toMatchObject({
      ok: true,
      channel: 'C1',
      message: { text: 'hi' },
    });
  });
});
