/**
 * Composition root of the vend functions (functions/credentials.ts, functions/entitlements.ts): the
 * configuration (lib/config.ts) read once, the real adapters built once per process on first use
 * (so a function that needs only the entitlement store never builds the STS issuer), and the use
 * cases' dependencies. Functions import from here; use cases never do: they take their ports as
 * arguments. One file per function family: ./requests.ts, ./audit.ts, ./audit-cli.ts.
 * The use cases' clock is lib/clock.ts: the system clock in Lambda, the local stack's own clock when
 * the stack hosts the handlers.
 */
import { DynamoAuditStore } from '../audit/dynamo-audit-store';
import { clock } from '../clock';
import { config, sessionsConfig } from '../config';
import { DynamoEntitlementStore } from '../dynamodb/entitlement-store';
import { DynamoRateLimitStore } from '../dynamodb/rate-limit-store';
import { DynamoSessionStore } from '../dynamodb/session-store';
import { FederationSigninClient } from '../federation/signin';
import { ulid } from '../ids';
import { log } from '../log';
import { countMetric } from '../metrics';
import { StsCredentialIssuer } from '../sts/issuer';
import type { ConsoleDeps } from '../usecases/console';
import type { VendDeps } from '../usecases/vend-credentials';
import { dynamoDocuments, sts } from './clients';

let entitlements: DynamoEntitlementStore | undefined;
let deps: VendDeps | undefined;
let consoleDepsMade: ConsoleDeps | undefined;
let sessions: DynamoSessionStore | undefined;

/** The entitlement store over the configured table. */
export function entitlementStore(): DynamoEntitlementStore {
  const cfg = config();
  entitlements ??= new DynamoEntitlementStore(dynamoDocuments, cfg.tables.entitlements, {
    cacheTtlMs: cfg.entitlementCacheTtlMs,
  });
  return entitlements;
}

/** Everything the vend use case needs, over real AWS clients. */
export function vendDeps(): VendDeps {
  const cfg = config();
  deps ??= {
    entitlements: entitlementStore(),
    audit: new DynamoAuditStore(dynamoDocuments, cfg.tables.audit),
    issuer: new StsCredentialIssuer(sts, {
      deadlineMs: cfg.sts.deadlineMs,
      baseDelayMs: cfg.sts.baseDelayMs,
    }),
    limiter: new DynamoRateLimitStore(dynamoDocuments, cfg.tables.limits),
    sessions: sessionStore(),
    rateLimits: cfg.rateLimits,
    now: clock,
    newId: (time) => ulid(time),
    log,
    metrics: { count: countMetric },
  };
  return deps;
}

/** The live-session store over the requests table. */
export function sessionStore(): DynamoSessionStore {
  sessions ??= new DynamoSessionStore(dynamoDocuments, config().tables.requests);
  return sessions;
}

/** The vend use case's ports plus the federation endpoint: console sign-in. */
export function consoleDeps(): ConsoleDeps {
  const cfg = sessionsConfig();
  consoleDepsMade ??= {
    ...vendDeps(),
    signin: new FederationSigninClient({ federationUrl: cfg.federationUrl }),
    ...(cfg.consoleIssuer ? { consoleIssuer: cfg.consoleIssuer } : {}),
  };
  return consoleDepsMade;
}
