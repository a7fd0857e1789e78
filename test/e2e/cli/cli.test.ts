/**
 * The `vend` CLI against the local stack, through the real AWS CLI and SDK v3 (issue 5, "must
 * show"): credential_process profiles with a cache, env export, the container credential
 * endpoint, device login, and one-line errors.
 */
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLine } from '../../../lib/cli/profile';
import { withStack } from '../../support/stack';
import { run, start, VEND, vend } from './harness';

const gatewayLog: string[] = [];
const stack = withStack({ log: (line) => gatewayLog.push(line) });
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vend-cli-e2e-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The stack's environment for a fresh user: own cache and config dirs, no login, no AWS_PROFILE. */
function userEnv(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...stack.env,
    VEND_CACHE_DIR: join(scratch, name, 'cache'),
    VEND_CONFIG_DIR: join(scratch, name, 'config'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

const arn = (stdout: string): string => (JSON.parse(stdout) as { Arn: string }).Arn;
const secretsOf = () => {
  const ci = stack.credentials('ci');
  return [ci.secretAccessKey, ci.sessionToken ?? 'none'];
};

describe('credential_process', () => {
  it('the AWS CLI gets the assumed-role ARN through vend credential-process, and a second call reuses the cache', async () => {
    const env = userEnv('cp');
    const line = commandLine([...VEND, 'credential-process', 'prod-readonly', '--aws-profile', 'ci']);
    await appendFile(
      env.AWS_CONFIG_FILE!,
      `\n[profile vend-ro]\nregion = us-east-1\ncredential_process = ${line}\n`,
    );
    const vends = () => gatewayLog.filter((l) => l.startsWith('POST /v1/service/credentials 200')).length;
    const before = vends();

    const first = await run(
      ['aws', '--profile', 'vend-ro', 'sts', 'get-caller-identity', '--output', 'json'],
      env,
    );
    const second = await run(
      ['aws', '--profile', 'vend-ro', 'sts', 'get-caller-identity', '--output', 'json'],
      env,
    );

    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(arn(first.stdout)).toMatch(/^arn:aws:sts::444455556666:assumed-role\/ProdReadOnly\//);
    expect(second.code).toBe(0);
    expect(arn(second.stdout)).toBe(arn(first.stdout));
    expect(vends() - before).toBe(1);
  });
});

describe('env export', () => {
  it('eval "$(vend credentials prod-readonly --format env)" then aws sts get-caller-identity works', async () => {
    const env = userEnv('env', { AWS_PROFILE: 'ci' });
    const cmd = `eval "$(${commandLine(VEND)} credentials prod-readonly --format env)" && aws sts get-caller-identity --output json`;

    const out = await run(['bash', '--norc', '--noprofile', '-c', cmd], env);

    expect(out.code).toBe(0);
    expect(arn(out.stdout)).toMatch(/^arn:aws:sts::444455556666:assumed-role\/ProdReadOnly\//);
  });
});

describe('vend serve (container credentials)', () => {
  it('the AWS CLI and the SDK v3 default chain get credentials; without the token → 401, wrong → 403', async () => {
    const server = start(['serve', 'prod-readonly', '--aws-profile', 'ci'], userEnv('serve'));
    try {
      const [, uri] = await server.waitFor(/export AWS_CONTAINER_CREDENTIALS_FULL_URI=(\S+)\n/);
      const [, token] = await server.waitFor(/export AWS_CONTAINER_AUTHORIZATION_TOKEN=(\S+)\n/);
      const env = userEnv('serve-client', {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: uri!,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: token!,
      });
      // Nothing else may provide credentials: no shared files.
      env.AWS_SHARED_CREDENTIALS_FILE = join(scratch, 'none');
      env.AWS_CONFIG_FILE = join(scratch, 'none');

      const cli = await run(['aws', 'sts', 'get-caller-identity', '--output', 'json'], env);
      const sdk = await run(
        [
          process.execPath,
          '--input-type=module',
          '-e',
          "import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts'; const r = await new STSClient({ region: 'us-east-1' }).send(new GetCallerIdentityCommand({})); process.stdout.write(JSON.stringify({ Arn: r.Arn }));",
        ],
        env,
      );
      const missing = await fetch(uri!);
      const wrong = await fetch(uri!, { headers: { authorization: `${token}x` } });

      expect(cli.code).toBe(0);
      expect(arn(cli.stdout)).toMatch(/assumed-role\/ProdReadOnly\//);
      expect(sdk.stderr).toBe('');
      expect(arn(sdk.stdout)).toMatch(/assumed-role\/ProdReadOnly\//);
      expect(missing.status).toBe(401);
      expect(wrong.status).toBe(403);
    } finally {
      server.child.kill('SIGINT');
    }
    expect(await server.exited).toBe(0);
  });
});

describe('vend login (device flow against the local issuer)', () => {
  it('completes once the code is approved, then acts as that person', async () => {
    const env = userEnv('login');
    const login = start(['login'], env);
    const [, code] = await login.waitFor(/enter the code ([A-Z]{4}-[A-Z]{4})/);

    const approved = await fetch(`${stack.stack.oidc.issuer}/device/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_code: code, user: 'alice' }),
    });
    const exit = await login.exited;
    const list = await vend(['entitlements', '--json'], env);

    expect(approved.status).toBe(200);
    expect(exit).toBe(0);
    expect(login.stderr()).toContain('logged in as alice');
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((e) => e.id)).toContain('prod-readonly');

    const creds = await vend(
      ['credentials', 'prod-readonly', '--duration', '15m', '--format', 'credential-process'],
      env,
    );
    const gated = await vend(['credentials', 'prod-admin'], env);

    expect(creds.code).toBe(0);
    expect(JSON.parse(creds.stdout)).toMatchObject({
      Version: 1,
      AccessKeyId: expect.stringMatching(/^ASIA/),
    });
    expect(gated.code).toBe(1);
    expect(gated.stderr).toBe(
      'vend: not entitled to prod-admin without approval; ask for it with: vend request prod-admin --reason "…"\n',
    );
  }, 40_000);
});

describe('vend entitlements', () => {
  it('lists what the ci service may use as a table', async () => {
    const out = await vend(['entitlements', '--aws-profile', 'ci'], userEnv('list'));

    expect(out.code).toBe(0);
    expect(out.stdout.split('\n')[0]).toMatch(/^ID\s+ACCESS\s+MAX\s+ROLE/);
    expect(out.stdout).toMatch(/^prod-readonly\s+use\s+1h\s+arn:aws:iam::444455556666:role\/ProdReadOnly/m);
    expect(out.stdout).not.toMatch(/^prod-admin/m);
  });
});

describe('bad input: one line, non-zero exit, nothing secret', () => {
  const oneLine = (text: string) => expect(text).toMatch(/^vend: [^\n]+\n$/);

  it('unknown command → exit 2', async () => {
    const out = await vend(['frobnicate'], userEnv('bad'));

    expect(out.code).toBe(2);
    oneLine(out.stderr);
    expect(out.stdout).toBe('');
  });

  it('unknown entitlement → exit 1', async () => {
    const out = await vend(['credentials', 'no-such-thing', '--aws-profile', 'ci'], userEnv('bad'));

    expect(out.code).toBe(1);
    oneLine(out.stderr);
    expect(out.stderr).toContain('no-such-thing');
    expect(out.stdout).toBe('');
    for (const s of secretsOf()) expect(out.stderr).not.toContain(s);
  });

  it('unreachable VEND_URL → exit 4, naming it', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise<void>((r) => probe.close(() => r())); // just freed: nothing listens there
    const out = await vend(
      ['credentials', 'prod-readonly', '--aws-profile', 'ci'],
      userEnv('bad', { VEND_URL: closed }),
    );

    expect(out.code).toBe(4);
    expect(out.stderr).toBe(`vend: cannot reach VEND_URL (${closed}): connection refused\n`);
  });

  it('expired token → exit 3, the token not echoed', async () => {
    const expired = await stack.token('alice', {
      extraClaims: { exp: Math.floor(Date.now() / 1000) - 600, iat: Math.floor(Date.now() / 1000) - 4200 },
    });
    const out = await vend(['credentials', 'prod-readonly'], userEnv('bad', { VEND_TOKEN: expired }));

    expect(out.code).toBe(3);
    expect(out.stderr).toBe(
      'vend: the token in VEND_TOKEN has expired: get a new one (or unset VEND_TOKEN and run vend login)\n',
    );
    expect(out.stderr).not.toContain(expired);
  });
});
