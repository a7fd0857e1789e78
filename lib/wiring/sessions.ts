/**
 * Composition root of the sessions function (functions/sessions.ts: `GET /v1/sessions`, the revoke
 * routes) and of the Slack Revoke button (./requests.ts): their adapters, built once per process on
 * first use. Kept apart from ./vend.ts so the vend bundles do not carry @aws-sdk/client-iam.
 */
import { clock } from '../clock';
import { config, sessionsConfig } from '../config';
import { DynamoRevocationLedger } from '../dynamodb/revocation-ledger';
import { ulid } from '../ids';
import { log } from '../log';
import { IamDenyListPublisher } from '../revocation/iam-deny-list';
import type { SessionDeps } from '../usecases/sessions';
import { dynamoDocuments } from './clients';
import { entitlementStore, sessionStore, vendDeps } from './vend';

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
