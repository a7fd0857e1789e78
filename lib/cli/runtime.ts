/**
 * What every `vend` command shares for one run: the I/O it talks to ({@link CliIo}), the API
 * client for the chosen identity (a person's token, else the ambient AWS credentials), the
 * translation of API refusals into words, the session policy file, and interruption by Ctrl-C.
 * lib/cli/main.ts makes one {@link Runtime} per run and hands it to the command modules
 * (lib/cli/commands/*), so a command is a function of its runtime and nothing else.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AwsCredentialIdentity } from '@smithy/types';
import { abortableSleep, type PersonToken, personToken, readConfig } from './auth';
import { policyHash } from './cache';
import { decodeJwtClaims, VendClient } from './client';
import type { AdminContext } from './entitlements';
import { ApiResponseError, AuthError, type ErrorContext, problemToError, UsageError } from './errors';
import { awsConfigFile } from './profile';

/** The environment as the CLI reads it. */
export type Env = Record<string, string | undefined>;

/** What {@link main} talks to; everything but stdout/stderr/env/cwd is optional and for tests. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Env;
  cwd: string;
  /** Whether stderr is a terminal (spinner vs plain lines); default process.stderr.isTTY. */
  isTTY?: boolean;
  now?: () => Date;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  fetch?: typeof fetch;
  /** Interrupts `--wait`, `login` and `serve`; default SIGINT/SIGTERM of this process. */
  signal?: AbortSignal;
  /** The AWS credentials to sign with; default the SDK's default provider chain. */
  awsCredentials?: (profile?: string) => () => Promise<AwsCredentialIdentity>;
  /** How to run vend again (for `--write-profile`); default `node <repo>/bin/vend.js`. */
  selfCommand?: string[];
  /** Told the credential server's URL once it listens (tests). */
  onServe?: (info: { url: string; token: string }) => void;
  /** Opens a URL in the default browser (`vend console`); default xdg-open / open / start. */
  openUrl?: (url: string) => Promise<void>;
}

/** The real process: its stdout, stderr, environment and working directory. */
export function defaultIo(): CliIo {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** The package version (package.json), for `--version` and the User-Agent. */
export function version(): string {
  try {
    return (
      (
        JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
          version?: string;
        }
      ).version ?? '0.0.0'
    );
  } catch {
    return '0.0.0';
  }
}

/** Region for SigV4: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else us-east-1. */
export async function resolveRegion(env: Env, profile?: string): Promise<string> {
  const fromEnv = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  if (fromEnv) return fromEnv;
  const name = profile ?? env.AWS_PROFILE?.trim() ?? 'default';
  try {
    const text = await readFile(awsConfigFile(env), 'utf8');
    let inSection = false;
    for (const line of text.split(/\r?\n/)) {
      const section = /^\s*\[\s*([^\]]+?)\s*\]/.exec(line)?.[1];
      if (section !== undefined) {
        inSection = section.replace(/^profile\s+/, '') === name;
        continue;
      }
      const region = inSection ? /^\s*region\s*=\s*(\S+)/.exec(line)?.[1] : undefined;
      if (region) return region;
    }
  } catch {
    // no config file
  }
  return 'us-east-1';
}

export async function defaultAwsCredentials(
  env: Env,
  profile?: string,
): Promise<() => Promise<AwsCredentialIdentity>> {
  // Loaded on first use: person commands never need the SDK.
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  return defaultProvider({
    ...(profile ? { profile } : {}),
    ...(env.AWS_SHARED_CREDENTIALS_FILE ? { filepath: env.AWS_SHARED_CREDENTIALS_FILE } : {}),
    ...(env.AWS_CONFIG_FILE ? { configFilepath: env.AWS_CONFIG_FILE } : {}),
  });
}

/** Per-run helpers shared by the commands. */
export class Runtime {
  readonly now: () => Date;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private person: PersonToken | undefined;
  /** Set by commands that report their own failures (`dev token`). */
  exitCode: number | undefined;

  constructor(readonly io: CliIo) {
    this.now = io.now ?? (() => new Date());
    this.sleep = io.sleep ?? abortableSleep;
  }

  get env(): Env {
    return this.io.env;
  }

  out(s: string): void {
    this.io.stdout(s);
  }

  err(s: string): void {
    this.io.stderr(s);
  }

  /** How to run vend again (`--write-profile`): `node <package>/bin/vend.js` unless the io says. */
  selfCommand(): string[] {
    // This file sits two levels below the package root (lib/cli/).
    return (
      this.io.selfCommand ?? [process.execPath, fileURLToPath(new URL('../../bin/vend.js', import.meta.url))]
    );
  }

  async vendUrl(flag?: string): Promise<string> {
    const url = flag?.trim() || this.env.VEND_URL?.trim() || (await readConfig(this.env)).url?.trim();
    if (!url) throw new UsageError('VEND_URL is not set: export VEND_URL=<the vend API URL> (or pass --url)');
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new UsageError(`VEND_URL is not an http(s) URL: '${url}'`);
    }
    return url;
  }

  /** The client for this run; a person's token wins unless an AWS profile was named. */
  async client(opts: { url?: string; awsProfile?: string; needPerson?: boolean }): Promise<VendClient> {
    const baseUrl = await this.vendUrl(opts.url);
    const common = { baseUrl, fetch: this.io.fetch, userAgent: `vend-cli/${version()}` };
    if (!opts.awsProfile) {
      this.person = await personToken({ env: this.env, fetch: this.io.fetch, now: this.now });
      if (this.person)
        return new VendClient({ ...common, auth: { kind: 'person', token: this.person.token } });
    }
    if (opts.needPerson)
      throw new AuthError('this command is for people: run vend login (or set VEND_TOKEN) first');
    const credentials = this.io.awsCredentials
      ? this.io.awsCredentials(opts.awsProfile)
      : await defaultAwsCredentials(this.env, opts.awsProfile);
    const region = await resolveRegion(this.env, opts.awsProfile);
    return new VendClient({ ...common, auth: { kind: 'service', credentials, region } });
  }

  /** The context for turning an API error into words. */
  context(client: VendClient, entitlement?: string): ErrorContext {
    const exp = this.person ? decodeJwtClaims(this.person.token)?.exp : undefined;
    return {
      mode: client.mode,
      ...(entitlement ? { entitlement } : {}),
      ...(this.person ? { tokenSource: this.person.source } : {}),
      ...(typeof exp === 'number' ? { tokenExpiresAt: exp } : {}),
      now: this.now(),
    };
  }

  /** Runs an API call, translating its refusal with `ctx`. */
  async api<T>(client: VendClient, ctx: { entitlement?: string }, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ApiResponseError)
        throw problemToError(error, this.context(client, ctx.entitlement));
      throw error;
    }
  }

  async readPolicy(file: string | undefined): Promise<{ policy?: unknown; hash?: string; path?: string }> {
    if (file === undefined) return {};
    const path = isAbsolute(file)
      ? file
      : resolve(this.io.cwd, file.replace(/^~(?=$|\/)/, this.env.HOME ?? homedir()));
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new UsageError(
        `cannot read the policy file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    let policy: unknown;
    try {
      policy = JSON.parse(text);
    } catch {
      throw new UsageError(`the policy file ${file} is not JSON`);
    }
    if (!policy || typeof policy !== 'object' || Array.isArray(policy)) {
      throw new UsageError(`the policy file ${file} must hold one IAM policy document (a JSON object)`);
    }
    return { policy, hash: policyHash(JSON.stringify(policy)), path };
  }

  /**
   * Runs `fn` with a signal aborted by io.signal or, by default, SIGINT/SIGTERM (whose handlers
   * are removed afterwards so other commands keep the default behaviour).
   */
  async interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    const outer = this.io.signal;
    if (outer) {
      if (outer.aborted) controller.abort();
      outer.addEventListener('abort', abort, { once: true });
    } else {
      process.once('SIGINT', abort);
      process.once('SIGTERM', abort);
    }
    try {
      return await fn(controller.signal);
    } finally {
      if (outer) outer.removeEventListener('abort', abort);
      else {
        process.off('SIGINT', abort);
        process.off('SIGTERM', abort);
      }
    }
  }
}

/** What `vend entitlements validate|sync` and `vend lint-trust` use of the runtime. */
export function adminContext(rt: Runtime): AdminContext {
  return {
    out: (s) => rt.out(s),
    err: (s) => rt.err(s),
    env: rt.env,
    cwd: rt.io.cwd,
    now: rt.now,
    awsCredentials: async (profile) =>
      rt.io.awsCredentials ? rt.io.awsCredentials(profile) : defaultAwsCredentials(rt.env, profile),
    region: (profile) => resolveRegion(rt.env, profile),
    setExitCode: (code) => {
      rt.exitCode = code;
    },
  };
}
