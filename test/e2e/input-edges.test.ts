/**
 * Client input at the edges, through the local gateway and the real handlers (issue 11, items 3
 * and 4):
 * - every route with a path id answers a 10 kB id, a NUL byte, `..%2F..` and non-ASCII ids with
 *   404 `not_found`, never a 5xx (a 10 kB id used to reach DynamoDB and come back 503);
 * - query parameters that are unknown, huge or malformed are 400 `invalid_request` on every route;
 * - 7200 s (and 899, 0, negative, fractional, huge, string durations) is 400
 *   `duration_out_of_range` on every route that takes a duration, and on Slack an ephemeral refusal;
 *   none of them stores anything.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LOCAL_TEAM_ID } from '../../infra/local/slack/sink';
import { LOCAL_SLACK_APP_ID, LOCAL_SLACK_CHANNELS } from '../../infra/local/stack';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';

const stack = withStack();
const REQUESTS_TABLE = 'vend-dev-requests';
const root = fileURLToPath(new URL('../../', import.meta.url));

let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
beforeAll(async () => {
  ({ dynamodb } = await import('../../lib/wiring/clients'));
});

interface Answer {
  status: number;
  contentType: string | null;
  json: Record<string, unknown>;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { raw: text.slice(0, 200) };
  }
  return { status: res.status, contentType: res.headers.get('content-type'), json };
}

/** A person's call; `body` is sent as is when a string (raw JSON), else serialised. */
async function as(user: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await stack.token(user)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return answer(res);
}

/** Requests, reviews and break-glass uses stored (the Slack replay guard's own items aside). */
async function requestItems(): Promise<number> {
  return (await scanTable(dynamodb, REQUESTS_TABLE)).filter((i) =>
    /^(REQ|REVIEW|BREAKGLASS)#/.test(String(i.pk)),
  ).length;
}

/** The routes of serverless.yml whose path carries `{id}`, read from the one route table. */
function routesWithId(): { method: string; path: string }[] {
  const doc = parse(readFileSync(`${root}serverless.yml`, 'utf8'), { logLevel: 'error' }) as {
    functions: Record<string, { events?: { httpApi?: { method: string; path: string } }[] }>;
  };
  return Object.values(doc.functions)
    .flatMap((f) => f.events ?? [])
    .flatMap((e) => (e.httpApi?.path.includes('{id}') ? [e.httpApi] : []))
    .map((r) => ({ method: r.method.toUpperCase(), path: r.path }));
}

// As they go on the wire (already percent-encoded where a client would encode them). `%2e%2e` is
// not here: a WHATWG URL client resolves it as `..` before sending, so it never reaches a route.
const HOSTILE_IDS: [string, string][] = [
  ['a 10 kB id', 'A'.repeat(10_240)],
  ['a NUL byte', '%00'],
  ['a ULID with a NUL byte', `01KB0000000000000000000000%00`],
  ['path traversal', '..%2F..'],
  ['non-ASCII', encodeURIComponent('部署🔥')],
  ['a ULID in a look-alike alphabet', encodeURIComponent('01KB00000000000000000000０Ａ')],
  ['a lower-case ULID', '01kb0000000000000000000000'],
];

describe('every route with a path id refuses hostile ids with 404, never a 5xx', () => {
  const routes = routesWithId();

  it('the route table has the id routes this covers', () => {
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'GET /v1/requests/{id}',
        'POST /v1/requests/{id}/approve',
        'POST /v1/requests/{id}/deny',
        'POST /v1/requests/{id}/credentials',
        'POST /v1/requests/{id}/cancel',
        'POST /v1/reviews/{id}/sign-off',
      ]),
    );
  });

  for (const route of routesWithId()) {
    it(`${route.method} ${route.path}`, async () => {
      const before = await requestItems();

      const answers = await Promise.all(
        HOSTILE_IDS.map(async ([what, id]) => ({
          what,
          ...(await as(
            'bob',
            route.method,
            route.path.replace('{id}', id),
            route.method === 'POST' ? {} : undefined,
          )),
        })),
      );

      for (const a of answers) {
        expect({ what: a.what, status: a.status, code: a.json.code }).toEqual({
          what: a.what,
          status: 404,
          code: 'not_found',
        });
        expect(a.contentType).toBe('application/problem+json');
      }
      expect(await requestItems()).toBe(before);
    });
  }

  it('a well-formed id that does not exist is the same 404 (nothing to tell the two apart)', async () => {
    const unknown = await as('bob', 'GET', '/v1/requests/01KB0000000000000000000000');
    const hostile = await as('bob', 'GET', `/v1/requests/${'A'.repeat(10_240)}`);

    expect([unknown.status, unknown.json.code]).toEqual([404, 'not_found']);
    expect([hostile.status, hostile.json.code]).toEqual([404, 'not_found']);
  });
});

describe('query parameters are checked for shape and length on every route', () => {
  const huge = 'x'.repeat(10_240);
  const cases: [string, string, string][] = [
    ['bob', 'GET', `/v1/requests?status=${huge}`],
    ['bob', 'GET', '/v1/requests?status=maybe'],
    ['bob', 'GET', '/v1/requests?status=pending&status=approved'],
    ['bob', 'GET', '/v1/requests?status=%00'],
    ['bob', 'GET', '/v1/requests?mine=yes'],
    ['bob', 'GET', `/v1/requests?mine=${huge}`],
    ['bob', 'GET', '/v1/requests?cursor=abc'],
    ['bob', 'GET', `/v1/reviews?status=${huge}`],
    ['bob', 'GET', `/v1/reviews?status=${encodeURIComponent('open\u0000')}`],
    ['erin', 'GET', `/v1/audit?since=${huge}`],
    ['erin', 'GET', `/v1/audit?until=${encodeURIComponent('2026-11-29T00:00:00Z\u0000')}`],
    ['erin', 'GET', `/v1/audit?cursor=${'A'.repeat(10_240)}`],
    ['erin', 'GET', '/v1/audit?cursor=%FF%FE'],
    ['erin', 'GET', `/v1/audit?caller=${huge}`],
    ['erin', 'GET', `/v1/audit?entitlement=${encodeURIComponent('部署')}`],
    ['erin', 'GET', '/v1/audit?limit=99999'],
    ['erin', 'GET', '/v1/audit?mine=true'],
    ['alice', 'GET', '/v1/entitlements?x=1'],
    ['alice', 'GET', `/v1/requests/01KB0000000000000000000000?${huge}=1`],
    ['alice', 'POST', '/v1/credentials?entitlement=prod-readonly'],
    ['alice', 'POST', '/v1/requests?breakGlass=true'],
  ];
  const label = (path: string) =>
    path.replace(/x{64,}/g, (m) => `x×${m.length}`).replace(/A{64,}/g, (m) => `A×${m.length}`);

  it.each(cases.map(([u, m, p]) => [u, m, label(p), p]))(
    '%s: %s %s → 400 invalid_request',
    async (user, method, _, path) => {
      const a = await as(
        user,
        method,
        path,
        method === 'POST' ? { entitlement: 'prod-readonly' } : undefined,
      );

      expect([a.status, a.json.code]).toEqual([400, 'invalid_request']);
      expect(String(a.json.detail)).not.toContain('x'.repeat(64));
    },
  );

  it('on the service routes too (SigV4 signs the query)', async () => {
    const list = await answer(await stack.signedFetch('ci', 'GET', '/v1/service/entitlements?cursor=abc'));
    const vend = await answer(
      await stack.signedFetch('ci', 'POST', `/v1/service/credentials?x=${'y'.repeat(5000)}`, {
        entitlement: 'prod-readonly',
      }),
    );

    expect([list.status, list.json.code]).toEqual([400, 'invalid_request']);
    expect([vend.status, vend.json.code]).toEqual([400, 'invalid_request']);
  });

  it('health and Slack take no query either', async () => {
    const health = await answer(await fetch(`${stack.apiUrl}/v1/health?x=1`));
    const slack = await answer(
      await fetch(`${stack.apiUrl}/v1/slack/commands?team_id=T1`, { method: 'POST', body: 'x=1' }),
    );

    expect([health.status, health.json.code]).toEqual([400, 'invalid_request']);
    expect([slack.status, slack.json.code]).toEqual([400, 'invalid_request']);
  });

  it('the parameters each route does take still work', async () => {
    expect((await as('bob', 'GET', '/v1/requests?status=pending&mine=false')).status).toBe(200);
    expect((await as('bob', 'GET', '/v1/requests?status=')).status).toBe(200);
    expect((await as('carol', 'GET', '/v1/reviews?status=signed-off')).status).toBe(200);
    expect((await as('erin', 'GET', '/v1/audit?since=2026-01-01T00:00:00Z&limit=5')).status).toBe(200);
  });

  it('headers a handler reads (user-agent into the audit trail) and body ids used as keys never make a 5xx', async () => {
    const ua = await fetch(`${stack.apiUrl}/v1/credentials`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await stack.token('alice')}`,
        'content-type': 'application/json',
        'user-agent': `ua-${'u'.repeat(8000)}`,
      },
      body: JSON.stringify({ entitlement: 'prod-readonly', durationSeconds: 900 }),
    });
    const bigEntitlement = await as('alice', 'POST', '/v1/credentials', { entitlement: 'a'.repeat(10_240) });
    const nulEntitlement = await as('alice', 'POST', '/v1/requests', {
      entitlement: 'prod-admin\u0000',
      reason: 'x',
    });

    expect(ua.status).toBe(200);
    await ua.body?.cancel();
    expect([bigEntitlement.status, bigEntitlement.json.code]).toEqual([400, 'invalid_request']);
    expect([nulEntitlement.status, nulEntitlement.json.code]).toEqual([400, 'invalid_request']);
  });
});

/** Raw JSON literals for durationSeconds: what a client can put on the wire. */
const BAD_DURATIONS = [
  '7200',
  '3601',
  '899',
  '0',
  '-900',
  '900.5',
  '1e308',
  '1e999',
  '"900"',
  'null',
  'true',
];

describe('every duration on every route is checked: 400 duration_out_of_range', () => {
  let grant: string;

  beforeAll(async () => {
    // An active break-glass grant (900 s) of dave's, for the vend-inside-a-grant route.
    const glass = await as('dave', 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      breakGlass: true,
      ticket: 'INC-11',
      durationSeconds: 900,
      reason: 'input-edges fixture',
    });
    expect(glass.status).toBe(201);
    grant = String(glass.json.id);
  });

  const routes: [string, (d: string) => Promise<Answer>][] = [
    [
      'POST /v1/service/credentials (SigV4)',
      async (d) =>
        answer(
          await stack.signedFetch(
            'ci',
            'POST',
            '/v1/service/credentials',
            `{"entitlement":"prod-readonly","durationSeconds":${d}}`,
            { 'content-type': 'application/json' },
          ),
        ),
    ],
    [
      'POST /v1/credentials',
      (d) => as('alice', 'POST', '/v1/credentials', `{"entitlement":"prod-readonly","durationSeconds":${d}}`),
    ],
    [
      'POST /v1/requests',
      (d) =>
        as(
          'alice',
          'POST',
          '/v1/requests',
          `{"entitlement":"prod-admin","reason":"INC-11","durationSeconds":${d}}`,
        ),
    ],
    [
      'POST /v1/requests (break-glass)',
      (d) =>
        as(
          'dave',
          'POST',
          '/v1/requests',
          `{"entitlement":"prod-admin","breakGlass":true,"ticket":"INC-11","reason":"db down","durationSeconds":${d}}`,
        ),
    ],
    [
      'POST /v1/requests/{id}/credentials',
      (d) => as('dave', 'POST', `/v1/requests/${grant}/credentials`, `{"durationSeconds":${d}}`),
    ],
  ];

  for (const [name, send] of routes) {
    it(`${name}: ${BAD_DURATIONS.join(', ')} → 400 duration_out_of_range, nothing stored`, async () => {
      const before = await requestItems();

      const answers: [string, number, unknown][] = [];
      for (const d of BAD_DURATIONS) {
        const a = await send(d);
        answers.push([d, a.status, a.json.code]);
      }

      expect(answers).toEqual(BAD_DURATIONS.map((d) => [d, 400, 'duration_out_of_range']));
      expect(await requestItems()).toBe(before);
    });
  }

  it('7200 s says why: the one-hour cap of role chaining', async () => {
    const a = await as('alice', 'POST', '/v1/credentials', {
      entitlement: 'prod-readonly',
      durationSeconds: 7200,
    });

    expect(String(a.json.detail)).toContain('between 900 and 3600 seconds');
    expect(String(a.json.detail)).toContain('role chaining');
  });

  it('the refused break-glass attempts were not counted as uses, and nothing was broadcast', () => {
    const broadcasts = stack.stack.slack
      .calls({ channel: LOCAL_SLACK_CHANNELS.security, method: 'chat.postMessage' })
      .filter((c) => JSON.stringify(c.args).includes('db down'));

    expect(broadcasts).toHaveLength(0);
  });

  it('inside the grant a valid duration is shortened to what is left, not refused', async () => {
    const a = await as('dave', 'POST', `/v1/requests/${grant}/credentials`, { durationSeconds: 3600 });

    expect(a.status).toBe(200);
    expect(a.json.durationSeconds).toBe(900);
  });
});

describe('Slack: a duration outside the range is an ephemeral refusal that changes nothing', () => {
  function signed(body: Buffer): Record<string, string> {
    const secret = stack.stack.handlerEnv.VEND_SLACK_SIGNING_SECRET ?? '';
    const ts = String(Math.floor(Date.now() / 1000));
    const mac = createHmac('sha256', secret).update(`v0:${ts}:`).update(body).digest('hex');
    return {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': `v0=${mac}`,
    };
  }

  async function command(user: string, text: string, team = LOCAL_TEAM_ID): Promise<Answer> {
    const body = Buffer.from(
      new URLSearchParams({
        command: '/vend',
        text,
        team_id: team,
        api_app_id: LOCAL_SLACK_APP_ID,
        user_id: user,
        channel_id: 'C0WHEREVER',
      }).toString(),
    );
    return answer(
      await fetch(`${stack.apiUrl}/v1/slack/commands`, { method: 'POST', headers: signed(body), body }),
    );
  }

  it.each([
    ['U0ALICE', 'request prod-admin 2h INC-11 db failover'],
    ['U0ALICE', 'request prod-admin 7200 INC-11 db failover'],
    ['U0ALICE', 'request prod-admin 899 INC-11 db failover'],
    ['U0ALICE', 'request prod-admin 0 INC-11 db failover'],
    ['U0ALICE', 'request prod-admin 1.5h INC-11 db failover'],
    ['U0DAVE', 'break-glass prod-admin 2h INC-11 db down'],
    ['U0DAVE', 'break-glass prod-admin 1h1s INC-11 db down'],
  ])('%s: /vend %s → 200 ephemeral refusal, nothing stored', async (user, text) => {
    const before = await requestItems();

    const a = await command(user, text);

    expect(a.status).toBe(200);
    expect(a.json.response_type).toBe('ephemeral');
    expect(String(a.json.text)).toMatch(/^vend: .*duration/s);
    expect(String(a.json.text)).not.toMatch(/^Request /);
    expect(await requestItems()).toBe(before);
  });
});

describe('Slack: ids in a correctly signed body are keys too, and never make a 5xx', () => {
  function signedBody(fields: Record<string, string>): { body: Buffer; headers: Record<string, string> } {
    const body = Buffer.from(new URLSearchParams(fields).toString());
    const secret = stack.stack.handlerEnv.VEND_SLACK_SIGNING_SECRET ?? '';
    const ts = String(Math.floor(Date.now() / 1000));
    const mac = createHmac('sha256', secret).update(`v0:${ts}:`).update(body).digest('hex');
    return {
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': `v0=${mac}`,
      },
    };
  }
  const huge = 'U'.repeat(10_240);
  const command = (user: string) =>
    signedBody({
      command: '/vend',
      text: 'help',
      team_id: LOCAL_TEAM_ID,
      api_app_id: LOCAL_SLACK_APP_ID,
      user_id: user,
    });
  const click = (user: string, requestId: string) =>
    signedBody({
      payload: JSON.stringify({
        type: 'block_actions',
        api_app_id: LOCAL_SLACK_APP_ID,
        team: { id: LOCAL_TEAM_ID },
        user: { id: user },
        actions: [{ action_id: 'vend_approve', value: requestId }],
      }),
    });

  it.each([
    ['a command from a 10 kB user id', 'commands', () => command(huge)],
    ['a command from a user id with a NUL byte', 'commands', () => command('U0BOB\u0000')],
    ['a command from a non-ASCII user id', 'commands', () => command('U0部署')],
    ['a click from a 10 kB user id', 'interactions', () => click(huge, '01KB0000000000000000000000')],
    ['a click carrying a 10 kB request id', 'interactions', () => click('U0BOB', 'A'.repeat(10_240))],
    ['a click carrying ../.. as request id', 'interactions', () => click('U0BOB', '../..')],
  ] as const)('%s → 4xx, never 5xx', async (_, route, make) => {
    const { body, headers } = make();

    const a = await answer(
      await fetch(`${stack.apiUrl}/v1/slack/${route}`, { method: 'POST', headers, body }),
    );

    expect(a.status).toBeGreaterThanOrEqual(400);
    expect(a.status).toBeLessThan(500);
  });
});
