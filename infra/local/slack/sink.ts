/**
 * The local Slack Web API sink, mounted at `/slack` on the local AWS endpoint (CONTRACT §2).
 *
 * It answers the few Web API methods vend calls the way Slack does (HTTP 200, `{ok:true,…}` or
 * `{ok:false,error}`), accepts what @slack/web-api sends (form-encoded with JSON-encoded structured
 * fields, or JSON), checks the bot token, and records every call so tests and people can see what
 * vend would have posted: `GET /slack/messages[?channel=C…&method=chat.postMessage]` lists the
 * calls, `DELETE /slack/messages` forgets them. Tokens are never recorded.
 */
import type { Person } from '../oidc/people';
import { demoPeople } from '../oidc/people';
import type { RawRequest, RawResponse } from '../types';

/** The bot token the local stack configures, for the local sink only. */
export const LOCAL_BOT_TOKEN = 'xoxb-local-vend-bot';
export const LOCAL_TEAM_ID = 'T0VENDLOCAL';
export const LOCAL_BOT_USER_ID = 'U0VENDBOT';

/** One recorded Web API call. */
export interface SlackCall {
  /** 1, 2, 3… in arrival order. */
  seq: number;
  /** `chat.postMessage`, `users.info`, … */
  method: string;
  /** ISO time the call arrived. */
  at: string;
  /** The arguments, structured fields (`blocks`, `attachments`, `metadata`) JSON-decoded; `token` removed. */
  args: Record<string, unknown>;
  /** What the sink answered. */
  ok: boolean;
  error?: string;
  channel?: string;
  /** The message ts for chat.postMessage / chat.update; `message_ts` for chat.postEphemeral. */
  ts?: string;
}

/** A message as stored by the sink (chat.update edits it). */
export interface SlackMessage {
  type: 'message';
  ts: string;
  channel: string;
  user: string;
  bot_id: string;
  text?: string;
  blocks?: unknown;
  attachments?: unknown;
  thread_ts?: string;
  edited?: { user: string; ts: string };
}

export interface SlackSinkOptions {
  /** Where the sink is mounted; default `/slack`. */
  basePath?: string;
  /** The one accepted bot token; default {@link LOCAL_BOT_TOKEN}. */
  botToken?: string;
  people?: Person[];
  now?: () => Date;
}

export interface SlackSink {
  handler(req: RawRequest): Promise<RawResponse>;
  calls(filter?: { channel?: string; method?: string }): SlackCall[];
  clear(): void;
}

const STRUCTURED = new Set(['blocks', 'attachments', 'metadata', 'unfurl_links', 'unfurl_media']);

function reply(status: number, body: unknown): RawResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

/** Parses a Web API request body the way Slack accepts it: form-encoded or JSON. */
export function parseSlackArgs(req: RawRequest): Record<string, unknown> {
  const text = req.body.toString('utf8');
  const type = req.headers['content-type'] ?? '';
  const args: Record<string, unknown> = {};
  if (/^application\/json/i.test(type)) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === 'object') Object.assign(args, parsed);
    } catch {
      // Slack answers invalid JSON with invalid_json; callers see that through the missing fields.
      args.__invalid_json = true;
    }
  } else {
    for (const [k, v] of new URLSearchParams(text)) {
      args[k] = v;
    }
  }
  for (const [k, v] of new URLSearchParams(req.query)) {
    if (!(k in args)) args[k] = v;
  }
  // @slack/web-api JSON-encodes structured arguments inside the form body.
  for (const key of STRUCTURED) {
    const v = args[key];
    if (typeof v === 'string' && /^[[{]/.test(v.trim())) {
      try {
        args[key] = JSON.parse(v);
      } catch {
        // keep the string: Slack would answer invalid_blocks; the sink records what it got
      }
    }
  }
  return args;
}

/**
 * Makes a sink.
 *
 * @example
 * const slack = createSlackSink({ botToken: 'xoxb-local-vend-bot' });
 * endpointMounts['/slack'] = slack.handler;
 */
export function createSlackSink(opts: SlackSinkOptions = {}): SlackSink {
  const basePath = (opts.basePath ?? '/slack').replace(/\/+$/, '');
  const botToken = opts.botToken ?? LOCAL_BOT_TOKEN;
  const people = opts.people ?? demoPeople();
  const now = opts.now ?? (() => new Date());
  let recorded: SlackCall[] = [];
  let seq = 0;
  let lastMicros = 0;
  const messages = new Map<string, SlackMessage>(); // key: `${channel}/${ts}`

  /** Slack ts: seconds.microseconds, strictly increasing even within one microsecond. */
  const nextTs = (): string => {
    const micros = Math.max(now().getTime() * 1000, lastMicros + 1);
    lastMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  };

  const record = (
    method: string,
    args: Record<string, unknown>,
    result: Record<string, unknown>,
  ): RawResponse => {
    const { token: _token, __invalid_json: _bad, ...safeArgs } = args;
    const call: SlackCall = {
      seq: ++seq,
      method,
      at: now().toISOString(),
      args: safeArgs,
      ok: result.ok === true,
      ...(typeof result.error === 'string' ? { error: result.error } : {}),
      ...(typeof args.channel === 'string' ? { channel: args.channel } : {}),
      ...(typeof result.ts === 'string' ? { ts: result.ts } : {}),
      ...(typeof result.message_ts === 'string' ? { ts: result.message_ts } : {}),
    };
    recorded.push(call);
    return reply(200, result);
  };

  const hasContent = (a: Record<string, unknown>): boolean =>
    (typeof a.text === 'string' && a.text !== '') || a.blocks !== undefined || a.attachments !== undefined;

  const methods: Record<string, (a: Record<string, unknown>) => Record<string, unknown>> = {
    'auth.test': () => ({
      ok: true,
      url: 'https://vend-local.slack.com/',
      team: 'vend-local',
      user: 'vend',
      team_id: LOCAL_TEAM_ID,
      user_id: LOCAL_BOT_USER_ID,
      bot_id: 'B0VENDBOT',
      is_enterprise_install: false,
    }),
    'chat.postMessage': (a) => {
      if (typeof a.channel !== 'string' || !a.channel) return { ok: false, error: 'channel_not_found' };
      if (!hasContent(a)) return { ok: false, error: 'no_text' };
      const ts = nextTs();
      const message: SlackMessage = {
        type: 'message',
        ts,
        channel: a.channel,
        user: LOCAL_BOT_USER_ID,
        bot_id: 'B0VENDBOT',
        ...(typeof a.text === 'string' ? { text: a.text } : {}),
        ...(a.blocks !== undefined ? { blocks: a.blocks } : {}),
        ...(a.attachments !== undefined ? { attachments: a.attachments } : {}),
        ...(typeof a.thread_ts === 'string' ? { thread_ts: a.thread_ts } : {}),
      };
      messages.set(`${a.channel}/${ts}`, message);
      const { channel: _c, ...shown } = message;
      return { ok: true, channel: a.channel, ts, message: shown };
    },
    'chat.update': (a) => {
      if (typeof a.channel !== 'string' || !a.channel) return { ok: false, error: 'channel_not_found' };
      const existing = messages.get(`${a.channel}/${String(a.ts)}`);
      if (!existing) return { ok: false, error: 'message_not_found' };
      if (!hasContent(a)) return { ok: false, error: 'no_text' };
      const updated: SlackMessage = {
        ...existing,
        ...(typeof a.text === 'string' ? { text: a.text } : {}),
        ...(a.blocks !== undefined ? { blocks: a.blocks } : {}),
        ...(a.attachments !== undefined ? { attachments: a.attachments } : {}),
        edited: { user: LOCAL_BOT_USER_ID, ts: nextTs() },
      };
      messages.set(`${a.channel}/${existing.ts}`, updated);
      const { channel: _c, ...shown } = updated;
      return { ok: true, channel: a.channel, ts: existing.ts, text: updated.text ?? '', message: shown };
    },
    'chat.postEphemeral': (a) => {
      if (typeof a.channel !== 'string' || !a.channel) return { ok: false, error: 'channel_not_found' };
      if (typeof a.user !== 'string' || !people.some((p) => p.slackUserId === a.user)) {
        return { ok: false, error: 'user_not_in_channel' };
      }
      if (!hasContent(a)) return { ok: false, error: 'no_text' };
      return { ok: true, message_ts: nextTs() };
    },
    'users.info': (a) => {
      const p = people.find((x) => x.slackUserId === a.user);
      if (!p) return { ok: false, error: 'user_not_found' };
      return {
        ok: true,
        user: {
          id: p.slackUserId,
          team_id: LOCAL_TEAM_ID,
          name: p.username,
          real_name: p.name,
          deleted: false,
          is_bot: false,
          is_admin: false,
          tz: 'Etc/UTC',
          profile: { email: p.email, real_name: p.name, display_name: p.username },
        },
      };
    },
  };

  const handler = async (req: RawRequest): Promise<RawResponse> => {
    const path = req.path.startsWith(basePath) ? req.path.slice(basePath.length) : req.path;
    if (path === '/messages' || path === '/messages/') {
      if (req.method === 'GET') {
        const q = new URLSearchParams(req.query);
        return reply(200, {
          calls: calls({ channel: q.get('channel') ?? undefined, method: q.get('method') ?? undefined }),
        });
      }
      if (req.method === 'DELETE') {
        const cleared = recorded.length;
        clear();
        return reply(200, { ok: true, cleared });
      }
      return reply(405, { ok: false, error: 'method_not_allowed' });
    }
    const m = /^\/api\/([\w.]+)$/.exec(path);
    if (!m) return reply(404, { ok: false, error: 'not_found' });
    const method = m[1]!;
    const args = parseSlackArgs(req);
    if (args.__invalid_json) return record(method, args, { ok: false, error: 'invalid_json' });
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    if (!token) return record(method, args, { ok: false, error: 'not_authed' });
    if (token !== botToken) return record(method, args, { ok: false, error: 'invalid_auth' });
    const impl = methods[method];
    if (!impl) return record(method, args, { ok: false, error: 'unknown_method' });
    return record(method, args, impl(args));
  };

  function calls(filter: { channel?: string; method?: string } = {}): SlackCall[] {
    return recorded.filter(
      (c) =>
        (!filter.channel || c.channel === filter.channel) && (!filter.method || c.method === filter.method),
    );
  }

  function clear(): void {
    recorded = [];
    messages.clear();
  }

  return { handler, calls, clear };
}
