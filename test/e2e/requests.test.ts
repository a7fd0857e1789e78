/**
 * Approval requests and break-glass end to end (issue 4's "must show"): real gateway and JWT
 * authorizer, real handlers, dynalite, the local STS, and the Slack sink recording what vend posted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SLACK_CHANNELS } from '../../infra/local/stack';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';

const stack = withStack();

const AUDIT_TABLE = 'vend-dev-audit';
const REQUESTS_TABLE = 'vend-dev-requests';

let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
beforeAll(async () => {
  ({ dynamodb } = await import('../../lib/wiring/clients'));
});

interface Req {
  id: string;
  status: string;
  entitlement: string;
  version: number;
  votes: { label: string; decision: string }[];
  grantStart?: string;
  grantEnd?: string;
  breakGlass: boolean;
  durationSeconds: number;
}

async function call(user: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await stack.token(user)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { res, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> & Req };
}

const ask = (user: string, body: Record<string, unknown>) => call(user, 'POST', '/v1/requests', body);
const vote = (user: string, id: string, decision: 'approve' | 'deny', body: unknown = {}) =>
  call(user, 'POST', `/v1/requests/${id}/${decision}`, body);
const read = (user: string, id: string) => call(user, 'GET', `/v1/requests/${id}`);

async function pendingProdAdmin(reason = 'INC-7: rotate the prod database credentials'): Promise<string> {
  const { res, json } = await ask('alice', { entitlement: 'prod-admin', durationSeconds: 3600, reason });
  expect(res.status).toBe(201);
  return json.id;
}

async function scan(table: string): Promise<Record<string, unknown>[]> {
  return scanTable(dynamodb, table);
}

async function auditOf(requestId: string): Promise<Record<string, unknown>[]> {
  return (await scan(AUDIT_TABLE)).filter((r) => r.accessRequestId === requestId);
}

function approvalPosts(requestId: string) {
  return stack.stack.slack
    .calls({ channel: LOCAL_SLACK_CHANNELS.approvers })
    .filter((c) => JSON.stringify(c.args.blocks ?? '').includes(requestId));
}

function noticesTo(slackUserId: string, requestId: string) {
  return stack.stack.slack
    .calls({ channel: slackUserId, method: 'chat.postMessage' })
    .filter((c) => JSON.stringify(c.args).includes(requestId));
}

describe('alice asks for prod-admin; two security approvers decide', () => {
  let id: string;

  it('alice requests prod-admin: pending, 0 of 2, and the approvers are asked in Slack', async () => {
    const { res, json } = await ask('alice', {
      entitlement: 'prod-admin',
      durationSeconds: 3600,
      reason: 'INC-7: rotate the prod database credentials',
    });

    expect(res.status).toBe(201);
    expect(json).toMatchObject({
      entitlement: 'prod-admin',
      status: 'pending',
      approvalsRequired: 2,
      votes: [],
    });
    id = json.id;
    const posted = approvalPosts(id);
    expect(posted.map((c) => c.method)).toEqual(['chat.postMessage']);
    expect(JSON.stringify(posted[0]?.args.blocks)).toContain('vend_approve');
    expect((await auditOf(id)).map((r) => r.decision)).toEqual(['requested']);
  });

  it('alice cannot vend before approval: 403 approval_required', async () => {
    const { res, json } = await call('alice', 'POST', `/v1/requests/${id}/credentials`, {});

    expect(res.status).toBe(403);
    expect(json.code).toBe('approval_required');
  });

  it('bob approves: still pending, 1 of 2', async () => {
    const { res, json } = await vote('bob', id, 'approve', { comment: 'ok for INC-7' });

    expect(res.status).toBe(200);
    expect(json.status).toBe('pending');
    expect(json.votes.map((v) => [v.label, v.decision])).toEqual([['bob@example.com', 'approve']]);
  });

  it('alice cannot approve her own request: 403 self_approval, nothing changes', async () => {
    const before = (await read('alice', id)).json;

    const { res, json } = await vote('alice', id, 'approve');

    expect(res.status).toBe(403);
    expect(json.code).toBe('self_approval');
    const after = (await read('alice', id)).json;
    expect(after.version).toBe(before.version);
    expect(after.votes).toHaveLength(1);
  });

  it('mallory may neither see nor decide it', async () => {
    expect((await read('mallory', id)).res.status).toBe(404);
    const { res, json } = await vote('mallory', id, 'approve');
    expect(res.status).toBe(403);
    expect(json.code).toBe('not_entitled');
  });

  it('carol approves: approved, with a grant window of the asked duration', async () => {
    const { res, json } = await vote('carol', id, 'approve');

    expect(res.status).toBe(200);
    expect(json.status).toBe('approved');
    expect(Date.parse(json.grantEnd ?? '') - Date.parse(json.grantStart ?? '')).toBe((3600 + 300) * 1000);
    expect((await auditOf(id)).map((r) => r.decision).sort()).toEqual(
      ['approved', 'approved-vote', 'approved-vote', 'requested'].sort(),
    );
  });

  it('alice vends inside the window: credentials for at most what the window has left', async () => {
    const grantEnd = Date.parse((await read('alice', id)).json.grantEnd ?? '');

    const { res, json } = await call('alice', 'POST', `/v1/requests/${id}/credentials`, {});

    expect(res.status).toBe(200);
    const out = json as unknown as { assumedRoleArn: string; durationSeconds: number; credentials: object };
    expect(out.assumedRoleArn).toMatch(/assumed-role\/BreakGlassAdmin\//);
    expect(out.durationSeconds).toBeLessThanOrEqual(Math.floor((grantEnd - Date.now()) / 1000) + 1);
    expect(out.durationSeconds).toBeGreaterThanOrEqual(900);
  });

  it('bob, an approver, cannot vend on alice’s grant', async () => {
    const { res, json } = await call('bob', 'POST', `/v1/requests/${id}/credentials`, {});

    expect(res.status).toBe(403);
    expect(json.code).toBe('not_entitled');
  });

  it('the Slack message was updated in place with who voted and the outcome; alice was told once', async () => {
    const calls = approvalPosts(id);
    const ts = calls[0]?.ts;

    expect(calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update', 'chat.update']);
    expect(calls.slice(1).every((c) => c.args.ts === ts)).toBe(true);
    const last = JSON.stringify(calls[2]?.args.blocks);
    expect(last).toContain('bob@example.com');
    expect(last).toContain('carol@example.com');
    expect(last).toContain('*Approved* by');
    expect(last).not.toContain('vend_approve');
    expect(noticesTo('U0ALICE', id)).toHaveLength(1);
  });

  it('deny after approve: 409 conflict, state unchanged', async () => {
    const before = (await read('alice', id)).json;
    const erinLikeApprover = await vote('bob', id, 'deny');

    expect(erinLikeApprover.res.status).toBe(409);
    expect(erinLikeApprover.json.code).toBe('conflict');
    const after = (await read('alice', id)).json;
    expect(after).toMatchObject({ status: 'approved', version: before.version });
  });
});

describe('approve after deny', () => {
  it('bob denies (a single deny ends it); carol’s approval is 409 and changes nothing', async () => {
    const id = await pendingProdAdmin();
    const denied = await vote('bob', id, 'deny', { comment: 'use staging first' });
    expect(denied.json.status).toBe('denied');
    const before = (await read('alice', id)).json;

    const { res, json } = await vote('carol', id, 'approve');

    expect(res.status).toBe(409);
    expect(json.code).toBe('conflict');
    const after = (await read('alice', id)).json;
    expect(after).toMatchObject({ status: 'denied', version: before.version });
    expect(after.votes).toHaveLength(1);
    expect((await call('alice', 'POST', `/v1/requests/${id}/credentials`, {})).res.status).toBe(409);
  });
});

describe('20 concurrent approvals by two approvers', () => {
  it('make exactly one transition to approved and one notification', async () => {
    const id = await pendingProdAdmin('INC-9: concurrent approvals');
    const [bobToken, carolToken] = [await stack.token('bob'), await stack.token('carol')];
    const approve = (token: string) =>
      fetch(`${stack.apiUrl}/v1/requests/${id}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
      });

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => approve(i % 2 === 0 ? bobToken : carolToken)),
    );

    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 409)).toHaveLength(18);
    const final = (await read('alice', id)).json;
    expect(final.status).toBe('approved');
    expect(final.votes.map((v) => v.label).sort()).toEqual(['bob@example.com', 'carol@example.com']);
    const decisions = (await auditOf(id)).map((r) => r.decision);
    expect(decisions.filter((d) => d === 'approved')).toHaveLength(1);
    expect(decisions.filter((d) => d === 'approved-vote')).toHaveLength(2);
    expect(noticesTo('U0ALICE', id)).toHaveLength(1);
  });
});

describe('listing', () => {
  it('bob sees pending requests he may approve; alice sees her own with mine=true; bad status is 400', async () => {
    const id = await pendingProdAdmin('INC-11: listing');

    const bobs = await call('bob', 'GET', '/v1/requests?status=pending');
    const alices = await call('alice', 'GET', '/v1/requests?mine=true');
    const mallorys = await call('mallory', 'GET', '/v1/requests');
    const bad = await call('bob', 'GET', '/v1/requests?status=maybe');

    const ids = (r: { json: Record<string, unknown> }) => (r.json.requests as Req[]).map((x) => x.id);
    expect(ids(bobs)).toContain(id);
    expect((bobs.json.requests as Req[]).every((r) => r.status === 'pending')).toBe(true);
    expect(ids(alices)).toContain(id);
    expect(ids(mallorys)).not.toContain(id);
    expect(bad.res.status).toBe(400);
  });
});

describe('break-glass', () => {
  it('dave gets credentials at once (≤ 3600 s), the security channel is told, a review is open', async () => {
    const { res, json } = await ask('dave', {
      entitlement: 'prod-admin',
      breakGlass: true,
      ticket: 'INC-42',
      reason: 'prod database down, on-call fix',
    });
    expect(res.status).toBe(201);
    expect(json).toMatchObject({ status: 'approved', breakGlass: true });

    const vended = await call('dave', 'POST', `/v1/requests/${json.id}/credentials`, {});

    expect(vended.res.status).toBe(200);
    expect(vended.json.durationSeconds).toBeLessThanOrEqual(3600);
    const broadcast = stack.stack.slack
      .calls({ channel: LOCAL_SLACK_CHANNELS.security, method: 'chat.postMessage' })
      .filter((c) => JSON.stringify(c.args).includes(json.id));
    expect(broadcast).toHaveLength(1);
    expect(String(broadcast[0]?.args.text)).toContain('INC-42');
    const review = (await scan(REQUESTS_TABLE)).find((i) => i.pk === `REVIEW#${json.id}`);
    expect(review).toMatchObject({ status: 'open', requestId: json.id });
    expect((await auditOf(json.id)).map((r) => r.decision)).toEqual(['break-glass']);
  });

  it('mallory is refused: 403 not_entitled, nothing stored', async () => {
    const before = (await scan(REQUESTS_TABLE)).length;

    const { res, json } = await ask('mallory', {
      entitlement: 'prod-admin',
      breakGlass: true,
      ticket: 'INC-42',
      reason: 'let me in',
    });

    expect(res.status).toBe(403);
    expect(json.code).toBe('not_entitled');
    expect((await scan(REQUESTS_TABLE)).length).toBe(before);
  });

  it('a blank reason is 400 invalid_request', async () => {
    const { res, json } = await ask('dave', {
      entitlement: 'prod-admin',
      breakGlass: true,
      ticket: 'INC-42',
      reason: '   ',
    });

    expect(res.status).toBe(400);
    expect(json.code).toBe('invalid_request');
  });

  it('is rate-limited per person: the fourth use in a day is 429 with Retry-After', async () => {
    const body = { entitlement: 'prod-admin', breakGlass: true, ticket: 'INC-43', reason: 'still down' };
    // dave broke glass once above; two more reach the default limit of three a day.
    expect((await ask('dave', body)).res.status).toBe(201);
    expect((await ask('dave', body)).res.status).toBe(201);

    const { res, json } = await ask('dave', body);

    expect(res.status).toBe(429);
    expect(json.code).toBe('rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
