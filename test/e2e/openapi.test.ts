/**
 * Every route's answers held to openapi.yaml, against the local stack: the success and the main
 * refusals of each route, as real clients get them through the gateway (its authorizers included).
 * Each answer goes through `expectMatchesOpenApi`, so an undocumented status, content type, header
 * or field fails here; each request body that the API accepted is checked against the documented
 * request schema, so the description accepts what the API accepts. The last test fails when a route
 * of serverless.yml was never exercised here (a success and a refusal each).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dynamoOutageFor } from '../../infra/local/aws/endpoint';
import { LOCAL_TEAM_ID } from '../../infra/local/slack/sink';
import { LOCAL_SLACK_APP_ID, LOCAL_SLACK_CHANNELS, REPO_ROOT } from '../../infra/local/stack';
import type { AccessRequest, AuditPage, EntitlementList, Review, VendResponse } from '../../lib/api/types';
import { expectMatchesOpenApi, expectRequestMatchesOpenApi, validatedResponses } from '../support/openapi';
import { withStack } from '../support/stack';

const stack = withStack();

/** A well-shaped request id that names nothing. */
const UNKNOWN_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

interface Call {
  user?: string;
  body?: unknown;
  /** Raw body text (sent as is, with `contentType`). */
  raw?: string;
  contentType?: string;
  query?: string;
}

/** A person's call (or an anonymous one without `user`) through the gateway. */
async function person(method: string, path: string, opts: Call = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (opts.user) headers.authorization = `Bearer ${await stack.token(opts.user)}`;
  let body: string | undefined;
  if (opts.raw !== undefined) {
    body = opts.raw;
    headers['content-type'] = opts.contentType ?? 'application/json';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  return fetch(`${stack.apiUrl}${path}${opts.query ?? ''}`, { method, headers, body });
}

/**
 * Calls a route and holds the answer to openapi.yaml; a 2xx also holds the JSON body sent to the
 * documented request schema.
 */
async function expectRoute<T = unknown>(
  method: string,
  template: string,
  status: number,
  path: string,
  opts: Call = {},
): Promise<T> {
  const res = await person(method, path, opts);
  const out = (await expectMatchesOpenApi(method, template, status, res)) as T;
  if (status < 300 && opts.body !== undefined) expectRequestMatchesOpenApi(method, template, opts.body);
  return out;
}

async function service<T = unknown>(
  method: string,
  template: string,
  status: number,
  path: string,
  body?: object,
): Promise<T> {
  const res = await stack.signedFetch('ci', method, path, body);
  const out = (await expectMatchesOpenApi(method, template, status, res)) as T;
  if (status < 300 && body !== undefined) expectRequestMatchesOpenApi(method, template, body);
  return out;
}

const codeOf = (body: unknown) => (body as { code?: string } | undefined)?.code;

describe('GET /v1/health', () => {
  it('200 for anyone; 400 for a query parameter it does not take', async () => {
    await expectRoute('GET', '/v1/health', 200, '/v1/health');
    expect(codeOf(await expectRoute('GET', '/v1/health', 400, '/v1/health', { query: '?x=1' }))).toBe(
      'invalid_request',
    );
  });
});

describe('service routes (SigV4)', () => {
  it('GET /v1/service/entitlements: 200 signed; 403 unsigned (API Gateway); 400 for a query parameter', async () => {
    const list = await service<EntitlementList>(
      'GET',
      '/v1/service/entitlements',
      200,
      '/v1/service/entitlements',
    );
    const unsigned = await fetch(`${stack.apiUrl}/v1/service/entitlements`);

    expect(list.entitlements.map((e) => e.id)).toContain('prod-deploy');
    expect(await expectMatchesOpenApi('GET', '/v1/service/entitlements', 403, unsigned)).toEqual({
      message: 'Forbidden',
    });
    await service('GET', '/v1/service/entitlements', 400, '/v1/service/entitlements?x=1');
  });

  it('POST /v1/service/credentials: 200, and 400, 403 (vend and API Gateway) and 413', async () => {
    const path = '/v1/service/credentials';
    const vended = await service<VendResponse>('POST', path, 200, path, {
      entitlement: 'prod-s3-read',
      durationSeconds: 900,
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::my-prod-data-bucket/*' },
        ],
      },
      reason: 'nightly export',
    });

    expect(vended.entitlement).toBe('prod-s3-read');
    expect(
      codeOf(await service('POST', path, 400, path, { entitlement: 'prod-readonly', durationSeconds: 7200 })),
    ).toBe('duration_out_of_range');
    expect(
      codeOf(
        await service('POST', path, 400, path, {
          entitlement: 'prod-readonly',
          roleArn: 'arn:aws:iam::1:role/x',
        }),
      ),
    ).toBe('invalid_request');
    expect(codeOf(await service('POST', path, 403, path, { entitlement: 'prod-admin' }))).toBe(
      'not_entitled',
    );
    expect(
      codeOf(
        await service('POST', path, 403, path, {
          entitlement: 'prod-s3-read',
          policy: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::my-prod-data-bucket/*' },
            ],
          },
        }),
      ),
    ).toBe('policy_exceeds_ceiling');
    expect(
      codeOf(
        await service('POST', path, 413, path, { entitlement: 'prod-readonly', reason: 'x'.repeat(70_000) }),
      ),
    ).toBe('payload_too_large');
    await expectMatchesOpenApi(
      'POST',
      path,
      403,
      await fetch(`${stack.apiUrl}${path}`, { method: 'POST', body: '{"entitlement":"prod-readonly"}' }),
    );
  });
});

describe('person routes (JWT)', () => {
  it('GET /v1/entitlements: 200 for alice and (empty) for mallory; 401 without a token; 400 for a query parameter', async () => {
    const alice = await expectRoute<EntitlementList>('GET', '/v1/entitlements', 200, '/v1/entitlements', {
      user: 'alice',
    });
    const mallory = await expectRoute<EntitlementList>('GET', '/v1/entitlements', 200, '/v1/entitlements', {
      user: 'mallory',
    });

    expect(alice.entitlements.find((e) => e.id === 'prod-admin')?.access).toEqual({
      use: false,
      request: true,
      breakGlass: false,
    });
    expect(mallory.entitlements).toEqual([]);
    expect(await expectRoute('GET', '/v1/entitlements', 401, '/v1/entitlements')).toEqual({
      message: 'Unauthorized',
    });
    await expectRoute('GET', '/v1/entitlements', 400, '/v1/entitlements', {
      user: 'alice',
      query: '?mine=1',
    });
  });

  it('POST /v1/credentials: 200; 403 approval_required and not_entitled; 400 not JSON; 401 without a token', async () => {
    const path = '/v1/credentials';

    await expectRoute('POST', path, 200, path, { user: 'alice', body: { entitlement: 'prod-readonly' } });
    const gated = await expectRoute('POST', path, 403, path, {
      user: 'alice',
      body: { entitlement: 'prod-admin' },
    });
    const stranger = await expectRoute('POST', path, 403, path, {
      user: 'mallory',
      body: { entitlement: 'prod-readonly' },
    });
    const text = await expectRoute('POST', path, 400, path, {
      user: 'alice',
      raw: 'entitlement=prod-readonly',
      contentType: 'text/plain',
    });
    await expectRoute('POST', path, 401, path, { body: { entitlement: 'prod-readonly' } });

    expect([codeOf(gated), codeOf(stranger), codeOf(text)]).toEqual([
      'approval_required',
      'not_entitled',
      'invalid_request',
    ]);
  });
});

describe('requests: create, read, vote, vend, cancel', () => {
  let approvedId: string;

  it('POST /v1/requests: 201 with Location; 400 without a reason; 403 for mallory', async () => {
    const created = await expectRoute<AccessRequest>('POST', '/v1/requests', 201, '/v1/requests', {
      user: 'alice',
      body: {
        entitlement: 'prod-admin',
        durationSeconds: 1800,
        reason: 'INC-7 rotate credentials',
        ticket: 'INC-7',
      },
    });
    approvedId = created.id;

    expect(created).toMatchObject({ status: 'pending', approvalsRequired: 2, votes: [] });
    expect(
      codeOf(
        await expectRoute('POST', '/v1/requests', 400, '/v1/requests', {
          user: 'alice',
          body: { entitlement: 'prod-admin' },
        }),
      ),
    ).toBe('invalid_request');
    expect(
      codeOf(
        await expectRoute('POST', '/v1/requests', 403, '/v1/requests', {
          user: 'mallory',
          body: { entitlement: 'prod-admin', reason: 'let me in' },
        }),
      ),
    ).toBe('not_entitled');
  });

  it('GET /v1/requests and /v1/requests/{id}: 200; 400 for a bad status; 404 for an unknown or malformed id', async () => {
    const mine = await expectRoute<{ requests: AccessRequest[] }>(
      'GET',
      '/v1/requests',
      200,
      '/v1/requests',
      {
        user: 'alice',
        query: '?mine=true&status=pending',
      },
    );
    await expectRoute('GET', '/v1/requests', 400, '/v1/requests', { user: 'alice', query: '?status=open' });
    await expectRoute('GET', '/v1/requests/{id}', 200, `/v1/requests/${approvedId}`, { user: 'bob' });
    await expectRoute('GET', '/v1/requests/{id}', 404, `/v1/requests/${UNKNOWN_ID}`, { user: 'alice' });
    await expectRoute('GET', '/v1/requests/{id}', 404, '/v1/requests/not-an-id', { user: 'alice' });
    // A request is shown to its requester and its approvers only.
    await expectRoute('GET', '/v1/requests/{id}', 404, `/v1/requests/${approvedId}`, { user: 'mallory' });

    expect(mine.requests.map((r) => r.id)).toContain(approvedId);
  });

  it('POST /v1/requests/{id}/approve: 403 self_approval; 200 for bob and carol; then 409', async () => {
    const approve = (user: string, status: number, body?: unknown) =>
      expectRoute<AccessRequest>(
        'POST',
        '/v1/requests/{id}/approve',
        status,
        `/v1/requests/${approvedId}/approve`,
        {
          user,
          body,
        },
      );

    expect(codeOf(await approve('alice', 403, {}))).toBe('self_approval');
    await approve('bob', 200, { comment: 'ok, INC-7 is real' });
    const approved = await approve('carol', 200, {});
    const late = await expectRoute('POST', '/v1/requests/{id}/deny', 409, `/v1/requests/${approvedId}/deny`, {
      user: 'bob',
      body: {},
    });

    expect(approved.status).toBe('approved');
    expect(approved.votes.map((v) => v.comment)).toContain('ok, INC-7 is real');
    expect(codeOf(late)).toBe('conflict');
  });

  it('POST /v1/requests/{id}/credentials: 200 inside the grant; 404 for someone else; 403 before approval', async () => {
    const path = `/v1/requests/${approvedId}/credentials`;
    const vended = await expectRoute<VendResponse>('POST', '/v1/requests/{id}/credentials', 200, path, {
      user: 'alice',
      body: { durationSeconds: 900 },
    });
    await expectRoute('POST', '/v1/requests/{id}/credentials', 404, path, { user: 'mallory', body: {} });
    const pending = await expectRoute<AccessRequest>('POST', '/v1/requests', 201, '/v1/requests', {
      user: 'alice',
      body: { entitlement: 'prod-admin', reason: 'INC-8 look at the logs' },
    });
    const early = await expectRoute(
      'POST',
      '/v1/requests/{id}/credentials',
      403,
      `/v1/requests/${pending.id}/credentials`,
      { user: 'alice', body: {} },
    );

    expect(vended.entitlement).toBe('prod-admin');
    expect(codeOf(early)).toBe('approval_required');
  });

  it('POST /v1/requests/{id}/deny: 200 denied by one approver', async () => {
    const req = await expectRoute<AccessRequest>('POST', '/v1/requests', 201, '/v1/requests', {
      user: 'alice',
      body: { entitlement: 'prod-admin', reason: 'INC-9 curious' },
    });

    const denied = await expectRoute<AccessRequest>(
      'POST',
      '/v1/requests/{id}/deny',
      200,
      `/v1/requests/${req.id}/deny`,
      { user: 'carol', body: { comment: 'no incident' } },
    );

    expect(denied.status).toBe('denied');
  });

  it('POST /v1/requests/{id}/cancel: 403 for an approver; 200 for the requester; then 409', async () => {
    const req = await expectRoute<AccessRequest>('POST', '/v1/requests', 201, '/v1/requests', {
      user: 'alice',
      body: { entitlement: 'prod-admin', reason: 'INC-10 maybe' },
    });
    const cancel = (user: string, status: number) =>
      expectRoute<AccessRequest>(
        'POST',
        '/v1/requests/{id}/cancel',
        status,
        `/v1/requests/${req.id}/cancel`,
        { user },
      );

    expect(codeOf(await cancel('bob', 403))).toBe('not_entitled');
    expect((await cancel('alice', 200)).status).toBe('cancelled');
    expect(codeOf(await cancel('alice', 409))).toBe('conflict');
  });
});

describe('break-glass and its review', () => {
  let reviewId: string;
  const breakGlass = (status: number, ticket: string | null) =>
    expectRoute<AccessRequest>('POST', '/v1/requests', status, '/v1/requests', {
      user: 'dave',
      body: {
        entitlement: 'prod-admin',
        durationSeconds: 900,
        reason: 'prod database down',
        breakGlass: true,
        ...(ticket ? { ticket } : {}),
      },
    });

  it('dave breaks glass: 201 approved at once; 400 without a ticket', async () => {
    const used = await breakGlass(201, 'INC-42');
    reviewId = used.id;

    expect(used).toMatchObject({ status: 'approved', breakGlass: true });
    expect(codeOf(await breakGlass(400, null))).toBe('invalid_request');
  });

  it('GET /v1/reviews: 200 for an approver; 400 for a bad status', async () => {
    const open = await expectRoute<{ reviews: Review[] }>('GET', '/v1/reviews', 200, '/v1/reviews', {
      user: 'bob',
    });
    await expectRoute('GET', '/v1/reviews', 400, '/v1/reviews', { user: 'bob', query: '?status=closed' });

    expect(open.reviews.map((r) => r.id)).toContain(reviewId);
  });

  it('POST /v1/reviews/{id}/sign-off: 403 for dave himself; 200 for bob; then 409; 404 unknown', async () => {
    const signOff = (user: string, status: number, id = reviewId) =>
      expectRoute<Review>('POST', '/v1/reviews/{id}/sign-off', status, `/v1/reviews/${id}/sign-off`, {
        user,
        body: { comment: 'checked the incident' },
      });

    expect(codeOf(await signOff('dave', 403))).toBe('self_approval');
    expect((await signOff('bob', 200)).status).toBe('signed-off');
    expect(codeOf(await signOff('carol', 409))).toBe('conflict');
    expect(codeOf(await signOff('bob', 404, UNKNOWN_ID))).toBe('not_found');
    await expectRoute('GET', '/v1/reviews', 200, '/v1/reviews', { user: 'bob', query: '?status=signed-off' });
  });

  it('break-glass is limited per person: 429 rate_limited with Retry-After', async () => {
    await breakGlass(201, 'INC-43');
    await breakGlass(201, 'INC-44');

    const limited = await breakGlass(429, 'INC-45');

    expect(codeOf(limited)).toBe('rate_limited');
  });
});

describe('GET /v1/audit', () => {
  it('200 pages for an auditor (every kind of record seen above); 403 for anyone else; 400 for bad filters', async () => {
    const first = await expectRoute<AuditPage>('GET', '/v1/audit', 200, '/v1/audit', {
      user: 'erin',
      query: '?limit=2',
    });
    const next = await expectRoute<AuditPage>('GET', '/v1/audit', 200, '/v1/audit', {
      user: 'erin',
      query: `?limit=2&cursor=${first.cursor}`,
    });
    const all = await expectRoute<AuditPage>('GET', '/v1/audit', 200, '/v1/audit', {
      user: 'erin',
      query: '?limit=500',
    });
    const refused = await expectRoute('GET', '/v1/audit', 403, '/v1/audit', { user: 'alice' });
    await expectRoute('GET', '/v1/audit', 400, '/v1/audit', { user: 'erin', query: '?limit=ten' });
    await expectRoute('GET', '/v1/audit', 400, '/v1/audit', { user: 'erin', query: '?since=yesterday' });

    expect(first.records).toHaveLength(2);
    expect(next.records).toHaveLength(2);
    expect(new Set(all.records.map((r) => r.decision))).toEqual(
      new Set([
        'intent',
        'issued',
        'denied',
        'requested',
        'approved-vote',
        'denied-vote',
        'approved',
        'denied',
        'cancelled',
        'break-glass',
        'review-signed-off',
      ]),
    );
    expect(codeOf(refused)).toBe('not_entitled');
  });
});

describe('console sign-in and sessions (after the audit listing, whose decisions above are exact)', () => {
  it('POST /v1/console: 200 a sign-in URL; 403 for mallory; 400 for a destination off the console', async () => {
    const out = await expectRoute<{ url: string }>('POST', '/v1/console', 200, '/v1/console', {
      user: 'alice',
      body: {
        entitlement: 'prod-readonly',
        durationSeconds: 900,
        destination: 'https://console.aws.amazon.com/s3/',
      },
    });
    const refused = await expectRoute('POST', '/v1/console', 403, '/v1/console', {
      user: 'mallory',
      body: { entitlement: 'prod-readonly' },
    });
    await expectRoute('POST', '/v1/console', 400, '/v1/console', {
      user: 'alice',
      body: { entitlement: 'prod-readonly', destination: 'https://evil.example/' },
    });

    expect(new URL(out.url).searchParams.get('Action')).toBe('login');
    expect(codeOf(refused)).toBe('not_entitled');
  });

  it('POST /v1/requests/{id}/console: 200 inside an approved grant; 403 while pending; 404 unknown', async () => {
    const req = await expectRoute<AccessRequest>('POST', '/v1/requests', 201, '/v1/requests', {
      user: 'alice',
      body: { entitlement: 'prod-admin', reason: 'INC-12 console look', durationSeconds: 900 },
    });
    const path = `/v1/requests/${req.id}/console`;
    expect(
      codeOf(await expectRoute('POST', '/v1/requests/{id}/console', 403, path, { user: 'alice', body: {} })),
    ).toBe('approval_required');
    for (const approver of ['bob', 'carol']) {
      await expectRoute('POST', '/v1/requests/{id}/approve', 200, `/v1/requests/${req.id}/approve`, {
        user: approver,
        body: {},
      });
    }

    await expectRoute('POST', '/v1/requests/{id}/console', 200, path, { user: 'alice', body: {} });
    await expectRoute('POST', '/v1/requests/{id}/console', 404, `/v1/requests/${UNKNOWN_ID}/console`, {
      user: 'alice',
      body: {},
    });
  });

  it('GET /v1/sessions: 200 own and all; 403 all for mallory; 400 for a bad all', async () => {
    const own = await expectRoute<{ sessions: { auditId: string }[] }>(
      'GET',
      '/v1/sessions',
      200,
      '/v1/sessions',
      {
        user: 'alice',
      },
    );
    await expectRoute('GET', '/v1/sessions', 200, '/v1/sessions', { user: 'bob', query: '?all=true' });
    expect(
      codeOf(
        await expectRoute('GET', '/v1/sessions', 403, '/v1/sessions', {
          user: 'mallory',
          query: '?all=true',
        }),
      ),
    ).toBe('not_entitled');
    await expectRoute('GET', '/v1/sessions', 400, '/v1/sessions', { user: 'bob', query: '?all=maybe' });

    expect(own.sessions.length).toBeGreaterThan(0);
  });

  it('POST /v1/sessions/{auditId}/revoke: 200 for bob; 403 for mallory; 409 again; 404 unknown; 400 without a reason', async () => {
    const vended = await expectRoute<VendResponse>('POST', '/v1/credentials', 200, '/v1/credentials', {
      user: 'alice',
      body: { entitlement: 'prod-readonly', durationSeconds: 900 },
    });
    const route = '/v1/sessions/{auditId}/revoke';
    const path = `/v1/sessions/${vended.auditId}/revoke`;
    const body = { reason: 'laptop lost' };

    expect(codeOf(await expectRoute('POST', route, 403, path, { user: 'mallory', body }))).toBe(
      'not_entitled',
    );
    await expectRoute('POST', route, 400, path, { user: 'bob', body: {} });
    await expectRoute('POST', route, 200, path, { user: 'bob', body });
    expect(codeOf(await expectRoute('POST', route, 409, path, { user: 'bob', body }))).toBe('conflict');
    await expectRoute('POST', route, 404, `/v1/sessions/${UNKNOWN_ID}/revoke`, { user: 'bob', body });
  });

  it('POST /v1/sessions/revoke: 200 for carol (security); 403 for mallory; 404 for a caller with nothing live', async () => {
    const own = await expectRoute<{ sessions: { caller: { id: string } }[] }>(
      'GET',
      '/v1/sessions',
      200,
      '/v1/sessions',
      {
        user: 'alice',
      },
    );
    const caller = own.sessions[0]?.caller.id ?? '';
    const route = '/v1/sessions/revoke';

    expect(
      codeOf(
        await expectRoute('POST', route, 403, route, { user: 'mallory', body: { caller, reason: 'x' } }),
      ),
    ).toBe('not_entitled');
    await expectRoute('POST', route, 200, route, { user: 'carol', body: { caller, reason: 'alice left' } });
    await expectRoute('POST', route, 404, route, { user: 'carol', body: { caller, reason: 'again' } });
  });
});

describe('Slack routes (Slack signature)', () => {
  const signed = (body: string, secret = stack.stack.handlerEnv.VEND_SLACK_SIGNING_SECRET ?? '') => {
    const ts = String(Math.floor(Date.now() / 1000));
    const mac = createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
    return {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': `v0=${mac}`,
    };
  };
  const command = (user: string, text: string) =>
    new URLSearchParams({
      command: '/vend',
      text,
      team_id: LOCAL_TEAM_ID,
      api_app_id: LOCAL_SLACK_APP_ID,
      user_id: user,
      channel_id: 'C0WHEREVER',
    }).toString();
  const click = (user: string, requestId: string) =>
    `payload=${encodeURIComponent(
      JSON.stringify({
        type: 'block_actions',
        api_app_id: LOCAL_SLACK_APP_ID,
        team: { id: LOCAL_TEAM_ID },
        user: { id: user },
        actions: [{ action_id: 'vend_approve', value: requestId }],
        container: { channel_id: LOCAL_SLACK_CHANNELS.approvers },
      }),
    )}`;
  const post = (route: string, body: string, headers: Record<string, string>) =>
    fetch(`${stack.apiUrl}${route}`, { method: 'POST', headers, body });

  it('POST /v1/slack/commands: 200 ephemeral when signed; 401 unsigned; 403 for a Slack user linked to no one', async () => {
    const route = '/v1/slack/commands';
    const help = command('U0ALICE', 'help');
    const unbound = command('U0MALLORY', 'help');

    const ok = await expectMatchesOpenApi('POST', route, 200, await post(route, help, signed(help)));
    const forged = await expectMatchesOpenApi(
      'POST',
      route,
      401,
      await post(route, help, signed(help, 'not-the-secret')),
    );
    const stranger = await expectMatchesOpenApi(
      'POST',
      route,
      403,
      await post(route, unbound, signed(unbound)),
    );

    expect(ok).toMatchObject({ response_type: 'ephemeral' });
    expect(forged).toMatchObject({ ok: false });
    expect(stranger).toMatchObject({ ok: false, error: 'unbound_user' });
    expectRequestMatchesOpenApi(
      'POST',
      route,
      Object.fromEntries(new URLSearchParams(help)),
      'application/x-www-form-urlencoded',
    );
  });

  it('POST /v1/slack/interactions: 200 (empty) for an approver click; 403 for the requester; 401 unsigned', async () => {
    const route = '/v1/slack/interactions';
    const req = await expectRoute<AccessRequest>('POST', '/v1/requests', 201, '/v1/requests', {
      user: 'alice',
      body: { entitlement: 'prod-admin', reason: 'INC-11 from Slack' },
    });
    const bobs = click('U0BOB', req.id);
    const alices = click('U0ALICE', req.id);

    const voted = await expectMatchesOpenApi('POST', route, 200, await post(route, bobs, signed(bobs)));
    const own = await expectMatchesOpenApi('POST', route, 403, await post(route, alices, signed(alices)));
    await expectMatchesOpenApi(
      'POST',
      route,
      401,
      await post(route, alices, { 'content-type': 'application/x-www-form-urlencoded' }),
    );

    expect(voted).toBeUndefined();
    expect(own).toMatchObject({ ok: false, error: 'self_approval' });
    expectRequestMatchesOpenApi(
      'POST',
      route,
      Object.fromEntries(new URLSearchParams(bobs)),
      'application/x-www-form-urlencoded',
    );
  });
});

describe('when DynamoDB is down', () => {
  const dynamo = () => {
    const hook = dynamoOutageFor(stack.awsUrl);
    if (!hook) throw new Error('no DynamoDB outage hook for this stack');
    return hook;
  };
  afterAll(() => dynamo().start());

  it('503 upstream_unavailable with Retry-After, as documented', async () => {
    dynamo().stop();
    let body: unknown;
    try {
      body = await expectRoute('GET', '/v1/entitlements', 503, '/v1/entitlements', { user: 'alice' });
    } finally {
      dynamo().start();
    }

    expect(codeOf(body)).toBe('upstream_unavailable');
  });
});

describe('coverage', () => {
  const served: string[] = [];
  beforeAll(() => {
    const functions = (
      parse(readFileSync(`${REPO_ROOT}serverless.yml`, 'utf8'), { logLevel: 'error' }) as {
        functions: Record<string, { events?: { httpApi?: { method: string; path: string } }[] }>;
      }
    ).functions;
    for (const fn of Object.values(functions))
      for (const e of fn.events ?? [])
        if (e.httpApi) served.push(`${e.httpApi.method.toUpperCase()} ${e.httpApi.path}`);
  });

  it('every route of serverless.yml had a success and a refusal validated here', () => {
    const missing = served.filter((key) => {
      const statuses = [...(validatedResponses.get(key) ?? [])];
      return !statuses.some((s) => s < 300) || !statuses.some((s) => s >= 400);
    });

    expect(served.length).toBeGreaterThanOrEqual(17);
    expect(missing, 'routes of serverless.yml without a validated success and refusal in this spec').toEqual(
      [],
    );
  });
});
