/**
 * Cancelling a request and signing off a break-glass review end to end: real gateway and JWT
 * authorizer, the requests handler, dynalite, and the Slack sink recording what vend posted.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SLACK_CHANNELS } from '../../infra/local/stack';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';
import { vend } from './cli/harness';

const stack = withStack();

const AUDIT_TABLE = 'vend-dev-audit';

let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
beforeAll(async () => {
  ({ dynamodb } = await import('../../lib/wiring/clients'));
});

type Json = Record<string, unknown>;

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
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Json };
}

async function auditOf(requestId: string): Promise<Json[]> {
  return (await scanTable(dynamodb, AUDIT_TABLE)).filter((r) => r.accessRequestId === requestId);
}

/** The `issuer#subject` vend knows a person by, read from their token. */
async function personId(user: string): Promise<string> {
  const payload = (await stack.token(user)).split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    iss: string;
    sub: string;
  };
  return `${claims.iss}#${claims.sub}`;
}

const reviewIds = async (user: string, status?: string) => {
  const { status: code, json } = await call(user, 'GET', `/v1/reviews${status ? `?status=${status}` : ''}`);
  expect(code).toBe(200);
  return (json.reviews as Json[]).map((r) => r.id);
};

describe('a break-glass review is signed off by someone else', () => {
  let id: string;

  beforeAll(async () => {
    const { status, json } = await call('dave', 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      breakGlass: true,
      ticket: 'INC-77',
      reason: 'prod database down, on-call fix',
    });
    expect(status).toBe(201);
    id = json.id as string;
  });

  it('the open review is listed for bob (a prod-admin approver) and not for mallory', async () => {
    const bobs = await call('bob', 'GET', '/v1/reviews?status=open');

    expect(bobs.status).toBe(200);
    expect(bobs.json.reviews).toEqual([
      expect.objectContaining({ id, requestId: id, entitlement: 'prod-admin', status: 'open' }),
    ]);
    expect(await reviewIds('mallory')).toEqual([]);
  });

  it('an unknown status is 400 invalid_request', async () => {
    const { status, json } = await call('bob', 'GET', '/v1/reviews?status=maybe');

    expect(status).toBe(400);
    expect(json.code).toBe('invalid_request');
  });

  it('dave cannot sign off his own break-glass use: 403 self_approval', async () => {
    const { status, json } = await call('dave', 'POST', `/v1/reviews/${id}/sign-off`, {});

    expect(status).toBe(403);
    expect(json.code).toBe('self_approval');
    expect(await reviewIds('bob', 'open')).toContain(id);
  });

  it('mallory, without review rights, cannot: 403 not_entitled', async () => {
    const { status, json } = await call('mallory', 'POST', `/v1/reviews/${id}/sign-off`, {});

    expect(status).toBe(403);
    expect(json.code).toBe('not_entitled');
    expect(await reviewIds('bob', 'open')).toContain(id);
  });

  it('an unknown review is 404 not_found', async () => {
    const { status, json } = await call('bob', 'POST', '/v1/reviews/01NOSUCHREVIEW/sign-off', {});

    expect(status).toBe(404);
    expect(json.code).toBe('not_found');
  });

  it('bob signs off: 200 signed-off by bob, audited with his comment, listed as signed-off', async () => {
    const { status, json } = await call('bob', 'POST', `/v1/reviews/${id}/sign-off`, {
      comment: 'checked the session, fine',
    });

    expect(status).toBe(200);
    expect(json).toMatchObject({ id, status: 'signed-off' });
    expect(json.signedOffBy).toBe(await personId('bob'));
    expect(Number.isNaN(Date.parse(String(json.at)))).toBe(false);
    const signed = (await auditOf(id)).filter((r) => r.decision === 'review-signed-off');
    expect(signed).toHaveLength(1);
    expect(signed[0]?.comment).toBe('checked the session, fine');
    expect(JSON.stringify(signed[0]?.caller)).toContain('bob@example.com');
    expect(await reviewIds('bob', 'open')).not.toContain(id);
    expect(await reviewIds('bob', 'signed-off')).toContain(id);
  });

  it('a second sign-off is 409 conflict and writes no second audit record', async () => {
    const { status, json } = await call('carol', 'POST', `/v1/reviews/${id}/sign-off`, {});

    expect(status).toBe(409);
    expect(json.code).toBe('conflict');
    expect((await auditOf(id)).filter((r) => r.decision === 'review-signed-off')).toHaveLength(1);
  });
});

describe('a requester cancels a pending request', () => {
  let id: string;

  beforeAll(async () => {
    const { status, json } = await call('alice', 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      durationSeconds: 3600,
      reason: 'INC-78: change the prod database parameters',
    });
    expect(status).toBe(201);
    id = json.id as string;
  });

  it('carol (an approver who can see it) cannot cancel alice’s request: 403, still pending', async () => {
    const { status, json } = await call('carol', 'POST', `/v1/requests/${id}/cancel`, {});

    expect(status).toBe(403);
    expect(json.code).toBe('not_entitled');
    expect((await call('alice', 'GET', `/v1/requests/${id}`)).json.status).toBe('pending');
  });

  it('mallory, who cannot see it, gets 404', async () => {
    const { status, json } = await call('mallory', 'POST', `/v1/requests/${id}/cancel`, {});

    expect(status).toBe(404);
    expect(json.code).toBe('not_found');
  });

  it('alice cancels: 200 cancelled, audited, and the approval message loses its buttons', async () => {
    const { status, json } = await call('alice', 'POST', `/v1/requests/${id}/cancel`, {});

    expect(status).toBe(200);
    expect(json).toMatchObject({ id, status: 'cancelled' });
    expect((await auditOf(id)).map((r) => r.decision).sort()).toEqual(['cancelled', 'requested']);
    const posts = stack.stack.slack
      .calls({ channel: LOCAL_SLACK_CHANNELS.approvers })
      .filter((c) => JSON.stringify(c.args.blocks ?? '').includes(id));
    expect(posts.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update']);
    expect(posts[1]?.args.ts).toBe(posts[0]?.ts);
    expect(JSON.stringify(posts[1]?.args.blocks)).not.toContain('vend_approve');
  });

  it('bob’s approval after the cancel is 409 conflict; nothing changes', async () => {
    const { status, json } = await call('bob', 'POST', `/v1/requests/${id}/approve`, {});

    expect(status).toBe(409);
    expect(json.code).toBe('conflict');
    const after = (await call('alice', 'GET', `/v1/requests/${id}`)).json;
    expect(after).toMatchObject({ status: 'cancelled', votes: [] });
  });

  it('cancelling again is 409 conflict', async () => {
    const { status, json } = await call('alice', 'POST', `/v1/requests/${id}/cancel`, {});

    expect(status).toBe(409);
    expect(json.code).toBe('conflict');
  });
});

describe('the CLI: vend cancel, vend reviews, vend review sign-off', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vend-cli-reviews-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });
  const as = async (user: string): Promise<Record<string, string>> => ({
    ...stack.env,
    VEND_TOKEN: await stack.token(user),
    VEND_CONFIG_DIR: join(scratch, user),
    VEND_CACHE_DIR: join(scratch, user, 'cache'),
  });

  it('alice cancels her pending request with vend cancel', async () => {
    const asked = await call('alice', 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      reason: 'INC-79: look at the prod queue',
    });

    const out = await vend(['cancel', String(asked.json.id)], await as('alice'));

    expect(out.code).toBe(0);
    expect(out.stdout).toBe(`request ${asked.json.id} (prod-admin): cancelled\n`);
  }, 30_000);

  it('bob lists dave’s open review and signs it off; dave’s own sign-off is refused (exit 1)', async () => {
    const bg = await call('dave', 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      breakGlass: true,
      ticket: 'INC-80',
      reason: 'queue stuck, on-call fix',
    });
    const id = String(bg.json.id);

    const listed = await vend(['reviews', '--json'], await as('bob'));
    const self = await vend(['review', 'sign-off', id], await as('dave'));
    const signed = await vend(['review', 'sign-off', id, '--comment', 'matches INC-80'], await as('bob'));

    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Json[]).map((r) => r.id)).toContain(id);
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/^vend: [^\n]+\n$/);
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(new RegExp(`^review ${id} \\(prod-admin\\): signed-off by \\S+#\\S+\\n$`));
  }, 30_000);
});
