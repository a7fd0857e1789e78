/**
 * Expiry is a fact of the clock: a request nobody answered lapses at its deadline, checked in code
 * (dynalite has no TTL). This stack runs the handlers with a 2-second pending window
 * (`VEND_REQUEST_TTL_SECONDS`), its own process's configuration.
 */
import { describe, expect, it } from 'vitest';
import { withStack } from '../support/stack';

const stack = withStack({ handlerEnv: { VEND_REQUEST_TTL_SECONDS: '2' } });

async function call(user: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await stack.token(user)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { res, json: (await res.json()) as Record<string, unknown> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a vote after expiry', () => {
  it('is 409 conflict; the request reads expired and keeps its votes', async () => {
    const created = await call('alice', 'POST', '/v1/requests', {
      entitlement: 'prod-admin',
      reason: 'INC-8: look at the logs',
    });
    expect(created.res.status).toBe(201);
    const id = String(created.json.id);
    const deadline = Date.parse(String(created.json.expiresAt));
    expect((await call('bob', 'POST', `/v1/requests/${id}/approve`, {})).res.status).toBe(200);

    await sleep(Math.max(0, deadline - Date.now()) + 300);
    const { res, json } = await call('carol', 'POST', `/v1/requests/${id}/approve`, {});

    expect(res.status).toBe(409);
    expect(json.code).toBe('conflict');
    expect(String(json.detail)).toMatch(/expired/);
    const after = await call('alice', 'GET', `/v1/requests/${id}`);
    expect(after.json.status).toBe('expired');
    expect((after.json.votes as unknown[]).length).toBe(1);
    const vend = await call('alice', 'POST', `/v1/requests/${id}/credentials`, {});
    expect(vend.res.status).toBe(409);
  });
});
