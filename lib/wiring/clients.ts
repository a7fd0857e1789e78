/**
 * The one place real AWS SDK clients are created, once per process at module scope, so a warm Lambda
 * reuses their connections. Only the composition root (lib/wiring/) imports this module; adapters
 * take clients as constructor arguments.
 *
 * Endpoints: the SDK reads `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_STS` /
 * `AWS_ENDPOINT_URL_DYNAMODB`) by itself (`getEndpointUrlConfig` in @smithy/core), which is how the
 * local stack points these same clients at its emulator; vend adds no endpoint code of its own.
 *
 * Timeouts: `requestHandler` given as options is turned into a NodeHttpHandler by the SDK
 * (`RequestHandler.create`), so @smithy/node-http-handler need not be imported directly.
 *
 * Credentials: from the environment only (`fromEnv`), which is where Lambda puts the execution
 * role's keys and where the local stack puts the broker's. Not the SDK's default chain: it would
 * also read ~/.aws files, SSO caches and credential processes, none of which a function has; and
 * the Lambda bundles do not even carry it (serverless.yml `custom.esbuild.alias`). Missing
 * variables fail the call (`CredentialsProviderError`) rather than falling back to anything else.
 *
 * Bundle size: each client is marked pure, so a function that never uses one (the listing and audit
 * functions never call STS) drops it, and its SDK package, from its bundle.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config';

const { region } = config();

/**
 * STS, with retries OFF in the SDK (`maxAttempts: 1`): StsCredentialIssuer (lib/sts/issuer.ts)
 * retries itself with full jitter inside a deadline, and two retry layers would multiply attempts.
 */
export const sts = /* @__PURE__ */ new STSClient({
  region,
  credentials: /* @__PURE__ */ fromEnv(),
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
});

/**
 * DynamoDB with the SDK's standard retries (3 attempts): its throttling is short-lived and every
 * vend write is a conditional single-item put, safe to retry.
 */
export const dynamodb = /* @__PURE__ */ new DynamoDBClient({
  region,
  credentials: /* @__PURE__ */ fromEnv(),
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 },
});

/** The document client the stores use: plain JS values in and out; undefined fields dropped. */
export const dynamoDocuments = /* @__PURE__ */ DynamoDBDocumentClient.from(dynamodb, {
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
});
