/**
 * The Slack adapter: posts and updates messages through @slack/web-api's WebClient, against the
 * configured base URL (Slack in production, the local sink at `<aws endpoint>/slack/api/` locally).
 *
 * Delivery is best effort by design: a decision is made and stored before anything is posted, and a
 * message that cannot be delivered never undoes it. Each call is retried a bounded number of times
 * (`attempts`, default 3, short backoff) inside a total deadline (default 2 s) so a Slack route still
 * answers inside Slack's 3-second window; a final failure is logged (method and Slack's error code,
 * never the token or the message) and reported as `undefined` / `false`.
 *
 * This is the one module of vend that talks to Slack, so it lives apart from lib/slack/, whose
 * formats (payload parsing, message rendering, signature checks) are pure and used by use cases.
 *
 * Debt: a production-grade design would hand failed updates to a queue and retry them later; here
 * the next vote's update (which always renders the full current state) repairs a missed one.
 */
import type { Logger, LogLevel, WebClient } from '@slack/web-api';
import { log as defaultLog, type VendLog } from '../log';
import type { MessageRef, SlackNotifier } from '../ports';
import type { SlackMessage } from '../slack/messages';

/** Options of {@link WebApiSlackNotifier}. */
export interface SlackNotifierOptions {
  /** The Web API base URL, ending in `/` (`https://slack.com/api/`). */
  slackApiUrl?: string;
  /** Tries per message, at least 1 (default 3). */
  attempts?: number;
  /** Total budget per message in milliseconds, retries included (default 2000). */
  deadlineMs?: number;
  /** Base of the backoff between tries (default 100 ms, doubled each try). */
  baseDelayMs?: number;
  log?: VendLog;
}

// WebClient logs request details at debug level; nothing of it should reach vend's logs.
const SILENT: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  // LogLevel.ERROR, spelled out: the enum's module is loaded only when a message is sent.
  getLevel: () => 'error' as LogLevel,
  setName: () => undefined,
};

/**
 * {@link SlackNotifier} over the Slack Web API.
 *
 * @example
 * ```ts
 * const slack = new WebApiSlackNotifier(botToken, { slackApiUrl: 'http://127.0.0.1:4566/slack/api/' });
 * const ref = await slack.post('C0VENDAPPROVERS', approvalMessage(req, ent, now)); // { channel, ts } | undefined
 * if (ref) await slack.update(ref, approvalMessage(next, ent, now));
 * ```
 */
export class WebApiSlackNotifier implements SlackNotifier {
  // @slack/web-api (with axios) is loaded on the first message, not at cold start: most
  // invocations of the request functions send nothing to Slack.
  private client: Promise<WebClient> | undefined;
  private readonly botToken: string;
  private readonly slackApiUrl: string | undefined;
  private readonly attempts: number;
  private readonly deadlineMs: number;
  private readonly baseDelayMs: number;
  private readonly log: VendLog;

  constructor(botToken: string, options: SlackNotifierOptions = {}) {
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.deadlineMs = options.deadlineMs ?? 2000;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.log = options.log ?? defaultLog;
    this.botToken = botToken;
    this.slackApiUrl = options.slackApiUrl;
  }

  private web(): Promise<WebClient> {
    this.client ??= import('@slack/web-api').then((module) => {
      // @slack/web-api is CommonJS. Node (and tsx) give its exports as named exports; the Lambda
      // bundle's separate chunk (serverless.yml `splitting`) only as `default` (module.exports).
      const { WebClient } = module.WebClient
        ? module
        : (module as unknown as { default: typeof module }).default;
      return new WebClient(this.botToken, {
        ...(this.slackApiUrl ? { slackApiUrl: this.slackApiUrl } : {}),
        // Retries are ours (bounded by the deadline); the client's own would wait minutes.
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: Math.min(1000, this.deadlineMs),
        logger: SILENT,
      });
    });
    return this.client;
  }

  async post(channel: string, message: SlackMessage): Promise<MessageRef | undefined> {
    const client = await this.web();
    const out = await this.attempt('chat.postMessage', () =>
      client.chat.postMessage({ channel, text: message.text, blocks: message.blocks as never }),
    );
    if (out === undefined || typeof out.ts !== 'string') return undefined;
    return { channel: typeof out.channel === 'string' ? out.channel : channel, ts: out.ts };
  }

  async update(ref: MessageRef, message: SlackMessage): Promise<boolean> {
    const client = await this.web();
    const out = await this.attempt('chat.update', () =>
      client.chat.update({
        channel: ref.channel,
        ts: ref.ts,
        text: message.text,
        blocks: message.blocks as never,
      }),
    );
    return out !== undefined;
  }

  private async attempt<T>(method: string, call: () => Promise<T>): Promise<T | undefined> {
    const started = Date.now();
    let lastError = 'unknown';
    for (let i = 0; i < this.attempts; i++) {
      try {
        return await call();
      } catch (e) {
        lastError = slackErrorCode(e);
        // Errors Slack will answer the same way every time are not retried.
        if (PERMANENT.has(lastError)) break;
        const delay = this.baseDelayMs * 2 ** i;
        if (i + 1 >= this.attempts || Date.now() - started + delay >= this.deadlineMs) break;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    this.log.error('Slack message not delivered; the decision stands', {
      route: method,
      errorName: lastError,
    });
    return undefined;
  }
}

const PERMANENT = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'channel_not_found',
  'message_not_found',
  'is_archived',
  'not_in_channel',
  'invalid_blocks',
  'no_text',
]);

function slackErrorCode(e: unknown): string {
  const data = (e as { data?: { error?: unknown } } | null)?.data;
  if (data && typeof data.error === 'string') return data.error.slice(0, 64);
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code.slice(0, 64) : e instanceof Error ? e.name : typeof e;
}

/**
 * A notifier that posts nothing, for deployments without a Slack bot token.
 * @example `const slack = silentNotifier(); await slack.post('C1', msg) // undefined`
 */
export function silentNotifier(): SlackNotifier {
  return {
    post: async () => undefined,
    update: async () => false,
  };
}
