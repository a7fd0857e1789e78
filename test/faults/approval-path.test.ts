/**
 * Fault matrix of the approval path: the request store writes (create, vote, deciding transition),
 * the Slack post and update, and AssumeRole inside a grant each fail three ways (error, throttle,
 * timeout). Store faults fail closed (503, nothing changed, nothing audited as done, the same call
 * succeeds afterwards); Slack faults never undo a decision (the request and its audit trail are
 * what they would have been); a vend inside a grant hands out nothing without its issued record.
 * After every case the request's status is the one its audit trail says.
 */

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SLACK_CHANNELS } from '../../infra/local/stack';
import { scanTable } from '../support/audit-table';
import { leaks } from '../support/leaks/scanner';
import { withStack } from '../support/stack';
import { calls, clearFaults, failCalls, failSlack, WAYS, type Way } from './inject';

const stack = withStack({ handlerEnv: { VEND_STS_DEADLINE_MS: '600', VEND_STS_BASE_DELAY_MS: '10' } });

let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
let sts: typeof import('../../lib/wiring/clients').sts;
let restoreSlack: (() => void) | undefined;
beforeAll(async () => {
  ({ dynamodb, sts } = await import('../../lib/wiring/clients'));
});
afterEach(() => {
  clearFaults(dynamodb, sts);
  restoreSlack?.();
  restoreSlack = undefined;
});

interface Req {
  id: string;
  status: string;
  version: number;
  votes: { label: string }[];
}

async function call(user: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${await stack.token(user)}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { res, text, json: (text ? JSON.parse(text) : {}) as Req & Record<string, unknown> };
}

const ask = () =>
  call('alice', 'POST', '/v1/requests', {
    entitlement: 'prod-admin',
    durationSeconds: 3600,
    reason: 'INC-11 fault matrix',
  });
const vote = (user: string, id: string) => call(user, 'POST', `/v1/requests/${id}/approve`, {});
const read = async (id: string) => (await call('alice', 'GET', `/v1/requests/${id}`)).json;

async function pending(): Promise<string> {
  const made = await ask();
  expect(made.res.status).toBe(201);
  return made.json.id;
}

async function audit(): Promise<Record<string, unknown>[]> {
  return scanTable(dynamodb);
}

/** The status the audit trail gives a request: its last transition, or pending after `requested`. */
async function statusByTrail(id: string): Promise<string | undefined> {
  const trail = (await audit())
    .filter((r) => r.accessRequestId === id)
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const transitions = trail.filter((r) =>
    ['requested', 'approved', 'denied', 'cancelled', 'expired', 'break-glass'].includes(String(r.decision)),
  );
  const last = transitions.at(-1)?.decision;
  return last === 'requested'
    ? 'pending'
    : last === 'break-glass'
      ? 'approved'
      : (last as string | undefined);
}

async function decisionsOf(id: string): Promise<string[]> {
  return (await audit())
    .filter((r) => r.accessRequestId === id)
    .map((r) => String(r.decision))
    .sort();
}

const approvalPostsFor = (id: string) =>
  stack.stack.slack
    .calls({ channel: LOCAL_SLACK_CHANNELS.approvers, method: 'chat.postMessage' })
    .filter((c) => c.ok && JSON.stringify(c.args).includes(id));

describe('request store: create, vote and deciding writes fail closed', () => {
  it.each(WAYS)(
    'create fails (%s): 503, no request, nothing audited or posted; then it works',
    async (way) => {
      const injected = failCalls(dynamodb, 'dynamodb', calls.requestCreate, way as Way);
      const postsBefore = stack.stack.slack.calls({ method: 'chat.postMessage' }).length;

      const { res, json } = await ask();

      expect(injected.hits).toBeGreaterThan(0);
      expect(res.status).toBe(503);
      expect(json.code).toBe('upstream_unavailable');
      clearFaults(dynamodb);
      const requestId = res.headers.get('x-request-id');
      expect((await audit()).filter((r) => r.requestId === requestId && r.decision === 'requested')).toEqual(
        [],
      );
      expect(stack.stack.slack.calls({ method: 'chat.postMessage' })).toHaveLength(postsBefore);
      const id = await pending();
      expect(await statusByTrail(id)).toBe('pending');
    },
  );

  it.each(WAYS)('a vote fails (%s): 503, no vote stored or audited; the retry counts once', async (way) => {
    const id = await pending();
    const before = await read(id);
    failCalls(dynamodb, 'dynamodb', calls.requestTransition, way as Way);

    const { res, json } = await vote('bob', id);

    expect(res.status).toBe(503);
    expect(json.code).toBe('upstream_unavailable');
    clearFaults(dynamodb);
    const after = await read(id);
    expect(after).toMatchObject({ status: 'pending', version: before.version, votes: [] });
    expect(await decisionsOf(id)).toEqual(['requested']);
    expect((await vote('bob', id)).res.status).toBe(200);
    expect((await read(id)).votes.map((v) => v.label)).toEqual(['bob@example.com']);
    expect(await decisionsOf(id)).toEqual(['approved-vote', 'requested']);
    expect(await statusByTrail(id)).toBe('pending');
  });

  it.each(WAYS)(
    'the deciding vote fails (%s): still pending with one vote; the retry approves',
    async (way) => {
      const id = await pending();
      expect((await vote('bob', id)).res.status).toBe(200);
      failCalls(dynamodb, 'dynamodb', calls.requestTransition, way as Way);

      const { res } = await vote('carol', id);

      expect(res.status).toBe(503);
      clearFaults(dynamodb);
      expect(await read(id)).toMatchObject({ status: 'pending', votes: [{ label: 'bob@example.com' }] });
      expect(await statusByTrail(id)).toBe('pending');
      const retried = await vote('carol', id);
      expect(retried.json.status).toBe('approved');
      expect(await statusByTrail(id)).toBe('approved');
      expect(await decisionsOf(id)).toEqual(['approved', 'approved-vote', 'approved-vote', 'requested']);
    },
  );
});

describe('Slack: a failed post or update never undoes a decision', () => {
  it.each(WAYS)('the approval post fails (%s): 201, pending, audited', async (way) => {
    const slack = failSlack(stack.stack.slack, ['chat.postMessage'], way as Way);
    restoreSlack = slack.restore;

    const { res, json } = await ask();

    expect(res.status).toBe(201);
    expect(slack.hits()).toBeGreaterThan(0);
    expect(json.status).toBe('pending');
    expect(await statusByTrail(json.id)).toBe('pending');
    // A timed-out post may still land in Slack after vend gave up (as with the real Slack); vend
    // does not count on it either way. Refused posts land nowhere.
    if (way === 'timeout') expect(approvalPostsFor(json.id).length).toBeLessThanOrEqual(slack.hits());
    else expect(approvalPostsFor(json.id)).toEqual([]);
  });

  it.each(WAYS)('the message update fails (%s): the vote stands and is audited', async (way) => {
    const id = await pending();
    expect(approvalPostsFor(id)).toHaveLength(1);
    const slack = failSlack(stack.stack.slack, ['chat.update'], way as Way);
    restoreSlack = slack.restore;

    const { res } = await vote('bob', id);

    expect(res.status).toBe(200);
    expect(slack.hits()).toBeGreaterThan(0);
    expect((await read(id)).votes.map((v) => v.label)).toEqual(['bob@example.com']);
    expect(await decisionsOf(id)).toEqual(['approved-vote', 'requested']);
  });
});

describe('vend inside a grant: AssumeRole and the issued write fail closed', () => {
  let grant: string;
  beforeAll(async () => {
    grant = await pending();
    await vote('bob', grant);
    expect((await vote('carol', grant)).json.status).toBe('approved');
  });

  const rows = [
    ['AssumeRole', 'sts', () => true],
    ['issued write', 'dynamodb', calls.auditWrite('issued')],
  ] as const;
  const matrix = rows.flatMap(([name, client, match]) =>
    WAYS.map((way) => [name, way, client, match] as const),
  );

  it.each(matrix)(
    '%s fails (%s): 503, no credentials, no issued record; the retry is audited',
    async (_n, way, client, match) => {
      failCalls(client === 'sts' ? sts : dynamodb, client, match, way);

      const { res, text } = await call('alice', 'POST', `/v1/requests/${grant}/credentials`, {});

      expect(res.status).toBe(503);
      expect(text).not.toMatch(/ASIA|SecretAccessKey|SessionToken/);
      clearFaults(dynamodb, sts);
      const requestId = res.headers.get('x-request-id');
      expect((await audit()).filter((r) => r.requestId === requestId && r.decision === 'issued')).toEqual([]);
      const ok = await call('alice', 'POST', `/v1/requests/${grant}/credentials`, {});
      expect(ok.res.status).toBe(200);
      const creds = ok.json.credentials as {
        AccessKeyId: string;
        SecretAccessKey: string;
        SessionToken: string;
      };
      leaks().issued(creds);
      const issued = (await audit()).find(
        (r) => r.decision === 'issued' && r.accessKeyId === creds.AccessKeyId,
      );
      expect(issued?.auditId).toBe(ok.json.auditId);
      expect(await statusByTrail(grant)).toBe('approved');
    },
  );
});
