/**
 * `main()` end to end against an in-process fake API and issuer: argument handling, the two ways
 * of authenticating, the credential-process cache, serve's token check, --wait, login and the
 * one-line errors. No real AWS, no local stack (that is test/e2e/cli).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliIo, main } from '../../../lib/cli/main';
import { type FakeApi, fakeJwt, startFakeApi, vendBody } from './fake-api';

let api: FakeApi;
let home: string;
beforeAll(async () => {
  api = await startFakeApi();
});
afterAll(async () => {
  await api.close();
});
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'vend-cli-'));
  api.seen.length = 0;
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const NOW = new Date('2026-11-29T10:00:00Z');
const LATER = '2026-11-29T11:00:00Z';
const aliceToken = fakeJwt({ iss: 'https://issuer', sub: 'alice-sub', exp: NOW.getTime() / 1000 + 3600 });

function io(env: Record<string, string | undefined> = {}, extra: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: (s: string) => out.push(s),
      stderr: (s: string) => err.push(s),
      env: {
        HOME: home,
        VEND_CONFIG_DIR: join(home, 'config'),
        VEND_CACHE_DIR: join(home, 'cache'),
        VEND_URL: api.url,
        ...env,
      },
      cwd: home,
      now: () => NOW,
      sleep: async () => undefined,
      awsCredentials: () => async () => ({
        accessKeyId: 'ASIACIKEY',
        secretAccessKey: 'ci-secret',
        sessionToken: 'ci-token',
      }),
      isTTY: false,
      ...extra,
    } satisfies CliIo,
  };
}

describe('arguments', () => {
  it('an unknown command is one line on stderr, exit 2', async () => {
    const t = io();

    const code = await main(['frobnicate'], t.io);

    expect(code).toBe(2);
    expect(t.err.join('')).toBe("vend: unknown command 'frobnicate' (see: vend --help)\n");
    expect(t.out).toEqual([]);
  });

  it('a bad --duration is a usage error naming the value', async () => {
    const t = io({ VEND_TOKEN: aliceToken });

    expect(await main(['credentials', 'prod-readonly', '--duration', '15 minutes'], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/^vend: invalid duration "15 minutes"/);
    expect(api.seen).toEqual([]);
  });

  it('--help on a command shows an example and exits 0', async () => {
    const t = io();

    expect(await main(['credential-process', '--help'], t.io)).toBe(0);
    expect(t.out.join('')).toMatch(/Examples?:\n {2}\$ vend credential-process prod-readonly/);
  });

  it('without VEND_URL it says how to set it (exit 2)', async () => {
    const t = io({ VEND_URL: undefined, VEND_TOKEN: aliceToken });

    expect(await main(['entitlements'], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/^vend: VEND_URL is not set: export VEND_URL=/);
  });
});

describe('vend credentials', () => {
  it('as a person: Bearer token on POST /v1/credentials, the duration in seconds', async () => {
    api.on('POST /v1/credentials', { body: vendBody({ expiration: LATER }) });
    const t = io({ VEND_TOKEN: aliceToken });

    const code = await main(['credentials', 'prod-readonly', '--duration', '15m', '--reason', 'debug'], t.io);

    expect(code).toBe(0);
    expect(api.seen[0]?.headers.authorization).toBe(`Bearer ${aliceToken}`);
    expect(JSON.parse(api.seen[0]?.body ?? '')).toEqual({
      entitlement: 'prod-readonly',
      durationSeconds: 900,
      reason: 'debug',
    });
    expect(JSON.parse(t.out.join(''))).toEqual(vendBody({ expiration: LATER }));
  });

  it('as a service: SigV4 for execute-api on POST /v1/service/credentials', async () => {
    api.on('POST /v1/service/credentials', { body: vendBody({ expiration: LATER }) });
    const t = io({ AWS_REGION: 'eu-west-1' });

    const code = await main(['credentials', 'prod-readonly', '--format', 'env'], t.io);

    expect(code).toBe(0);
    const h = api.seen[0]?.headers;
    expect(h?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIACIKEY\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/,
    );
    expect(h?.['x-amz-security-token']).toBe('ci-token');
    expect(t.out.join('')).toContain("export AWS_SECRET_ACCESS_KEY='secret/with+chars='");
  });

  it('approval_required becomes the one line that says how to ask (exit 1)', async () => {
    api.on('POST /v1/credentials', {
      status: 403,
      body: {
        type: 't',
        title: 'Approval required',
        status: 403,
        code: 'approval_required',
        detail: 'prod-admin needs 2 approvals',
        requestId: 'r',
      },
    });
    const t = io({ VEND_TOKEN: aliceToken });

    expect(await main(['credentials', 'prod-admin'], t.io)).toBe(1);
    expect(t.err.join('')).toBe(
      'vend: not entitled to prod-admin without approval; ask for it with: vend request prod-admin --reason "…"\n',
    );
  });

  it('an unreachable VEND_URL names it and the reason (exit 4)', async () => {
    const closed = await startFakeApi();
    await closed.close(); // a port that was just free: nothing listens there now
    const t = io({ VEND_TOKEN: aliceToken, VEND_URL: closed.url });

    expect(await main(['credentials', 'prod-readonly'], t.io)).toBe(4);
    expect(t.err.join('')).toBe(`vend: cannot reach VEND_URL (${closed.url}): connection refused\n`);
  });

  it('an expired VEND_TOKEN refused by the gateway says it expired, without echoing it (exit 3)', async () => {
    api.on('POST /v1/credentials', { status: 401, body: { message: 'Unauthorized' } });
    const expired = fakeJwt({ iss: 'i', sub: 's', exp: NOW.getTime() / 1000 - 60 });
    const t = io({ VEND_TOKEN: expired });

    expect(await main(['credentials', 'prod-readonly'], t.io)).toBe(3);
    expect(t.err.join('')).toBe(
      'vend: the token in VEND_TOKEN has expired: get a new one (or unset VEND_TOKEN and run vend login)\n',
    );
    expect(t.err.join('')).not.toContain(expired.split('.')[1]);
  });

  it('--write-profile adds a credential_process profile and vends nothing', async () => {
    const config = join(home, 'aws', 'config');
    const t = io({ AWS_CONFIG_FILE: config }, { selfCommand: ['/usr/bin/node', '/opt/vend/bin/vend.js'] });

    expect(
      await main(
        [
          'credentials',
          'prod-readonly',
          '--duration',
          '1h',
          '--write-profile',
          'prod-ro',
          '--aws-profile',
          'ci',
        ],
        t.io,
      ),
    ).toBe(0);

    const { readFile } = await import('node:fs/promises');
    expect(await readFile(config, 'utf8')).toBe(
      `[profile prod-ro]\ncredential_process = /usr/bin/node /opt/vend/bin/vend.js credential-process prod-readonly --url ${api.url} --duration 3600 --aws-profile ci\n`,
    );
    expect(api.seen).toEqual([]);
  });
});

describe('vend credential-process', () => {
  it('vends once, then answers from the owner-only cache', async () => {
    let n = 0;
    api.on('POST /v1/service/credentials', () => ({
      body: vendBody({ expiration: LATER, accessKeyId: `ASIA${++n}` }),
    }));

    const first = io();
    const second = io();
    expect(await main(['credential-process', 'prod-readonly', '--duration', '1h'], first.io)).toBe(0);
    expect(await main(['credential-process', 'prod-readonly', '--duration', '1h'], second.io)).toBe(0);

    expect(n).toBe(1);
    expect(JSON.parse(second.out.join(''))).toEqual({
      Version: 1,
      AccessKeyId: 'ASIA1',
      SecretAccessKey: 'secret/with+chars=',
      SessionToken: 'session-token-value',
      Expiration: LATER,
    });
    expect((await stat(join(home, 'cache'))).mode & 0o777).toBe(0o700);
  });

  it('vends again inside the last 5 minutes', async () => {
    let n = 0;
    api.on('POST /v1/service/credentials', () => ({
      body: vendBody({ expiration: '2026-11-29T10:04:59Z', accessKeyId: `ASIA${++n}` }),
    }));

    await main(['credential-process', 'prod-readonly'], io().io);
    await main(['credential-process', 'prod-readonly'], io().io);

    expect(n).toBe(2);
  });

  it('refuses to run inside itself (a profile whose credentials come from vend again)', async () => {
    const t = io({ VEND_CREDENTIAL_PROCESS_ACTIVE: '1' });

    expect(await main(['credential-process', 'prod-readonly'], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/started itself/);
  });
});

describe('listings', () => {
  it('entitlements: a table by default, the list with --json', async () => {
    const list = [
      {
        id: 'prod-admin',
        roleArn: 'arn:aws:iam::444455556666:role/BreakGlassAdmin',
        maxDurationSeconds: 3600,
        access: { use: false, request: true, breakGlass: true },
      },
      {
        id: 'prod-readonly',
        roleArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
        maxDurationSeconds: 3600,
        access: { use: true, request: false, breakGlass: false },
      },
    ];
    api.on('GET /v1/entitlements', { body: { entitlements: list } });
    const human = io({ VEND_TOKEN: aliceToken });
    const json = io({ VEND_TOKEN: aliceToken });

    await main(['entitlements'], human.io);
    await main(['entitlements', '--json'], json.io);

    expect(human.out.join('').split('\n')[0]).toMatch(/^ID\s+ACCESS\s+MAX\s+ROLE\s+DESCRIPTION$/);
    expect(human.out.join('')).toMatch(/prod-admin\s+request,break-glass\s+1h/);
    expect(JSON.parse(json.out.join(''))).toEqual(list);
  });

  it('requests passes --status and --mine as query parameters', async () => {
    api.on('GET /v1/requests', {
      body: { requests: [{ id: 'r-1', entitlement: 'prod-admin', status: 'pending' }] },
    });
    const t = io({ VEND_TOKEN: aliceToken });

    await main(['requests', '--status', 'pending', '--mine', '--json'], t.io);

    expect(api.seen[0]?.query.get('status')).toBe('pending');
    expect(api.seen[0]?.query.get('mine')).toBe('true');
    expect(JSON.parse(t.out.join(''))[0].id).toBe('r-1');
  });

  it('request routes need a person: a service caller is told to log in (exit 3)', async () => {
    const t = io();

    expect(await main(['requests'], t.io)).toBe(3);
    expect(t.err.join('')).toMatch(/run vend login/);
  });

  it('audit turns an age into an ISO time and follows the cursor', async () => {
    api.on('GET /v1/audit', (req) =>
      req.query.get('cursor')
        ? {
            body: {
              records: [{ id: '2', time: NOW.toISOString(), decision: 'denied', reasonCode: 'not_entitled' }],
            },
          }
        : {
            body: {
              records: [{ id: '1', time: NOW.toISOString(), decision: 'issued', accessKeyId: 'ASIA1' }],
              cursor: 'c1',
            },
          },
    );
    const t = io({ VEND_TOKEN: aliceToken });

    expect(await main(['audit', '--since', '1h', '--entitlement', 'prod-admin', '--json'], t.io)).toBe(0);

    expect(api.seen[0]?.query.get('since')).toBe('2026-11-29T09:00:00.000Z');
    expect(api.seen[0]?.query.get('entitlement')).toBe('prod-admin');
    expect(JSON.parse(t.out.join('')).map((r: { id: string }) => r.id)).toEqual(['1', '2']);
  });
});

describe('vend request --wait', () => {
  it('polls until approved, prints each change, then vends through the request', async () => {
    const states = ['pending', 'pending', 'approved'];
    api.on('POST /v1/requests', {
      status: 201,
      body: { id: 'r-9', entitlement: 'prod-admin', status: 'pending', votes: [], approvalsRequired: 2 },
    });
    api.on('GET /v1/requests/r-9', () => {
      const status = states.shift() ?? 'approved';
      return {
        body: {
          id: 'r-9',
          entitlement: 'prod-admin',
          status,
          votes:
            status === 'pending'
              ? [{ label: 'bob', decision: 'approve' }]
              : [{ decision: 'approve' }, { decision: 'approve' }],
          approvalsRequired: 2,
        },
      };
    });
    api.on('POST /v1/requests/r-9/credentials', {
      body: vendBody({ entitlement: 'prod-admin', expiration: LATER }),
    });
    const t = io({ VEND_TOKEN: aliceToken });

    const code = await main(
      ['request', 'prod-admin', '--reason', 'INC-1', '--duration', '30m', '--format', 'env'],
      t.io,
    );

    expect(code).toBe(0);
    expect(JSON.parse(api.seen[0]?.body ?? '')).toEqual({
      entitlement: 'prod-admin',
      reason: 'INC-1',
      durationSeconds: 1800,
    });
    expect(t.err.join('')).toBe(
      'request r-9 (prod-admin): pending, 0/2 approvals\nrequest r-9 (prod-admin): pending, 1/2 approvals\nrequest r-9 (prod-admin): approved\n',
    );
    expect(t.out.join('')).toContain("export AWS_ACCESS_KEY_ID='ASIAFAKEFAKEFAKE0001'");
  });

  it('on a terminal, redraws one spinner line in place and ends it with the outcome', async () => {
    const states = ['pending', 'approved'];
    api.on('POST /v1/requests', { body: { id: 'r-5', entitlement: 'prod-admin', status: 'pending' } });
    api.on('GET /v1/requests/r-5', () => ({
      body: { id: 'r-5', entitlement: 'prod-admin', status: states.shift() ?? 'approved' },
    }));
    const t = io({ VEND_TOKEN: aliceToken }, { isTTY: true });

    expect(await main(['request', 'prod-admin', '--reason', 'x', '--wait'], t.io)).toBe(0);

    const err = t.err.join('');
    expect(err).toContain('\r\x1b[2K⠋ request r-5 (prod-admin): pending (0s, Ctrl-C to stop waiting)');
    expect(err).toContain('\r\x1b[2K⠙ request r-5 (prod-admin): pending');
    expect(err.endsWith('\r\x1b[2Krequest r-5 (prod-admin): approved\n')).toBe(true);
    expect(t.out.join('')).toBe('r-5\n');
  });

  it('a denied request ends the wait with exit 1', async () => {
    api.on('POST /v1/requests', { body: { id: 'r-2', entitlement: 'prod-admin', status: 'pending' } });
    api.on('GET /v1/requests/r-2', {
      body: {
        id: 'r-2',
        entitlement: 'prod-admin',
        status: 'denied',
        votes: [{ label: 'bob', decision: 'deny', comment: 'use staging' }],
      },
    });
    const t = io({ VEND_TOKEN: aliceToken });

    expect(await main(['request', 'prod-admin', '--reason', 'x', '--wait'], t.io)).toBe(1);
    expect(t.err.join('')).toMatch(/vend: request r-2 for prod-admin was denied by bob: use staging\n$/);
  });

  it('Ctrl-C while waiting leaves the request and says so (exit 130)', async () => {
    api.on('POST /v1/requests', { body: { id: 'r-3', entitlement: 'prod-admin', status: 'pending' } });
    const ctrlC = new AbortController();
    const t = io(
      { VEND_TOKEN: aliceToken },
      {
        signal: ctrlC.signal,
        sleep: async (_ms, signal) => {
          ctrlC.abort();
          if (signal?.aborted) {
            const { InterruptedError } = await import('../../../lib/cli/errors');
            throw new InterruptedError('interrupted');
          }
        },
      },
    );

    expect(await main(['request', 'prod-admin', '--reason', 'x', '--wait'], t.io)).toBe(130);
    expect(t.err.join('')).toMatch(/vend: stopped waiting; request r-3 is left as it is \(pending\)/);
    expect(api.seen.filter((s) => s.method !== 'POST')).toEqual([]);
  });
});

describe('vend login', () => {
  it('runs the device flow, honours slow_down, stores the token 0600 and uses it', async () => {
    const issuer = `${api.url}/oidc`;
    const polls = ['authorization_pending', 'slow_down'];
    const access = fakeJwt({
      iss: issuer,
      sub: 'alice-sub',
      preferred_username: 'alice',
      exp: NOW.getTime() / 1000 + 3600,
    });
    api.on('GET /oidc/.well-known/openid-configuration', {
      body: {
        device_authorization_endpoint: `${issuer}/device_authorization`,
        token_endpoint: `${issuer}/token`,
      },
    });
    api.on('POST /oidc/device_authorization', {
      body: {
        device_code: 'dc',
        user_code: 'BCDF-GHJK',
        verification_uri: `${issuer}/device`,
        expires_in: 600,
        interval: 1,
      },
    });
    api.on('POST /oidc/token', () => {
      const e = polls.shift();
      return e
        ? { status: 400, body: { error: e } }
        : { body: { access_token: access, refresh_token: 'rt', expires_in: 3600, token_type: 'Bearer' } };
    });
    const waits: number[] = [];
    const t = io({ VEND_OIDC_ISSUER: issuer }, { sleep: async (ms) => void waits.push(ms) });

    expect(await main(['login'], t.io)).toBe(0);

    expect(t.err.join('')).toContain(`open ${issuer}/device and enter the code BCDF-GHJK`);
    expect(t.err.join('')).toContain('logged in as alice');
    expect(waits).toEqual([1000, 1000, 6000]);
    expect((await stat(join(home, 'config', 'token.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, 'config'))).mode & 0o777).toBe(0o700);
    expect(t.out.join('')).not.toContain(access);

    api.on('GET /v1/entitlements', { body: { entitlements: [] } });
    await main(['entitlements', '--json'], io().io);
    expect(api.seen.at(-1)?.headers.authorization).toBe(`Bearer ${access}`);
  });

  it('refreshes an expired stored token, and asks to log in again when refresh fails', async () => {
    const { writeStoredToken } = await import('../../../lib/cli/auth');
    const issuer = `${api.url}/oidc`;
    const fresh = fakeJwt({ iss: issuer, sub: 'alice-sub', exp: NOW.getTime() / 1000 + 3600 });
    const env = io().io.env;
    await writeStoredToken(env, {
      issuer,
      clientId: 'vend-cli',
      accessToken: 'old',
      expiresAt: NOW.getTime() - 1,
      refreshToken: 'rt-1',
    });
    api.on('GET /oidc/.well-known/openid-configuration', {
      body: { device_authorization_endpoint: `${issuer}/d`, token_endpoint: `${issuer}/token` },
    });
    api.on('POST /oidc/token', (req) =>
      new URLSearchParams(req.body).get('refresh_token') === 'rt-1'
        ? { body: { access_token: fresh, expires_in: 3600 } }
        : { status: 400, body: { error: 'invalid_grant' } },
    );
    api.on('GET /v1/entitlements', { body: { entitlements: [] } });

    expect(await main(['entitlements'], io().io)).toBe(0);
    expect(api.seen.at(-1)?.headers.authorization).toBe(`Bearer ${fresh}`);

    await writeStoredToken(env, {
      issuer,
      clientId: 'vend-cli',
      accessToken: 'old',
      expiresAt: NOW.getTime() - 1,
      refreshToken: 'revoked',
    });
    const t = io();
    expect(await main(['entitlements'], t.io)).toBe(3);
    expect(t.err.join('')).toBe(
      'vend: your vend login has expired and could not be refreshed: run vend login\n',
    );
  });

  it('Ctrl-C while waiting for approval stores nothing (exit 130)', async () => {
    const issuer = `${api.url}/oidc`;
    api.on('GET /oidc/.well-known/openid-configuration', {
      body: {
        device_authorization_endpoint: `${issuer}/device_authorization`,
        token_endpoint: `${issuer}/token`,
      },
    });
    api.on('POST /oidc/device_authorization', {
      body: { device_code: 'dc', user_code: 'BCDF-GHJK', verification_uri: `${issuer}/device`, interval: 5 },
    });
    const ctrlC = new AbortController();
    ctrlC.abort();
    const t = io({ VEND_OIDC_ISSUER: issuer }, { signal: ctrlC.signal, sleep: undefined });

    expect(await main(['login'], t.io)).toBe(130);
    expect(t.err.join('')).toMatch(/vend: login stopped; nothing was stored\n$/);
    await expect(stat(join(home, 'config', 'token.json'))).rejects.toThrow(/ENOENT/);
  });

  it('without any issuer configured it says how to configure one (exit 2)', async () => {
    const t = io();

    expect(await main(['login'], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/no OIDC issuer configured: pass --issuer URL, set VEND_OIDC_ISSUER/);
  });
});

describe('cache identity', () => {
  it('a person is named by issuer and subject; an opaque token only by its hash', async () => {
    const { VendClient } = await import('../../../lib/cli/client');
    const person = new VendClient({ baseUrl: api.url, auth: { kind: 'person', token: aliceToken } });
    const opaque = new VendClient({
      baseUrl: api.url,
      auth: { kind: 'person', token: 'opaque-secret-token-value' },
    });

    expect(await person.identity()).toBe('oidc:https://issuer#alice-sub');
    expect(await opaque.identity()).toMatch(/^token:[0-9a-f]{32}$/);
    expect(await opaque.identity()).not.toContain('value');
  });
});
