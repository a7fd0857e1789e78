/**
 * Slack bindings in DynamoDB (requests table): `keys.slackBinding(team, user)` maps a Slack user to
 * a person (issuer + subject, groups as the directory last reported them), and `keys.slackPerson`
 * maps the person back to where they are told things. Never keyed or matched by email.
 *
 * Who writes bindings: an operator or a directory sync (SCIM, or the local stack's seed from
 * infra/local/slack-bindings.yaml); the request path only reads them. A malformed stored binding
 * throws (fails closed) rather than being read as somebody.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { callerId } from '../domain/caller';
import type { SlackDirectory } from '../ports';
import { parseSlackBinding, personFromBinding, type SlackBinding } from '../slack/bindings';
import { keys } from './keys';
import { RequestStoreUnavailableError } from './request-store';

/**
 * {@link SlackDirectory} on the requests table.
 * @example
 * ```ts
 * const bindings = new DynamoSlackBindingStore(dynamoDocuments, config().tables.requests);
 * const bob = await bindings.get('T0VENDLOCAL', 'U0BOB'); // SlackBinding | undefined
 * ```
 */
export class DynamoSlackBindingStore implements SlackDirectory {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(teamId: string, slackUserId: string): Promise<SlackBinding | undefined> {
    const item = await this.read(keys.slackBinding(teamId, slackUserId));
    if (item === undefined) return undefined;
    const binding = parseSlackBinding(item.binding);
    // The key must agree with the body, or a copied item could answer for someone else.
    if (binding.teamId !== teamId || binding.slackUserId !== slackUserId) {
      throw new Error('Slack binding: the stored binding does not match its key');
    }
    return binding;
  }

  async slackUserOf(personId: string): Promise<{ teamId: string; slackUserId: string } | undefined> {
    const item = await this.read(keys.slackPerson(personId));
    if (item === undefined || typeof item.teamId !== 'string' || typeof item.slackUserId !== 'string') {
      return undefined;
    }
    return { teamId: item.teamId, slackUserId: item.slackUserId };
  }

  /** Creates or replaces a binding and its reverse (seeding and admin tooling, not the request path). */
  async put(raw: SlackBinding): Promise<void> {
    const binding = parseSlackBinding(raw);
    const personId = callerId(personFromBinding(binding));
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.slackBinding(binding.teamId, binding.slackUserId), binding },
        }),
      );
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.slackPerson(personId), teamId: binding.teamId, slackUserId: binding.slackUserId },
        }),
      );
    } catch (e) {
      throw new RequestStoreUnavailableError({ cause: e });
    }
  }

  private async read(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key }));
      return out.Item;
    } catch (e) {
      throw new RequestStoreUnavailableError({ cause: e });
    }
  }
}
