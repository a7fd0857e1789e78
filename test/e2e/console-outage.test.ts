/**
 * Console sign-in when the federation endpoint cannot be reached (a stack of its own, pointed at a
 * port nothing listens on): 503 `upstream_unavailable` with Retry-After, the audit trail says so
 * (intent, issued, then a denial naming the sign-in endpoint), and the session is dropped: nothing
 * listed, no URL, no keys.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';

const stack = withStack({ handlerEnv: { VEND_FEDERATION_URL: 'http://127.0.0.1:9/federation' } });

let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
beforeAll(async () => {
  ({ dynamodb } = await import('../../lib/wiring/clients'));
});

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
  return { res, text, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

describe('POST /v1/console with the federation endpoint down', () => {
  it('503 upstream_unavailable, audited as a denial after issued, and no session left behind', async () => {
    const { res, json, text } = await call('alice', 'POST', '/v1/console', { entitlement: 'prod-readonly' });

    expect(res.status).toBe(503);
    expect(json.code).toBe('upstream_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(text).not.toMatch(/SigninToken|SecretAccessKey|SessionToken|ASIA/);

    const denied = (await scanTable(dynamodb)).filter(
      (r) => r.decision === 'denied' && r.delivery === 'console',
    );
    const record = denied.find((r) => r.reasonCode === 'upstream_unavailable');
    expect(record?.reasonDetail).toMatch(/sign-in endpoint/);
    const trail = (await scanTable(dynamodb)).filter((r) => r.auditId === record?.auditId);
    expect(trail.map((r) => r.decision).sort()).toEqual(['denied', 'intent', 'issued']);
    expect((await call('alice', 'GET', '/v1/sessions')).json.sessions).toEqual([]);
  });

  it('keys are still vended: only the console needs the federation endpoint', async () => {
    expect(
      (await call('alice', 'POST', '/v1/credentials', { entitlement: 'prod-readonly' })).res.status,
    ).toBe(200);
  });
});
