/**
 * `vend dev token --user <name> [--audience <aud>] [--ttl <seconds>]` (local stack only): prints an
 * access token for a demo person, signed with the local issuer's key from `<dataDir>/oidc`
 * (`VEND_DATA_DIR`, default `./.vend`). It needs no running stack: the key is read from disk (made
 * there if absent, and the next `npm start` adopts it).
 *
 * Issuer: `VEND_OIDC_ISSUER`, else the one in `<dataDir>/stack.json` (written by the last
 * `npm start`), else `http://127.0.0.1:${VEND_AWS_PORT:-4566}/oidc`.
 * Audience: `--audience`, else `VEND_OIDC_AUDIENCE`, else the stack's, else `vend`.
 *
 * Exit codes: 0 printed a token; 2 usage error or unknown user; 1 anything else. Errors are one line.
 *
 * It lives with the local stack, not in lib/cli: the CLI's `vend dev` (lib/cli/commands/dev.ts)
 * imports it only when that command runs, so the shipped CLI never loads the local stack.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOrCreateSigningKey } from './keys';
import { demoPeople } from './people';
import { DEFAULT_AUDIENCE, mintPersonToken, UnknownUserError } from './tokens';

/** Bad arguments; exit 2. */
export class DevTokenUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DevTokenUsageError';
  }
}

export interface DevTokenOptions {
  user: string;
  audience?: string;
  ttlSeconds?: number;
  /** Default VEND_DATA_DIR or ./.vend */
  dataDir?: string;
  env?: Record<string, string | undefined>;
  now?: () => Date;
}

async function stackFile(dataDir: string): Promise<{ issuer?: string; audience?: string }> {
  try {
    return JSON.parse(await readFile(join(dataDir, 'stack.json'), 'utf8')) as {
      issuer?: string;
      audience?: string;
    };
  } catch {
    return {};
  }
}

/**
 * Mints a local token for a demo person.
 *
 * @example const jwt = await devToken({ user: 'alice' });
 */
export async function devToken(opts: DevTokenOptions): Promise<string> {
  const env = opts.env ?? process.env;
  const dataDir = resolve(opts.dataDir ?? env.VEND_DATA_DIR ?? '.vend');
  const people = demoPeople();
  const person = people.find((p) => p.username === opts.user);
  if (!person)
    throw new UnknownUserError(
      opts.user,
      people.map((p) => p.username),
    );
  const stack = await stackFile(dataDir);
  const issuer =
    env.VEND_OIDC_ISSUER?.trim() ||
    stack.issuer ||
    `http://127.0.0.1:${env.VEND_AWS_PORT?.trim() || '4566'}/oidc`;
  const audience = opts.audience ?? (env.VEND_OIDC_AUDIENCE?.trim() || stack.audience || DEFAULT_AUDIENCE);
  const key = await loadOrCreateSigningKey(join(dataDir, 'oidc', 'signing-key.json'));
  return mintPersonToken({
    key,
    issuer,
    person,
    now: (opts.now ?? (() => new Date()))(),
    options: { audience, ttlSeconds: opts.ttlSeconds },
  });
}

/** Parses `dev token …` arguments (after `vend`). */
export function parseDevTokenArgs(argv: string[]): Omit<DevTokenOptions, 'env' | 'now' | 'dataDir'> {
  if (argv[0] !== 'dev' || argv[1] !== 'token') {
    throw new DevTokenUsageError(
      `unknown command '${argv.join(' ')}': only 'vend dev token --user <name>' exists yet`,
    );
  }
  let values: { user?: string; audience?: string; ttl?: string };
  try {
    ({ values } = parseArgs({
      args: argv.slice(2),
      options: { user: { type: 'string' }, audience: { type: 'string' }, ttl: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new DevTokenUsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  if (!values.user) throw new DevTokenUsageError('--user <name> is required');
  let ttlSeconds: number | undefined;
  if (values.ttl !== undefined) {
    ttlSeconds = Number(values.ttl);
    if (!/^\d+$/.test(values.ttl) || ttlSeconds < 1 || ttlSeconds > 86_400) {
      throw new DevTokenUsageError('--ttl must be a whole number of seconds between 1 and 86400');
    }
  }
  return { user: values.user, audience: values.audience, ttlSeconds };
}

/** The command: prints the token, returns the exit code. Never throws, never prints a stack. */
export async function main(
  argv: string[],
  io: { stdout: (s: string) => void; stderr: (s: string) => void } = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  },
): Promise<number> {
  try {
    const token = await devToken(parseDevTokenArgs(argv));
    io.stdout(`${token}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`vend: ${message.split('\n')[0]}\n`);
    return error instanceof DevTokenUsageError || error instanceof UnknownUserError ? 2 : 1;
  }
}
