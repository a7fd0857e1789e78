/**
 * Integration-test helper: `withStack()` starts the whole local stack (ephemeral ports, a temp data
 * directory, state in memory) in beforeAll and stops it in afterAll, and hands tests what they
 * need to act as clients: URLs, a clean environment for child processes, person tokens, and
 * SigV4-signed fetches (service `execute-api`) with a demo profile's credentials.
 *
 * @example
 * const stack = withStack();
 * it('answers', async () => { expect((await fetch(`${stack.apiUrl}/v1/health`)).status).toBe(200); });
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll } from 'vitest';
import type { MintOptions } from '../../infra/local/oidc/tokens';
import { REGION, type Stack, type StackOptions, startStack } from '../../infra/local/stack';

/** What a test gets from {@link withStack}; usable inside tests (after beforeAll). */
export interface StackHandle {
  readonly stack: Stack;
  readonly apiUrl: string;
  readonly awsUrl: string;
  /**
   * A complete environment for child processes (AWS CLI, boto3, `vend`): this process's environment
   * WITHOUT ambient AWS credentials (the gateway puts the broker's into process.env for the
   * handlers), plus AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_ENDPOINT_URL,
   * AWS_DEFAULT_REGION, AWS_EC2_METADATA_DISABLED, VEND_URL and VEND_DATA_DIR.
   */
  readonly env: Record<string, string>;
  /** An access token for a demo person from the local issuer. */
  token(user: string, opts?: MintOptions): Promise<string>;
  /** The base-session credentials of a demo profile (`ci`, `vend-broker`). */
  credentials(profile: string): { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A fetch to the vend API signed with SigV4 (service `execute-api`) as `profile`. */
  signedFetch(
    profile: string,
    method: string,
    path: string,
    body?: string | object,
    headers?: Record<string, string>,
  ): Promise<Response>;
}

/**
 * Rate limits for test stacks: high enough that no spec written for something else meets them (a
 * fault matrix or a load run vends hundreds of times a minute as one caller), so those specs keep
 * testing what they test. The limiter still runs on every vend. test/e2e/rate-limits.test.ts sets
 * its own small limits (a spec's `handlerEnv` wins).
 */
export const TEST_RATE_LIMITS: Readonly<Record<string, string>> = {
  VEND_RATE_LIMIT_PER_CALLER: '1000000',
  VEND_RATE_LIMIT_PER_ENTITLEMENT: '1000000',
  VEND_RATE_LIMIT_REQUESTS_PER_CALLER: '1000000',
};

const AMBIENT = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
];

/** Starts a stack for the enclosing describe/file; see {@link StackHandle}. */
export function withStack(opts: Partial<StackOptions> = {}): StackHandle {
  let stack: Stack | undefined;
  let dataDir: string | undefined;
  const started = (): Stack => {
    if (!stack) throw new Error('withStack(): the stack is not running (use the handle inside tests)');
    return stack;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vend-stack-'));
    stack = await startStack({
      apiPort: 0,
      awsPort: 0,
      memory: true,
      dataDir,
      ...opts,
      handlerEnv: { ...TEST_RATE_LIMITS, ...opts.handlerEnv },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const credentials = (profile: string) => {
    const key = started().keys[profile];
    if (!key)
      throw new Error(`no profile ${profile}; the stack has ${Object.keys(started().keys).join(', ')}`);
    return {
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      sessionToken: key.sessionToken,
    };
  };

  return {
    get stack() {
      return started();
    },
    get apiUrl() {
      return started().apiUrl;
    },
    get awsUrl() {
      return started().awsUrl;
    },
    get env() {
      const base = Object.fromEntries(
        Object.entries(process.env).filter(
          (e): e is [string, string] => e[1] !== undefined && !AMBIENT.includes(e[0]),
        ),
      );
      return { ...base, ...started().env };
    },
    token: (user, mint) => started().oidc.mintToken(user, mint),
    credentials,
    async signedFetch(profile, method, path, body, headers = {}) {
      const url = new URL(path, started().apiUrl);
      const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const signer = new SignatureV4({
        service: 'execute-api',
        region: REGION,
        credentials: credentials(profile),
        sha256: Sha256,
      });
      const query: Record<string, string | string[]> = {};
      for (const [k, v] of url.searchParams) {
        const prior = query[k];
        query[k] = prior === undefined ? v : [prior, v].flat();
      }
      const signed = await signer.sign({
        method: method.toUpperCase(),
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query,
        headers: {
          host: url.host,
          ...(text !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: text,
      });
      return fetch(url, { method: method.toUpperCase(), headers: signed.headers, body: text });
    },
  };
}
