/**
 * Composition root of the request, approval and Slack functions (functions/requests.ts,
 * functions/slack.ts): their adapters and use cases, built once per process on first use. Kept apart
 * from ./vend.ts so the vend and listing bundles do not carry @slack/web-api and the request stores
 * (cold start, STYLE §12).
 */

import { clock } from '../clock';
import { config } from '../config';
import { DynamoSlackBindingStore } from '../dynamodb/binding-store';
import { DynamoReplayGuard } from '../dynamodb/replay-guard';
import { DynamoRequestStore } from '../dynamodb/request-store';
import { DynamoReviewStore } from '../dynamodb/review-store';
import { ulid } from '../ids';
import { log } from '../log';
import { countMetric } from '../metrics';
import { silentNotifier, WebApiSlackNotifier } from '../slack-api/notifier';
import { vendConsole } from '../usecases/console';
import type { RequestDeps } from '../usecases/requests';
import type { SlackDeps } from '../usecases/slack';
import { vendCredentials } from '../usecases/vend-credentials';
import { dynamoDocuments } from './clients';
import { sessionDeps } from './sessions';
import { consoleDeps, vendDeps } from './vend';

let requests: RequestDeps | undefined;
let slack: SlackDeps | undefined;

/** Everything the request use cases need: the requests table, Slack (or nothing when unset), vend. */
export function requestDeps(): RequestDeps {
  const cfg = config();
  if (requests) return requests;
  const vend = vendDeps();
  const store = new DynamoRequestStore(dynamoDocuments, cfg.tables.requests);
  requests = {
    entitlements: vend.entitlements,
    requests: store,
    reviews: new DynamoReviewStore(dynamoDocuments, cfg.tables.requests),
    audit: vend.audit,
    slack: cfg.slack.botToken
      ? new WebApiSlackNotifier(cfg.slack.botToken, {
          ...(cfg.slack.apiUrl ? { slackApiUrl: cfg.slack.apiUrl } : {}),
          log,
        })
      : silentNotifier(),
    directory: slackBindings(),
    channels: {
      ...(cfg.slack.approversChannel ? { approvers: cfg.slack.approversChannel } : {}),
      ...(cfg.slack.securityChannel ? { security: cfg.slack.securityChannel } : {}),
    },
    vend: vendCredentials(vend),
    console: vendConsole(consoleDeps()),
    limiter: vend.limiter,
    rateLimits: cfg.rateLimits,
    now: clock,
    newId: (time) => ulid(time),
    log,
    pendingTtlSeconds: cfg.requestTtlSeconds,
    metrics: { count: countMetric },
  };
  return requests;
}

let bindings: DynamoSlackBindingStore | undefined;

/** The Slack binding store over the requests table. */
export function slackBindings(): DynamoSlackBindingStore {
  bindings ??= new DynamoSlackBindingStore(dynamoDocuments, config().tables.requests);
  return bindings;
}

/** Everything the Slack routes need. */
export function slackDeps(): SlackDeps {
  const cfg = config();
  slack ??= {
    signingSecret: cfg.slack.signingSecret,
    allow: { appIds: cfg.slack.appIds, teamIds: cfg.slack.teamIds },
    replay: new DynamoReplayGuard(dynamoDocuments, cfg.tables.requests),
    bindings: slackBindings(),
    requests: requestDeps(),
    sessions: sessionDeps(),
    now: clock,
    log,
  };
  return slack;
}
