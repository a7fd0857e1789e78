/**
 * Revocation end to end (issue 15 §4, "must show"): through the real gateway and handlers, the
 * broker assumes the target account's vend-revoker role in the local STS and writes the role's
 * deny list through the local IAM API; the local IAM then enforces it on the session at once. The
 * effective-permission check (`POST /_local/iam/simulate`) is how each session is judged: the
 * revoked one turns to ExplicitDeny, a session issued after the revocation and another caller's
 * session still allow. Concurrent revocations lose none; expired entries are pruned (the stack's
 * clock is moved past them).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { denyListArn } from '../../lib/domain/revocation';
import { scanTable } from '../support/audit-table';
import { withStack } from '../support/stack';

let offsetMs = 0;
const stack = withStack({ now: () => new Date(Date.now() + offsetMs) });

const PROD_READONLY = 'arn:aws:iam::444455556666:role/ProdReadOnly';
const OBJECT = 'arn:aws:s3:::my-prod-data-bucket/report.csv';

let clients: typeof import('../../lib/wiring/clients');
let dynamodb: typeof import('../../lib/wiring/clients').dynamodb;
beforeAll(async () => {
  clients = await import('../../lib/wiring/clients');
  ({ dynamodb } = clients);
});

/**
 * Moves the whole stack's clock. The handlers' AWS clients sign with the machine's clock, which
 * the local endpoint would then find skewed past SigV4's 15 minutes; against AWS the SDK corrects
 * its offset from the endpoint's Date header after one skewed call, here it is told the offset.
 */
function moveClock(ms: number): void {
  offsetMs += ms;
  clients.sts.config.systemClockOffset = offsetMs;
  clients.dynamodb.config.systemClockOffset = offsetMs;
}

interface Vended {
  auditId: string;
  assumedRoleArn: string;
  credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
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

async function vendAs(user: string, entitlement = 'prod-readonly'): Promise<Vended> {
  const { res, json } = await call(user, 'POST', '/v1/credentials', { entitlement, durationSeconds: 900 });
  expect(res.status).toBe(200);
  return json as unknown as Vended;
}

async function vendService(entitlement = 'prod-readonly'): Promise<Vended> {
  const res = await stack.signedFetch('ci', 'POST', '/v1/service/credentials', {
    entitlement,
    durationSeconds: 900,
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Vended;
}

const revoke = (user: string, auditId: string, body: unknown = { reason: 'laptop lost at the airport' }) =>
  call(user, 'POST', `/v1/sessions/${auditId}/revoke`, body);

/** The effective-permission check of the local IAM, for one session. */
async function decision(s: Vended, action = 's3:GetObject', resource = OBJECT): Promise<string> {
  const res = await fetch(`${stack.awsUrl}/_local/iam/simulate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId: s.credentials.AccessKeyId, action, resource }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { decision: string }).decision;
}

/** The deny list in force for a role (its default version in the local IAM). */
function denyList(
  roleArn = PROD_READONLY,
): { Sid: string; Condition?: Record<string, Record<string, unknown>> }[] {
  const policy = stack.stack.store.getManagedPolicy(denyListArn(roleArn));
  return (JSON.parse(policy?.json ?? '{}') as { Statement: [] }).Statement;
}

const revokedIds = (roleArn = PROD_READONLY) =>
  denyList(roleArn).flatMap((s) => {
    const ids = s.Condition?.StringEquals?.['aws:PrincipalTag/vend:audit-id'];
    return Array.isArray(ids) ? (ids as string[]) : [];
  });

describe('revoking one session', () => {
  it('bob (security) revokes alice’s session: it is denied at once; a later session and another caller’s still allow', async () => {
    const revoked = await vendAs('alice');
    const sibling = await vendAs('alice');
    const service = await vendService();
    expect(await decision(revoked)).toBe('Allow');

    const { res, json } = await revoke('bob', revoked.auditId);

    expect(res.status).toBe(200);
    expect(json).toMatchObject({
      auditId: revoked.auditId,
      status: 'revoked',
      revoked: true,
      revocation: {
        by: { label: 'bob@example.com' },
        reason: 'laptop lost at the airport',
        scope: 'session',
      },
    });
    expect(await decision(revoked)).toBe('ExplicitDeny');
    expect(await decision(sibling)).toBe('Allow');
    expect(await decision(service)).toBe('Allow');
    const later = await vendAs('alice');
    expect(await decision(later)).toBe('Allow');
    expect(revokedIds()).toContain(revoked.auditId);
  });

  it('the audit trail holds the revocation under the session’s audit id: who, why, whose', async () => {
    const s = await vendAs('alice');
    expect((await revoke('carol', s.auditId, { reason: 'key pasted in a public channel' })).res.status).toBe(
      200,
    );

    const trail = (await scanTable(dynamodb)).filter((r) => r.auditId === s.auditId);

    expect(trail.map((r) => r.decision).sort()).toEqual(['intent', 'issued', 'revoked']);
    expect(trail.find((r) => r.decision === 'revoked')).toMatchObject({
      caller: { label: 'carol@example.com', kind: 'person' },
      revokedCaller: { label: 'alice@example.com' },
      entitlement: 'prod-readonly',
      roleArn: PROD_READONLY,
      sourceIdentity: 'alice@example.com',
      reason: 'key pasted in a public channel',
      revocationScope: 'session',
    });
  });

  it('the owner may revoke their own session', async () => {
    const s = await vendAs('alice');
    expect((await revoke('alice', s.auditId, { reason: 'done for today' })).res.status).toBe(200);
    expect(await decision(s)).toBe('ExplicitDeny');
  });

  it('mallory may not revoke someone else’s session: 403, and it still allows', async () => {
    const s = await vendAs('alice');

    const { res, json } = await revoke('mallory', s.auditId);

    expect(res.status).toBe(403);
    expect(json.code).toBe('not_entitled');
    expect(await decision(s)).toBe('Allow');
    expect(revokedIds()).not.toContain(s.auditId);
  });

  it('dave (oncall, no approver of prod-readonly) may not either; erin (auditors) may not', async () => {
    const s = await vendAs('alice');
    expect((await revoke('dave', s.auditId)).res.status).toBe(403);
    expect((await revoke('erin', s.auditId)).res.status).toBe(403);
    expect(await decision(s)).toBe('Allow');
  });

  it('409 once revoked; 404 for an unknown or malformed audit id; 400 without a reason or with another field', async () => {
    const s = await vendAs('alice');
    expect((await revoke('bob', s.auditId)).res.status).toBe(200);

    const again = await revoke('bob', s.auditId);
    expect(again.res.status).toBe(409);
    expect(again.json.code).toBe('conflict');
    expect((await revoke('bob', '01ARZ3NDEKTSV4RRFFQ69G5FAV')).res.status).toBe(404);
    expect((await revoke('bob', 'not-an-id')).res.status).toBe(404);

    const fresh = await vendAs('alice');
    for (const body of [{}, { reason: '   ' }, { reason: 'x'.repeat(513) }, { reason: 'ok', caller: 'x' }]) {
      const { res, json } = await revoke('bob', fresh.auditId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(json.code).toBe('invalid_request');
    }
    expect(await decision(fresh)).toBe('Allow');
  });
});

describe('revoking a caller', () => {
  it('carol (security) revokes every live session of alice: all denied, the service’s still allows, alice’s next one allows', async () => {
    const one = await vendAs('alice');
    const two = await vendAs('alice', 'staging-deploy');
    const service = await vendService();
    const { json: listed } = await call('alice', 'GET', '/v1/sessions');
    const aliceId = (listed.sessions as { caller: { id: string } }[])[0]?.caller.id;

    const { res, json } = await call('carol', 'POST', '/v1/sessions/revoke', {
      caller: aliceId,
      reason: 'alice left the company',
    });

    expect(res.status).toBe(200);
    expect((json.revoked as { auditId: string }[]).map((s) => s.auditId)).toEqual(
      expect.arrayContaining([one.auditId, two.auditId]),
    );
    expect(await decision(one)).toBe('ExplicitDeny');
    expect(await decision(two, 'ecr:GetAuthorizationToken', '*')).toBe('ExplicitDeny');
    expect(await decision(service)).toBe('Allow');
    // The statement denies what was issued before the revocation (rounded up to the second).
    moveClock(2000);
    expect(await decision(await vendAs('alice'))).toBe('Allow');
  });

  it('mallory may not revoke a caller; an unknown caller has no live session (404)', async () => {
    const s = await vendAs('alice');
    const { json: listed } = await call('alice', 'GET', '/v1/sessions');
    const aliceId = (listed.sessions as { caller: { id: string } }[])[0]?.caller.id;

    expect(
      (await call('mallory', 'POST', '/v1/sessions/revoke', { caller: aliceId, reason: 'x' })).res.status,
    ).toBe(403);
    expect(
      (
        await call('carol', 'POST', '/v1/sessions/revoke', {
          caller: 'arn:aws:iam::1:role/Nobody',
          reason: 'x',
        })
      ).res.status,
    ).toBe(404);
    expect(await decision(s)).toBe('Allow');
  });
});

describe('concurrency and pruning', () => {
  it('50 sessions revoked at once: none lost, every one denied, the list still a valid policy', async () => {
    const sessions: Vended[] = [];
    for (let i = 0; i < 50; i += 10) {
      sessions.push(...(await Promise.all(Array.from({ length: 10 }, () => vendAs('alice')))));
    }
    const kept = await vendAs('alice');

    const answers = await Promise.all(
      sessions.map((s) => revoke(s === sessions[0] ? 'carol' : 'bob', s.auditId)),
    );

    expect(answers.map((a) => a.res.status)).toEqual(sessions.map(() => 200));
    const denied = await Promise.all(sessions.map((s) => decision(s)));
    expect(denied).toEqual(sessions.map(() => 'ExplicitDeny'));
    expect(revokedIds()).toEqual(expect.arrayContaining(sessions.map((s) => s.auditId)));
    expect(await decision(kept)).toBe('Allow');
  });

  it('entries of expired sessions are pruned by the next revocation; the new one is in force', async () => {
    const old = await vendAs('alice');
    expect((await revoke('bob', old.auditId)).res.status).toBe(200);
    expect(revokedIds()).toContain(old.auditId);

    // Every session revoked so far has expired (900 s) and its quarter-hour bucket has passed.
    moveClock(2 * 3600_000);
    const fresh = await vendAs('alice');
    expect((await revoke('bob', fresh.auditId)).res.status).toBe(200);

    expect(revokedIds()).toEqual([fresh.auditId]);
    expect(denyList().map((s) => s.Sid)).toEqual([
      'VendBoundary',
      expect.stringMatching(/^VendRevokedSessionsUntil\d{12}$/),
    ]);
    expect(await decision(fresh)).toBe('ExplicitDeny');
  });
});
