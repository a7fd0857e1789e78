/**
 * The local stack (CONTRACT §2): the local AWS endpoint (STS + DynamoDB + IAM store) with the OIDC
 * issuer, the Slack sink and the federation endpoint (console sign-in) mounted on it, the tables of serverless.yml, the AWS profile files, and
 * the local API Gateway running the real handlers. `npm start` (./start.ts) and the integration
 * tests (test/support/stack.ts) both start it through {@link startStack}.
 *
 * Primary course:
 * 1. open the IAM store (world + persisted sessions) and start the AWS endpoint with the mounts;
 * 2. make the issuer (key under `<dataDir>/oidc`) and the Slack sink behind those mounts;
 * 3. mint base sessions for the profiles, write `<dataDir>/aws/{config,credentials}`;
 * 4. create serverless.yml's DynamoDB tables on the endpoint (kept across runs);
 * 5. start the gateway with the handler environment; write `<dataDir>/stack.json` (the URLs and the
 *    issuer; kept after stop so `vend dev token` can mint offline for the last issuer); hand the
 *    handlers the stack's clock (lib/clock.ts);
 * 6. the audit trail: the digest signing key in the local KMS (the alias serverless.yml gives the
 *    sealer, in the broker's account), the trail's start (`<dataDir>/audit/trail-start`, written on
 *    the first start), and the client environment every documented command needs (`env`).
 */

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parse as parseYaml } from 'yaml';
import { KmsAuditSigner } from '../../lib/audit/kms-signer';
import { useClock } from '../../lib/clock';
import { loadAuditConfig } from '../../lib/config';
import { DynamoSlackBindingStore } from '../../lib/dynamodb/binding-store';
import { DynamoEntitlementStore } from '../../lib/dynamodb/entitlement-store';
import { type AuditTrailDeps, type SealResult, sealAuditTrail } from '../../lib/usecases/audit-trail';
import { buildAuditTrailDeps } from '../../lib/wiring/audit-trail';
import { PortInUseError as AwsPortInUseError, startAwsEndpoint } from './aws/endpoint';
import { createFederation } from './federation/handler';
import { PortInUseError as GatewayPortInUseError, startGateway } from './gateway/server';
import { loadServerless } from './gateway/serverless';
import { IamStore } from './iam/store';
import { LocalKms } from './kms/keyring';
import { createOidcIssuer, type OidcIssuer, webConsoleClient } from './oidc/issuer';
import { demoPeople } from './oidc/people';
import { type ProfileFiles, writeAwsProfiles } from './profiles';
import { seedEntitlements } from './seed';
import { createSlackSink, LOCAL_BOT_TOKEN, LOCAL_TEAM_ID, type SlackSink } from './slack/sink';
import type { KeyRecord, RawRequest } from './types';

/** The repository root (serverless.yml, infra/local/world). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REGION = 'us-east-1';
/** The demo profiles written to `<dataDir>/aws/credentials`. */
export const PROFILES = ['ci', 'vend-broker'] as const;

/**
 * The local Slack app's signing secret: a demo value for the local stack only (a real one is a
 * random secret from the Slack app's settings, kept in a secret store). Tests sign Slack requests
 * with it (also in `stack.handlerEnv.VEND_SLACK_SIGNING_SECRET`).
 */
export const LOCAL_SLACK_SIGNING_SECRET = 'local-vend-slack-signing-secret-0000';
/** The local Slack app id vend allow-lists. */
export const LOCAL_SLACK_APP_ID = 'A0VENDLOCAL';
/** Where the local stack posts approval messages and break-glass broadcasts. */
export const LOCAL_SLACK_CHANNELS = { approvers: 'C0VENDAPPROVERS', security: 'C0VENDSECURITY' } as const;

/**
 * Seeds the Slack bindings of a file (infra/local/slack-bindings.yaml format) through the service's
 * binding store: each names a person by OIDC subject; the issuer is the local one, and the groups
 * and email come from the demo people (the local stand-in for the identity provider's directory).
 *
 * @example await seedSlackBindings(store, 'infra/local/slack-bindings.yaml', oidc.issuer) // ['U0ALICE', …]
 */
export async function seedSlackBindings(
  store: Pick<DynamoSlackBindingStore, 'put'>,
  file: string,
  issuer: string,
): Promise<string[]> {
  const doc = parseYaml(await readFile(file, 'utf8')) as {
    teamId?: unknown;
    bindings?: { slackUserId?: unknown; subject?: unknown }[];
  } | null;
  if (!doc || typeof doc.teamId !== 'string' || !Array.isArray(doc.bindings)) {
    throw new StackConfigError(`${file}: expected "teamId:" and a "bindings:" list`);
  }
  const people = demoPeople();
  const seeded: string[] = [];
  for (const b of doc.bindings) {
    const person = people.find((p) => p.sub === b.subject);
    if (!person || typeof b.slackUserId !== 'string') {
      throw new StackConfigError(`${file}: binding ${String(b.slackUserId)} names no demo person`);
    }
    await store.put({
      teamId: doc.teamId,
      slackUserId: b.slackUserId,
      issuer,
      subject: person.sub,
      email: person.email,
      groups: person.groups,
    });
    seeded.push(b.slackUserId);
  }
  return seeded;
}

/** A port the stack needs is taken. The message names the variable that moves it. */
export class StackPortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly variable: string,
    options?: { cause?: unknown },
  ) {
    super(`port ${port} is in use: set ${variable} to another port`, options);
    this.name = 'StackPortInUseError';
  }
}

/** A VEND_*_PORT value is not a port number. */
export class StackConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackConfigError';
  }
}

export interface StackOptions {
  /** The entitlements to seed; default infra/local/entitlements.yaml (the demo world). */
  entitlementsFile?: string;
  /** Default `VEND_API_PORT` or 4000; 0 picks a free port. */
  apiPort?: number;
  /** Default `VEND_AWS_PORT` or 4566; 0 picks a free port. */
  awsPort?: number;
  /** Default `VEND_DATA_DIR` or `./.vend`. */
  dataDir?: string;
  /** Wipe dataDir first. */
  fresh?: boolean;
  /** Keep DynamoDB, sessions and the signing key in memory (nothing under dataDir but the profile files). */
  memory?: boolean;
  /** serverless.yml to serve; default the repository's. */
  serverlessFile?: string;
  /**
   * The stack's clock: the local STS, the OIDC issuer, the gateway's authorizers and (lib/clock.ts)
   * the handlers all read it, so a spec can move time for the whole stack at once.
   */
  now?: () => Date;
  /** Gateway access log (one line per request). */
  log?: (line: string) => void;
  /** Extra handler environment, over the stack's own (e.g. `VEND_REQUEST_TTL_SECONDS` for a test). */
  handlerEnv?: Record<string, string>;
  /** The Slack bindings to seed; default infra/local/slack-bindings.yaml. */
  slackBindingsFile?: string;
}

export interface Stack {
  apiUrl: string;
  awsUrl: string;
  oidc: OidcIssuer;
  slack: SlackSink;
  store: IamStore;
  dataDir: string;
  profiles: ProfileFiles;
  /** Base-session keys per profile (what the credentials file holds). */
  keys: Record<string, KeyRecord>;
  /** For clients (CLI, SDKs, child processes): AWS_CONFIG_FILE, AWS_ENDPOINT_URL, VEND_URL, … */
  env: Record<string, string>;
  /** What the handlers run with (process.env of this process while the stack runs). */
  handlerEnv: Record<string, string>;
  /** The audit digests' signing key in the local KMS: its alias (as serverless.yml names it) and ARN. */
  auditKey: { alias: string; arn: string };
  /** The local KMS keyring (on the AWS endpoint; persisted under `<dataDir>/kms/` unless `memory`). */
  kms: LocalKms;
  /**
   * The audit trail's sealer/verifier dependencies over this stack (broker credentials, the local
   * KMS key, the seals table), with settings a test may override.
   */
  auditTrail(
    overrides?: Partial<
      Pick<AuditTrailDeps, 'intervalSeconds' | 'graceSeconds' | 'trailStart' | 'genesisLookbackDays'>
    >,
  ): Promise<AuditTrailDeps>;
  /** Seals every closed interval now (`vend audit seal`; also on Ctrl-C in `npm start`). */
  sealAudit(options?: { upTo?: Date }): Promise<SealResult>;
  stop(): Promise<void>;
}

/**
 * The local stack's audit-trail settings, also exported to clients (`stack.env`): one-minute
 * intervals and a 5 s grace, so what one tries by hand is sealed by the next `vend audit seal`
 * (AWS: one hour and 60 s, docs/audit.md).
 */
export const LOCAL_AUDIT_SEAL = { intervalSeconds: 60, graceSeconds: 5 } as const;

/** The digest key's alias when serverless.yml names none for the sealer (it does: `alias/vend-<stage>-audit-digests`). */
const DEFAULT_AUDIT_KEY_ALIAS = 'alias/vend-dev-audit-digests';

/**
 * Where the local audit trail starts: written once, on the first start of a data directory (a
 * fixed point outside the audit table, like `VEND_AUDIT_TRAIL_START` in AWS), kept until `--fresh`.
 */
async function localTrailStart(dataDir: string, now: Date): Promise<string> {
  const file = join(dataDir, 'audit', 'trail-start');
  try {
    const kept = (await readFile(file, 'utf8')).trim();
    if (Number.isFinite(Date.parse(kept))) return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const start = now.toISOString();
  await mkdir(join(dataDir, 'audit'), { recursive: true, mode: 0o700 });
  await writeFile(file, `${start}\n`);
  return start;
}

function portFrom(value: number | undefined, variable: string, fallback: number): number {
  if (value !== undefined) return value;
  const raw = process.env[variable]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535)
    throw new StackConfigError(`${variable} must be a port number (0-65535), not '${raw}'`);
  return n;
}

/** The CreateTable fields of a CloudFormation table definition (the rest is CloudFormation-only). */
const CREATE_TABLE_FIELDS = [
  'AttributeDefinitions',
  'KeySchema',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
  'BillingMode',
  'ProvisionedThroughput',
] as const;

async function createTables(
  client: DynamoDBClient,
  tables: { properties: Record<string, unknown> & { TableName: string } }[],
): Promise<void> {
  for (const t of tables) {
    const input: Record<string, unknown> = { TableName: t.properties.TableName };
    for (const f of CREATE_TABLE_FIELDS) if (t.properties[f] !== undefined) input[f] = t.properties[f];
    try {
      await client.send(new CreateTableCommand(input as unknown as CreateTableCommandInput));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error; // kept from an earlier run
    }
  }
}

/** Rejects with {@link StackPortInUseError} when something already listens on `port` (0 is always free). */
async function assertPortFree(port: number, variable: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolveFree, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new StackPortInUseError(port, variable, { cause: error }) : error),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolveFree()));
  });
}

/**
 * Starts the whole local stack.
 *
 * @example
 * const stack = await startStack({ apiPort: 0, awsPort: 0, dataDir: tmp });
 * await fetch(`${stack.apiUrl}/v1/health`);
 * await stack.stop();
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const apiPort = portFrom(opts.apiPort, 'VEND_API_PORT', 4000);
  const awsPort = portFrom(opts.awsPort, 'VEND_AWS_PORT', 4566);
  const dataDir = resolve(opts.dataDir ?? process.env.VEND_DATA_DIR ?? '.vend');
  const now = opts.now ?? (() => new Date());
  if (opts.fresh) {
    if (dataDir === resolve('/') || dataDir === resolve(REPO_ROOT) || dataDir === resolve('.')) {
      throw new StackConfigError(
        `refusing to wipe ${dataDir}: point VEND_DATA_DIR at a directory of its own`,
      );
    }
    // A stack already running on these ports owns this state: fail on the port, wipe nothing.
    await assertPortFree(awsPort, 'VEND_AWS_PORT');
    await assertPortFree(apiPort, 'VEND_API_PORT');
    await rm(dataDir, { recursive: true, force: true });
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const persist = !opts.memory;

  const kms = await LocalKms.open({
    region: REGION,
    file: persist ? join(dataDir, 'kms', 'keyring.json') : undefined,
    now,
  });
  const trailStart = await localTrailStart(dataDir, now());

  const store = await IamStore.open({
    worldDir: join(REPO_ROOT, 'infra/local/world'),
    stateFile: persist ? join(dataDir, 'iam-state.json') : undefined,
    now,
  });

  // The issuer's URL depends on the endpoint's port (0 = ephemeral), so the mounts forward to
  // objects made once the endpoint listens.
  let oidc: OidcIssuer | undefined;
  const slack = createSlackSink({ now });
  const federation = createFederation({ store, now });
  const notReady = {
    status: 503,
    headers: { 'content-type': 'application/json' },
    body: '{"message":"starting"}',
  };
  const aws = await startAwsEndpoint({
    port: awsPort,
    region: REGION,
    dataDir: persist ? join(dataDir, 'dynamodb') : undefined,
    store,
    now,
    kms,
    mounts: {
      '/oidc': async (req: RawRequest) => (oidc ? oidc.handler(req) : notReady),
      '/slack': (req: RawRequest) => slack.handler(req),
      '/federation': federation.handler,
    },
  }).catch((error: unknown) => {
    if (error instanceof AwsPortInUseError)
      throw new StackPortInUseError(awsPort, 'VEND_AWS_PORT', { cause: error });
    throw error;
  });

  try {
    oidc = await createOidcIssuer({
      issuerUrl: `${aws.url}/oidc`,
      keyFile: persist ? join(dataDir, 'oidc', 'signing-key.json') : undefined,
      now,
    });
    const keys: Record<string, KeyRecord> = {};
    for (const p of PROFILES) keys[p] = store.mintBaseSession(p);
    const profiles = await writeAwsProfiles(join(dataDir, 'aws'), keys, {
      region: REGION,
      endpointUrl: aws.url,
    });
    const broker = keys['vend-broker']!;
    const handlerEnv: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ENDPOINT_URL: aws.url,
      AWS_ACCESS_KEY_ID: broker.accessKeyId,
      AWS_SECRET_ACCESS_KEY: broker.secretAccessKey,
      ...(broker.sessionToken ? { AWS_SESSION_TOKEN: broker.sessionToken } : {}),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      VEND_OIDC_ISSUER: oidc.issuer,
      VEND_OIDC_AUDIENCE: oidc.audience,
      VEND_SLACK_API_URL: `${aws.url}/slack/api/`,
      VEND_SLACK_BOT_TOKEN: LOCAL_BOT_TOKEN,
      VEND_SLACK_SIGNING_SECRET: LOCAL_SLACK_SIGNING_SECRET,
      VEND_SLACK_APP_IDS: LOCAL_SLACK_APP_ID,
      VEND_SLACK_TEAM_IDS: LOCAL_TEAM_ID,
      VEND_SLACK_APPROVERS_CHANNEL: LOCAL_SLACK_CHANNELS.approvers,
      VEND_SLACK_SECURITY_CHANNEL: LOCAL_SLACK_CHANNELS.security,
      // Console sign-in goes to the local federation endpoint (docs/local-aws.md).
      VEND_FEDERATION_URL: `${aws.url}/federation`,
      // serverless.yml hands it to the sealer (`${env:VEND_AUDIT_TRAIL_START, ''}`).
      VEND_AUDIT_TRAIL_START: trailStart,
      ...opts.handlerEnv,
    };
    const serverlessFile = opts.serverlessFile ?? join(REPO_ROOT, 'serverless.yml');
    const service = loadServerless(serverlessFile, { env: { ...process.env, ...handlerEnv } });
    const dynamo = new DynamoDBClient({
      region: REGION,
      endpoint: aws.url,
      credentials: {
        accessKeyId: broker.accessKeyId,
        secretAccessKey: broker.secretAccessKey,
        sessionToken: broker.sessionToken,
      },
    });
    try {
      await createTables(dynamo, service.tables);
      // The demo entitlements go in through the service's own validation and store, so a bad
      // definition fails `npm start` with the same message a deployment would give.
      // (A test's own serverless file without the table seeds nothing.)
      const entitlementsTable = service.tables.find((t) => t.logicalId === 'EntitlementsTable');
      if (entitlementsTable) {
        await seedEntitlements(
          new DynamoEntitlementStore(
            DynamoDBDocumentClient.from(dynamo),
            entitlementsTable.properties.TableName,
          ),
          opts.entitlementsFile ?? join(REPO_ROOT, 'infra/local/entitlements.yaml'),
        );
      }
      // The demo Slack bindings go in through the service's own binding store (requests table).
      const requestsTable = service.tables.find((t) => t.logicalId === 'RequestsTable');
      if (requestsTable) {
        await seedSlackBindings(
          new DynamoSlackBindingStore(
            DynamoDBDocumentClient.from(dynamo),
            requestsTable.properties.TableName,
          ),
          opts.slackBindingsFile ?? join(REPO_ROOT, 'infra/local/slack-bindings.yaml'),
          oidc.issuer,
        );
      }
    } finally {
      dynamo.destroy();
    }
    // The handlers run in this process: they read the stack's clock, as everything else here does.
    useClock(opts.now);
    const gateway = await startGateway({
      port: apiPort,
      serverlessFile,
      store,
      jwt: { jwks: oidc.jwks, issuer: oidc.issuer, audience: oidc.audience },
      env: handlerEnv,
      now,
      log: opts.log,
    }).catch((error: unknown) => {
      if (error instanceof GatewayPortInUseError)
        throw new StackPortInUseError(apiPort, 'VEND_API_PORT', { cause: error });
      throw error;
    });
    // The console's Issuer is vend's own URL, known only once the gateway listens (port 0 picks
    // one): it goes into every function's environment now, before any handler reads its
    // configuration (on first use).
    if (!opts.handlerEnv?.VEND_CONSOLE_ISSUER) {
      handlerEnv.VEND_CONSOLE_ISSUER = gateway.url;
      process.env.VEND_CONSOLE_ISSUER = gateway.url;
      for (const fn of gateway.service.functions.values()) fn.environment.VEND_CONSOLE_ISSUER = gateway.url;
    }
    // The web console (served by the gateway at its root) signs in at the issuer with the
    // authorization-code flow: its redirect URIs follow the gateway's URL (docs/local-stack.md).
    oidc.registerClient(webConsoleClient(gateway.url));
    const env: Record<string, string> = {
      AWS_CONFIG_FILE: profiles.configFile,
      AWS_SHARED_CREDENTIALS_FILE: profiles.credentialsFile,
      AWS_ENDPOINT_URL: aws.url,
      AWS_DEFAULT_REGION: REGION,
      AWS_REGION: REGION,
      AWS_EC2_METADATA_DISABLED: 'true',
      VEND_URL: gateway.url,
      VEND_DATA_DIR: dataDir,
    };
    await writeFile(
      join(dataDir, 'stack.json'),
      `${JSON.stringify({ apiUrl: gateway.url, awsUrl: aws.url, issuer: oidc.issuer, audience: oidc.audience }, null, 2)}\n`,
    );
    const issuer = oidc;
    const tableName = (logicalId: string, fallback: string) =>
      service.tables.find((t) => t.logicalId === logicalId)?.properties.TableName ?? fallback;
    const auditTable = tableName('AuditTable', 'vend-dev-audit');
    const sealsTable = tableName('AuditSealsTable', 'vend-dev-audit-seals');
    const keyAlias =
      service.functions.get('auditSealer')?.environment.VEND_AUDIT_SIGNING_KEY_ID || DEFAULT_AUDIT_KEY_ALIAS;
    const auditKey = await kms.ensureKey(
      broker.principal.account,
      keyAlias,
      'vend audit digest signing key (local)',
    );
    // Every variable a documented command needs (docs/audit.md, docs/cli.md, docs/entitlements.md):
    // `npm start` prints them all, and they are enough on their own.
    const auditEnv = {
      VEND_AUDIT_TABLE: auditTable,
      VEND_AUDIT_SEALS_TABLE: sealsTable,
      VEND_AUDIT_SIGNING_KEY_ID: keyAlias,
      VEND_AUDIT_TRAIL_START: trailStart,
      VEND_AUDIT_SEAL_INTERVAL_SECONDS: String(LOCAL_AUDIT_SEAL.intervalSeconds),
      VEND_AUDIT_SEAL_GRACE_SECONDS: String(LOCAL_AUDIT_SEAL.graceSeconds),
    };
    Object.assign(env, auditEnv, {
      VEND_ENTITLEMENTS_TABLE: tableName('EntitlementsTable', 'vend-dev-entitlements'),
    });
    const brokerCredentials = {
      accessKeyId: broker.accessKeyId,
      secretAccessKey: broker.secretAccessKey,
      sessionToken: broker.sessionToken,
    };
    let auditDocuments: DynamoDBDocumentClient | undefined;
    let auditKms: KMSClient | undefined;
    const auditTrail: Stack['auditTrail'] = async (overrides = {}) => {
      auditDocuments ??= DynamoDBDocumentClient.from(
        new DynamoDBClient({ region: REGION, endpoint: aws.url, credentials: brokerCredentials }),
        { marshallOptions: { removeUndefinedValues: true } },
      );
      auditKms ??= new KMSClient({ region: REGION, endpoint: aws.url, credentials: brokerCredentials });
      const deps = await buildAuditTrailDeps({
        documents: auditDocuments,
        tableName: auditTable,
        sealsTableName: sealsTable,
        region: REGION,
        audit: loadAuditConfig(auditEnv),
        signer: await KmsAuditSigner.create(auditKms, keyAlias),
        now,
      });
      return { ...deps, ...overrides };
    };
    return {
      apiUrl: gateway.url,
      awsUrl: aws.url,
      oidc: issuer,
      slack,
      store,
      dataDir,
      profiles,
      keys,
      env,
      handlerEnv,
      auditKey: { alias: keyAlias, arn: auditKey.arn },
      kms,
      auditTrail,
      sealAudit: async (options = {}) => sealAuditTrail(await auditTrail(), options),
      stop: async () => {
        useClock(undefined);
        auditDocuments?.destroy();
        auditKms?.destroy();
        await gateway.close();
        await aws.close();
      },
    };
  } catch (error) {
    useClock(undefined);
    await aws.close().catch(() => undefined);
    throw error;
  }
}
