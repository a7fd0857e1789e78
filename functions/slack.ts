/**
 * `POST /v1/slack/commands` and `POST /v1/slack/interactions`: no authorizer; Slack's request
 * signature, then the workspace and app, are checked in lib/usecases/slack.ts on the raw bytes (a
 * refused workspace or app is thrown and answered by the chain as problem+json). Wiring only.
 *
 * The raw body is taken from the event BEFORE the HTTP chain runs: the chain decodes base64 bodies
 * to text, and the signature covers the bytes Slack sent, not a re-encoding of them.
 */
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { NotFoundError } from '../lib/domain/errors';
import { type HttpApiEvent, requestFacts, routeParams, withHttp } from '../lib/http';
import { type SlackHttpRequest, slackCommand, slackInteraction } from '../lib/usecases/slack';
import { slackDeps } from '../lib/wiring/requests';

const raw = new WeakMap<object, Pick<SlackHttpRequest, 'body' | 'isBase64Encoded'>>();

const chain = withHttp(
  async ({ event }) => {
    const original = raw.get(event) ?? { body: undefined, isBase64Encoded: false };
    const request: SlackHttpRequest = {
      ...original,
      headers: event.headers ?? {},
      context: requestFacts(event),
    };
    const deps = slackDeps();
    const answer =
      event.routeKey === 'POST /v1/slack/commands'
        ? await slackCommand(deps)(request)
        : event.routeKey === 'POST /v1/slack/interactions'
          ? await slackInteraction(deps)(request)
          : undefined;
    if (answer === undefined) throw new NotFoundError('no such route');
    return { statusCode: answer.status, ...(answer.body ? { body: answer.body } : {}) };
  },
  // Slack bodies are small; 64 KiB is far above any command or button payload. Slack sends no
  // query string and no path parameters: any is refused before the signature is even read.
  { params: { 'POST /v1/slack/commands': routeParams({}), 'POST /v1/slack/interactions': routeParams({}) } },
);

export const handler = Object.assign(
  (event: HttpApiEvent, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    raw.set(event, { body: event.body, isBase64Encoded: event.isBase64Encoded === true });
    return chain(event, context);
  },
  { params: chain.params },
);
