/**
 * Real adapters for the sessions function (`GET /v1/sessions`, the revoke routes) and the Slack
 * Revoke button. Kept apart from lib/wiring.ts so the vend bundles do not carry @aws-sdk/client-iam.
 */
import { dynamoDocuments } from './clients';
import { clock } from './clock';
import { config, sessionsConfig } from './config';
import { DynamoRevocationLedger } from './dynamodb/revocation-ledger';
import { ulid } from './ids';
import { log } from './log';
import { IamDenyListPublisher } from './revocation/iam-deny-list';
import type { SessionDeps } from './usecases/sessions';
import { entitlementStore, sessionStore, vendDeps } from './wiring';

let deps: SessionDeps | undefined;

/** Everything the session use cases need. */
export function sessionDeps(): SessionDeps {
  const vend = vendDeps();
  deps ??= {
    sessions: sessionStore(),
    entitlements: entitlementStore(),
    ledger: new DynamoRevocationLedger(dynamoDocuments, config().tables.requests),
    // The broker assumes each account's revoker through the same STS issuer as a vend (retries,
    // deadline, error mapping).
    publisher: new IamDenyListPublisher(vend.issuer, { now: clock }),
    audit: vend.audit,
    rights: { securityGroup: sessionsConfig().securityGroup },
    now: clock,
    newId: (time) => ulid(time),
    log,
  };
  return deps;
}
