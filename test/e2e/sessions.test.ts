/**
 * Live sessions end to end (issue 15 §5): every vend that hands out a session records it, and
 * `GET /v1/sessions` shows a person theirs; `all=true` shows approvers the sessions of the
 * entitlements they approve and the security group every one; anyone else is refused. Through the
 * real gateway and JWT authorizer, the real handlers, dynalite and the local STS; the stack's clock
 * is moved to show expiry.
 */
import { describe, expect, it } from 'vitest';
import { withStack } from '../support/stack';

let offsetMs = 0;
const stack = withStack({ now: () => new Date(Date.now() + offsetMs) });

interface SessionView {
  auditId: string;
  caller: { id: string; kind: string; label: string };
  entitlement: string;
  roleArn: string;
  assumedRoleArn: string;
  sourceIdentity: string;
  accessKeyId: string;
  issuedAt: string;
  expiresAt: string;
  delivery: string;
  status: string;
  revoked: boolean;
  accessRequestId?: string;
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
  return { res, text, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const sessionsOf = async (user: string, query = '') => {
  const { res, json, text } = await call(user, 'GET', `/v1/sessions${query}`);
  return { res, text, sessions: (json.sessions ?? []) as SessionView[], json };
};

async function vendAs(user: string, entitlement = 'prod-readonly', durationSeconds = 900) {
  const { res, json } = await call(user, 'POST', '/v1/credentials', { entitlement, durationSeconds });
  expect(res.status).toBe(200);
  return json as { auditId: string; assumedRoleArn: string; credentials: { AccessKeyId: string } };
}

describe('GET /v1/sessions', () => {
  it('a person sees their own live session with what vend did, and no secret', async () => {
    const vended = await vendAs('alice');

    const { res, sessions, text } = await sessionsOf('alice');

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const mine = sessions.find((s) => s.auditId === vended.auditId);
    expect(mine).toMatchObject({
      caller: { kind: 'person', label: 'alice@example.com' },
      entitlement: 'prod-readonly',
      roleArn: 'arn:aws:iam::444455556666:role/ProdReadOnly',
      assumedRoleArn: vended.assumedRoleArn,
      sourceIdentity: 'alice@example.com',
      accessKeyId: vended.credentials.AccessKeyId,
      delivery: 'keys',
      status: 'live',
      revoked: false,
    });
    expect(mine?.caller.id).toBe(`${stack.stack.oidc.issuer}#00u8k2x7q1alice9f3`);
    expect(Date.parse(mine?.expiresAt ?? '') - Date.parse(mine?.issuedAt ?? '')).toBeGreaterThan(890_000);
    expect(text).not.toMatch(/SecretAccessKey|SessionToken|secretAccessKey|sessionToken/);
  });

  it("another person's sessions are not theirs: mallory sees none of alice's, and may not ask for all", async () => {
    const vended = await vendAs('alice');

    const own = await sessionsOf('mallory');
    const all = await sessionsOf('mallory', '?all=true');

    expect(own.res.status).toBe(200);
    expect(own.sessions.map((s) => s.auditId)).not.toContain(vended.auditId);
    expect(all.res.status).toBe(403);
    expect(all.json.code).toBe('not_entitled');
  });

  it('the security group sees every live session, services included; alice (sre, no approver) may not ask for all', async () => {
    const person = await vendAs('alice', 'staging-deploy');
    const signed = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
      entitlement: 'prod-deploy',
      durationSeconds: 900,
    });
    expect(signed.status).toBe(200);
    const service = (await signed.json()) as { auditId: string };

    const carol = await sessionsOf('carol', '?all=true');
    const alice = await sessionsOf('alice', '?all=1');

    expect(carol.res.status).toBe(200);
    const ids = carol.sessions.map((s) => s.auditId);
    expect(ids).toEqual(expect.arrayContaining([person.auditId, service.auditId]));
    expect(carol.sessions.find((s) => s.auditId === service.auditId)).toMatchObject({
      caller: { id: 'arn:aws:iam::111122223333:role/CICDDeployRole', kind: 'service' },
      sourceIdentity: 'CICDDeployRole@111122223333',
      entitlement: 'prod-deploy',
    });
    expect(alice.res.status).toBe(403);
  });

  it('all=true is refused in any other spelling, and no other parameter is taken', async () => {
    expect((await sessionsOf('carol', '?all=yes')).res.status).toBe(400);
    expect((await sessionsOf('carol', '?caller=x')).res.status).toBe(400);
  });

  it('an expired session is no longer listed', async () => {
    const vended = await vendAs('alice', 'prod-readonly', 900);
    expect((await sessionsOf('alice')).sessions.map((s) => s.auditId)).toContain(vended.auditId);

    offsetMs += 901_000;

    expect((await sessionsOf('alice')).sessions.map((s) => s.auditId)).not.toContain(vended.auditId);
    expect((await sessionsOf('carol', '?all=true')).sessions.map((s) => s.auditId)).not.toContain(
      vended.auditId,
    );
  });
});
