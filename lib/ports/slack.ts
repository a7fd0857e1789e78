/**
 * What the request and Slack use cases (lib/usecases/requests.ts, slack.ts) need of Slack: who a
 * Slack user is, where to tell a person things, how to post and update messages, and a memory of
 * the Slack requests already handled. Adapters: lib/dynamodb/binding-store.ts and replay-guard.ts,
 * lib/slack-api/notifier.ts (the Web API); the unit specs wire in-memory ones.
 *
 * The messages themselves are rendered by lib/slack/messages.ts (pure), so these ports carry its
 * `SlackMessage` type.
 */
import type { SlackBinding } from '../slack/bindings';
import type { SlackMessage } from '../slack/messages';

/** Where a Slack message lives, so it can be updated in place. */
export interface MessageRef {
  channel: string;
  ts: string;
}

/**
 * Where bindings live. The DynamoDB adapter keys them by team and user; a malformed stored binding
 * throws (fails closed) rather than being read as someone else.
 */
export interface SlackBindingStore {
  get(teamId: string, slackUserId: string): Promise<SlackBinding | undefined>;
}

/** Slack bindings, both ways: Slack user → person (for clicks), person → Slack user (for notices). */
export interface SlackDirectory extends SlackBindingStore {
  /** The Slack user to tell things to, for a person's {@link callerId}. */
  slackUserOf(personId: string): Promise<{ teamId: string; slackUserId: string } | undefined>;
}

/**
 * Delivers Slack messages. Both methods retry a bounded number of times and never throw: a message
 * that cannot be delivered is logged, and never undoes the decision it reports.
 */
export interface SlackNotifier {
  /** Posts a message; the reference of the posted message, or undefined when Slack could not be reached. */
  post(channel: string, message: SlackMessage): Promise<MessageRef | undefined>;
  /** Updates a message in place; false when it could not be updated. */
  update(ref: MessageRef, message: SlackMessage): Promise<boolean>;
}

/** Where vend posts in Slack; absent channels mean nothing is posted there. */
export interface SlackChannels {
  approvers?: string;
  security?: string;
}

/**
 * Remembers which Slack requests were already handled, so a replayed one changes nothing. The
 * DynamoDB adapter does a conditional put (`attribute_not_exists(pk)`) with a TTL attribute; expiry
 * is also checked on read because TTL deletion is late (and absent locally).
 */
export interface ReplayGuard {
  /**
   * Record `key`; answer whether it had been recorded already (and has not yet expired). Atomic: of
   * two concurrent calls with one key, exactly one answers false.
   */
  seen(key: string, ttlSeconds: number): Promise<boolean>;
}
