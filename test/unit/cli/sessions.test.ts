/**
 * `vend console`, `vend sessions` and `vend revoke` against an in-process fake API: what is sent,
 * that the sign-in URL goes to the browser (and to stdout only with --print, or when no browser
 * could be started), and the opener per platform. (The real thing runs in test/e2e/cli.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { browserCommand } from '../../../lib/cli/commands/sessions';
import { type CliIo, main } from '../../../lib/cli/main';
import { type FakeApi, fakeJwt, startFakeApi } from './fake-api';

let api: FakeApi;
let home: string;
beforeAll(async () => {
  api = await startFakeApi();
});
afterAll(async () => {
  await api.close();
});
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'vend-cli-sessions-'));
  api.seen.length = 0;
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const NOW = new Date('2026-11-29T10:00:00Z');
const token = fakeJwt({ iss: 'https://issuer', sub: 'alice-sub', exp: NOW.getTime() / 1000 + 3600 });
const SIGNIN = 'https://signin.aws.amazon.com/federation?Action=login&Destination=x&SigninToken=tok';

function io(extra: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const opened: string[] = [];
  return {
    out,
    err,
    opened,
    io: {
      stdout: (s: string) => out.push(s),
      stderr: (s: string) => err.push(s),
      env: { HOME: home, VEND_CONFIG_DIR: join(home, 'c'), VEND_URL: api.url, VEND_TOKEN: token },
      cwd: home,
      now: () => NOW,
      isTTY: false,
      openUrl: async (u: string) => void opened.push(u),
      ...extra,
    } satisfies CliIo,
  };
}

const consoleAnswer = {
  url: SIGNIN,
  expiresAt: '2026-11-29T10:15:00Z',
  entitlement: 'prod-readonly',
  auditId: '01KB0000000000000000000001',
  assumedRoleArn: 'arn:aws:sts::444455556666:assumed-role/ProdReadOnly/vend-alice-01KB0000000000000000000001',
};

describe('vend console', () => {
  it('asks POST /v1/console and opens the URL in the browser; stdout stays empty', async () => {
    api.on('POST /v1/console', { body: consoleAnswer });
    const t = io();

    const code = await main(['console', 'prod-readonly', '--duration', '15m'], t.io);

    expect(code).toBe(0);
    expect(JSON.parse(api.seen[0]?.body ?? '')).toEqual({
      entitlement: 'prod-readonly',
      durationSeconds: 900,
    });
    expect(t.opened).toEqual([SIGNIN]);
    expect(t.out).toEqual([]);
    expect(t.err.join('')).toMatch(/opened the AWS console .*assumed-role\/ProdReadOnly/);
  });

  it('--print prints the URL instead; --request goes inside the grant', async () => {
    api.on('POST /v1/requests/01KR0000000000000000000001/console', { body: consoleAnswer });
    const t = io();

    const code = await main(
      ['console', 'prod-admin', '--request', '01KR0000000000000000000001', '--print'],
      t.io,
    );

    expect(code).toBe(0);
    expect(t.out.join('')).toBe(`${SIGNIN}\n`);
    expect(t.opened).toEqual([]);
    expect(JSON.parse(api.seen[0]?.body ?? '')).toEqual({ entitlement: 'prod-admin' });
  });

  it('without a browser the URL is printed, so it can still be used', async () => {
    api.on('POST /v1/console', { body: consoleAnswer });
    const t = io({ openUrl: async () => Promise.reject(new Error('spawn xdg-open ENOENT')) });

    expect(await main(['console', 'prod-readonly'], t.io)).toBe(0);

    expect(t.out.join('')).toBe(`${SIGNIN}\n`);
    expect(t.err.join('')).toMatch(/could not open a browser/);
  });

  it('a refusal is one line, exit 1', async () => {
    api.on('POST /v1/console', {
      status: 403,
      body: {
        type: 'x',
        title: 'Not entitled',
        status: 403,
        code: 'not_entitled',
        detail: 'no',
        requestId: 'r',
      },
    });
    const t = io();
    expect(await main(['console', 'prod-readonly'], t.io)).toBe(1);
    expect(t.err.join('')).toMatch(/^vend: [^\n]+\n$/);
  });
});

describe('vend sessions / vend revoke', () => {
  it('sessions --all asks all=true; revoke posts the reason to the session or the caller route', async () => {
    api.on('GET /v1/sessions', { body: { sessions: [] } });
    api.on('POST /v1/sessions/01KB0000000000000000000001/revoke', {
      body: {
        auditId: '01KB0000000000000000000001',
        caller: { id: 'i#a', kind: 'person', label: 'alice@example.com' },
        entitlement: 'prod-readonly',
        delivery: 'console',
      },
    });
    api.on('POST /v1/sessions/revoke', {
      body: { caller: 'i#a', before: '2026-11-29T10:00:00Z', revoked: [] },
    });
    const t = io();

    expect(await main(['sessions', '--all'], t.io)).toBe(0);
    expect(await main(['revoke', '01KB0000000000000000000001', '--reason', 'lost'], t.io)).toBe(0);
    expect(await main(['revoke', '--caller', 'i#a', '--reason', 'left'], t.io)).toBe(0);

    expect(api.seen.map((s) => `${s.method} ${s.path}?${s.query}`)).toEqual([
      'GET /v1/sessions?all=true',
      'POST /v1/sessions/01KB0000000000000000000001/revoke?',
      'POST /v1/sessions/revoke?',
    ]);
    expect(JSON.parse(api.seen[1]?.body ?? '')).toEqual({ reason: 'lost' });
    expect(JSON.parse(api.seen[2]?.body ?? '')).toEqual({ caller: 'i#a', reason: 'left' });
    expect(t.out.join('')).toBe(
      'revoked 01KB0000000000000000000001 (prod-readonly, alice@example.com, console)\n',
    );
    expect(t.err.join('')).toBe('no live sessions\n');
  });
});

describe('browserCommand', () => {
  it('open on macOS, start on Windows (with & escaped for cmd), xdg-open elsewhere', () => {
    expect(browserCommand('darwin', SIGNIN)).toEqual(['open', [SIGNIN]]);
    expect(browserCommand('linux', SIGNIN)).toEqual(['xdg-open', [SIGNIN]]);
    expect(browserCommand('win32', 'https://x/?a=1&b=2')).toEqual([
      'cmd',
      ['/c', 'start', '""', 'https://x/?a=1^&b=2'],
    ]);
  });
});
