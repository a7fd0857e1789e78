/**
 * Starts a real local AWS endpoint (port 0, temp dir, in-memory or temp-dir state) with the
 * federation endpoint mounted, and writes the AWS config/credentials files for the world's
 * profiles, as `npm start` does. Clients under test
 * (AWS CLI, boto3, SDK v3) are pointed at it through `AWS_ENDPOINT_URL` only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type AwsEndpoint, startAwsEndpoint } from '../../../infra/local/aws/endpoint';
import { createFederation } from '../../../infra/local/federation/handler';
import { IamStore } from '../../../infra/local/iam/store';
import type { KeyRecord } from '../../../infra/local/types';

export const WORLD_DIR = resolve(__dirname, '../../../infra/local/world');

export interface LocalAws {
  endpoint: AwsEndpoint;
  store: IamStore;
  dir: string;
  profiles: Record<string, KeyRecord>;
  /** Environment for child processes: no inherited AWS_* settings, only the local ones. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startLocalAws(
  opts: { persistent?: boolean; worldDir?: string; now?: () => Date } = {},
): Promise<LocalAws> {
  const dir = mkdtempSync(join(tmpdir(), 'vend-local-aws-'));
  const store = await IamStore.open({
    worldDir: opts.worldDir ?? WORLD_DIR,
    ...(opts.persistent && { stateFile: join(dir, 'iam-state.json') }),
    ...(opts.now && { now: opts.now }),
  });
  // The federation endpoint as the stack mounts it (infra/local/stack.ts).
  const federation = createFederation({ store });
  const endpoint = await startAwsEndpoint({
    port: 0,
    store,
    mounts: { '/federation': federation.handler },
    ...(opts.persistent && { dataDir: join(dir, 'dynamodb') }),
  });
  const profiles: Record<string, KeyRecord> = {};
  let credentials = '';
  let config = '';
  for (const name of store.profiles()) {
    const key = store.mintBaseSession(name);
    profiles[name] = key;
    credentials += `[${name}]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\naws_session_token = ${key.sessionToken}\n\n`;
    config += `[profile ${name}]\nregion = us-east-1\noutput = json\n\n`;
  }
  writeFileSync(join(dir, 'credentials'), credentials, { mode: 0o600 });
  writeFileSync(join(dir, 'config'), config);

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    AWS_ENDPOINT_URL: endpoint.url,
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  });

  return {
    endpoint,
    store,
    dir,
    profiles,
    env,
    close: async () => {
      await endpoint.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws on a non-zero exit. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    execFile(cmd, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}
